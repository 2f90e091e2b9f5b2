//! Reading `<devices>`: disks, controllers, interfaces, serial ports and consoles, inputs,
//! graphics, video and the balloon, as virDomainDefParseXML and the per-device parsers of
//! conf/domain_conf.c do, in the same order and with the same error texts.
use roxmltree::Node;

use super::node::{
    attr, attr_enum, attr_enum_req, attr_int, attr_nonempty, attr_switch, attr_uint, attr_yes_no, child, child_text, children,
    parse_u32_any_base,
};
use super::ParseFlags;
use crate::libxl::conf_util::{disk_name_to_index, mac_format, mac_generate, mac_parse};
use crate::libxl::domain_def::{DomainDef, OsType, YesNo};
use crate::libxl::domain_dev::*;
use crate::libxl::error::ConfError;
use crate::rpc::protocol::{VIR_ERR_INVALID_ARG, VIR_ERR_NO_TARGET, VIR_FROM_DOMAIN};

/// Device elements of libvirt's schema this driver does not implement.
const UNSUPPORTED_DEVICES: &[(&str, &str)] = &[
    ("lease", "leases are not supported by the Xen driver"),
    ("filesystem", "filesystem devices are not supported by the Xen driver"),
    ("smartcard", "smartcard devices are not supported by the Xen driver"),
    ("parallel", "Parallel devices are not supported by libxl"),
    ("channel", "channel devices are not supported by the Xen driver"),
    ("sound", "sound devices are not supported by the Xen driver"),
    ("audio", "audio backends are not supported by the Xen driver"),
    ("hostdev", "host devices are not supported by the Xen driver"),
    ("redirdev", "redirected devices are not supported by the Xen driver"),
    ("redirfilter", "redirected devices are not supported by the Xen driver"),
    ("hub", "hub devices are not supported by the Xen driver"),
    ("watchdog", "watchdog devices are not supported by the Xen driver"),
    ("rng", "rng devices are not supported by the Xen driver"),
    ("tpm", "TPM devices are not supported by the Xen driver"),
    ("panic", "panic devices are not supported by the Xen driver"),
    ("shmem", "shmem devices are not supported by the Xen driver"),
    ("memory", "memory devices are not supported by the Xen driver"),
    ("iommu", "IOMMU devices are not supported by the Xen driver"),
    ("vsock", "vsock devices are not supported by the Xen driver"),
    ("crypto", "crypto devices are not supported by the Xen driver"),
];

/// Largest number of devices of one kind a definition may hold.
pub const MAX_DEVICES_PER_KIND: usize = 1024;

/// Reads `<devices>` into `def.devices`.
pub fn parse_devices(node: Node<'_, '_>, def: &mut DomainDef, flags: ParseFlags) -> Result<(), ConfError> {
    for (name, msg) in UNSUPPORTED_DEVICES {
        if child(node, name).is_some() {
            return Err(ConfError::unsupported(*msg));
        }
    }
    let os_type = def.os.os_type;
    let dev = &mut def.devices;
    dev.emulator = child_text(node, "emulator");

    for n in limited(node, "disk")? {
        let disk = parse_disk(n, flags)?;
        disk_insert(&mut dev.disks, disk);
    }
    for n in limited(node, "controller")? {
        dev.controllers.push(parse_controller(n)?);
    }
    for n in limited(node, "interface")? {
        dev.nets.push(parse_net(n, flags)?);
    }
    for n in limited(node, "serial")? {
        dev.serials.push(parse_chr(n, ChrDeviceType::Serial, flags)?);
    }
    for n in limited(node, "console")? {
        dev.consoles.push(parse_chr(n, ChrDeviceType::Console, flags)?);
    }
    for n in limited(node, "input")? {
        dev.inputs.push(parse_input(n, os_type)?);
    }
    for n in limited(node, "graphics")? {
        dev.graphics.push(parse_graphics(n, flags)?);
    }
    for n in limited(node, "video")? {
        let video = parse_video(n)?;
        if video.primary {
            if dev.videos.iter().any(|v| v.primary) {
                return Err(ConfError::xml("Only one primary video device is supported"));
            }
            dev.videos.insert(0, video);
        } else {
            dev.videos.push(video);
        }
    }
    let mut balloons = children(node, "memballoon");
    if let Some(n) = balloons.next() {
        if balloons.next().is_some() {
            return Err(ConfError::xml("Only one memory balloon device is supported"));
        }
        dev.memballoon = Some(parse_memballoon(n)?);
    }
    Ok(())
}

fn limited<'a, 'i>(node: Node<'a, 'i>, name: &'a str) -> Result<Vec<Node<'a, 'i>>, ConfError> {
    let list: Vec<_> = children(node, name).take(MAX_DEVICES_PER_KIND + 1).collect();
    if list.len() > MAX_DEVICES_PER_KIND {
        return Err(ConfError::unsupported(format!("too many <{name}> devices (at most {MAX_DEVICES_PER_KIND})")));
    }
    Ok(list)
}

/// The user's alias of a device (`ua-` prefixed) is kept always; others only in live XML.
fn parse_alias(node: Node<'_, '_>, flags: ParseFlags) -> Option<String> {
    let name = child(node, "alias").and_then(|a| attr_nonempty(a, "name"))?;
    if flags.inactive && !name.starts_with("ua-") {
        return None;
    }
    Some(name.to_owned())
}

/// Puts `disk` after the disks of the same bus with lower index, before those with higher
/// (comparing the bus as written, before defaults).
// C: virDomainDiskInsert
pub fn disk_insert(disks: &mut Vec<DiskDef>, disk: DiskDef) {
    let new_idx = disk_name_to_index(&disk.dst).map_or(-1, i64::from);
    let mut insert_at: Option<usize> = None;
    for (i, cur) in disks.iter().enumerate().rev() {
        if cur.bus != disk.bus {
            continue;
        }
        let cur_idx = disk_name_to_index(&cur.dst).map_or(-1, i64::from);
        if cur_idx > new_idx {
            insert_at = Some(i);
        } else if insert_at.is_none() {
            insert_at = Some(i + 1);
        }
    }
    match insert_at {
        Some(i) => disks.insert(i, disk),
        None => disks.push(disk),
    }
}

// C: virDomainDiskDefParseXML
fn parse_disk(node: Node<'_, '_>, flags: ParseFlags) -> Result<DiskDef, ConfError> {
    let disk_type = match attr(node, "type") {
        None => DiskType::File,
        Some(t) => match DiskType::parse(t) {
            Some(dt) => dt,
            None if ["dir", "volume", "nvme", "vhostuser"].contains(&t) => {
                return Err(ConfError::unsupported(format!("disk type '{t}' is not supported by the Xen driver")))
            }
            None => return Err(ConfError::bad_attr("type", "disk", t)),
        },
    };
    let device = attr_enum(node, "device", DiskDevice::parse)?.unwrap_or(DiskDevice::Disk);
    for name in [
        "backingStore",
        "mirror",
        "auth",
        "encryption",
        "iotune",
        "blockio",
        "geometry",
        "wwn",
        "vendor",
        "product",
        "boot",
        "throttlefilters",
    ] {
        if name == "backingStore" {
            continue;
        }
        if child(node, name).is_some() {
            return Err(ConfError::unsupported(format!("<disk><{name}> is not supported by the Xen driver")));
        }
    }

    let mut disk = DiskDef {
        disk_type,
        device,
        driver_name: None,
        format: None,
        cache: None,
        io: None,
        discard: None,
        source: DiskSource::default(),
        dst: String::new(),
        bus: None,
        readonly: child(node, "readonly").is_some(),
        shareable: child(node, "shareable").is_some(),
        transient: child(node, "transient").is_some(),
        serial: child_text(node, "serial"),
        address: None,
        alias: parse_alias(node, flags),
    };
    if device == DiskDevice::Cdrom {
        disk.readonly = true;
    }

    if let Some(s) = child(node, "source") {
        parse_disk_source(s, &mut disk)?;
    }
    if let Some(d) = child(node, "driver") {
        disk.driver_name = attr_nonempty(d, "name").map(str::to_owned);
        if let Some(t) = attr_nonempty(d, "type") {
            let fmt = DiskFormat::parse(t).ok_or_else(|| ConfError::unsupported(format!("unknown driver format value '{t}'")))?;
            disk.format = (fmt != DiskFormat::None).then_some(fmt);
        }
        disk.cache = attr_enum(d, "cache", DiskCache::parse)?;
        disk.io = attr_enum(d, "io", DiskIo::parse)?;
        disk.discard = attr_enum(d, "discard", DiskDiscard::parse)?;
    }

    let target = child(node, "target");
    match target.and_then(|t| attr_nonempty(t, "dev")) {
        Some(dev) => disk.dst = dev.to_owned(),
        None => {
            let src = disk.source.path.clone().or_else(|| disk.source.name.clone()).unwrap_or_default();
            return Err(ConfError::new(VIR_ERR_NO_TARGET, VIR_FROM_DOMAIN, src));
        }
    }
    if let Some(t) = target {
        disk.bus = attr_enum(t, "bus", DiskBus::parse)?;
        if attr(t, "tray").is_some() || attr(t, "removable").is_some() || attr(t, "rotation_rate").is_some() {
            return Err(ConfError::unsupported("<disk><target> tray, removable and rotation_rate are not supported by the Xen driver"));
        }
    }
    if let Some(a) = child(node, "address") {
        disk.address = Some(parse_drive_address(a)?);
    }
    Ok(disk)
}

fn parse_disk_source(s: Node<'_, '_>, disk: &mut DiskDef) -> Result<(), ConfError> {
    match disk.disk_type {
        DiskType::File => disk.source.path = attr_nonempty(s, "file").map(str::to_owned),
        DiskType::Block => disk.source.path = attr_nonempty(s, "dev").map(str::to_owned),
        DiskType::Network => {
            let Some(p) = attr(s, "protocol") else {
                return Err(ConfError::xml("missing network source protocol type"));
            };
            let proto = NetProtocol::parse(p)
                .filter(|p| *p != NetProtocol::None)
                .ok_or_else(|| ConfError::xml(format!("unknown protocol type '{p}'")))?;
            disk.source.protocol = Some(proto);
            disk.source.name = attr_nonempty(s, "name").map(str::to_owned);
            for h in limited(s, "host")? {
                let transport = attr_enum(h, "transport", HostTransport::parse)?;
                let port = match attr(h, "port") {
                    None => None,
                    Some(v) => Some(super::node::parse_u32(v).ok_or_else(|| ConfError::xml(format!("failed to parse port number '{v}'")))?),
                };
                disk.source.hosts.push(NetHost {
                    name: attr_nonempty(h, "name").map(str::to_owned),
                    port,
                    transport,
                    socket: attr_nonempty(h, "socket").map(str::to_owned),
                });
            }
        }
    }
    Ok(())
}

// C: virDomainDeviceDriveAddressParseXML
fn parse_drive_address(a: Node<'_, '_>) -> Result<DriveAddress, ConfError> {
    match attr(a, "type") {
        Some("drive") => {}
        Some(t) => return Err(ConfError::unsupported(format!("address type '{t}' is not supported for disks by the Xen driver"))),
        None => return Err(ConfError::xml("No type specified for device address")),
    }
    let field = |name: &str| -> Result<u32, ConfError> {
        match attr(a, name) {
            None => Ok(0),
            Some(v) => parse_u32_any_base(v).ok_or_else(|| ConfError::bad_uint_attr(name, "address", v)),
        }
    };
    Ok(DriveAddress { controller: field("controller")?, bus: field("bus")?, target: field("target")?, unit: field("unit")? })
}

const USB_MODELS: &[&str] = &[
    "piix3-uhci",
    "piix4-uhci",
    "ehci",
    "ich9-ehci1",
    "ich9-uhci1",
    "ich9-uhci2",
    "ich9-uhci3",
    "vt82c686b-uhci",
    "pci-ohci",
    "nec-xhci",
    "qusb1",
    "qusb2",
    "qemu-xhci",
    "none",
];
const SCSI_MODELS: &[&str] = &[
    "auto",
    "buslogic",
    "lsilogic",
    "lsisas1068",
    "vmpvscsi",
    "ibmvscsi",
    "virtio-scsi",
    "lsisas1078",
    "virtio-transitional",
    "virtio-non-transitional",
    "ncr53c90",
    "am53c974",
    "dc390",
];
const IDE_MODELS: &[&str] = &["piix3", "piix4", "ich6"];

// C: virDomainControllerDefParseXML
fn parse_controller(node: Node<'_, '_>) -> Result<ControllerDef, ConfError> {
    let ctrl_type = match attr(node, "type") {
        None => ControllerType::Ide,
        Some(t) => match ControllerType::parse(t) {
            Some(ct) => ct,
            None if ["virtio-serial", "ccid", "pci", "isa"].contains(&t) => {
                return Err(ConfError::unsupported(format!("controller type '{t}' is not supported by the Xen driver")))
            }
            None => return Err(ConfError::bad_attr("type", "controller", t)),
        },
    };
    let index = match attr_uint(node, "index")? {
        Some(i) => i32::try_from(i).map_err(|_| ConfError::bad_uint_attr("index", "controller", &i.to_string()))?,
        None => -1,
    };
    let models: &[&str] = match ctrl_type {
        ControllerType::Usb => USB_MODELS,
        ControllerType::Scsi => SCSI_MODELS,
        ControllerType::Ide => IDE_MODELS,
        _ => &[],
    };
    let model = match attr(node, "model") {
        Some(m) if !models.is_empty() => {
            if !models.contains(&m) {
                return Err(ConfError::bad_attr("model", "controller", m));
            }
            Some(m.to_owned())
        }
        _ => None,
    };
    let (ports, max_grant_frames, max_event_channels) = match ctrl_type {
        ControllerType::Usb => (attr_uint(node, "ports")?, None, None),
        ControllerType::Xenbus => (None, attr_uint(node, "maxGrantFrames")?, attr_uint(node, "maxEventChannels")?),
        _ => (None, None, None),
    };
    Ok(ControllerDef { ctrl_type, index, model, ports, max_grant_frames, max_event_channels })
}

/// Interface names libvirt generates and so drops from inactive definitions.
const GENERATED_IFNAME_PREFIXES: &[&str] = &["vnet", "macvtap", "macvlan", "vif"];

// C: virDomainNetDefParseXML
fn parse_net(node: Node<'_, '_>, flags: ParseFlags) -> Result<NetDef, ConfError> {
    let net_type = match attr(node, "type") {
        None => NetType::Bridge,
        Some(t) => match NetType::parse(t) {
            Some(nt) => nt,
            None if ["user", "vhostuser", "server", "client", "mcast", "udp", "internal", "direct", "hostdev", "vdpa", "null", "vds"]
                .contains(&t) =>
            {
                return Err(ConfError::libxl_unsupported(format!("unsupported interface type {t}")))
            }
            None => return Err(ConfError::bad_attr("type", "interface", t)),
        },
    };
    for name in [
        "bandwidth",
        "virtualport",
        "vlan",
        "filterref",
        "backenddomain",
        "tune",
        "driver",
        "backend",
        "rom",
        "coalesce",
        "teaming",
        "mtu",
        "route",
        "link",
        "port",
        "downscript",
        "guest",
        "boot",
        "address",
        "acpi",
    ] {
        if child(node, name).is_some() {
            return Err(ConfError::unsupported(format!("<interface><{name}> is not supported by the Xen driver")));
        }
    }

    let mac = match child(node, "mac").and_then(|m| attr(m, "address")) {
        None => mac_generate()?,
        Some(a) => {
            let mac = mac_parse(a).ok_or_else(|| ConfError::xml(format!("unable to parse mac address '{a}'")))?;
            if mac[0] & 1 != 0 {
                return Err(ConfError::xml(format!("expected unicast mac address, found multicast '{}'", mac_format(&mac))));
            }
            mac
        }
    };

    let source_node = child(node, "source");
    let source = match net_type {
        NetType::Bridge => {
            let Some(s) = source_node else {
                return Err(ConfError::xml("interface type='bridge' requires a 'source' element"));
            };
            Some(
                attr_nonempty(s, "bridge")
                    .map(str::to_owned)
                    .ok_or_else(|| ConfError::xml("No <source> 'bridge' attribute specified with <interface type='bridge'/>"))?,
            )
        }
        NetType::Network => {
            let Some(s) = source_node else {
                return Err(ConfError::xml("interface type='network' requires a 'source' element"));
            };
            Some(
                attr_nonempty(s, "network")
                    .map(str::to_owned)
                    .ok_or_else(|| ConfError::xml("No <source> 'network' attribute specified with <interface type='network'/>"))?,
            )
        }
        NetType::Ethernet => None,
    };

    let mut ips = Vec::new();
    for ip in limited(node, "ip")? {
        ips.push(parse_net_ip(ip)?);
    }

    let ifname = child(node, "target")
        .and_then(|t| attr_nonempty(t, "dev"))
        .filter(|n| !(flags.inactive && GENERATED_IFNAME_PREFIXES.iter().any(|p| n.starts_with(p))))
        .map(str::to_owned);

    let model = match child(node, "model").and_then(|m| attr_nonempty(m, "type")) {
        None => None,
        Some(m) => {
            if !m.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
                return Err(ConfError::new(VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN, "Model name contains invalid characters"));
            }
            Some(m.to_owned())
        }
    };

    Ok(NetDef {
        net_type,
        mac,
        source,
        ips,
        script: child(node, "script").and_then(|s| attr_nonempty(s, "path")).map(str::to_owned),
        ifname,
        model,
        alias: parse_alias(node, flags),
    })
}

// C: virDomainNetIPParseXML
fn parse_net_ip(node: Node<'_, '_>) -> Result<NetIp, ConfError> {
    let Some(a) = attr_nonempty(node, "address") else {
        return Err(ConfError::xml("Missing required address in <ip>"));
    };
    let address: std::net::IpAddr = a.parse().map_err(|_| ConfError::xml(format!("Invalid address '{a}' in <ip>")))?;
    if let Some(f) = attr(node, "family") {
        let ok = match f {
            "ipv4" => address.is_ipv4(),
            "ipv6" => address.is_ipv6(),
            _ => false,
        };
        if !ok {
            return Err(ConfError::xml(format!("Failed to parse IP address family '{f}' for address '{a}'")));
        }
    }
    let prefix = match attr(node, "prefix") {
        None => None,
        Some(p) => Some(super::node::parse_u32(p).ok_or_else(|| ConfError::xml(format!("Invalid prefix value '{p}' in <ip>")))?),
    };
    let peer = match attr(node, "peer") {
        None => None,
        Some(p) => Some(p.parse().map_err(|_| ConfError::xml(format!("Invalid peer '{p}' in <ip>")))?),
    };
    Ok(NetIp { address, prefix, peer })
}

// C: virDomainChrDefParseXML
fn parse_chr(node: Node<'_, '_>, device: ChrDeviceType, flags: ParseFlags) -> Result<ChrDef, ConfError> {
    let elem = node.tag_name().name();
    let chr_type = match attr(node, "type") {
        None => ChrType::Pty,
        Some(t) => match ChrType::parse(t) {
            Some(ct) => ct,
            None if ["udp", "spicevmc", "spiceport", "nmdm", "qemu-vdagent", "dbus"].contains(&t) => {
                return Err(ConfError::unsupported(format!("character device type '{t}' is not supported by the Xen driver")))
            }
            None => return Err(ConfError::bad_attr("type", elem, t)),
        },
    };
    let mut chr = ChrDef {
        device,
        chr_type,
        path: None,
        host: None,
        service: None,
        listen: false,
        protocol: None,
        console_target: None,
        serial_target: None,
        port: -1,
        alias: parse_alias(node, flags),
    };
    if let Some(s) = child(node, "source") {
        match chr_type {
            // A pty's path is runtime state, read from live XML only.
            ChrType::Pty if flags.inactive => {}
            ChrType::Pty | ChrType::Dev | ChrType::File | ChrType::Pipe | ChrType::Unix => {
                chr.path = attr_nonempty(s, "path").map(str::to_owned);
            }
            ChrType::Tcp => {
                chr.host = attr_nonempty(s, "host").map(str::to_owned);
                chr.service = attr_nonempty(s, "service").map(str::to_owned);
            }
            ChrType::Null | ChrType::Vc | ChrType::Stdio => {}
        }
        if matches!(chr_type, ChrType::Tcp | ChrType::Unix) {
            chr.listen = match attr(s, "mode") {
                None | Some("connect") => false,
                Some("bind") => true,
                Some(m) => return Err(ConfError::xml(format!("Unknown source mode '{m}'"))),
            };
        }
    }
    match chr_type {
        ChrType::Dev | ChrType::File | ChrType::Pipe | ChrType::Unix if chr.path.is_none() => {
            return Err(ConfError::xml("Missing source path attribute for char device"));
        }
        ChrType::Tcp if chr.service.is_none() => {
            return Err(ConfError::xml("Missing source service attribute for char device"));
        }
        _ => {}
    }
    if chr_type == ChrType::Tcp {
        chr.protocol = match child(node, "protocol") {
            Some(p) => attr_enum(p, "type", TcpProtocol::parse)?,
            None => None,
        };
    }
    if let Some(t) = child(node, "target") {
        match device {
            ChrDeviceType::Console => {
                chr.console_target = match attr(t, "type") {
                    None => None,
                    Some(v) => match ConsoleTarget::parse(v) {
                        Some(ct) => Some(ct),
                        None if ["virtio", "uml", "lxc", "openvz", "sclp", "sclplm"].contains(&v) => {
                            return Err(ConfError::unsupported(format!("console target type '{v}' is not supported by the Xen driver")))
                        }
                        None => return Err(ConfError::xml(format!("unknown target type '{v}' specified for character device"))),
                    },
                };
            }
            ChrDeviceType::Serial => {
                chr.serial_target = match attr(t, "type") {
                    None => None,
                    Some(
                        v @ ("isa-serial" | "usb-serial" | "pci-serial" | "spapr-vio-serial" | "system-serial" | "sclp-serial"
                        | "isa-debug"),
                    ) => Some(v.to_owned()),
                    Some(v) => return Err(ConfError::xml(format!("unknown target type '{v}' specified for character device"))),
                };
            }
        }
        if let Some(p) = attr(t, "port") {
            chr.port = p.parse::<i32>().ok().filter(|p| *p >= 0).ok_or_else(|| ConfError::xml(format!("Invalid port number: {p}")))?;
        }
    }
    Ok(chr)
}

// C: virDomainInputDefParseXML
fn parse_input(node: Node<'_, '_>, os_type: OsType) -> Result<InputDef, ConfError> {
    let input_type = match attr(node, "type") {
        Some(t @ ("passthrough" | "evdev")) => {
            return Err(ConfError::unsupported(format!("input type '{t}' is not supported by the Xen driver")))
        }
        _ => attr_enum_req(node, "type", InputType::parse)?,
    };
    let bus = match attr_enum(node, "bus", InputBus::parse)? {
        Some(b) => b,
        None if os_type == OsType::Hvm => match input_type {
            InputType::Mouse | InputType::Keyboard => InputBus::Ps2,
            InputType::Tablet => InputBus::Usb,
        },
        None => InputBus::Xen,
    };
    Ok(InputDef { input_type, bus })
}

// C: virDomainGraphicsDefParseXML
fn parse_graphics(node: Node<'_, '_>, flags: ParseFlags) -> Result<GraphicsDef, ConfError> {
    let t = attr(node, "type").ok_or_else(|| ConfError::xml("missing graphics device type"))?;
    match t {
        "vnc" => Ok(GraphicsDef::Vnc(parse_vnc(node, flags)?)),
        "sdl" => Ok(GraphicsDef::Sdl(SdlDef {
            display: attr_nonempty(node, "display").map(str::to_owned),
            xauth: attr_nonempty(node, "xauth").map(str::to_owned),
            fullscreen: attr_yes_no(node, "fullscreen")? == Some(YesNo::Yes),
        })),
        "rdp" | "desktop" | "spice" | "egl-headless" | "dbus" => {
            Err(ConfError::unsupported(format!("graphics type '{t}' is not supported by the Xen driver")))
        }
        _ => Err(ConfError::bad_attr("type", "graphics", t)),
    }
}

fn parse_vnc(node: Node<'_, '_>, flags: ParseFlags) -> Result<VncDef, ConfError> {
    let mut vnc = VncDef {
        port: 0,
        autoport: true,
        websocket: 0,
        keymap: attr_nonempty(node, "keymap").map(str::to_owned),
        share_policy: attr_enum(node, "sharePolicy", SharePolicy::parse)?,
        passwd: attr(node, "passwd").map(str::to_owned),
        listens: Vec::new(),
    };
    if let Some(p) = attr(node, "port") {
        vnc.port = p.trim().parse::<i32>().map_err(|_| ConfError::xml(format!("cannot parse vnc port {p}")))?;
        if vnc.port == -1 {
            if flags.inactive {
                vnc.port = 0;
            }
            vnc.autoport = true;
        } else {
            vnc.autoport = false;
        }
    }
    if let Some(a) = attr(node, "autoport") {
        vnc.autoport = match a {
            "yes" => true,
            "no" => false,
            _ => return Err(ConfError::xml(format!("cannot parse vnc autoport {a}"))),
        };
        if vnc.autoport && flags.inactive {
            vnc.port = 0;
        }
    }
    if let Some(w) = attr_int(node, "websocket")? {
        vnc.websocket = w;
    }
    if attr(node, "socket").is_some() || attr(node, "passwdValidTo").is_some() || attr(node, "powerControl").is_some() {
        return Err(ConfError::unsupported("VNC socket, passwdValidTo and powerControl are not supported by the Xen driver"));
    }
    for l in limited(node, "listen")? {
        vnc.listens.push(parse_listen(l, flags)?);
    }
    if let Some(addr) = attr_nonempty(node, "listen") {
        match vnc.listens.first() {
            None => vnc.listens.push(GraphicsListen::Address { address: Some(addr.to_owned()), from_config: 0, auto_generated: false }),
            Some(GraphicsListen::Address { address, .. }) if address.as_deref() != Some(addr) => {
                return Err(ConfError::unsupported(format!(
                    "graphics 'listen' attribute '{addr}' must match 'address' attribute of first listen element (found '{}')",
                    address.as_deref().unwrap_or("")
                )));
            }
            _ => {}
        }
    }
    Ok(vnc)
}

// C: virDomainGraphicsListenDefParseXML
fn parse_listen(node: Node<'_, '_>, flags: ParseFlags) -> Result<GraphicsListen, ConfError> {
    let from_config = if flags.inactive { 0 } else { attr_uint(node, "fromConfig")?.unwrap_or(0) };
    match attr(node, "type") {
        None => Err(ConfError::xml("graphics listen type must be specified")),
        Some("address") => Ok(GraphicsListen::Address {
            address: attr_nonempty(node, "address").map(str::to_owned),
            from_config,
            auto_generated: !flags.inactive && attr_yes_no(node, "autoGenerated")? == Some(YesNo::Yes),
        }),
        Some("none") => Ok(GraphicsListen::None { from_config }),
        Some(t @ ("network" | "socket")) => {
            Err(ConfError::unsupported(format!("graphics listen type '{t}' is not supported by the Xen driver")))
        }
        Some(t) => Err(ConfError::bad_attr("type", "listen", t)),
    }
}

// C: virDomainVideoDefParseXML
fn parse_video(node: Node<'_, '_>) -> Result<VideoDef, ConfError> {
    let mut video = VideoDef { video_type: None, vram: 0, heads: None, primary: false };
    if child(node, "driver").is_some() || child(node, "acceleration").is_some() {
        return Err(ConfError::unsupported("<video> driver and acceleration are not supported by the Xen driver"));
    }
    if let Some(m) = child(node, "model") {
        if let Some(t) = attr(m, "type") {
            video.video_type = Some(VideoType::parse(t).ok_or_else(|| {
                if ["vmvga", "vbox", "qxl", "parallels", "virtio", "gop", "none", "bochs", "ramfb", "default"].contains(&t) {
                    ConfError::libxl_unsupported(format!("video type {t} is not supported by libxl"))
                } else {
                    ConfError::bad_attr("type", "model", t)
                }
            })?);
        }
        video.vram = attr_uint(m, "vram")?.unwrap_or(0);
        video.heads = attr_uint(m, "heads")?;
        video.primary = attr_yes_no(m, "primary")? == Some(YesNo::Yes);
    }
    Ok(video)
}

// C: virDomainMemballoonDefParseXML
fn parse_memballoon(node: Node<'_, '_>) -> Result<MemballoonDef, ConfError> {
    let model = match attr(node, "model") {
        None => return Err(ConfError::missing_attr("model", "memballoon")),
        Some(m @ ("virtio-transitional" | "virtio-non-transitional")) => {
            return Err(ConfError::libxl_unsupported(format!("unsupported balloon device model '{m}'")))
        }
        Some(_) => attr_enum_req(node, "model", MemballoonModel::parse)?,
    };
    let stats_period = match child(node, "stats") {
        Some(s) => attr_uint(s, "period")?,
        None => None,
    };
    if attr_switch(node, "autodeflate")?.is_some() || attr_switch(node, "freePageReporting")?.is_some() {
        return Err(ConfError::unsupported("memballoon autodeflate and freePageReporting are not supported by the Xen driver"));
    }
    Ok(MemballoonDef { model, stats_period })
}
