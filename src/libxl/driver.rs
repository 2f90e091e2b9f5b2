//! virtxend's Xen driver: its state, start-up (reconnect to running domains, Domain-0,
//! persistent configs, autostart), the poll-loop glue for libxl, and event delivery
//! (libvirt's libxl/libxl_driver.c libxlStateInitialize, libxlReconnectDomain,
//! libxlAddDom0, libxlAutostartDomain, libxlStateReload, and the event hooks).
//!
//! Threading: everything runs on the loop thread, libxl calls included. libxl calls that
//! wait for a guest are never made (shutdown and reboot only ask the guest); the others
//! return in microseconds on a dom0. libxl's fds and timeouts are served by the loop
//! (`libxl_ffi::osevent`), its events are queued by the callback and handled after each
//! batch of I/O, outside libxl.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use log::{debug, info, warn};

use super::capabilities::{self, GuestCap, HostFacts};
use super::domain_def::{DomainDef, DomainState};
use super::domain_event::{Delivery, EventRegistry, LifecycleEvent};
use super::domain_obj::{DomainList, DomainObj};
use super::domain_xml::{self, FormatFlags, ParseFlags};
use super::driver_config;
use super::state_files::{self, DriverPaths};
use crate::libxl_ffi::{self as xl, Ctx, LibxlEvent, LibxlEvents, LogLevel, Logger, PhysInfo, VersionInfo};
use crate::poll::Readiness;
use crate::remote::auth::{self, Auth};
use crate::remote::config::LibxlConfig;
use crate::remote::daemon::StartError;
use crate::rpc::client::CloseReason;
use crate::rpc::message::{self, Packet};
use crate::rpc::netdaemon::{ClientId, Core, TimerKey};
use crate::rpc::program::{Lookup, Program, ProgramId};
use crate::rpc::protocol as proto;
use crate::util::daemon::DaemonErr;
use crate::util::pidfile::PidFile;

/// The userdata key under which the domain XML is stored with libxl at start
/// (/var/lib/xen/userdata-d.DOMID.UUID.libvirt-xml), which marks domains as ours.
pub const USERDATA_KEY: &str = "libvirt-xml";

/// What one client's open connection is.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    pub readonly: bool,
}

pub struct XenDriver {
    pub(super) ctx: Ctx,
    pub(super) paths: DriverPaths,
    pub(super) version: VersionInfo,
    pub(super) guest_caps: Vec<GuestCap>,
    pub(super) doms: DomainList,
    pub(super) conns: HashMap<ClientId, Conn>,
    pub(super) events: EventRegistry,
    /// Events produced by the driver itself, sent after the current batch.
    pub(super) outbox: Vec<LifecycleEvent>,
    pub(super) consoles: super::console::Consoles,
    /// Connections to the network, storage... daemons, per client.
    pub(super) secondary: super::secondary::Secondary,
    /// Domains that stopped since the last batch (their console sessions end).
    pub(super) stopped: Vec<[u8; 16]>,
    timers_in: Arc<Mutex<Vec<(Instant, u64)>>>,
    libxl_events: Arc<Mutex<VecDeque<LibxlEvent>>>,
    /// The authentication procedures of the REMOTE program.
    pub(super) auth: Auth,
    _driver_lock: PidFile,
}

fn start_err(msg: impl Into<String>) -> StartError {
    StartError::new(DaemonErr::Driver, msg)
}

impl XenDriver {
    /// Sets the driver up, or says why this host cannot run it.
    // C: libxlStateInitialize
    pub fn new(core: &mut Core, privileged: bool, auth: Auth) -> Result<XenDriver, StartError> {
        if !privileged {
            return Err(start_err("virtxend must run as root: the Xen driver needs a privileged dom0 context"));
        }
        let paths = DriverPaths::from_env();
        paths
            .create_dirs()
            .map_err(|(d, e)| start_err(format!("failed to create directory '{}': {}", d.display(), crate::util::strerror(&e))))?;
        let logger = Logger::to_file(&paths.log_dir.join("libxl-driver.log"), LogLevel::Debug)
            .map_err(|e| start_err(format!("cannot open the libxl log in {}: {e}", paths.log_dir.display())))?;

        let timers_in: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::new(Mutex::new(Vec::new()));
        let waker = core.completer();
        let t = Arc::clone(&timers_in);
        let events = LibxlEvents::new(&core.registry, move |at, key| {
            if let Ok(mut v) = t.lock() {
                v.push((at, key));
            }
            waker.complete(Box::new(|_, _| {}));
        })
        .map_err(|e| start_err(format!("cannot set up libxl event handling: {e}")))?;
        let queue: Arc<Mutex<VecDeque<LibxlEvent>>> = Arc::new(Mutex::new(VecDeque::new()));
        let q = Arc::clone(&queue);
        let ctx = Ctx::with_events(logger, Arc::new(events), move |ev| {
            if let Ok(mut v) = q.lock() {
                v.push_back(ev);
            }
        })
        .map_err(|e| start_err(format!("this host is not a Xen dom0 (cannot initialize libxenlight context: {e})")))?;
        let version =
            ctx.version_info().map_err(|e| start_err(format!("this host is not a Xen dom0 (cannot get the Xen version: {e})")))?;
        ctx.physinfo().map_err(|e| start_err(format!("this host is not a Xen dom0 (cannot get host information: {e})")))?;

        // One libxl driver per host, as libvirt's driver.pid ensures.
        let lock = PidFile::acquire(&paths.state_dir.join("driver.pid"), crate::util::sys::getpid())
            .map_err(|e| start_err(format!("another Xen driver owns this host: {e}")))?;
        let mut cfg = LibxlConfig::default();
        cfg.load_file(&paths.libxl_conf).map_err(|errs| start_err(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))?;
        let autoballoon = cfg.autoballoon.unwrap_or_else(|| !driver_config::has_dom0_mem(&version.commandline));
        if let Some(lm) = &cfg.lock_manager {
            warn!("lock_manager = \"{lm}\" in {}: lock managers are not supported, domains are not locked", paths.libxl_conf.display());
        }
        let guest_caps = capabilities::parse_guest_caps(&version.capabilities);
        let mut drv = XenDriver {
            ctx,
            paths,
            version,
            guest_caps,
            doms: DomainList::new(),
            conns: HashMap::new(),
            events: EventRegistry::new(),
            outbox: Vec::new(),
            consoles: super::console::Consoles::new(),
            secondary: super::secondary::Secondary::new(None),
            stopped: Vec::new(),
            timers_in,
            libxl_events: queue,
            auth,
            _driver_lock: lock,
        };
        drv.load_status();
        drv.add_dom0().map_err(|e| start_err(format!("cannot describe Domain-0: {e}")))?;
        drv.load_configs();
        drv.autostart();
        drv.move_timers(core);
        drv.outbox.clear();
        if autoballoon {
            info!("autoballoon is on: Domain-0 is not ballooned down by virtxend (start guests with dom0_mem= set)");
        }
        info!("Xen driver ready: Xen {}.{}{}, {} domains known", drv.version.major, drv.version.minor, drv.version.extra, drv.doms.len());
        Ok(drv)
    }

    /// Reconnects to the domains the status files name: those libxl still runs and that
    /// carry our userdata stay, the others are cleaned up.
    // C: libxlReconnectDomain (via virDomainObjListLoadAllConfigs of the state dir)
    fn load_status(&mut self) {
        for (name, path) in state_files::xml_files(&self.paths.state_dir) {
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|x| domain_xml::parse_status_xml(&x).map_err(|e| e.to_string()));
            let (mut def, id, _, _) = match parsed {
                Ok(v) => v,
                Err(e) => {
                    warn!("ignoring status file {}: {e}", path.display());
                    continue;
                }
            };
            if def.name != name || id <= 0 {
                warn!("ignoring status file {}: it does not describe a running domain '{name}'", path.display());
                continue;
            }
            let domid = id as u32;
            let alive = match self.ctx.domain_info(domid) {
                Ok(info) if info.uuid == def.uuid => Some(info),
                _ => None,
            };
            let ours = alive.is_some() && matches!(self.ctx.userdata_retrieve(domid, USERDATA_KEY), Ok(Some(_)));
            let Some(info) = alive.filter(|_| ours) else {
                info!("domain '{name}' (id {id}) is gone; cleaning up");
                let _ = state_files::remove_if_exists(&path);
                continue;
            };
            def.id = id;
            let mut obj = DomainObj::new(def, false);
            if info.paused {
                obj.set_state(DomainState::Paused, 0);
            } else {
                obj.set_state(DomainState::Running, 0);
            }
            match self.ctx.enable_domain_death(domid, u64::from(domid)) {
                Ok(w) => obj.death = Some(w),
                Err(e) => warn!("cannot watch domain '{name}' (id {id}): {e}"),
            }
            info!("reconnected to domain '{name}' (id {id})");
            let i = self.doms.push(obj);
            self.save_status(i);
        }
    }

    /// Domain-0 as libvirt shows it: id 0, the all-zero UUID, running, persistent.
    // C: libxlAddDom0
    fn add_dom0(&mut self) -> Result<(), String> {
        let info = self.ctx.domain_info(0).map_err(|e| e.to_string())?;
        let phys: PhysInfo = self.ctx.physinfo().map_err(|e| e.to_string())?;
        let page_kib = (self.version.pagesize.max(1024) as u64) / 1024;
        let max_kib = driver_config::dom0_max_kib(&self.version.commandline).unwrap_or(phys.total_pages * page_kib);
        let vcpus = info.vcpu_max_id + 1;
        let xml = format!(
            "<domain type='xen'><name>Domain-0</name><uuid>00000000-0000-0000-0000-000000000000</uuid>\
             <memory unit='KiB'>{max_kib}</memory><currentMemory unit='KiB'>{}</currentMemory>\
             <vcpu current='{}'>{vcpus}</vcpu><os><type>xen</type></os></domain>",
            info.current_memkb.min(max_kib),
            info.vcpu_online.clamp(1, vcpus),
        );
        let mut def = domain_xml::parse_domain_xml(&xml, ParseFlags::default()).map_err(|e| e.to_string())?;
        def.id = 0;
        def.devices = Default::default();
        let mut obj = DomainObj::new(def, true);
        obj.set_state(DomainState::Running, 1);
        self.doms.push(obj);
        Ok(())
    }

    /// Reads /etc/libvirt/libxl/*.xml: new persistent domains, or the persistent side of
    /// running ones.
    // C: virDomainObjListLoadAllConfigs (config dir)
    fn load_configs(&mut self) {
        for (name, path) in state_files::xml_files(&self.paths.config_dir) {
            let def = match std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|x| domain_xml::parse_domain_xml(&x, ParseFlags { inactive: true, validate: false }).map_err(|e| e.to_string()))
            {
                Ok(d) => d,
                Err(e) => {
                    warn!("Error loading config file '{}': {e}", path.display());
                    continue;
                }
            };
            if def.name != name {
                warn!("Error loading config file '{}': domain name '{}' does not match the file name", path.display(), def.name);
                continue;
            }
            let autostart = state_files::is_autostart(&self.paths, &name);
            match self.doms.check_new(&def) {
                Ok(Some(i)) => {
                    let Some(obj) = self.doms.get_mut(i) else { continue };
                    if obj.is_dom0() {
                        continue;
                    }
                    obj.persistent = true;
                    obj.autostart = autostart;
                    if obj.is_active() {
                        obj.new_def = Some(def);
                    } else {
                        obj.def = def;
                    }
                }
                Ok(None) => {
                    let mut obj = DomainObj::new(def, true);
                    obj.autostart = autostart;
                    self.doms.push(obj);
                }
                Err(clash) => warn!("Error loading config file '{}': {clash}", path.display()),
            }
        }
    }

    /// Starts the autostart domains once per host boot.
    // C: libxlAutostartDomains
    fn autostart(&mut self) {
        let marker = self.paths.autostarted_marker();
        if marker.exists() {
            return;
        }
        if let Err(e) = std::fs::write(&marker, b"") {
            warn!("cannot create {}: {e}", marker.display());
        }
        let names: Vec<String> = self.doms.iter().filter(|o| o.autostart && !o.is_active()).map(|o| o.def.name.clone()).collect();
        for name in names {
            if let Some(i) = self.doms.by_name(&name) {
                if let Err(e) = self.start_domain(i, false) {
                    warn!("Failed to autostart VM '{name}': {}", e.message.as_deref().unwrap_or("unknown error"));
                }
            }
        }
    }

    /// Rewrites the status XML of an active domain.
    // C: virDomainObjSave
    pub(super) fn save_status(&self, i: usize) {
        let Some(obj) = self.doms.get(i) else { return };
        if !obj.is_active() || obj.is_dom0() {
            return;
        }
        let xml = domain_xml::format_status_xml(&obj.def, obj.def.id, obj.state, obj.reason);
        let path = self.paths.status_file(&obj.def.name);
        if let Err(e) = state_files::write_atomic(&path, xml.as_bytes(), 0o600) {
            warn!("cannot write status file {}: {e}", path.display());
        }
    }

    /// Writes the persistent config of a domain.
    // C: virDomainDefSave
    pub(super) fn save_config(&self, def: &DomainDef) -> std::io::Result<()> {
        let xml = domain_xml::format_domain_xml(def, None, FormatFlags { inactive: true, secure: true, ..Default::default() });
        state_files::write_atomic(&self.paths.config_file(&def.name), xml.as_bytes(), 0o600)
    }

    /// Host facts for capabilities.
    pub(super) fn capabilities_xml(&self) -> Result<String, xl::LibxlError> {
        let phys = self.ctx.physinfo()?;
        let numa = self.ctx.numainfo().unwrap_or_default();
        let topology = self.ctx.cpu_topology().unwrap_or_default();
        Ok(capabilities::capabilities_xml(&HostFacts {
            version: &self.version,
            phys: &phys,
            numa: &numa,
            topology: &topology,
            host_uuid: host_uuid(),
        }))
    }

    /// libxl asked for timers from its hooks: put them in the loop.
    fn move_timers(&self, core: &mut Core) {
        let due: Vec<(Instant, u64)> = self.timers_in.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default();
        for (at, key) in due {
            core.add_timer(at, TimerKey::Program { prog: 0, tag: xl::LIBXL_TAG, n: key });
        }
    }

    /// Sends queued lifecycle events to the clients registered for them.
    fn flush_events(&mut self, core: &mut Core) {
        for ev in std::mem::take(&mut self.outbox) {
            for (cid, d) in self.events.deliveries(&ev) {
                let pkt = match &d {
                    Delivery::Legacy(m) => {
                        message::event(proto::REMOTE_PROGRAM, proto::REMOTE_PROTOCOL_VERSION, PROC_DOMAIN_EVENT_LIFECYCLE, 0, m)
                    }
                    Delivery::Callback(m) => message::event(
                        proto::REMOTE_PROGRAM,
                        proto::REMOTE_PROTOCOL_VERSION,
                        proto::REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                        0,
                        m,
                    ),
                };
                match pkt {
                    Ok(buf) => core.send(cid, buf, Vec::new()),
                    Err(e) => warn!("cannot encode a lifecycle event: {e}"),
                }
            }
        }
    }

    fn take_libxl_events(&self) -> Vec<LibxlEvent> {
        self.libxl_events.lock().map(|mut q| q.drain(..).collect()).unwrap_or_default()
    }
}

const PROC_DOMAIN_EVENT_LIFECYCLE: i32 = crate::remote::procs::REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE;

/// The host UUID from /etc/machine-id (libvirt's host_uuid_source = "machine-id" form).
fn host_uuid() -> Option<String> {
    let id = std::fs::read_to_string("/etc/machine-id").ok()?;
    let id = id.trim();
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!("{}-{}-{}-{}-{}", &id[0..8], &id[8..12], &id[12..16], &id[16..20], &id[20..32]))
}

impl Program for XenDriver {
    fn ids(&self) -> &[(u32, u32)] {
        &[(proto::REMOTE_PROGRAM, proto::REMOTE_PROTOCOL_VERSION)]
    }

    /// libxl's fds, timeouts and consoles were registered as program 0: the daemon
    /// registers its main program first.
    fn registered(&mut self, id: ProgramId) {
        assert_eq!(id, 0, "virtxend's program must be the daemon's first");
        self.secondary.set_owner(id);
    }

    fn lookup(&self, _prog: u32, proc_: i32) -> Lookup {
        auth::lookup(proc_)
    }

    fn dispatch(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<std::os::fd::OwnedFd>) {
        let h = pkt.header;
        if h.type_.is_call() && h.prog == proto::REMOTE_PROGRAM && auth::is_auth_proc(h.proc_) {
            return self.auth.dispatch(core, cid, pkt);
        }
        if h.prog == proto::REMOTE_PROGRAM {
            if let Some(family) = super::forward_class::family(h.proc_) {
                let Some(conn) = self.conns.get(&cid).copied() else {
                    if h.type_.is_call() {
                        core.reply_error(
                            cid,
                            &h,
                            &proto::RemoteError::new(proto::VIR_ERR_INTERNAL_ERROR, proto::VIR_FROM_RPC, Some("connection not open")),
                        );
                    }
                    return;
                };
                self.secondary.client_packet(core, cid, family, conn.readonly, pkt, fds);
                return;
            }
            if h.proc_ == proto::REMOTE_PROC_CONNECT_CLOSE && h.type_.is_call() {
                self.secondary.drop_client(core, cid);
            }
        }
        if pkt.header.type_ == proto::MessageType::Stream {
            if !self.consoles.from_client(core, cid, &pkt) {
                debug!("stream packet for no open stream (serial {})", pkt.header.serial);
            }
            return;
        }
        if !matches!(pkt.header.type_, proto::MessageType::Call | proto::MessageType::CallWithFds) {
            return;
        }
        self.dispatch_call(core, cid, &pkt);
    }

    fn client_closed(&mut self, core: &mut Core, cid: ClientId, _why: CloseReason) {
        self.consoles.drop_client(core, cid);
        self.secondary.drop_client(core, cid);
        self.conns.remove(&cid);
        self.events.drop_client(cid);
    }

    fn aux_event(&mut self, core: &mut Core, tag: u8, index: usize, r: Readiness) {
        match tag {
            xl::LIBXL_TAG => self.ctx.osevent_fd(index, r.readable, r.writable),
            super::secondary::TAG => self.secondary.aux_event(core, index, r),
            super::console::TAG if r.readable && self.consoles.owns(index) => self.consoles.readable(core, index),
            _ => {}
        }
    }

    fn timer(&mut self, core: &mut Core, tag: u8, n: u64) {
        match tag {
            xl::LIBXL_TAG => self.ctx.osevent_timeout(n),
            super::secondary::TAG => self.secondary.timer(core, n),
            _ => {}
        }
    }

    fn after_batch(&mut self, core: &mut Core) {
        // Handling an event may call libxl, which may report more events: bounded loop.
        for _ in 0..16 {
            let evs = self.take_libxl_events();
            if evs.is_empty() {
                break;
            }
            for ev in evs {
                self.handle_libxl_event(ev);
            }
        }
        for uuid in std::mem::take(&mut self.stopped) {
            self.consoles.domain_stopped(core, &uuid);
        }
        self.move_timers(core);
        self.flush_events(core);
        self.secondary.after_batch(core);
    }

    // C: libxlStateReload
    fn reload(&mut self, core: &mut Core) {
        info!("reloading the persistent domain configurations");
        self.load_configs();
        self.after_batch(core);
    }

    fn inhibits_shutdown(&self) -> bool {
        self.doms.iter().any(|o| o.is_active() && !o.is_dom0())
    }

    fn shutdown(&mut self, core: &mut Core) {
        self.secondary.shutdown(core);
        // Running domains keep running; their watches go with the context.
        for i in 0..self.doms.len() {
            if let Some(o) = self.doms.get_mut(i) {
                o.death = None;
            }
        }
    }
}
