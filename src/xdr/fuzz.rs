//! The `xdr` fuzz target: decoders of every kind run over arbitrary input.
use super::{decode_exact, encode_to_vec, Reader, TypedParam, Xdr};
use crate::xdr_struct;

/// Fuzz entry point (fuzz/fuzz_targets/), also replayed over the corpus by t/fuzz_corpus.rs.
///
/// Decodes the input as a series of types chosen by its first byte. Decoding is as lenient as
/// libvirt's (any non-zero flag, any padding, strings cut at a NUL), so encode(decode(bytes))
/// need not give the input back; what must hold is that the canonical encoding is a fixed
/// point (encode(decode(encode(v))) == encode(v)) and never longer than the bytes it came from.
pub fn fuzz_target(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut r = Reader::new(rest);
    // Try every decoder on the same input too, not only the selected one.
    for i in 0..FUZZ_DECODERS {
        let which = (usize::from(selector) + i) % FUZZ_DECODERS;
        fuzz_decode_one(which, &mut Reader::new(rest));
    }
    // A stream of mixed items until the input runs out or something fails.
    let mut which = usize::from(selector);
    while r.remaining() > 0 {
        let before = r.remaining();
        if !fuzz_decode_one(which % FUZZ_DECODERS, &mut r) || r.remaining() == before {
            break;
        }
        which = which.wrapping_mul(31).wrapping_add(7);
    }
}

const FUZZ_DECODERS: usize = 12;

fn fuzz_roundtrip<T: Xdr>(r: &mut Reader<'_>) -> bool {
    let start = r.position();
    match T::decode(r) {
        Ok(v) => {
            let once = encode_to_vec(&v);
            assert!(once.len() <= r.position() - start, "canonical encoding longer than its input");
            let again = decode_exact::<T>(&once).map(|v2| encode_to_vec(&v2));
            assert_eq!(again.as_ref(), Ok(&once), "XDR re-encoding is not a fixed point");
            true
        }
        Err(_) => false,
    }
}

fn fuzz_decode_one(which: usize, r: &mut Reader<'_>) -> bool {
    use crate::rpc::protocol::{Header, RemoteError};
    xdr_struct! { struct TypedParams { params: Vec<TypedParam> [max 64] } }
    xdr_struct! { struct Strings { names: Vec<String> [max 16384] } }
    xdr_struct! { struct Blob { nil: i32, data: Vec<u8> [opaque 65536] } }
    xdr_struct! { struct Mixed { a: bool, b: Option<String> [max 256], c: [u8; 16], d: f64, e: u64 } }
    match which {
        0 => fuzz_roundtrip::<u32>(r),
        1 => fuzz_roundtrip::<i64>(r),
        2 => fuzz_roundtrip::<String>(r),
        3 => fuzz_roundtrip::<Option<String>>(r),
        4 => fuzz_roundtrip::<TypedParam>(r),
        5 => fuzz_roundtrip::<TypedParams>(r),
        6 => fuzz_roundtrip::<RemoteError>(r),
        7 => fuzz_roundtrip::<Header>(r),
        8 => fuzz_roundtrip::<Strings>(r),
        9 => fuzz_roundtrip::<Blob>(r),
        10 => fuzz_roundtrip::<Mixed>(r),
        _ => match r.array_len(1024, 1) {
            Ok(n) => r.opaque_fixed(n).is_ok(),
            Err(_) => false,
        },
    }
}
