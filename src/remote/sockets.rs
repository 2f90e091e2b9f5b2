//! Which daemon serves a URI, and where its socket is (libvirt's remote/remote_sockets.c
//! `remoteSplitURIScheme`, `remoteGetUNIXSocket`, with util/viruri.c parsing and
//! remote_daemon_dispatch.c `remoteDispatchProbeURI`).
//!
//! The daemon alone decides which socket serves a URI: the transport parameters a client
//! may put in its URI (`socket=`, `mode=`, `command=`...) are client-side settings in
//! libvirt; here they are never used to pick a socket and are not passed upstream.

use std::path::{Path, PathBuf};

use crate::util::paths::{Env, RUNSTATEDIR};

/// A URI split the way libvirt splits it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Uri {
    pub scheme: String,
    pub user: Option<String>,
    pub server: Option<String>,
    pub port: Option<u16>,
    pub path: String,
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriError {
    Malformed(String),
    /// A transport (`+ssh`, `+tls`...) or a host: the URI points at another machine.
    Remote(String),
    /// A driver libvirt runs inside the client or the proxy process (test, esx...).
    InProcess(String),
    UnknownDriver(String),
    BadPath {
        uri: String,
        path: String,
    },
}

impl std::fmt::Display for UriError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UriError::Malformed(u) => write!(f, "Unable to parse URI {u}"),
            UriError::Remote(u) => {
                write!(f, "URI '{u}' names a remote host or transport: this virtproxyd relays only to daemons on this host")
            }
            UriError::InProcess(u) => {
                write!(f, "URI '{u}' is served by a driver that runs inside libvirt's own processes; no daemon socket serves it here")
            }
            // VIR_ERR_NO_CONNECT's own text already says "no connection driver available for".
            UriError::UnknownDriver(u) => write!(f, "{u}"),
            UriError::BadPath { uri, path } => {
                write!(f, "unexpected {} URI path '{path}', try {}:///system or ///session", scheme_of(uri), scheme_of(uri))
            }
        }
    }
}

fn scheme_of(uri: &str) -> &str {
    uri.split(':').next().unwrap_or(uri)
}

fn pct_decode(s: &str) -> String {
    fn hex(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// C: virURIParse
pub fn parse(text: &str) -> Result<Uri, UriError> {
    let bad = || UriError::Malformed(text.to_string());
    let (scheme, rest) = text.split_once(':').ok_or_else(bad)?;
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return Err(bad());
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let rest = rest.split('#').next().unwrap_or("");
    let mut uri = Uri { scheme: scheme.to_ascii_lowercase(), ..Uri::default() };
    if let Some(after) = rest.strip_prefix("//") {
        let (auth, path) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        uri.path = path.to_string();
        let hostport = match auth.rsplit_once('@') {
            Some((u, h)) => {
                uri.user = Some(pct_decode(u));
                h
            }
            None => auth,
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, tail) = v6.split_once(']').ok_or_else(bad)?;
            (h, tail.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if !host.is_empty() {
            uri.server = Some(host.to_string());
        }
        if let Some(p) = port.filter(|p| !p.is_empty()) {
            uri.port = Some(p.parse().map_err(|_| bad())?);
        }
    } else {
        uri.path = rest.to_string();
    }
    if let Some(q) = query {
        for kv in q.split(['&', ';']).filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            uri.params.push((pct_decode(k), pct_decode(v)));
        }
    }
    Ok(uri)
}

/// The per-driver daemons libvirt has, by URI scheme: (scheme, daemon base name).
pub const DRIVERS: &[(&str, &str)] = &[
    ("qemu", "qemu"),
    ("xen", "xen"),
    ("lxc", "lxc"),
    ("vbox", "vbox"),
    ("bhyve", "bhyve"),
    ("vz", "vz"),
    ("parallels", "vz"),
    ("ch", "ch"),
    ("network", "network"),
    ("storage", "storage"),
    ("nodedev", "nodedev"),
    ("secret", "secret"),
    ("nwfilter", "nwfilter"),
    ("interface", "interface"),
];

/// Schemes of drivers that live inside libvirt's client library rather than a daemon.
const IN_PROCESS: &[&str] = &["test", "esx", "gsx", "vpx", "hyperv", "vmwareplayer", "vmwarews", "vmwarefusion", "openvz"];

/// Where a resolved URI goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The driver's daemon base name (`qemu` for virtqemud).
    pub driver: &'static str,
    pub socket: PathBuf,
    /// The URI sent upstream in CONNECT_OPEN.
    pub uri: String,
}

/// Socket directory of a system (root) or session daemon. `VIRTLITE_ROOT` (environment,
/// for tests and chroot-like set-ups, as virtxend's state paths) moves the system one under
/// that directory.
pub fn socket_dir(session: bool, env: &Env) -> PathBuf {
    if session {
        return env.user_runtime_dir();
    }
    let base = PathBuf::from(RUNSTATEDIR).join("libvirt");
    match std::env::var_os("VIRTLITE_ROOT") {
        Some(root) if !root.is_empty() => PathBuf::from(root).join(base.strip_prefix("/").unwrap_or(&base)),
        _ => base,
    }
}

pub fn socket_name(driver: &str, readonly: bool, session: bool) -> String {
    // Session daemons have no read-only socket: read-only is enforced by the open flag.
    if readonly && !session {
        format!("virt{driver}d-sock-ro")
    } else {
        format!("virt{driver}d-sock")
    }
}

/// Maps a client's URI to the daemon socket that serves it.
// C: remoteGetUNIXSocket
/// A URI without a path (or `/`) goes to the daemon of the proxy's own kind (system for a
/// privileged proxy, session otherwise), which answers for the path itself.
pub fn resolve(text: &str, readonly: bool, privileged: bool, env: &Env) -> Result<Target, UriError> {
    let uri = parse(text)?;
    let (drv_scheme, transport) = match uri.scheme.split_once('+') {
        Some((d, t)) => (d.to_string(), Some(t.to_string())),
        None => (uri.scheme.clone(), None),
    };
    if IN_PROCESS.contains(&drv_scheme.as_str()) {
        return Err(UriError::InProcess(text.to_string()));
    }
    let driver =
        DRIVERS.iter().find(|(s, _)| *s == drv_scheme).map(|(_, d)| *d).ok_or_else(|| UriError::UnknownDriver(text.to_string()))?;
    if uri.server.as_deref().is_some_and(|h| !h.is_empty() && h != "localhost") {
        return Err(UriError::Remote(text.to_string()));
    }
    if let Some(t) = &transport {
        if t != "unix" {
            return Err(UriError::Remote(text.to_string()));
        }
    }
    let session = match uri.path.as_str() {
        "/system" => false,
        "" | "/" => !privileged,
        "/session" => true,
        p => return Err(UriError::BadPath { uri: text.to_string(), path: p.to_string() }),
    };
    let socket = socket_dir(session, env).join(socket_name(driver, readonly, session));
    let mut upstream = format!("{drv_scheme}://{}", uri.path);
    let kept: Vec<String> = uri
        .params
        .iter()
        .filter(|(k, _)| {
            let transport = TRANSPORT_PARAMS.contains(&k.as_str());
            if transport {
                log::debug!("URI parameter '{k}' ignored: the daemon picks the socket that serves '{text}'");
            }
            !transport
        })
        .map(|(k, v)| if v.is_empty() { k.clone() } else { format!("{k}={v}") })
        .collect();
    if !kept.is_empty() {
        upstream.push('?');
        upstream.push_str(&kept.join("&"));
    }
    Ok(Target { driver, socket, uri: upstream })
}

/// The URI parameters libvirt's remote driver reads on the client side to choose and set
/// up its transport (remote_driver.c doRemoteOpen); they do not travel upstream.
const TRANSPORT_PARAMS: &[&str] = &[
    "name",
    "command",
    "socket",
    "auth",
    "netcat",
    "keyfile",
    "sshauth",
    "known_hosts",
    "known_hosts_verify",
    "no_sanity",
    "no_verify",
    "no_tty",
    "pkipath",
    "tls_priority",
    "mode",
    "proxy",
];

/// For a client that sent no URI: the first daemon whose socket exists, in libvirt's order.
// C: remoteDispatchProbeURI
pub fn probe(readonly: bool, privileged: bool, env: &Env, exists: &dyn Fn(&Path) -> bool) -> Option<Target> {
    if privileged {
        for drv in ["xen", "qemu", "lxc", "vbox", "bhyve", "vz"] {
            let sock = socket_dir(false, env).join(socket_name(drv, readonly, false));
            if exists(&sock) {
                return Some(Target { driver: leak_driver(drv), socket: sock, uri: format!("{drv}:///system") });
            }
        }
    } else {
        for drv in ["qemu", "vbox"] {
            let sock = socket_dir(true, env).join(socket_name(drv, false, true));
            if exists(&sock) {
                return Some(Target { driver: leak_driver(drv), socket: sock, uri: format!("{drv}:///session") });
            }
        }
    }
    None
}

fn leak_driver(d: &str) -> &'static str {
    DRIVERS.iter().find(|(_, x)| *x == d).map(|(_, x)| *x).unwrap_or("qemu")
}

/// Fuzz entry point: URI parsing and resolution must never panic.
pub fn fuzz_target(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let _ = parse(&s);
    let env = Env { home: Some("/h".into()), xdg_runtime_dir: Some("/r".into()), ..Env::default() };
    let _ = resolve(&s, data.first().is_some_and(|b| b & 1 == 1), data.first().is_some_and(|b| b & 2 == 2), &env);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env { home: Some("/home/u".into()), xdg_runtime_dir: Some("/run/user/1000".into()), ..Env::default() }
    }

    #[test]
    fn parse_splits_every_part() {
        let u = parse("qemu+ssh://root@host.example:2222/system?socket=/x&mode=direct").unwrap();
        assert_eq!(u.scheme, "qemu+ssh");
        assert_eq!(u.user.as_deref(), Some("root"));
        assert_eq!(u.server.as_deref(), Some("host.example"));
        assert_eq!(u.port, Some(2222));
        assert_eq!(u.path, "/system");
        assert_eq!(u.params, vec![("socket".into(), "/x".into()), ("mode".into(), "direct".into())]);
    }

    #[test]
    fn parse_ipv6_host() {
        let u = parse("qemu+tls://[::1]:16514/system").unwrap();
        assert_eq!(u.server.as_deref(), Some("::1"));
        assert_eq!(u.port, Some(16514));
    }

    #[test]
    fn parse_rejects_garbage() {
        for bad in ["", "noscheme", ":x", "qe mu:///system", "qemu://h:notaport/system"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolve_system_uri_to_root_socket() {
        let t = resolve("qemu:///system", false, true, &env()).unwrap();
        assert_eq!(t.socket, PathBuf::from("/run/libvirt/virtqemud-sock"));
        assert_eq!(t.uri, "qemu:///system");
        let t = resolve("xen:///system", true, true, &env()).unwrap();
        assert_eq!(t.socket, PathBuf::from("/run/libvirt/virtxend-sock-ro"));
    }

    #[test]
    fn resolve_session_uri_to_runtime_dir() {
        let t = resolve("network:///session", true, true, &env()).unwrap();
        assert_eq!(t.socket, PathBuf::from("/run/user/1000/libvirt/virtnetworkd-sock"));
        assert_eq!(t.driver, "network");
    }

    #[test]
    fn resolve_every_driver_has_a_daemon() {
        for (scheme, drv) in DRIVERS {
            let t = resolve(&format!("{scheme}:///system"), false, true, &env()).unwrap();
            assert_eq!(t.socket, PathBuf::from(format!("/run/libvirt/virt{drv}d-sock")));
        }
    }

    #[test]
    fn resolve_socket_param_is_ignored_and_not_passed_on() {
        let t = resolve("qemu:///system?socket=/tmp/s&mode=direct", false, true, &env()).unwrap();
        assert_eq!(t.socket, PathBuf::from("/run/libvirt/virtqemud-sock"));
        assert_eq!(t.uri, "qemu:///system");
    }

    #[test]
    fn resolve_keeps_driver_params_and_path() {
        let t = resolve("qemu:///system?socket=/tmp/s&foo=1", false, true, &env()).unwrap();
        assert_eq!(t.uri, "qemu:///system?foo=1");
        // The path goes upstream as given: the daemon answers for "/" itself.
        assert_eq!(resolve("qemu:///", false, true, &env()).unwrap().uri, "qemu:///");
    }

    #[test]
    fn unknown_driver_message_is_the_uri_alone() {
        // virsh prefixes VIR_ERR_NO_CONNECT with "no connection driver available for".
        assert_eq!(resolve("bogus:///system", false, true, &env()).unwrap_err().to_string(), "bogus:///system");
    }

    #[test]
    fn resolve_refuses_remote_and_in_process() {
        assert!(matches!(resolve("qemu+ssh://h/system", false, true, &env()), Err(UriError::Remote(_))));
        assert!(matches!(resolve("qemu://otherhost/system", false, true, &env()), Err(UriError::Remote(_))));
        assert!(matches!(resolve("test:///default", false, true, &env()), Err(UriError::InProcess(_))));
        assert!(matches!(resolve("bogus:///system", false, true, &env()), Err(UriError::UnknownDriver(_))));
        assert!(matches!(resolve("qemu:///embed?root=/x", false, true, &env()), Err(UriError::BadPath { .. })));
    }

    #[test]
    fn resolve_unix_transport_is_local() {
        let t = resolve("qemu+unix:///system", false, true, &env()).unwrap();
        assert_eq!(t.uri, "qemu:///system");
    }

    #[test]
    fn probe_root_prefers_xen_then_qemu() {
        let only_qemu = |p: &Path| p.ends_with("virtqemud-sock");
        let t = probe(false, true, &env(), &only_qemu).unwrap();
        assert_eq!(t.uri, "qemu:///system");
        let both = |p: &Path| p.ends_with("virtqemud-sock") || p.ends_with("virtxend-sock");
        assert_eq!(probe(false, true, &env(), &both).unwrap().uri, "xen:///system");
        let ro = |p: &Path| p.ends_with("virtqemud-sock-ro");
        assert_eq!(probe(true, true, &env(), &ro).unwrap().socket, PathBuf::from("/run/libvirt/virtqemud-sock-ro"));
    }

    #[test]
    fn probe_session_looks_in_runtime_dir() {
        let q = |p: &Path| p == Path::new("/run/user/1000/libvirt/virtqemud-sock");
        assert_eq!(probe(false, false, &env(), &q).unwrap().uri, "qemu:///session");
        assert!(probe(false, false, &env(), &|_: &Path| false).is_none());
    }

    #[test]
    fn fuzz_target_survives_odd_input() {
        for s in ["%", "a:%zz", "a://[", "a://@:/", "qemu:///system?%%=%"] {
            fuzz_target(s.as_bytes());
        }
    }
}
