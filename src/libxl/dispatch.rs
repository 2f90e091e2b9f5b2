//! The REMOTE program procedures virtxend serves, each decoded, checked and answered the
//! way libvirt's remote/remote_daemon_dispatch.c and the public API checks of libvirt.c
//! and libxl/libxl_driver.c (libxlConnect*, libxlDomain*, libxlNode*) do.

use super::capabilities;
use super::domain_def::DomainState;
use super::domain_event::*;
use super::domain_obj::DomainObj;
use super::domain_xml::{self, FormatFlags, ParseFlags};
use super::driver::{Conn, XenDriver};
use super::lifecycle::*;
use super::state_files;
use crate::remote::domain_proto::*;
use crate::remote::domain_proto::NonnullDomain;
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
const LIST_ACTIVE: u32 = 1;
const LIST_INACTIVE: u32 = 2;
const LIST_PERSISTENT: u32 = 4;
const LIST_TRANSIENT: u32 = 8;
const LIST_RUNNING: u32 = 16;
const LIST_PAUSED: u32 = 32;
const LIST_SHUTOFF: u32 = 64;
const LIST_OTHER: u32 = 128;
const LIST_MANAGEDSAVE: u32 = 256;
const LIST_NO_MANAGEDSAVE: u32 = 512;
const LIST_AUTOSTART: u32 = 1024;
const LIST_NO_AUTOSTART: u32 = 2048;
const LIST_HAS_SNAPSHOT: u32 = 4096;
const LIST_NO_SNAPSHOT: u32 = 8192;
const LIST_HAS_CHECKPOINT: u32 = 16384;
const LIST_NO_CHECKPOINT: u32 = 32768;
const LIST_ALL_FLAGS: u32 = 65535;

// virDomainXMLFlags
const XML_SECURE: u32 = 1;
const XML_INACTIVE: u32 = 2;
const XML_UPDATE_CPU: u32 = 4;
const XML_MIGRATABLE: u32 = 8;
// virDomainCreateFlags
const START_PAUSED: u32 = 1;
const START_FORCE_BOOT: u32 = 8;
// virDomainShutdownFlagValues / virDomainRebootFlagValues
const SHUTDOWN_ACPI_POWER_BTN: u32 = 1;
const SHUTDOWN_PARAVIRT: u32 = 16;
// virDomainModificationImpact and virDomainMemoryModFlags
const AFFECT_LIVE: u32 = 1;
const AFFECT_CONFIG: u32 = 2;
const MEM_MAXIMUM: u32 = 4;
const VCPU_MAXIMUM: u32 = 4;
// virDomainUndefineFlagsValues
const UNDEFINE_MANAGED_SAVE: u32 = 1;
const DEFINE_VALIDATE: u32 = 1;

fn err(code: i32, text: &str) -> RemoteError {
    RemoteError::new(code, VIR_FROM_LIBXL, Some(text))
}

fn bad_flags(flags: u32, func: &str) -> RemoteError {
    RemoteError::new(VIR_ERR_INVALID_ARG, VIR_FROM_LIBXL, Some(&format!("unsupported flags (0x{flags:x}) in function {func}")))
}

fn check_flags(flags: u32, allowed: u32, func: &str) -> Result<(), RemoteError> {
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

fn no_domain(text: String) -> RemoteError {
    RemoteError::new(VIR_ERR_NO_DOMAIN, VIR_FROM_LIBXL, Some(&text))
}

fn not_running() -> RemoteError {
    op_invalid("domain is not running")
}

fn dom0_refused() -> RemoteError {
    op_invalid("Domain-0 does not support requested operation")
}

fn uuid_str(u: &[u8; 16]) -> String {
    crate::libxl_ffi::uuid_string(u)
}

fn state_matches(o: &DomainObj, flags: u32, managed_save: bool) -> bool {
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
    fn writable(&self, cid: ClientId, api: &str) -> Result<(), RemoteError> {
        match self.conns.get(&cid) {
            Some(c) if c.readonly => Err(RemoteError::new(
                VIR_ERR_OPERATION_DENIED,
                VIR_FROM_NONE,
                Some(&format!("read only access prevents {api}")),
            )),
            _ => Ok(()),
        }
    }

    /// The domain a client names, by UUID as libvirt's drivers look it up.
    // C: libxlDomObjFromDomain
    fn find(&self, d: &NonnullDomain) -> Result<usize, RemoteError> {
        self.doms.by_uuid(&d.uuid).ok_or_else(|| no_domain(format!("no domain with matching uuid '{}' ({})", uuid_str(&d.uuid), d.name)))
    }

    fn obj(&self, i: usize) -> Result<&DomainObj, RemoteError> {
        self.doms.get(i).ok_or_else(|| no_domain("domain disappeared".into()))
    }

    fn nn(&self, i: usize) -> Result<NonnullDomain, RemoteError> {
        Ok(nonnull(self.obj(i)?))
    }

    fn active_not_dom0(&self, d: &NonnullDomain) -> Result<usize, RemoteError> {
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
                let i = d.doms.by_uuid(&a.uuid).ok_or_else(|| no_domain(format!("no domain with matching uuid '{}'", uuid_str(&a.uuid))))?;
                Ok(DomRet { dom: d.nn(i)? })
            }),
            11 => self.run(core, cid, pkt, |d, a: XmlArgs| d.define(cid, &a.xml, 0, "virDomainDefineXML")),
            350 => self.run(core, cid, pkt, |d, a: XmlFlagsArgs| d.define(cid, &a.xml, a.flags, "virDomainDefineXMLFlags")),
            35 => self.run(core, cid, pkt, |d, a: DomArgs| d.undefine(cid, &a.dom, 0, "virDomainUndefine")),
            231 => self.run(core, cid, pkt, |d, a: DomFlagsArgs| d.undefine(cid, &a.dom, a.flags, "virDomainUndefineFlags")),
            9 => self.run(core, cid, pkt, |d, a: DomArgs| d.create(cid, &a.dom, 0, "virDomainCreate").map(|_| ())),
            196 => self.run(core, cid, pkt, |d, a: DomFlagsArgs| d.create(cid, &a.dom, a.flags, "virDomainCreateWithFlags").map(|dom| DomRet { dom })),
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
            19 => self.run(core, cid, pkt, |d, a: DomArgs| Ok(StringRet { s: d.obj(d.find(&a.dom)?)?.def.os.os_type.as_str().to_string() })),
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
            204 => self.run(core, cid, pkt, |d, a: SetMemoryFlagsArgs| d.set_memory(cid, &a.dom, a.memory, a.flags, "virDomainSetMemoryFlags")),
            105 => self.run(core, cid, pkt, |d, (): ()| {
                d.events.register_legacy(cid, EVENT_ID_LIFECYCLE).map_err(|e| err(VIR_ERR_OPERATION_FAILED, &e.to_string()))?;
                Ok(IntRet { v: 1 })
            }),
            106 => self.run(core, cid, pkt, |d, (): ()| {
                d.events.deregister_legacy(cid, EVENT_ID_LIFECYCLE).map_err(|e| err(VIR_ERR_OPERATION_FAILED, &e.to_string()))?;
                Ok(IntRet { v: 0 })
            }),
            167 => self.run(core, cid, pkt, |d, a: EventIdArgs| {
                d.events.register_legacy(cid, a.event_id).map_err(|e| reg_err(&e))
            }),
            168 => self.run(core, cid, pkt, |d, a: EventIdArgs| {
                d.events.deregister_legacy(cid, a.event_id).map_err(|e| reg_err(&e))
            }),
            316 => self.run(core, cid, pkt, |d, a: CallbackRegisterArgs| {
                let id = d.events.register_callback(cid, a.event_id, a.dom.map(|x| x.uuid)).map_err(|e| reg_err(&e))?;
                Ok(CallbackRegisterRet { callback_id: id })
            }),
            317 => self.run(core, cid, pkt, |d, a: CallbackIdArgs| {
                d.events.deregister_callback(cid, a.callback_id).map_err(|e| reg_err(&e))
            }),
            _ => {
                let e = RemoteError::new(VIR_ERR_NO_SUPPORT, VIR_FROM_NONE, Some(&api_name(p)));
                core.reply_error(cid, &pkt.header, &e);
            }
        }
    }

    // C: libxlConnectOpen
    fn connect_open(&mut self, cid: ClientId, a: ConnectOpenArgs, readonly: bool) -> Result<(), RemoteError> {
        let name = a.name.unwrap_or_default();
        if !name.is_empty() {
            let Some(rest) = name.strip_prefix("xen://").or_else(|| name.strip_prefix("xen:")) else {
                return Err(RemoteError::new(VIR_ERR_NO_CONNECT, VIR_FROM_NONE, Some(&name)));
            };
            let (host, path) = match rest.strip_prefix("//") {
                Some(r) => r.split_at(r.find('/').unwrap_or(r.len())),
                None => rest.split_at(rest.find('/').unwrap_or(rest.len())),
            };
            let host = if name.starts_with("xen://") { rest.split('/').next().unwrap_or("") } else { host };
            let path = path.split('?').next().unwrap_or("");
            if !host.is_empty() && host != "localhost" {
                return Err(RemoteError::new(VIR_ERR_NO_CONNECT, VIR_FROM_NONE, Some(&name)));
            }
            if !matches!(path, "" | "/" | "/system") {
                return Err(RemoteError::new(
                    VIR_ERR_INTERNAL_ERROR,
                    VIR_FROM_LIBXL,
                    Some(&format!("unexpected Xen URI path '{path}', try xen:///system")),
                ));
            }
        }
        let ro = readonly || a.flags & crate::remote::protocol::VIR_CONNECT_RO != 0;
        self.conns.insert(cid, Conn { readonly: ro });
        Ok(())
    }

    // C: libxlConnectListAllDomains
    fn list_all(&self, a: ListAllArgs) -> Result<ListAllRet, RemoteError> {
        check_flags(a.flags, LIST_ALL_FLAGS, "libxlConnectListAllDomains")?;
        let mut domains = Vec::new();
        let mut n = 0u32;
        for o in self.doms.iter() {
            let saved = self.paths.managed_save_file(&o.def.name).exists();
            if state_matches(o, a.flags, saved) {
                n += 1;
                if a.need_results != 0 {
                    domains.push(nonnull(o));
                }
            }
        }
        if domains.len() > REMOTE_DOMAIN_LIST_MAX as usize {
            return Err(err(VIR_ERR_RPC, &format!("Too many domains '{}' for limit '{REMOTE_DOMAIN_LIST_MAX}'", domains.len())));
        }
        Ok(ListAllRet { domains, ret: n })
    }

    // C: libxlDomainDefineXMLFlags
    fn define(&mut self, cid: ClientId, xml: &str, flags: u32, api: &str) -> Result<DomRet, RemoteError> {
        self.writable(cid, api)?;
        check_flags(flags, DEFINE_VALIDATE, "libxlDomainDefineXMLFlags")?;
        let def = domain_xml::parse_domain_xml(xml, ParseFlags { inactive: true, validate: flags & DEFINE_VALIDATE != 0 })?;
        self.check_guest_caps(&def)?;
        let existing = self.doms.check_new(&def).map_err(|c| err(VIR_ERR_OPERATION_FAILED, &c.to_string()))?;
        if let Some(i) = existing {
            if self.obj(i)?.is_dom0() {
                return Err(dom0_refused());
            }
        }
        self.save_config(&def).map_err(|e| {
            RemoteError::system(VIR_FROM_LIBXL, e.raw_os_error().unwrap_or(libc::EIO), Some(&format!("cannot save config file '{}'", self.paths.config_file(&def.name).display())))
        })?;
        let (i, detail) = match existing {
            Some(i) => {
                let Some(o) = self.doms.get_mut(i) else { return Err(no_domain("domain disappeared".into())) };
                let was_persistent = o.persistent;
                o.persistent = true;
                if o.is_active() {
                    o.new_def = Some(def);
                } else {
                    o.def = def;
                }
                (i, if was_persistent { DEFINED_UPDATED } else { DEFINED_ADDED })
            }
            None => (self.doms.push(DomainObj::new(def, true)), DEFINED_ADDED),
        };
        let ev = LifecycleEvent::of(self.obj(i)?, EVENT_DEFINED, detail);
        let dom = ev.dom.clone();
        self.outbox.push(ev);
        Ok(DomRet { dom })
    }

    fn check_guest_caps(&self, def: &super::domain_def::DomainDef) -> Result<(), RemoteError> {
        let os = def.os.os_type.as_str();
        let arch = def.os.arch.as_str();
        if !capabilities::supports(&self.guest_caps, os, arch) {
            return Err(RemoteError::new(
                VIR_ERR_INVALID_ARG,
                VIR_FROM_CAPABILITIES,
                Some(&format!("could not find capabilities for arch={arch} domaintype=xen ")),
            ));
        }
        Ok(())
    }

    // C: libxlDomainUndefineFlags
    fn undefine(&mut self, cid: ClientId, dom: &NonnullDomain, flags: u32, api: &str) -> Result<(), RemoteError> {
        self.writable(cid, api)?;
        check_flags(flags, UNDEFINE_MANAGED_SAVE, "libxlDomainUndefineFlags")?;
        let i = self.find(dom)?;
        let o = self.obj(i)?;
        if o.is_dom0() {
            return Err(dom0_refused());
        }
        if !o.persistent {
            return Err(op_invalid("cannot undefine transient domain"));
        }
        let name = o.def.name.clone();
        let save = self.paths.managed_save_file(&name);
        if save.exists() {
            if flags & UNDEFINE_MANAGED_SAVE == 0 {
                return Err(op_invalid("Refusing to undefine while domain managed save image exists"));
            }
            std::fs::remove_file(&save).map_err(|e| RemoteError::system(VIR_FROM_LIBXL, e.raw_os_error().unwrap_or(libc::EIO), Some(&format!("Failed to remove domain managed save image '{}'", save.display()))))?;
        }
        let cfg = self.paths.config_file(&name);
        state_files::remove_if_exists(&cfg).map_err(|e| {
            RemoteError::system(VIR_FROM_LIBXL, e.raw_os_error().unwrap_or(libc::EIO), Some(&format!("cannot remove config {}", cfg.display())))
        })?;
        let _ = state_files::set_autostart(&self.paths, &name, false);
        self.outbox.push(LifecycleEvent::of(o, EVENT_UNDEFINED, UNDEFINED_REMOVED));
        if let Some(o) = self.doms.get_mut(i) {
            o.autostart = false;
            if o.is_active() {
                o.persistent = false;
                o.new_def = None;
            } else {
                self.doms.remove(i);
            }
        }
        Ok(())
    }

    // C: libxlDomainCreateWithFlags
    fn create(&mut self, cid: ClientId, dom: &NonnullDomain, flags: u32, api: &str) -> Result<NonnullDomain, RemoteError> {
        self.writable(cid, api)?;
        check_flags(flags, START_PAUSED | START_FORCE_BOOT, "libxlDomainCreateWithFlags")?;
        let i = self.find(dom)?;
        if self.obj(i)?.is_dom0() {
            return Err(dom0_refused());
        }
        self.start_domain(i, flags & START_PAUSED != 0)?;
        self.nn(i)
    }

    // C: libxlDomainCreateXML
    fn create_xml(&mut self, cid: ClientId, xml: &str, flags: u32) -> Result<DomRet, RemoteError> {
        self.writable(cid, "virDomainCreateXML")?;
        check_flags(flags, START_PAUSED, "libxlDomainCreateXML")?;
        let def = domain_xml::parse_domain_xml(xml, ParseFlags { inactive: true, validate: false })?;
        self.check_guest_caps(&def)?;
        let existing = self.doms.check_new(&def).map_err(|c| err(VIR_ERR_OPERATION_FAILED, &c.to_string()))?;
        let i = match existing {
            Some(i) => {
                let Some(o) = self.doms.get_mut(i) else { return Err(no_domain("domain disappeared".into())) };
                if o.is_dom0() {
                    return Err(dom0_refused());
                }
                if o.is_active() {
                    return Err(op_invalid(&format!("domain '{}' is already active", o.def.name)));
                }
                // Runs this once with the given XML; the persistent definition stays.
                let old = std::mem::replace(&mut o.def, def);
                o.new_def = Some(old);
                i
            }
            None => self.doms.push(DomainObj::new(def, false)),
        };
        if let Err(e) = self.start_domain_keep_new(i, flags & START_PAUSED != 0) {
            if let Some(o) = self.doms.get_mut(i) {
                if o.persistent {
                    if let Some(old) = o.new_def.take() {
                        o.def = old;
                    }
                } else {
                    self.doms.remove(i);
                }
            }
            return Err(e);
        }
        Ok(DomRet { dom: self.nn(i)? })
    }

    /// Like `start_domain`, but runs `def` as it is (create-XML keeps the persistent
    /// definition in `new_def` for later).
    fn start_domain_keep_new(&mut self, i: usize, paused: bool) -> Result<(), RemoteError> {
        let saved = self.doms.get_mut(i).and_then(|o| o.new_def.take());
        let r = self.start_domain(i, paused);
        if let Some(o) = self.doms.get_mut(i) {
            if o.new_def.is_none() {
                o.new_def = saved;
            }
        }
        r
    }

    // C: libxlDomainDestroyFlags
    fn destroy(&mut self, cid: ClientId, dom: &NonnullDomain, flags: u32, api: &str) -> Result<(), RemoteError> {
        self.writable(cid, api)?;
        check_flags(flags, 0, "libxlDomainDestroyFlags")?;
        let i = self.active_not_dom0(dom)?;
        let ev = LifecycleEvent::of(self.obj(i)?, EVENT_STOPPED, STOPPED_DESTROYED);
        self.destroy_domain(i, SHUTOFF_DESTROYED)?;
        self.outbox.push(ev);
        Ok(())
    }

    // C: libxlDomainShutdownFlags
    fn shutdown(&mut self, cid: ClientId, dom: &NonnullDomain, flags: u32, api: &str) -> Result<(), RemoteError> {
        self.writable(cid, api)?;
        check_flags(flags, SHUTDOWN_ACPI_POWER_BTN | SHUTDOWN_PARAVIRT, "libxlDomainShutdownFlags")?;
        let i = self.active_not_dom0(dom)?;
        let o = self.obj(i)?;
        let (domid, name) = (o.id() as u32, o.def.name.clone());
        let pv_ok = flags == 0 || flags & SHUTDOWN_PARAVIRT != 0;
        let acpi_ok = flags == 0 || flags & SHUTDOWN_ACPI_POWER_BTN != 0;
        let failed = || err(VIR_ERR_OPERATION_FAILED, &format!("Failed to shutdown domain '{name}' with libxenlight"));
        if pv_ok {
            match self.ctx.domain_shutdown(domid) {
                Ok(()) => return Ok(()),
                Err(e) if e.code() == Some(crate::libxl_ffi::ERROR_NOPARAVIRT) && acpi_ok => {}
                Err(_) => return Err(failed()),
            }
        }
        if acpi_ok {
            self.ctx.send_trigger(domid, crate::libxl_ffi::Trigger::Power, 0).map_err(|_| failed())?;
            return Ok(());
        }
        Err(failed())
    }

    // C: libxlDomainReboot
    fn reboot(&mut self, cid: ClientId, dom: &NonnullDomain, flags: u32) -> Result<(), RemoteError> {
        self.writable(cid, "virDomainReboot")?;
        check_flags(flags, SHUTDOWN_PARAVIRT, "libxlDomainReboot")?;
        let i = self.active_not_dom0(dom)?;
        let o = self.obj(i)?;
        self.ctx
            .domain_reboot(o.id() as u32)
            .map_err(|_| err(VIR_ERR_OPERATION_FAILED, &format!("Failed to reboot domain '{}' with libxenlight", o.def.name)))
    }

    // C: libxlDomainSuspend
    fn suspend(&mut self, cid: ClientId, dom: &NonnullDomain) -> Result<(), RemoteError> {
        self.writable(cid, "virDomainSuspend")?;
        let i = self.active_not_dom0(dom)?;
        let o = self.obj(i)?;
        if o.state != DomainState::Paused {
            self.ctx
                .domain_pause(o.id() as u32)
                .map_err(|_| err(VIR_ERR_OPERATION_FAILED, &format!("Failed to suspend domain '{}' with libxenlight", o.def.name)))?;
            if let Some(o) = self.doms.get_mut(i) {
                o.set_state(DomainState::Paused, PAUSED_USER);
            }
            self.outbox.push(LifecycleEvent::of(self.obj(i)?, EVENT_SUSPENDED, SUSPENDED_PAUSED));
            self.save_status(i);
        }
        Ok(())
    }

    // C: libxlDomainResume
    fn resume(&mut self, cid: ClientId, dom: &NonnullDomain) -> Result<(), RemoteError> {
        self.writable(cid, "virDomainResume")?;
        let i = self.active_not_dom0(dom)?;
        let o = self.obj(i)?;
        if o.state == DomainState::Paused {
            self.ctx
                .domain_unpause(o.id() as u32)
                .map_err(|_| err(VIR_ERR_OPERATION_FAILED, &format!("Failed to resume domain '{}' with libxenlight", o.def.name)))?;
            if let Some(o) = self.doms.get_mut(i) {
                o.set_state(DomainState::Running, RUNNING_UNPAUSED);
            }
            self.outbox.push(LifecycleEvent::of(self.obj(i)?, EVENT_RESUMED, RESUMED_UNPAUSED));
            self.save_status(i);
        }
        Ok(())
    }

    // C: libxlDomainGetXMLDesc
    fn xml_desc(&self, cid: ClientId, dom: &NonnullDomain, flags: u32) -> Result<StringRet, RemoteError> {
        check_flags(flags, XML_SECURE | XML_INACTIVE | XML_UPDATE_CPU | XML_MIGRATABLE, "libxlDomainGetXMLDesc")?;
        if flags & XML_SECURE != 0 {
            self.writable(cid, "virDomainGetXMLDesc with secure flag")?;
        }
        let o = self.obj(self.find(dom)?)?;
        let ff = FormatFlags {
            inactive: flags & XML_INACTIVE != 0,
            secure: flags & XML_SECURE != 0,
            update_cpu: flags & XML_UPDATE_CPU != 0,
            migratable: flags & XML_MIGRATABLE != 0,
        };
        let (def, id) = if ff.inactive || !o.is_active() { (o.persistent_def(), None) } else { (&o.def, Some(o.id())) };
        Ok(StringRet { s: domain_xml::format_domain_xml(def, id, ff) })
    }

    // C: libxlDomainSetAutostart
    fn set_autostart(&mut self, cid: ClientId, dom: &NonnullDomain, on: bool) -> Result<(), RemoteError> {
        self.writable(cid, "virDomainSetAutostart")?;
        let i = self.find(dom)?;
        let o = self.obj(i)?;
        if !o.persistent {
            return Err(op_invalid("cannot set autostart for transient domain"));
        }
        if o.autostart != on {
            let name = o.def.name.clone();
            state_files::set_autostart(&self.paths, &name, on).map_err(|e| {
                let what = if on { "Failed to create symlink" } else { "Failed to delete symlink" };
                RemoteError::system(VIR_FROM_LIBXL, e.raw_os_error().unwrap_or(libc::EIO), Some(&format!("{what} '{}'", self.paths.autostart_link(&name).display())))
            })?;
            if let Some(o) = self.doms.get_mut(i) {
                o.autostart = on;
            }
        }
        Ok(())
    }

    // C: libxlDomainOpenConsole
    fn open_console(&mut self, core: &mut Core, cid: ClientId, serial: u32, a: OpenConsoleArgs) -> Result<(), RemoteError> {
        self.writable(cid, "virDomainOpenConsole")?;
        check_flags(a.flags, super::console::CONSOLE_FORCE, "libxlDomainOpenConsole")?;
        let i = self.active_not_dom0(&a.dom)?;
        let o = self.obj(i)?;
        let consoles = &o.def.devices.consoles;
        let chr = match &a.dev_name {
            None => consoles.first(),
            Some(n) => consoles.iter().find(|c| c.alias.as_deref() == Some(n.as_str())).or_else(|| {
                let idx: usize = n.strip_prefix("console").and_then(|x| x.parse().ok())?;
                consoles.get(idx)
            }),
        };
        let dev = a.dev_name.as_deref().unwrap_or("console");
        let Some(chr) = chr else {
            return Err(err(VIR_ERR_INTERNAL_ERROR, &format!("cannot find character device {dev}")));
        };
        let path = match (&chr.path, chr.chr_type.as_str()) {
            (Some(p), "pty") => p.clone(),
            _ => return Err(err(VIR_ERR_INTERNAL_ERROR, &format!("character device {dev} is not using a PTY"))),
        };
        let uuid = o.def.uuid;
        match self.consoles.open(core, cid, serial, uuid, &path, a.flags & super::console::CONSOLE_FORCE != 0) {
            Ok(()) => Ok(()),
            Err(super::console::OpenError::Busy) => Err(err(VIR_ERR_OPERATION_FAILED, "Active console session exists for this domain")),
            Err(super::console::OpenError::Io(e)) => Err(RemoteError::system(
                VIR_FROM_LIBXL,
                e.raw_os_error().unwrap_or(libc::EIO),
                Some(&format!("Unable to open console '{path}'")),
            )),
        }
    }

    // C: libxlDomainGetInfo
    fn info(&self, dom: &NonnullDomain) -> Result<DomainInfoRet, RemoteError> {
        let o = self.obj(self.find(dom)?)?;
        let (memory, vcpus, cpu_time) = if o.is_active() {
            match self.ctx.domain_info(o.id() as u32) {
                Ok(di) => (di.current_memkb, di.vcpu_online, di.cpu_time),
                Err(e) => return Err(libxl_err(&format!("libxl_domain_info failed for domain '{}'", o.id()), &e)),
            }
        } else {
            (o.def.current_memory_kib, o.def.vcpus(), 0)
        };
        Ok(DomainInfoRet { state: o.state.number() as u32, max_mem: o.def.memory_kib, memory, nr_virt_cpu: vcpus, cpu_time })
    }

    // C: libxlDomainSetMemoryFlags
    fn set_memory(&mut self, cid: ClientId, dom: &NonnullDomain, kib: u64, flags: u32, api: &str) -> Result<(), RemoteError> {
        self.writable(cid, api)?;
        check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG | MEM_MAXIMUM, "libxlDomainSetMemoryFlags")?;
        let i = self.find(dom)?;
        let o = self.obj(i)?;
        if o.is_dom0() && flags & AFFECT_CONFIG != 0 {
            return Err(dom0_refused());
        }
        let (mut live, mut config) = (flags & AFFECT_LIVE != 0, flags & AFFECT_CONFIG != 0);
        if !live && !config {
            live = o.is_active();
            config = !live;
        }
        if live && !o.is_active() {
            return Err(not_running());
        }
        if config && !o.persistent {
            return Err(op_invalid("cannot change persistent config of a transient domain"));
        }
        let domid = o.id();
        let maximum = flags & MEM_MAXIMUM != 0;
        if !maximum {
            let max = if live { o.def.memory_kib } else { o.persistent_def().memory_kib };
            if kib > max {
                return Err(err(VIR_ERR_INVALID_ARG, "cannot set memory higher than max memory"));
            }
        }
        if live {
            let r = if maximum { self.ctx.set_max_memory(domid as u32, kib) } else { self.ctx.set_memory_target(domid as u32, kib as i64, false, true) };
            r.map_err(|_| err(VIR_ERR_INTERNAL_ERROR, &format!("Failed to set memory for domain '{domid}' with libxenlight")))?;
        }
        let Some(o) = self.doms.get_mut(i) else { return Ok(()) };
        if live {
            if maximum {
                o.def.memory_kib = kib;
                o.def.current_memory_kib = o.def.current_memory_kib.min(kib);
            } else {
                o.def.current_memory_kib = kib;
            }
        }
        if config {
            let target = o.new_def.as_mut().unwrap_or(&mut o.def);
            if maximum {
                target.memory_kib = kib;
                target.current_memory_kib = target.current_memory_kib.min(kib);
            } else {
                target.current_memory_kib = kib;
            }
            let def = target.clone();
            self.save_config(&def).map_err(|e| RemoteError::system(VIR_FROM_LIBXL, e.raw_os_error().unwrap_or(libc::EIO), Some("cannot save config file")))?;
        }
        if live {
            self.save_status(i);
        }
        Ok(())
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
