//! Starting, stopping and watching domains (libvirt's libxl/libxl_domain.c: libxlDomainStart,
//! libxlDomainCleanup, libxlDomainShutdownHandler, libxlDomainEventHandler, and the
//! lifecycle parts of libxl_driver.c).

use log::{debug, info, warn};

use super::domain_def::{DomainState, LifecycleAction};
use super::domain_dev::{ChrType, ConsoleTarget};
use super::domain_event::*;
use super::domain_xml::{self, FormatFlags};
use super::domconfig;
use super::driver::{XenDriver, USERDATA_KEY};
use super::state_files;
use crate::libxl_ffi::{ConsoleType, DomainConfig, LibxlError, LibxlEvent, ShutdownReason};
use crate::rpc::protocol::{RemoteError, VIR_ERR_INTERNAL_ERROR, VIR_ERR_OPERATION_FAILED, VIR_ERR_OPERATION_INVALID, VIR_FROM_LIBXL};

// Reasons (indexes into DomainState::reasons()).
pub const RUNNING_BOOTED: i32 = 1;
pub const RUNNING_UNPAUSED: i32 = 5;
pub const PAUSED_USER: i32 = 1;
pub const SHUTOFF_SHUTDOWN: i32 = 1;
pub const SHUTOFF_DESTROYED: i32 = 2;
pub const SHUTOFF_CRASHED: i32 = 3;

pub fn libxl_err(what: &str, e: &LibxlError) -> RemoteError {
    RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LIBXL, Some(&format!("{what}: {e}")))
}

pub fn op_invalid(text: &str) -> RemoteError {
    RemoteError::new(VIR_ERR_OPERATION_INVALID, VIR_FROM_LIBXL, Some(text))
}

impl XenDriver {
    /// Creates the domain at index `i` from its persistent definition and watches it.
    // C: libxlDomainStart
    pub(super) fn start_domain(&mut self, i: usize, paused: bool) -> Result<(), RemoteError> {
        let Some(obj) = self.doms.get_mut(i) else { return Err(op_invalid("no such domain")) };
        if obj.is_active() {
            return Err(op_invalid("Domain is already active"));
        }
        if let Some(nd) = obj.new_def.take() {
            obj.def = nd;
        }
        let def = obj.def.clone();
        let env = domconfig::BuildEnv { host_cpus: self.ctx.max_cpus().ok(), ..Default::default() };
        let json = domconfig::build_domain_config_json(&def, &env).map_err(RemoteError::from)?;
        self.log_domain_start(&def.name, &json);
        let mut cfg =
            DomainConfig::from_json(&self.ctx, &json).map_err(|e| libxl_err("libxenlight failed to parse the domain configuration", &e))?;
        let xml = domain_xml::format_domain_xml(&def, None, FormatFlags { inactive: true, secure: true, ..Default::default() });
        let domid = match self.ctx.domain_create_new(&mut cfg) {
            Ok(d) => d,
            Err(e) => {
                return Err(RemoteError::new(
                    VIR_ERR_INTERNAL_ERROR,
                    VIR_FROM_LIBXL,
                    Some(&format!("libxenlight failed to create new domain '{}': {e}", def.name)),
                ))
            }
        };
        if let Err(e) = self.ctx.userdata_store(domid, USERDATA_KEY, xml.as_bytes()) {
            warn!("cannot store the XML of domain '{}' with libxl: {e}", def.name);
        }
        let death = match self.ctx.enable_domain_death(domid, u64::from(domid)) {
            Ok(w) => Some(w),
            Err(e) => {
                let _ = self.ctx.domain_destroy(domid);
                return Err(libxl_err("cannot watch the new domain", &e));
            }
        };
        if !paused {
            if let Err(e) = self.ctx.domain_unpause(domid) {
                drop(death);
                let _ = self.ctx.domain_destroy(domid);
                return Err(libxl_err(&format!("libxenlight failed to unpause domain '{}'", def.name), &e));
            }
        }
        let Some(obj) = self.doms.get_mut(i) else { return Ok(()) };
        obj.def.id = domid as i32;
        obj.death = death;
        // Live changes (memory, consoles, id) go to the running definition only; the
        // persistent one is kept apart until the domain stops (virDomainObjSetDefTransient).
        if obj.persistent {
            let mut persistent = def.clone();
            persistent.id = -1;
            obj.new_def = Some(persistent);
        }
        if paused {
            obj.set_state(DomainState::Paused, PAUSED_USER);
        } else {
            obj.set_state(DomainState::Running, RUNNING_BOOTED);
        }
        self.fill_console_paths(i);
        self.save_status(i);
        if let Some(obj) = self.doms.get(i) {
            info!("started domain '{}' with id {domid}", obj.def.name);
            self.outbox.push(LifecycleEvent::of(obj, EVENT_STARTED, STARTED_BOOTED));
            if paused {
                self.outbox.push(LifecycleEvent::of(obj, EVENT_SUSPENDED, SUSPENDED_PAUSED));
            }
        }
        Ok(())
    }

    /// Appends the configuration handed to libxl to /var/log/libvirt/libxl/NAME.log, as
    /// libvirt's driver starts each domain's log.
    // C: libxlDomainStart (the "Domain start" log line)
    fn log_domain_start(&self, name: &str, json: &str) {
        use std::io::Write as _;
        let path = self.paths.log_dir.join(format!("{name}.log"));
        let line =
            format!("{}: Domain start: {}\n", crate::util::log::format_timestamp(std::time::SystemTime::now()), json.replace('\n', " "));
        let res = std::fs::OpenOptions::new().create(true).append(true).open(&path).and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = res {
            warn!("cannot write {}: {e}", path.display());
        }
    }

    /// Puts the pty paths libxl allocated into the live XML: the consoles (the HVM console
    /// that stands for serial port 0 through that port), then every serial port, which
    /// also gets its alias `serialN` (what `virsh console --devname` and virt-manager name).
    // C: libxlConsoleCallback
    fn fill_console_paths(&mut self, i: usize) {
        let Some(obj) = self.doms.get(i) else { return };
        let domid = obj.def.id as u32;
        let dev = &obj.def.devices;
        // (is a serial port, index in its list, port)
        let mut wanted: Vec<(bool, usize, i32)> = Vec::new();
        for (n, c) in dev.consoles.iter().enumerate() {
            if n == 0 && c.console_target == Some(ConsoleTarget::Serial) {
                if let Some(s) = dev.serials.first().filter(|s| s.chr_type == ChrType::Pty) {
                    wanted.push((true, 0, s.port));
                }
            } else if c.chr_type == ChrType::Pty {
                wanted.push((false, n, c.port));
            }
        }
        for (n, s) in dev.serials.iter().enumerate() {
            if s.chr_type == ChrType::Pty && !wanted.contains(&(true, n, s.port)) {
                wanted.push((true, n, s.port));
            }
        }
        let mut paths = Vec::new();
        for (serial, n, port) in wanted {
            let kind = if serial { ConsoleType::Serial } else { ConsoleType::Pv };
            if let Ok(p) = self.ctx.console_tty(domid, port.max(0) as u32, kind) {
                paths.push((serial, n, p));
            }
        }
        let Some(obj) = self.doms.get_mut(i) else { return };
        for (n, s) in obj.def.devices.serials.iter_mut().enumerate() {
            s.alias = Some(format!("serial{n}"));
        }
        for (serial, n, p) in paths {
            let list = if serial { &mut obj.def.devices.serials } else { &mut obj.def.devices.consoles };
            if let Some(c) = list.get_mut(n) {
                c.path = Some(p).filter(|p| !p.is_empty());
            }
        }
    }

    /// Forgets the running side of domain `i`: status file, watch, id; a transient domain
    /// is removed. Returns whether the object still exists at `i`.
    // C: libxlDomainCleanup
    pub(super) fn cleanup(&mut self, i: usize, state: DomainState, reason: i32) -> bool {
        let Some(obj) = self.doms.get_mut(i) else { return false };
        obj.death = None;
        obj.def.id = -1;
        obj.set_state(state, reason);
        let dev = &mut obj.def.devices;
        for c in dev.consoles.iter_mut().chain(dev.serials.iter_mut()) {
            if c.chr_type == ChrType::Pty {
                c.path = None;
            }
        }
        for s in dev.serials.iter_mut() {
            s.alias = s.alias.take().filter(|a| a.starts_with("ua-"));
        }
        let name = obj.def.name.clone();
        self.stopped.push(obj.def.uuid);
        let _ = state_files::remove_if_exists(&self.paths.status_file(&name));
        if !obj.persistent {
            self.doms.remove(i);
            return false;
        }
        if let Some(nd) = obj.new_def.take() {
            obj.def = nd;
        }
        true
    }

    /// Destroys domain `i` and cleans up (API destroy, or an on_* action).
    // C: libxlDomainDestroyInternal + libxlDomainCleanup
    pub(super) fn destroy_domain(&mut self, i: usize, reason: i32) -> Result<bool, RemoteError> {
        let Some(obj) = self.doms.get_mut(i) else { return Ok(false) };
        let domid = obj.def.id as u32;
        obj.death = None;
        if let Err(e) = self.ctx.domain_destroy(domid) {
            if !e.is_domain_not_found() {
                return Err(RemoteError::new(
                    VIR_ERR_OPERATION_FAILED,
                    VIR_FROM_LIBXL,
                    Some(&format!("Failed to destroy domain '{}'", obj.def.name)),
                ));
            }
        }
        Ok(self.cleanup(i, DomainState::Shutoff, reason))
    }

    /// A libxl event for one of our domains.
    // C: libxlDomainEventHandler, libxlDomainShutdownHandler
    pub(super) fn handle_libxl_event(&mut self, ev: LibxlEvent) {
        let domid = ev.domid();
        let Some(i) = self.doms.by_id(domid as i32) else {
            debug!("libxl event for domain id {domid} we do not manage: {ev:?}");
            return;
        };
        match ev {
            LibxlEvent::Shutdown { reason, .. } => self.handle_shutdown(i, reason),
            LibxlEvent::Death { .. } => {
                let Some(obj) = self.doms.get(i) else { return };
                self.outbox.push(LifecycleEvent::of(obj, EVENT_STOPPED, STOPPED_DESTROYED));
                info!("domain '{}' (id {domid}) died", obj.def.name);
                self.cleanup(i, DomainState::Shutoff, SHUTOFF_DESTROYED);
            }
            other => debug!("ignoring libxl event {other:?}"),
        }
    }

    fn handle_shutdown(&mut self, i: usize, reason: ShutdownReason) {
        let Some(obj) = self.doms.get_mut(i) else { return };
        let (action, detail, state_reason) = match reason {
            ShutdownReason::Poweroff => (obj.def.on_poweroff, STOPPED_SHUTDOWN, SHUTOFF_SHUTDOWN),
            ShutdownReason::Reboot => (obj.def.on_reboot, STOPPED_SHUTDOWN, SHUTOFF_SHUTDOWN),
            ShutdownReason::Crash => (obj.def.on_crash, STOPPED_CRASHED, SHUTOFF_CRASHED),
            ShutdownReason::Suspend => return,
            other => {
                warn!("Unhandled shutdown_reason {other:?} of domain '{}'", obj.def.name);
                return;
            }
        };
        let name = obj.def.name.clone();
        info!("domain '{name}' shut down ({reason:?}); action {}", action.as_str());
        obj.set_state(DomainState::Shutoff, state_reason);
        self.outbox.push(LifecycleEvent::of(obj, EVENT_STOPPED, detail));
        match action {
            LifecycleAction::Destroy => {
                let _ = self.destroy_domain(i, state_reason);
            }
            LifecycleAction::Restart | LifecycleAction::RenameRestart => {
                let persistent = obj.persistent;
                let keep = obj.def.clone();
                let _ = self.destroy_domain(i, state_reason);
                // A transient domain is gone after cleanup: put it back to restart it.
                let idx = match self.doms.by_name(&name) {
                    Some(j) => j,
                    None if !persistent => {
                        self.doms.push(super::domain_obj::DomainObj::new(super::domain_def::DomainDef { id: -1, ..keep }, false))
                    }
                    None => return,
                };
                if let Err(e) = self.start_domain(idx, false) {
                    warn!("Failed to restart VM '{name}': {}", e.message.as_deref().unwrap_or(""));
                    if let Some(obj) = self.doms.get(idx) {
                        self.outbox.push(LifecycleEvent::of(obj, EVENT_STOPPED, STOPPED_FAILED));
                        if !obj.persistent {
                            self.doms.remove(idx);
                        }
                    }
                }
            }
            LifecycleAction::CoredumpDestroy => {
                warn!("core dumps are not supported: destroying '{name}' without one");
                let _ = self.destroy_domain(i, state_reason);
            }
            LifecycleAction::CoredumpRestart => {
                warn!("core dumps are not supported: restarting '{name}' without one");
                let _ = self.destroy_domain(i, state_reason);
                if let Some(j) = self.doms.by_name(&name) {
                    let _ = self.start_domain(j, false);
                }
            }
            LifecycleAction::Preserve => self.save_status(i),
        }
    }
}
