//! Reading `<domain>` into a DomainDef: the domain-level elements, in the order
//! virDomainDefParseXML (conf/domain_conf.c) reads them, with libvirt's error texts.
//! Devices are in `parse_dev`, defaults and checks in `postparse`.
use roxmltree::Node;

use super::format::default_machine;
use super::node::{attr, attr_enum, attr_enum_req, attr_switch, attr_uint, attr_yes_no, child, child_text, children, parse_u64, text_of};
use super::{parse_dev, ParseFlags};
use crate::libxl::conf_util::{scale_integer, uuid_generate, uuid_parse, Bitmap, VIR_DOMAIN_CPUMASK_LEN};
use crate::libxl::domain_def::*;
use crate::libxl::error::ConfError;

/// The hypervisor names libvirt knows (virDomainVirt); only "xen" is ours.
const VIRT_TYPES: &[&str] = &[
    "none",
    "qemu",
    "kqemu",
    "kvm",
    "xen",
    "lxc",
    "uml",
    "openvz",
    "test",
    "vmware",
    "hyperv",
    "vbox",
    "phyp",
    "parallels",
    "bhyve",
    "vz",
    "ch",
];

/// Elements of libvirt's domain schema this driver does not implement: refused rather than
/// silently dropped, so a definition never loses configuration on its way through us.
const UNSUPPORTED_TOP: &[&str] = &[
    "genid",
    "maxMemory",
    "blkiotune",
    "memtune",
    "memoryBacking",
    "vcpus",
    "iothreads",
    "iothreadids",
    "cputune",
    "numatune",
    "resource",
    "sysinfo",
    "idmap",
    "cpu",
    "pm",
    "perf",
    "seclabel",
    "keywrap",
    "launchSecurity",
    "on_lockfailure",
    "throttlegroups",
];

/// Largest memory size accepted, in bytes (virMemoryMaxValue on 64-bit hosts).
const MEMORY_LIMIT: u64 = i64::MAX as u64;

/// Reads the `<domain>` element `root` (already known to be named "domain").
// C: virDomainDefParseXML
pub fn parse_domain_node(root: Node<'_, '_>, flags: ParseFlags) -> Result<DomainDef, ConfError> {
    match attr(root, "type") {
        None => return Err(ConfError::internal("missing domain type attribute")),
        Some(t) if !VIRT_TYPES.contains(&t) => return Err(ConfError::unsupported(format!("invalid domain type {t}"))),
        Some(_) => {}
    }
    let virt = attr(root, "type").unwrap_or("xen");

    let id = if flags.inactive {
        -1
    } else {
        match attr(root, "id") {
            Some(v) => v.trim().parse::<i32>().unwrap_or(-1),
            None => -1,
        }
    };

    let name = child_text(root, "name")
        .ok_or_else(|| ConfError::bare(crate::rpc::protocol::VIR_ERR_NO_NAME, crate::rpc::protocol::VIR_FROM_DOMAIN))?;
    if name.contains('/') {
        return Err(ConfError::xml(format!("name {name} cannot contain '/'")));
    }

    let uuid = match child_text(root, "uuid") {
        None => uuid_generate()?,
        Some(s) => uuid_parse(&s).ok_or_else(|| ConfError::internal("malformed uuid element"))?,
    };

    let title = child_text(root, "title");
    if title.as_deref().is_some_and(|t| t.contains('\n')) {
        return Err(ConfError::xml("Domain title can't contain newlines"));
    }
    let description = child_text(root, "description");
    let metadata = child(root, "metadata").map(parse_metadata).unwrap_or_default();

    let os_node = child(root, "os");
    let (os_type, arch, machine) = parse_os_caps(os_node, virt)?;

    for name in UNSUPPORTED_TOP {
        if child(root, name).is_some() {
            return Err(ConfError::unsupported(format!("<{name}> is not supported by the Xen driver")));
        }
    }

    let memory_kib = parse_memory(root, "memory")?.unwrap_or(0);
    let current_memory_kib = parse_memory(root, "currentMemory")?.unwrap_or(0);
    let vcpu = parse_vcpu(root)?;

    let os = parse_os_boot(root, os_node, os_type, arch, machine)?;
    let features = match child(root, "features") {
        Some(n) => parse_features(n)?,
        None => Features::default(),
    };
    let clock = parse_clock(root)?;
    let on_poweroff = parse_lifecycle(root, "on_poweroff", LifecycleAction::Destroy)?;
    let on_reboot = parse_lifecycle(root, "on_reboot", LifecycleAction::Restart)?;
    let on_crash = parse_lifecycle(root, "on_crash", LifecycleAction::Destroy)?;

    let mut def = DomainDef {
        id,
        name,
        uuid,
        title,
        description,
        metadata,
        memory_kib,
        current_memory_kib,
        vcpu,
        os,
        features,
        clock,
        on_poweroff,
        on_reboot,
        on_crash,
        devices: Devices::default(),
    };
    if let Some(devices) = child(root, "devices") {
        parse_dev::parse_devices(devices, &mut def, flags)?;
    }
    Ok(def)
}

/// `<metadata>`: keeps namespaced children, the first per namespace URI.
// C: virXMLNodeSanitizeNamespaces
fn parse_metadata(node: Node<'_, '_>) -> Vec<XmlElement> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for c in node.children().filter(|c| c.is_element()) {
        let Some(uri) = c.tag_name().namespace() else {
            continue;
        };
        if seen.contains(&uri) {
            continue;
        }
        seen.push(uri);
        out.push(copy_foreign(c, true));
    }
    out
}

fn qualified(node: Node<'_, '_>, local: &str, ns: Option<&str>) -> String {
    match ns.and_then(|u| node.lookup_prefix(u)) {
        Some(p) if !p.is_empty() => format!("{p}:{local}"),
        _ => local.to_owned(),
    }
}

/// Copies a foreign element; the top one declares every namespace it or its descendants use
/// that was declared above it (what xmlCopyNode's namespace reconciliation produces).
fn copy_foreign(node: Node<'_, '_>, top: bool) -> XmlElement {
    let mut attrs = Vec::new();
    let parent_ns: Vec<(Option<&str>, &str)> =
        node.parent_element().map(|p| p.namespaces().map(|n| (n.name(), n.uri())).collect()).unwrap_or_default();
    for ns in node.namespaces() {
        let declared_here = top || !parent_ns.contains(&(ns.name(), ns.uri()));
        if !declared_here || ns.name() == Some("xml") {
            continue;
        }
        if top && !ns_used(node, ns.uri()) && parent_ns.contains(&(ns.name(), ns.uri())) {
            continue;
        }
        match ns.name() {
            Some(p) => attrs.push((format!("xmlns:{p}"), ns.uri().to_owned())),
            None => attrs.push(("xmlns".to_owned(), ns.uri().to_owned())),
        }
    }
    for a in node.attributes() {
        attrs.push((qualified(node, a.name(), a.namespace()), a.value().to_owned()));
    }
    let mut children = Vec::new();
    let elements = node.children().filter(|c| c.is_element()).count();
    for c in node.children() {
        if c.is_element() {
            children.push(XmlNode::Element(copy_foreign(c, false)));
        } else if c.is_text() {
            let t = c.text().unwrap_or("");
            // Blank text between elements is dropped (libvirt parses with blanks off).
            if elements > 0 && t.trim().is_empty() {
                continue;
            }
            children.push(XmlNode::Text(t.to_owned()));
        }
    }
    XmlElement { name: qualified(node, node.tag_name().name(), node.tag_name().namespace()), attrs, children }
}

fn ns_used(node: Node<'_, '_>, uri: &str) -> bool {
    node.descendants()
        .filter(|d| d.is_element())
        .any(|d| d.tag_name().namespace() == Some(uri) || d.attributes().any(|a| a.namespace() == Some(uri)))
}

/// `<os><type arch machine>` and the capabilities lookup.
// C: virDomainDefParseCaps
fn parse_os_caps(os: Option<Node<'_, '_>>, virt: &str) -> Result<(OsType, Arch, Option<String>), ConfError> {
    let type_node = os.and_then(|o| child(o, "type"));
    let type_text = type_node.map(text_of).filter(|s| !s.is_empty());
    let Some(type_text) = type_text else {
        return Err(ConfError::xml("an os <type> must be specified"));
    };
    let Some(os_type) = OsType::parse(&type_text) else {
        return Err(ConfError::unsupported(format!("unknown OS type '{type_text}'")));
    };
    let arch_text = type_node.and_then(|n| attr(n, "arch")).filter(|s| !s.is_empty());
    let machine = type_node.and_then(|n| attr(n, "machine")).filter(|s| !s.is_empty()).map(str::to_owned);
    let arch = match arch_text {
        None => Arch::X86_64,
        Some(a) => match Arch::parse(a) {
            Some(arch) => arch,
            None if KNOWN_ARCHES.contains(&a) => {
                return Err(ConfError::no_capabilities(&type_text, a, virt));
            }
            None => return Err(ConfError::unsupported(format!("Unknown architecture {a}"))),
        },
    };
    // The capabilities of a Xen host: PV and PVH on x86_64, HVM on i686 and x86_64.
    let supported = virt == "xen" && (os_type == OsType::Hvm || arch == Arch::X86_64);
    if !supported {
        return Err(ConfError::no_capabilities(&type_text, arch.as_str(), virt));
    }
    let os_type = if os_type == OsType::Linux { OsType::Xen } else { os_type };
    let machine = machine.or_else(|| Some(default_machine(os_type).to_owned()));
    Ok((os_type, arch, machine))
}

/// Architectures libvirt knows but a Xen x86 host does not offer (virArch).
const KNOWN_ARCHES: &[&str] = &[
    "alpha",
    "armv6l",
    "armv7l",
    "armv7b",
    "aarch64",
    "cris",
    "loongarch64",
    "m68k",
    "microblaze",
    "microblazeel",
    "mips",
    "mipsel",
    "mips64",
    "mips64el",
    "openrisc",
    "parisc",
    "parisc64",
    "ppc",
    "ppcle",
    "ppc64",
    "ppc64le",
    "ppcemb",
    "riscv32",
    "riscv64",
    "s390",
    "s390x",
    "sh4",
    "sh4eb",
    "sparc",
    "sparc64",
    "unicore32",
    "xtensa",
    "xtensaeb",
];

/// `<memory>`/`<currentMemory>` with its unit, in KiB rounded up.
// C: virDomainParseMemory
fn parse_memory(root: Node<'_, '_>, name: &str) -> Result<Option<u64>, ConfError> {
    let Some(node) = child(root, name) else {
        return Ok(None);
    };
    let text = text_of(node);
    let Some(value) = parse_u64(text.trim()).filter(|_| !text.trim().is_empty()) else {
        return Err(ConfError::new(
            crate::rpc::protocol::VIR_ERR_XML_ERROR,
            crate::rpc::protocol::VIR_FROM_XML,
            format!("Invalid value '{text}' for element or attribute './{name}[1]'"),
        ));
    };
    let bytes = scale_integer(value, attr(node, "unit"), 1024, MEMORY_LIMIT)?;
    Ok(Some(bytes.div_ceil(1024)))
}

/// `<vcpu placement cpuset current>N</vcpu>`.
// C: virDomainVcpuParse
fn parse_vcpu(root: Node<'_, '_>) -> Result<VcpuDef, ConfError> {
    let Some(node) = child(root, "vcpu") else {
        return Ok(VcpuDef { max: 1, current: 1, placement: Placement::Static, cpuset: None });
    };
    let text = text_of(node);
    let max: u32 = match text.trim().parse::<u32>() {
        Ok(v) if !text.trim().starts_with('+') => v,
        _ => return Err(ConfError::xml("maximum vcpus count must be an integer")),
    };
    let current = attr_uint(node, "current")?.unwrap_or(max);
    if current > max {
        return Err(ConfError::unsupported("maximum vCPU count must not be less than current vCPU count"));
    }
    let cpuset = match attr(node, "cpuset") {
        None => None,
        Some(s) => {
            let bm = Bitmap::parse(s, VIR_DOMAIN_CPUMASK_LEN)?;
            if bm.is_empty() {
                return Err(ConfError::xml(format!("Invalid value of 'cpuset': {s}")));
            }
            Some(bm)
        }
    };
    let placement = match attr_enum(node, "placement", Placement::parse)? {
        Some(p) => p,
        None => Placement::Static,
    };
    Ok(VcpuDef { max, current, placement, cpuset })
}

/// The boot options under `<os>`, plus `<bootloader>`/`<bootloader_args>`.
// C: virDomainDefParseBootOptions
fn parse_os_boot(
    root: Node<'_, '_>,
    os: Option<Node<'_, '_>>,
    os_type: OsType,
    arch: Arch,
    machine: Option<String>,
) -> Result<OsDef, ConfError> {
    let mut def = OsDef {
        os_type,
        arch,
        machine,
        firmware: None,
        loader: None,
        kernel: None,
        initrd: None,
        cmdline: None,
        boot_devs: Vec::new(),
        bootmenu: None,
        bootloader: child_text(root, "bootloader"),
        bootloader_args: child_text(root, "bootloader_args"),
    };
    let Some(os) = os else {
        return Ok(def);
    };
    def.kernel = child_text(os, "kernel");
    def.initrd = child_text(os, "initrd");
    def.cmdline = child_text(os, "cmdline");
    for name in ["dtb", "acpi", "smbios", "init", "initarg", "initenv", "initdir", "inituser", "initgroup", "root"] {
        if child(os, name).is_some() {
            return Err(ConfError::unsupported(format!("<os><{name}> is not supported by the Xen driver")));
        }
    }
    if os_type == OsType::Hvm {
        def.firmware = attr_enum(os, "firmware", Firmware::parse)?;
        if child(os, "firmware").is_some() {
            return Err(ConfError::unsupported("<os><firmware> is not supported by the Xen driver"));
        }
    }
    if let Some(l) = child(os, "loader") {
        def.loader = Some(parse_loader(l)?);
    }
    if os_type == OsType::Hvm {
        for b in children(os, "boot") {
            let dev = attr_enum_req(b, "dev", BootDev::parse)?;
            if def.boot_devs.len() < 4 {
                def.boot_devs.push(dev);
            }
        }
        if let Some(m) = child(os, "bootmenu") {
            let enable = attr_yes_no(m, "enable")?;
            let timeout = attr_uint(m, "timeout")?;
            if let Some(enable) = enable {
                def.bootmenu = Some(BootMenu { enable, timeout });
            }
        }
    }
    Ok(def)
}

/// `<loader readonly secure type>path</loader>`.
// C: virDomainLoaderDefParseXML
fn parse_loader(node: Node<'_, '_>) -> Result<LoaderDef, ConfError> {
    let readonly = attr_yes_no(node, "readonly")?;
    let secure = attr_yes_no(node, "secure")?;
    let mut loader_type = attr_enum(node, "type", LoaderType::parse)?;
    let path = Some(text_of(node)).filter(|s| !s.is_empty());
    if loader_type.is_none() && path.is_some() {
        loader_type = Some(LoaderType::Rom);
    }
    Ok(LoaderDef { path, readonly, secure, loader_type })
}

/// `<features>`: the toggles Xen uses; any other feature libvirt knows is refused here.
// C: virDomainFeaturesDefParse
fn parse_features(node: Node<'_, '_>) -> Result<Features, ConfError> {
    const OTHER_KNOWN: &[&str] = &[
        "privnet",
        "hyperv",
        "kvm",
        "pvspinlock",
        "capabilities",
        "pmu",
        "vmport",
        "gic",
        "smm",
        "ioapic",
        "hpt",
        "vmcoreinfo",
        "htm",
        "nested-hv",
        "msrs",
        "ccf-assist",
        "cfpc",
        "sbbc",
        "ibs",
        "tcg",
        "async-teardown",
    ];
    let mut f = Features::default();
    for c in node.children().filter(|c| c.is_element()) {
        let name = c.tag_name().name();
        match name {
            "acpi" => f.acpi = true,
            "apic" => f.apic = Some(attr_switch(c, "eoi")?),
            "pae" => f.pae = true,
            "viridian" => f.viridian = true,
            "hap" => f.hap = Some(attr_switch(c, "state")?.unwrap_or(Switch::On)),
            "xen" => f.xen = Some(parse_xen_features(c)?),
            n if OTHER_KNOWN.contains(&n) => {
                return Err(ConfError::unsupported(format!("feature '{n}' is not supported by the Xen driver")))
            }
            n => return Err(ConfError::unsupported(format!("unexpected feature '{n}'"))),
        }
    }
    Ok(f)
}

fn parse_xen_features(node: Node<'_, '_>) -> Result<XenFeatures, ConfError> {
    let mut x = XenFeatures::default();
    for c in node.children().filter(|c| c.is_element()) {
        match c.tag_name().name() {
            "e820_host" => x.e820_host = Some(attr_switch(c, "state")?.ok_or_else(|| ConfError::missing_attr("state", "e820_host"))?),
            "passthrough" => {
                let state = attr_switch(c, "state")?.ok_or_else(|| ConfError::missing_attr("state", "passthrough"))?;
                let mode = attr_enum(c, "mode", PassthroughMode::parse)?;
                x.passthrough = Some((state, mode));
            }
            n => return Err(ConfError::unsupported(format!("unsupported Xen feature '{n}'"))),
        }
    }
    Ok(x)
}

/// `<clock offset ...>` and its timers.
// C: virDomainDefClockParse
fn parse_clock(root: Node<'_, '_>) -> Result<ClockDef, ConfError> {
    let Some(node) = child(root, "clock") else {
        return Ok(ClockDef { offset: ClockOffset::Utc { reset: false }, timers: Vec::new() });
    };
    let offset_name = attr(node, "offset").unwrap_or("utc");
    let adjustment = attr(node, "adjustment");
    let offset = match offset_name {
        "utc" | "localtime" => {
            let localtime = offset_name == "localtime";
            match adjustment {
                None => {
                    if localtime {
                        ClockOffset::Localtime { reset: false }
                    } else {
                        ClockOffset::Utc { reset: false }
                    }
                }
                Some("reset") if localtime => ClockOffset::Localtime { reset: true },
                Some("reset") => ClockOffset::Utc { reset: true },
                Some(a) => {
                    let adjustment = a.parse::<i64>().map_err(|_| ConfError::xml(format!("unknown clock adjustment '{a}'")))?;
                    let basis = if localtime { ClockBasis::Localtime } else { ClockBasis::Utc };
                    ClockOffset::Variable { adjustment, basis }
                }
            }
        }
        "variable" => {
            let adjustment = match adjustment {
                None => 0,
                Some(a) => a.parse::<i64>().map_err(|_| ConfError::xml(format!("unknown clock adjustment '{a}'")))?,
            };
            let basis = match attr(node, "basis") {
                None => ClockBasis::Utc,
                Some(b) => ClockBasis::parse(b).ok_or_else(|| ConfError::xml(format!("unknown clock basis '{b}'")))?,
            };
            ClockOffset::Variable { adjustment, basis }
        }
        "timezone" => match attr(node, "timezone") {
            Some(tz) => ClockOffset::Timezone(tz.to_owned()),
            None => return Err(ConfError::xml("missing 'timezone' attribute for clock with offset='timezone'")),
        },
        "absolute" => {
            let start = attr(node, "start")
                .and_then(parse_u64)
                .ok_or_else(|| ConfError::xml("missing 'start' attribute for clock with offset='absolute'"))?;
            ClockOffset::Absolute(start)
        }
        other => return Err(ConfError::unsupported(format!("unknown clock offset '{other}'"))),
    };
    let mut timers = Vec::new();
    for t in children(node, "timer") {
        timers.push(parse_timer(t)?);
    }
    Ok(ClockDef { offset, timers })
}

// C: virDomainTimerDefParseXML
fn parse_timer(node: Node<'_, '_>) -> Result<TimerDef, ConfError> {
    if child(node, "catchup").is_some() {
        return Err(ConfError::unsupported("<timer><catchup> is not supported by the Xen driver"));
    }
    let frequency = match attr(node, "frequency") {
        None => None,
        Some(v) => Some(parse_u64(v).ok_or_else(|| ConfError::xml("invalid timer frequency"))?),
    };
    Ok(TimerDef {
        name: attr_enum_req(node, "name", TimerName::parse)?,
        present: attr_yes_no(node, "present")?,
        tickpolicy: attr_enum(node, "tickpolicy", TimerTickpolicy::parse)?,
        track: attr_enum(node, "track", TimerTrack::parse)?,
        frequency,
        mode: attr_enum(node, "mode", TimerMode::parse)?,
    })
}

/// `<on_poweroff>` and friends.
// C: virDomainEventActionParseXML
fn parse_lifecycle(root: Node<'_, '_>, name: &str, default: LifecycleAction) -> Result<LifecycleAction, ConfError> {
    match child_text(root, name) {
        None => Ok(default),
        Some(v) => LifecycleAction::parse(&v).ok_or_else(|| ConfError::unsupported(format!("unknown {name} action: {v}"))),
    }
}
