//! Golden packets (annotated field by field), splitter behaviour and property tests.
use super::*;
use crate::rpc::protocol::*;
use crate::xdr::tests::Rng;
use crate::xdr::{encode_to_vec, TypedParam, TypedParamValue, Writer, Xdr, XdrBounded};
use crate::xdr_struct;

xdr_struct! {
    /// remote_connect_open_args
    struct OpenArgs { name: Option<String>, flags: u32 }
}

xdr_struct! {
    /// remote_domain_event_lifecycle_msg
    struct LifecycleMsg { dom: NonnullDomain, event: i32, detail: i32 }
}

xdr_struct! {
    /// remote_domain_event_callback_lifecycle_msg
    struct CallbackLifecycleMsg { callback_id: i32, msg: LifecycleMsg }
}

xdr_struct! {
    /// remote_domain_create_with_files_args
    struct CreateWithFilesArgs { dom: NonnullDomain, flags: u32 }
}

const UUID: [u8; 16] = [0x4d, 0x8c, 0x2a, 0x3e, 0x6b, 0x1f, 0x4c, 0x0a, 0x9e, 0x2d, 0x7f, 0x11, 0x22, 0x33, 0x44, 0x55];

/// CALL of REMOTE_PROC_CONNECT_OPEN, name "xen:///system", flags 0.
#[rustfmt::skip]
const GOLDEN_CALL_OPEN: [u8; 56] = [
    0x00, 0x00, 0x00, 0x38, // length: 56, counting itself
    0x20, 0x00, 0x80, 0x86, // prog: REMOTE_PROGRAM
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x00, 0x01, // proc: REMOTE_PROC_CONNECT_OPEN
    0x00, 0x00, 0x00, 0x00, // type: CALL
    0x00, 0x00, 0x00, 0x01, // serial: 1
    0x00, 0x00, 0x00, 0x00, // status: OK
    0x00, 0x00, 0x00, 0x01, // args.name: present
    0x00, 0x00, 0x00, 0x0d, // args.name length: 13
    b'x', b'e', b'n', b':', //
    b'/', b'/', b'/', b's', //
    b'y', b's', b't', b'e', //
    b'm', 0x00, 0x00, 0x00, // last byte + 3 bytes of padding
    0x00, 0x00, 0x00, 0x00, // args.flags: 0
];

/// REPLY with status ERROR: libvirt's answer to a call of unknown procedure 9999.
#[rustfmt::skip]
const GOLDEN_ERROR_REPLY: [u8; 136] = [
    0x00, 0x00, 0x00, 0x88, // length: 136
    0x20, 0x00, 0x80, 0x86, // prog: REMOTE_PROGRAM
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x27, 0x0f, // proc: 9999, echoed from the call
    0x00, 0x00, 0x00, 0x01, // type: REPLY
    0x00, 0x00, 0x00, 0x07, // serial: 7, echoed from the call
    0x00, 0x00, 0x00, 0x01, // status: ERROR
    0x00, 0x00, 0x00, 0x27, // code: VIR_ERR_RPC (39)
    0x00, 0x00, 0x00, 0x07, // domain: VIR_FROM_RPC (7)
    0x00, 0x00, 0x00, 0x01, // message: present
    0x00, 0x00, 0x00, 0x17, // message length: 23
    b'u', b'n', b'k', b'n', //
    b'o', b'w', b'n', b' ', //
    b'p', b'r', b'o', b'c', //
    b'e', b'd', b'u', b'r', //
    b'e', b':', b' ', b'9', //
    b'9', b'9', b'9', 0x00, // last 3 bytes + 1 byte of padding
    0x00, 0x00, 0x00, 0x02, // level: VIR_ERR_ERROR
    0x00, 0x00, 0x00, 0x00, // dom: absent
    0x00, 0x00, 0x00, 0x01, // str1: present
    0x00, 0x00, 0x00, 0x02, // str1 length: 2 (VIR_ERR_RPC's format is "%s")
    b'%', b's', 0x00, 0x00, // "%s" + 2 bytes of padding
    0x00, 0x00, 0x00, 0x01, // str2: present
    0x00, 0x00, 0x00, 0x17, // str2 length: 23 (the detail)
    b'u', b'n', b'k', b'n', //
    b'o', b'w', b'n', b' ', //
    b'p', b'r', b'o', b'c', //
    b'e', b'd', b'u', b'r', //
    b'e', b':', b' ', b'9', //
    b'9', b'9', b'9', 0x00, // last 3 bytes + 1 byte of padding
    0x00, 0x00, 0x00, 0x00, // str3: absent
    0xff, 0xff, 0xff, 0xff, // int1: -1
    0xff, 0xff, 0xff, 0xff, // int2: -1
    0x00, 0x00, 0x00, 0x00, // net: absent
];

/// MESSAGE REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE: callback 1, domain "vm1" id 5 started.
#[rustfmt::skip]
const GOLDEN_EVENT: [u8; 68] = [
    0x00, 0x00, 0x00, 0x44, // length: 68
    0x20, 0x00, 0x80, 0x86, // prog: REMOTE_PROGRAM
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x01, 0x3e, // proc: 318 DOMAIN_EVENT_CALLBACK_LIFECYCLE
    0x00, 0x00, 0x00, 0x02, // type: MESSAGE
    0x00, 0x00, 0x00, 0x01, // serial: 1 (what libvirt's server puts in object events)
    0x00, 0x00, 0x00, 0x00, // status: OK
    0x00, 0x00, 0x00, 0x01, // callbackID: 1
    0x00, 0x00, 0x00, 0x03, // msg.dom.name length: 3
    b'v', b'm', b'1', 0x00, // "vm1" + 1 byte of padding
    0x4d, 0x8c, 0x2a, 0x3e, // msg.dom.uuid (16 bytes, no length)
    0x6b, 0x1f, 0x4c, 0x0a, //
    0x9e, 0x2d, 0x7f, 0x11, //
    0x22, 0x33, 0x44, 0x55, //
    0x00, 0x00, 0x00, 0x05, // msg.dom.id: 5
    0x00, 0x00, 0x00, 0x02, // msg.event: VIR_DOMAIN_EVENT_STARTED
    0x00, 0x00, 0x00, 0x00, // msg.detail: VIR_DOMAIN_EVENT_STARTED_BOOTED
];

/// STREAM data of a volume download: raw bytes, no XDR length, no padding.
#[rustfmt::skip]
const GOLDEN_STREAM_DATA: [u8; 33] = [
    0x00, 0x00, 0x00, 0x21, // length: 33
    0x20, 0x00, 0x80, 0x86, // prog: REMOTE_PROGRAM
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x00, 0xd1, // proc: 209 STORAGE_VOL_DOWNLOAD
    0x00, 0x00, 0x00, 0x03, // type: STREAM
    0x00, 0x00, 0x00, 0x0c, // serial: 12, that of the call which opened the stream
    0x00, 0x00, 0x00, 0x02, // status: CONTINUE
    b'h', b'e', b'l', b'l', b'o', // data
];

/// STREAM end: status OK, no payload.
#[rustfmt::skip]
const GOLDEN_STREAM_END: [u8; 28] = [
    0x00, 0x00, 0x00, 0x1c, // length: 28
    0x20, 0x00, 0x80, 0x86, // prog: REMOTE_PROGRAM
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x00, 0xd1, // proc: 209 STORAGE_VOL_DOWNLOAD
    0x00, 0x00, 0x00, 0x03, // type: STREAM
    0x00, 0x00, 0x00, 0x0c, // serial: 12
    0x00, 0x00, 0x00, 0x00, // status: OK
];

/// Keepalive PING.
#[rustfmt::skip]
const GOLDEN_PING: [u8; 28] = [
    0x00, 0x00, 0x00, 0x1c, // length: 28
    0x6b, 0x65, 0x65, 0x70, // prog: KEEPALIVE_PROGRAM ("keep")
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x00, 0x01, // proc: KEEPALIVE_PROC_PING
    0x00, 0x00, 0x00, 0x02, // type: MESSAGE
    0x00, 0x00, 0x00, 0x00, // serial: 0
    0x00, 0x00, 0x00, 0x00, // status: OK
];

/// Keepalive PONG.
#[rustfmt::skip]
const GOLDEN_PONG: [u8; 28] = [
    0x00, 0x00, 0x00, 0x1c, // length: 28
    0x6b, 0x65, 0x65, 0x70, // prog: KEEPALIVE_PROGRAM ("keep")
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x00, 0x02, // proc: KEEPALIVE_PROC_PONG
    0x00, 0x00, 0x00, 0x02, // type: MESSAGE
    0x00, 0x00, 0x00, 0x00, // serial: 0
    0x00, 0x00, 0x00, 0x00, // status: OK
];

/// CALL_WITH_FDS of DOMAIN_CREATE_WITH_FILES passing 2 fds, as it appears in the byte stream.
#[rustfmt::skip]
const GOLDEN_CALL_WITH_FDS: [u8; 66] = [
    0x00, 0x00, 0x00, 0x40, // length: 64 (the dummy bytes below are not counted)
    0x20, 0x00, 0x80, 0x86, // prog: REMOTE_PROGRAM
    0x00, 0x00, 0x00, 0x01, // vers: 1
    0x00, 0x00, 0x01, 0x36, // proc: 310 DOMAIN_CREATE_WITH_FILES
    0x00, 0x00, 0x00, 0x04, // type: CALL_WITH_FDS
    0x00, 0x00, 0x00, 0x09, // serial: 9
    0x00, 0x00, 0x00, 0x00, // status: OK
    0x00, 0x00, 0x00, 0x02, // nfds: 2
    0x00, 0x00, 0x00, 0x03, // args.dom.name length: 3
    b'v', b'm', b'1', 0x00, // "vm1" + 1 byte of padding
    0x4d, 0x8c, 0x2a, 0x3e, // args.dom.uuid
    0x6b, 0x1f, 0x4c, 0x0a, //
    0x9e, 0x2d, 0x7f, 0x11, //
    0x22, 0x33, 0x44, 0x55, //
    0xff, 0xff, 0xff, 0xff, // args.dom.id: -1 (not running)
    0x00, 0x00, 0x00, 0x00, // args.flags: 0
    0x00, // end of packet; dummy byte sent with fd 1 (its own sendmsg, SCM_RIGHTS)
    0x00, // dummy byte sent with fd 2
];

fn remote(proc_: i32, type_: MessageType, serial: u32, status: MessageStatus) -> Header {
    Header::new(REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, proc_, type_, serial, status)
}

/// Splits `data` in one go, expecting exactly one packet that uses all of it.
fn split_one(data: &[u8]) -> Packet {
    let mut s = Splitter::new();
    let (used, packet) = s.push(data).expect("valid packet");
    assert_eq!(used, data.len());
    assert!(s.is_idle());
    packet.expect("a complete packet")
}

/// Splits a whole stream, `chunk` bytes at a time, into its packets.
fn split_all(stream: &[u8], chunks: &mut impl FnMut() -> usize) -> Result<Vec<Packet>, FrameError> {
    let mut s = Splitter::new();
    let mut out = Vec::new();
    let mut off = 0;
    while off < stream.len() {
        let end = (off + chunks()).min(stream.len());
        let mut piece = &stream[off..end];
        while !piece.is_empty() {
            let (n, p) = s.push(piece)?;
            piece = &piece[n..];
            out.extend(p);
        }
        off = end;
    }
    assert!(s.is_idle(), "stream ended inside a packet");
    Ok(out)
}

// ---- golden packets ----

#[test]
fn golden_call_open_encodes_and_decodes() {
    let args = OpenArgs { name: Some("xen:///system".into()), flags: 0 };
    let h = remote(REMOTE_PROC_CONNECT_OPEN, MessageType::Call, 1, MessageStatus::Ok);
    assert_eq!(encode_packet(&h, None, |w| args.encode(w)), Ok(GOLDEN_CALL_OPEN.to_vec()));
    let p = split_one(&GOLDEN_CALL_OPEN);
    assert_eq!((p.header, p.nfds), (h, 0));
    assert_eq!(p.decode_payload::<OpenArgs>(), Ok(args));
}

#[test]
fn golden_error_reply_for_unknown_procedure() {
    let call = remote(9999, MessageType::Call, 7, MessageStatus::Ok);
    let err = RemoteError::new(VIR_ERR_RPC, VIR_FROM_RPC, Some("unknown procedure: 9999"));
    assert_eq!(reply_error(&call, &err), Ok(GOLDEN_ERROR_REPLY.to_vec()));
    let p = split_one(&GOLDEN_ERROR_REPLY);
    assert_eq!(p.header, remote(9999, MessageType::Reply, 7, MessageStatus::Error));
    assert_eq!(p.decode_payload::<RemoteError>(), Ok(err));
}

#[test]
fn golden_event_lifecycle_message() {
    let msg = CallbackLifecycleMsg {
        callback_id: 1,
        msg: LifecycleMsg { dom: NonnullDomain { name: "vm1".into(), uuid: UUID, id: 5 }, event: 2, detail: 0 },
    };
    let bytes = event(REMOTE_PROGRAM, 1, REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, 1, &msg);
    assert_eq!(bytes, Ok(GOLDEN_EVENT.to_vec()));
    assert_eq!(split_one(&GOLDEN_EVENT).decode_payload::<CallbackLifecycleMsg>(), Ok(msg));
}

#[test]
fn golden_stream_data_is_raw() {
    let bytes = stream_packet(REMOTE_PROGRAM, 1, 209, 12, MessageStatus::Continue, b"hello");
    assert_eq!(bytes, Ok(GOLDEN_STREAM_DATA.to_vec()));
    assert_eq!(split_one(&GOLDEN_STREAM_DATA).payload(), b"hello");
}

#[test]
fn golden_stream_end_is_empty() {
    let bytes = stream_packet(REMOTE_PROGRAM, 1, 209, 12, MessageStatus::Ok, &[]);
    assert_eq!(bytes, Ok(GOLDEN_STREAM_END.to_vec()));
    let p = split_one(&GOLDEN_STREAM_END);
    assert_eq!((p.header.status, p.payload()), (MessageStatus::Ok, &[][..]));
}

#[test]
fn golden_keepalive_ping_and_pong() {
    assert_eq!(ping(), GOLDEN_PING.to_vec());
    assert_eq!(pong(), GOLDEN_PONG.to_vec());
    let h = Header::new(KEEPALIVE_PROGRAM, 1, KEEPALIVE_PROC_PING, MessageType::Message, 0, MessageStatus::Ok);
    assert_eq!(split_one(&GOLDEN_PING).header, h);
}

#[test]
fn golden_call_with_fds_consumes_dummy_bytes() {
    let args = CreateWithFilesArgs { dom: NonnullDomain { name: "vm1".into(), uuid: UUID, id: -1 }, flags: 0 };
    let h = remote(310, MessageType::CallWithFds, 9, MessageStatus::Ok);
    assert_eq!(encode_packet(&h, Some(2), |w| args.encode(w)), Ok(GOLDEN_CALL_WITH_FDS[..64].to_vec()));
    let p = split_one(&GOLDEN_CALL_WITH_FDS);
    assert_eq!((p.header, p.nfds, p.len()), (h, 2, 64));
    assert_eq!(p.decode_payload::<CreateWithFilesArgs>(), Ok(args));
}

#[test]
fn stream_hole_carries_length_and_flags() {
    #[rustfmt::skip]
    let want = [
        0x00, 0x00, 0x00, 0x28, // length: 40
        0x20, 0x00, 0x80, 0x86, // prog: REMOTE_PROGRAM
        0x00, 0x00, 0x00, 0x01, // vers: 1
        0x00, 0x00, 0x00, 0xd1, // proc: 209
        0x00, 0x00, 0x00, 0x06, // type: STREAM_HOLE
        0x00, 0x00, 0x00, 0x0c, // serial: 12
        0x00, 0x00, 0x00, 0x02, // status: CONTINUE
        0x00, 0x00, 0x00, 0x01, // length (hyper), high word
        0x00, 0x00, 0x00, 0x00, // length, low word: 4 GiB
        0x00, 0x00, 0x00, 0x00, // flags: 0
    ];
    assert_eq!(stream_hole(REMOTE_PROGRAM, 1, 209, 12, 1 << 32, 0), want.to_vec());
}

// ---- splitter ----

#[test]
fn splitter_packet_with_fds_waits_for_each_dummy_byte() {
    let mut s = Splitter::new();
    assert_eq!(s.push(&GOLDEN_CALL_WITH_FDS[..64]), Ok((64, None)));
    assert_eq!(s.fds_pending(), 2);
    assert_eq!(s.push(&GOLDEN_CALL_WITH_FDS[64..65]), Ok((1, None)));
    assert_eq!(s.fds_pending(), 1);
    let (n, p) = s.push(&GOLDEN_CALL_WITH_FDS[65..]).expect("valid");
    assert_eq!((n, p.map(|p| p.nfds)), (1, Some(2)));
    assert!(s.is_idle());
}

#[test]
fn splitter_dummy_bytes_are_not_taken_as_next_packet() {
    let mut stream = GOLDEN_CALL_WITH_FDS.to_vec();
    stream.extend_from_slice(&GOLDEN_PING);
    let mut s = Splitter::new();
    let (n, p) = s.push(&stream).expect("valid");
    assert_eq!((n, p.map(|p| p.header.proc_)), (66, Some(310)));
    let (n, p) = s.push(&stream[66..]).expect("valid");
    assert_eq!((n, p.map(|p| p.header.proc_)), (28, Some(KEEPALIVE_PROC_PING)));
}

#[test]
fn splitter_returns_one_packet_per_call() {
    let mut stream = GOLDEN_PING.to_vec();
    stream.extend_from_slice(&GOLDEN_PONG);
    let mut s = Splitter::new();
    let (n, p) = s.push(&stream).expect("valid");
    assert_eq!((n, p.map(|p| p.header.proc_)), (28, Some(KEEPALIVE_PROC_PING)));
    assert_eq!(s.buffered(), 0);
}

#[test]
fn splitter_byte_at_a_time_yields_packet_on_last_byte() {
    let mut s = Splitter::new();
    for (i, b) in GOLDEN_EVENT.iter().enumerate() {
        let (n, p) = s.push(std::slice::from_ref(b)).expect("valid");
        assert_eq!(n, 1);
        assert_eq!(p.is_some(), i == GOLDEN_EVENT.len() - 1, "at byte {i}");
        if p.is_none() {
            assert_eq!(s.buffered(), i + 1);
        }
    }
}

#[test]
fn splitter_empty_input_consumes_nothing() {
    assert_eq!(Splitter::new().push(&[]), Ok((0, None)));
}

#[test]
fn splitter_huge_length_errors_at_once() {
    let mut s = Splitter::new();
    assert_eq!(s.push(&0x4000_0000u32.to_be_bytes()), Err(FrameError::TooLarge { len: 0x4000_0000 }));
    assert_eq!(s.buffered(), 0);
}

// ---- lengths and parsing ----

#[test]
fn packet_len_below_header_is_too_small() {
    assert_eq!(packet_len([0, 0, 0, 3]), Err(FrameError::TooSmall { len: 3 }));
    assert_eq!(packet_len([0, 0, 0, 27]), Err(FrameError::TooSmall { len: 27 }));
    assert_eq!(packet_len([0, 0, 0, 28]), Ok(28));
}

#[test]
fn packet_len_over_limit_is_too_large() {
    let max = (VIR_NET_MESSAGE_MAX + VIR_NET_MESSAGE_LEN_MAX) as u32;
    assert_eq!(packet_len(max.to_be_bytes()), Ok(max as usize));
    assert_eq!(packet_len((max + 1).to_be_bytes()), Err(FrameError::TooLarge { len: max + 1 }));
    assert_eq!(packet_len([0xff; 4]), Err(FrameError::TooLarge { len: u32::MAX }));
}

#[test]
fn frame_error_messages_follow_libvirt() {
    assert_eq!(FrameError::TooLarge { len: 0x4000_0004 }.to_string(), "packet 1073741824 bytes received too large, want 33554432");
    assert_eq!(FrameError::TooManyFds { nfds: 33 }.to_string(), "Too many FDs 33, expected 32 maximum");
}

#[test]
fn parse_length_word_mismatch_is_an_error() {
    let r = Packet::parse(GOLDEN_STREAM_DATA[..32].to_vec());
    assert_eq!(r, Err(FrameError::LengthMismatch { word: 33, actual: 32 }));
}

#[test]
fn parse_too_many_fds_is_an_error() {
    let mut bad = GOLDEN_CALL_WITH_FDS[..64].to_vec();
    bad[31] = 33; // nfds
    assert_eq!(Packet::parse(bad), Err(FrameError::TooManyFds { nfds: 33 }));
}

#[test]
fn parse_with_fds_type_without_count_is_an_error() {
    let mut bad = GOLDEN_PING;
    bad[19] = 4; // type: CALL_WITH_FDS, but nothing after the header
    assert!(matches!(Packet::parse(bad.to_vec()), Err(FrameError::NumFds(XdrError::Truncated { .. }))));
}

#[test]
fn decode_payload_ignores_trailing_bytes_like_libvirt() {
    let mut buf = GOLDEN_CALL_OPEN.to_vec();
    buf.extend_from_slice(&[0xee; 4]);
    buf[3] += 4;
    let p = Packet::parse(buf).expect("valid");
    assert_eq!(p.decode_payload::<OpenArgs>().map(|a| a.flags), Ok(0));
}

// ---- encoders ----

#[test]
fn encode_fds_type_without_count_is_refused() {
    let h = remote(310, MessageType::CallWithFds, 1, MessageStatus::Ok);
    assert_eq!(encode_packet(&h, None, |_| {}), Err(FrameError::FdsMismatch { type_: h.type_, nfds: None }));
}

#[test]
fn encode_count_for_plain_type_is_refused() {
    let h = remote(1, MessageType::Call, 1, MessageStatus::Ok);
    assert_eq!(encode_packet(&h, Some(1), |_| {}), Err(FrameError::FdsMismatch { type_: h.type_, nfds: Some(1) }));
}

#[test]
fn encode_more_than_32_fds_is_refused() {
    let h = remote(310, MessageType::CallWithFds, 1, MessageStatus::Ok);
    assert_eq!(encode_packet(&h, Some(33), |_| {}), Err(FrameError::TooManyFds { nfds: 33 }));
}

#[test]
fn encode_payload_over_limit_is_refused() {
    let h = remote(209, MessageType::Stream, 1, MessageStatus::Continue);
    let big = vec![0u8; VIR_NET_MESSAGE_PAYLOAD_MAX + 1];
    let r = encode_packet(&h, None, |w| w.raw(&big));
    assert_eq!(r, Err(FrameError::EncodeTooLarge { len: VIR_NET_MESSAGE_MAX + 5 }));
    let r = stream_packet(REMOTE_PROGRAM, 1, 209, 1, MessageStatus::Continue, &big[1..]);
    assert_eq!(r.map(|v| v.len()), Ok(VIR_NET_MESSAGE_MAX + 4));
}

#[test]
fn reply_error_to_stream_is_a_stream_packet() {
    let h = remote(209, MessageType::Stream, 12, MessageStatus::Continue);
    let bytes = reply_error(&h, &RemoteError::new(VIR_ERR_RPC, VIR_FROM_RPC, Some("x"))).expect("encodes");
    let p = split_one(&bytes);
    assert_eq!((p.header.type_, p.header.status), (MessageType::Stream, MessageStatus::Error));
}

#[test]
fn reply_ok_to_call_with_fds_is_a_plain_reply() {
    let h = remote(310, MessageType::CallWithFds, 3, MessageStatus::Ok);
    let p = split_one(&reply_ok(&h, &7i32).expect("encodes"));
    assert_eq!((p.header, p.nfds, p.payload()), (remote(310, MessageType::Reply, 3, MessageStatus::Ok), 0, &[0, 0, 0, 7][..]));
}

// ---- properties ----

fn random_packet(rng: &mut Rng) -> (Vec<u8>, Packet) {
    let type_ = MessageType::from_i32(rng.below(7) as i32).unwrap_or(MessageType::Call);
    let status = MessageStatus::from_i32(rng.below(3) as i32).unwrap_or(MessageStatus::Ok);
    let h = Header::new(rng.next_u32(), rng.next_u32(), rng.next_u32() as i32, type_, rng.next_u32(), status);
    let nfds = type_.has_fds().then(|| rng.below(4) as u32);
    let body = rng.bytes(300);
    let buf = encode_packet(&h, nfds, |w| w.raw(&body)).expect("small packet");
    let packet = Packet { buf: buf.clone(), header: h, nfds: nfds.unwrap_or(0) };
    let mut wire = buf;
    wire.resize(wire.len() + packet.nfds as usize, 0);
    (wire, packet)
}

#[test]
fn property_random_packets_survive_any_chunking() {
    let mut rng = Rng::new(10);
    for _ in 0..200 {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for _ in 0..rng.below(6) + 1 {
            let (wire, p) = random_packet(&mut rng);
            stream.extend_from_slice(&wire);
            want.push(p);
        }
        let max_chunk = rng.below(64) + 1;
        let got = split_all(&stream, &mut || rng.below(max_chunk) + 1);
        assert_eq!(got.as_ref(), Ok(&want));
    }
}

#[test]
fn property_truncated_input_never_yields_a_packet() {
    let mut rng = Rng::new(11);
    for _ in 0..100 {
        let (wire, _) = random_packet(&mut rng);
        for cut in 0..wire.len() {
            let mut s = Splitter::new();
            let r = s.push(&wire[..cut]);
            assert_eq!(r, Ok((cut, None)), "cut at {cut} of {}", wire.len());
        }
    }
}

#[test]
fn property_out_of_range_lengths_are_errors() {
    let mut rng = Rng::new(12);
    let limit = (VIR_NET_MESSAGE_MAX + VIR_NET_MESSAGE_LEN_MAX) as u32;
    for _ in 0..1000 {
        let big = limit + 1 + rng.next_u32() % (u32::MAX - limit);
        assert_eq!(Splitter::new().push(&big.to_be_bytes()), Err(FrameError::TooLarge { len: big }));
        let small = rng.below(28) as u32;
        assert_eq!(Splitter::new().push(&small.to_be_bytes()), Err(FrameError::TooSmall { len: small }));
    }
}

#[test]
fn property_random_streams_never_panic() {
    let mut rng = Rng::new(13);
    for _ in 0..2000 {
        let mut data = rng.bytes(400);
        if data.len() > 5 {
            // Often a plausible small length so that headers get parsed.
            data[1..5].copy_from_slice(&(28 + rng.below(64) as u32).to_be_bytes());
        }
        fuzz_target(&data);
    }
}

/// Writes the fuzz seed corpora; run with
/// `cargo test --lib write_fuzz_seed_corpora -- --ignored` from the package root.
#[test]
#[ignore]
fn write_fuzz_seed_corpora() {
    use std::fs;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let frame = |name: &str, bytes: &[u8]| {
        let mut v = vec![0x5a]; // chunking seed
        v.extend_from_slice(bytes);
        fs::write(root.join("frame").join(name), v).expect("write corpus");
    };
    frame("call_open", &GOLDEN_CALL_OPEN);
    frame("error_reply", &GOLDEN_ERROR_REPLY);
    frame("event_lifecycle", &GOLDEN_EVENT);
    frame("stream_data", &GOLDEN_STREAM_DATA);
    frame("stream_end", &GOLDEN_STREAM_END);
    frame("ping", &GOLDEN_PING);
    frame("pong", &GOLDEN_PONG);
    frame("call_with_fds", &GOLDEN_CALL_WITH_FDS);
    let all = [
        &GOLDEN_CALL_OPEN[..],
        &GOLDEN_CALL_WITH_FDS,
        &GOLDEN_PING,
        &GOLDEN_EVENT,
        &GOLDEN_STREAM_DATA,
        &GOLDEN_STREAM_END,
        &GOLDEN_ERROR_REPLY,
        &GOLDEN_PONG,
    ]
    .concat();
    frame("concat_all", &all);
    frame("bad_len_3", &[0, 0, 0, 3, 0, 0, 0, 0]);
    frame("bad_len_1gib", &0x4000_0000u32.to_be_bytes());
    let mut huge = 0x7fff_fff0u32.to_be_bytes().to_vec();
    huge.extend_from_slice(&GOLDEN_PING[4..]);
    frame("bad_len_28_plus_huge", &huge);
    frame("truncated_error_reply", &GOLDEN_ERROR_REPLY[..100]);
    frame("fds_missing_dummy", &GOLDEN_CALL_WITH_FDS[..65]);
    let mut many = GOLDEN_CALL_WITH_FDS[..64].to_vec();
    many[31] = 33;
    frame("fds_too_many", &many);
    let mut bad_type = GOLDEN_PING;
    bad_type[19] = 7;
    frame("bad_type", &bad_type);

    let xdr = |name: &str, selector: u8, bytes: &[u8]| {
        let mut v = vec![selector];
        v.extend_from_slice(bytes);
        fs::write(root.join("xdr").join(name), v).expect("write corpus");
    };
    xdr("remote_error", 6, &GOLDEN_ERROR_REPLY[28..]);
    xdr("header", 7, &GOLDEN_CALL_OPEN[4..28]);
    xdr("optional_string", 3, &GOLDEN_CALL_OPEN[28..52]);
    let params: Vec<TypedParam> = vec![
        TypedParam::new("user-name", TypedParamValue::String("root".into())),
        TypedParam::new("unix-user-id", TypedParamValue::ULLong(0)),
        TypedParam::new("process-id", TypedParamValue::LLong(4242)),
        TypedParam::new("readonly", TypedParamValue::Boolean(true)),
        TypedParam::new("ratio", TypedParamValue::Double(0.5)),
        TypedParam::new("minWorkers", TypedParamValue::UInt(5)),
        TypedParam::new("n", TypedParamValue::Int(-3)),
    ];
    let mut w = Writer::new();
    params.encode_bounded(&mut w);
    xdr("typed_params", 5, w.as_slice());
    xdr("typed_param", 4, &encode_to_vec(&params[0]));
    xdr("typed_param_bad_type", 4, &[0, 0, 0, 1, b'x', 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0]);
    xdr("string_huge_len", 2, &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    xdr("string_with_nul", 2, &[0, 0, 0, 3, b'a', 0, b'b', 0]);
    xdr("strings", 8, &[0, 0, 0, 2, 0, 0, 0, 1, b'a', 0, 0, 0, 0, 0, 0, 0]);
    xdr("opaque_blob", 9, &[0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5, 0xff, 0xff, 0xff]);
    xdr("array_huge_count", 8, &[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    xdr("event_payload", 10, &GOLDEN_EVENT[28..]);
}
