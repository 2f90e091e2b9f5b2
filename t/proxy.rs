//! virtproxyd relaying Debian's real clients (virsh, python3-libvirt) to Debian's real
//! libvirtd, run unprivileged in session mode behind the per-driver socket names.

mod common;

use std::fs;
use std::time::Duration;

use common::libvirtd::*;
use common::*;
use virtlite::remote::protocol::ConnectOpenArgs;
use virtlite::rpc::protocol::*;

const DOMAIN_XML: &str =
    "<domain type='qemu'><name>NAME</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>";

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "command failed:\nstdout: {}\nstderr: {}", text(&o.stdout), text(&o.stderr));
    text(&o.stdout)
}

#[test]
fn domains_define_list_dumpxml_undefine_match_direct() {
    let s = ProxySetup::start("pdom", false, "");
    let xml = s.dir.write("d.xml", &DOMAIN_XML.replace("NAME", "vl-dom1"));
    fs::set_permissions(&xml, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let p = s.proxy_uri();
    let d = s.direct_uri();
    assert!(ok(&s.virsh(&p, &["define", xml.to_str().unwrap()])).contains("vl-dom1"));
    let via_proxy = ok(&s.virsh(&p, &["list", "--all"]));
    assert!(via_proxy.contains("vl-dom1") && via_proxy.contains("shut off"), "{via_proxy}");
    assert_eq!(via_proxy, ok(&s.virsh(&d, &["list", "--all"])));
    let dump = ok(&s.virsh(&p, &["dumpxml", "vl-dom1"]));
    assert!(dump.contains("<name>vl-dom1</name>"));
    assert_eq!(dump, ok(&s.virsh(&d, &["dumpxml", "vl-dom1"])));
    ok(&s.virsh(&p, &["undefine", "vl-dom1"]));
    assert!(!ok(&s.virsh(&d, &["list", "--all"])).contains("vl-dom1"));
}

#[test]
fn storage_volume_upload_and_download_round_trip() {
    let s = ProxySetup::start("pvol", false, "");
    let p = s.proxy_uri();
    let pool = s.dir.join("pool");
    ok(&s.virsh(&p, &["pool-define-as", "vlp", "dir", "--target", pool.to_str().unwrap()]));
    ok(&s.virsh(&p, &["pool-build", "vlp"]));
    ok(&s.virsh(&p, &["pool-start", "vlp"]));
    ok(&s.virsh(&p, &["vol-create-as", "vlp", "v1", "5000000"]));
    // 5 MB of random bytes: many stream packets each way.
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let up = s.dir.join("up.bin");
    fs::write(&up, &data).unwrap();
    fs::set_permissions(&up, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    ok(&s.virsh(&p, &["vol-upload", "--pool", "vlp", "v1", up.to_str().unwrap()]));
    let down = s.dir.join("lvhome/down.bin");
    ok(&s.virsh(&p, &["vol-download", "--pool", "vlp", "v1", down.to_str().unwrap()]));
    let got = fs::read(&down).unwrap();
    assert_eq!(got.len(), 5_000_000);
    assert!(got == data, "downloaded bytes differ from the uploaded ones");
}

#[test]
fn secret_value_set_and_get_through_proxy() {
    let s = ProxySetup::start("psec", false, "");
    let out = s.python(
        r#"
import libvirt, os
c = libvirt.open(os.environ['PROXY_URI'])
sec = c.secretDefineXML("<secret ephemeral='no' private='no'><usage type='volume'><volume>/vl/x</volume></usage></secret>")
sec.setValue(b'top-secret-\x00\x01\xff')
d = libvirt.open(os.environ['DIRECT_URI'])
print('VALUE', d.secretLookupByUUIDString(sec.UUIDString()).value().hex())
print('LIST', c.listSecrets() == d.listSecrets())
"#,
    );
    let t = ok(&out);
    assert!(t.contains(&format!("VALUE {}", "top-secret-\0\u{1}".bytes().map(|b| format!("{b:02x}")).collect::<String>() + "ff")), "{t}");
    assert!(t.contains("LIST True"), "{t}");
}

#[test]
fn lifecycle_events_of_domains_pools_and_secrets_reach_registered_client() {
    let s = ProxySetup::start("pevt", false, "");
    let pool = s.dir.join("evpool");
    let script = format!(
        r#"
import libvirt, os, threading, time
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True: libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
c = libvirt.open(os.environ['PROXY_URI'])
got = []
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lambda conn, dom, ev, det, op: got.append(('dom', dom.name(), ev)), None)
c.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, lambda conn, p, ev, det, op: got.append(('pool', p.name(), ev)), None)
c.secretEventRegisterAny(None, libvirt.VIR_SECRET_EVENT_ID_LIFECYCLE, lambda conn, sec, ev, det, op: got.append(('secret', sec.UUIDString(), ev)), None)
c.domainEventRegister(lambda conn, dom, ev, det, op: got.append(('legacy', dom.name(), ev)), None)
other = libvirt.open(os.environ['DIRECT_URI'])
d = other.defineXML("{dom}")
d.undefine()
p = other.storagePoolDefineXML("<pool type='dir'><name>evp</name><target><path>{pool}</path></target></pool>")
p.build(); p.create(); p.destroy(); p.undefine()
sec = other.secretDefineXML("<secret ephemeral='no' private='no'><usage type='volume'><volume>/ev</volume></usage></secret>")
uuid = sec.UUIDString(); sec.undefine()
deadline = time.time() + 20
want = [('dom','evdom',libvirt.VIR_DOMAIN_EVENT_DEFINED), ('dom','evdom',libvirt.VIR_DOMAIN_EVENT_UNDEFINED),
        ('legacy','evdom',libvirt.VIR_DOMAIN_EVENT_DEFINED),
        ('pool','evp',libvirt.VIR_STORAGE_POOL_EVENT_DEFINED), ('pool','evp',libvirt.VIR_STORAGE_POOL_EVENT_STARTED),
        ('pool','evp',libvirt.VIR_STORAGE_POOL_EVENT_STOPPED), ('pool','evp',libvirt.VIR_STORAGE_POOL_EVENT_UNDEFINED),
        ('secret',uuid,libvirt.VIR_SECRET_EVENT_DEFINED), ('secret',uuid,libvirt.VIR_SECRET_EVENT_UNDEFINED)]
while time.time() < deadline and not all(w in got for w in want): time.sleep(0.05)
missing = [w for w in want if w not in got]
print('MISSING', missing)
"#,
        dom = DOMAIN_XML.replace("NAME", "evdom"),
        pool = pool.display()
    );
    let t = ok(&s.python(&script));
    assert!(t.contains("MISSING []"), "{t}");
}

#[test]
fn many_clients_at_once_all_get_identical_answers() {
    let s = ProxySetup::start("pmany", false, "");
    let t = ok(&s.python(
        r#"
import libvirt, os, multiprocessing as mp
def work(i):
    c = libvirt.open(os.environ['PROXY_URI'])
    out = set()
    for _ in range(100):
        out.add((c.getLibVersion(), c.getHostname(), tuple(sorted(c.listDefinedDomains()))))
    c.close()
    return out
with mp.Pool(24) as p:
    res = p.map(work, range(24))
d = libvirt.open(os.environ['DIRECT_URI'])
want = {(d.getLibVersion(), d.getHostname(), tuple(sorted(d.listDefinedDomains())))}
print('SAME', all(r == want for r in res), len(res))
"#,
    ));
    assert!(t.contains("SAME True 24"), "{t}");
}

#[test]
fn read_only_socket_reads_but_cannot_change_anything() {
    if !is_root() {
        eprintln!("SKIP: the read-only socket exists only for a root daemon");
        return;
    }
    let s = ProxySetup::start("pro", true, "unix_sock_rw_perms = \"0777\"");
    assert!(s.sockdir.join("libvirt-sock-ro").exists());
    let xml = s.dir.write("d.xml", &DOMAIN_XML.replace("NAME", "ro-dom"));
    fs::set_permissions(&xml, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let ro = s.ro_uri();
    let list = s.virsh(&ro, &["list", "--all"]);
    ok(&list);
    let def = s.virsh(&ro, &["define", xml.to_str().unwrap()]);
    assert!(!def.status.success());
    assert!(text(&def.stderr).contains("read only access prevents"), "{}", text(&def.stderr));
    // The read-only flag on the read-write socket is honoured too.
    let rw_ro = s.virsh(&s.proxy_uri(), &["-r", "define", xml.to_str().unwrap()]);
    assert!(!rw_ro.status.success() || text(&rw_ro.stderr).contains("read only"));
    let def2 = s.virsh(&s.proxy_uri(), &["--readonly", "define", xml.to_str().unwrap()]);
    assert!(text(&def2.stderr).contains("read only access prevents"), "{}", text(&def2.stderr));
    assert!(!ok(&s.virsh(&s.direct_uri(), &["list", "--all"])).contains("ro-dom"));
}

#[test]
fn daemon_killed_sends_close_event_calls_fail_fast_and_proxy_recovers() {
    let mut s = ProxySetup::start("pkill", false, "");
    let flag = s.dir.join("killnow");
    let done = s.dir.join("killed");
    let script = format!(
        r#"
import libvirt, os, threading, time
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)], daemon=True).start()
c = libvirt.open(os.environ['PROXY_URI'])
reasons = []
c.registerCloseCallback(lambda conn, reason, op: reasons.append(reason), None)
print('VERSION', c.getLibVersion() > 0, flush=True)
open('{flag}', 'w').close()
deadline = time.time() + 20
while not os.path.exists('{done}') and time.time() < deadline: time.sleep(0.02)
while not reasons and time.time() < deadline: time.sleep(0.02)
print('REASONS', reasons, flush=True)
t = time.time()
try:
    c.getLibVersion(); print('CALL ok?!')
except libvirt.libvirtError as e:
    print('CALLFAIL', round(time.time() - t, 3), e.get_error_message())
"#,
        flag = flag.display(),
        done = done.display()
    );
    let path = s.dir.write("kill.py", &script);
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let mut c = as_nobody("/usr/bin/python3");
    c.env("HOME", &s.libvirtd.home).env("PROXY_URI", s.proxy_uri()).arg(&path);
    let child = c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    assert!(wait_for(Duration::from_secs(30), || flag.exists()), "client did not connect");
    s.libvirtd.kill();
    fs::write(&done, "").unwrap();
    let o = child.wait_with_output().unwrap();
    let t = text(&o.stdout);
    assert!(t.contains("VERSION True"), "{t}{}", text(&o.stderr));
    // VIR_CONNECT_CLOSE_REASON_EOF = 1
    assert!(t.contains("REASONS [1]"), "{t}{}", text(&o.stderr));
    let fail_line = t.lines().find(|l| l.starts_with("CALLFAIL")).unwrap_or_else(|| panic!("{t}"));
    let secs: f64 = fail_line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(secs < 1.0, "the call after the daemon died took {secs}s");
    // The daemon comes back: new clients are served again.
    s.libvirtd.spawn();
    assert!(ok(&s.virsh(&s.proxy_uri(), &["uri"])).contains("qemu:///session"));
}

#[test]
fn uri_nobody_serves_gets_error_and_client_can_retry() {
    let s = ProxySetup::start("puri", false, "");
    let mut c = RawClient::connect(&s.sockdir.join("libvirt-sock"));
    let open = |name: &str| ConnectOpenArgs { name: Some(name.into()), flags: 0 };
    let e = c.call_err(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &open("test:///default"));
    assert!(e.message().contains("test:///default"), "{}", e.message());
    let e = c.call_err(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &open("qemu+ssh://elsewhere/system"));
    assert!(e.message().contains("remote host"), "{}", e.message());
    let e = c.call_err(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &open("lxc:///session"));
    assert!(e.message().contains("Failed to connect socket to") && e.message().contains("virtlxcd-sock"), "{}", e.message());
    let e = c.call_err(REMOTE_PROGRAM, 3 /* CONNECT_GET_TYPE */, &());
    assert!(e.message().contains("connection not open"), "{}", e.message());
    let () = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &open("qemu:///session"));
    let e = c.call_err(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &open("qemu:///session"));
    assert!(e.message().contains("connection already open"), "{}", e.message());
    virtlite::xdr_struct! { struct Uri { uri: String } }
    let u: Uri = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_URI, &());
    assert_eq!(u.uri, "qemu:///session");
}

#[test]
fn empty_uri_is_probed_to_the_session_daemon() {
    let s = ProxySetup::start("pprobe", false, "");
    let mut c = RawClient::connect(&s.sockdir.join("libvirt-sock"));
    let () = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &ConnectOpenArgs { name: Some(String::new()), flags: 0 });
    virtlite::xdr_struct! { struct Uri { uri: String } }
    let u: Uri = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_URI, &());
    assert_eq!(u.uri, "qemu:///session");
}

fn upstream_clients(s: &ProxySetup) -> usize {
    let uri = format!("libvirtd:///session?socket={}", s.libvirtd.admin_sock().display());
    let mut c = as_nobody("virt-admin");
    c.env("HOME", &s.libvirtd.home).args(["-c", &uri, "srv-clients-info", "libvirtd"]);
    let t = ok(&run_with_timeout(&mut c, Duration::from_secs(20)));
    t.lines()
        .find(|l| l.trim_start().starts_with("nclients ") || l.trim_start().starts_with("nclients:"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{t}"))
}

#[test]
fn vanished_client_closes_its_upstream_connection() {
    let s = ProxySetup::start("pvanish", false, "");
    let base = upstream_clients(&s);
    let mut c = RawClient::connect(&s.sockdir.join("libvirt-sock"));
    let () = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &ConnectOpenArgs { name: Some("qemu:///session".into()), flags: 0 });
    assert_eq!(upstream_clients(&s), base + 1);
    drop(c);
    assert!(wait_for(Duration::from_secs(5), || upstream_clients(&s) == base), "upstream connection left open");
}

#[test]
fn connect_close_closes_both_legs() {
    let s = ProxySetup::start("pclose", false, "");
    let base = upstream_clients(&s);
    let mut c = RawClient::connect(&s.sockdir.join("libvirt-sock"));
    let () = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &ConnectOpenArgs { name: Some("qemu:///session".into()), flags: 0 });
    let () = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_CLOSE, &());
    assert!(c.is_closed(Duration::from_secs(5)), "client leg still open after CONNECT_CLOSE");
    assert!(wait_for(Duration::from_secs(5), || upstream_clients(&s) == base));
}

#[test]
fn slow_reader_does_not_make_the_proxy_buffer_without_bound() {
    let s = ProxySetup::start("pslow", false, "");
    let p = s.proxy_uri();
    let pool = s.dir.join("slowpool");
    ok(&s.virsh(&p, &["pool-define-as", "slowp", "dir", "--target", pool.to_str().unwrap()]));
    ok(&s.virsh(&p, &["pool-build", "slowp"]));
    ok(&s.virsh(&p, &["pool-start", "slowp"]));
    ok(&s.virsh(&p, &["vol-create-as", "slowp", "big", "200M"]));
    // A python client that starts a 200 MB download and then stops reading for a while.
    let script = r#"
import libvirt, os, time
c = libvirt.open(os.environ['PROXY_URI'])
v = c.storagePoolLookupByName('slowp').storageVolLookupByName('big')
st = c.newStream(0)
v.download(st, 0, 0, 0)
first = st.recv(65536)
print('GOT', len(first), flush=True)
open(os.environ['WORK'] + '/stalled', 'w').close()
time.sleep(4)
total = len(first)
while True:
    b = st.recv(1 << 20)
    if not b: break
    total += len(b)
st.finish()
print('TOTAL', total)
"#;
    let path = s.dir.write("slow.py", script);
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let mut c = as_nobody("/usr/bin/python3");
    c.env("HOME", &s.libvirtd.home).env("PROXY_URI", s.proxy_uri()).env("WORK", &s.dir.path).arg(&path);
    let child = c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    assert!(wait_for(Duration::from_secs(30), || s.dir.join("stalled").exists()));
    std::thread::sleep(Duration::from_secs(2));
    let rss_kb: u64 = fs::read_to_string(format!("/proc/{}/status", s.proxy.pid()))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(text(&o.stdout).contains("TOTAL 209715200"), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(rss_kb < 24 * 1024, "proxy RSS {rss_kb} KiB while its client stalled a 200 MB download");
}

/// CONNECT_OPEN of `uri` on `sock`: the error (code, domain, message), or None if it opened.
fn open_error(sock: &std::path::Path, uri: &str) -> Option<(i32, i32, String)> {
    let mut c = RawClient::connect(sock);
    let s = c.send_call(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &ConnectOpenArgs { name: Some(uri.into()), flags: 0 });
    let p = c.reply_to(s).expect("no answer to CONNECT_OPEN");
    if p.header.status == MessageStatus::Ok {
        return None;
    }
    let e = p.decode_payload::<RemoteError>().unwrap();
    Some((e.code, e.domain, e.message().to_string()))
}

#[test]
fn open_errors_are_libvirtds_own() {
    let s = ProxySetup::start("perr", false, "");
    let proxy = s.sockdir.join("libvirt-sock");
    let direct = s.libvirtd.sock();
    // An unknown scheme: VIR_ERR_NO_CONNECT, whose own text already names the missing driver.
    let (code, _, msg) = open_error(&proxy, "bogus:///system").expect("bogus:///system opened");
    let (dcode, _, dmsg) = open_error(&direct, "bogus:///system").expect("libvirtd opened bogus:///system");
    assert_eq!((code, msg.as_str()), (dcode, dmsg.as_str()));
    assert_eq!(code, VIR_ERR_NO_CONNECT);
    let out = s.virsh(&format!("bogus:///system?socket={}", proxy.display()), &["uri"]);
    let err = text(&out.stderr);
    assert!(err.contains("no connection driver available for bogus:///system") && !err.contains("for no connection"), "{err}");
    // A path the daemon refuses is refused by the daemon, with its own text.
    assert_eq!(open_error(&proxy, "qemu:///"), open_error(&direct, "qemu:///"));
}

#[test]
fn procedures_newer_than_the_table_are_relayed() {
    let s = ProxySetup::start("pnew", false, "");
    let mut via = RawClient::connect(&s.sockdir.join("libvirt-sock"));
    let mut direct = RawClient::connect(&s.libvirtd.sock());
    for c in [&mut via, &mut direct] {
        let () = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &ConnectOpenArgs { name: Some("qemu:///session".into()), flags: 0 });
    }
    for n in [REMOTE_PROC_LAST + 1, REMOTE_PROC_LAST + 100, 9999] {
        let e = via.call_err(REMOTE_PROGRAM, n, &());
        let d = direct.call_err(REMOTE_PROGRAM, n, &());
        assert_eq!((e.code, e.domain, e.message()), (d.code, d.domain, d.message()), "procedure {n}");
        virtlite::xdr_struct! { struct Ver { v: u64 } }
        let v: Ver = via.call_ok(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_LIB_VERSION, &());
        assert!(v.v > 0);
    }
}
