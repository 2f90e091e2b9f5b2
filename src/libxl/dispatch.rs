//! The REMOTE procedures virtxend answers: one table from procedure name to one named
//! function each (libvirt's generated remote_daemon_dispatch_stubs.h beside
//! remote/remote_daemon_dispatch.c), with the checks every dispatcher shares. The functions
//! are grouped by what they act on: `connect` (the connection and the node), `domain_list`
//! (lookup and listing), `domain` (lifecycle, configuration, information, console), `event`
//! (event registrations). The larger operations they call are in `domain_ops`.
//!
//! Adding a procedure: one line in `dispatch_call`'s table and one function with its
//! `// C:` marker in the file of its group.

mod connect;
mod domain;
mod domain_list;
mod event;

use super::domain_def::DomainState;
use super::domain_obj::DomainObj;
use super::driver::XenDriver;
use super::lifecycle::op_invalid;
use crate::remote::domain_proto::NonnullDomain;
use crate::remote::procs::*;
use crate::rpc::message::Packet;
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::program::{self, answer};
use crate::rpc::protocol::{
    RemoteError, VIR_ERR_INTERNAL_ERROR, VIR_ERR_INVALID_ARG, VIR_ERR_NO_DOMAIN, VIR_ERR_NO_SUPPORT, VIR_ERR_OPERATION_DENIED,
    VIR_FROM_DOMAIN, VIR_FROM_LIBXL, VIR_FROM_NONE, VIR_FROM_RPC,
};
use crate::xdr::Xdr;

/// The URI virtxend answers to.
pub const XEN_URI: &str = "xen:///system";

// virConnectListAllDomainsFlags
pub(super) const LIST_ACTIVE: u32 = 1;
pub(super) const LIST_INACTIVE: u32 = 2;
pub(super) const LIST_PERSISTENT: u32 = 4;
pub(super) const LIST_TRANSIENT: u32 = 8;
pub(super) const LIST_RUNNING: u32 = 16;
pub(super) const LIST_PAUSED: u32 = 32;
pub(super) const LIST_SHUTOFF: u32 = 64;
pub(super) const LIST_OTHER: u32 = 128;
pub(super) const LIST_MANAGEDSAVE: u32 = 256;
pub(super) const LIST_NO_MANAGEDSAVE: u32 = 512;
pub(super) const LIST_AUTOSTART: u32 = 1024;
pub(super) const LIST_NO_AUTOSTART: u32 = 2048;
pub(super) const LIST_HAS_SNAPSHOT: u32 = 4096;
pub(super) const LIST_NO_SNAPSHOT: u32 = 8192;
pub(super) const LIST_HAS_CHECKPOINT: u32 = 16384;
pub(super) const LIST_NO_CHECKPOINT: u32 = 32768;
pub(super) const LIST_ALL_FLAGS: u32 = 65535;

// virDomainXMLFlags
pub(super) const XML_SECURE: u32 = 1;
pub(super) const XML_INACTIVE: u32 = 2;
pub(super) const XML_UPDATE_CPU: u32 = 4;
pub(super) const XML_MIGRATABLE: u32 = 8;
// virDomainCreateFlags
pub(super) const START_PAUSED: u32 = 1;
pub(super) const START_FORCE_BOOT: u32 = 8;
// virDomainShutdownFlagValues / virDomainRebootFlagValues
pub(super) const SHUTDOWN_ACPI_POWER_BTN: u32 = 1;
pub(super) const SHUTDOWN_PARAVIRT: u32 = 16;
// virDomainModificationImpact and virDomainMemoryModFlags
pub(super) const AFFECT_LIVE: u32 = 1;
pub(super) const AFFECT_CONFIG: u32 = 2;
pub(super) const MEM_MAXIMUM: u32 = 4;
pub(super) const VCPU_MAXIMUM: u32 = 4;
// virDomainUndefineFlagsValues
pub(super) const UNDEFINE_MANAGED_SAVE: u32 = 1;
pub(super) const DEFINE_VALIDATE: u32 = 1;

pub(super) fn err(code: i32, text: &str) -> RemoteError {
    RemoteError::new(code, VIR_FROM_LIBXL, Some(text))
}

pub(super) fn bad_flags(flags: u32, func: &str) -> RemoteError {
    RemoteError::new(VIR_ERR_INVALID_ARG, VIR_FROM_LIBXL, Some(&format!("unsupported flags (0x{flags:x}) in function {func}")))
}

pub(super) fn check_flags(flags: u32, allowed: u32, func: &str) -> Result<(), RemoteError> {
    if flags & !allowed != 0 {
        return Err(bad_flags(flags & !allowed, func));
    }
    Ok(())
}

pub(super) fn no_domain(text: String) -> RemoteError {
    RemoteError::new(VIR_ERR_NO_DOMAIN, VIR_FROM_LIBXL, Some(&text))
}

pub(super) fn not_running() -> RemoteError {
    op_invalid("domain is not running")
}

pub(super) fn dom0_refused() -> RemoteError {
    op_invalid("Domain-0 does not support requested operation")
}

pub(super) fn uuid_str(u: &[u8; 16]) -> String {
    crate::libxl_ffi::uuid_string(u)
}

/// A call made on a connection not opened yet.
// C: remoteGetHypervisorConn
fn not_open() -> RemoteError {
    RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, Some("hypervisor connection not open"))
}

/// A procedure of the table that this driver does not implement.
// C: virReportUnsupportedError (in the public API entry point, libvirt-domain.c)
fn unsupported(p: &Proc) -> RemoteError {
    let api = p.api_name().unwrap_or_else(|| p.name.to_string());
    RemoteError::new(VIR_ERR_NO_SUPPORT, VIR_FROM_DOMAIN, Some(&api))
}

pub(super) fn state_matches(o: &DomainObj, flags: u32, managed_save: bool) -> bool {
    let f = |set: u32, unset: u32, v: bool| -> bool { flags & (set | unset) == 0 || (v && flags & set != 0) || (!v && flags & unset != 0) };
    let running = matches!(o.state, DomainState::Running | DomainState::Blocked);
    let paused = o.state == DomainState::Paused;
    let shutoff = o.state == DomainState::Shutoff || !o.is_active();
    let state_ok = flags & (LIST_RUNNING | LIST_PAUSED | LIST_SHUTOFF | LIST_OTHER) == 0
        || (flags & LIST_RUNNING != 0 && running && o.is_active())
        || (flags & LIST_PAUSED != 0 && paused && o.is_active())
        || (flags & LIST_SHUTOFF != 0 && shutoff)
        || (flags & LIST_OTHER != 0 && o.is_active() && !running && !paused && o.state != DomainState::Shutoff);
    f(LIST_ACTIVE, LIST_INACTIVE, o.is_active())
        && f(LIST_PERSISTENT, LIST_TRANSIENT, o.persistent)
        && state_ok
        && f(LIST_MANAGEDSAVE, LIST_NO_MANAGEDSAVE, managed_save)
        && f(LIST_AUTOSTART, LIST_NO_AUTOSTART, o.autostart)
        && f(LIST_HAS_SNAPSHOT, LIST_NO_SNAPSHOT, false)
        && f(LIST_HAS_CHECKPOINT, LIST_NO_CHECKPOINT, false)
}

/// What a procedure's function knows of its call besides the arguments.
pub(super) struct Call<'a> {
    pub core: &'a mut Core,
    pub cid: ClientId,
    /// The call's serial (a stream opened by the call uses it).
    pub serial: u32,
}

/// Whether a procedure may run on a connection not opened yet.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Required,
    NotRequired,
}

impl XenDriver {
    /// Decodes the arguments, checks the connection is open (unless `open` says it need
    /// not be), runs `f` and answers.
    // C: virNetServerProgramDispatchCall + the generated remoteDispatch*Helper
    fn run<A: Xdr, R: Xdr>(
        &mut self,
        core: &mut Core,
        cid: ClientId,
        pkt: &Packet,
        open: Open,
        f: impl FnOnce(&mut Self, &mut Call<'_>, A) -> Result<R, RemoteError>,
    ) {
        let r = program::args::<A>(pkt).and_then(|a| {
            if open == Open::Required && !self.conns.contains_key(&cid) {
                return Err(not_open());
            }
            f(self, &mut Call { core: &mut *core, cid, serial: pkt.header.serial }, a)
        });
        answer(core, cid, pkt, r);
    }

    /// A read-only connection may not call `api`.
    // C: virCheckReadOnlyGoto
    pub(super) fn writable(&self, cid: ClientId, api: &str) -> Result<(), RemoteError> {
        match self.conns.get(&cid) {
            Some(c) if c.readonly => {
                Err(RemoteError::new(VIR_ERR_OPERATION_DENIED, VIR_FROM_NONE, Some(&format!("read only access prevents {api}"))))
            }
            _ => Ok(()),
        }
    }

    /// The domain a client names, by UUID as libvirt's drivers look it up.
    // C: libxlDomObjFromDomain
    pub(super) fn find(&self, d: &NonnullDomain) -> Result<usize, RemoteError> {
        self.doms.by_uuid(&d.uuid).ok_or_else(|| no_domain(format!("no domain with matching uuid '{}' ({})", uuid_str(&d.uuid), d.name)))
    }

    pub(super) fn obj(&self, i: usize) -> Result<&DomainObj, RemoteError> {
        self.doms.get(i).ok_or_else(|| no_domain("domain disappeared".into()))
    }

    /// The object a client names.
    pub(super) fn dom(&self, d: &NonnullDomain) -> Result<&DomainObj, RemoteError> {
        self.obj(self.find(d)?)
    }

    pub(super) fn nn(&self, i: usize) -> Result<NonnullDomain, RemoteError> {
        Ok(super::domain_event::nonnull(self.obj(i)?))
    }

    pub(super) fn active_not_dom0(&self, d: &NonnullDomain) -> Result<usize, RemoteError> {
        let i = self.find(d)?;
        let o = self.obj(i)?;
        if o.is_dom0() {
            return Err(dom0_refused());
        }
        if !o.is_active() {
            return Err(not_running());
        }
        Ok(i)
    }

    /// Answers one CALL of the REMOTE program: the procedure table.
    // C: remoteProcs (remote_daemon_dispatch_stubs.h)
    pub(super) fn dispatch_call(&mut self, core: &mut Core, cid: ClientId, pkt: &Packet) {
        use Open::{NotRequired as Any, Required as Opened};
        let p = pkt.header.proc_;
        match p {
            // Before CONNECT_OPEN, as libvirt's daemons answer them.
            REMOTE_PROC_CONNECT_OPEN => self.run(core, cid, pkt, Any, Self::connect_open_call),
            REMOTE_PROC_CONNECT_CLOSE => self.run(core, cid, pkt, Any, Self::connect_close),
            REMOTE_PROC_CONNECT_SUPPORTS_FEATURE => self.run(core, cid, pkt, Any, Self::connect_supports_feature),
            // The connection and the node.
            REMOTE_PROC_CONNECT_SET_IDENTITY => self.run(core, cid, pkt, Opened, Self::connect_set_identity),
            REMOTE_PROC_CONNECT_GET_TYPE => self.run(core, cid, pkt, Opened, Self::connect_get_type),
            REMOTE_PROC_CONNECT_GET_VERSION => self.run(core, cid, pkt, Opened, Self::connect_get_version),
            REMOTE_PROC_CONNECT_GET_LIB_VERSION => self.run(core, cid, pkt, Opened, Self::connect_get_lib_version),
            REMOTE_PROC_CONNECT_GET_HOSTNAME => self.run(core, cid, pkt, Opened, Self::connect_get_hostname),
            REMOTE_PROC_CONNECT_GET_URI => self.run(core, cid, pkt, Opened, Self::connect_get_uri),
            REMOTE_PROC_CONNECT_IS_SECURE => self.run(core, cid, pkt, Opened, Self::connect_is_secure),
            REMOTE_PROC_CONNECT_GET_MAX_VCPUS => self.run(core, cid, pkt, Opened, Self::connect_get_max_vcpus),
            REMOTE_PROC_NODE_GET_INFO => self.run(core, cid, pkt, Opened, Self::node_get_info),
            REMOTE_PROC_NODE_GET_FREE_MEMORY => self.run(core, cid, pkt, Opened, Self::node_get_free_memory),
            REMOTE_PROC_CONNECT_GET_CAPABILITIES => self.run(core, cid, pkt, Opened, Self::connect_get_capabilities),
            REMOTE_PROC_CONNECT_GET_DOMAIN_CAPABILITIES => self.run(core, cid, pkt, Opened, Self::connect_get_domain_capabilities),
            REMOTE_PROC_NODE_GET_SECURITY_MODEL => self.run(core, cid, pkt, Opened, Self::node_get_security_model),
            REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK => self.run(core, cid, pkt, Opened, Self::connect_register_close_callback),
            REMOTE_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK => self.run(core, cid, pkt, Opened, Self::connect_unregister_close_callback),
            // Domain lookup and listing.
            REMOTE_PROC_CONNECT_LIST_DOMAINS => self.run(core, cid, pkt, Opened, Self::connect_list_domains),
            REMOTE_PROC_CONNECT_NUM_OF_DOMAINS => self.run(core, cid, pkt, Opened, Self::connect_num_of_domains),
            REMOTE_PROC_CONNECT_LIST_DEFINED_DOMAINS => self.run(core, cid, pkt, Opened, Self::connect_list_defined_domains),
            REMOTE_PROC_CONNECT_NUM_OF_DEFINED_DOMAINS => self.run(core, cid, pkt, Opened, Self::connect_num_of_defined_domains),
            REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS => self.run(core, cid, pkt, Opened, Self::connect_list_all_domains),
            REMOTE_PROC_DOMAIN_LOOKUP_BY_ID => self.run(core, cid, pkt, Opened, Self::domain_lookup_by_id),
            REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME => self.run(core, cid, pkt, Opened, Self::domain_lookup_by_name),
            REMOTE_PROC_DOMAIN_LOOKUP_BY_UUID => self.run(core, cid, pkt, Opened, Self::domain_lookup_by_uuid),
            // Domain configuration and lifecycle.
            REMOTE_PROC_DOMAIN_DEFINE_XML => self.run(core, cid, pkt, Opened, Self::domain_define_xml),
            REMOTE_PROC_DOMAIN_DEFINE_XML_FLAGS => self.run(core, cid, pkt, Opened, Self::domain_define_xml_flags),
            REMOTE_PROC_DOMAIN_UNDEFINE => self.run(core, cid, pkt, Opened, Self::domain_undefine),
            REMOTE_PROC_DOMAIN_UNDEFINE_FLAGS => self.run(core, cid, pkt, Opened, Self::domain_undefine_flags),
            REMOTE_PROC_DOMAIN_CREATE => self.run(core, cid, pkt, Opened, Self::domain_create),
            REMOTE_PROC_DOMAIN_CREATE_WITH_FLAGS => self.run(core, cid, pkt, Opened, Self::domain_create_with_flags),
            REMOTE_PROC_DOMAIN_CREATE_XML => self.run(core, cid, pkt, Opened, Self::domain_create_xml),
            REMOTE_PROC_DOMAIN_DESTROY => self.run(core, cid, pkt, Opened, Self::domain_destroy),
            REMOTE_PROC_DOMAIN_DESTROY_FLAGS => self.run(core, cid, pkt, Opened, Self::domain_destroy_flags),
            REMOTE_PROC_DOMAIN_SHUTDOWN => self.run(core, cid, pkt, Opened, Self::domain_shutdown),
            REMOTE_PROC_DOMAIN_SHUTDOWN_FLAGS => self.run(core, cid, pkt, Opened, Self::domain_shutdown_flags),
            REMOTE_PROC_DOMAIN_REBOOT => self.run(core, cid, pkt, Opened, Self::domain_reboot),
            REMOTE_PROC_DOMAIN_SUSPEND => self.run(core, cid, pkt, Opened, Self::domain_suspend),
            REMOTE_PROC_DOMAIN_RESUME => self.run(core, cid, pkt, Opened, Self::domain_resume),
            REMOTE_PROC_DOMAIN_GET_XML_DESC => self.run(core, cid, pkt, Opened, Self::domain_get_xml_desc),
            REMOTE_PROC_DOMAIN_GET_AUTOSTART => self.run(core, cid, pkt, Opened, Self::domain_get_autostart),
            REMOTE_PROC_DOMAIN_SET_AUTOSTART => self.run(core, cid, pkt, Opened, Self::domain_set_autostart),
            REMOTE_PROC_DOMAIN_SET_MEMORY => self.run(core, cid, pkt, Opened, Self::domain_set_memory),
            REMOTE_PROC_DOMAIN_SET_MAX_MEMORY => self.run(core, cid, pkt, Opened, Self::domain_set_max_memory),
            REMOTE_PROC_DOMAIN_SET_MEMORY_FLAGS => self.run(core, cid, pkt, Opened, Self::domain_set_memory_flags),
            REMOTE_PROC_DOMAIN_OPEN_CONSOLE => self.run(core, cid, pkt, Opened, Self::domain_open_console),
            // Domain information.
            REMOTE_PROC_DOMAIN_GET_INFO => self.run(core, cid, pkt, Opened, Self::domain_get_info),
            REMOTE_PROC_DOMAIN_GET_STATE => self.run(core, cid, pkt, Opened, Self::domain_get_state),
            REMOTE_PROC_DOMAIN_GET_MAX_MEMORY => self.run(core, cid, pkt, Opened, Self::domain_get_max_memory),
            REMOTE_PROC_DOMAIN_GET_MAX_VCPUS => self.run(core, cid, pkt, Opened, Self::domain_get_max_vcpus),
            REMOTE_PROC_DOMAIN_GET_VCPUS_FLAGS => self.run(core, cid, pkt, Opened, Self::domain_get_vcpus_flags),
            REMOTE_PROC_DOMAIN_GET_OS_TYPE => self.run(core, cid, pkt, Opened, Self::domain_get_os_type),
            REMOTE_PROC_DOMAIN_IS_ACTIVE => self.run(core, cid, pkt, Opened, Self::domain_is_active),
            REMOTE_PROC_DOMAIN_IS_PERSISTENT => self.run(core, cid, pkt, Opened, Self::domain_is_persistent),
            REMOTE_PROC_DOMAIN_IS_UPDATED => self.run(core, cid, pkt, Opened, Self::domain_is_updated),
            REMOTE_PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE => self.run(core, cid, pkt, Opened, Self::domain_has_managed_save_image),
            // Events.
            REMOTE_PROC_CONNECT_DOMAIN_EVENT_REGISTER => self.run(core, cid, pkt, Opened, Self::connect_domain_event_register),
            REMOTE_PROC_CONNECT_DOMAIN_EVENT_DEREGISTER => self.run(core, cid, pkt, Opened, Self::connect_domain_event_deregister),
            REMOTE_PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY => self.run(core, cid, pkt, Opened, Self::connect_domain_event_register_any),
            REMOTE_PROC_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY => self.run(core, cid, pkt, Opened, Self::connect_domain_event_deregister_any),
            REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY => {
                self.run(core, cid, pkt, Opened, Self::connect_domain_event_callback_register_any)
            }
            REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY => {
                self.run(core, cid, pkt, Opened, Self::connect_domain_event_callback_deregister_any)
            }
            _ => core.reply_error(cid, &pkt.header, &self.not_served(cid, p)),
        }
    }

    /// The answer to a procedure the table above does not name: libvirt's "unknown
    /// procedure" for numbers no release has and for events (which clients never call),
    /// else the public API's "not supported" (after the open check, as libvirt's stubs do).
    // C: virNetServerProgramGetProc + remoteGetHypervisorConn + virReportUnsupportedError
    fn not_served(&self, cid: ClientId, p: i32) -> RemoteError {
        match remote_proc(p) {
            Some(info) if info.kind != Kind::Event && info.class != Class::Auth => {
                if self.conns.contains_key(&cid) {
                    unsupported(info)
                } else {
                    not_open()
                }
            }
            _ => program::unknown_proc(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_names_the_public_function() {
        let e = unsupported(remote_proc(REMOTE_PROC_DOMAIN_GET_XML_DESC).unwrap());
        assert_eq!(e.code, VIR_ERR_NO_SUPPORT);
        assert_eq!(e.message.as_deref(), Some("this function is not supported by the connection driver: virDomainGetXMLDesc"));
        let e = unsupported(remote_proc(REMOTE_PROC_DOMAIN_GRAPHICS_RELOAD).unwrap());
        assert_eq!(e.message.as_deref(), Some("this function is not supported by the connection driver: virDomainGraphicsReload"));
    }

    #[test]
    fn not_open_is_libvirts_text() {
        assert_eq!(not_open().message.as_deref(), Some("internal error: hypervisor connection not open"));
    }
}
