//! Tests that keep the sample files in conf/ and the code in step: every key present,
//! every shown default equal to the built-in one, every example loadable.
use super::*;

const FILE: &str = "/etc/libvirt/sample.conf";
const PROXY_SAMPLE: &str = include_str!("../../../conf/virtproxyd.conf");
const XEND_SAMPLE: &str = include_str!("../../../conf/virtxend.conf");
const LIBXL_SAMPLE: &str = include_str!("../../../conf/libxl.conf");

fn conf(text: &str) -> Conf {
    Conf::parse(FILE, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

/// Turns every `#key = value` line into `key = value`; prose comments ("# ...") stay.
fn uncomment(sample: &str) -> String {
    sample
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_alphabetic()) => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn check_sample_matches_defaults(kind: DaemonKind, sample: &str) {
    let parsed = conf(&uncomment(sample));
    let mut cfg = DaemonConfig::new(kind, true);
    assert_eq!(cfg.load_conf(&parsed), Ok(()));
    let defaults = DaemonConfig::new(kind, true);
    for k in keys_for(kind) {
        match defaults.value_of(k.name) {
            Some(want) => assert_eq!(cfg.value_of(k.name), Some(want), "{}", k.name),
            // No default: the sample shows an example, which must load.
            None => assert!(cfg.value_of(k.name).is_some(), "{}", k.name),
        }
    }
    assert_eq!(cfg.validate(), vec![]);
}

fn check_sample_has_exactly_the_keys(kind: DaemonKind, sample: &str) {
    let parsed = conf(&uncomment(sample));
    let mut names: Vec<_> = parsed.entries.iter().map(|e| e.name.as_str()).collect();
    let mut want: Vec<_> = keys_for(kind).map(|k| k.name).collect();
    names.sort_unstable();
    want.sort_unstable();
    assert_eq!(names, want);
}

#[test]
fn proxy_sample_uncommented_equals_defaults() {
    check_sample_matches_defaults(DaemonKind::Proxy, PROXY_SAMPLE);
}

#[test]
fn proxy_sample_has_every_key_once() {
    check_sample_has_exactly_the_keys(DaemonKind::Proxy, PROXY_SAMPLE);
}

#[test]
fn xend_sample_uncommented_equals_defaults() {
    check_sample_matches_defaults(DaemonKind::Xend, XEND_SAMPLE);
}

#[test]
fn xend_sample_has_every_key_once() {
    check_sample_has_exactly_the_keys(DaemonKind::Xend, XEND_SAMPLE);
}

#[test]
fn samples_as_shipped_set_nothing() {
    for sample in [PROXY_SAMPLE, XEND_SAMPLE, LIBXL_SAMPLE] {
        assert_eq!(conf(sample).entries, vec![]);
    }
}

#[test]
fn libxl_sample_uncommented_equals_defaults() {
    let parsed = conf(&uncomment(LIBXL_SAMPLE));
    let mut names: Vec<_> = parsed.entries.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    let mut want = LIBXL_KEYS.to_vec();
    want.sort_unstable();
    assert_eq!(names, want);
    let mut cfg = LibxlConfig::default();
    assert_eq!(cfg.load_conf(&parsed), Ok(()));
    let defaults = LibxlConfig::default();
    for key in LIBXL_KEYS {
        match defaults.value_of(key) {
            Some(want) => assert_eq!(cfg.value_of(key), Some(want), "{key}"),
            None => assert!(cfg.value_of(key).is_some(), "{key}"),
        }
    }
}
