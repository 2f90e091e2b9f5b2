//! The golden pairs t/data/xml2json/NAME.xml -> NAME.json (compared as JSON values), the
//! JSON reader, and the builder's error paths with libvirt's messages.
use std::fs;
use std::path::PathBuf;

use super::json::Json;
use super::*;
use crate::libxl::domain_xml::{parse_domain_xml, ParseFlags};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("t/data/xml2json")
}

fn parse(xml: &str) -> DomainDef {
    match parse_domain_xml(xml, ParseFlags { inactive: true, validate: false }) {
        Ok(d) => d,
        Err(e) => panic!("parse failed: {e}"),
    }
}

fn build(xml: &str) -> Result<Json, ConfError> {
    build_domain_config(&parse(xml), &BuildEnv::default())
}

fn check_pair(name: &str) {
    let dir = data_dir();
    let xml = fs::read_to_string(dir.join(format!("{name}.xml"))).unwrap_or_else(|e| panic!("{name}.xml: {e}"));
    let got = match build(&xml) {
        Ok(j) => j,
        Err(e) => panic!("{name}: {e}"),
    };
    let json_path = dir.join(format!("{name}.json"));
    if std::env::var_os("XML2JSON_WRITE").is_some() {
        fs::write(&json_path, got.to_pretty()).unwrap_or_else(|e| panic!("{name}.json: {e}"));
    }
    let text = fs::read_to_string(&json_path).unwrap_or_else(|e| panic!("{name}.json: {e}"));
    let want = Json::parse(&text).unwrap_or_else(|e| panic!("{name}.json: {e:?}"));
    assert!(got.same_as(&want), "{name}: built\n{}\nexpected\n{}", got.to_pretty(), want.to_pretty());
}

#[test]
fn golden_pv_basic_matches() {
    check_pair("pv-basic");
}

#[test]
fn golden_pv_bootloader_matches() {
    check_pair("pv-bootloader");
}

#[test]
fn golden_pvh_basic_matches() {
    check_pair("pvh-basic");
}

#[test]
fn golden_hvm_basic_matches() {
    check_pair("hvm-basic");
}

#[test]
fn golden_hvm_vnc_matches() {
    check_pair("hvm-vnc");
}

#[test]
fn golden_multi_devices_matches() {
    check_pair("multi-devices");
}

#[test]
fn golden_lifecycle_matches() {
    check_pair("lifecycle");
}

#[test]
fn golden_vcpus_hvm_matches() {
    check_pair("vcpus-hvm");
}

#[test]
fn golden_every_xml_has_a_json() {
    let mut n = 0;
    for entry in fs::read_dir(data_dir()).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_some_and(|e| e == "xml") {
            assert!(path.with_extension("json").is_file(), "{} has no .json", path.display());
            n += 1;
        }
    }
    assert!(n >= 8, "only {n} golden pairs");
}

const PV: &str = "<domain type='xen'><name>t</name><uuid>3b6a1f0e-2c4d-4e8f-9a1b-5c7d9e0f1a2b</uuid>\
<memory>1000</memory><os><type>linux</type></os><devices>DEVS</devices>CLOCK</domain>";

fn pv_with(devs: &str, clock: &str) -> String {
    PV.replace("DEVS", devs).replace("CLOCK", clock)
}

fn build_err(xml: &str) -> String {
    match build(xml) {
        Ok(j) => panic!("built:\n{}", j.to_pretty()),
        Err(e) => e.message(),
    }
}

#[test]
fn build_memory_rounds_up_to_mib() {
    let j = match build(&pv_with("", "")) {
        Ok(j) => j,
        Err(e) => panic!("{e}"),
    };
    let b = j.get("b_info");
    assert_eq!(b.and_then(|b| b.get("max_memkb")), Some(&Json::Int(1024)));
    assert_eq!(b.and_then(|b| b.get("target_memkb")), Some(&Json::Int(1024)));
}

#[test]
fn build_pv_without_kernel_uses_pygrub() {
    let j = match build(&pv_with("", "")) {
        Ok(j) => j,
        Err(e) => panic!("{e}"),
    };
    let bl = j.get("b_info").and_then(|b| b.get("type.pv")).and_then(|p| p.get("bootloader"));
    assert_eq!(bl, Some(&Json::Str("pygrub".into())));
}

#[test]
fn build_unknown_disk_driver_is_refused() {
    let devs = "<disk type='file'><driver name='vbd'/><source file='/x'/><target dev='xvda'/></disk>";
    assert_eq!(build_err(&pv_with(devs, "")), "internal error: libxenlight does not support disk driver vbd");
}

#[test]
fn build_phy_with_qcow2_is_refused() {
    let devs = "<disk type='block'><driver name='phy' type='qcow2'/><source dev='/dev/x'/><target dev='xvda'/></disk>";
    assert_eq!(build_err(&pv_with(devs, "")), "internal error: libxenlight does not support disk format qcow2 with disk driver phy");
}

#[test]
fn build_transient_disk_is_refused() {
    let devs = "<disk type='file'><source file='/x'/><target dev='xvda'/><transient/></disk>";
    assert_eq!(build_err(&pv_with(devs, "")), "internal error: libxenlight does not support transient disks");
}

#[test]
fn build_pv_nic_model_other_than_netfront_is_refused() {
    let devs = "<interface type='bridge'><source bridge='br0'/><model type='e1000'/></interface>";
    assert_eq!(build_err(&pv_with(devs, "")), "unsupported configuration: only model 'netfront' is supported for Xen PV(H) domains");
}

#[test]
fn build_timezone_clock_is_refused() {
    assert_eq!(
        build_err(&pv_with("", "<clock offset='timezone' timezone='Europe/Paris'/>")),
        "unsupported configuration: unsupported clock offset 'timezone'"
    );
}

#[test]
fn build_rtc_timer_is_refused() {
    assert_eq!(
        build_err(&pv_with("", "<clock offset='utc'><timer name='rtc'/></clock>")),
        "unsupported configuration: unsupported timer type (name) 'rtc'"
    );
}

#[test]
fn build_pv_hpet_timer_is_refused() {
    assert_eq!(
        build_err(&pv_with("", "<clock offset='utc'><timer name='hpet' present='yes'/></clock>")),
        "unsupported configuration: unsupported timer type (name) 'hpet'"
    );
}

#[test]
fn build_virtio_balloon_is_refused() {
    assert_eq!(
        build_err(&pv_with("<memballoon model='virtio'/>", "")),
        "unsupported configuration: unsupported balloon device model 'virtio'"
    );
}

#[test]
fn build_network_disk_without_qemu_driver_is_refused() {
    let devs = "<disk type='network'><driver name='phy'/><source protocol='rbd' name='pool/img'/><target dev='xvda'/></disk>";
    assert_eq!(build_err(&pv_with(devs, "")), "Requested operation is not valid: only the 'qemu' driver can be used with network disks");
}

#[test]
fn build_rbd_disk_gives_qemu_source_string() {
    let devs = "<disk type='network'><source protocol='rbd' name='pool/img'>\
<host name='mon1' port='6789'/><host name='mon2'/></source><target dev='xvda'/></disk>";
    let j = match build(&pv_with(devs, "")) {
        Ok(j) => j,
        Err(e) => panic!("{e}"),
    };
    let disk = match j.get("disks") {
        Some(Json::Array(d)) => d[0].clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(disk.get("pdev_path"), Some(&Json::Str("rbd:pool/img:auth_supported=none:mon_host=mon1\\:6789\\;mon2".into())));
}

#[test]
fn build_output_is_valid_json_text() {
    let text = match build_domain_config_json(&parse(&pv_with("", "")), &BuildEnv::default()) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert!(Json::parse(&text).is_ok());
}

#[test]
fn json_parse_round_trips_escapes() {
    let v = Json::Object(vec![("k\"".into(), Json::Str("a\\b\n\u{1}é".into()))]);
    assert_eq!(Json::parse(&v.to_pretty()), Ok(v));
}

#[test]
fn json_parse_deep_nesting_is_error() {
    assert!(Json::parse(&"[".repeat(100)).is_err());
}

#[test]
fn json_parse_truncated_is_error() {
    assert!(Json::parse("{\"a\": [1, 2").is_err());
}

#[test]
fn json_same_as_ignores_member_order() {
    let a = Json::parse("{\"a\":1,\"b\":[true,null]}");
    let b = Json::parse("{\"b\":[true,null],\"a\":1}");
    match (a, b) {
        (Ok(a), Ok(b)) => assert!(a.same_as(&b)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn build_affinity_holds_only_host_cpus() {
    // 512 vCPUs pinned to CPUs 0-16383: one map per vCPU, each cut to the host's size, as
    // libxl_cpu_bitmap_alloc sizes them (else 8 million entries were built).
    let xml = pv_with("", "").replacen("<os>", "<vcpu cpuset='0-16383'>512</vcpu><os>", 1);
    let env = BuildEnv { host_cpus: Some(8), ..Default::default() };
    let j = build_domain_config(&parse(&xml), &env).unwrap_or_else(|e| panic!("{e}"));
    let Some(Json::Array(maps)) = j.get("b_info").and_then(|b| b.get("vcpu_hard_affinity")) else { panic!("no affinity") };
    assert_eq!(maps.len(), 512);
    assert!(maps.iter().all(|m| *m == Json::Array((0..8).map(Json::Int).collect())));
}
