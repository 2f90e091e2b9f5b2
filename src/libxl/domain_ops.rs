//! The driver operations behind the REMOTE procedures of `dispatch` (libvirt's
//! libxl/libxl_driver.c: libxlConnectOpen, libxlConnectListAllDomains, libxlDomainDefineXMLFlags,
//! libxlDomainUndefineFlags, libxlDomainCreateWithFlags, libxlDomainCreateXML,
//! libxlDomainDestroyFlags, libxlDomainShutdownFlags, libxlDomainReboot, libxlDomainSuspend,
//! libxlDomainResume, libxlDomainGetXMLDesc, libxlDomainSetAutostart, libxlDomainOpenConsole,
//! libxlDomainGetInfo, libxlDomainSetMemoryFlags).

use super::capabilities;
use super::dispatch::*;
use super::domain_def::DomainState;
use super::domain_dev::{ChrType, ConsoleTarget};
use super::domain_event::*;
use super::domain_obj::DomainObj;
use super::domain_xml::{self, FormatFlags, ParseFlags};
use super::driver::{Conn, XenDriver};
use super::lifecycle::*;
use super::state_files;
use crate::remote::domain_proto::NonnullDomain;
use crate::remote::domain_proto::*;
use crate::remote::protocol::ConnectOpenArgs;
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::protocol::*;

impl XenDriver {
    // C: libxlConnectOpen
    pub(super) fn connect_open(&mut self, cid: ClientId, a: ConnectOpenArgs, readonly: bool) -> Result<(), RemoteError> {
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
    pub(super) fn list_all(&self, a: ListAllArgs) -> Result<ListAllRet, RemoteError> {
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
    pub(super) fn define(&mut self, cid: ClientId, xml: &str, flags: u32, api: &str) -> Result<DomRet, RemoteError> {
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
            RemoteError::system(
                VIR_FROM_LIBXL,
                e.raw_os_error().unwrap_or(libc::EIO),
                Some(&format!("cannot save config file '{}'", self.paths.config_file(&def.name).display())),
            )
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

    pub(super) fn check_guest_caps(&self, def: &super::domain_def::DomainDef) -> Result<(), RemoteError> {
        let os = def.os.os_type.as_str();
        let arch = def.os.arch.as_str();
        if !capabilities::supports(&self.guest_caps, os, arch) {
            return Err(RemoteError::new(
                VIR_ERR_INVALID_ARG,
                VIR_FROM_CAPABILITIES,
                Some(&format!("could not find capabilities for arch={arch} domaintype=xen ")),
            ));
        }
        // libvirt itself takes any count here and then allocates for it; refuse what Xen
        // cannot run (domain capabilities' <vcpu max>) before anything is sized by it.
        let max = capabilities::max_vcpus(def.is_hvm());
        if def.vcpu.max > max {
            return Err(err(VIR_ERR_INVALID_ARG, &super::domconfig::vcpus_over_limit(def.vcpu.max, max)));
        }
        Ok(())
    }

    // C: libxlDomainUndefineFlags
    pub(super) fn undefine(&mut self, cid: ClientId, dom: &NonnullDomain, flags: u32, api: &str) -> Result<(), RemoteError> {
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
            std::fs::remove_file(&save).map_err(|e| {
                RemoteError::system(
                    VIR_FROM_LIBXL,
                    e.raw_os_error().unwrap_or(libc::EIO),
                    Some(&format!("Failed to remove domain managed save image '{}'", save.display())),
                )
            })?;
        }
        let cfg = self.paths.config_file(&name);
        state_files::remove_if_exists(&cfg).map_err(|e| {
            RemoteError::system(
                VIR_FROM_LIBXL,
                e.raw_os_error().unwrap_or(libc::EIO),
                Some(&format!("cannot remove config {}", cfg.display())),
            )
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
    pub(super) fn create(&mut self, cid: ClientId, dom: &NonnullDomain, flags: u32, api: &str) -> Result<NonnullDomain, RemoteError> {
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
    pub(super) fn create_xml(&mut self, cid: ClientId, xml: &str, flags: u32) -> Result<DomRet, RemoteError> {
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
    pub(super) fn start_domain_keep_new(&mut self, i: usize, paused: bool) -> Result<(), RemoteError> {
        let saved = self.doms.get_mut(i).and_then(|o| o.new_def.take());
        let r = self.start_domain(i, paused);
        if let Some(o) = self.doms.get_mut(i) {
            if saved.is_some() {
                o.new_def = saved;
            }
        }
        r
    }

    // C: libxlDomainDestroyFlags
    pub(super) fn destroy(&mut self, cid: ClientId, dom: &NonnullDomain, flags: u32, api: &str) -> Result<(), RemoteError> {
        self.writable(cid, api)?;
        check_flags(flags, 0, "libxlDomainDestroyFlags")?;
        let i = self.active_not_dom0(dom)?;
        let ev = LifecycleEvent::of(self.obj(i)?, EVENT_STOPPED, STOPPED_DESTROYED);
        self.destroy_domain(i, SHUTOFF_DESTROYED)?;
        self.outbox.push(ev);
        Ok(())
    }

    // C: libxlDomainShutdownFlags
    pub(super) fn shutdown(&mut self, cid: ClientId, dom: &NonnullDomain, flags: u32, api: &str) -> Result<(), RemoteError> {
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
    pub(super) fn reboot(&mut self, cid: ClientId, dom: &NonnullDomain, flags: u32) -> Result<(), RemoteError> {
        self.writable(cid, "virDomainReboot")?;
        check_flags(flags, SHUTDOWN_PARAVIRT, "libxlDomainReboot")?;
        let i = self.active_not_dom0(dom)?;
        let o = self.obj(i)?;
        self.ctx
            .domain_reboot(o.id() as u32)
            .map_err(|_| err(VIR_ERR_OPERATION_FAILED, &format!("Failed to reboot domain '{}' with libxenlight", o.def.name)))
    }

    // C: libxlDomainSuspend
    pub(super) fn suspend(&mut self, cid: ClientId, dom: &NonnullDomain) -> Result<(), RemoteError> {
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
    pub(super) fn resume(&mut self, cid: ClientId, dom: &NonnullDomain) -> Result<(), RemoteError> {
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
    pub(super) fn xml_desc(&self, cid: ClientId, dom: &NonnullDomain, flags: u32) -> Result<StringRet, RemoteError> {
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
    pub(super) fn set_autostart(&mut self, cid: ClientId, dom: &NonnullDomain, on: bool) -> Result<(), RemoteError> {
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
                RemoteError::system(
                    VIR_FROM_LIBXL,
                    e.raw_os_error().unwrap_or(libc::EIO),
                    Some(&format!("{what} '{}'", self.paths.autostart_link(&name).display())),
                )
            })?;
            if let Some(o) = self.doms.get_mut(i) {
                o.autostart = on;
            }
        }
        Ok(())
    }

    // C: libxlDomainOpenConsole
    pub(super) fn open_console(&mut self, core: &mut Core, cid: ClientId, serial: u32, a: OpenConsoleArgs) -> Result<(), RemoteError> {
        self.writable(cid, "virDomainOpenConsole")?;
        check_flags(a.flags, super::console::CONSOLE_FORCE, "libxlDomainOpenConsole")?;
        let i = self.active_not_dom0(&a.dom)?;
        let o = self.obj(i)?;
        let dev = &o.def.devices;
        // A named device is a serial port by its alias; else the first console (the HVM
        // one that stands for serial port 0 is that port).
        let chr = match &a.dev_name {
            Some(n) => dev.serials.iter().find(|s| s.alias.as_deref() == Some(n.as_str())),
            None => match dev.consoles.first() {
                Some(c) if c.console_target == Some(ConsoleTarget::Serial) => dev.serials.first(),
                other => other,
            },
        };
        let Some(chr) = chr else {
            return Err(err(
                VIR_ERR_INTERNAL_ERROR,
                &format!("cannot find character device {}", a.dev_name.as_deref().unwrap_or("<null>")),
            ));
        };
        let path = match (&chr.path, chr.chr_type) {
            (Some(p), ChrType::Pty) => p.clone(),
            _ => {
                let dev = a.dev_name.as_deref().or(chr.alias.as_deref()).unwrap_or("<null>");
                return Err(err(VIR_ERR_INTERNAL_ERROR, &format!("character device {dev} is not using a PTY")));
            }
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
    pub(super) fn info(&self, dom: &NonnullDomain) -> Result<DomainInfoRet, RemoteError> {
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
    pub(super) fn set_memory(&mut self, cid: ClientId, dom: &NonnullDomain, kib: u64, flags: u32, api: &str) -> Result<(), RemoteError> {
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
            let r = if maximum {
                self.ctx.set_max_memory(domid as u32, kib)
            } else {
                self.ctx.set_memory_target(domid as u32, kib as i64, false, true)
            };
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
            self.save_config(&def)
                .map_err(|e| RemoteError::system(VIR_FROM_LIBXL, e.raw_os_error().unwrap_or(libc::EIO), Some("cannot save config file")))?;
        }
        if live {
            self.save_status(i);
        }
        Ok(())
    }
    // C: libxlConnectGetDomainCapabilities
    pub(super) fn domain_capabilities(&self, a: DomainCapsArgs) -> Result<StringRet, RemoteError> {
        check_flags(a.flags, 0, "libxlConnectGetDomainCapabilities")?;
        if let Some(v) = a.virttype.as_deref().filter(|v| !v.eq_ignore_ascii_case("xen")) {
            return Err(err(VIR_ERR_INVALID_ARG, &format!("unknown virttype: {v}")));
        }
        let arch = a.arch.unwrap_or_else(|| capabilities::host_arch().to_string());
        let machine = a.machine.unwrap_or_else(|| "xenpv".to_string());
        if !matches!(machine.as_str(), "xenpv" | "xenpvh" | "xenfv") {
            return Err(err(VIR_ERR_INVALID_ARG, "Xen only supports 'xenpv', 'xenpvh' and 'xenfv' machines"));
        }
        let os = if machine == "xenpv" { "xen" } else { "hvm" };
        if !capabilities::supports(&self.guest_caps, os, &arch) {
            return Err(err(VIR_ERR_INVALID_ARG, &format!("unable to find any emulator to serve '{arch}' architecture")));
        }
        let emulator = a.emulatorbin.unwrap_or_else(|| capabilities::XEN_EMULATOR.to_string());
        Ok(StringRet { s: capabilities::domain_capabilities_xml(&emulator, &machine, &arch) })
    }
}
