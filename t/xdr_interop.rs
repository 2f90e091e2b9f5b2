//! What our XDR accepts, checked against Debian's real libvirtd: raw CONNECT_OPEN packets
//! with the encodings libvirt's C decoders take (any non-zero "value follows" word, non-zero
//! padding, bytes after the args, a NUL inside the name) and the ones they refuse, sent to
//! libvirtd directly and through virtproxyd in front of it; both must answer the same.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use common::libvirtd::ProxySetup;
use virtlite::rpc::protocol::{RemoteError, REMOTE_PROC_CONNECT_GET_LIB_VERSION, REMOTE_PROC_CONNECT_OPEN, REMOTE_PROGRAM};
use virtlite::xdr::{decode_prefix, Writer};

const URI: &[u8] = b"qemu:///session";
/// How long "no answer" takes to be believed (libvirtd drops some packets silently).
const QUIET: Duration = Duration::from_millis(700);

/// A packet with any header words, the length word filled in.
fn packet(proc_: i32, type_: u32, serial: u32, status: u32, payload: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u32(0);
    for v in [REMOTE_PROGRAM, 1, proc_ as u32, type_, serial, status] {
        w.u32(v);
    }
    w.raw(payload);
    let len = w.len() as u32;
    w.patch_u32(0, len);
    w.into_vec()
}

/// remote_connect_open_args written word by word: `present` in front of the name, `pad` as
/// the name's padding bytes, `tail` after the flags.
fn open_args(present: u32, name: &[u8], pad: u8, tail: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u32(present);
    if present != 0 {
        w.u32(name.len() as u32);
        w.raw(name);
        w.raw(&vec![pad; (4 - name.len() % 4) % 4]);
    }
    w.u32(0); // flags
    w.raw(tail);
    w.into_vec()
}

fn open_call(payload: &[u8]) -> Vec<u8> {
    packet(REMOTE_PROC_CONNECT_OPEN, 0, 1, 0, payload)
}

/// What a daemon did with one packet.
#[derive(Debug, PartialEq)]
enum Answer {
    /// A reply with status OK and this payload.
    Ok { serial: u32, payload: Vec<u8> },
    /// A reply with status ERROR.
    Error { serial: u32, code: i32, domain: i32, message: String },
    /// Nothing within QUIET, the connection still open.
    Nothing,
    /// The daemon closed the connection.
    Closed,
}

fn read_answer(s: &mut UnixStream, limit: Duration) -> Answer {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut len = [0u8; 4];
    match s.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return Answer::Nothing,
        Err(_) => return Answer::Closed,
    }
    let total = u32::from_be_bytes(len) as usize;
    assert!((28..1 << 20).contains(&total), "odd length word {total}");
    let mut rest = vec![0u8; total - 4];
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.read_exact(&mut rest).expect("a whole packet");
    let word = |i: usize| u32::from_be_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
    let (type_, serial, status) = (word(12), word(16), word(20));
    assert_eq!(type_, 1, "not a REPLY: {rest:02x?}");
    let payload = rest[24..].to_vec();
    match status {
        0 => Answer::Ok { serial, payload },
        1 => {
            let e: RemoteError = decode_prefix(&payload).expect("an error payload");
            Answer::Error { serial, code: e.code, domain: e.domain, message: e.message().to_owned() }
        }
        s => panic!("status {s} in a reply"),
    }
}

/// Sends `bytes` on a new connection to `sock`, reads the answer, then checks the connection
/// with CONNECT_GET_LIB_VERSION (serial 99) and reads that answer too.
fn exchange(sock: &Path, bytes: &[u8]) -> (Answer, Answer) {
    let mut s = UnixStream::connect(sock).unwrap_or_else(|e| panic!("connect {}: {e}", sock.display()));
    s.write_all(bytes).unwrap();
    let first = read_answer(&mut s, QUIET);
    let then = match first {
        Answer::Closed => Answer::Closed,
        _ => match s.write_all(&packet(REMOTE_PROC_CONNECT_GET_LIB_VERSION, 0, 99, 0, &[])) {
            Ok(()) => read_answer(&mut s, Duration::from_secs(10)),
            Err(_) => Answer::Closed,
        },
    };
    (first, then)
}

/// Sends each case to libvirtd and to the proxy; every answer must be the same.
fn compare(cases: &[(&str, Vec<u8>)]) -> Vec<(Answer, Answer)> {
    let s = ProxySetup::start("xdrio", false, "");
    let direct = s.libvirtd.sock();
    let proxy = s.sockdir.join("libvirt-sock");
    let mut diffs = Vec::new();
    let mut got = Vec::new();
    for (name, bytes) in cases {
        let d = exchange(&direct, bytes);
        let p = exchange(&proxy, bytes);
        eprintln!("{name}:\n  libvirtd:   {d:?}\n  virtproxyd: {p:?}");
        if d != p {
            diffs.push(format!("{name}: libvirtd {d:?}, virtproxyd {p:?}"));
        }
        got.push(d);
    }
    assert!(diffs.is_empty(), "answers differ:\n{}", diffs.join("\n"));
    got
}

fn is_ok(a: &Answer) -> bool {
    matches!(a, Answer::Ok { .. })
}

#[test]
fn connect_open_value_follows_words_answer_like_libvirtd() {
    let got = compare(&[
        ("present 0x00000001", open_call(&open_args(0x0000_0001, URI, 0, &[]))),
        ("present 0x01000000 (go-libvirt)", open_call(&open_args(0x0100_0000, URI, 0, &[]))),
        ("present 0xffffffff", open_call(&open_args(0xffff_ffff, URI, 0, &[]))),
    ]);
    // The three non-zero words open the connection, as libvirtd's xdr_pointer reads them.
    assert!(got.iter().all(|(first, then)| is_ok(first) && is_ok(then)), "{got:?}");
}

#[test]
fn connect_open_null_name_decodes_as_null_on_both() {
    // Word 0 is a NULL name on both sides; what a NULL name then means differs by daemon, not
    // by XDR: monolithic libvirtd opens no default URI ("connection not open", from
    // remoteOpenConn), libvirt's virtproxyd (and ours) probes the daemon sockets
    // (remoteDispatchProbeURI) and opens the session daemon.
    let s = ProxySetup::start("xdrnull", false, "");
    let null = open_call(&open_args(0, URI, 0, &[]));
    let (d, _) = exchange(&s.libvirtd.sock(), &null);
    assert!(matches!(&d, Answer::Error { code: 1, domain: 7, message, .. } if message == "internal error: connection not open"), "{d:?}");
    let (p, then) = exchange(&s.sockdir.join("libvirt-sock"), &null);
    assert!(is_ok(&p) && is_ok(&then), "{p:?} {then:?}");
    // A NULL name is not the empty string to libvirtd: "" is probed there too.
    let empty = open_call(&open_args(1, b"", 0, &[]));
    assert!(is_ok(&exchange(&s.libvirtd.sock(), &empty).0));
}

#[test]
fn connect_open_padding_nul_and_trailing_bytes_answer_like_libvirtd() {
    let got = compare(&[
        ("name padding byte 0xff", open_call(&open_args(1, URI, 0xff, &[]))),
        ("4 bytes after the args", open_call(&open_args(1, URI, 0, &[0xde, 0xad, 0xbe, 0xef]))),
        ("3 bytes after the args", open_call(&open_args(1, URI, 0, &[1, 2, 3]))),
        ("NUL inside the name", open_call(&open_args(1, b"qemu:///session\0junk", 0, &[]))),
    ]);
    assert!(got.iter().all(|(first, _)| is_ok(first)), "{got:?}");
}

#[test]
fn connect_open_refused_encodings_answer_like_libvirtd() {
    let mut huge = Writer::new();
    huge.u32(1);
    huge.u32(0x8000_0000); // name length: negative as an int
    huge.u32(0);
    let mut over = Writer::new();
    over.u32(1);
    over.u32(4_194_305); // name length: REMOTE_STRING_MAX + 1
    over.u32(0);
    let no_flags = open_args(1, URI, 0, &[]);
    let got = compare(&[
        ("flags missing", open_call(&no_flags[..no_flags.len() - 4])),
        ("name length 0x80000000", open_call(huge.as_slice())),
        ("name length REMOTE_STRING_MAX + 1", open_call(over.as_slice())),
    ]);
    for (first, then) in &got {
        assert!(matches!(first, Answer::Error { message, .. } if message == "Unable to decode message payload"), "{first:?}");
        assert!(!matches!(then, Answer::Closed), "the connection must stay open");
    }
}

#[test]
fn header_enum_values_outside_the_protocol_answer_like_libvirtd() {
    let args = open_args(1, URI, 0, &[]);
    let got = compare(&[
        ("type 7", packet(REMOTE_PROC_CONNECT_OPEN, 7, 1, 0, &args)),
        ("status 5", packet(REMOTE_PROC_CONNECT_OPEN, 0, 1, 5, &args)),
        ("status 0xffffffff", packet(REMOTE_PROC_CONNECT_OPEN, 0, 1, u32::MAX, &args)),
        ("stray MESSAGE", packet(REMOTE_PROC_CONNECT_OPEN, 2, 1, 0, &args)),
    ]);
    // An unknown type is dropped without an answer and the connection goes on.
    assert_eq!(got[0].0, Answer::Nothing);
    assert!(!matches!(got[0].1, Answer::Closed));
    assert!(matches!(&got[2].0, Answer::Error { message, .. } if message == "Unexpected message status 4294967295"), "{:?}", got[2]);
}
