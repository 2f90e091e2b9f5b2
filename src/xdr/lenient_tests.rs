//! Golden bytes for every decode rule, each beside the libvirt behaviour it mirrors (the
//! rpcgen decoders over libtirpc's xdr.c / xdr_reference.c / xdr_array.c, as Debian's
//! libvirt 9.0 links them). docs/xdr.md has the same rules as a table.
use super::*;
use crate::xdr_struct;

xdr_struct! {
    /// remote_connect_open_args
    struct OpenArgs { name: Option<String>, flags: u32 }
}

xdr_struct! {
    /// remote_auth_list_ret: an array of the enum remote_auth_type.
    struct AuthListRet { types: Vec<i32> [max 20] }
}

xdr_struct! {
    /// A struct with an XDR `bool` (xdr_bool) between two ints.
    struct WithBool { before: i32, flag: bool, after: i32 }
}

xdr_struct! {
    /// remote_domain_set_scheduler_parameters_args without its domain:
    /// remote_typed_param params<REMOTE_DOMAIN_SCHEDULER_PARAMETERS_MAX = 16>.
    struct SchedParams { params: Vec<TypedParam> [max 16] }
}

xdr_struct! {
    /// A short string and opaque limit, so that "exactly the maximum" fits on a line.
    struct Small { name: String [max 8], blob: Vec<u8> [opaque 8] }
}

#[rustfmt::skip]
const OPEN_NAME_PRESENT_LE: [u8; 32] = [
    0x01, 0x00, 0x00, 0x00, // name: "value follows", as go-libvirt sends it (1 little-endian)
    0x00, 0x00, 0x00, 0x0f, // name length: 15
    b'q', b'e', b'm', b'u', //
    b':', b'/', b'/', b'/', //
    b's', b'e', b's', b's', //
    b'i', b'o', b'n', 0x00, // last 3 bytes + 1 byte of padding
    0x00, 0x00, 0x00, 0x00, // flags: 0
    0xee, 0xee, 0xee, 0xee, // not part of the args (see trailing_bytes_*)
];

fn open_args(bytes: &[u8]) -> Result<OpenArgs, XdrError> {
    decode_prefix::<OpenArgs>(bytes)
}

// ---- bool and "value follows" ----

#[test]
fn bool_any_nonzero_word_is_true() {
    // libvirt: xdr_bool takes any non-zero word as TRUE (lb == XDR_FALSE ? FALSE : TRUE).
    for (word, want) in [
        ([0x00, 0x00, 0x00, 0x00], false),
        ([0x00, 0x00, 0x00, 0x01], true),
        ([0x01, 0x00, 0x00, 0x00], true),
        ([0x00, 0x00, 0x00, 0x02], true),
        ([0xff, 0xff, 0xff, 0xff], true),
    ] {
        #[rustfmt::skip]
        let b = [
            0x00, 0x00, 0x00, 0x07, // before: 7
            word[0], word[1], word[2], word[3], // flag
            0xff, 0xff, 0xff, 0xfe, // after: -2
        ];
        assert_eq!(decode_exact::<WithBool>(&b), Ok(WithBool { before: 7, flag: want, after: -2 }), "word {word:02x?}");
    }
}

#[test]
fn optional_flag_little_endian_one_means_value_follows() {
    // libvirt: xdr_pointer reads "more data" with xdr_bool, so 0x01000000 is TRUE. This is
    // go-libvirt's CONNECT_OPEN, which libvirtd accepts.
    let a = open_args(&OPEN_NAME_PRESENT_LE).expect("libvirt accepts it");
    assert_eq!(a, OpenArgs { name: Some("qemu:///session".into()), flags: 0 });
}

#[test]
fn optional_flag_all_ones_and_two_mean_value_follows() {
    // libvirt: xdr_pointer -> xdr_bool: any non-zero word.
    for word in [[0xff, 0xff, 0xff, 0xff], [0x00, 0x00, 0x00, 0x02], [0x00, 0x00, 0x00, 0x01]] {
        let mut b = OPEN_NAME_PRESENT_LE;
        b[..4].copy_from_slice(&word);
        assert_eq!(open_args(&b).map(|a| a.name), Ok(Some("qemu:///session".into())), "word {word:02x?}");
    }
}

#[test]
fn optional_flag_zero_is_null_and_nothing_else_is_read() {
    // libvirt: xdr_pointer with FALSE sets the pointer to NULL and reads no value.
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x00, // name: NULL
        0x00, 0x00, 0x00, 0x01, // flags: VIR_CONNECT_RO
    ];
    assert_eq!(decode_exact::<OpenArgs>(&b), Ok(OpenArgs { name: None, flags: 1 }));
}

#[test]
fn encoder_writes_canonical_flags_after_lenient_decode() {
    // libvirt: xdr_bool encodes XDR_TRUE (1) / XDR_FALSE (0) whatever it decoded.
    let a = open_args(&OPEN_NAME_PRESENT_LE).unwrap();
    let mut want = OPEN_NAME_PRESENT_LE[..28].to_vec();
    want[..4].copy_from_slice(&[0x00, 0x00, 0x00, 0x01]);
    assert_eq!(encode_to_vec(&a), want);
}

// ---- enums and unions ----

#[test]
fn enum_value_outside_the_protocol_decodes() {
    // libvirt: xdr_enum (xdr_remote_auth_type) reads an int and checks no range.
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x02, // types length: 2
        0x00, 0x00, 0x00, 0x00, // REMOTE_AUTH_NONE
        0x7f, 0xff, 0xff, 0xff, // no such remote_auth_type
    ];
    assert_eq!(decode_exact::<AuthListRet>(&b), Ok(AuthListRet { types: vec![0, i32::MAX] }));
}

#[test]
fn union_discriminant_without_arm_fails() {
    // libvirt: xdr_remote_typed_param_value switches on the type and has no default arm:
    // an unknown type fails the whole payload ("Unable to decode message payload").
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x01, // params length: 1
        0x00, 0x00, 0x00, 0x01, // field length: 1
        b'x', 0x00, 0x00, 0x00, // "x" + 3 bytes of padding
        0x00, 0x00, 0x00, 0x08, // type: 8, no VIR_TYPED_PARAM_* arm
        0x00, 0x00, 0x00, 0x00, // (what an int arm would have read)
    ];
    assert_eq!(decode_exact::<SchedParams>(&b), Err(XdrError::BadDiscriminant { what: "typed parameter type", value: 8 }));
}

#[test]
fn typed_param_boolean_any_nonzero_int_is_true() {
    // libvirt: the BOOLEAN arm is an `int b`, copied into virTypedParameter.value.b and read
    // as C truth.
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x01, // params length: 1
        0x00, 0x00, 0x00, 0x02, // field length: 2
        b'o', b'n', 0x00, 0x00, // "on" + 2 bytes of padding
        0x00, 0x00, 0x00, 0x06, // type: VIR_TYPED_PARAM_BOOLEAN
        0x01, 0x00, 0x00, 0x00, // b: 0x01000000
    ];
    let want = TypedParam::new("on", TypedParamValue::Boolean(true));
    assert_eq!(decode_exact::<SchedParams>(&b), Ok(SchedParams { params: vec![want] }));
}

// ---- padding ----

#[test]
fn nonzero_padding_after_string_and_opaque_is_accepted() {
    // libvirt: xdr_opaque reads the padding into a scratch buffer ("crud") and never looks
    // at it.
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x03, // name length: 3
        b'v', b'm', b'1', 0xff, // "vm1" + 1 byte of padding, not zero
        0x00, 0x00, 0x00, 0x01, // blob length: 1
        0xaa, 0xde, 0xad, 0xbe, // 0xaa + 3 bytes of padding, not zero
    ];
    assert_eq!(decode_exact::<Small>(&b), Ok(Small { name: "vm1".into(), blob: vec![0xaa] }));
}

#[test]
fn nonzero_padding_after_fixed_opaque_is_accepted() {
    // libvirt: xdr_opaque for `opaque x[5]`, same "crud" read.
    #[rustfmt::skip]
    let b = [
        1, 2, 3, 4,             // bytes 0..4
        5, 0x11, 0x22, 0x33,    // byte 4 + 3 bytes of padding, not zero
    ];
    assert_eq!(decode_exact::<[u8; 5]>(&b), Ok([1, 2, 3, 4, 5]));
}

#[test]
fn missing_padding_fails() {
    // libvirt: xdr_opaque's second XDR_GETBYTES (the padding) fails at the end of the buffer.
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x03, // name length: 3
        b'v', b'm', b'1',       // "vm1", padding missing
    ];
    assert!(matches!(decode_prefix::<Small>(&b), Err(XdrError::Truncated { what: "string", .. })));
}

// ---- lengths and counts ----

#[test]
fn string_and_opaque_exactly_at_maximum_are_accepted() {
    // libvirt: xdr_string and xdr_bytes refuse only size > maxsize.
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x08, // name length: 8 = the maximum
        b'a', b'b', b'c', b'd', //
        b'e', b'f', b'g', b'h', // no padding needed
        0x00, 0x00, 0x00, 0x08, // blob length: 8 = the maximum
        1, 2, 3, 4, 5, 6, 7, 8, //
    ];
    assert_eq!(decode_exact::<Small>(&b), Ok(Small { name: "abcdefgh".into(), blob: vec![1, 2, 3, 4, 5, 6, 7, 8] }));
}

#[test]
fn string_one_over_maximum_fails() {
    // libvirt: xdr_string returns FALSE when size > maxsize, before reading the bytes.
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x09, // name length: 9 = maximum + 1
        b'a', b'b', b'c', b'd', //
        b'e', b'f', b'g', b'h', //
        b'i', 0x00, 0x00, 0x00, //
        0x00, 0x00, 0x00, 0x00, // blob length: 0
    ];
    assert_eq!(decode_exact::<Small>(&b), Err(XdrError::TooLong { what: "string", len: 9, max: 8 }));
}

#[test]
fn opaque_one_over_maximum_fails() {
    // libvirt: xdr_bytes returns FALSE when size > maxsize.
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x00, // name length: 0
        0x00, 0x00, 0x00, 0x09, // blob length: 9 = maximum + 1
        1, 2, 3, 4, 5, 6, 7, 8, //
        9, 0, 0, 0,             //
    ];
    assert_eq!(decode_exact::<Small>(&b), Err(XdrError::TooLong { what: "opaque data", len: 9, max: 8 }));
}

#[test]
fn array_exactly_at_maximum_is_accepted_one_over_fails() {
    // libvirt: xdr_array refuses only c > maxsize (REMOTE_AUTH_TYPE_LIST_MAX = 20 here).
    let at_max: Vec<u8> = [20u32].iter().chain([0u32; 20].iter()).flat_map(|v| v.to_be_bytes()).collect();
    assert_eq!(decode_exact::<AuthListRet>(&at_max).map(|r| r.types.len()), Ok(20));
    #[rustfmt::skip]
    let over = [
        0x00, 0x00, 0x00, 0x15, // types length: 21 = maximum + 1
        0x00, 0x00, 0x00, 0x00, // (elements are not read)
    ];
    assert_eq!(decode_prefix::<AuthListRet>(&over), Err(XdrError::TooLong { what: "array", len: 21, max: 20 }));
}

#[test]
fn string_at_remote_string_max_is_accepted_one_over_fails() {
    // libvirt: REMOTE_STRING_MAX (4 MiB) is the maximum of remote_nonnull_string.
    let max = DEFAULT_STRING_MAX as usize;
    let mut b = (max as u32).to_be_bytes().to_vec();
    b.resize(4 + max, b'a');
    assert_eq!(decode_exact::<String>(&b).map(|s| s.len()), Ok(max));
    b[..4].copy_from_slice(&(max as u32 + 1).to_be_bytes());
    b.extend_from_slice(&[b'a', 0, 0, 0]);
    assert_eq!(decode_exact::<String>(&b), Err(XdrError::TooLong { what: "string", len: DEFAULT_STRING_MAX + 1, max: DEFAULT_STRING_MAX }));
}

#[test]
fn negative_counts_are_over_every_maximum() {
    // libvirt: counts are u_int, so a negative int (0x80000000, 0xffffffff) is > maxsize and
    // refused before anything is allocated (the CVE-2024-2494 class of bug stays out).
    #[rustfmt::skip]
    let params = [
        0xff, 0xff, 0xff, 0xff, // params length: -1 as an int
        0x00, 0x00, 0x00, 0x00, //
    ];
    assert_eq!(decode_prefix::<SchedParams>(&params), Err(XdrError::TooLong { what: "array", len: u32::MAX, max: 16 }));
    #[rustfmt::skip]
    let name = [
        0x00, 0x00, 0x00, 0x01, // name: value follows
        0x80, 0x00, 0x00, 0x00, // name length: INT_MIN as an int
        0x00, 0x00, 0x00, 0x00, //
    ];
    assert_eq!(open_args(&name), Err(XdrError::TooLong { what: "string", len: 0x8000_0000, max: DEFAULT_STRING_MAX }));
}

#[test]
fn count_beyond_the_input_fails_before_allocating() {
    // libvirt: xdr_array allocates c elements, then fails reading them; we fail first.
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x10, // params length: 16 = the maximum
        0x00, 0x00, 0x00, 0x00, // far less than 16 typed params follow
    ];
    assert!(matches!(decode_prefix::<SchedParams>(&b), Err(XdrError::Truncated { what: "array elements", .. })));
}

#[test]
fn input_ending_inside_a_word_fails() {
    // libvirt: XDR_GETLONG fails with fewer than 4 bytes left ("Unable to decode message
    // payload" for a CONNECT_OPEN without its flags).
    assert!(matches!(open_args(&OPEN_NAME_PRESENT_LE[..26]), Err(XdrError::Truncated { what: "unsigned int", .. })));
}

// ---- strings ----

#[test]
fn string_with_nul_reads_as_the_c_string_before_it() {
    // libvirt: xdr_string copies all `size` bytes and the C code sees a string that ends at
    // the first NUL; libvirtd opens "qemu:///session" here.
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x01, // name: value follows
        0x00, 0x00, 0x00, 0x14, // name length: 20
        b'q', b'e', b'm', b'u', //
        b':', b'/', b'/', b'/', //
        b's', b'e', b's', b's', //
        b'i', b'o', b'n', 0x00, // the C string ends here
        b'j', b'u', b'n', b'k', // read and not seen
        0x00, 0x00, 0x00, 0x00, // flags: 0
    ];
    assert_eq!(decode_exact::<OpenArgs>(&b), Ok(OpenArgs { name: Some("qemu:///session".into()), flags: 0 }));
}

#[test]
fn string_of_invalid_utf8_fails_unlike_libvirt() {
    // libvirt: xdr_string takes any bytes. Ours refuses bytes that are not UTF-8 (the one
    // deliberate difference, docs/xdr.md); string_bytes gives them raw.
    #[rustfmt::skip]
    let b = [
        0x00, 0x00, 0x00, 0x02, // length: 2
        b'a', 0xff, 0x00, 0x00, // "a\xff" + 2 bytes of padding
    ];
    assert_eq!(decode_exact::<String>(&b), Err(XdrError::BadString(BadStringKind::InvalidUtf8 { valid_up_to: 1 })));
    assert_eq!(Reader::new(&b).string_bytes(8), Ok(&[b'a', 0xff][..]));
}

// ---- after the payload ----

#[test]
fn trailing_bytes_after_a_payload_are_ignored() {
    // libvirt: virNetMessageDecodePayload runs the filter and never checks that it used the
    // whole buffer.
    assert_eq!(open_args(&OPEN_NAME_PRESENT_LE).map(|a| a.flags), Ok(0));
    assert_eq!(decode_exact::<OpenArgs>(&OPEN_NAME_PRESENT_LE), Err(XdrError::TrailingBytes(4)));
}

#[test]
fn hyper_and_double_take_every_bit_pattern() {
    // libvirt: xdr_hyper / xdr_u_hyper / xdr_double copy the 8 bytes, high word first.
    xdr_struct! { struct Wide { a: i64, b: u64, c: f64 } }
    #[rustfmt::skip]
    let b = [
        0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // a: i64::MIN
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // b: u64::MAX
        0x7f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // c: a NaN with a payload
    ];
    let w = decode_exact::<Wide>(&b).unwrap();
    assert_eq!((w.a, w.b, w.c.to_bits()), (i64::MIN, u64::MAX, 0x7ff8_0000_0000_0001));
    assert_eq!(encode_to_vec(&w), b);
}

/// Writes seeds of the lenient encodings into the xdr fuzz corpus; run with
/// `cargo test --lib write_lenient_xdr_seeds -- --ignored` from the package root.
#[test]
#[ignore]
fn write_lenient_xdr_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/xdr");
    let seed = |name: &str, selector: u8, bytes: &[u8]| {
        let mut v = vec![selector];
        v.extend_from_slice(bytes);
        std::fs::write(dir.join(name), v).expect("write corpus");
    };
    // Option<String>: go-libvirt's "value follows" word, 4 bytes after it.
    seed("optional_string_le_flag", 3, &OPEN_NAME_PRESENT_LE);
    #[rustfmt::skip]
    let mixed = [
        0xff, 0xff, 0xff, 0xff, // a: bool, all ones
        0x01, 0x00, 0x00, 0x00, // b: value follows, little-endian one
        0x00, 0x00, 0x00, 0x05, // b length: 5
        b'a', 0x00, b'b', b'c', // a NUL inside
        b'd', 0xaa, 0xbb, 0xcc, // last byte + padding, not zero
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, // c: 16 bytes
        0x7f, 0xf8, 0, 0, 0, 0, 0, 1, // d: a NaN
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // e: u64::MAX
    ];
    seed("mixed_lenient", 10, &mixed);
}
