//! Defaults and checks applied after parsing, in libvirt's order: the libxl driver's
//! callbacks (libxlDomainDefPostParse, libxlDomainDeviceDefPostParse, libxlDomainDefValidate
//! in libxl/libxl_domain.c), then the generic ones of conf/domain_postparse.c and
//! conf/domain_validate.c for the elements we support.
use crate::libxl::conf_util::disk_name_to_index;
use crate::libxl::domain_def::{Arch, DomainDef, LifecycleAction, LoaderType, OsType, YesNo};
use crate::libxl::domain_dev::*;
use crate::libxl::error::ConfError;
use crate::rpc::protocol::{VIR_ERR_NO_SOURCE, VIR_FROM_DOMAIN, VIR_FROM_LIBXL};

/// Applies every default, then checks the result.
// C: virDomainDefPostParse + virDomainDefValidate
pub fn post_parse(def: &mut DomainDef) -> Result<(), ConfError> {
    libxl_domain_post_parse(def);
    add_implicit_video(def);
    device_post_parse(def)?;
    common_post_parse(def)?;
    validate(def)
}

/// The libxl driver's domain callback: PV console, implicit inputs, PAE, balloon, xenbus.
// C: libxlDomainDefPostParse
fn libxl_domain_post_parse(def: &mut DomainDef) {
    let hvm = def.is_hvm();
    let dev = &mut def.devices;
    if !hvm && dev.consoles.is_empty() {
        dev.consoles.push(ChrDef {
            device: ChrDeviceType::Console,
            chr_type: ChrType::Pty,
            path: None,
            host: None,
            service: None,
            listen: false,
            protocol: None,
            console_target: Some(ConsoleTarget::Xen),
            serial_target: None,
            port: 0,
            alias: None,
        });
    }
    // C: xenDomainDefAddImplicitInputDevice
    let bus = if hvm { InputBus::Ps2 } else { InputBus::Xen };
    for input_type in [InputType::Mouse, InputType::Keyboard] {
        if !dev.inputs.iter().any(|i| i.input_type == input_type && i.bus == bus) {
            dev.inputs.push(InputDef { input_type, bus });
        }
    }
    if hvm && def.os.arch == Arch::X86_64 {
        def.features.pae = true;
    }
    if dev.memballoon.is_none() {
        dev.memballoon = Some(MemballoonDef { model: MemballoonModel::Xen, stats_period: None });
    }
    if !dev.controllers.iter().any(|c| c.ctrl_type == ControllerType::Xenbus) {
        controller_insert(
            &mut dev.controllers,
            ControllerDef {
                ctrl_type: ControllerType::Xenbus,
                index: 0,
                model: None,
                ports: None,
                max_grant_frames: None,
                max_event_channels: None,
            },
        );
    }
}

/// A display needs a video card: add the default one.
// C: virDomainDefAddImplicitVideo
fn add_implicit_video(def: &mut DomainDef) {
    if !def.devices.graphics.is_empty() && def.devices.videos.is_empty() {
        def.devices.videos.push(VideoDef { video_type: None, vram: 0, heads: None, primary: false });
    }
}

/// Per-device defaults: the driver's callback, then the generic one.
// C: libxlDomainDeviceDefPostParse, virDomainDeviceDefPostParseCommon
fn device_post_parse(def: &mut DomainDef) -> Result<(), ConfError> {
    let os_type = def.os.os_type;
    let hvm = os_type == OsType::Hvm;
    for disk in &mut def.devices.disks {
        if disk.disk_type == DiskType::Network && disk.driver_name.is_none() {
            disk.driver_name = Some("qemu".to_owned());
        }
        if disk.format.is_none() {
            disk.format = Some(DiskFormat::Raw);
        }
        disk_post_parse(disk)?;
    }
    for (i, video) in def.devices.videos.iter_mut().enumerate() {
        let vtype = *video.video_type.get_or_insert(if os_type.is_pv() { VideoType::Xen } else { VideoType::Cirrus });
        if hvm && video.vram == 0 {
            // The sizes QEMU (upstream device model) needs.
            video.vram = match vtype {
                VideoType::Vga | VideoType::Xen => 16 * 1024,
                VideoType::Cirrus => 8 * 1024,
            };
        }
        if video.vram == 0 {
            // C: virDomainVideoDefaultRAM
            video.vram = match vtype {
                VideoType::Vga | VideoType::Cirrus => 16 * 1024,
                VideoType::Xen => 4 * 1024,
            };
        }
        if video.heads.is_none() {
            video.heads = Some(1);
        }
        if i == 0 {
            video.primary = true;
        }
    }
    for console in &mut def.devices.consoles {
        if console.console_target.is_none() && !hvm {
            console.console_target = Some(ConsoleTarget::Xen);
        }
    }
    assign_chr_ports(&mut def.devices.serials);
    assign_chr_ports(&mut def.devices.consoles);
    for g in &mut def.devices.graphics {
        if let GraphicsDef::Vnc(vnc) = g {
            if vnc.listens.is_empty() {
                vnc.listens.push(GraphicsListen::Address { address: None, from_config: 0, auto_generated: false });
            }
        }
    }
    Ok(())
}

/// Bus from the target name, then the drive address for controller-based buses.
// C: virDomainDiskDefPostParse, virDomainDiskDefAssignAddress
fn disk_post_parse(disk: &mut DiskDef) -> Result<(), ConfError> {
    if disk.bus.is_none() {
        let dst = disk.dst.as_str();
        disk.bus = Some(if disk.device == DiskDevice::Floppy {
            DiskBus::Fdc
        } else if dst.starts_with("hd") {
            DiskBus::Ide
        } else if dst.starts_with("sd") {
            DiskBus::Scsi
        } else if dst.starts_with("vd") {
            DiskBus::Virtio
        } else if dst.starts_with("xvd") {
            DiskBus::Xen
        } else if dst.starts_with("ubd") {
            DiskBus::Uml
        } else {
            DiskBus::Ide
        });
    }
    let Some(bus) = disk.bus else {
        return Ok(());
    };
    if disk.address.is_some() || !matches!(bus, DiskBus::Scsi | DiskBus::Ide | DiskBus::Sata | DiskBus::Fdc) {
        return Ok(());
    }
    let Some(idx) = disk_name_to_index(&disk.dst) else {
        return Err(ConfError::xml(format!("Unknown disk name '{}' and no address specified", disk.dst)));
    };
    let (controller, bus_no, unit) = match bus {
        DiskBus::Scsi => (idx / 7, 0, idx % 7),
        DiskBus::Ide => (idx / 4, (idx % 4) / 2, idx % 2),
        DiskBus::Sata => (idx / 6, 0, idx % 6),
        _ => (idx / 2, 0, idx % 2),
    };
    disk.address = Some(DriveAddress { controller, bus: bus_no, target: 0, unit });
    Ok(())
}

/// Gives serial ports (or consoles) without a port the next number after the highest one used.
// C: virDomainChrDefPostParse (port assignment)
fn assign_chr_ports(chrs: &mut [ChrDef]) {
    for i in 0..chrs.len() {
        if chrs[i].port < 0 {
            let max = chrs.iter().map(|c| c.port).max().unwrap_or(-1);
            chrs[i].port = max.saturating_add(1);
        }
    }
}

/// Generic defaults of the whole definition.
// C: virDomainDefPostParseCommon
fn common_post_parse(def: &mut DomainDef) -> Result<(), ConfError> {
    if def.memory_kib == 0 {
        return Err(ConfError::xml("Memory size must be specified via <memory> or in the <numa> configuration"));
    }
    if def.current_memory_kib == 0 || def.current_memory_kib > def.memory_kib {
        def.current_memory_kib = def.memory_kib;
    }
    if def.vcpu.max == 0 {
        return Err(ConfError::internal("CPU IDs in <numa> exceed the <vcpu> count"));
    }
    if def.is_hvm() && def.os.boot_devs.is_empty() {
        def.os.boot_devs.push(crate::libxl::domain_def::BootDev::Disk);
    }
    console_compat(def)?;
    add_disk_controllers(def);
    for c in &mut def.devices.controllers {
        if c.index < 0 {
            c.index = 0;
        }
    }
    Ok(())
}

/// On HVM the first console is the first serial port under another name.
// C: virDomainDefAddConsoleCompat
fn console_compat(def: &mut DomainDef) -> Result<(), ConfError> {
    let dev = &mut def.devices;
    if dev.consoles.iter().skip(1).any(|c| c.console_target == Some(ConsoleTarget::Serial)) {
        return Err(ConfError::unsupported("Only the first console can be a serial port"));
    }
    if def.os.os_type != OsType::Hvm {
        return Ok(());
    }
    if let Some(first) = dev.consoles.first() {
        if matches!(first.console_target, None | Some(ConsoleTarget::Serial)) {
            if dev.serials.is_empty() {
                let mut serial = first.clone();
                serial.device = ChrDeviceType::Serial;
                serial.console_target = None;
                serial.serial_target = None;
                serial.port = 0;
                dev.serials.push(serial);
            }
            dev.consoles[0] = console_stub(dev.serials[0].port);
            return Ok(());
        }
    }
    if !dev.serials.is_empty() {
        dev.consoles.insert(0, console_stub(dev.serials[0].port));
    }
    Ok(())
}

/// The console that stands for serial port 0 (formatted from the serial's source).
fn console_stub(port: i32) -> ChrDef {
    ChrDef {
        device: ChrDeviceType::Console,
        chr_type: ChrType::Pty,
        path: None,
        host: None,
        service: None,
        listen: false,
        protocol: None,
        console_target: Some(ConsoleTarget::Serial),
        serial_target: None,
        port,
        alias: None,
    }
}

/// Adds the ide/scsi/sata/fdc controllers that the disks' drive addresses name.
// C: virDomainDefAddDiskControllers
fn add_disk_controllers(def: &mut DomainDef) {
    let pairs = [
        (ControllerType::Scsi, DiskBus::Scsi),
        (ControllerType::Fdc, DiskBus::Fdc),
        (ControllerType::Ide, DiskBus::Ide),
        (ControllerType::Sata, DiskBus::Sata),
    ];
    for (ctype, bus) in pairs {
        let max = def.devices.disks.iter().filter(|d| d.bus == Some(bus)).filter_map(|d| d.address.map(|a| a.controller)).max();
        let Some(max) = max else {
            continue;
        };
        for index in 0..=max.min(MAX_CONTROLLER_INDEX) {
            let index = index as i32;
            let exists = def.devices.controllers.iter().any(|c| c.ctrl_type == ctype && c.index == index);
            if !exists {
                controller_insert(
                    &mut def.devices.controllers,
                    ControllerDef { ctrl_type: ctype, index, model: None, ports: None, max_grant_frames: None, max_event_channels: None },
                );
            }
        }
    }
}

/// Highest controller index added implicitly (bounds the loop on hostile addresses).
const MAX_CONTROLLER_INDEX: u32 = 255;

/// Inserts a controller after those of the same type with lower index.
// C: virDomainControllerInsertPreAlloced
pub fn controller_insert(list: &mut Vec<ControllerDef>, ctrl: ControllerDef) {
    let mut insert_at: Option<usize> = None;
    for (i, cur) in list.iter().enumerate().rev() {
        if cur.ctrl_type != ctrl.ctrl_type {
            continue;
        }
        if cur.index > ctrl.index {
            insert_at = Some(i);
        } else if insert_at.is_none() {
            insert_at = Some(i + 1);
        }
    }
    match insert_at {
        Some(i) => list.insert(i, ctrl),
        None => list.push(ctrl),
    }
}

/// The checks made once defaults are in place.
// C: virDomainDefValidate, libxlDomainDefValidate
fn validate(def: &DomainDef) -> Result<(), ConfError> {
    if !def.is_hvm() && matches!(def.on_poweroff, LifecycleAction::CoredumpDestroy | LifecycleAction::CoredumpRestart) {
        // handled below for every os type
    }
    for (event, action) in [("poweroff", def.on_poweroff), ("reboot", def.on_reboot)] {
        if matches!(action, LifecycleAction::CoredumpDestroy | LifecycleAction::CoredumpRestart) {
            return Err(ConfError::unsupported(format!("Lifecycle event '{event}' doesn't support '{}' action", action.as_str())));
        }
    }
    for disk in &def.devices.disks {
        if disk.device == DiskDevice::Lun && disk.disk_type != DiskType::Block && disk.disk_type != DiskType::Network {
            return Err(ConfError::unsupported("disk device='lun' is only valid for block type disk source"));
        }
        if disk.disk_type != DiskType::Network
            && disk.source.path.is_none()
            && !matches!(disk.device, DiskDevice::Cdrom | DiskDevice::Floppy)
        {
            return Err(ConfError::new(VIR_ERR_NO_SOURCE, VIR_FROM_DOMAIN, disk.dst.clone()));
        }
    }
    for (i, a) in def.devices.disks.iter().enumerate() {
        for b in &def.devices.disks[i + 1..] {
            if a.dst == b.dst {
                return Err(ConfError::xml(format!(
                    "target '{}' duplicated for disk sources '{}' and '{}'",
                    a.dst,
                    disk_source_name(a),
                    disk_source_name(b)
                )));
            }
        }
    }
    for input in &def.devices.inputs {
        validate_input(def.os.os_type, input)?;
    }
    let secure = def.os.loader.as_ref().is_some_and(|l| l.loader_type == Some(LoaderType::Pflash) && l.secure == Some(YesNo::Yes));
    if secure {
        return Err(ConfError::new(
            crate::rpc::protocol::VIR_ERR_CONFIG_UNSUPPORTED,
            VIR_FROM_LIBXL,
            "Secure boot is not supported on Xen",
        ));
    }
    Ok(())
}

fn disk_source_name(d: &DiskDef) -> &str {
    d.source.path.as_deref().or(d.source.name.as_deref()).unwrap_or("<null>")
}

/// Which input buses the domain type can have.
// C: virDomainInputDefValidate (Xen part)
fn validate_input(os_type: OsType, input: &InputDef) -> Result<(), ConfError> {
    let mouse_or_kbd = matches!(input.input_type, InputType::Mouse | InputType::Keyboard);
    if os_type == OsType::Hvm {
        if input.bus == InputBus::Ps2 && !mouse_or_kbd {
            return Err(ConfError::internal(format!("ps2 bus does not support {} input device", input.input_type.as_str())));
        }
        if input.bus == InputBus::Xen {
            return Err(ConfError::internal(format!("unsupported input bus {}", input.bus.as_str())));
        }
    } else {
        if input.bus != InputBus::Xen {
            return Err(ConfError::internal(format!("unsupported input bus {}", input.bus.as_str())));
        }
        if !mouse_or_kbd {
            return Err(ConfError::internal(format!("xen bus does not support {} input device", input.input_type.as_str())));
        }
    }
    Ok(())
}
