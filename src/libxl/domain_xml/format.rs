//! Writing a DomainDef back as XML: the domain-level elements, in the order and layout of
//! virDomainDefFormatInternal (conf/domain_conf.c). Devices are in `format_dev`.
use super::format_dev;
use super::FormatFlags;
use crate::libxl::domain_def::*;
use crate::libxl::xml_writer::{Attrs, XmlWriter};

/// The `<domain>` document, `id` set for a running domain (left out with `inactive`).
// C: virDomainDefFormat
pub fn format_domain_xml(def: &DomainDef, id: Option<i32>, flags: FormatFlags) -> String {
    let mut w = XmlWriter::new();
    format_domain_into(&mut w, def, id, flags);
    w.into_string()
}

/// Writes `<domain>` at the writer's current indentation (status XML nests it).
// C: virDomainDefFormatInternal
pub(crate) fn format_domain_into(w: &mut XmlWriter, def: &DomainDef, id: Option<i32>, flags: FormatFlags) {
    let id = id.filter(|i| *i >= 0 && !flags.inactive);
    w.block("domain", Attrs::new().add("type", "xen").opt("id", id), |w| {
        w.text("name", Attrs::new(), &def.name);
        w.text("uuid", Attrs::new(), &def.uuid_string());
        w.opt_text("title", def.title.as_deref());
        w.opt_text("description", def.description.as_deref());
        if !def.metadata.is_empty() {
            w.block("metadata", Attrs::new(), |w| {
                for el in &def.metadata {
                    w.foreign(el);
                }
            });
        }
        w.text("memory", Attrs::new().add("unit", "KiB"), &def.memory_kib.to_string());
        w.text("currentMemory", Attrs::new().add("unit", "KiB"), &def.current_memory_kib.to_string());
        format_vcpu(w, &def.vcpu);
        w.opt_text("bootloader", def.os.bootloader.as_deref());
        w.opt_text("bootloader_args", def.os.bootloader_args.as_deref());
        format_os(w, &def.os);
        format_features(w, &def.features);
        format_clock(w, &def.clock);
        w.text("on_poweroff", Attrs::new(), def.on_poweroff.as_str());
        w.text("on_reboot", Attrs::new(), def.on_reboot.as_str());
        w.text("on_crash", Attrs::new(), def.on_crash.as_str());
        format_dev::format_devices(w, def, flags);
    });
}

// C: virDomainCpuDefFormat (the <vcpu> part)
fn format_vcpu(w: &mut XmlWriter, v: &VcpuDef) {
    let cpuset = v.cpuset.as_ref().filter(|_| v.placement == Placement::Static).map(|b| b.format());
    let current = (v.current != v.max).then_some(v.current);
    let attrs = Attrs::new().add("placement", v.placement.as_str()).opt("cpuset", cpuset).opt("current", current);
    w.text("vcpu", attrs, &v.max.to_string());
}

fn format_os(w: &mut XmlWriter, os: &OsDef) {
    let type_text = if os.os_type == OsType::Xen { OsType::Linux.as_str() } else { os.os_type.as_str() };
    let machine = os.machine.clone().unwrap_or_else(|| default_machine(os.os_type).to_owned());
    w.block("os", Attrs::new().opt("firmware", os.firmware.map(Firmware::as_str)), |w| {
        w.text("type", Attrs::new().add("arch", os.arch.as_str()).add("machine", machine), type_text);
        if let Some(l) = &os.loader {
            let attrs = Attrs::new()
                .opt("readonly", l.readonly.map(YesNo::as_str))
                .opt("secure", l.secure.map(YesNo::as_str))
                .opt("type", l.loader_type.map(LoaderType::as_str));
            match &l.path {
                Some(p) => w.text("loader", attrs, p),
                None => w.empty("loader", attrs),
            }
        }
        w.opt_text("kernel", os.kernel.as_deref());
        w.opt_text("initrd", os.initrd.as_deref());
        w.opt_text("cmdline", os.cmdline.as_deref());
        for b in &os.boot_devs {
            w.empty("boot", Attrs::new().add("dev", b.as_str()));
        }
        if let Some(m) = &os.bootmenu {
            w.empty("bootmenu", Attrs::new().add("enable", m.enable.as_str()).opt("timeout", m.timeout));
        }
    });
}

/// The machine the Xen capabilities give each OS type (libxl_capabilities.c).
pub fn default_machine(os_type: OsType) -> &'static str {
    match os_type {
        OsType::Hvm => "xenfv",
        OsType::XenPvh => "xenpvh",
        OsType::Xen | OsType::Linux => "xenpv",
    }
}

// C: virDomainDefFormatFeatures
fn format_features(w: &mut XmlWriter, f: &Features) {
    if *f == Features::default() {
        return;
    }
    w.elem("features", Attrs::new(), |w| {
        if f.acpi {
            w.empty("acpi", Attrs::new());
        }
        if let Some(eoi) = f.apic {
            w.empty("apic", Attrs::new().opt("eoi", eoi.map(Switch::as_str)));
        }
        if f.pae {
            w.empty("pae", Attrs::new());
        }
        if let Some(hap) = f.hap {
            w.empty("hap", Attrs::new().add("state", hap.as_str()));
        }
        if f.viridian {
            w.empty("viridian", Attrs::new());
        }
        if let Some(x) = &f.xen {
            w.elem("xen", Attrs::new(), |w| {
                if let Some(s) = x.e820_host {
                    w.empty("e820_host", Attrs::new().add("state", s.as_str()));
                }
                if let Some((s, mode)) = x.passthrough {
                    w.empty("passthrough", Attrs::new().add("state", s.as_str()).opt("mode", mode.map(PassthroughMode::as_str)));
                }
            });
        }
    });
}

// C: virDomainClockDefFormat
fn format_clock(w: &mut XmlWriter, c: &ClockDef) {
    let attrs = match &c.offset {
        ClockOffset::Utc { reset } => Attrs::new().add("offset", "utc").opt("adjustment", reset.then_some("reset")),
        ClockOffset::Localtime { reset } => Attrs::new().add("offset", "localtime").opt("adjustment", reset.then_some("reset")),
        ClockOffset::Variable { adjustment, basis } => {
            Attrs::new().add("offset", "variable").add("adjustment", adjustment).add("basis", basis.as_str())
        }
        ClockOffset::Timezone(tz) => Attrs::new().add("offset", "timezone").add("timezone", tz),
        ClockOffset::Absolute(start) => Attrs::new().add("offset", "absolute").add("start", start),
    };
    w.elem("clock", attrs, |w| {
        for t in &c.timers {
            let attrs = Attrs::new()
                .add("name", t.name.as_str())
                .opt("present", t.present.map(YesNo::as_str))
                .opt("tickpolicy", t.tickpolicy.map(TimerTickpolicy::as_str))
                .opt("track", t.track.map(TimerTrack::as_str))
                .opt("frequency", t.frequency)
                .opt("mode", t.mode.map(TimerMode::as_str));
            w.empty("timer", attrs);
        }
    });
}
