//! Admin procedures on the daemon itself: its log outputs and filters, changed at once,
//! and its idle timeout (the connect half of admin/admin_server_dispatch.c, which calls
//! util/virlog.c virLogGet/SetOutputs, virLogGet/SetFilters and virNetDaemonAutoShutdown).

use log::info;

use super::error::AdminError;
use super::params;
use super::protocol::*;
use crate::rpc::netdaemon::Core;
use crate::util::log as vlog;

// C: adminConnectGetLoggingOutputs
pub fn get_outputs(a: FlagsArgs) -> Result<LoggingOutputsRet, AdminError> {
    params::check_flags(a.flags, "adminConnectGetLoggingOutputs")?;
    Ok(LoggingOutputsRet { outputs: vlog::outputs(), noutputs: vlog::nb_outputs() as u32 })
}

/// With no filters the string is absent, not empty.
// C: adminConnectGetLoggingFilters + adminDispatchConnectGetLoggingFilters
pub fn get_filters(a: FlagsArgs) -> Result<LoggingFiltersRet, AdminError> {
    params::check_flags(a.flags, "adminConnectGetLoggingFilters")?;
    let n = vlog::nb_filters();
    Ok(LoggingFiltersRet { filters: (n > 0).then(vlog::filters), nfilters: n as u32 })
}

/// An absent or empty string means the default output.
// C: adminConnectSetLoggingOutputs
pub fn set_outputs(a: SetLoggingArgs) -> Result<(), AdminError> {
    params::check_flags(a.flags, "adminConnectSetLoggingOutputs")?;
    vlog::set_outputs(a.value.as_deref().unwrap_or(""))?;
    info!("log outputs set to '{}'", vlog::outputs());
    Ok(())
}

/// An absent or empty string removes every filter.
// C: adminConnectSetLoggingFilters
pub fn set_filters(a: SetLoggingArgs) -> Result<(), AdminError> {
    params::check_flags(a.flags, "adminConnectSetLoggingFilters")?;
    vlog::set_filters(a.value.as_deref().unwrap_or(""))?;
    info!("log filters set to '{}'", vlog::filters());
    Ok(())
}

/// 0 disables the idle timeout; otherwise the daemon quits that many seconds after its
/// last client (admin clients included) has gone.
// C: adminConnectSetDaemonTimeout
pub fn set_daemon_timeout(core: &mut Core, a: SetDaemonTimeoutArgs) -> Result<(), AdminError> {
    params::check_flags(a.flags, "adminConnectSetDaemonTimeout")?;
    core.set_auto_shutdown(a.timeout);
    info!("idle timeout set to {} s", a.timeout);
    Ok(())
}
