//! The RPC engine through the real virtproxyd binary: keepalive, malformed input, limits,
//! pipelining, fd passing, and the errors libvirt answers for what it cannot serve.

mod common;

use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

use common::libvirtd::*;
use common::*;
use virtlite::remote::protocol::*;
use virtlite::rpc::message::{self, Packet};
use virtlite::rpc::protocol::*;

fn start_proxy(d: &TestDir, extra: &str) -> Daemon {
    start(PROXY, &d.path, &config_in(&d.path, extra), &[], &d.join("libvirt-admin-sock"))
}

fn ask_keepalive(c: &mut RawClient) {
    let r: SupportsFeatureRet = c.call_ok(
        REMOTE_PROGRAM,
        REMOTE_PROC_CONNECT_SUPPORTS_FEATURE,
        &SupportsFeatureArgs { feature: VIR_DRV_FEATURE_PROGRAM_KEEPALIVE },
    );
    assert_eq!(r.supported, 1);
}

#[test]
fn silent_client_is_dropped_after_interval_times_count_plus_one() {
    let d = TestDir::new("kadead");
    let mut dmn = start_proxy(&d, "keepalive_interval = 1\nkeepalive_count = 2");
    let mut c = RawClient::connect(&d.join("libvirt-sock"));
    ask_keepalive(&mut c);
    let t0 = Instant::now();
    let mut pings = 0;
    c.sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    while let Some(p) = c.read_packet() {
        assert_eq!((p.header.prog, p.header.proc_, p.len()), (KEEPALIVE_PROGRAM, KEEPALIVE_PROC_PING, 28));
        pings += 1;
    }
    let took = t0.elapsed();
    assert_eq!(pings, 2, "one PING per interval until the count is spent");
    assert!(took >= Duration::from_millis(2800) && took < Duration::from_millis(4500), "dropped after {took:?}");
    assert!(dmn.stop().success());
}

#[test]
fn client_answering_pings_stays_connected() {
    let d = TestDir::new("kaalive");
    let _dmn = start_proxy(&d, "keepalive_interval = 1\nkeepalive_count = 1");
    let mut c = RawClient::connect(&d.join("libvirt-sock"));
    ask_keepalive(&mut c);
    let t0 = Instant::now();
    let mut pongs = 0;
    while t0.elapsed() < Duration::from_secs(4) {
        let p = c.read_packet().expect("dropped although answering");
        if p.header.prog == KEEPALIVE_PROGRAM && p.header.proc_ == KEEPALIVE_PROC_PING {
            c.send_raw(&message::pong()).unwrap();
            pongs += 1;
        }
    }
    assert!(pongs >= 3);
    let r: AuthListRet = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
    assert_eq!(r.types, vec![0]);
}

#[test]
fn pings_from_client_are_answered_even_without_keepalive_started() {
    let d = TestDir::new("kapong");
    let _dmn = start_proxy(&d, "keepalive_interval = -1");
    let mut c = RawClient::connect(&d.join("libvirt-sock"));
    c.send_raw(&message::ping()).unwrap();
    let p = c.read_packet().unwrap();
    assert_eq!((p.header.prog, p.header.proc_, p.header.serial, p.len()), (KEEPALIVE_PROGRAM, KEEPALIVE_PROC_PONG, 0, 28));
    // interval -1: never pings, never drops.
    ask_keepalive(&mut c);
    c.sock.set_read_timeout(Some(Duration::from_millis(2500))).unwrap();
    assert!(c.read_packet().is_none(), "pinged although keepalive_interval = -1");
    let _: AuthListRet = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
}

#[test]
fn virsh_with_keepalive_stays_connected_through_idle_periods() {
    let s = ProxySetup::start("kavirsh", false, "keepalive_interval = 1\nkeepalive_count = 2");
    let script = s.dir.write(
        "cmds.sh",
        &format!(
            "(echo uri; sleep 5; echo uri; sleep 4; echo hostname) | HOME={} virsh -k 1 -K 2 -c '{}'\n",
            s.libvirtd.home.display(),
            s.proxy_uri()
        ),
    );
    let mut c = as_nobody("/bin/sh");
    c.arg(&script);
    let o = run_with_timeout(&mut c, Duration::from_secs(60));
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}{}", text(&o.stderr));
    assert_eq!(out.matches("qemu:///session").count(), 2, "{out}");
    assert!(!text(&o.stderr).contains("keepalive"), "{}", text(&o.stderr));
}

#[test]
fn malformed_input_drops_only_that_client() {
    let d = TestDir::new("garbage");
    let dmn = start_proxy(&d, "keepalive_interval = 1\nkeepalive_count = 1");
    let sock = d.join("libvirt-sock");
    let mut good = RawClient::connect(&sock);
    let mut bad: Vec<(&str, RawClient)> = Vec::new();
    let mut c = RawClient::connect(&sock);
    c.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    bad.push(("garbage", c));
    let mut c = RawClient::connect(&sock);
    c.send_raw(&[0, 0, 0, 3]).unwrap();
    bad.push(("length 3", c));
    let mut c = RawClient::connect(&sock);
    c.send_raw(&(1u32 << 30).to_be_bytes()).unwrap();
    bad.push(("length 1 GiB", c));
    // Message type 99 does not exist: libvirt drops such a packet and the client goes on.
    let mut odd = RawClient::connect(&sock);
    let mut hdr = message::ping();
    hdr[4 + 12 + 3] = 99;
    odd.send_raw(&hdr).unwrap();
    let _: AuthListRet = odd.call_ok(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
    // Asked for keepalive, then stops in the middle of a frame.
    let mut c = RawClient::connect(&sock);
    ask_keepalive(&mut c);
    let call = message::ping();
    c.send_raw(&call[..10]).unwrap();
    bad.push(("stops mid-frame", c));
    for (what, c) in bad.iter_mut() {
        let _: AuthListRet = good.call_ok(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
        assert!(c.is_closed(Duration::from_secs(6)), "client sending {what} was not dropped");
    }
    let _: AuthListRet = good.call_ok(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
    let rss: u64 = std::fs::read_to_string(format!("/proc/{}/status", dmn.pid()))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(rss < 64 * 1024, "a 1 GiB length made the daemon grow to {rss} KiB");
}

#[test]
fn two_hundred_clients_connected_at_once_are_all_served() {
    let s = ProxySetup::start("c200", true, "unix_sock_rw_perms = \"0777\"");
    let sock = s.sockdir.join("libvirt-sock");
    let mut clients: Vec<RawClient> = (0..200).map(|_| RawClient::connect(&sock)).collect();
    // Every client sends its calls before anyone reads a reply.
    let open = ConnectOpenArgs { name: Some("qemu:///session".into()), flags: 0 };
    let serials: Vec<u32> = clients.iter_mut().map(|c| c.send_call(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &open)).collect();
    for (c, s) in clients.iter_mut().zip(serials) {
        let p = c.reply_to(s).expect("no reply");
        assert_eq!(p.header.status, MessageStatus::Ok, "{:?}", p.decode_payload::<RemoteError>());
    }
    virtlite::xdr_struct! { struct Uri { uri: String } }
    for c in clients.iter_mut() {
        let u: Uri = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_URI, &());
        assert_eq!(u.uri, "qemu:///session");
    }
}

#[test]
fn pipelined_calls_beyond_max_client_requests_are_all_answered_in_order() {
    let d = TestDir::new("pipe");
    let _dmn = start_proxy(&d, "max_client_requests = 2");
    let mut c = RawClient::connect(&d.join("libvirt-sock"));
    let mut burst = Vec::new();
    for serial in 1..=200u32 {
        let h = Header::new(REMOTE_PROGRAM, 1, REMOTE_PROC_AUTH_LIST, MessageType::Call, serial, MessageStatus::Ok);
        burst.extend(message::encode_packet(&h, None, |_| {}).unwrap());
    }
    c.send_raw(&burst).unwrap();
    for serial in 1..=200u32 {
        let p = c.read_packet().expect("a pipelined call was dropped");
        assert_eq!((p.header.serial, p.header.status), (serial, MessageStatus::Ok));
    }
}

#[test]
fn max_clients_makes_new_clients_wait_without_dropping_anyone() {
    let d = TestDir::new("maxcl");
    let _dmn = start_proxy(&d, "max_clients = 2\nmax_anonymous_clients = 2");
    let sock = d.join("libvirt-sock");
    let mut a = RawClient::connect(&sock);
    let mut b = RawClient::connect(&sock);
    let _: AuthListRet = a.call_ok(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
    let _: AuthListRet = b.call_ok(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
    // The third connects (backlog) but is not served while two are in.
    let mut c = RawClient::connect(&sock);
    let s = c.send_call(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
    c.sock.set_read_timeout(Some(Duration::from_millis(800))).unwrap();
    assert!(c.read_packet().is_none(), "served beyond max_clients");
    let _: AuthListRet = a.call_ok(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
    drop(a);
    c.sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let p = c.reply_to(s).expect("waiting client not served after a slot freed");
    assert_eq!(p.header.status, MessageStatus::Ok);
    let _: AuthListRet = b.call_ok(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
}

#[test]
fn unknown_program_procedure_and_status_get_libvirt_errors() {
    let d = TestDir::new("unknown");
    let _dmn = start_proxy(&d, "");
    let mut c = RawClient::connect(&d.join("libvirt-sock"));
    let e = c.call_err(0x1234_5678, 1, &());
    assert_eq!((e.code, e.domain), (VIR_ERR_RPC, VIR_FROM_RPC));
    assert_eq!(e.message(), "Cannot find program 305419896 version 1");
    let e = c.call_err(REMOTE_PROGRAM, 9999, &());
    assert_eq!(e.message(), "unknown procedure: 9999");
    let h = Header::new(REMOTE_PROGRAM, 1, REMOTE_PROC_AUTH_LIST, MessageType::Call, 77, MessageStatus::Error);
    c.send_raw(&message::encode_packet(&h, None, |_| {}).unwrap()).unwrap();
    let p = c.reply_to(77).unwrap();
    assert_eq!(p.decode_payload::<RemoteError>().unwrap().message(), "Unexpected message status 1");
    // A packet of an unknown program that is not a call is dropped silently.
    let h = Header::new(0x1234_5678, 1, 1, MessageType::Message, 0, MessageStatus::Ok);
    c.send_raw(&message::encode_packet(&h, None, |_| {}).unwrap()).unwrap();
    let _: AuthListRet = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
}

fn send_call_with_fds(c: &UnixStream, serial: u32, prog: u32, proc_: i32, fds: &[i32]) {
    let h = Header::new(prog, 1, proc_, MessageType::CallWithFds, serial, MessageStatus::Ok);
    let buf = message::encode_packet(&h, Some(fds.len() as u32), |_| {}).unwrap();
    (&*c).write_all(&buf).unwrap();
    for &fd in fds {
        assert!(virtlite::util::sys::send_fd(c.as_raw_fd(), fd).unwrap());
    }
}

#[test]
fn call_with_fds_keeps_the_stream_in_step() {
    let d = TestDir::new("fdstep");
    let _dmn = start_proxy(&d, "");
    let mut c = RawClient::connect(&d.join("libvirt-sock"));
    let (r1, _w1) = virtlite::util::sys::pipe().unwrap();
    let (r2, _w2) = virtlite::util::sys::pipe().unwrap();
    send_call_with_fds(&c.sock, 5, REMOTE_PROGRAM, 443, &[r1.as_raw_fd(), r2.as_raw_fd()]);
    let p = c.reply_to(5).unwrap();
    assert_eq!(p.decode_payload::<RemoteError>().unwrap().message(), "internal error: hypervisor connection not open");
    let _: AuthListRet = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &());
}

/// A protocol-level stand-in for a daemon that accepts fds (no real daemon passes fds
/// without a running guest here): it completes the open handshake and answers every
/// CALL_WITH_FDS with a REPLY_WITH_FDS carrying back the fds it received.
fn fd_echo_daemon(listener: UnixListener) {
    let (mut s, _) = listener.accept().unwrap();
    let mut splitter = message::Splitter::new();
    let mut fds: Vec<OwnedFd> = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = match virtlite::util::sys::recv_with_fds(s.as_raw_fd(), &mut buf, &mut fds) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut data = &buf[..n];
        while !data.is_empty() {
            let (used, pkt) = splitter.push(data).unwrap();
            data = &data[used..];
            let Some(p): Option<Packet> = pkt else { continue };
            let h = p.header;
            if h.prog == KEEPALIVE_PROGRAM {
                continue;
            }
            let reply = |body: &dyn Fn(&mut virtlite::xdr::Writer)| {
                let rh = Header::new(h.prog, h.vers, h.proc_, MessageType::Reply, h.serial, MessageStatus::Ok);
                message::encode_packet(&rh, None, |w| body(w)).unwrap()
            };
            let out = match (h.type_, h.proc_) {
                (MessageType::CallWithFds, _) => {
                    let got: Vec<OwnedFd> = fds.drain(..p.nfds as usize).collect();
                    let rh = Header::new(h.prog, h.vers, h.proc_, MessageType::ReplyWithFds, h.serial, MessageStatus::Ok);
                    let b = message::encode_packet(&rh, Some(got.len() as u32), |_| {}).unwrap();
                    s.write_all(&b).unwrap();
                    for f in got {
                        virtlite::util::sys::send_fd(s.as_raw_fd(), f.as_raw_fd()).unwrap();
                    }
                    continue;
                }
                (_, REMOTE_PROC_AUTH_LIST) => reply(&|w| {
                    w.u32(1);
                    w.i32(0)
                }),
                (_, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE) => reply(&|w| w.i32(1)),
                _ => reply(&|_| {}),
            };
            s.write_all(&out).unwrap();
        }
    }
}

#[test]
fn fds_are_relayed_both_ways_through_the_proxy() {
    let d = TestDir::new("fdrelay");
    let xdg = d.join("xdg");
    std::fs::create_dir_all(xdg.join("libvirt")).unwrap();
    let listener = UnixListener::bind(xdg.join("libvirt/virtlxcd-sock")).unwrap();
    let peer = std::thread::spawn(move || fd_echo_daemon(listener));
    let cfg = d.write("c.conf", &config_in(&d.path, ""));
    let child = std::process::Command::new(PROXY)
        .arg("-f")
        .arg(&cfg)
        .arg("-p")
        .arg(d.join("p.pid"))
        .env("XDG_RUNTIME_DIR", &xdg)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _dmn = Daemon { child, dir: d.path.clone() };
    assert!(wait_for(Duration::from_secs(10), || d.join("libvirt-sock").exists()));
    let mut c = RawClient::connect(&d.join("libvirt-sock"));
    let () = c.call_ok(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, &ConnectOpenArgs { name: Some("lxc:///session".into()), flags: 0 });
    let (r, w) = virtlite::util::sys::pipe().unwrap();
    send_call_with_fds(&c.sock, 9, LXC_PROGRAM, 1, &[w.as_raw_fd()]);
    drop(w);
    // Read the reply header and its fd with recvmsg so the descriptor is collected.
    let mut got_fds = Vec::new();
    let mut bytes = Vec::new();
    let mut buf = [0u8; 256];
    while bytes.len() < 33 {
        let n = virtlite::util::sys::recv_with_fds(c.sock.as_raw_fd(), &mut buf, &mut got_fds).unwrap();
        assert!(n > 0);
        bytes.extend_from_slice(&buf[..n]);
    }
    let p = Packet::parse(bytes[..32].to_vec()).unwrap();
    assert_eq!((p.header.type_, p.header.serial, p.nfds), (MessageType::ReplyWithFds, 9, 1));
    assert_eq!(got_fds.len(), 1);
    virtlite::util::sys::write_fd(&got_fds[0], b"through").unwrap();
    drop(got_fds);
    let mut out = [0u8; 7];
    virtlite::util::sys::read_fd(&r, &mut out).unwrap();
    assert_eq!(&out, b"through");
    drop(c);
    let _ = peer.join();
}
