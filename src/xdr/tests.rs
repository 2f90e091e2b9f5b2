//! Tests of the XDR primitives, the `xdr_struct!` macro and typed parameters, with
//! property tests driven by a small deterministic generator.
use super::*;
use crate::xdr_struct;

/// A tiny deterministic generator (splitmix64) for property tests.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in 0..n (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub(crate) fn bool(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    pub(crate) fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// A string of at most `max` bytes, some characters multi-byte, never NUL.
    pub(crate) fn string(&mut self, max: usize) -> String {
        const ALPHABET: [char; 8] = ['a', 'Z', '0', ' ', '/', 'é', '€', '😀'];
        let target = self.below(max + 1);
        let mut s = String::new();
        loop {
            let c = ALPHABET[self.below(ALPHABET.len())];
            if s.len() + c.len_utf8() > target {
                return s;
            }
            s.push(c);
        }
    }
}

fn reader_for(bytes: &[u8]) -> Reader<'_> {
    Reader::new(bytes)
}

// ---- primitives ----

#[test]
fn u32_decodes_big_endian() {
    assert_eq!(reader_for(&[0x12, 0x34, 0x56, 0x78]).u32(), Ok(0x1234_5678));
}

#[test]
fn i32_negative_decodes_twos_complement() {
    assert_eq!(reader_for(&[0xff, 0xff, 0xff, 0xfe]).i32(), Ok(-2));
}

#[test]
fn u64_decodes_high_word_first() {
    let b = [0, 0, 0, 1, 0, 0, 0, 2];
    assert_eq!(reader_for(&b).u64(), Ok((1 << 32) | 2));
}

#[test]
fn i64_minus_one_decodes_from_all_ones() {
    assert_eq!(reader_for(&[0xff; 8]).i64(), Ok(-1));
}

#[test]
fn f64_decodes_ieee754_big_endian() {
    // 1.5 = 0x3FF8000000000000
    let b = [0x3f, 0xf8, 0, 0, 0, 0, 0, 0];
    assert_eq!(reader_for(&b).f64(), Ok(1.5));
}

#[test]
fn bool_zero_and_one_decode() {
    let b = [0, 0, 0, 0, 0, 0, 0, 1];
    let mut r = reader_for(&b);
    assert_eq!((r.bool(), r.bool()), (Ok(false), Ok(true)));
}

#[test]
fn enum_returns_raw_value() {
    assert_eq!(reader_for(&[0xff, 0xff, 0xff, 0xff]).enum_i32(), Ok(-1));
}

#[test]
fn u32_short_input_is_truncated() {
    assert_eq!(reader_for(&[1, 2, 3]).u32(), Err(XdrError::Truncated { what: "unsigned int", need: 4, have: 3 }));
}

#[test]
fn opaque_fixed_skips_padding() {
    let b = [1, 2, 3, 0, 9, 9, 9, 9];
    let mut r = reader_for(&b);
    assert_eq!(r.opaque_fixed(3), Ok(&[1u8, 2, 3][..]));
    assert_eq!(r.remaining(), 4);
}

#[test]
fn opaque_fixed_missing_padding_is_truncated() {
    assert!(matches!(reader_for(&[1, 2, 3]).opaque_fixed(3), Err(XdrError::Truncated { .. })));
}

#[test]
fn opaque_over_max_is_too_long() {
    let b = [0, 0, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0];
    assert_eq!(reader_for(&b).opaque(4), Err(XdrError::TooLong { what: "opaque data", len: 5, max: 4 }));
}

#[test]
fn opaque_empty_takes_only_length() {
    let b = [0, 0, 0, 0];
    let mut r = reader_for(&b);
    assert_eq!(r.opaque(4), Ok(&[][..]));
    assert_eq!(r.remaining(), 0);
}

#[test]
fn string_decodes_utf8() {
    let b = [0, 0, 0, 3, b'a', 0xc3, 0xa9, 0];
    assert_eq!(reader_for(&b).string(10), Ok("aé".to_owned()));
}

#[test]
fn string_invalid_utf8_is_rejected() {
    let b = [0, 0, 0, 2, b'a', 0xff, 0, 0];
    assert_eq!(reader_for(&b).string(10), Err(XdrError::BadString(BadStringKind::InvalidUtf8 { valid_up_to: 1 })));
}

#[test]
fn string_bytes_accepts_invalid_utf8() {
    let b = [0, 0, 0, 2, b'a', 0xff, 0, 0];
    assert_eq!(reader_for(&b).string_bytes(10), Ok(&[b'a', 0xff][..]));
}

#[test]
fn string_huge_length_in_short_buffer_fails_without_allocating() {
    let b = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    assert_eq!(
        reader_for(&b).string(DEFAULT_STRING_MAX),
        Err(XdrError::TooLong { what: "string", len: u32::MAX, max: DEFAULT_STRING_MAX })
    );
    // Even with no maximum it is the bytes left that stop it.
    assert!(matches!(reader_for(&b).string(u32::MAX), Err(XdrError::Truncated { .. })));
}

#[test]
fn array_len_over_max_is_too_long() {
    assert_eq!(reader_for(&[0, 0, 0, 21]).array_len(20, 4), Err(XdrError::TooLong { what: "array", len: 21, max: 20 }));
}

#[test]
fn array_len_beyond_input_is_truncated() {
    let b = [0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2];
    assert_eq!(reader_for(&b).array_len(100, 4), Err(XdrError::Truncated { what: "array elements", need: 12, have: 8 }));
}

#[test]
fn vec_huge_count_fails_before_reserving() {
    let b = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    let r = <Vec<u64> as XdrBounded>::decode_bounded(&mut reader_for(&b), u32::MAX);
    assert!(matches!(r, Err(XdrError::Truncated { what: "array elements", .. })));
}

#[test]
fn finish_with_bytes_left_is_trailing() {
    let b = [0, 0, 0, 1, 0xee];
    let mut r = reader_for(&b);
    assert_eq!(r.u32(), Ok(1));
    assert_eq!(r.finish(), Err(XdrError::TrailingBytes(1)));
}

#[test]
fn decode_prefix_ignores_trailing_bytes() {
    assert_eq!(decode_prefix::<u32>(&[0, 0, 0, 7, 1]), Ok(7));
}

#[test]
fn decode_exact_rejects_trailing_bytes() {
    assert_eq!(decode_exact::<u32>(&[0, 0, 0, 7, 1]), Err(XdrError::TrailingBytes(1)));
}

#[test]
fn writer_pads_with_zeros() {
    let mut w = Writer::new();
    w.string("abcde");
    assert_eq!(w.as_slice(), &[0, 0, 0, 5, b'a', b'b', b'c', b'd', b'e', 0, 0, 0]);
}

#[test]
fn writer_aligned_opaque_has_no_padding() {
    let mut w = Writer::new();
    w.opaque(&[1, 2, 3, 4]);
    assert_eq!(w.as_slice(), &[0, 0, 0, 4, 1, 2, 3, 4]);
}

#[test]
fn writer_scalars_are_big_endian() {
    let mut w = Writer::new();
    w.i32(-2);
    w.u64(0x0102_0304_0506_0708);
    w.f64(1.5);
    w.bool(true);
    assert_eq!(
        w.as_slice(),
        &[
            0xff, 0xff, 0xff, 0xfe, // -2
            1, 2, 3, 4, 5, 6, 7, 8, // u64
            0x3f, 0xf8, 0, 0, 0, 0, 0, 0, // 1.5
            0, 0, 0, 1, // true
        ]
    );
}

#[test]
fn patch_u32_past_end_changes_nothing() {
    let mut w = Writer::new();
    w.u32(1);
    assert!(!w.patch_u32(1, 9));
    assert!(w.patch_u32(0, 9));
    assert_eq!(w.as_slice(), &[0, 0, 0, 9]);
}

#[test]
fn fixed_array_decodes_with_padding() {
    let b = [1, 2, 3, 4, 5, 0, 0, 0];
    assert_eq!(decode_exact::<[u8; 5]>(&b), Ok([1, 2, 3, 4, 5]));
}

#[test]
fn option_none_is_one_zero_word() {
    assert_eq!(encode_to_vec(&None::<u32>), vec![0, 0, 0, 0]);
    assert_eq!(encode_to_vec(&Some(3u32)), vec![0, 0, 0, 1, 0, 0, 0, 3]);
}

// ---- the macro ----

xdr_struct! {
    struct Inner { name: String [max 64], uuid: [u8; 16], id: i32 }
}

xdr_struct! {
    struct Sample {
        a: u32,
        b: i32,
        c: u64,
        d: i64,
        e: f64,
        f: bool,
        g: String [max 100],
        h: Option<String>,
        i: Vec<i32> [max 10],
        j: Vec<u8> [opaque 50],
        k: Inner,
        l: Option<Inner>,
        m: Vec<TypedParam> [max 8],
        n: [u8; 5],
        o: Option<String> [max 20],
    }
}

xdr_struct! { struct Void {} }

#[test]
fn macro_struct_min_size_sums_fields() {
    // Inner: 4 + 16 + 4
    assert_eq!(<Inner as Xdr>::MIN_SIZE, 24);
    // a4 b4 c8 d8 e8 f4 (36) g4 h4 i4 j4 (52) k24 (76) l4 m4 (84) n8 (92) o4
    assert_eq!(<Sample as Xdr>::MIN_SIZE, 96);
}

#[test]
fn macro_void_struct_encodes_nothing() {
    assert_eq!(encode_to_vec(&Void {}), Vec::<u8>::new());
    assert_eq!(decode_exact::<Void>(&[]), Ok(Void {}));
}

#[test]
fn macro_field_over_its_max_is_too_long() {
    xdr_struct! { struct Two { list: Vec<u32> [max 1] } }
    let b = [0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
    assert_eq!(decode_exact::<Two>(&b), Err(XdrError::TooLong { what: "array", len: 2, max: 1 }));
}

#[test]
fn macro_encodes_fields_in_order() {
    let v = Inner { name: "vm".into(), uuid: [7; 16], id: -1 };
    let mut want = vec![0, 0, 0, 2, b'v', b'm', 0, 0];
    want.extend_from_slice(&[7; 16]);
    want.extend_from_slice(&[0xff; 4]);
    assert_eq!(encode_to_vec(&v), want);
}

// ---- typed parameters ----

#[test]
fn typed_param_ullong_encodes_field_type_value() {
    let p = TypedParam::new("unix-user-id", TypedParamValue::ULLong(1000));
    let mut want = vec![0, 0, 0, 12];
    want.extend_from_slice(b"unix-user-id");
    want.extend_from_slice(&[0, 0, 0, 4]); // VIR_TYPED_PARAM_ULLONG
    want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x03, 0xe8]); // 1000
    assert_eq!(encode_to_vec(&p), want);
}

#[test]
fn typed_param_unknown_type_is_bad_discriminant() {
    let b = [0, 0, 0, 1, b'x', 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0];
    assert_eq!(decode_exact::<TypedParam>(&b), Err(XdrError::BadDiscriminant { what: "typed parameter type", value: 8 }));
}

#[test]
fn typed_param_boolean_nonzero_is_true() {
    let b = [0, 0, 0, 6, 0, 0, 0, 5];
    assert_eq!(decode_exact::<TypedParamValue>(&b), Ok(TypedParamValue::Boolean(true)));
}

#[test]
fn typed_param_field_of_80_bytes_does_not_fit() {
    assert!(TypedParam::new("x".repeat(79), TypedParamValue::Int(0)).field_fits());
    assert!(!TypedParam::new("x".repeat(80), TypedParamValue::Int(0)).field_fits());
}

// ---- properties ----

fn random_param(rng: &mut Rng) -> TypedParam {
    let value = match rng.below(7) {
        0 => TypedParamValue::Int(rng.next_u32() as i32),
        1 => TypedParamValue::UInt(rng.next_u32()),
        2 => TypedParamValue::LLong(rng.next_u64() as i64),
        3 => TypedParamValue::ULLong(rng.next_u64()),
        4 => TypedParamValue::Double((rng.next_u64() as i64) as f64 / 7.0),
        5 => TypedParamValue::Boolean(rng.bool()),
        _ => TypedParamValue::String(rng.string(12)),
    };
    TypedParam::new(rng.string(10), value)
}

fn random_inner(rng: &mut Rng) -> Inner {
    let mut uuid = [0u8; 16];
    uuid.iter_mut().for_each(|b| *b = rng.next_u64() as u8);
    Inner { name: rng.string(64), uuid, id: rng.next_u32() as i32 }
}

fn random_sample(rng: &mut Rng) -> Sample {
    Sample {
        a: rng.next_u32(),
        b: rng.next_u32() as i32,
        c: rng.next_u64(),
        d: rng.next_u64() as i64,
        e: (rng.next_u64() as i64) as f64 / 3.0,
        f: rng.bool(),
        g: rng.string(100),
        h: rng.bool().then(|| rng.string(30)),
        i: (0..rng.below(11)).map(|_| rng.next_u32() as i32).collect(),
        j: rng.bytes(50),
        k: random_inner(rng),
        l: rng.bool().then(|| random_inner(rng)),
        m: (0..rng.below(9)).map(|_| random_param(rng)).collect(),
        n: [rng.next_u64() as u8, 1, 2, 3, 4],
        o: rng.bool().then(|| rng.string(20)),
    }
}

#[test]
fn property_random_structs_round_trip() {
    let mut rng = Rng::new(1);
    for _ in 0..500 {
        let s = random_sample(&mut rng);
        let bytes = encode_to_vec(&s);
        assert_eq!(bytes.len() % 4, 0);
        assert_eq!(decode_exact::<Sample>(&bytes), Ok(s));
    }
}

#[test]
fn property_random_scalars_round_trip() {
    let mut rng = Rng::new(2);
    for _ in 0..1000 {
        let (a, b, c) = (rng.next_u32(), rng.next_u64() as i64, f64::from_bits(rng.next_u64()));
        let mut w = Writer::new();
        w.u32(a);
        w.i64(b);
        w.f64(c);
        let bytes = w.into_vec();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u32(), Ok(a));
        assert_eq!(r.i64(), Ok(b));
        assert_eq!(r.f64().map(f64::to_bits), Ok(c.to_bits()));
        assert_eq!(r.finish(), Ok(()));
    }
}

#[test]
fn property_every_truncation_is_an_error() {
    let mut rng = Rng::new(3);
    for _ in 0..60 {
        let bytes = encode_to_vec(&random_sample(&mut rng));
        for cut in 0..bytes.len() {
            assert!(decode_prefix::<Sample>(&bytes[..cut]).is_err(), "decoded from {cut} of {} bytes", bytes.len());
        }
    }
}

#[test]
fn property_random_bytes_never_panic() {
    let mut rng = Rng::new(4);
    for _ in 0..3000 {
        let mut bytes = rng.bytes(200);
        // Bias towards small length words so that strings and arrays get exercised.
        if bytes.len() >= 4 && rng.bool() {
            bytes[0] = 0;
            bytes[1] = 0;
            bytes[2] = 0;
        }
        let _ = decode_prefix::<Sample>(&bytes);
        fuzz_target(&bytes);
    }
}
