//! Golden packets for what the message layer accepts, each beside the libvirt behaviour it
//! mirrors (rpc/virnetmessage.c, rpc/virnetserverprogram.c, rpc/virnetserver.c; checked
//! against Debian's libvirtd 9.0 by t/xdr_interop.rs). docs/xdr.md has the table.
use super::*;
use crate::rpc::program;
use crate::rpc::protocol::*;
use crate::xdr_struct;

xdr_struct! {
    /// remote_connect_open_args
    struct OpenArgs { name: Option<String>, flags: u32 }
}

/// CALL of REMOTE_PROC_CONNECT_OPEN as go-libvirt sends it, with 4 bytes after the args.
#[rustfmt::skip]
const GOLDEN_GO_OPEN_TRAILING: [u8; 60] = [
    0x00, 0x00, 0x00, 0x3c, // length: 60
    0x20, 0x00, 0x80, 0x86, // prog: REMOTE_PROGRAM
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x00, 0x01, // proc: REMOTE_PROC_CONNECT_OPEN
    0x00, 0x00, 0x00, 0x00, // type: CALL
    0x00, 0x00, 0x00, 0x01, // serial: 1
    0x00, 0x00, 0x00, 0x00, // status: OK
    0x01, 0x00, 0x00, 0x00, // args.name: value follows (0x01000000)
    0x00, 0x00, 0x00, 0x0f, // args.name length: 15
    b'q', b'e', b'm', b'u', //
    b':', b'/', b'/', b'/', //
    b's', b'e', b's', b's', //
    b'i', b'o', b'n', 0xff, // last 3 bytes + 1 byte of padding, not zero
    0x00, 0x00, 0x00, 0x00, // args.flags: 0
    0xde, 0xad, 0xbe, 0xef, // after the args
];

/// A packet of type 7 (no such virNetMessageType) followed by a keepalive PING.
#[rustfmt::skip]
const GOLDEN_UNKNOWN_TYPE_THEN_PING: [u8; 60] = [
    0x00, 0x00, 0x00, 0x20, // length: 32
    0x20, 0x00, 0x80, 0x86, // prog: REMOTE_PROGRAM
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x00, 0x01, // proc: 1
    0x00, 0x00, 0x00, 0x07, // type: 7, unknown
    0x00, 0x00, 0x00, 0x05, // serial: 5
    0x00, 0x00, 0x00, 0x00, // status: OK
    0x00, 0x00, 0x00, 0x00, // payload: 4 bytes
    0x00, 0x00, 0x00, 0x1c, // length: 28
    0x6b, 0x65, 0x65, 0x70, // prog: KEEPALIVE_PROGRAM ("keep")
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x00, 0x01, // proc: KEEPALIVE_PROC_PING
    0x00, 0x00, 0x00, 0x02, // type: MESSAGE
    0x00, 0x00, 0x00, 0x00, // serial: 0
    0x00, 0x00, 0x00, 0x00, // status: OK
];

/// CALL of REMOTE_PROC_CONNECT_GET_LIB_VERSION with status -1.
#[rustfmt::skip]
const GOLDEN_CALL_STATUS_MINUS_ONE: [u8; 28] = [
    0x00, 0x00, 0x00, 0x1c, // length: 28
    0x20, 0x00, 0x80, 0x86, // prog: REMOTE_PROGRAM
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x00, 0x9d, // proc: 157 CONNECT_GET_LIB_VERSION
    0x00, 0x00, 0x00, 0x00, // type: CALL
    0x00, 0x00, 0x00, 0x02, // serial: 2
    0xff, 0xff, 0xff, 0xff, // status: -1, unknown
];

/// CALL_WITH_FDS announcing exactly VIR_NET_MESSAGE_NUM_FDS_MAX fds.
#[rustfmt::skip]
const GOLDEN_CALL_32_FDS: [u8; 32] = [
    0x00, 0x00, 0x00, 0x20, // length: 32 (the 32 dummy bytes that follow are not counted)
    0x20, 0x00, 0x80, 0x86, // prog: REMOTE_PROGRAM
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x01, 0x36, // proc: 310 DOMAIN_CREATE_WITH_FILES
    0x00, 0x00, 0x00, 0x04, // type: CALL_WITH_FDS
    0x00, 0x00, 0x00, 0x03, // serial: 3
    0x00, 0x00, 0x00, 0x00, // status: OK
    0x00, 0x00, 0x00, 0x20, // nfds: 32 = the maximum
];

#[test]
fn packet_args_with_lenient_flag_padding_and_trailing_bytes_decode() {
    // libvirt: virNetMessageDecodePayload ignores what follows the args; xdr_pointer takes
    // 0x01000000 as "value follows"; xdr_opaque does not look at the padding.
    let p = Packet::parse(GOLDEN_GO_OPEN_TRAILING.to_vec()).expect("valid packet");
    assert_eq!(program::args::<OpenArgs>(&p), Ok(OpenArgs { name: Some("qemu:///session".into()), flags: 0 }));
}

#[test]
fn packet_args_cut_short_fail_with_libvirts_text() {
    // libvirt: a filter failing in virNetMessageDecodePayload is VIR_ERR_RPC "Unable to
    // decode message payload", answered to the call.
    let mut b = GOLDEN_GO_OPEN_TRAILING[..52].to_vec(); // ends after the name
    b[3] = 52;
    let p = Packet::parse(b).expect("the frame itself is valid");
    let e = program::args::<OpenArgs>(&p).unwrap_err();
    assert_eq!((e.code, e.domain, e.message()), (VIR_ERR_RPC, VIR_FROM_RPC, "Unable to decode message payload"));
}

#[test]
fn splitter_drops_a_packet_of_unknown_type_and_stays_in_step() {
    // libvirt: xdr_enum decodes type 7; virNetServerProgramDispatch logs "Unexpected message
    // type" and sends nothing (a dummy reply only frees the request slot); the connection
    // goes on with the next packet.
    let mut s = Splitter::new();
    let (used, p) = s.push(&GOLDEN_UNKNOWN_TYPE_THEN_PING).unwrap();
    assert_eq!(used, GOLDEN_UNKNOWN_TYPE_THEN_PING.len());
    let p = p.expect("the PING after it");
    assert_eq!((p.header.prog, p.header.proc_), (KEEPALIVE_PROGRAM, KEEPALIVE_PROC_PING));
    assert!(s.is_idle());
    assert_eq!(Packet::parse(GOLDEN_UNKNOWN_TYPE_THEN_PING[..32].to_vec()), Err(FrameError::UnknownType { type_: 7 }));
}

#[test]
fn splitter_drops_unknown_type_fed_byte_by_byte() {
    // Same rule, the packet arriving in pieces.
    let mut s = Splitter::new();
    let mut got = Vec::new();
    for b in GOLDEN_UNKNOWN_TYPE_THEN_PING.chunks(1) {
        let (used, p) = s.push(b).unwrap();
        assert_eq!(used, 1);
        got.extend(p);
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header.proc_, KEEPALIVE_PROC_PING);
}

#[test]
fn call_with_unknown_status_reads_as_error_and_keeps_its_number() {
    // libvirt: xdr_enum decodes status -1; virNetServerProgramDispatchCall answers "Unexpected
    // message status 4294967295" (the number printed with %u).
    let p = Packet::parse(GOLDEN_CALL_STATUS_MINUS_ONE.to_vec()).expect("decodes");
    assert_eq!((p.header.type_, p.header.status), (MessageType::Call, MessageStatus::Error));
    assert_eq!(p.status_word(), u32::MAX);
    assert_eq!(program::unexpected_status(p.status_word()).message(), "Unexpected message status 4294967295");
}

#[test]
fn wire_header_takes_any_enum_value() {
    // libvirt: xdr_virNetMessageHeader reads type and status with xdr_enum, no range check.
    let h = crate::xdr::decode_exact::<WireHeader>(&GOLDEN_UNKNOWN_TYPE_THEN_PING[4..28]).unwrap();
    assert_eq!(h, WireHeader { prog: REMOTE_PROGRAM, vers: 1, proc_: 1, type_: 7, serial: 5, status: 0 });
    assert_eq!(crate::xdr::encode_to_vec(&h), GOLDEN_UNKNOWN_TYPE_THEN_PING[4..28].to_vec());
}

#[test]
fn fd_count_exactly_at_maximum_is_accepted_one_over_fails() {
    // libvirt: virNetMessageDecodeNumFDs refuses only numFDs > VIR_NET_MESSAGE_NUM_FDS_MAX.
    assert_eq!(Packet::parse(GOLDEN_CALL_32_FDS.to_vec()).map(|p| p.nfds), Ok(32));
    let mut over = GOLDEN_CALL_32_FDS;
    over[31] = 33;
    assert_eq!(Packet::parse(over.to_vec()), Err(FrameError::TooManyFds { nfds: 33 }));
}

/// Writes seeds of the lenient packets into the frame fuzz corpus; run with
/// `cargo test --lib write_lenient_frame_seeds -- --ignored` from the package root.
#[test]
#[ignore]
fn write_lenient_frame_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/frame");
    let seed = |name: &str, bytes: &[u8]| {
        let mut v = vec![0x33]; // chunking seed
        v.extend_from_slice(bytes);
        std::fs::write(dir.join(name), v).expect("write corpus");
    };
    seed("go_open_trailing", &GOLDEN_GO_OPEN_TRAILING);
    seed("unknown_type_then_ping", &GOLDEN_UNKNOWN_TYPE_THEN_PING);
    seed("call_status_minus_one", &GOLDEN_CALL_STATUS_MINUS_ONE);
    seed("call_32_fds", &[&GOLDEN_CALL_32_FDS[..], &[0u8; 32]].concat());
}
