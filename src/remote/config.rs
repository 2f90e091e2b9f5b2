//! The daemons' configuration: defaults, loading of virtproxyd.conf / virtxend.conf, and
//! start-up checks (mirrors remote/remote_daemon_config.c; checks from remote_daemon.c).
//!
//! `load_conf` reads every key the way daemonConfigLoadOptions does but collects every
//! problem instead of stopping at the first. `validate` runs the checks libvirt makes
//! later during start-up (socket modes, host UUID, log level, client limits, TLS files)
//! plus ours: this daemon is built without polkit, so any `auth_* = "polkit"` is refused.
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::util::conf::{Conf, ConfError, Value};

mod error;
mod libxl;
#[cfg(test)]
mod sample_tests;
#[cfg(test)]
mod tests;
mod validate;

pub use error::ConfigError;
pub use libxl::{LibxlConfig, LIBXL_CONFIG_FILE, LIBXL_KEYS};
pub use validate::{parse_perms, parse_uuid};

/// Where root daemons look for their config file (libvirt's SYSCONFDIR).
pub const SYSCONFDIR: &str = "/etc";

/// The smallest `tcp_min_ssf` accepted when set explicitly (libvirt's SSF_WARNING_LEVEL).
pub const SSF_WARNING_LEVEL: u32 = 112;

/// The SASL strength factor required of TCP clients when `tcp_min_ssf` is not set.
/// Only reachable by leaving the key out: writing 56 in the file is refused.
pub const TCP_MIN_SSF_DEFAULT: u32 = 56;

/// Which daemon a config is for: virtproxyd has the TCP/TLS keys, virtxend does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaemonKind {
    Proxy,
    Xend,
}

impl DaemonKind {
    /// DAEMON_NAME: the program name, also the config file's base name.
    pub fn name(self) -> &'static str {
        match self {
            DaemonKind::Proxy => "virtproxyd",
            DaemonKind::Xend => "virtxend",
        }
    }

    /// Whether the daemon has TCP/TLS listeners (libvirt's WITH_IP build of it).
    pub fn has_ip(self) -> bool {
        self == DaemonKind::Proxy
    }
}

/// How a service authenticates its clients (the engine's type; the config names it).
pub use crate::rpc::service::AuthType;

/// How a key's value is typed in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Bool,
    UInt,
    Int,
    Str,
    StrList,
    /// A string among "none", "sasl", "polkit".
    Auth,
}

/// One key `DaemonConfig` reads; `ip_only` keys exist in virtproxyd only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyInfo {
    pub name: &'static str,
    pub ty: KeyType,
    pub ip_only: bool,
}

const fn key(name: &'static str, ty: KeyType, ip_only: bool) -> KeyInfo {
    KeyInfo { name, ty, ip_only }
}

/// Every key `DaemonConfig::load_conf` reads, in libvirt's order.
pub const DAEMON_KEYS: &[KeyInfo] = &[
    key("listen_tcp", KeyType::Bool, true),
    key("listen_tls", KeyType::Bool, true),
    key("tls_port", KeyType::Str, true),
    key("tcp_port", KeyType::Str, true),
    key("listen_addr", KeyType::Str, true),
    key("auth_unix_rw", KeyType::Auth, false),
    key("auth_unix_ro", KeyType::Auth, false),
    key("auth_tcp", KeyType::Auth, true),
    key("auth_tls", KeyType::Auth, true),
    key("access_drivers", KeyType::StrList, false),
    key("unix_sock_group", KeyType::Str, false),
    key("unix_sock_admin_perms", KeyType::Str, false),
    key("unix_sock_ro_perms", KeyType::Str, false),
    key("unix_sock_rw_perms", KeyType::Str, false),
    key("unix_sock_dir", KeyType::Str, false),
    key("tls_no_sanity_certificate", KeyType::Bool, true),
    key("tls_no_verify_certificate", KeyType::Bool, true),
    key("key_file", KeyType::Str, true),
    key("cert_file", KeyType::Str, true),
    key("ca_file", KeyType::Str, true),
    key("crl_file", KeyType::Str, true),
    key("tls_allowed_dn_list", KeyType::StrList, true),
    key("tls_priority", KeyType::Str, true),
    key("tcp_min_ssf", KeyType::UInt, true),
    key("sasl_allowed_username_list", KeyType::StrList, false),
    key("min_workers", KeyType::UInt, false),
    key("max_workers", KeyType::UInt, false),
    key("max_clients", KeyType::UInt, false),
    key("max_queued_clients", KeyType::UInt, false),
    key("max_anonymous_clients", KeyType::UInt, false),
    key("prio_workers", KeyType::UInt, false),
    key("max_client_requests", KeyType::UInt, false),
    key("admin_min_workers", KeyType::UInt, false),
    key("admin_max_workers", KeyType::UInt, false),
    key("admin_max_clients", KeyType::UInt, false),
    key("admin_max_queued_clients", KeyType::UInt, false),
    key("admin_max_client_requests", KeyType::UInt, false),
    key("audit_level", KeyType::UInt, false),
    key("audit_logging", KeyType::Bool, false),
    key("host_uuid", KeyType::Str, false),
    key("host_uuid_source", KeyType::Str, false),
    key("log_level", KeyType::UInt, false),
    key("log_filters", KeyType::Str, false),
    key("log_outputs", KeyType::Str, false),
    key("keepalive_interval", KeyType::Int, false),
    key("keepalive_count", KeyType::UInt, false),
    key("admin_keepalive_interval", KeyType::Int, false),
    key("admin_keepalive_count", KeyType::UInt, false),
    key("ovs_timeout", KeyType::UInt, false),
];

/// The keys a daemon of `kind` reads.
pub fn keys_for(kind: DaemonKind) -> impl Iterator<Item = &'static KeyInfo> {
    DAEMON_KEYS.iter().filter(move |k| kind.has_ip() || !k.ip_only)
}

/// Every setting of virtproxyd.conf / virtxend.conf (libvirt's struct daemonConfig).
/// `None` means "not set": the daemon then uses the built-in behaviour noted per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    pub kind: DaemonKind,
    pub privileged: bool,

    // TCP and TLS listeners (virtproxyd only)
    pub listen_tls: bool,
    pub listen_tcp: bool,
    pub tls_port: String,
    pub tcp_port: String,
    /// None: every address (AI_PASSIVE, AF_UNSPEC).
    pub listen_addr: Option<String>,

    // UNIX sockets
    /// None: the daemon's own group.
    pub unix_sock_group: Option<String>,
    pub unix_sock_ro_perms: String,
    pub unix_sock_rw_perms: String,
    pub unix_sock_admin_perms: String,
    /// None: /run/libvirt for root, $XDG_RUNTIME_DIR/libvirt otherwise.
    pub unix_sock_dir: Option<String>,

    // Authentication and access control
    pub auth_unix_ro: AuthType,
    pub auth_unix_rw: AuthType,
    pub auth_tcp: AuthType,
    pub auth_tls: AuthType,
    /// None or empty: ["none"].
    pub access_drivers: Option<Vec<String>>,
    /// None: any SASL user name.
    pub sasl_allowed_username_list: Option<Vec<String>>,

    // TLS
    /// None (all three): the default paths under /etc/pki.
    pub key_file: Option<String>,
    pub cert_file: Option<String>,
    pub ca_file: Option<String>,
    /// None: /etc/pki/CA/cacrl.pem if it exists (default-path mode only).
    pub crl_file: Option<String>,
    pub tls_no_sanity_certificate: bool,
    pub tls_no_verify_certificate: bool,
    /// None: no check of the client's distinguished name.
    pub tls_allowed_dn_list: Option<Vec<String>>,
    /// None: the built-in priority string.
    pub tls_priority: Option<String>,
    /// None: `TCP_MIN_SSF_DEFAULT` (see `min_ssf`).
    pub tcp_min_ssf: Option<u32>,

    // Main RPC server
    pub min_workers: u32,
    pub max_workers: u32,
    pub prio_workers: u32,
    pub max_clients: u32,
    pub max_queued_clients: u32,
    pub max_anonymous_clients: u32,
    pub max_client_requests: u32,

    // Admin server
    pub admin_min_workers: u32,
    pub admin_max_workers: u32,
    pub admin_max_clients: u32,
    pub admin_max_queued_clients: u32,
    pub admin_max_client_requests: u32,

    // Logging and auditing
    /// None or 0: the default (3, warnings).
    pub log_level: Option<u32>,
    pub log_filters: Option<String>,
    pub log_outputs: Option<String>,
    pub audit_level: u32,
    pub audit_logging: bool,

    // Host identity
    pub host_uuid: Option<String>,
    pub host_uuid_source: String,

    // Keepalive
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
    pub admin_keepalive_interval: i32,
    pub admin_keepalive_count: u32,

    pub ovs_timeout: u32,
}

type Errors = Vec<ConfigError>;

/// Stores a getter's value in `slot`; returns whether the key was set.
fn take<T>(errors: &mut Errors, got: Result<Option<T>, ConfError>, slot: &mut T) -> bool {
    match got {
        Ok(Some(v)) => {
            *slot = v;
            true
        }
        Ok(None) => false,
        Err(err) => {
            errors.push(ConfigError::Conf(err));
            false
        }
    }
}

/// As `take` for a setting that may stay unset.
fn take_opt<T>(errors: &mut Errors, got: Result<Option<T>, ConfError>, slot: &mut Option<T>) {
    match got {
        Ok(Some(v)) => *slot = Some(v),
        Ok(None) => {}
        Err(err) => errors.push(ConfigError::Conf(err)),
    }
}

// C: remoteConfigGetAuth
fn take_auth(errors: &mut Errors, conf: &Conf, key: &'static str, slot: &mut AuthType) {
    let mut text = String::new();
    if !take(errors, conf.get_string(key), &mut text) {
        return;
    }
    *slot = match text.as_str() {
        "none" => AuthType::None,
        "sasl" => AuthType::Sasl,
        "polkit" => AuthType::Polkit,
        _ => {
            errors.push(ConfigError::UnsupportedAuth { file: conf.filename.clone(), key, value: text });
            return;
        }
    };
}

fn uint(v: u32) -> Value {
    Value::Unsigned(v.into())
}

fn int(v: i32) -> Value {
    if v < 0 {
        Value::Signed(v.into())
    } else {
        Value::Unsigned(v as u64)
    }
}

fn string(v: &str) -> Value {
    Value::Str(v.to_string())
}

fn list(v: &[String]) -> Value {
    Value::List(v.iter().map(|s| string(s)).collect())
}

impl DaemonConfig {
    /// libvirt's defaults for a daemon built without polkit and with SASL.
    // C: daemonConfigNew
    pub fn new(kind: DaemonKind, privileged: bool) -> DaemonConfig {
        DaemonConfig {
            kind,
            privileged,
            listen_tls: false,
            listen_tcp: false,
            tls_port: "16514".to_string(),
            tcp_port: "16509".to_string(),
            listen_addr: None,
            unix_sock_group: None,
            unix_sock_ro_perms: "0777".to_string(),
            unix_sock_rw_perms: "0700".to_string(),
            unix_sock_admin_perms: "0700".to_string(),
            unix_sock_dir: None,
            auth_unix_ro: AuthType::None,
            auth_unix_rw: AuthType::None,
            auth_tcp: AuthType::Sasl,
            auth_tls: AuthType::None,
            access_drivers: None,
            sasl_allowed_username_list: None,
            key_file: None,
            cert_file: None,
            ca_file: None,
            crl_file: None,
            tls_no_sanity_certificate: false,
            tls_no_verify_certificate: false,
            tls_allowed_dn_list: None,
            tls_priority: None,
            tcp_min_ssf: None,
            min_workers: 5,
            max_workers: 20,
            prio_workers: 5,
            max_clients: 5000,
            max_queued_clients: 1000,
            max_anonymous_clients: 20,
            max_client_requests: 5,
            admin_min_workers: 5,
            admin_max_workers: 20,
            admin_max_clients: 5000,
            admin_max_queued_clients: 20,
            admin_max_client_requests: 5,
            log_level: None,
            log_filters: None,
            log_outputs: None,
            audit_level: 1,
            audit_logging: false,
            host_uuid: None,
            host_uuid_source: "smbios".to_string(),
            keepalive_interval: 5,
            keepalive_count: 5,
            admin_keepalive_interval: 5,
            admin_keepalive_count: 5,
            ovs_timeout: 5,
        }
    }

    /// Applies every key of `conf` this daemon knows; unknown keys, and the TCP/TLS keys
    /// for virtxend, are ignored. Returns every problem found.
    // C: daemonConfigLoadOptions
    pub fn load_conf(&mut self, conf: &Conf) -> Result<(), Vec<ConfigError>> {
        let mut errs = Errors::new();
        let e = &mut errs;
        if self.kind.has_ip() {
            take(e, conf.get_bool("listen_tcp"), &mut self.listen_tcp);
            take(e, conf.get_bool("listen_tls"), &mut self.listen_tls);
            take(e, conf.get_string("tls_port"), &mut self.tls_port);
            take(e, conf.get_string("tcp_port"), &mut self.tcp_port);
            take_opt(e, conf.get_string("listen_addr"), &mut self.listen_addr);
        }
        take_auth(e, conf, "auth_unix_rw", &mut self.auth_unix_rw);
        take_auth(e, conf, "auth_unix_ro", &mut self.auth_unix_ro);
        if self.kind.has_ip() {
            take_auth(e, conf, "auth_tcp", &mut self.auth_tcp);
            take_auth(e, conf, "auth_tls", &mut self.auth_tls);
        }
        take_opt(e, conf.get_string_list("access_drivers", false), &mut self.access_drivers);
        take_opt(e, conf.get_string("unix_sock_group"), &mut self.unix_sock_group);
        take(e, conf.get_string("unix_sock_admin_perms"), &mut self.unix_sock_admin_perms);
        take(e, conf.get_string("unix_sock_ro_perms"), &mut self.unix_sock_ro_perms);
        take(e, conf.get_string("unix_sock_rw_perms"), &mut self.unix_sock_rw_perms);
        take_opt(e, conf.get_string("unix_sock_dir"), &mut self.unix_sock_dir);
        if self.kind.has_ip() {
            take(e, conf.get_bool("tls_no_sanity_certificate"), &mut self.tls_no_sanity_certificate);
            take(e, conf.get_bool("tls_no_verify_certificate"), &mut self.tls_no_verify_certificate);
            take_opt(e, conf.get_string("key_file"), &mut self.key_file);
            take_opt(e, conf.get_string("cert_file"), &mut self.cert_file);
            take_opt(e, conf.get_string("ca_file"), &mut self.ca_file);
            take_opt(e, conf.get_string("crl_file"), &mut self.crl_file);
            take_opt(e, conf.get_string_list("tls_allowed_dn_list", false), &mut self.tls_allowed_dn_list);
            take_opt(e, conf.get_string("tls_priority"), &mut self.tls_priority);
            // Only an explicit value is checked: the built-in 56 stands.
            take_opt(e, conf.get_uint("tcp_min_ssf"), &mut self.tcp_min_ssf);
            if let Some(value) = self.tcp_min_ssf.filter(|&v| v < SSF_WARNING_LEVEL) {
                e.push(ConfigError::MinSsfTooLow { value });
            }
        }
        take_opt(e, conf.get_string_list("sasl_allowed_username_list", false), &mut self.sasl_allowed_username_list);
        take(e, conf.get_uint("min_workers"), &mut self.min_workers);
        take(e, conf.get_uint("max_workers"), &mut self.max_workers);
        if self.max_workers < 1 {
            e.push(ConfigError::MaxWorkersZero);
        }
        take(e, conf.get_uint("max_clients"), &mut self.max_clients);
        take(e, conf.get_uint("max_queued_clients"), &mut self.max_queued_clients);
        take(e, conf.get_uint("max_anonymous_clients"), &mut self.max_anonymous_clients);
        take(e, conf.get_uint("prio_workers"), &mut self.prio_workers);
        take(e, conf.get_uint("max_client_requests"), &mut self.max_client_requests);
        take(e, conf.get_uint("admin_min_workers"), &mut self.admin_min_workers);
        take(e, conf.get_uint("admin_max_workers"), &mut self.admin_max_workers);
        take(e, conf.get_uint("admin_max_clients"), &mut self.admin_max_clients);
        take(e, conf.get_uint("admin_max_queued_clients"), &mut self.admin_max_queued_clients);
        take(e, conf.get_uint("admin_max_client_requests"), &mut self.admin_max_client_requests);
        take(e, conf.get_uint("audit_level"), &mut self.audit_level);
        take(e, conf.get_bool("audit_logging"), &mut self.audit_logging);
        take_opt(e, conf.get_string("host_uuid"), &mut self.host_uuid);
        take(e, conf.get_string("host_uuid_source"), &mut self.host_uuid_source);
        take_opt(e, conf.get_uint("log_level"), &mut self.log_level);
        take_opt(e, conf.get_string("log_filters"), &mut self.log_filters);
        take_opt(e, conf.get_string("log_outputs"), &mut self.log_outputs);
        take(e, conf.get_int("keepalive_interval"), &mut self.keepalive_interval);
        take(e, conf.get_uint("keepalive_count"), &mut self.keepalive_count);
        take(e, conf.get_int("admin_keepalive_interval"), &mut self.admin_keepalive_interval);
        take(e, conf.get_uint("admin_keepalive_count"), &mut self.admin_keepalive_count);
        take(e, conf.get_uint("ovs_timeout"), &mut self.ovs_timeout);
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// The SASL strength factor TCP clients must reach.
    pub fn min_ssf(&self) -> u32 {
        self.tcp_min_ssf.unwrap_or(TCP_MIN_SSF_DEFAULT)
    }

    /// Reads `path` and applies it. With `allow_missing` (the implicit default path) a
    /// file that does not exist leaves the defaults. Every syntax error is reported.
    // C: daemonConfigLoadFile
    pub fn load_file(&mut self, path: &Path, allow_missing: bool) -> Result<(), Vec<ConfigError>> {
        if allow_missing {
            if let Err(err) = std::fs::metadata(path) {
                if err.kind() == std::io::ErrorKind::NotFound {
                    return Ok(());
                }
            }
        }
        let (conf, errors) = Conf::read_file_all(path);
        if !errors.is_empty() {
            return Err(errors.into_iter().map(ConfigError::Conf).collect());
        }
        self.load_conf(&conf)
    }

    /// The current value of `key` written as the config file would hold it; None when
    /// the setting is unset, or the key is not one of `DAEMON_KEYS`.
    pub fn value_of(&self, key: &str) -> Option<Value> {
        let opt_str = |v: &Option<String>| v.as_deref().map(string);
        let opt_list = |v: &Option<Vec<String>>| v.as_deref().map(list);
        Some(match key {
            "listen_tcp" => uint(self.listen_tcp.into()),
            "listen_tls" => uint(self.listen_tls.into()),
            "tls_port" => string(&self.tls_port),
            "tcp_port" => string(&self.tcp_port),
            "listen_addr" => return opt_str(&self.listen_addr),
            "auth_unix_rw" => string(self.auth_unix_rw.as_str()),
            "auth_unix_ro" => string(self.auth_unix_ro.as_str()),
            "auth_tcp" => string(self.auth_tcp.as_str()),
            "auth_tls" => string(self.auth_tls.as_str()),
            "access_drivers" => return opt_list(&self.access_drivers),
            "unix_sock_group" => return opt_str(&self.unix_sock_group),
            "unix_sock_admin_perms" => string(&self.unix_sock_admin_perms),
            "unix_sock_ro_perms" => string(&self.unix_sock_ro_perms),
            "unix_sock_rw_perms" => string(&self.unix_sock_rw_perms),
            "unix_sock_dir" => return opt_str(&self.unix_sock_dir),
            "tls_no_sanity_certificate" => uint(self.tls_no_sanity_certificate.into()),
            "tls_no_verify_certificate" => uint(self.tls_no_verify_certificate.into()),
            "key_file" => return opt_str(&self.key_file),
            "cert_file" => return opt_str(&self.cert_file),
            "ca_file" => return opt_str(&self.ca_file),
            "crl_file" => return opt_str(&self.crl_file),
            "tls_allowed_dn_list" => return opt_list(&self.tls_allowed_dn_list),
            "tls_priority" => return opt_str(&self.tls_priority),
            "tcp_min_ssf" => return self.tcp_min_ssf.map(uint),
            "sasl_allowed_username_list" => return opt_list(&self.sasl_allowed_username_list),
            "min_workers" => uint(self.min_workers),
            "max_workers" => uint(self.max_workers),
            "max_clients" => uint(self.max_clients),
            "max_queued_clients" => uint(self.max_queued_clients),
            "max_anonymous_clients" => uint(self.max_anonymous_clients),
            "prio_workers" => uint(self.prio_workers),
            "max_client_requests" => uint(self.max_client_requests),
            "admin_min_workers" => uint(self.admin_min_workers),
            "admin_max_workers" => uint(self.admin_max_workers),
            "admin_max_clients" => uint(self.admin_max_clients),
            "admin_max_queued_clients" => uint(self.admin_max_queued_clients),
            "admin_max_client_requests" => uint(self.admin_max_client_requests),
            "audit_level" => uint(self.audit_level),
            "audit_logging" => uint(self.audit_logging.into()),
            "host_uuid" => return opt_str(&self.host_uuid),
            "host_uuid_source" => string(&self.host_uuid_source),
            "log_level" => return self.log_level.map(uint),
            "log_filters" => return opt_str(&self.log_filters),
            "log_outputs" => return opt_str(&self.log_outputs),
            "keepalive_interval" => int(self.keepalive_interval),
            "keepalive_count" => uint(self.keepalive_count),
            "admin_keepalive_interval" => int(self.admin_keepalive_interval),
            "admin_keepalive_count" => uint(self.admin_keepalive_count),
            "ovs_timeout" => uint(self.ovs_timeout),
            _ => return None,
        })
    }
}

/// The user's config directory: $XDG_CONFIG_HOME when set and not empty, else
/// $HOME/.config (libvirt's virGetUserConfigDirectory without the "libvirt" part).
fn user_config_dir(xdg_config_home: Option<OsString>, home: Option<OsString>) -> PathBuf {
    match xdg_config_home {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => match home {
            Some(home) if !home.is_empty() => PathBuf::from(home).join(".config"),
            // glib would ask the password database; "/" is its own last resort.
            _ => PathBuf::from("/.config"),
        },
    }
}

fn config_path_for(kind: DaemonKind, privileged: bool, xdg: Option<OsString>, home: Option<OsString>) -> PathBuf {
    let file = format!("{}.conf", kind.name());
    if privileged {
        Path::new(SYSCONFDIR).join("libvirt").join(file)
    } else {
        user_config_dir(xdg, home).join("libvirt").join(file)
    }
}

/// /etc/libvirt/NAME.conf for root; $XDG_CONFIG_HOME/libvirt/NAME.conf otherwise.
// C: daemonConfigFilePath
pub fn default_config_path(kind: DaemonKind, privileged: bool) -> PathBuf {
    config_path_for(kind, privileged, std::env::var_os("XDG_CONFIG_HOME"), std::env::var_os("HOME"))
}
