//! Error paths: each with libvirt's message, and hostile input that must not panic.
use super::tests::{HVM, PV};
use super::*;

fn err(xml: &str) -> String {
    match parse_domain_xml(xml, ParseFlags { inactive: true, validate: false }) {
        Ok(_) => panic!("accepted:\n{xml}"),
        Err(e) => e.message(),
    }
}

#[test]
fn parse_wrong_root_is_refused() {
    assert_eq!(err("<network/>"), "XML error: unexpected root element <network>, expecting <domain>");
}

#[test]
fn parse_kvm_domain_type_has_no_capabilities() {
    assert_eq!(
        err(&PV.replace("type='xen'", "type='kvm'")),
        "invalid argument: could not find capabilities for ostype=linux arch=x86_64 domaintype=kvm "
    );
}

#[test]
fn parse_unknown_domain_type_is_refused() {
    assert_eq!(err(&PV.replace("type='xen'", "type='bogus'")), "unsupported configuration: invalid domain type bogus");
}

#[test]
fn parse_missing_name_is_refused() {
    assert_eq!(err(&PV.replace("  <name>pv1</name>\n", "")), "missing name information");
}

#[test]
fn parse_malformed_uuid_is_refused() {
    assert_eq!(err(&PV.replace("8f5c8e2a-1b3d", "zz5c8e2a-1b3d")), "internal error: malformed uuid element");
}

#[test]
fn parse_missing_memory_is_refused() {
    assert_eq!(
        err(&PV.replace("  <memory unit='MiB'>512</memory>\n", "")),
        "XML error: Memory size must be specified via <memory> or in the <numa> configuration"
    );
}

#[test]
fn parse_missing_os_type_is_refused() {
    assert_eq!(err(&PV.replace("<type>linux</type>", "")), "XML error: an os <type> must be specified");
}

#[test]
fn parse_unknown_lifecycle_action_is_refused() {
    let xml = HVM.replace("<on_crash>preserve</on_crash>", "<on_crash>explode</on_crash>");
    assert_eq!(err(&xml), "unsupported configuration: unknown on_crash action: explode");
}

#[test]
fn parse_coredump_on_reboot_is_refused() {
    let xml = HVM.replace("<on_reboot>restart</on_reboot>", "<on_reboot>coredump-restart</on_reboot>");
    assert_eq!(err(&xml), "unsupported configuration: Lifecycle event 'reboot' doesn't support 'coredump-restart' action");
}

#[test]
fn parse_current_vcpus_above_max_is_refused() {
    assert_eq!(
        err(&PV.replace("<vcpu>2</vcpu>", "<vcpu current='3'>2</vcpu>")),
        "unsupported configuration: maximum vCPU count must not be less than current vCPU count"
    );
}

#[test]
fn parse_bad_vcpu_count_is_refused() {
    assert_eq!(err(&PV.replace("<vcpu>2</vcpu>", "<vcpu>two</vcpu>")), "XML error: maximum vcpus count must be an integer");
}

#[test]
fn parse_disk_without_target_is_refused() {
    assert_eq!(err(&PV.replace("<target dev='xvda'/>", "")), "missing target information for device /srv/xen/pv1.img");
}

#[test]
fn parse_duplicate_disk_target_is_refused() {
    let xml = HVM.replace("<target dev='hdc' bus='ide'/>", "<target dev='hda' bus='ide'/>");
    assert_eq!(err(&xml), "XML error: target 'hda' duplicated for disk sources '/srv/xen/hvm1.img' and '/srv/iso/install.iso'");
}

#[test]
fn parse_bad_mac_is_refused() {
    assert_eq!(err(&PV.replace("00:16:3e:12:34:56", "00:16:3e:12:34")), "XML error: unable to parse mac address '00:16:3e:12:34'");
}

#[test]
fn parse_multicast_mac_is_refused() {
    assert_eq!(
        err(&PV.replace("00:16:3e:12:34:56", "01:16:3e:12:34:56")),
        "XML error: expected unicast mac address, found multicast '01:16:3e:12:34:56'"
    );
}

#[test]
fn parse_unknown_disk_device_is_refused() {
    assert_eq!(
        err(&PV.replace("device='disk'", "device='tape'")),
        "XML error: Invalid value for attribute 'device' in element 'disk': 'tape'."
    );
}

#[test]
fn parse_secure_boot_is_refused() {
    let xml = HVM.replace("<loader type='rom'>", "<loader type='pflash' secure='yes'>");
    assert_eq!(err(&xml), "unsupported configuration: Secure boot is not supported on Xen");
}

#[test]
fn parse_bad_memory_unit_is_refused() {
    assert_eq!(err(&PV.replace("unit='MiB'", "unit='parsecs'")), "invalid argument: unknown suffix 'parsecs'");
}

#[test]
fn parse_not_well_formed_gives_xml_detail() {
    let m = err("<domain type='xen'><name>x</domain>");
    assert!(m.starts_with("XML error: (domain_definition):1:") || m.contains("(domain_definition)"), "{m}");
}

#[test]
fn parse_empty_input_is_error() {
    err("");
}

#[test]
fn parse_garbage_bytes_are_error() {
    err("\u{1}\u{2}<<<&&&>>>");
}

#[test]
fn parse_oversize_input_is_refused() {
    let big = format!("<domain type='xen'><name>{}</name></domain>", "a".repeat(MAX_XML_LEN));
    err(&big);
}

#[test]
fn parse_deep_nesting_is_refused() {
    // domain and metadata are levels 1 and 2: 254 more reach libxml2's limit of 256.
    let nest = |n| format!("<domain type='xen'><metadata>{}{}</metadata></domain>", "<a:x xmlns:a='urn:a'>".repeat(n), "</a:x>".repeat(n));
    let m = err(&nest(255));
    assert_eq!(m, "(domain_definition):1: Excessive depth in document: 256 use XML_PARSE_HUGE option");
    let m = err(&nest(254));
    assert!(!m.contains("Excessive depth"), "{m}");
}

#[test]
fn depth_scan_skips_comments_cdata_and_quoted_markup() {
    let inner = "<!-- <a><a><a> --><![CDATA[<a><a>]]><?pi <a> ?><x a='<a>' b=\"/>\"/>";
    let xml =
        format!("<domain type='xen'><metadata>{}{inner}{}</metadata></domain>", "<a:x xmlns:a='urn:a'>".repeat(253), "</a:x>".repeat(253));
    // 2 + 253 + the empty <x/> = 256: accepted by the scan (the parser then judges it).
    assert!(super::check_depth(&xml).is_ok());
}

#[test]
fn parse_doctype_is_refused() {
    err("<!DOCTYPE domain [<!ENTITY x 'y'>]><domain type='xen'><name>&x;</name></domain>");
}

#[test]
fn parse_status_with_bad_state_is_refused() {
    let xml = "<domstatus state='dancing' reason='booted' pid='0'><domain type='xen' id='1'/></domstatus>";
    match parse_status_xml(xml) {
        Ok(_) => panic!("accepted"),
        Err(e) => assert_eq!(e.message(), "internal error: invalid domain state 'dancing'"),
    }
}

#[test]
fn parse_status_without_domain_is_refused() {
    match parse_status_xml("<domstatus state='running' reason='booted' pid='0'/>") {
        Ok(_) => panic!("accepted"),
        Err(e) => assert_eq!(e.message(), "internal error: no domain config"),
    }
}

#[test]
fn parse_nesting_twenty_thousand_deep_is_refused_without_recursing() {
    // roxmltree builds its tree recursively: without the check on the raw text first, this
    // overflowed the stack of the daemon's thread.
    let n = 20_000;
    let deep = format!("<domain type='xen'><metadata>{}{}</metadata></domain>", "<a:x xmlns:a='urn:a'>".repeat(n), "</a:x>".repeat(n));
    let m = std::thread::Builder::new().stack_size(256 * 1024).spawn(move || err(&deep)).unwrap().join().expect("no stack overflow");
    assert!(m.contains("Excessive depth in document"), "{m}");
}

#[test]
fn vcpu_count_above_xen_limit_fails_the_libxl_build_not_the_allocator() {
    use crate::libxl::domconfig::{build_domain_config_json, BuildEnv};
    // HVM's has a cpuset: one affinity map per vCPU would be built from the count.
    for (xml, max) in [(PV, 512u32), (HVM, 128)] {
        let old = if xml == PV { ">2</vcpu>" } else { ">4</vcpu>" };
        let over = xml.replace(old, ">4294967295</vcpu>");
        assert!(over.contains("4294967295"), "test XML has no {old}");
        let def = parse_domain_xml(&over, ParseFlags::default()).expect("the parser takes any unsigned count, as libvirt's");
        let e = build_domain_config_json(&def, &BuildEnv::default()).expect_err("over Xen's limit");
        assert_eq!(
            e.message(),
            format!("invalid argument: requested vcpus is greater than max allowable vcpus for the domain: 4294967295 > {max}")
        );
        let at = xml.replace(old, &format!(">{max}</vcpu>"));
        let def = parse_domain_xml(&at, ParseFlags::default()).unwrap();
        assert!(build_domain_config_json(&def, &BuildEnv::default()).is_ok());
    }
}
