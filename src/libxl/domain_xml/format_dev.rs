//! Writing `<devices>`: each device kind in the order and layout of
//! virDomainDefFormatInternal and the per-device formatters of conf/domain_conf.c.
use super::FormatFlags;
use crate::libxl::conf_util::mac_format;
use crate::libxl::domain_def::DomainDef;
use crate::libxl::domain_dev::*;
use crate::libxl::xml_writer::{Attrs, XmlWriter};

/// `<devices>` and everything in it.
pub fn format_devices(w: &mut XmlWriter, def: &DomainDef, flags: FormatFlags) {
    let dev = &def.devices;
    w.elem("devices", Attrs::new(), |w| {
        w.opt_text("emulator", dev.emulator.as_deref());
        for d in &dev.disks {
            format_disk(w, d, flags);
        }
        for c in &dev.controllers {
            format_controller(w, c);
        }
        for n in &dev.nets {
            format_net(w, n, flags);
        }
        for s in &dev.serials {
            format_chr(w, s, flags);
        }
        for (i, c) in dev.consoles.iter().enumerate() {
            // The HVM console that stands for serial port 0 shows that port's source.
            if i == 0 && c.console_target == Some(ConsoleTarget::Serial) {
                if let Some(serial) = dev.serials.first() {
                    let mut shown = serial.clone();
                    shown.device = ChrDeviceType::Console;
                    shown.console_target = Some(ConsoleTarget::Serial);
                    shown.serial_target = None;
                    shown.port = c.port;
                    format_chr(w, &shown, flags);
                    continue;
                }
            }
            format_chr(w, c, flags);
        }
        for i in &dev.inputs {
            w.empty("input", Attrs::new().add("type", i.input_type.as_str()).add("bus", i.bus.as_str()));
        }
        for g in &dev.graphics {
            format_graphics(w, g, flags);
        }
        for v in &dev.videos {
            format_video(w, v);
        }
        if let Some(b) = &dev.memballoon {
            w.elem("memballoon", Attrs::new().add("model", b.model.as_str()), |w| {
                if let Some(p) = b.stats_period {
                    w.empty("stats", Attrs::new().add("period", p));
                }
            });
        }
    });
}

fn format_alias(w: &mut XmlWriter, alias: Option<&str>, flags: FormatFlags) {
    if let Some(a) = alias {
        if !flags.inactive || a.starts_with("ua-") {
            w.empty("alias", Attrs::new().add("name", a));
        }
    }
}

// C: virDomainDiskDefFormat
fn format_disk(w: &mut XmlWriter, d: &DiskDef, flags: FormatFlags) {
    let attrs = Attrs::new().add("type", d.disk_type.as_str()).add("device", d.device.as_str());
    w.block("disk", attrs, |w| {
        let drv = Attrs::new()
            .opt("name", d.driver_name.as_deref())
            .opt("type", d.format.map(DiskFormat::as_str))
            .opt("cache", d.cache.map(DiskCache::as_str))
            .opt("io", d.io.map(DiskIo::as_str))
            .opt("discard", d.discard.map(DiskDiscard::as_str));
        if !drv.is_empty() {
            w.empty("driver", drv);
        }
        format_disk_source(w, d);
        w.empty("target", Attrs::new().add("dev", &d.dst).opt("bus", d.bus.map(DiskBus::as_str)));
        if d.readonly {
            w.empty("readonly", Attrs::new());
        }
        if d.shareable {
            w.empty("shareable", Attrs::new());
        }
        if d.transient {
            w.empty("transient", Attrs::new());
        }
        w.opt_text("serial", d.serial.as_deref());
        format_alias(w, d.alias.as_deref(), flags);
        if let Some(a) = d.address {
            w.empty(
                "address",
                Attrs::new()
                    .add("type", "drive")
                    .add("controller", a.controller)
                    .add("bus", a.bus)
                    .add("target", a.target)
                    .add("unit", a.unit),
            );
        }
    });
}

// C: virDomainDiskSourceFormat
fn format_disk_source(w: &mut XmlWriter, d: &DiskDef) {
    match d.disk_type {
        DiskType::File => {
            if let Some(p) = &d.source.path {
                w.empty("source", Attrs::new().add("file", p));
            }
        }
        DiskType::Block => {
            if let Some(p) = &d.source.path {
                w.empty("source", Attrs::new().add("dev", p));
            }
        }
        DiskType::Network => {
            let attrs = Attrs::new().opt("protocol", d.source.protocol.map(NetProtocol::as_str)).opt("name", d.source.name.as_deref());
            w.elem("source", attrs, |w| {
                for h in &d.source.hosts {
                    w.empty(
                        "host",
                        Attrs::new()
                            .opt("name", h.name.as_deref())
                            .opt("port", h.port)
                            .opt("transport", h.transport.map(HostTransport::as_str))
                            .opt("socket", h.socket.as_deref()),
                    );
                }
            });
        }
    }
}

// C: virDomainControllerDefFormat
fn format_controller(w: &mut XmlWriter, c: &ControllerDef) {
    let attrs = Attrs::new()
        .add("type", c.ctrl_type.as_str())
        .add("index", c.index)
        .opt("model", c.model.as_deref())
        .opt("ports", c.ports)
        .opt("maxGrantFrames", c.max_grant_frames)
        .opt("maxEventChannels", c.max_event_channels);
    w.empty("controller", attrs);
}

// C: virDomainNetDefFormat
fn format_net(w: &mut XmlWriter, n: &NetDef, flags: FormatFlags) {
    w.block("interface", Attrs::new().add("type", n.net_type.as_str()), |w| {
        w.empty("mac", Attrs::new().add("address", mac_format(&n.mac)));
        match (n.net_type, &n.source) {
            (NetType::Bridge, Some(s)) => w.empty("source", Attrs::new().add("bridge", s)),
            (NetType::Network, Some(s)) => w.empty("source", Attrs::new().add("network", s)),
            _ => {}
        }
        for ip in &n.ips {
            let family = if ip.address.is_ipv4() { "ipv4" } else { "ipv6" };
            w.empty("ip", Attrs::new().add("address", ip.address).add("family", family).opt("prefix", ip.prefix).opt("peer", ip.peer));
        }
        if let Some(s) = &n.script {
            w.empty("script", Attrs::new().add("path", s));
        }
        if let Some(t) = &n.ifname {
            w.empty("target", Attrs::new().add("dev", t));
        }
        if let Some(m) = &n.model {
            w.empty("model", Attrs::new().add("type", m));
        }
        format_alias(w, n.alias.as_deref(), flags);
    });
}

// C: virDomainChrDefFormat
fn format_chr(w: &mut XmlWriter, c: &ChrDef, flags: FormatFlags) {
    let name = match c.device {
        ChrDeviceType::Serial => "serial",
        ChrDeviceType::Console => "console",
    };
    w.block(name, Attrs::new().add("type", c.chr_type.as_str()), |w| {
        format_chr_source(w, c, flags);
        let target_type = match c.device {
            ChrDeviceType::Console => c.console_target.map(|t| t.as_str().to_owned()),
            ChrDeviceType::Serial => c.serial_target.clone(),
        };
        w.empty("target", Attrs::new().opt("type", target_type).add("port", c.port.max(0)));
        format_alias(w, c.alias.as_deref(), flags);
    });
}

// C: virDomainChrSourceDefFormat
fn format_chr_source(w: &mut XmlWriter, c: &ChrDef, flags: FormatFlags) {
    match c.chr_type {
        ChrType::Pty => {
            if let Some(p) = c.path.as_deref().filter(|_| !flags.inactive) {
                w.empty("source", Attrs::new().add("path", p));
            }
        }
        ChrType::Dev | ChrType::File | ChrType::Pipe => {
            if let Some(p) = &c.path {
                w.empty("source", Attrs::new().add("path", p));
            }
        }
        ChrType::Unix => {
            let mode = if c.listen { "bind" } else { "connect" };
            w.empty("source", Attrs::new().add("mode", mode).opt("path", c.path.as_deref()));
        }
        ChrType::Tcp => {
            let mode = if c.listen { "bind" } else { "connect" };
            w.empty("source", Attrs::new().add("mode", mode).opt("host", c.host.as_deref()).opt("service", c.service.as_deref()));
            w.empty("protocol", Attrs::new().add("type", c.protocol.unwrap_or(TcpProtocol::Raw).as_str()));
        }
        ChrType::Null | ChrType::Vc | ChrType::Stdio => {}
    }
}

// C: virDomainGraphicsDefFormat
fn format_graphics(w: &mut XmlWriter, g: &GraphicsDef, flags: FormatFlags) {
    match g {
        GraphicsDef::Sdl(s) => {
            let attrs = Attrs::new()
                .add("type", "sdl")
                .opt("display", s.display.as_deref())
                .opt("xauth", s.xauth.as_deref())
                .opt("fullscreen", s.fullscreen.then_some("yes"));
            w.empty("graphics", attrs);
        }
        GraphicsDef::Vnc(v) => {
            let port = if v.port > 0 && (!v.autoport || !flags.inactive) {
                Some(v.port)
            } else if v.autoport {
                Some(-1)
            } else {
                None
            };
            let listen_attr = match v.listens.first() {
                Some(GraphicsListen::Address { address: Some(a), auto_generated, .. }) if !(flags.inactive && *auto_generated) => {
                    Some(a.as_str())
                }
                _ => None,
            };
            let attrs = Attrs::new()
                .add("type", "vnc")
                .opt("port", port)
                .add("autoport", yes_no(v.autoport))
                .opt("websocket", (v.websocket != 0).then_some(v.websocket))
                .opt("listen", listen_attr)
                .opt("keymap", v.keymap.as_deref())
                .opt("sharePolicy", v.share_policy.map(SharePolicy::as_str))
                .opt("passwd", v.passwd.as_deref().filter(|_| flags.secure));
            w.elem("graphics", attrs, |w| {
                for l in &v.listens {
                    format_listen(w, l, flags);
                }
            });
        }
    }
}

// C: virDomainGraphicsListenDefFormat
fn format_listen(w: &mut XmlWriter, l: &GraphicsListen, flags: FormatFlags) {
    match l {
        GraphicsListen::Address { address, from_config, auto_generated } => {
            if flags.inactive && *from_config != 0 {
                return;
            }
            let shown = address.as_deref().filter(|_| !flags.inactive || !*auto_generated);
            let mut attrs = Attrs::new().add("type", "address").opt("address", shown);
            if !flags.inactive {
                attrs = attrs
                    .opt("fromConfig", (*from_config != 0).then_some(*from_config))
                    .opt("autoGenerated", auto_generated.then_some("yes"));
            }
            w.empty("listen", attrs);
        }
        GraphicsListen::None { from_config } => {
            if flags.inactive && *from_config != 0 {
                return;
            }
            let mut attrs = Attrs::new().add("type", "none");
            if !flags.inactive && *from_config != 0 {
                attrs = attrs.add("fromConfig", *from_config);
            }
            w.empty("listen", attrs);
        }
    }
}

// C: virDomainVideoDefFormat
fn format_video(w: &mut XmlWriter, v: &VideoDef) {
    w.block("video", Attrs::new(), |w| {
        let attrs = Attrs::new()
            .opt("type", v.video_type.map(VideoType::as_str))
            .opt("vram", (v.vram != 0).then_some(v.vram))
            .opt("heads", v.heads)
            .opt("primary", v.primary.then_some("yes"));
        w.empty("model", attrs);
    });
}
