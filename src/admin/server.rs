//! Admin procedures on servers: listing and lookup, worker pool, client limits and TLS
//! files (admin/admin_server.c, the server half of admin_server_dispatch.c, and
//! rpc/virnetserver.c virNetServerSetClientLimits / virNetServerUpdateTlsFiles).

use log::info;

use super::error::AdminError;
use super::params::{self, *};
use super::protocol::*;
use crate::rpc::client::Transport;
use crate::rpc::netdaemon::Core;
use crate::rpc::protocol::ADMIN_SERVER_LIST_MAX;

/// The index of a server, or libvirt's lookup error.
// C: virNetDaemonGetServer
pub fn find(core: &Core, name: &str) -> Result<usize, AdminError> {
    core.server_index(name).ok_or_else(|| AdminError::NoServerNamed(name.to_string()))
}

/// The same lookup, with the error text of the dispatchers that report their own.
pub fn find_matching(core: &Core, name: &str) -> Result<usize, AdminError> {
    core.server_index(name).ok_or_else(|| AdminError::NoServerMatching(name.to_string()))
}

// C: adminConnectListServers
pub fn list(core: &Core, a: ListServersArgs) -> Result<ListServersRet, AdminError> {
    params::check_flags(a.flags, "adminConnectListServers")?;
    let (servers, ret) = params::listed(core.servers.len(), a.need_results, "server", ADMIN_SERVER_LIST_MAX, || {
        core.servers.iter().map(|s| NonnullServer { name: s.name.clone() }).collect()
    })?;
    Ok(ListServersRet { servers, ret })
}

/// libvirt checks these flags against themselves, so any value is accepted; so do we.
// C: adminConnectLookupServer
pub fn lookup(core: &Core, a: LookupServerArgs) -> Result<LookupServerRet, AdminError> {
    let idx = find(core, &a.name)?;
    Ok(LookupServerRet { srv: NonnullServer { name: core.servers[idx].name.clone() } })
}

// C: adminServerGetThreadPoolParameters
pub fn get_threadpool(core: &Core, a: ServerArgs) -> Result<ThreadpoolParamsRet, AdminError> {
    let idx = find(core, &a.srv.name)?;
    params::check_flags(a.flags, "adminServerGetThreadPoolParameters")?;
    let p = core.servers[idx].pool.params();
    Ok(ThreadpoolParamsRet {
        params: vec![
            uint_param(VIR_THREADPOOL_WORKERS_MIN, p.min_workers),
            uint_param(VIR_THREADPOOL_WORKERS_MAX, p.max_workers),
            uint_param(VIR_THREADPOOL_WORKERS_CURRENT, p.n_workers),
            uint_param(VIR_THREADPOOL_WORKERS_FREE, p.free_workers),
            uint_param(VIR_THREADPOOL_WORKERS_PRIORITY, p.prio_workers),
            uint_param(VIR_THREADPOOL_JOB_QUEUE_DEPTH, p.job_queue_depth),
        ],
    })
}

// C: adminDispatchServerSetThreadpoolParameters + adminServerSetThreadPoolParameters
pub fn set_threadpool(core: &Core, a: SetThreadpoolParamsArgs) -> Result<(), AdminError> {
    let idx = find_matching(core, &a.srv.name)?;
    params::check_fields(&a.params)?;
    params::check_flags(a.flags, "adminServerSetThreadPoolParameters")?;
    let pool = &core.servers[idx].pool;
    let c = params::threadpool_change(&a.params, &pool.params())?;
    pool.set_params(c.min, c.max, c.prio).map_err(AdminError::ThreadPool)?;
    info!("server {}: worker pool set to min {:?} max {:?} prio {:?}", a.srv.name, c.min, c.max, c.prio);
    Ok(())
}

// C: adminServerGetClientLimits
pub fn get_client_limits(core: &Core, a: ServerArgs) -> Result<ClientLimitsRet, AdminError> {
    let idx = find(core, &a.srv.name)?;
    params::check_flags(a.flags, "adminServerGetClientLimits")?;
    let s = &core.servers[idx];
    Ok(ClientLimitsRet {
        params: vec![
            uint_param(VIR_SERVER_CLIENTS_MAX, s.nclients_max),
            uint_param(VIR_SERVER_CLIENTS_CURRENT, s.nclients),
            uint_param(VIR_SERVER_CLIENTS_UNAUTH_MAX, s.nclients_unauth_max),
            uint_param(VIR_SERVER_CLIENTS_UNAUTH_CURRENT, s.nclients_unauth),
        ],
    })
}

/// Lowering a limit below the current count drops nobody: new connections wait until the
/// count falls. Raising it lets waiting connections in at once.
// C: adminServerSetClientLimits + virNetServerSetClientLimits
pub fn set_client_limits(core: &mut Core, a: SetClientLimitsArgs) -> Result<(), AdminError> {
    let idx = find_matching(core, &a.srv.name)?;
    params::check_fields(&a.params)?;
    params::check_flags(a.flags, "adminServerSetClientLimits")?;
    let s = &mut core.servers[idx];
    let c = params::client_limits_change(&a.params, s.nclients_max, s.nclients_unauth_max)?;
    if let Some(m) = c.max {
        s.nclients_max = m;
    }
    if let Some(m) = c.unauth_max {
        s.nclients_unauth_max = m;
    }
    info!("server {}: client limits set to max {} unauth max {}", s.name, s.nclients_max, s.nclients_unauth_max);
    core.check_limits(idx);
    Ok(())
}

/// Only a server with a TLS service has files to re-read.
// C: adminServerUpdateTlsFiles + virNetServerUpdateTlsFiles
pub fn update_tls_files(core: &mut Core, a: ServerArgs) -> Result<(), AdminError> {
    let idx = find(core, &a.srv.name)?;
    params::check_flags(a.flags, "adminServerUpdateTlsFiles")?;
    if !core.services.iter().any(|s| s.server == idx && s.transport == Transport::Tls) {
        return Err(AdminError::NoTlsService);
    }
    // The context is rebuilt from the files it was made from; bad files keep the old one.
    core.reload_tls().map(|_| ()).map_err(|e| {
        log::error!("Keeping the current TLS credentials: {e}");
        AdminError::Driver(crate::rpc::program::internal(crate::rpc::protocol::VIR_FROM_RPC, &e))
    })
}
