//! DomainDef -> libxl_domain_config JSON, the JSON libxl_domain_config_from_json reads
//! (Xen 4.17 field names from libxl_types.idl), following libxlBuildDomainConfig and the
//! libxlMake* helpers of libvirt's libxl/libxl_conf.c, with their error texts. virtxend
//! hands the result to real libxl instead of filling the C struct field by field.
pub mod json;

#[cfg(test)]
mod tests;

use self::json::Json;
use super::conf_util::{mac_format, uuid_format};
use super::domain_def::*;
use super::domain_dev::*;
use super::error::ConfError;
use crate::rpc::protocol::{VIR_ERR_INVALID_ARG, VIR_ERR_NO_SUPPORT, VIR_ERR_OPERATION_INVALID, VIR_FROM_LIBXL};

/// First VNC port; libxl's vnc display number counts from it (LIBXL_VNC_PORT_MIN).
pub const LIBXL_VNC_PORT_MIN: i32 = 5900;

/// What the builder needs from the host and libxl.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildEnv {
    /// The PV bootloader used when a PV domain has neither `<bootloader>` nor `<kernel>`
    /// (LIBXL_BOOTLOADER_PATH).
    pub bootloader_path: String,
    /// VNC listen address when the definition gives none (VIR_LOOPBACK_IPV4_ADDR).
    pub vnc_listen: String,
    /// The host's CPU count (libxl_get_max_cpus): affinity maps hold no CPU beyond it, as
    /// libxl_cpu_bitmap_alloc sizes them. None: keep every CPU the definition names.
    pub host_cpus: Option<u32>,
}

impl Default for BuildEnv {
    fn default() -> Self {
        BuildEnv { bootloader_path: "pygrub".to_owned(), vnc_listen: "127.0.0.1".to_owned(), host_cpus: None }
    }
}

/// The libxl_domain_config JSON for `def`.
///
/// VNC: a `<graphics type='vnc'>` whose port is below 5900 (autoport not yet resolved by
/// the caller) gets `findunused` so that libxl picks a free display itself.
// C: libxlBuildDomainConfig
pub fn build_domain_config_json(def: &DomainDef, env: &BuildEnv) -> Result<String, ConfError> {
    Ok(build_domain_config(def, env)?.to_pretty())
}

/// The libxl_domain_config as a JSON value.
pub fn build_domain_config(def: &DomainDef, env: &BuildEnv) -> Result<Json, ConfError> {
    let mut cfg = Json::obj();
    cfg.set("c_info", make_create_info(def));
    let vfbs = make_vfb_list(def, env);
    cfg.set("b_info", make_build_info(def, env, &vfbs)?);
    let disks = def.devices.disks.iter().map(make_disk).collect::<Result<Vec<_>, _>>()?;
    if !disks.is_empty() {
        cfg.set("disks", Json::Array(disks));
    }
    let mut nics = Vec::new();
    for (i, n) in def.devices.nets.iter().enumerate() {
        nics.push(make_nic(def, n, i)?);
    }
    if !nics.is_empty() {
        cfg.set("nics", Json::Array(nics));
    }
    if !vfbs.is_empty() {
        let vkbs = vfbs.iter().map(|_| Json::obj()).collect();
        cfg.set("vfbs", Json::Array(vfbs));
        cfg.set("vkbs", Json::Array(vkbs));
    }
    cfg.set_str("on_poweroff", action(def.on_poweroff));
    cfg.set_str("on_reboot", action(def.on_reboot));
    cfg.set_str("on_crash", action(def.on_crash));
    Ok(cfg)
}

/// libxl_action_on_shutdown spelling of a lifecycle action.
// C: libxlActionFromVirLifecycle
fn action(a: LifecycleAction) -> &'static str {
    match a {
        LifecycleAction::Destroy => "destroy",
        LifecycleAction::Restart => "restart",
        LifecycleAction::RenameRestart => "restart_rename",
        LifecycleAction::Preserve => "preserve",
        LifecycleAction::CoredumpDestroy => "coredump_destroy",
        LifecycleAction::CoredumpRestart => "coredump_restart",
    }
}

fn domain_type(def: &DomainDef) -> &'static str {
    match def.os.os_type {
        OsType::Hvm => "hvm",
        OsType::XenPvh => "pvh",
        OsType::Xen | OsType::Linux => "pv",
    }
}

// C: libxlMakeDomCreateInfo
fn make_create_info(def: &DomainDef) -> Json {
    let mut c = Json::obj();
    c.set_str("type", domain_type(def));
    if !def.is_pv() {
        if let Some(hap) = def.features.hap {
            c.set_defbool("hap", hap == Switch::On);
        }
    }
    c.set_str("name", def.name.as_str());
    c.set_str("uuid", uuid_format(&def.uuid));
    if let Some((state, mode)) = def.features.xen.as_ref().and_then(|x| x.passthrough) {
        let v = match (state, mode) {
            (Switch::Off, _) => "disabled",
            (Switch::On, Some(PassthroughMode::SyncPt)) => "sync_pt",
            (Switch::On, Some(PassthroughMode::SharePt)) => "share_pt",
            (Switch::On, None) => "enabled",
        };
        c.set_str("passthrough", v);
    }
    c
}

fn unsupported(detail: String) -> ConfError {
    ConfError::libxl_unsupported(detail)
}

/// 1 MiB multiple at or above `kib` (Xen allocates in MiB).
fn round_up_mib(kib: u64) -> u64 {
    kib.div_ceil(1024).saturating_mul(1024)
}

/// The refusal of a definition with more vCPUs than its kind of guest may have.
// C: libxlDomainSetVcpusFlags ("requested vcpus is greater than max allowable vcpus")
pub fn vcpus_over_limit(n: u32, max: u32) -> String {
    format!("requested vcpus is greater than max allowable vcpus for the domain: {n} > {max}")
}

/// A libxl_bitmap as JSON: the list of set bits.
fn bitmap(bits: impl Iterator<Item = u32>) -> Json {
    Json::Array(bits.map(|b| Json::Int(i64::from(b))).collect())
}

// C: libxlMakeDomBuildInfo
fn make_build_info(def: &DomainDef, env: &BuildEnv, vfbs: &[Json]) -> Result<Json, ConfError> {
    let hvm = def.is_hvm();
    let pvh = def.os.os_type == OsType::XenPvh;
    // The vCPU count sizes the bitmaps and affinity lists below: never above Xen's limit.
    let max = super::capabilities::max_vcpus(hvm);
    if def.vcpu.max > max {
        return Err(ConfError::new(VIR_ERR_INVALID_ARG, VIR_FROM_LIBXL, vcpus_over_limit(def.vcpu.max, max)));
    }
    let mut b = Json::obj();
    b.set_int("max_vcpus", i64::from(def.vcpu.max));
    b.set("avail_vcpus", bitmap(0..def.vcpus()));
    // C: libxlSetVcpuAffinities (cpuset of <vcpu> applies to every vCPU)
    if let Some(set) = def.vcpu.cpuset.as_ref().filter(|_| def.vcpu.placement == Placement::Static) {
        // C: virBitmapToDataBuf into a map of the host's size (bits beyond it are dropped)
        let one = bitmap(set.bits().iter().copied().filter(|&c| !matches!(env.host_cpus, Some(n) if c >= n)));
        b.set("vcpu_hard_affinity", Json::Array(vec![one; def.vcpu.max as usize]));
        b.set_defbool("numa_placement", false);
    }

    match &def.clock.offset {
        ClockOffset::Variable { adjustment, basis } => {
            if *basis == ClockBasis::Localtime {
                b.set_defbool("localtime", true);
            }
            // libxl keeps the offset in a uint32_t: negative values wrap as in C.
            b.set_int("rtc_timeoffset", i64::from(*adjustment as u32));
        }
        ClockOffset::Localtime { .. } => b.set_defbool("localtime", true),
        ClockOffset::Utc { .. } => {}
        ClockOffset::Timezone(_) => return Err(unsupported("unsupported clock offset 'timezone'".into())),
        ClockOffset::Absolute(_) => return Err(unsupported("unexpected clock offset '4'".into())),
    }
    let mut hpet = None;
    for t in &def.clock.timers {
        match t.name {
            TimerName::Tsc => {
                let mode = match t.mode {
                    Some(TimerMode::Native) => Some("native"),
                    Some(TimerMode::Paravirt) => Some("native_paravirt"),
                    Some(TimerMode::Emulate) => Some("always_emulate"),
                    Some(TimerMode::Auto | TimerMode::Smpsafe) | None => Some("default"),
                };
                if let Some(m) = mode {
                    b.set_str("tsc_mode", m);
                }
            }
            TimerName::Hpet if hvm => {
                if t.present == Some(YesNo::Yes) {
                    hpet = Some(true);
                }
            }
            name => {
                return Err(unsupported(format!("unsupported timer type (name) '{}'", name.as_str())));
            }
        }
    }

    let max_memkb = round_up_mib(def.memory_kib);
    b.set_int("max_memkb", max_memkb as i64);
    b.set_int("target_memkb", round_up_mib(def.current_memory_kib) as i64);
    for c in def.devices.controllers.iter().filter(|c| c.ctrl_type == ControllerType::Xenbus) {
        if let Some(n) = c.max_event_channels.filter(|n| *n > 0) {
            b.set_int("event_channels", i64::from(n));
        }
        if let Some(n) = c.max_grant_frames.filter(|n| *n > 0) {
            b.set_int("max_grant_frames", i64::from(n));
        }
    }

    if hvm {
        make_hvm_info(def, vfbs, hpet, &mut b)?;
    } else if pvh {
        b.set_opt_str("cmdline", def.os.cmdline.as_deref());
        b.set_opt_str("kernel", def.os.kernel.as_deref());
        b.set_opt_str("ramdisk", def.os.initrd.as_deref());
        b.set_opt_str("bootloader", def.os.bootloader.as_deref());
        if let Some(args) = &def.os.bootloader_args {
            b.set("bootloader_args", split_args(args));
        }
        b.set("type.pvh", Json::obj());
    } else {
        let mut pv = Json::obj();
        if let Some(bl) = &def.os.bootloader {
            pv.set_str("bootloader", bl.as_str());
        } else if def.os.kernel.is_none() {
            pv.set_str("bootloader", env.bootloader_path.as_str());
        }
        if let Some(args) = &def.os.bootloader_args {
            pv.set("bootloader_args", split_args(args));
        }
        pv.set_opt_str("cmdline", def.os.cmdline.as_deref());
        pv.set_opt_str("kernel", def.os.kernel.as_deref());
        pv.set_opt_str("ramdisk", def.os.initrd.as_deref());
        if let Some(e820) = def.features.xen.as_ref().and_then(|x| x.e820_host) {
            pv.set_defbool("e820_host", e820 == Switch::On);
        }
        b.set("type.pv", pv);
    }

    if let Some(m) = &def.devices.memballoon {
        match m.model {
            MemballoonModel::Xen => {}
            MemballoonModel::Virtio => return Err(unsupported("unsupported balloon device model 'virtio'".into())),
            MemballoonModel::None => return Err(unsupported("balloon device cannot be disabled".into())),
        }
    }

    // C: libxl_get_required_shadow_memory (libxl_utils.c, Xen 4.17)
    let shadow = 4 * (256 * u64::from(def.vcpu.max) + 2 * (max_memkb / 1024));
    b.set_int("shadow_memkb", shadow as i64);
    b.set("sched_params", Json::obj());
    Ok(b)
}

/// Bootloader arguments split on blanks, empty pieces dropped.
fn split_args(args: &str) -> Json {
    Json::Array(args.split([' ', '\t', '\n']).filter(|s| !s.is_empty()).map(|s| Json::Str(s.to_owned())).collect())
}

/// The HVM part of the build info: features, boot order, firmware, device model,
/// serial ports, USB inputs, video and the display copied from the first vfb.
fn make_hvm_info(def: &DomainDef, vfbs: &[Json], hpet: Option<bool>, b: &mut Json) -> Result<(), ConfError> {
    let mut h = Json::obj();
    h.set_defbool("pae", def.features.pae);
    b.set_defbool("apic", def.features.apic.is_some());
    b.set_defbool("acpi", def.features.acpi);
    if def.features.viridian {
        h.set_defbool("viridian", true);
    }
    if let Some(v) = hpet {
        h.set_defbool("hpet", v);
    }
    let boot: String = if def.os.boot_devs.is_empty() {
        "c".to_owned()
    } else {
        def.os
            .boot_devs
            .iter()
            .map(|d| match d {
                BootDev::Floppy => 'a',
                BootDev::Disk => 'c',
                BootDev::Cdrom => 'd',
                BootDev::Network => 'n',
            })
            .collect()
    };
    h.set_str("boot", boot);
    b.set_opt_str("cmdline", def.os.cmdline.as_deref());
    b.set_opt_str("kernel", def.os.kernel.as_deref());
    b.set_opt_str("ramdisk", def.os.initrd.as_deref());

    let loader = def.os.loader.as_ref();
    if def.os.firmware == Some(Firmware::Efi) {
        h.set_str("bios", "ovmf");
        h.set_opt_str("system_firmware", loader.and_then(|l| l.path.as_deref()));
    } else if let Some(path) = loader.filter(|l| l.loader_type == Some(LoaderType::Pflash)).and_then(|l| l.path.as_deref()) {
        // C: virDomainDefHasOldStyleUEFI
        h.set_str("bios", "ovmf");
        h.set_str("system_firmware", path);
    }

    if let Some(emu) = &def.devices.emulator {
        b.set_str("device_model", emu.as_str());
        b.set_str("device_model_version", "qemu_xen");
    } else {
        b.set_str("device_model_version", "qemu_xen");
    }

    match def.devices.serials.len() {
        0 => {}
        1 => h.set_str("serial", chrdev_str(&def.devices.serials[0])?),
        _ => {
            let list = def.devices.serials.iter().map(|s| chrdev_str(s).map(Json::Str)).collect::<Result<Vec<_>, _>>()?;
            h.set("serial_list", Json::Array(list));
        }
    }

    let mut usb = Vec::new();
    for i in def.devices.inputs.iter().filter(|i| i.bus == InputBus::Usb) {
        match i.input_type {
            InputType::Mouse => usb.push(Json::Str("mouse".into())),
            InputType::Tablet => usb.push(Json::Str("tablet".into())),
            InputType::Keyboard => return Err(unsupported("Unknown input device type".into())),
        }
    }
    if !usb.is_empty() {
        h.set("usbdevice_list", Json::Array(usb));
    }

    make_video(def, b, &mut h)?;

    // C: libxlMakeBuildInfoVfb (the first display also drives the emulated card)
    let mut vnc = Json::obj();
    let mut sdl = Json::obj();
    match vfbs.first() {
        Some(vfb) if vfb.get("vnc").and_then(|v| v.get("enable")) == Some(&Json::Str("True".into())) => {
            if let Some(Json::Object(members)) = vfb.get("vnc") {
                for (k, v) in members {
                    vnc.set(k, v.clone());
                }
            }
            sdl.set_defbool("enable", false);
            if let Some(Json::Str(k)) = vfb.get("keymap") {
                h.set_str("keymap", k.as_str());
            }
        }
        Some(vfb) => {
            vnc.set_defbool("enable", false);
            if let Some(Json::Object(members)) = vfb.get("sdl") {
                for (k, v) in members {
                    sdl.set(k, v.clone());
                }
            }
        }
        None => {
            vnc.set_defbool("enable", false);
            sdl.set_defbool("enable", false);
        }
    }
    h.set("vnc", vnc);
    h.set("sdl", sdl);
    b.set("type.hvm", h);
    Ok(())
}

// C: libxlMakeVideo
fn make_video(def: &DomainDef, b: &mut Json, h: &mut Json) -> Result<(), ConfError> {
    let Some(v) = def.devices.videos.first() else {
        h.set_defbool("nographic", true);
        return Ok(());
    };
    let mut vga = Json::obj();
    match v.video_type {
        Some(VideoType::Vga) | Some(VideoType::Xen) => {
            if v.vram < 16 * 1024 {
                return Err(unsupported("videoram must be at least 16MB for VGA".into()));
            }
            vga.set_str("kind", "std");
        }
        Some(VideoType::Cirrus) | None => {
            if v.vram < 8 * 1024 {
                return Err(unsupported("videoram must be at least 8MB for CIRRUS".into()));
            }
            vga.set_str("kind", "cirrus");
        }
    }
    b.set_int("video_memkb", i64::from(v.vram));
    h.set("vga", vga);
    Ok(())
}

/// The character device string of an HVM serial port (QEMU's -serial syntax).
// C: libxlMakeChrdevStr
fn chrdev_str(c: &ChrDef) -> Result<String, ConfError> {
    let path = c.path.as_deref().unwrap_or("");
    let server = if c.listen { ",server,nowait" } else { "" };
    Ok(match c.chr_type {
        ChrType::Null => "null".to_owned(),
        ChrType::Vc => "vc".to_owned(),
        ChrType::Pty => "pty".to_owned(),
        ChrType::Stdio => "stdio".to_owned(),
        ChrType::Dev => path.to_owned(),
        ChrType::File => format!("file:{path}"),
        ChrType::Pipe => format!("pipe:{path}"),
        ChrType::Unix => format!("unix:{path}{server}"),
        ChrType::Tcp => {
            let prefix = if c.protocol == Some(TcpProtocol::Telnet) { "telnet" } else { "tcp" };
            format!("{prefix}:{}:{}{server}", c.host.as_deref().unwrap_or(""), c.service.as_deref().unwrap_or(""))
        }
    })
}

// C: libxlMakeDisk
fn make_disk(d: &DiskDef) -> Result<Json, ConfError> {
    let mut x = Json::obj();
    let format = d.format.unwrap_or(DiskFormat::Raw);
    let driver = d.driver_name.as_deref();
    let pdev = if d.disk_type == DiskType::Network {
        if driver != Some("qemu") {
            return Err(ConfError::new(VIR_ERR_OPERATION_INVALID, VIR_FROM_LIBXL, "only the 'qemu' driver can be used with network disks"));
        }
        Some(network_source(&d.source)?)
    } else {
        d.source.path.clone()
    };
    let bad_format = |drv: &str| {
        ConfError::libxl_internal(format!("libxenlight does not support disk format {} with disk driver {drv}", format.as_str()))
    };
    let (backend, xformat) = match driver {
        Some(drv @ ("tap" | "tap2")) => match format {
            DiskFormat::Qcow => ("qdisk", "qcow"),
            DiskFormat::Qcow2 => ("qdisk", "qcow2"),
            DiskFormat::Vhd => ("tap", "vhd"),
            DiskFormat::Raw => ("tap", "raw"),
            DiskFormat::Qed => ("qdisk", "qed"),
            _ => return Err(bad_format(drv)),
        },
        Some(drv @ "qemu") => match format {
            DiskFormat::Qcow => ("qdisk", "qcow"),
            DiskFormat::Qcow2 => ("qdisk", "qcow2"),
            DiskFormat::Qed => ("qdisk", "qed"),
            DiskFormat::Vhd => ("qdisk", "vhd"),
            DiskFormat::Raw => ("qdisk", "raw"),
            _ => return Err(bad_format(drv)),
        },
        Some(drv @ "file") => {
            if format != DiskFormat::Raw {
                return Err(bad_format(drv));
            }
            ("qdisk", "raw")
        }
        Some(drv @ "phy") => {
            if format != DiskFormat::Raw {
                return Err(bad_format(drv));
            }
            ("phy", "raw")
        }
        Some(drv) => return Err(ConfError::libxl_internal(format!("libxenlight does not support disk driver {drv}"))),
        None => ("unknown", "raw"),
    };
    let is_cdrom = d.device == DiskDevice::Cdrom;
    if d.transient {
        return Err(ConfError::libxl_internal("libxenlight does not support transient disks"));
    }
    x.set_opt_str("pdev_path", pdev.as_deref());
    x.set_str("vdev", d.dst.as_str());
    if backend != "unknown" {
        x.set_str("backend", backend);
    }
    // An empty CD-ROM drive needs the "empty" format.
    x.set_str("format", if is_cdrom && pdev.is_none() { "empty" } else { xformat });
    x.set_int("removable", 1);
    x.set_int("readwrite", i64::from(!d.readonly));
    if is_cdrom {
        x.set_int("is_cdrom", 1);
    }
    // C: libxlDiskSetDiscard
    if !d.readonly {
        match d.discard {
            Some(DiskDiscard::Unmap) => x.set_defbool("discard_enable", true),
            Some(DiskDiscard::Ignore) => x.set_defbool("discard_enable", false),
            _ => {}
        }
    }
    Ok(x)
}

/// The qemu-style source string of a network disk (RBD only, without auth).
// C: libxlMakeNetworkDiskSrcStr
fn network_source(src: &DiskSource) -> Result<String, ConfError> {
    let proto = src.protocol.unwrap_or(NetProtocol::None);
    if proto != NetProtocol::Rbd {
        return Err(ConfError::new(VIR_ERR_NO_SUPPORT, VIR_FROM_LIBXL, format!("Unsupported network block protocol '{}'", proto.as_str())));
    }
    let name = src.name.as_deref().unwrap_or("");
    let image = name.split_once('/').map_or(name, |(_, img)| img);
    if image.contains(':') {
        return Err(unsupported(format!("':' not allowed in RBD source volume name '{image}'")));
    }
    let mut s = format!("rbd:{name}:auth_supported=none");
    if !src.hosts.is_empty() {
        s.push_str(":mon_host=");
        for (i, h) in src.hosts.iter().enumerate() {
            if i > 0 {
                s.push_str("\\;");
            }
            let host = h.name.as_deref().unwrap_or("");
            if host.contains(':') {
                s.push_str(&format!("[{}]", host.replace(':', "\\:")));
            } else {
                s.push_str(host);
            }
            if let Some(p) = h.port.filter(|p| *p != 0) {
                s.push_str(&format!("\\:{p}"));
            }
        }
    }
    Ok(s)
}

// C: libxlMakeNic
fn make_nic(def: &DomainDef, n: &NetDef, devid: usize) -> Result<Json, ConfError> {
    let mut x = Json::obj();
    if n.script.is_some() && !matches!(n.net_type, NetType::Bridge | NetType::Ethernet) {
        return Err(unsupported("specifying a script is only supported with interface types bridge and ethernet".into()));
    }
    x.set_int("devid", devid as i64);
    let nictype = match n.model.as_deref() {
        Some(m) => {
            if !def.is_hvm() && m != "netfront" {
                return Err(unsupported("only model 'netfront' is supported for Xen PV(H) domains".into()));
            }
            x.set_str("model", m);
            if m == "netfront" {
                "vif"
            } else {
                "vif_ioemu"
            }
        }
        None if def.is_hvm() => "vif_ioemu",
        None => "vif",
    };
    x.set_str("mac", mac_format(&n.mac));
    match n.net_type {
        NetType::Bridge => x.set_opt_str("bridge", n.source.as_deref()),
        NetType::Ethernet => {}
        NetType::Network => {
            return Err(unsupported("unsupported interface type network".into()));
        }
    }
    x.set_opt_str("script", n.script.as_deref());
    if !n.ips.is_empty() {
        let ips: Vec<String> = n.ips.iter().map(|ip| ip.address.to_string()).collect();
        x.set_str("ip", ips.join(" "));
    }
    x.set_opt_str("ifname", n.ifname.as_deref());
    x.set_str("nictype", nictype);
    Ok(x)
}

/// One vfb per `<graphics>`.
// C: libxlMakeVfbList, libxlMakeVfb
fn make_vfb_list(def: &DomainDef, env: &BuildEnv) -> Vec<Json> {
    let mut out = Vec::new();
    for g in &def.devices.graphics {
        let mut vfb = Json::obj();
        let mut vnc = Json::obj();
        let mut sdl = Json::obj();
        match g {
            GraphicsDef::Sdl(s) => {
                vnc.set_defbool("enable", false);
                sdl.set_defbool("enable", true);
                sdl.set_defbool("opengl", false);
                sdl.set_opt_str("display", s.display.as_deref());
                sdl.set_opt_str("xauthority", s.xauth.as_deref());
                vfb.set("vnc", vnc);
                vfb.set("sdl", sdl);
            }
            GraphicsDef::Vnc(v) => {
                vnc.set_defbool("enable", true);
                let listen = match v.listens.first() {
                    Some(GraphicsListen::Address { address: Some(a), .. }) => a.clone(),
                    _ => env.vnc_listen.clone(),
                };
                vnc.set_str("listen", listen);
                vnc.set_opt_str("passwd", v.passwd.as_deref());
                if v.port >= LIBXL_VNC_PORT_MIN {
                    vnc.set_int("display", i64::from(v.port - LIBXL_VNC_PORT_MIN));
                    vnc.set_defbool("findunused", false);
                } else {
                    vnc.set_defbool("findunused", true);
                }
                sdl.set_defbool("enable", false);
                vfb.set("vnc", vnc);
                vfb.set("sdl", sdl);
                vfb.set_opt_str("keymap", v.keymap.as_deref());
            }
        }
        out.push(vfb);
    }
    out
}
