//! The REMOTE program procedures virtxend serves, each decoded, checked and answered (the
//! larger operations are in `domain_ops`) the
//! way libvirt's remote/remote_daemon_dispatch.c and the public API checks of libvirt.c
//! and libxl/libxl_driver.c (libxlConnect*, libxlDomain*, libxlNode*) do.

use super::capabilities;
use super::domain_def::DomainState;
use super::domain_event::*;
use super::domain_obj::DomainObj;
use super::driver::XenDriver;
use super::lifecycle::*;
use crate::remote::domain_proto::NonnullDomain;
use crate::remote::domain_proto::*;
use crate::remote::protocol::{ConnectOpenArgs, SupportsFeatureArgs, SupportsFeatureRet};
use crate::rpc::message::Packet;
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::program::{self, answer};
use crate::rpc::protocol::*;
use crate::rpc::remote_procs::remote_proc_name;
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

/// The public API name of a REMOTE procedure, for "not supported" errors
/// (REMOTE_PROC_DOMAIN_SNAPSHOT_NUM -> virDomainSnapshotNum).
pub fn api_name(proc_: i32) -> String {
    let Some(name) = remote_proc_name(proc_) else { return format!("procedure {proc_}") };
    let mut out = String::from("vir");
    for word in name.trim_start_matches("REMOTE_PROC_").split('_') {
        let mut cs = word.chars();
        if let Some(c) = cs.next() {
            out.push(c);
            out.extend(cs.map(|c| c.to_ascii_lowercase()));
        }
    }
    out
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

impl XenDriver {
    fn run<A: Xdr, R: Xdr>(
        &mut self,
        core: &mut Core,
        cid: ClientId,
        pkt: &Packet,
        f: impl FnOnce(&mut Self, A) -> Result<R, RemoteError>,
    ) {
        let r = program::args::<A>(pkt).and_then(|a| f(self, a));
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

    pub(super) fn nn(&self, i: usize) -> Result<NonnullDomain, RemoteError> {
        Ok(nonnull(self.obj(i)?))
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

    /// Answers one CALL of the REMOTE program.
    pub(super) fn dispatch_call(&mut self, core: &mut Core, cid: ClientId, pkt: &Packet) {
        let p = pkt.header.proc_;
        if p == REMOTE_PROC_CONNECT_OPEN {
            let ro = core.client(cid).is_some_and(|c| c.readonly);
            self.run(core, cid, pkt, |d, a: ConnectOpenArgs| d.connect_open(cid, a, ro));
            return;
        }
        if p == REMOTE_PROC_CONNECT_SET_IDENTITY {
            // A proxy (our virtproxyd) passing on its client's identity; only root or
            // ourselves may do that.
            let uid = core.client(cid).and_then(|c| c.identity.uid);
            let me = crate::util::sys::geteuid();
            self.run(core, cid, pkt, |_, a: crate::remote::protocol::SetIdentityArgs| {
                if uid != Some(0) && uid != Some(me) {
                    return Err(RemoteError::new(VIR_ERR_OPERATION_DENIED, VIR_FROM_RPC, Some("Only root can change the identity")));
                }
                log::debug!("client identity set by its proxy: {} parameters", a.params.len());
                Ok(())
            });
            return;
        }
        if !self.conns.contains_key(&cid) {
            core.reply_error(cid, &pkt.header, &RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, Some("connection not open")));
            return;
        }
        match p {
            REMOTE_PROC_CONNECT_CLOSE => self.run(core, cid, pkt, |d, (): ()| {
                d.conns.remove(&cid);
                d.events.drop_client(cid);
                Ok(())
            }),
            REMOTE_PROC_CONNECT_SUPPORTS_FEATURE => self.run(core, cid, pkt, |_, a: SupportsFeatureArgs| {
                // FD passing, keepalive, typed string params, event and close callbacks,
                // network update order: the generic ones; no migration feature.
                let supported = matches!(a.feature, 7 | 8 | 10 | 14 | 15 | 16) as i32;
                Ok(SupportsFeatureRet { supported })
            }),
            3 => self.run(core, cid, pkt, |_, (): ()| Ok(StringRet { s: "Xen".into() })),
            4 => self.run(core, cid, pkt, |d, (): ()| {
                Ok(U64Ret { v: d.version.major.max(0) as u64 * 1_000_000 + d.version.minor.max(0) as u64 * 1000 })
            }),
            157 => self.run(core, cid, pkt, |_, (): ()| Ok(U64Ret { v: crate::LIBVIRT_VERSION_NUMBER })),
            59 => self.run(core, cid, pkt, |_, (): ()| Ok(StringRet { s: hostname() })),
            110 => self.run(core, cid, pkt, |_, (): ()| Ok(StringRet { s: XEN_URI.into() })),
            149 => self.run(core, cid, pkt, |_, (): ()| Ok(IntRet { v: 1 })),
            5 => self.run(core, cid, pkt, |d, a: MaxVcpusArgs| {
                if let Some(t) = a.type_.filter(|t| !t.eq_ignore_ascii_case("xen")) {
                    return Err(err(VIR_ERR_INVALID_ARG, &format!("unknown type '{t}'")));
                }
                let n = d.ctx.max_cpus().map_err(|e| libxl_err("failed to get the maximum number of CPUs", &e))?;
                Ok(IntRet { v: n as i32 })
            }),
            6 => self.run(core, cid, pkt, |d, (): ()| {
                let phys = d.ctx.physinfo().map_err(|e| libxl_err("libxl_get_physinfo_info failed", &e))?;
                Ok(capabilities::node_info(&phys, d.version.pagesize))
            }),
            102 => self.run(core, cid, pkt, |d, (): ()| {
                let phys = d.ctx.physinfo().map_err(|e| libxl_err("libxl_get_physinfo_info failed", &e))?;
                Ok(U64Ret { v: phys.free_pages.saturating_mul(d.version.pagesize.max(0) as u64) })
            }),
            7 => self.run(core, cid, pkt, |d, (): ()| {
                d.capabilities_xml().map(|s| StringRet { s }).map_err(|e| libxl_err("failed to get host capabilities", &e))
            }),
            super::console::PROC_DOMAIN_OPEN_CONSOLE => {
                let r = program::args::<OpenConsoleArgs>(pkt).and_then(|a| self.open_console(core, cid, pkt.header.serial, a));
                answer(core, cid, pkt, r);
            }
            // The close callback of a direct connection: nothing to do until it closes.
            360 | 361 => self.run(core, cid, pkt, |_, (): ()| Ok(())),
            122 => self.run(core, cid, pkt, |_, (): ()| Ok(SecurityModelRet::default())),
            342 => self.run(core, cid, pkt, |d, a: DomainCapsArgs| d.domain_capabilities(a)),
            37 => self.run(core, cid, pkt, |d, a: MaxArgs| {
                let max = a.max.clamp(0, REMOTE_DOMAIN_LIST_MAX as i32) as usize;
                let ids = d.doms.iter().filter(|o| o.is_active()).map(|o| o.id()).take(max).collect();
                Ok(ListIdsRet { ids })
            }),
            51 => self.run(core, cid, pkt, |d, (): ()| Ok(IntRet { v: d.doms.iter().filter(|o| o.is_active()).count() as i32 })),
            21 => self.run(core, cid, pkt, |d, a: MaxArgs| {
                let max = a.max.clamp(0, REMOTE_DOMAIN_LIST_MAX as i32) as usize;
                let names = d.doms.iter().filter(|o| !o.is_active()).map(|o| o.def.name.clone()).take(max).collect();
                Ok(ListNamesRet { names })
            }),
            25 => self.run(core, cid, pkt, |d, (): ()| Ok(IntRet { v: d.doms.iter().filter(|o| !o.is_active()).count() as i32 })),
            273 => self.run(core, cid, pkt, |d, a: ListAllArgs| d.list_all(a)),
            22 => self.run(core, cid, pkt, |d, a: LookupIdArgs| {
                let i = d.doms.by_id(a.id).ok_or_else(|| no_domain(format!("no domain with matching id {}", a.id)))?;
                Ok(DomRet { dom: d.nn(i)? })
            }),
            23 => self.run(core, cid, pkt, |d, a: LookupNameArgs| {
                let i = d.doms.by_name(&a.name).ok_or_else(|| no_domain(format!("no domain with matching name '{}'", a.name)))?;
                Ok(DomRet { dom: d.nn(i)? })
            }),
            24 => self.run(core, cid, pkt, |d, a: LookupUuidArgs| {
                let i =
                    d.doms.by_uuid(&a.uuid).ok_or_else(|| no_domain(format!("no domain with matching uuid '{}'", uuid_str(&a.uuid))))?;
                Ok(DomRet { dom: d.nn(i)? })
            }),
            11 => self.run(core, cid, pkt, |d, a: XmlArgs| d.define(cid, &a.xml, 0, "virDomainDefineXML")),
            350 => self.run(core, cid, pkt, |d, a: XmlFlagsArgs| d.define(cid, &a.xml, a.flags, "virDomainDefineXMLFlags")),
            35 => self.run(core, cid, pkt, |d, a: DomArgs| d.undefine(cid, &a.dom, 0, "virDomainUndefine")),
            231 => self.run(core, cid, pkt, |d, a: DomFlagsArgs| d.undefine(cid, &a.dom, a.flags, "virDomainUndefineFlags")),
            9 => self.run(core, cid, pkt, |d, a: DomArgs| d.create(cid, &a.dom, 0, "virDomainCreate").map(|_| ())),
            196 => self.run(core, cid, pkt, |d, a: DomFlagsArgs| {
                d.create(cid, &a.dom, a.flags, "virDomainCreateWithFlags").map(|dom| DomRet { dom })
            }),
            10 => self.run(core, cid, pkt, |d, a: XmlFlagsArgs| d.create_xml(cid, &a.xml, a.flags)),
            12 => self.run(core, cid, pkt, |d, a: DomArgs| d.destroy(cid, &a.dom, 0, "virDomainDestroy")),
            234 => self.run(core, cid, pkt, |d, a: DomFlagsArgs| d.destroy(cid, &a.dom, a.flags, "virDomainDestroyFlags")),
            33 => self.run(core, cid, pkt, |d, a: DomArgs| d.shutdown(cid, &a.dom, 0, "virDomainShutdown")),
            258 => self.run(core, cid, pkt, |d, a: DomFlagsArgs| d.shutdown(cid, &a.dom, a.flags, "virDomainShutdownFlags")),
            27 => self.run(core, cid, pkt, |d, a: DomFlagsArgs| d.reboot(cid, &a.dom, a.flags)),
            34 => self.run(core, cid, pkt, |d, a: DomArgs| d.suspend(cid, &a.dom)),
            28 => self.run(core, cid, pkt, |d, a: DomArgs| d.resume(cid, &a.dom)),
            14 => self.run(core, cid, pkt, |d, a: DomFlagsArgs| d.xml_desc(cid, &a.dom, a.flags)),
            15 => self.run(core, cid, pkt, |d, a: DomArgs| Ok(IntRet { v: d.obj(d.find(&a.dom)?)?.autostart as i32 })),
            29 => self.run(core, cid, pkt, |d, a: SetAutostartArgs| d.set_autostart(cid, &a.dom, a.autostart != 0)),
            16 => self.run(core, cid, pkt, |d, a: DomArgs| d.info(&a.dom)),
            212 => self.run(core, cid, pkt, |d, a: DomFlagsArgs| {
                check_flags(a.flags, 0, "libxlDomainGetState")?;
                let o = d.obj(d.find(&a.dom)?)?;
                Ok(StateRet { state: o.state.number(), reason: o.reason })
            }),
            17 => self.run(core, cid, pkt, |d, a: DomArgs| Ok(U64Ret { v: d.obj(d.find(&a.dom)?)?.def.memory_kib })),
            18 => self.run(core, cid, pkt, |d, a: DomArgs| Ok(IntRet { v: d.obj(d.find(&a.dom)?)?.def.vcpu.max as i32 })),
            200 => self.run(core, cid, pkt, |d, a: DomFlagsArgs| {
                check_flags(a.flags, AFFECT_LIVE | AFFECT_CONFIG | VCPU_MAXIMUM, "libxlDomainGetVcpusFlags")?;
                let o = d.obj(d.find(&a.dom)?)?;
                let def = if a.flags & AFFECT_CONFIG != 0 { o.persistent_def() } else { &o.def };
                Ok(IntRet { v: if a.flags & VCPU_MAXIMUM != 0 { def.vcpu.max } else { def.vcpus() } as i32 })
            }),
            19 => {
                self.run(core, cid, pkt, |d, a: DomArgs| Ok(StringRet { s: d.obj(d.find(&a.dom)?)?.def.os.os_type.as_str().to_string() }))
            }
            150 => self.run(core, cid, pkt, |d, a: DomArgs| Ok(IntRet { v: d.obj(d.find(&a.dom)?)?.is_active() as i32 })),
            151 => self.run(core, cid, pkt, |d, a: DomArgs| Ok(IntRet { v: d.obj(d.find(&a.dom)?)?.persistent as i32 })),
            202 => self.run(core, cid, pkt, |d, a: DomArgs| {
                d.find(&a.dom)?;
                Ok(IntRet { v: 0 })
            }),
            183 => self.run(core, cid, pkt, |d, a: DomFlagsArgs| {
                check_flags(a.flags, 0, "libxlDomainHasManagedSaveImage")?;
                let o = d.obj(d.find(&a.dom)?)?;
                Ok(IntRet { v: d.paths.managed_save_file(&o.def.name).exists() as i32 })
            }),
            31 => self.run(core, cid, pkt, |d, a: SetMemoryArgs| d.set_memory(cid, &a.dom, a.memory, AFFECT_LIVE, "virDomainSetMemory")),
            30 => self.run(core, cid, pkt, |d, a: SetMemoryArgs| d.set_memory(cid, &a.dom, a.memory, MEM_MAXIMUM, "virDomainSetMaxMemory")),
            204 => {
                self.run(core, cid, pkt, |d, a: SetMemoryFlagsArgs| d.set_memory(cid, &a.dom, a.memory, a.flags, "virDomainSetMemoryFlags"))
            }
            105 => self.run(core, cid, pkt, |d, (): ()| {
                d.events.register_legacy(cid, EVENT_ID_LIFECYCLE).map_err(|e| err(VIR_ERR_OPERATION_FAILED, &e.to_string()))?;
                Ok(IntRet { v: 1 })
            }),
            106 => self.run(core, cid, pkt, |d, (): ()| {
                d.events.deregister_legacy(cid, EVENT_ID_LIFECYCLE).map_err(|e| err(VIR_ERR_OPERATION_FAILED, &e.to_string()))?;
                Ok(IntRet { v: 0 })
            }),
            167 => self.run(core, cid, pkt, |d, a: EventIdArgs| d.events.register_legacy(cid, a.event_id).map_err(|e| reg_err(&e))),
            168 => self.run(core, cid, pkt, |d, a: EventIdArgs| d.events.deregister_legacy(cid, a.event_id).map_err(|e| reg_err(&e))),
            316 => self.run(core, cid, pkt, |d, a: CallbackRegisterArgs| {
                let id = d.events.register_callback(cid, a.event_id, a.dom.map(|x| x.uuid)).map_err(|e| reg_err(&e))?;
                Ok(CallbackRegisterRet { callback_id: id })
            }),
            317 => {
                self.run(core, cid, pkt, |d, a: CallbackIdArgs| d.events.deregister_callback(cid, a.callback_id).map_err(|e| reg_err(&e)))
            }
            _ => {
                let e = RemoteError::new(VIR_ERR_NO_SUPPORT, VIR_FROM_NONE, Some(&api_name(p)));
                core.reply_error(cid, &pkt.header, &e);
            }
        }
    }
}

/// This host's name.
// C: virGetHostname
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it
    // when the name fits (and we stop at the first NUL or the end anyway).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn reg_err(e: &RegError) -> RemoteError {
    match e {
        RegError::BadEventId(_) => RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, Some(&e.to_string())),
        _ => RemoteError::new(VIR_ERR_INVALID_ARG, VIR_FROM_NONE, Some(&e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_name_camel_cases_the_procedure() {
        assert_eq!(api_name(REMOTE_PROC_CONNECT_OPEN), "virConnectOpen");
        assert_eq!(api_name(203), "virConnectGetSysinfo");
        assert_eq!(api_name(100_000), "procedure 100000");
    }
}
