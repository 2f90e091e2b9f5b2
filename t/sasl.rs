//! SASL authentication in virtproxyd with Debian's real clients: a sasldb made with
//! `saslpasswd2`, SASL pointed at a test libvirt.conf through SASL_CONF_PATH, and virsh /
//! python3-libvirt reading their credentials from a libvirt auth.conf (LIBVIRT_AUTH_FILE).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::libvirtd::*;
use common::pki::Pki;
use common::*;

const USER: &str = "fred";
const PASSWORD: &str = "s3cret-pw";

struct SaslSetup {
    s: ProxySetup,
    port: u16,
    auth_file: PathBuf,
    pki: Option<Pki>,
}

/// A sasldb holding fred, a SASL config offering `mechs`, a proxy with a TCP (and, with
/// `tls`, a TLS) listener and `extra` config.
fn setup(tag: &str, mechs: &str, extra: &str, tls: bool) -> SaslSetup {
    setup_as(tag, mechs, extra, tls, false)
}

/// As `setup`; `root` runs the proxy as root (it then has an admin socket).
fn setup_as(tag: &str, mechs: &str, extra: &str, tls: bool, root: bool) -> SaslSetup {
    let dir = TestDir::new(tag);
    let db = dir.join("passwd.db");
    let mut c = Command::new("saslpasswd2")
        .args(["-f", db.to_str().unwrap(), "-a", "libvirt", "-c", "-p", USER])
        .stdin(Stdio::piped())
        .spawn()
        .expect("saslpasswd2 (sasl2-bin) must be installed");
    c.stdin.take().unwrap().write_all(PASSWORD.as_bytes()).unwrap();
    assert!(c.wait().unwrap().success());
    dir.write("sasl2/libvirt.conf", &format!("mech_list: {mechs}\nsasldb_path: {}\n", db.display()));
    let auth_file = dir.write(
        "auth.conf",
        &format!("[credentials-test]\nauthname={USER}\npassword={PASSWORD}\n\n[auth-libvirt-default]\ncredentials=test\n"),
    );
    let pki = tls.then(|| {
        let p = Pki::new(&dir.path);
        p.client("good", "/C=GB/O=virtlite test/CN=client", None);
        p
    });
    let port = free_port();
    let mut conf = format!("listen_tcp = 1\nlisten_addr = \"127.0.0.1\"\ntcp_port = \"{port}\"\n{extra}\n");
    if let Some(p) = &pki {
        conf.push_str(&format!("listen_tls = 1\ntls_port = \"{}\"\nauth_tls = \"sasl\"\n{}", port + 1, p.server_conf()));
    }
    let sasl_path = dir.join("sasl2");
    let s = ProxySetup::start_in(dir, root, &conf, &[("SASL_CONF_PATH", sasl_path.to_str().unwrap())]);
    assert!(wait_for(Duration::from_secs(10), || TcpStream::connect(("127.0.0.1", port)).is_ok()));
    SaslSetup { s, port, auth_file, pki }
}

impl SaslSetup {
    fn tcp_uri(&self) -> String {
        format!("qemu+tcp://127.0.0.1:{}/session", self.port)
    }

    fn tls_uri(&self) -> String {
        let pkipath = self.pki.as_ref().expect("TLS set up").client_pkipath("good");
        chown_nobody(&self.s.dir.path);
        format!("qemu+tls://127.0.0.1:{}/session?pkipath={}", self.port + 1, pkipath.display())
    }

    /// virsh as nobody with the test auth.conf.
    fn virsh(&self, uri: &str, args: &[&str]) -> std::process::Output {
        let mut c = as_nobody("virsh");
        c.env("HOME", &self.s.libvirtd.home).env("LIBVIRT_AUTH_FILE", &self.auth_file).arg("-c").arg(uri).args(args);
        run_with_timeout(&mut c, Duration::from_secs(60))
    }

    fn log(&mut self) -> String {
        self.s.proxy.stop();
        self.s.proxy.stderr_text()
    }
}

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "command failed:\nstdout: {}\nstderr: {}", text(&o.stdout), text(&o.stderr));
    text(&o.stdout)
}

#[test]
fn scram_on_plain_tcp_refused() {
    // SCRAM has no security layer: on plain TCP (tcp_min_ssf) it is not even offered.
    let t = setup("saslscramtcp", "scram-sha-256", "", false);
    let o = t.virsh(&t.tcp_uri(), &["uri"]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("no mechanism available"), "{}", text(&o.stderr));
}

#[test]
fn scram_on_tls_accepted() {
    let mut t = setup("saslscramtls", "scram-sha-256", "log_level = 2", true);
    let direct = ok(&t.s.virsh(&t.s.direct_uri(), &["list", "--all"]));
    assert_eq!(ok(&t.virsh(&t.tls_uri(), &["list", "--all"])), direct);
    assert!(t.log().contains("SASL authentication of 'fred' succeeded (SSF 0)"));
}

#[test]
fn scram_on_unix_accepted() {
    let t = setup("saslscramunix", "scram-sha-256", "auth_unix_rw = \"sasl\"", false);
    let direct = ok(&t.s.virsh(&t.s.direct_uri(), &["list", "--all"]));
    assert_eq!(ok(&t.virsh(&t.s.proxy_uri(), &["list", "--all"])), direct);
    // Without credentials the same socket refuses.
    let o = t.s.virsh(&t.s.proxy_uri(), &["list", "--all"]);
    assert!(!o.status.success());
}

#[test]
fn digest_md5_security_layer_on_tcp_works() {
    let mut t = setup("sasldigest", "digest-md5", "log_level = 2", false);
    let uri = t.tcp_uri();
    let direct = ok(&t.s.virsh(&t.s.direct_uri(), &["list", "--all"]));
    assert_eq!(ok(&t.virsh(&uri, &["list", "--all"])), direct);
    // Enough traffic for several encoded blocks each way.
    let caps = ok(&t.virsh(&uri, &["capabilities"]));
    assert!(caps.contains("<capabilities>"), "{caps}");
    let log = t.log();
    let ssf: u32 = log
        .split("SASL authentication of 'fred' succeeded (SSF ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no SASL success in the log: {log}"));
    assert!(ssf >= 56, "{log}");
    assert!(!log.contains(": error :"), "{log}");
}

#[test]
fn wrong_password_refused() {
    let t = setup("saslbadpw", "scram-sha-256", "auth_unix_rw = \"sasl\"", false);
    let bad = t.s.dir.write(
        "bad-auth.conf",
        &format!("[credentials-test]\nauthname={USER}\npassword=wrong\n\n[auth-libvirt-default]\ncredentials=test\n"),
    );
    let mut c = as_nobody("virsh");
    c.env("HOME", &t.s.libvirtd.home).env("LIBVIRT_AUTH_FILE", &bad).arg("-c").arg(t.s.proxy_uri()).arg("uri");
    let o = run_with_timeout(&mut c, Duration::from_secs(60));
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("authentication failed"), "{}", text(&o.stderr));
}

#[test]
fn user_not_in_allowed_list_refused() {
    let mut t = setup("saslacl", "scram-sha-256", "auth_unix_rw = \"sasl\"\nsasl_allowed_username_list = [\"joe\", \"admin*\"]", false);
    let o = t.virsh(&t.s.proxy_uri(), &["uri"]);
    assert!(!o.status.success());
    let log = t.log();
    assert!(log.contains("SASL client identity 'fred' not allowed"), "{log}");
}

/// An AUTH_LIST call as raw bytes (serial 1).
fn auth_list_call() -> Vec<u8> {
    let mut p = vec![0, 0, 0, 28];
    for w in [0x2000_8086u32, 1, 66, 0, 1, 0] {
        p.extend_from_slice(&w.to_be_bytes());
    }
    p
}

#[test]
fn max_anonymous_clients_holds_new_connections() {
    let t = setup("saslanon", "scram-sha-256", "max_anonymous_clients = 1", false);
    let mut first = TcpStream::connect(("127.0.0.1", t.port)).unwrap();
    first.write_all(&auth_list_call()).unwrap();
    let mut buf = [0u8; 64];
    first.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(first.read(&mut buf).unwrap() > 0, "first client not served");
    // The second unauthenticated client waits in the backlog: no answer while the first stays.
    let mut second = TcpStream::connect(("127.0.0.1", t.port)).unwrap();
    second.write_all(&auth_list_call()).unwrap();
    second.set_read_timeout(Some(Duration::from_millis(700))).unwrap();
    assert!(second.read(&mut buf).is_err(), "second anonymous client was served beyond the limit");
    drop(first);
    second.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(second.read(&mut buf).unwrap() > 0, "second client not served after the first left");
}

#[test]
fn sasl_user_name_shown_by_admin_client_info() {
    let t = setup_as("sasladm", "digest-md5", "", false, true);
    let admin = t.s.sockdir.join("libvirt-admin-sock");
    let script = r#"
import libvirt, os, subprocess
def cb(creds, _):
    for cr in creds:
        cr[4] = os.environ['SASL_USER'] if cr[0] == libvirt.VIR_CRED_AUTHNAME else os.environ['SASL_PW']
    return 0
c = libvirt.openAuth(os.environ['URI'], [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], cb, None], 0)
adm = ['virt-admin', '-c', 'virtproxyd:///system?socket=' + os.environ['ADMIN']]
out = subprocess.run(adm + ['client-list', 'virtproxyd'], capture_output=True, text=True).stdout
print(out)
for line in out.splitlines()[2:]:
    f = line.split()
    if f and f[0].isdigit():
        print(subprocess.run(adm + ['client-info', 'virtproxyd', f[0]], capture_output=True, text=True).stdout)
c.close()
"#;
    let mut py = Command::new("/usr/bin/python3");
    py.arg("-c").arg(script).env("URI", t.tcp_uri()).env("ADMIN", &admin).env("SASL_USER", USER).env("SASL_PW", PASSWORD);
    let out = ok(&run_with_timeout(&mut py, Duration::from_secs(60)));
    assert!(out.contains("tcp"), "{out}");
    assert!(out.contains("sasl_user_name") && out.contains(USER), "{out}");
}
