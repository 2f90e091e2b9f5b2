//! Tests of the header, the error struct and libvirt's error texts.
use super::*;
use crate::xdr::{decode_exact, encode_to_vec, DEFAULT_STRING_MAX};

#[test]
fn limits_are_consistent() {
    assert_eq!(VIR_NET_MESSAGE_PAYLOAD_MAX, VIR_NET_MESSAGE_MAX - VIR_NET_MESSAGE_HEADER_MAX);
    assert_eq!(VIR_NET_MESSAGE_MIN_PACKET, 28);
    assert_eq!(VIR_NET_MESSAGE_STRING_MAX, DEFAULT_STRING_MAX);
    assert_eq!(REMOTE_STRING_MAX, DEFAULT_STRING_MAX);
    assert_eq!(ADMIN_STRING_MAX, DEFAULT_STRING_MAX);
}

#[test]
fn keepalive_program_spells_keep() {
    assert_eq!(&KEEPALIVE_PROGRAM.to_be_bytes(), b"keep");
}

#[test]
fn header_round_trips() {
    let h = Header::new(REMOTE_PROGRAM, 1, 419, MessageType::CallWithFds, 0xdead_beef, MessageStatus::Ok);
    let bytes = encode_to_vec(&h);
    assert_eq!(bytes.len(), VIR_NET_MESSAGE_HEADER_MAX);
    assert_eq!(decode_exact::<Header>(&bytes), Ok(h));
}

#[test]
fn header_unknown_type_is_bad_discriminant() {
    let mut bytes = encode_to_vec(&Header::new(1, 1, 1, MessageType::Call, 1, MessageStatus::Ok));
    bytes[15] = 7; // type
    assert_eq!(decode_exact::<Header>(&bytes), Err(XdrError::BadDiscriminant { what: "message type", value: 7 }));
}

#[test]
fn header_unknown_status_is_bad_discriminant() {
    let mut bytes = encode_to_vec(&Header::new(1, 1, 1, MessageType::Call, 1, MessageStatus::Ok));
    bytes[20..24].copy_from_slice(&(-1i32).to_be_bytes()); // status
    assert_eq!(decode_exact::<Header>(&bytes), Err(XdrError::BadDiscriminant { what: "message status", value: -1 }));
}

#[test]
fn message_type_values_match_the_protocol() {
    for v in 0..7 {
        assert_eq!(MessageType::from_i32(v).map(|t| t as i32), Some(v));
    }
    assert_eq!(MessageType::from_i32(7), None);
    assert!(MessageType::CallWithFds.has_fds() && MessageType::ReplyWithFds.has_fds());
    assert!(!MessageType::Call.has_fds() && !MessageType::StreamHole.has_fds());
}

#[test]
fn error_message_internal_error_prefixes_detail() {
    assert_eq!(error_message(VIR_ERR_INTERNAL_ERROR, Some("x")), "internal error: x");
}

#[test]
fn error_message_rpc_is_detail_alone() {
    assert_eq!(error_message(VIR_ERR_RPC, Some("authentication required")), "authentication required");
    assert_eq!(error_message(VIR_ERR_RPC, None), "RPC error");
}

#[test]
fn error_message_known_prefixes() {
    let cases = [
        (VIR_ERR_OPERATION_DENIED, "operation forbidden: x"),
        (VIR_ERR_OPERATION_INVALID, "Requested operation is not valid: x"),
        (VIR_ERR_NO_DOMAIN, "Domain not found: x"),
        (VIR_ERR_AUTH_FAILED, "authentication failed: x"),
        (VIR_ERR_NO_SUPPORT, "this function is not supported by the connection driver: x"),
        (VIR_ERR_DOM_EXIST, "domain x exists already"),
        (VIR_ERR_NO_CONNECT, "no connection driver available for x"),
        (VIR_ERR_SYSTEM_ERROR, "x"),
        (VIR_ERR_NO_SERVER, "Server not found: x"),
        (VIR_ERR_MULTIPLE_DOMAINS, "multiple matching domains found: x"),
    ];
    for (code, want) in cases {
        assert_eq!(error_message(code, Some("x")), want, "code {code}");
    }
}

#[test]
fn error_message_without_info_is_plain_text() {
    assert_eq!(error_message(VIR_ERR_OPERATION_DENIED, None), "operation forbidden for read only access");
    assert_eq!(error_message(VIR_ERR_AUTH_FAILED, None), "authentication failed");
}

#[test]
fn error_message_unknown_code_has_no_text() {
    assert_eq!(error_message(0, Some("x")), "No error message provided");
    assert_eq!(error_message(500, None), "No error message provided");
    assert_eq!(error_message(-1, None), "No error message provided");
}

#[test]
fn error_format_covers_every_code() {
    for code in VIR_ERR_INTERNAL_ERROR..=VIR_ERR_NO_NETWORK_METADATA {
        let with = error_format(code, true).unwrap_or_default();
        assert_eq!(with.matches("%s").count(), 1, "code {code}: {with:?}");
        assert!(!error_format(code, false).unwrap_or("%s").contains('%'), "code {code}");
    }
    assert_eq!(error_format(VIR_ERR_NO_NETWORK_METADATA + 1, true), None);
}

#[test]
fn error_message_info_with_percent_is_kept_verbatim() {
    assert_eq!(error_message(VIR_ERR_INTERNAL_ERROR, Some("%s %d")), "internal error: %s %d");
}

#[test]
fn remote_error_new_fills_str1_str2_like_libvirt() {
    let e = RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_REMOTE, Some("hypervisor connection not open"));
    assert_eq!(
        e,
        RemoteError {
            code: 1,
            domain: 13,
            message: Some("internal error: hypervisor connection not open".into()),
            level: VIR_ERR_ERROR,
            str1: Some("internal error: %s".into()),
            str2: Some("hypervisor connection not open".into()),
            str3: None,
            int1: -1,
            int2: -1,
        }
    );
}

#[test]
fn remote_error_new_without_info_has_no_str2() {
    let e = RemoteError::new(VIR_ERR_AUTH_FAILED, VIR_FROM_REMOTE, None);
    assert_eq!(e.message(), "authentication failed");
    assert_eq!((e.str1.as_deref(), e.str2.as_deref()), (Some("authentication failed"), None));
}

#[test]
fn remote_error_unknown_code_has_no_str1() {
    let e = RemoteError::new(500, VIR_FROM_RPC, Some("weird"));
    assert_eq!((e.message(), e.str1.as_deref(), e.str2.as_deref()), ("No error message provided", None, Some("weird")));
}

#[test]
fn remote_error_system_appends_strerror_and_sets_int1() {
    let e = RemoteError::system(VIR_FROM_RPC, libc::ENOENT, Some("Failed to connect socket to '/run/x'"));
    assert_eq!(e.message(), "Failed to connect socket to '/run/x': No such file or directory");
    assert_eq!((e.code, e.domain, e.int1, e.int2), (VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, libc::ENOENT, -1));
    assert_eq!(e.str1.as_deref(), Some("%s"));
}

#[test]
fn remote_error_round_trips() {
    let e = RemoteError::new(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, Some("no domain with matching name 'x'"));
    assert_eq!(decode_exact::<RemoteError>(&encode_to_vec(&e)), Ok(e));
}

#[test]
fn remote_error_decode_accepts_dom_and_net() {
    let mut w = Writer::new();
    w.i32(VIR_ERR_NO_DOMAIN);
    w.i32(VIR_FROM_DOM);
    None::<String>.encode(&mut w); // message
    w.i32(VIR_ERR_ERROR);
    Some(NonnullDomain { name: "vm".into(), uuid: [1; 16], id: 3 }).encode(&mut w); // dom
    None::<String>.encode(&mut w); // str1
    None::<String>.encode(&mut w); // str2
    Some("three".to_owned()).encode(&mut w); // str3
    w.i32(4); // int1
    w.i32(5); // int2
    Some(NonnullNetwork { name: "net".into(), uuid: [2; 16] }).encode(&mut w); // net
    let e = decode_exact::<RemoteError>(w.as_slice());
    assert_eq!(
        e,
        Ok(RemoteError {
            code: VIR_ERR_NO_DOMAIN,
            domain: VIR_FROM_DOM,
            message: None,
            level: VIR_ERR_ERROR,
            str1: None,
            str2: None,
            str3: Some("three".into()),
            int1: 4,
            int2: 5,
        })
    );
}

#[test]
fn remote_error_without_message_displays_unknown_error() {
    let e = RemoteError { message: None, ..RemoteError::new(1, 0, None) };
    assert_eq!(e.to_string(), "unknown error");
}

#[test]
fn error_domain_numbers_match_virterror_h() {
    assert_eq!(
        (VIR_FROM_NONE, VIR_FROM_RPC, VIR_FROM_CONF, VIR_FROM_REMOTE, VIR_FROM_LIBXL, VIR_FROM_ADMIN, VIR_FROM_CH),
        (0, 7, 9, 13, 41, 62, 72)
    );
}

#[test]
fn remote_proc_name_covers_the_table() {
    assert_eq!(remote_proc_name(REMOTE_PROC_CONNECT_OPEN), Some("REMOTE_PROC_CONNECT_OPEN"));
    assert_eq!(remote_proc_name(REMOTE_PROC_CONNECT_SET_IDENTITY), Some("REMOTE_PROC_CONNECT_SET_IDENTITY"));
    assert_eq!(remote_proc_name(REMOTE_PROC_LAST), Some("REMOTE_PROC_DOMAIN_ANNOUNCE_INTERFACE"));
    assert_eq!(remote_proc_name(0), None);
    assert_eq!(remote_proc_name(REMOTE_PROC_LAST + 1), None);
    assert_eq!(remote_proc_name(i32::MIN), None);
}

#[test]
fn local_remote_proc_constants_match_the_table() {
    let named = [
        (REMOTE_PROC_CONNECT_CLOSE, "REMOTE_PROC_CONNECT_CLOSE"),
        (REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE"),
        (REMOTE_PROC_AUTH_LIST, "REMOTE_PROC_AUTH_LIST"),
        (REMOTE_PROC_AUTH_SASL_INIT, "REMOTE_PROC_AUTH_SASL_INIT"),
        (REMOTE_PROC_AUTH_SASL_START, "REMOTE_PROC_AUTH_SASL_START"),
        (REMOTE_PROC_AUTH_SASL_STEP, "REMOTE_PROC_AUTH_SASL_STEP"),
        (REMOTE_PROC_AUTH_POLKIT, "REMOTE_PROC_AUTH_POLKIT"),
        (REMOTE_PROC_CONNECT_GET_URI, "REMOTE_PROC_CONNECT_GET_URI"),
        (REMOTE_PROC_CONNECT_GET_LIB_VERSION, "REMOTE_PROC_CONNECT_GET_LIB_VERSION"),
        (REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, "REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE"),
        (REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK, "REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK"),
        (REMOTE_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK, "REMOTE_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK"),
        (REMOTE_PROC_CONNECT_EVENT_CONNECTION_CLOSED, "REMOTE_PROC_CONNECT_EVENT_CONNECTION_CLOSED"),
    ];
    for (n, name) in named {
        assert_eq!(remote_proc_name(n), Some(name));
    }
}

#[test]
fn admin_proc_name_covers_1_to_19() {
    assert_eq!(admin_proc_name(ADMIN_PROC_CONNECT_OPEN), Some("ADMIN_PROC_CONNECT_OPEN"));
    assert_eq!(admin_proc_name(ADMIN_PROC_CONNECT_SET_DAEMON_TIMEOUT), Some("ADMIN_PROC_CONNECT_SET_DAEMON_TIMEOUT"));
    assert_eq!(admin_proc_name(ADMIN_PROC_CLIENT_GET_INFO), Some("ADMIN_PROC_CLIENT_GET_INFO"));
    assert_eq!((admin_proc_name(0), admin_proc_name(20)), (None, None));
}
