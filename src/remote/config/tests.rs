//! Unit tests of the daemon configuration, libxl.conf and the sample files in conf/.
use super::*;

const FILE: &str = "/etc/libvirt/test.conf";

fn conf(text: &str) -> Conf {
    Conf::parse(FILE, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn proxy() -> DaemonConfig {
    DaemonConfig::new(DaemonKind::Proxy, true)
}

fn load(kind: DaemonKind, text: &str) -> (DaemonConfig, Result<(), Vec<ConfigError>>) {
    let mut cfg = DaemonConfig::new(kind, true);
    let result = cfg.load_conf(&conf(text));
    (cfg, result)
}

fn messages(errors: &[ConfigError]) -> Vec<String> {
    errors.iter().map(|e| e.to_string()).collect()
}

fn load_errors(text: &str) -> Vec<String> {
    messages(&load(DaemonKind::Proxy, text).1.unwrap_err())
}

// ---- defaults ----

/// libvirt's defaults (remote_daemon_config.c daemonConfigNew, no polkit, with SASL).
const DEFAULTS: &str = "listen_tcp = 0\nlisten_tls = 0\ntls_port = '16514'\ntcp_port = '16509'\n\
    auth_unix_rw = 'none'\nauth_unix_ro = 'none'\nauth_tcp = 'sasl'\nauth_tls = 'none'\n\
    unix_sock_admin_perms = '0700'\nunix_sock_ro_perms = '0777'\nunix_sock_rw_perms = '0700'\n\
    tls_no_sanity_certificate = 0\ntls_no_verify_certificate = 0\n\
    min_workers = 5\nmax_workers = 20\nmax_clients = 5000\nmax_queued_clients = 1000\n\
    max_anonymous_clients = 20\nprio_workers = 5\nmax_client_requests = 5\n\
    admin_min_workers = 5\nadmin_max_workers = 20\nadmin_max_clients = 5000\n\
    admin_max_queued_clients = 20\nadmin_max_client_requests = 5\naudit_level = 1\n\
    audit_logging = 0\nhost_uuid_source = 'smbios'\nkeepalive_interval = 5\nkeepalive_count = 5\n\
    admin_keepalive_interval = 5\nadmin_keepalive_count = 5\novs_timeout = 5\n";

/// Keys whose default is "not set".
const UNSET_BY_DEFAULT: &[&str] = &[
    "listen_addr",
    "access_drivers",
    "unix_sock_group",
    "unix_sock_dir",
    "key_file",
    "cert_file",
    "ca_file",
    "crl_file",
    "tls_allowed_dn_list",
    "tls_priority",
    "tcp_min_ssf",
    "sasl_allowed_username_list",
    "host_uuid",
    "log_level",
    "log_filters",
    "log_outputs",
];

#[test]
fn new_has_libvirt_default_for_every_key() {
    let want = conf(DEFAULTS);
    let cfg = proxy();
    for k in DAEMON_KEYS {
        match want.get(k.name) {
            Some(entry) => assert_eq!(cfg.value_of(k.name).as_ref(), Some(&entry.value), "{}", k.name),
            None => {
                assert!(UNSET_BY_DEFAULT.contains(&k.name), "{} has no expected default", k.name);
                assert_eq!(cfg.value_of(k.name), None, "{}", k.name);
            }
        }
    }
}

#[test]
fn new_defaults_do_not_depend_on_privilege_or_kind() {
    let mut user = DaemonConfig::new(DaemonKind::Xend, false);
    user.kind = DaemonKind::Proxy;
    user.privileged = true;
    assert_eq!(user, proxy());
}

#[test]
fn value_of_unknown_key_is_none() {
    assert_eq!(proxy().value_of("no_such_key"), None);
}

// ---- every key: set, wrong type ----

/// A value of the key's type that differs from its default, as file text.
fn sample_value(k: &KeyInfo) -> &'static str {
    match k.ty {
        KeyType::Bool => "1",
        KeyType::UInt => "4096",
        KeyType::Int => "-1",
        KeyType::Str => "'/sample/value'",
        KeyType::StrList => "[ 'a', 'b' ]",
        KeyType::Auth if k.name == "auth_tcp" => "'none'",
        KeyType::Auth => "'sasl'",
    }
}

#[test]
fn every_key_can_be_set() {
    for k in DAEMON_KEYS {
        let text = format!("{} = {}", k.name, sample_value(k));
        let (cfg, result) = load(DaemonKind::Proxy, &text);
        assert_eq!(result, Ok(()), "{text}");
        let want = conf(&text).entries[0].value.clone();
        assert_ne!(proxy().value_of(k.name), Some(want.clone()), "{text} is the default");
        assert_eq!(cfg.value_of(k.name), Some(want), "{text}");
    }
}

fn wrong_value(ty: KeyType) -> (&'static str, &'static str) {
    match ty {
        KeyType::Bool => ("'yes'", "a bool"),
        KeyType::UInt => ("-1", "an unsigned integer"),
        KeyType::Int => ("'x'", "a signed integer"),
        KeyType::Str | KeyType::Auth => ("1", "a string"),
        KeyType::StrList => ("1", "a string list"),
    }
}

#[test]
fn every_key_rejects_wrong_type_with_libvirt_text() {
    for k in DAEMON_KEYS {
        let (value, expected) = wrong_value(k.ty);
        let errors = load_errors(&format!("{} = {value}", k.name));
        assert_eq!(errors, [format!("internal error: {FILE}: expected {expected} for '{}' parameter", k.name)]);
    }
}

/// Every key of DAEMON_KEYS with a value of the wrong type.
fn all_keys_wrong() -> String {
    DAEMON_KEYS.iter().map(|k| format!("{} = {}\n", k.name, wrong_value(k.ty).0)).collect()
}

#[test]
fn load_collects_every_problem() {
    let (_, result) = load(DaemonKind::Proxy, &all_keys_wrong());
    assert_eq!(result.unwrap_err().len(), DAEMON_KEYS.len());
}

#[test]
fn xend_ignores_ip_keys() {
    let (cfg, result) = load(DaemonKind::Xend, &all_keys_wrong());
    assert_eq!(result.unwrap_err().len(), keys_for(DaemonKind::Xend).count());
    assert!(!cfg.listen_tcp);
    let (cfg, result) = load(DaemonKind::Xend, "listen_tcp = 1\ntcp_port = 'x'\ntcp_min_ssf = 1\nauth_tcp = 'bad'");
    assert_eq!(result, Ok(()));
    assert_eq!(cfg, DaemonConfig::new(DaemonKind::Xend, true));
}

#[test]
fn keys_for_xend_has_no_ip_keys() {
    let names: Vec<_> = keys_for(DaemonKind::Xend).map(|k| k.name).collect();
    for gone in ["listen_tcp", "listen_tls", "tls_port", "tcp_port", "listen_addr", "auth_tcp", "auth_tls"] {
        assert!(!names.contains(&gone), "{gone}");
    }
    for gone in ["key_file", "cert_file", "ca_file", "crl_file", "tls_priority", "tcp_min_ssf"] {
        assert!(!names.contains(&gone), "{gone}");
    }
    assert_eq!(names.len(), 33);
}

#[test]
fn unknown_and_obsolete_keys_are_ignored() {
    let (cfg, result) = load(DaemonKind::Proxy, "foo = 'x'\nkeepalive_required = 1\nadmin_keepalive_required = 'y'");
    assert_eq!(result, Ok(()));
    assert_eq!(cfg, proxy());
}

#[test]
fn duplicate_key_first_value_wins() {
    let (cfg, _) = load(DaemonKind::Proxy, "max_clients = 10\nmax_clients = 20\n");
    assert_eq!(cfg.max_clients, 10);
}

// ---- load-time checks ----

#[test]
fn auth_unknown_string_is_unsupported() {
    assert_eq!(
        load_errors("auth_unix_rw = 'kerberos'"),
        [format!("unsupported configuration: {FILE}: auth_unix_rw: unsupported auth kerberos")]
    );
}

#[test]
fn auth_polkit_loads_then_fails_validation() {
    let (cfg, result) = load(DaemonKind::Proxy, "auth_unix_ro = 'polkit'\nauth_tls = 'polkit'");
    assert_eq!(result, Ok(()));
    assert_eq!(cfg.auth_unix_ro, AuthType::Polkit);
    assert_eq!(
        messages(&cfg.validate()),
        [
            "unsupported configuration: auth_unix_ro: polkit authentication is not supported by this daemon; \
             use \"none\" or \"sasl\"",
            "unsupported configuration: auth_tls: polkit authentication is not supported by this daemon; \
             use \"none\" or \"sasl\"",
        ]
    );
}

#[test]
fn auth_values_map_to_libvirt_numbers() {
    assert_eq!(AuthType::None as i32, 0);
    assert_eq!(AuthType::Sasl as i32, 1);
    assert_eq!(AuthType::Polkit as i32, 2);
}

#[test]
fn tcp_min_ssf_explicit_low_value_is_rejected() {
    assert_eq!(
        load_errors("tcp_min_ssf = 56"),
        ["unsupported configuration: minimum SSF levels lower than 112 are not supported \
          (parameter 'tcp_min_ssf' is 56)"]
    );
}

#[test]
fn tcp_min_ssf_at_threshold_is_accepted() {
    assert_eq!(load(DaemonKind::Proxy, "tcp_min_ssf = 112").0.min_ssf(), 112);
}

#[test]
fn tcp_min_ssf_default_is_not_checked() {
    let (cfg, result) = load(DaemonKind::Proxy, "");
    assert_eq!(result, Ok(()));
    assert_eq!((cfg.tcp_min_ssf, cfg.min_ssf()), (None, 56));
}

#[test]
fn max_workers_zero_is_rejected() {
    assert_eq!(load_errors("max_workers = 0"), ["internal error: 'max_workers' must be greater than 0"]);
}

#[test]
fn max_workers_wrong_type_reports_only_type() {
    assert_eq!(load_errors("max_workers = -3").len(), 1);
}

#[test]
fn uint_out_of_range_gives_range_text() {
    assert_eq!(
        load_errors("max_clients = 4294967296"),
        [format!("internal error: {FILE}: value for 'max_clients' parameter must be in range 0:4294967295")]
    );
}

#[test]
fn negative_keepalive_interval_is_accepted() {
    assert_eq!(load(DaemonKind::Proxy, "keepalive_interval = -1").0.keepalive_interval, -1);
}

#[test]
fn bool_out_of_range_gives_libvirt_text() {
    assert_eq!(load_errors("listen_tls = 2"), [format!("internal error: {FILE}: value for 'listen_tls' parameter must be 0 or 1")]);
}

#[test]
fn string_list_with_number_gives_syntax_text() {
    assert_eq!(
        load_errors("access_drivers = [ 'none', 2 ]"),
        [format!("configuration file syntax error: {FILE}: expected a string list for 'access_drivers' parameter")]
    );
}

#[test]
fn empty_string_list_is_kept_empty() {
    assert_eq!(load(DaemonKind::Proxy, "tls_allowed_dn_list = []").0.tls_allowed_dn_list, Some(vec![]));
}

// ---- files ----

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("virtlite-config-{}-{name}", std::process::id()))
}

#[test]
fn load_file_missing_implicit_keeps_defaults() {
    let mut cfg = proxy();
    assert_eq!(cfg.load_file(Path::new("/nonexistent-virtlite/virtproxyd.conf"), true), Ok(()));
    assert_eq!(cfg, proxy());
}

#[test]
fn load_file_missing_explicit_is_error() {
    let errors = proxy().load_file(Path::new("/nonexistent-virtlite/virtproxyd.conf"), false).unwrap_err();
    assert_eq!(messages(&errors), ["Failed to open file '/nonexistent-virtlite/virtproxyd.conf': No such file or directory"]);
}

#[test]
fn load_file_applies_values() {
    let path = temp_path("apply.conf");
    std::fs::write(&path, "max_clients = 42\nlisten_addr = '::1'\n").unwrap();
    let mut cfg = proxy();
    let result = cfg.load_file(&path, true);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(result, Ok(()));
    assert_eq!((cfg.max_clients, cfg.listen_addr.as_deref()), (42, Some("::1")));
}

#[test]
fn load_file_reports_every_syntax_error() {
    let path = temp_path("syntax.conf");
    std::fs::write(&path, "a =\nmax_clients = 3\nb c\n").unwrap();
    let mut cfg = proxy();
    let result = cfg.load_file(&path, true);
    std::fs::remove_file(&path).unwrap();
    let p = path.to_string_lossy();
    assert_eq!(
        messages(&result.unwrap_err()),
        [
            format!("configuration file syntax error: {p}:1: expecting a value"),
            format!("configuration file syntax error: {p}:3: expecting an assignment"),
        ]
    );
    assert_eq!(cfg.max_clients, 5000);
}

#[test]
fn default_path_for_root_is_under_etc() {
    assert_eq!(default_config_path(DaemonKind::Proxy, true), Path::new("/etc/libvirt/virtproxyd.conf"));
    assert_eq!(default_config_path(DaemonKind::Xend, true), Path::new("/etc/libvirt/virtxend.conf"));
}

#[test]
fn default_path_for_user_prefers_xdg_config_home() {
    let path = config_path_for(DaemonKind::Xend, false, Some("/x/cfg".into()), Some("/home/u".into()));
    assert_eq!(path, Path::new("/x/cfg/libvirt/virtxend.conf"));
}

#[test]
fn default_path_for_user_falls_back_to_home() {
    let path = config_path_for(DaemonKind::Proxy, false, Some("".into()), Some("/home/u".into()));
    assert_eq!(path, Path::new("/home/u/.config/libvirt/virtproxyd.conf"));
    let path = config_path_for(DaemonKind::Proxy, false, None, None);
    assert_eq!(path, Path::new("/.config/libvirt/virtproxyd.conf"));
}

// ---- validate ----

#[test]
fn validate_defaults_is_clean() {
    assert_eq!(proxy().validate(), vec![]);
    assert_eq!(DaemonConfig::new(DaemonKind::Xend, false).validate(), vec![]);
}

#[test]
fn validate_bad_perms_names_key() {
    let mut cfg = proxy();
    cfg.unix_sock_rw_perms = "0789".into();
    cfg.unix_sock_admin_perms = "".into();
    assert_eq!(
        messages(&cfg.validate()),
        ["Failed to parse mode '' (parameter 'unix_sock_admin_perms')", "Failed to parse mode '0789' (parameter 'unix_sock_rw_perms')",]
    );
}

#[test]
fn parse_perms_reads_octal() {
    assert_eq!(parse_perms("0770"), Some(0o770));
    assert_eq!(parse_perms("7"), Some(7));
    assert_eq!(parse_perms("0x1"), None);
    assert_eq!(parse_perms("-1"), None);
    assert_eq!(parse_perms(" 0700"), None);
    assert_eq!(parse_perms("77777777777777"), None);
}

#[test]
fn validate_anonymous_over_max_clients_is_rejected() {
    let (cfg, _) = load(DaemonKind::Proxy, "max_clients = 5\nmax_anonymous_clients = 6");
    assert_eq!(
        messages(&cfg.validate()),
        ["internal error: The overall maximum number of clients must not be less than the number of clients \
          waiting for authentication (max_clients is 5, max_anonymous_clients is 6)"]
    );
}

#[test]
fn validate_anonymous_equal_to_max_clients_is_accepted() {
    let (cfg, _) = load(DaemonKind::Proxy, "max_clients = 5\nmax_anonymous_clients = 5");
    assert_eq!(cfg.validate(), vec![]);
}

#[test]
fn validate_accepts_liberal_uuid_forms() {
    for uuid in ["8b5f4ad0-3c3d-4b8e-9a41-08d2c6e1f0aa", " 8b5f4ad03c3d4b8e9a4108d2c6e1f0aa \n", "8b 5f-4a d0 3c3d4b8e9a4108d2c6e1f0aa"] {
        let mut cfg = proxy();
        cfg.host_uuid = Some(uuid.into());
        assert_eq!(cfg.validate(), vec![], "{uuid:?}");
    }
}

#[test]
fn validate_rejects_same_digit_uuid() {
    let mut cfg = proxy();
    cfg.host_uuid = Some("00000000-0000-0000-0000-000000000000".into());
    assert_eq!(messages(&cfg.validate()), ["invalid host UUID: 00000000-0000-0000-0000-000000000000 (parameter 'host_uuid')"]);
}

#[test]
fn validate_rejects_malformed_uuid() {
    for uuid in [
        "",
        "8b5f4ad0",
        "8b5f4ad0-3c3d-4b8e-9a41-08d2c6e1f0aa0",
        "8b5f4ad0-3c3d-4b8e-9a41-08d2c6e1f0ag",
        "8-b5f4ad03c3d4b8e9a4108d2c6e1f0aa",
    ] {
        let mut cfg = proxy();
        cfg.host_uuid = Some(uuid.into());
        assert_eq!(cfg.validate().len(), 1, "{uuid:?}");
    }
}

#[test]
fn parse_uuid_gives_bytes() {
    let uuid = parse_uuid("00112233-4455-6677-8899-aabbccddeeff").unwrap();
    assert_eq!(uuid, [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
}

#[test]
fn validate_unknown_uuid_source_is_rejected() {
    let (cfg, _) = load(DaemonKind::Proxy, "host_uuid_source = 'dmi'");
    assert_eq!(messages(&cfg.validate()), ["invalid UUID source: dmi (parameter 'host_uuid_source')"]);
}

#[test]
fn validate_machine_id_source_is_accepted() {
    let (cfg, _) = load(DaemonKind::Proxy, "host_uuid_source = 'machine-id'");
    assert_eq!(cfg.validate(), vec![]);
}

#[test]
fn validate_source_ignored_when_uuid_given() {
    let (cfg, _) = load(DaemonKind::Proxy, "host_uuid_source = 'dmi'\nhost_uuid = '8b5f4ad0-3c3d-4b8e-9a41-08d2c6e1f0aa'");
    assert_eq!(cfg.validate(), vec![]);
}

#[test]
fn validate_log_level_above_four_is_rejected() {
    let (cfg, _) = load(DaemonKind::Proxy, "log_level = 5");
    assert_eq!(
        messages(&cfg.validate()),
        ["invalid argument: Failed to set logging priority, argument '5' is invalid (parameter 'log_level')"]
    );
}

#[test]
fn validate_log_level_zero_to_four_is_accepted() {
    for level in 0..=4 {
        let (cfg, _) = load(DaemonKind::Proxy, &format!("log_level = {level}"));
        assert_eq!(cfg.validate(), vec![], "{level}");
    }
}

#[test]
fn validate_tls_key_alone_wants_ca_and_cert() {
    let (cfg, _) = load(DaemonKind::Proxy, "listen_tls = 1\nkey_file = '/k.pem'");
    assert_eq!(
        messages(&cfg.validate()),
        [
            "unsupported configuration: No CA certificate path set to match server key/cert (parameter 'ca_file')",
            "unsupported configuration: No server certificate path set to match server key (parameter 'cert_file')",
        ]
    );
}

#[test]
fn validate_tls_without_key_is_rejected() {
    let (cfg, _) = load(DaemonKind::Proxy, "listen_tls = 1\nca_file = '/ca.pem'\ncert_file = '/c.pem'");
    assert_eq!(
        messages(&cfg.validate()),
        ["unsupported configuration: No server key path set to match server cert (parameter 'key_file')"]
    );
}

#[test]
fn validate_tls_all_three_files_is_accepted() {
    let (cfg, _) = load(DaemonKind::Proxy, "listen_tls = 1\nca_file = '/a'\ncert_file = '/b'\nkey_file = '/c'");
    assert_eq!(cfg.validate(), vec![]);
}

#[test]
fn validate_tls_files_unchecked_without_listen_tls() {
    let (cfg, _) = load(DaemonKind::Proxy, "key_file = '/k.pem'");
    assert_eq!(cfg.validate(), vec![]);
    assert_eq!(cfg.tls_file_problems().len(), 2);
}

#[test]
fn validate_collects_every_problem() {
    let (cfg, _) = load(
        DaemonKind::Proxy,
        "auth_unix_rw = 'polkit'\nunix_sock_ro_perms = 'rw'\nlog_level = 9\nmax_clients = 1\nhost_uuid_source = 'x'",
    );
    assert_eq!(cfg.validate().len(), 5);
}

// ---- libxl.conf ----

#[test]
fn libxl_defaults_match_libvirt() {
    let cfg = LibxlConfig::default();
    assert_eq!(
        (cfg.autoballoon, cfg.lock_manager.as_deref(), cfg.keepalive_interval, cfg.keepalive_count, cfg.nested_hvm),
        (None, None, 5, 5, false)
    );
}

#[test]
fn libxl_every_key_can_be_set() {
    let mut cfg = LibxlConfig::default();
    let text = "autoballoon = 0\nlock_manager = 'sanlock'\nkeepalive_interval = -1\nkeepalive_count = 9\nnested_hvm = 1";
    assert_eq!(cfg.load_conf(&conf(text)), Ok(()));
    assert_eq!(
        cfg,
        LibxlConfig {
            autoballoon: Some(false),
            lock_manager: Some("sanlock".into()),
            keepalive_interval: -1,
            keepalive_count: 9,
            nested_hvm: true,
        }
    );
}

#[test]
fn libxl_wrong_types_are_all_reported() {
    let text = "autoballoon = 'yes'\nlock_manager = 1\nkeepalive_interval = 'x'\nkeepalive_count = -1\nnested_hvm = 2";
    let errors = LibxlConfig::default().load_conf(&conf(text)).unwrap_err();
    let texts: Vec<_> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        texts,
        [
            format!("internal error: {FILE}: expected a bool for 'autoballoon' parameter"),
            format!("internal error: {FILE}: expected a string for 'lock_manager' parameter"),
            format!("internal error: {FILE}: expected a signed integer for 'keepalive_interval' parameter"),
            format!("internal error: {FILE}: expected an unsigned integer for 'keepalive_count' parameter"),
            format!("internal error: {FILE}: value for 'nested_hvm' parameter must be 0 or 1"),
        ]
    );
}

#[test]
fn libxl_missing_file_keeps_defaults() {
    let mut cfg = LibxlConfig::default();
    assert_eq!(cfg.load_file(Path::new("/nonexistent-virtlite/libxl.conf")), Ok(()));
    assert_eq!(cfg, LibxlConfig::default());
}

#[test]
fn libxl_file_with_syntax_error_fails() {
    let path = temp_path("libxl.conf");
    std::fs::write(&path, "nested_hvm = \n").unwrap();
    let result = LibxlConfig::default().load_file(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(result.unwrap_err().len(), 1);
}
