//! virtproxyd's TLS listener with Debian's real clients: virsh and python3-libvirt over
//! qemu+tls:// through our proxy to Debian's libvirtd, and bad client certificates (expired,
//! wrong CA, revoked, DN not allowed, none) refused with the reason in our log. Certificates
//! are made at test time with the openssl CLI.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use common::libvirtd::*;
use common::pki::Pki;
use common::*;

const GOOD_DN: &str = "/C=GB/ST=London/L=London/O=virtlite test/CN=client";

struct TlsSetup {
    s: ProxySetup,
    pki: Pki,
    port: u16,
}

/// A PKI with a good client, and a proxy listening for TLS on a free port with `extra`.
fn setup(tag: &str, extra: &str, prepare: impl FnOnce(&Pki)) -> TlsSetup {
    let dir = TestDir::new(tag);
    let pki = Pki::new(&dir.path);
    pki.client("good", GOOD_DN, None);
    prepare(&pki);
    let port = free_port();
    let conf = format!("listen_tls = 1\nlisten_addr = \"127.0.0.1\"\ntls_port = \"{port}\"\n{}{extra}\n", pki.server_conf());
    let s = ProxySetup::start_in(dir, false, &conf, &[]);
    assert!(wait_for(Duration::from_secs(10), || TcpStream::connect(("127.0.0.1", port)).is_ok()), "TLS port not listening");
    TlsSetup { s, pki, port }
}

impl TlsSetup {
    fn uri(&self, host: &str, client: &str) -> String {
        let pkipath = self.pki.client_pkipath(client);
        chown_nobody(&self.pki.dir);
        format!("qemu+tls://{host}:{}/session?pkipath={}", self.port, pkipath.display())
    }

    /// Stops the proxy and returns its log (stderr).
    fn log(&mut self) -> String {
        self.s.proxy.stop();
        self.s.proxy.stderr_text()
    }

    fn raw_client(&self, cert: Option<(&Path, &Path)>) -> String {
        raw_tls_client(&self.pki.ca_cert(), self.port, cert)
    }

    fn raw_with(&self, name: &str) -> String {
        let d = self.pki.dir.join(name);
        self.raw_client(Some((&d.join("cert.pem"), &d.join("key.pem"))))
    }
}

/// A raw TLS client (python's ssl module) with `cert`/`key`: what the server sends after
/// the handshake, as hex ("" when it closed without the check byte).
fn raw_tls_client(ca: &Path, port: u16, cert: Option<(&Path, &Path)>) -> String {
    let script = r#"
import os, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(os.environ['CA'])
ctx.check_hostname = False
if os.environ.get('CERT'):
    ctx.load_cert_chain(os.environ['CERT'], os.environ['KEY'])
s = socket.create_connection(('127.0.0.1', int(os.environ['PORT'])), timeout=10)
try:
    t = ctx.wrap_socket(s)
    b = t.recv(1)
except (ssl.SSLError, OSError) as e:
    b = b''
print('GOT[' + b.hex() + ']')
"#;
    let mut c = std::process::Command::new("/usr/bin/python3");
    c.arg("-c").arg(script).env("CA", ca).env("PORT", port.to_string());
    if let Some((cert, key)) = cert {
        c.env("CERT", cert).env("KEY", key);
    }
    let out = run_with_timeout(&mut c, Duration::from_secs(30));
    let t = text(&out.stdout);
    let start = t.find("GOT[").unwrap_or_else(|| panic!("python: {}", text(&out.stderr))) + 4;
    t[start..].split(']').next().unwrap_or("").to_string()
}

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "command failed:\nstdout: {}\nstderr: {}", text(&o.stdout), text(&o.stderr));
    text(&o.stdout)
}

#[test]
fn virsh_over_tls_reaches_libvirtd() {
    let t = setup("tlsvirsh", "", |_| {});
    let uri = t.uri("127.0.0.1", "good");
    let out = ok(&t.s.virsh(&uri, &["uri"]));
    assert!(out.contains("qemu+tls://127.0.0.1"), "{out}");
    let direct = ok(&t.s.virsh(&t.s.direct_uri(), &["list", "--all"]));
    assert_eq!(ok(&t.s.virsh(&uri, &["list", "--all"])), direct);
}

#[test]
fn python_over_tls_gets_same_answers_as_direct() {
    let t = setup("tlspy", "", |_| {});
    let uri = t.uri("127.0.0.1", "good");
    let out = t.s.python(&format!(
        r#"
import libvirt, os
c = libvirt.open("{uri}")
d = libvirt.open(os.environ['DIRECT_URI'])
print('VER', c.getLibVersion() == d.getLibVersion())
print('HOST', c.getHostname() == d.getHostname())
print('NETS', sorted(c.listNetworks()) == sorted(d.listNetworks()))
"#
    ));
    let o = ok(&out);
    assert!(o.contains("VER True") && o.contains("HOST True") && o.contains("NETS True"), "{o}");
}

#[test]
fn good_certificate_gets_check_byte() {
    let t = setup("tlsbyte", "", |_| {});
    assert_eq!(t.raw_with("good"), "01");
}

#[test]
fn expired_certificate_refused_with_reason() {
    let mut t = setup("tlsexp", "", |p| {
        p.client("expired", "/C=GB/O=virtlite test/CN=expired", Some(("20200101000000Z", "20210101000000Z")));
    });
    assert_eq!(t.raw_with("expired"), "");
    let log = t.log();
    assert!(log.contains("certificate has expired") && log.contains("CN=expired"), "{log}");
}

#[test]
fn wrong_ca_certificate_refused_with_reason() {
    let mut t = setup("tlswca", "", |_| {});
    let other = Pki::new(&t.pki.dir.join("other"));
    other.client("rogue", "/C=GB/O=elsewhere/CN=rogue", None);
    let d = other.dir.join("rogue");
    assert_eq!(t.raw_client(Some((&d.join("cert.pem"), &d.join("key.pem")))), "");
    let log = t.log();
    assert!(log.contains("CN=rogue") && log.contains("failed verification"), "{log}");
}

#[test]
fn revoked_certificate_refused_with_reason() {
    let mut t = setup("tlsrev", "", |p| {
        p.client("revoked", "/C=GB/O=virtlite test/CN=revoked", None);
        p.revoke("revoked");
    });
    assert_eq!(t.raw_with("revoked"), "");
    assert_eq!(t.raw_with("good"), "01");
    let log = t.log();
    assert!(log.contains("certificate revoked") && log.contains("CN=revoked"), "{log}");
}

#[test]
fn dn_not_in_allowed_list_refused_virsh_fails() {
    let mut t = setup("tlsdn", "tls_allowed_dn_list = [\"C=GB,ST=London,L=London,O=virtlite test,CN=client\"]\n", |p| {
        p.client("other", "/C=GB/ST=London/L=London/O=virtlite test/CN=other", None);
    });
    let good = t.uri("127.0.0.1", "good");
    ok(&t.s.virsh(&good, &["uri"]));
    let other = t.uri("127.0.0.1", "other");
    let o = t.s.virsh(&other, &["uri"]);
    assert!(!o.status.success());
    let log = t.log();
    assert!(log.contains("tls_allowed_dn_list") && log.contains("C=GB,ST=London,L=London,O=virtlite test,CN=other"), "{log}");
}

#[test]
fn no_client_certificate_refused() {
    let mut t = setup("tlsnocert", "", |_| {});
    assert_eq!(t.raw_client(None), "");
    assert!(t.log().contains("did not send a certificate"));
}

#[test]
fn no_verify_accepts_bad_certificate_with_warning() {
    let mut t = setup("tlsnover", "tls_no_verify_certificate = 1\n", |p| {
        p.client("expired", "/C=GB/O=virtlite test/CN=expired", Some(("20200101000000Z", "20210101000000Z")));
    });
    assert_eq!(t.raw_with("expired"), "01");
    assert!(t.log().contains("Ignoring bad certificate at user request"));
}

#[test]
fn plain_tcp_client_on_tls_port_dropped() {
    let t = setup("tlsplain", "", |_| {});
    let mut s = TcpStream::connect(("127.0.0.1", t.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // An RPC packet where a ClientHello is expected.
    s.write_all(&[0, 0, 0, 28, 0x20, 0, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 66, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]).unwrap();
    let mut buf = [0u8; 256];
    let mut total = Vec::new();
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => total.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("connection not closed: {e}"),
        }
    }
    // Whatever came back (at most a TLS alert) is no RPC reply.
    assert!(total.len() < 28 || total[0] == 0x15, "{total:?}");
}

#[test]
fn stalled_handshake_dropped_after_timeout() {
    let t = setup("tlsstall", "", |_| {});
    let mut s = TcpStream::connect(("127.0.0.1", t.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let start = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(9) && waited < Duration::from_secs(19), "{waited:?}");
}

#[test]
fn ipv6_listener_serves_virsh() {
    let dir = TestDir::new("tlsv6");
    let pki = Pki::new(&dir.path);
    pki.client("good", GOOD_DN, None);
    let port = free_port();
    let conf = format!("listen_tls = 1\nlisten_addr = \"::1\"\ntls_port = \"{port}\"\n{}", pki.server_conf());
    let s = ProxySetup::start_in(dir, false, &conf, &[]);
    assert!(wait_for(Duration::from_secs(10), || TcpStream::connect(("::1", port)).is_ok()));
    let t = TlsSetup { s, pki, port };
    let uri = t.uri("[::1]", "good");
    let direct = ok(&t.s.virsh(&t.s.direct_uri(), &["list", "--all"]));
    assert_eq!(ok(&t.s.virsh(&uri, &["list", "--all"])), direct);
}

#[test]
fn bad_server_certificate_stops_start_naming_file() {
    let dir = TestDir::new("tlsinsane");
    let pki = Pki::new(&dir.path);
    // An expired server certificate.
    pki.sign("notserver", "/C=GB/O=virtlite test/CN=localhost", "server_ext", Some(("20200101000000Z", "20210101000000Z")));
    let conf = format!(
        "listen_tls = 1\nlisten_addr = \"127.0.0.1\"\ntls_port = \"{}\"\nca_file = \"{}\"\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        free_port(),
        pki.ca_cert().display(),
        pki.dir.join("notserver/cert.pem").display(),
        pki.dir.join("notserver/key.pem").display()
    );
    let cfg = dir.write("bad.conf", &config_in(&dir.path, &conf));
    let out = run_with_timeout(
        std::process::Command::new(PROXY).arg("-f").arg(&cfg).arg("-p").arg(dir.join("p.pid")).env("XDG_RUNTIME_DIR", &dir.path),
        Duration::from_secs(20),
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("notserver/cert.pem") && err.contains("has expired"), "{err}");
}

#[test]
fn unknown_tls_priority_refused_at_start() {
    let dir = TestDir::new("tlsprio");
    let pki = Pki::new(&dir.path);
    let conf = format!(
        "listen_tls = 1\nlisten_addr = \"127.0.0.1\"\ntls_port = \"{}\"\ntls_priority = \"NORMAL:+BOGUS\"\n{}",
        free_port(),
        pki.server_conf()
    );
    let cfg = dir.write("prio.conf", &config_in(&dir.path, &conf));
    let out = run_with_timeout(
        std::process::Command::new(PROXY).arg("-f").arg(&cfg).arg("-p").arg(dir.join("p.pid")).env("XDG_RUNTIME_DIR", &dir.path),
        Duration::from_secs(20),
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("+BOGUS"), "{}", text(&out.stderr));
}

#[test]
fn socket_activation_serves_tcp_and_tls_names() {
    use std::os::fd::AsRawFd;
    let d = TestDir::new("tlsact");
    let pki = Pki::new(&d.path);
    pki.client("good", GOOD_DN, None);
    let rw = std::os::unix::net::UnixListener::bind(d.join("act-rw")).unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tls = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (tcp_port, tls_port) = (tcp.local_addr().unwrap().port(), tls.local_addr().unwrap().port());
    let cfg = d.write("c.conf", &config_in(&d.path, &pki.server_conf()));
    let mut dmn = spawn_activated(
        &d,
        &[rw.as_raw_fd(), tcp.as_raw_fd(), tls.as_raw_fd()],
        Some("virtproxyd.socket:virtproxyd-tcp.socket:virtproxyd-tls.socket"),
        &cfg,
    );
    drop((rw, tcp, tls));
    assert!(wait_for(Duration::from_secs(10), || d.join("daemon.pid").exists()));
    // The -tcp name gets auth_tcp (sasl by default): AUTH_LIST says SASL (1).
    let mut s = TcpStream::connect(("127.0.0.1", tcp_port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut call = vec![0, 0, 0, 28];
    for w in [0x2000_8086u32, 1, 66, 0, 1, 0] {
        call.extend_from_slice(&w.to_be_bytes());
    }
    s.write_all(&call).unwrap();
    let mut reply = [0u8; 36];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(&reply[28..], &[0, 0, 0, 1, 0, 0, 0, 1]);
    // The -tls name speaks TLS with our credentials.
    let good = pki.dir.join("good");
    assert_eq!(raw_tls_client(&pki.ca_cert(), tls_port, Some((&good.join("cert.pem"), &good.join("key.pem")))), "01");
    assert!(dmn.stop().success());
}

#[test]
fn admin_shows_dn_and_update_tls_keeps_old_credentials_on_bad_files() {
    let dir = TestDir::new("tlsadm");
    let pki = Pki::new(&dir.path);
    pki.client("good", GOOD_DN, None);
    let port = free_port();
    let conf = format!("listen_tls = 1\nlisten_addr = \"127.0.0.1\"\ntls_port = \"{port}\"\n{}", pki.server_conf());
    let s = ProxySetup::start_in(dir, true, &conf, &[]);
    assert!(wait_for(Duration::from_secs(10), || TcpStream::connect(("127.0.0.1", port)).is_ok()));
    let mut t = TlsSetup { s, pki, port };
    let uri = t.uri("127.0.0.1", "good");
    let admin = t.s.sockdir.join("libvirt-admin-sock");
    // A client held open over TLS while virt-admin looks at it.
    let script = r#"
import libvirt, os, subprocess
c = libvirt.open(os.environ['URI'])
adm = ['virt-admin', '-c', 'virtproxyd:///system?socket=' + os.environ['ADMIN']]
out = subprocess.run(adm + ['client-list', 'virtproxyd'], capture_output=True, text=True).stdout
print(out)
for line in out.splitlines()[2:]:
    f = line.split()
    if f and f[0].isdigit():
        print(subprocess.run(adm + ['client-info', 'virtproxyd', f[0]], capture_output=True, text=True).stdout)
c.close()
"#;
    let mut py = std::process::Command::new("/usr/bin/python3");
    py.arg("-c").arg(script).env("URI", &uri).env("ADMIN", &admin);
    let out = ok(&run_with_timeout(&mut py, Duration::from_secs(60)));
    assert!(out.contains("tls"), "{out}");
    assert!(out.contains("tls_x509_dname") && out.contains("C=GB,ST=London,L=London,O=virtlite test,CN=client"), "{out}");

    // Bad server files: the update fails and the old credentials keep serving.
    let cert = t.pki.dir.join("server/cert.pem");
    let good_cert = std::fs::read(&cert).unwrap();
    std::fs::write(&cert, "not a certificate").unwrap();
    let o = virt_admin(&admin, &["srv-update-tls", "virtproxyd"]);
    assert!(!o.status.success(), "{}", text(&o.stdout));
    assert_eq!(t.raw_with("good"), "01");
    t.s.proxy.signal(libc::SIGHUP);
    // SIGHUP with the bad files reloads nothing either (a round trip lets the loop see it).
    assert_eq!(t.raw_with("good"), "01");
    // Good files again: the update succeeds and new clients are served.
    std::fs::write(&cert, good_cert).unwrap();
    ok(&virt_admin(&admin, &["srv-update-tls", "virtproxyd"]));
    assert_eq!(t.raw_with("good"), "01");
    let log = t.log();
    assert!(log.matches("Keeping the current TLS credentials").count() >= 2, "{log}");
}
