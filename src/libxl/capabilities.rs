//! The host capabilities XML and node information of a Xen host (libvirt's
//! libxl/libxl_capabilities.c: libxlMakeCapabilities, libxlCapsInitHost, libxlCapsInitNuma,
//! libxlCapsInitGuests; and libxl_driver.c libxlNodeGetInfo).

use std::fmt::Write as _;

use crate::libxl_ffi::{CpuTopology, NumaNode, PhysInfo, VersionInfo};
use crate::remote::domain_proto::NodeInfoRet;

/// Where Debian's Xen 4.17 keeps hvmloader (libxl's LIBXL_FIRMWARE_DIR in Debian's build).
pub const XEN_FIRMWARE_DIR: &str = "/usr/lib/xen-4.17/boot";
/// The device model Debian's libxl runs (its --with-system-qemu).
pub const XEN_EMULATOR: &str = "/usr/bin/qemu-system-i386";

/// One guest kind the hypervisor offers, from a token of version_info.capabilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestCap {
    /// "xen" (PV) or "hvm".
    pub kind: &'static str,
    /// libvirt's arch name (i686, x86_64, armv7l, aarch64...).
    pub arch: &'static str,
    /// 32-bit with PAE ("x86_32p").
    pub pae: bool,
    pub nonpae: bool,
}

/// Parses tokens like `xen-3.0-x86_64 hvm-3.0-x86_32p`; unknown tokens are skipped.
// C: libxlCapsInitGuests (the regex part)
pub fn parse_guest_caps(caps: &str) -> Vec<GuestCap> {
    let mut out: Vec<GuestCap> = Vec::new();
    for tok in caps.split_whitespace() {
        let mut parts = tok.splitn(3, '-');
        let (Some(kind), Some(ver), Some(arch)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let kind = match kind {
            "xen" => "xen",
            "hvm" => "hvm",
            _ => continue,
        };
        if !ver.split('.').all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) {
            continue;
        }
        let (arch_tok, pae) = match arch.strip_suffix('p') {
            Some(a) => (a, true),
            None => (arch.strip_suffix("be").unwrap_or(arch), false),
        };
        let arch = match arch_tok {
            "x86_32" => "i686",
            "x86_64" => "x86_64",
            "aarch64" => "aarch64",
            "armv7l" => "armv7l",
            "ia64" => "ia64",
            "powerpc64" => "ppc64",
            _ => continue,
        };
        // x86_32 without "p" is a non-PAE guest; the same arch may appear twice.
        let nonpae = arch == "i686" && !pae;
        if let Some(g) = out.iter_mut().find(|g| g.kind == kind && g.arch == arch) {
            g.pae |= pae;
            g.nonpae |= nonpae;
        } else {
            out.push(GuestCap { kind, arch, pae, nonpae });
        }
    }
    out
}

fn wordsize(arch: &str) -> u32 {
    if arch == "i686" || arch == "armv7l" {
        32
    } else {
        64
    }
}

/// The host's architecture as libvirt names it.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86" => "i686",
        "aarch64" => "aarch64",
        "arm" => "armv7l",
        _ => "x86_64",
    }
}

/// Everything the capabilities XML is made from.
pub struct HostFacts<'a> {
    pub version: &'a VersionInfo,
    pub phys: &'a PhysInfo,
    pub numa: &'a [NumaNode],
    pub topology: &'a [CpuTopology],
    pub host_uuid: Option<String>,
}

// C: libxlMakeCapabilities (formatted as virCapabilitiesFormatXML would)
pub fn capabilities_xml(h: &HostFacts<'_>) -> String {
    let mut x = String::from("<capabilities>\n\n  <host>\n");
    if let Some(u) = &h.host_uuid {
        let _ = writeln!(x, "    <uuid>{u}</uuid>");
    }
    let _ = writeln!(x, "    <cpu>\n      <arch>{}</arch>", host_arch());
    if h.phys.hw_cap[0] != 0 {
        let cores = h.phys.cores_per_socket.max(1);
        let threads = h.phys.threads_per_core.max(1);
        let sockets = (h.phys.nr_cpus / (cores * threads)).max(1);
        let _ = writeln!(x, "      <topology sockets='{sockets}' dies='1' clusters='1' cores='{cores}' threads='{threads}'/>");
        if h.phys.hw_cap[0] & (1 << 6) != 0 {
            x.push_str("      <feature name='pae'/>\n");
        }
    }
    x.push_str("    </cpu>\n    <power_management/>\n    <iommu support='no'/>\n");
    x.push_str("    <migration_features>\n      <live/>\n    </migration_features>\n");
    x.push_str("    <netprefix>vif</netprefix>\n");
    numa_xml(&mut x, h);
    x.push_str("  </host>\n\n");
    for g in parse_guest_caps(&h.version.capabilities) {
        guest_xml(&mut x, &g, g.kind, if g.kind == "xen" { "xenpv" } else { "xenfv" });
        if g.kind == "hvm" {
            guest_xml(&mut x, &g, "xenpvh", "xenpvh");
        }
    }
    x.push_str("</capabilities>\n");
    x
}

fn numa_xml(x: &mut String, h: &HostFacts<'_>) {
    if h.numa.is_empty() {
        return;
    }
    let _ = writeln!(x, "    <topology>\n      <cells num='{}'>", h.numa.len());
    for (id, node) in h.numa.iter().enumerate() {
        let _ = writeln!(x, "        <cell id='{id}'>\n          <memory unit='KiB'>{}</memory>", node.size / 1024);
        if !node.dists.is_empty() {
            x.push_str("          <distances>\n");
            for (j, d) in node.dists.iter().enumerate() {
                let _ = writeln!(x, "            <sibling id='{j}' value='{d}'/>");
            }
            x.push_str("          </distances>\n");
        }
        let cpus: Vec<(usize, &CpuTopology)> = h.topology.iter().enumerate().filter(|(_, t)| t.node as usize == id).collect();
        let _ = writeln!(x, "          <cpus num='{}'>", cpus.len());
        for (cpu, t) in &cpus {
            let siblings: Vec<String> = h
                .topology
                .iter()
                .enumerate()
                .filter(|(_, o)| o.socket == t.socket && o.core == t.core)
                .map(|(i, _)| i.to_string())
                .collect();
            let _ = writeln!(
                x,
                "            <cpu id='{cpu}' socket_id='{}' die_id='0' cluster_id='0' core_id='{}' siblings='{}'/>",
                t.socket,
                t.core,
                siblings.join(",")
            );
        }
        x.push_str("          </cpus>\n        </cell>\n");
    }
    x.push_str("      </cells>\n    </topology>\n");
}

fn guest_xml(x: &mut String, g: &GuestCap, os_type: &str, machine: &str) {
    let _ = writeln!(x, "  <guest>\n    <os_type>{os_type}</os_type>\n    <arch name='{}'>", g.arch);
    let _ = writeln!(x, "      <wordsize>{}</wordsize>\n      <emulator>{XEN_EMULATOR}</emulator>", wordsize(g.arch));
    if os_type == "hvm" {
        let _ = writeln!(x, "      <loader>{XEN_FIRMWARE_DIR}/hvmloader</loader>");
    }
    let _ = writeln!(x, "      <machine>{machine}</machine>\n      <domain type='xen'/>\n    </arch>");
    if os_type != "xen" {
        x.push_str("    <features>\n");
        if os_type == "hvm" {
            if g.pae {
                x.push_str("      <pae/>\n");
            }
            if g.nonpae {
                x.push_str("      <nonpae/>\n");
            }
            x.push_str("      <acpi default='on' toggle='yes'/>\n      <apic default='on' toggle='no'/>\n");
        }
        x.push_str("      <hap default='on' toggle='yes'/>\n    </features>\n");
    }
    x.push_str("  </guest>\n\n");
}

/// Most vCPUs of a fully virtualised guest (libxl_capabilities.c HVM_MAX_VCPUS).
pub const HVM_MAX_VCPUS: u32 = 128;
/// Most vCPUs of a PV or PVH guest (libxl_capabilities.c PV_MAX_VCPUS).
pub const PV_MAX_VCPUS: u32 = 512;

/// The vCPU limit domain capabilities report for a guest kind.
pub fn max_vcpus(hvm: bool) -> u32 {
    if hvm {
        HVM_MAX_VCPUS
    } else {
        PV_MAX_VCPUS
    }
}

/// The domain capabilities XML of one machine type (virsh domcapabilities).
// C: libxlMakeDomainCapabilities (formatted as virDomainCapsFormat would)
pub fn domain_capabilities_xml(emulator: &str, machine: &str, arch: &str) -> String {
    let hvm = machine == "xenfv";
    let mut x = String::from("<domainCapabilities>\n");
    let _ = writeln!(x, "  <path>{emulator}</path>\n  <domain>xen</domain>\n  <machine>{machine}</machine>\n  <arch>{arch}</arch>");
    let _ = writeln!(x, "  <vcpu max='{}'/>\n  <iothreads supported='no'/>", max_vcpus(hvm));
    x.push_str("  <os supported='yes'>\n");
    if hvm {
        let _ = writeln!(x, "    <loader supported='yes'>\n      <value>{XEN_FIRMWARE_DIR}/hvmloader</value>");
        x.push_str("      <enum name='type'>\n        <value>rom</value>\n        <value>pflash</value>\n      </enum>\n");
        x.push_str("      <enum name='readonly'>\n        <value>yes</value>\n      </enum>\n    </loader>\n");
    } else {
        x.push_str("    <loader supported='no'/>\n");
    }
    x.push_str("  </os>\n  <cpu>\n");
    for mode in ["host-passthrough", "maximum", "host-model", "custom"] {
        let _ = writeln!(x, "    <mode name='{mode}' supported='no'/>");
    }
    x.push_str("  </cpu>\n  <devices>\n");
    let enum_xml = |x: &mut String, name: &str, values: &[&str]| {
        if values.is_empty() {
            let _ = writeln!(x, "      <enum name='{name}'/>");
            return;
        }
        let _ = writeln!(x, "      <enum name='{name}'>");
        for v in values {
            let _ = writeln!(x, "        <value>{v}</value>");
        }
        x.push_str("      </enum>\n");
    };
    x.push_str("    <disk supported='yes'>\n");
    enum_xml(&mut x, "diskDevice", &["disk", "cdrom"]);
    enum_xml(&mut x, "bus", &["ide", "scsi", "xen"]);
    enum_xml(&mut x, "model", &[]);
    x.push_str("    </disk>\n    <graphics supported='yes'>\n");
    enum_xml(&mut x, "type", &["sdl", "vnc", "spice"]);
    x.push_str("    </graphics>\n    <video supported='yes'>\n");
    enum_xml(&mut x, "modelType", &["vga", "cirrus", "xen"]);
    x.push_str("    </video>\n    <hostdev supported='yes'>\n");
    enum_xml(&mut x, "mode", &["subsystem"]);
    enum_xml(&mut x, "startupPolicy", &["default", "mandatory", "requisite", "optional"]);
    enum_xml(&mut x, "subsysType", &["usb", "pci"]);
    enum_xml(&mut x, "capsType", &[]);
    enum_xml(&mut x, "pciBackend", if machine == "xenpvh" { &[] } else { &["xen"] });
    x.push_str("    </hostdev>\n  </devices>\n  <features>\n");
    for f in ["gic", "vmcoreinfo", "genid", "sev"] {
        let _ = writeln!(x, "    <{f} supported='no'/>");
    }
    x.push_str("  </features>\n</domainCapabilities>\n");
    x
}

/// virNodeInfo of the host. libvirt reports one socket and the per-socket core count.
// C: libxlNodeGetInfo
pub fn node_info(phys: &PhysInfo, pagesize: i32) -> NodeInfoRet {
    let page_kib = (pagesize.max(1024) as u64) / 1024;
    NodeInfoRet {
        model: host_arch().to_string(),
        memory: phys.total_pages.saturating_mul(page_kib),
        cpus: phys.nr_cpus as i32,
        mhz: (phys.cpu_khz / 1000) as i32,
        nodes: phys.nr_nodes.max(1) as i32,
        sockets: 1,
        cores: phys.cores_per_socket as i32,
        threads: phys.threads_per_core as i32,
    }
}

/// Whether the host can run guests of an XML os type on an arch (used to refuse
/// definitions the hypervisor cannot run).
pub fn supports(caps: &[GuestCap], os_type: &str, arch: &str) -> bool {
    let kind = match os_type {
        "xen" | "linux" => "xen",
        "hvm" | "xenpvh" => "hvm",
        _ => return false,
    };
    caps.iter().any(|g| g.kind == kind && g.arch == arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86: &str = "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64";

    fn phys() -> PhysInfo {
        PhysInfo {
            threads_per_core: 1,
            cores_per_socket: 2,
            max_cpu_id: 1,
            nr_cpus: 2,
            cpu_khz: 2_400_000,
            total_pages: 262_144,
            free_pages: 1000,
            scrub_pages: 0,
            nr_nodes: 1,
            hw_cap: [1 << 6, 0, 0, 0, 0, 0, 0, 0],
            cap_hvm: true,
            cap_pv: true,
            cap_hvm_directio: false,
            cap_hap: true,
            cap_shadow: true,
        }
    }

    fn version(caps: &str) -> VersionInfo {
        VersionInfo {
            major: 4,
            minor: 17,
            extra: ".0".into(),
            compiler: String::new(),
            compile_by: String::new(),
            compile_domain: String::new(),
            compile_date: String::new(),
            capabilities: caps.into(),
            changeset: String::new(),
            virt_start: 0,
            pagesize: 4096,
            commandline: String::new(),
            build_id: String::new(),
        }
    }

    #[test]
    fn x86_caps_string_gives_pv_and_hvm_guests() {
        let g = parse_guest_caps(X86);
        assert_eq!(g.len(), 3);
        assert!(g.iter().any(|c| c.kind == "xen" && c.arch == "x86_64"));
        let i686 = g.iter().find(|c| c.kind == "hvm" && c.arch == "i686").unwrap();
        assert!(i686.pae && i686.nonpae);
    }

    #[test]
    fn unknown_tokens_are_skipped() {
        assert!(parse_guest_caps("kvm-1.0-x86_64 xen-x.y-x86_64 hvm-3.0-mips garbage").is_empty());
    }

    #[test]
    fn capabilities_list_pvh_for_each_hvm_arch() {
        let v = version(X86);
        let p = phys();
        let xml = capabilities_xml(&HostFacts { version: &v, phys: &p, numa: &[], topology: &[], host_uuid: None });
        assert_eq!(xml.matches("<os_type>xenpvh</os_type>").count(), 2);
        assert_eq!(xml.matches("<os_type>xen</os_type>").count(), 1);
        assert!(xml.contains("<machine>xenfv</machine>"));
        assert!(xml.contains("<feature name='pae'/>"));
        assert!(xml.contains("<netprefix>vif</netprefix>"));
        assert!(roxmltree::Document::parse(&xml).is_ok());
    }

    #[test]
    fn numa_cells_list_cpus_with_siblings() {
        let v = version(X86);
        let p = phys();
        let numa = [NumaNode { size: 1 << 30, free: 0, dists: vec![10] }];
        let topo = [CpuTopology { core: 0, socket: 0, node: 0 }, CpuTopology { core: 0, socket: 0, node: 0 }];
        let xml = capabilities_xml(&HostFacts { version: &v, phys: &p, numa: &numa, topology: &topo, host_uuid: None });
        assert!(xml.contains("<memory unit='KiB'>1048576</memory>"));
        assert!(xml.contains("siblings='0,1'"));
    }

    #[test]
    fn node_info_follows_libvirt() {
        let n = node_info(&phys(), 4096);
        assert_eq!((n.memory, n.cpus, n.mhz, n.sockets, n.cores), (1_048_576, 2, 2400, 1, 2));
    }

    #[test]
    fn domain_capabilities_differ_by_machine() {
        let fv = domain_capabilities_xml(XEN_EMULATOR, "xenfv", "x86_64");
        assert!(fv.contains("<vcpu max='128'/>") && fv.contains("hvmloader"));
        let pv = domain_capabilities_xml(XEN_EMULATOR, "xenpv", "x86_64");
        assert!(pv.contains("<vcpu max='512'/>") && pv.contains("<loader supported='no'/>"));
        assert!(roxmltree::Document::parse(&pv).is_ok() && roxmltree::Document::parse(&fv).is_ok());
    }

    #[test]
    fn supports_checks_kind_and_arch() {
        let g = parse_guest_caps(X86);
        assert!(supports(&g, "xenpvh", "x86_64"));
        assert!(supports(&g, "linux", "x86_64"));
        assert!(!supports(&g, "xen", "i686"));
    }
}
