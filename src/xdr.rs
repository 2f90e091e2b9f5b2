//! XDR (RFC 4506) as libvirt's RPC uses it: a bounded cursor decoder, an encoder, the
//! `Xdr` trait and the `xdr_struct!` macro (mirrors the rpcgen output libvirt builds from
//! `rpc/virnetprotocol.x` and `remote/remote_protocol.x`, decoded with glibc/libtirpc `xdr_*`).
//!
//! The decoder accepts exactly what libvirt's C decoders accept (docs/xdr.md has the table):
//! - `bool` and the "value follows" word of optional data: any non-zero word is true
//!   (xdr_bool, and xdr_pointer on top of it);
//! - enums are raw values (xdr_enum does no range check); a union whose discriminant has no
//!   arm fails;
//! - padding bytes after opaque data and strings must be present, their value is not checked;
//! - a length or count over its maximum fails (exactly the maximum is fine), and so does input
//!   that ends early;
//! - a string holding a NUL reads as the C string libvirt sees: the bytes before the first NUL
//!   (all of its bytes and padding are still consumed);
//! - bytes after a payload are ignored (virNetMessageDecodePayload does not look at them):
//!   `decode_prefix` is that rule, `decode_exact` a stricter helper for tests.
//!
//! One deliberate difference: strings must be valid UTF-8 (C takes any bytes); a string that
//! is not fails to decode. `Reader::string_bytes` gives the raw bytes where a caller must take
//! anything.
//!
//! The encoder is canonical: bools and flags 0 or 1, zero padding. Every length and count is
//! checked against its maximum and against the bytes actually left before anything is
//! allocated.
use std::fmt;

mod fuzz;
mod macros;
mod typed_param;
pub use fuzz::fuzz_target;
pub use typed_param::{
    TypedParam, TypedParamValue, VIR_TYPED_PARAM_BOOLEAN, VIR_TYPED_PARAM_DOUBLE, VIR_TYPED_PARAM_FIELD_LENGTH, VIR_TYPED_PARAM_INT,
    VIR_TYPED_PARAM_LLONG, VIR_TYPED_PARAM_STRING, VIR_TYPED_PARAM_UINT, VIR_TYPED_PARAM_ULLONG,
};

#[cfg(test)]
mod lenient_tests;
#[cfg(test)]
pub(crate) mod tests;

/// Default maximum length of a string: VIR_NET_MESSAGE_STRING_MAX, REMOTE_STRING_MAX and
/// ADMIN_STRING_MAX are all 4 MiB.
pub const DEFAULT_STRING_MAX: u32 = 4_194_304;

/// Size of one XDR unit: everything is padded to a multiple of it.
pub const XDR_UNIT: usize = 4;

const ZERO_PAD: [u8; XDR_UNIT] = [0; XDR_UNIT];

/// Bytes of padding after `n` bytes of opaque data.
#[inline]
pub const fn pad_len(n: usize) -> usize {
    (XDR_UNIT - n % XDR_UNIT) % XDR_UNIT
}

/// Why a string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadStringKind {
    /// Not valid UTF-8.
    InvalidUtf8 { valid_up_to: usize },
}

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XdrError {
    /// The input ends before `what` is complete.
    Truncated { what: &'static str, need: usize, have: usize },
    /// A length or count is over the maximum the protocol allows for `what`.
    TooLong { what: &'static str, len: u32, max: u32 },
    /// An enum value or union discriminant that `what` does not know.
    BadDiscriminant { what: &'static str, value: i32 },
    /// A string that is not valid UTF-8.
    BadString(BadStringKind),
    /// Bytes left over after the value (strict decoding only).
    TrailingBytes(usize),
}

impl fmt::Display for XdrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XdrError::Truncated { what, need, have } => {
                write!(f, "truncated {what}: need {need} bytes, {have} left")
            }
            XdrError::TooLong { what, len, max } => {
                write!(f, "{what} length {len} exceeds maximum {max}")
            }
            XdrError::BadDiscriminant { what, value } => write!(f, "unknown {what} value {value}"),
            XdrError::BadString(BadStringKind::InvalidUtf8 { valid_up_to }) => {
                write!(f, "string is not valid UTF-8 after {valid_up_to} bytes")
            }
            XdrError::TrailingBytes(n) => write!(f, "{n} unexpected bytes after the data"),
        }
    }
}

impl std::error::Error for XdrError {}

/// A bounded cursor over encoded bytes. Never reads past its slice, never allocates except
/// for the owned values it returns (`string`).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet consumed.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes consumed so far.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not yet consumed.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Errors if any byte is left over.
    pub fn finish(&self) -> Result<(), XdrError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(XdrError::TrailingBytes(n)),
        }
    }

    #[inline]
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], XdrError> {
        let have = self.remaining();
        if n > have {
            return Err(XdrError::Truncated { what, need: n, have });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    fn word(&mut self, what: &'static str) -> Result<[u8; 4], XdrError> {
        let s = self.take(4, what)?;
        Ok([s[0], s[1], s[2], s[3]])
    }

    #[inline]
    fn dword(&mut self, what: &'static str) -> Result<[u8; 8], XdrError> {
        let s = self.take(8, what)?;
        let mut b = [0u8; 8];
        b.copy_from_slice(s);
        Ok(b)
    }

    /// `unsigned int`
    #[inline]
    pub fn u32(&mut self) -> Result<u32, XdrError> {
        self.word("unsigned int").map(u32::from_be_bytes)
    }

    /// `int`
    #[inline]
    pub fn i32(&mut self) -> Result<i32, XdrError> {
        self.word("int").map(i32::from_be_bytes)
    }

    /// `unsigned hyper`
    pub fn u64(&mut self) -> Result<u64, XdrError> {
        self.dword("unsigned hyper").map(u64::from_be_bytes)
    }

    /// `hyper`
    pub fn i64(&mut self) -> Result<i64, XdrError> {
        self.dword("hyper").map(i64::from_be_bytes)
    }

    /// `double` (IEEE 754, big-endian)
    pub fn f64(&mut self) -> Result<f64, XdrError> {
        self.dword("double").map(f64::from_be_bytes)
    }

    /// `bool`: any non-zero word is true.
    // C: xdr_bool
    pub fn bool(&mut self) -> Result<bool, XdrError> {
        self.word("bool").map(|w| u32::from_be_bytes(w) != 0)
    }

    /// An `enum` as its raw value, unchecked like C's; the caller maps it (a union reports
    /// `XdrError::BadDiscriminant` for a value without an arm).
    // C: xdr_enum
    #[inline]
    pub fn enum_i32(&mut self) -> Result<i32, XdrError> {
        self.word("enum").map(i32::from_be_bytes)
    }

    /// `opaque name[n]`: `n` bytes and their padding (which must be present; its value is
    /// not looked at).
    // C: xdr_opaque
    pub fn opaque_fixed(&mut self, n: usize) -> Result<&'a [u8], XdrError> {
        let padded =
            n.checked_add(pad_len(n)).ok_or(XdrError::Truncated { what: "opaque data", need: usize::MAX, have: self.remaining() })?;
        let s = self.take(padded, "opaque data")?;
        Ok(&s[..n])
    }

    // C: xdr_bytes, xdr_string (the length word, its maximum, the bytes, the padding)
    fn counted(&mut self, what: &'static str, max: u32) -> Result<&'a [u8], XdrError> {
        let len = self.word(what).map(u32::from_be_bytes)?;
        if len > max {
            return Err(XdrError::TooLong { what, len, max });
        }
        let n = len as usize;
        let s = self.take(n.saturating_add(pad_len(n)), what)?;
        Ok(&s[..n])
    }

    /// `opaque name<max>`: a length word, the bytes, padding.
    pub fn opaque(&mut self, max: u32) -> Result<&'a [u8], XdrError> {
        self.counted("opaque data", max)
    }

    /// `string name<max>` as the C string libvirt gets: the bytes up to the first NUL (the
    /// whole string and its padding are consumed), any bytes.
    // C: xdr_string
    pub fn string_bytes(&mut self, max: u32) -> Result<&'a [u8], XdrError> {
        let s = self.counted("string", max)?;
        Ok(match s.iter().position(|&b| b == 0) {
            Some(nul) => &s[..nul],
            None => s,
        })
    }

    /// `string name<max>` borrowed from the input, cut at a NUL as C reads it; valid UTF-8.
    pub fn str(&mut self, max: u32) -> Result<&'a str, XdrError> {
        let s = self.string_bytes(max)?;
        std::str::from_utf8(s).map_err(|e| XdrError::BadString(BadStringKind::InvalidUtf8 { valid_up_to: e.valid_up_to() }))
    }

    /// `string name<max>` as an owned `String`.
    pub fn string(&mut self, max: u32) -> Result<String, XdrError> {
        self.str(max).map(str::to_owned)
    }

    /// The element count of `T name<max>`. Checks it against `max` and against the bytes
    /// left (each element takes at least `min_elem_size` bytes), so that the caller can
    /// reserve room for the elements safely.
    // C: xdr_array (the count and its maximum)
    pub fn array_len(&mut self, max: u32, min_elem_size: usize) -> Result<usize, XdrError> {
        let len = self.word("array length").map(u32::from_be_bytes)?;
        if len > max {
            return Err(XdrError::TooLong { what: "array", len, max });
        }
        let n = len as usize;
        let need = n.saturating_mul(min_elem_size);
        let have = self.remaining();
        if need > have {
            return Err(XdrError::Truncated { what: "array elements", need, have });
        }
        Ok(n)
    }

    /// The flag in front of optional data (`T *name`): any non-zero word means a value
    /// follows.
    // C: xdr_pointer (which reads the flag with xdr_bool)
    pub fn optional(&mut self) -> Result<bool, XdrError> {
        self.word("optional-data flag").map(|w| u32::from_be_bytes(w) != 0)
    }
}

/// The encoder: appends to a `Vec<u8>`, padding with zeros. Encoding cannot fail; sizes are
/// checked once on the whole packet (`rpc::message::encode_packet`), and a length too big for
/// its 32-bit word can only come with a packet far over that limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Writer { buf: Vec::new() }
    }

    pub fn with_capacity(n: usize) -> Self {
        Writer { buf: Vec::with_capacity(n) }
    }

    /// Continues writing at the end of `buf`.
    pub fn from_vec(buf: Vec<u8>) -> Self {
        Writer { buf }
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Overwrites the 4 bytes at `at` (already written) with `v`, e.g. a length word.
    /// Returns false, changing nothing, if those bytes were not written yet.
    pub fn patch_u32(&mut self, at: usize, v: u32) -> bool {
        match at.checked_add(4).and_then(|end| self.buf.get_mut(at..end)) {
            Some(dst) => {
                dst.copy_from_slice(&v.to_be_bytes());
                true
            }
            None => false,
        }
    }

    #[inline]
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    #[inline]
    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `bool`: 0 or 1.
    pub fn bool(&mut self, v: bool) {
        self.u32(u32::from(v));
    }

    pub fn enum_i32(&mut self, v: i32) {
        self.i32(v);
    }

    /// `opaque name[n]`: the bytes and zero padding.
    pub fn opaque_fixed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(&ZERO_PAD[..pad_len(data.len())]);
    }

    /// `opaque name<max>`: length word, bytes, zero padding.
    pub fn opaque(&mut self, data: &[u8]) {
        self.u32(u32::try_from(data.len()).unwrap_or(u32::MAX));
        self.opaque_fixed(data);
    }

    /// `string name<max>`
    pub fn string(&mut self, s: &str) {
        self.opaque(s.as_bytes());
    }

    /// The count in front of `T name<max>`.
    pub fn array_len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }

    /// The flag in front of optional data: 0 or 1.
    pub fn optional(&mut self, present: bool) {
        self.u32(u32::from(present));
    }

    /// Bytes as they are, without length or padding (stream data).
    pub fn raw(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }
}

/// A type with an XDR encoding.
pub trait Xdr: Sized {
    /// The fewest bytes an encoded value takes (used to bound array counts by the input left).
    const MIN_SIZE: usize = XDR_UNIT;
    fn encode(&self, w: &mut Writer);
    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError>;
}

/// A variable-length type whose maximum is given by the protocol at each use
/// (`string s<max>`, `T list<max>`); used by `xdr_struct!` for fields written `[max M]`.
pub trait XdrBounded: Sized {
    const MIN_SIZE: usize = XDR_UNIT;
    fn encode_bounded(&self, w: &mut Writer);
    fn decode_bounded(r: &mut Reader<'_>, max: u32) -> Result<Self, XdrError>;
}

/// Decodes one `T` from the start of `buf` and ignores what follows, as libvirt's
/// `virNetMessageDecodePayload` does.
// C: virNetMessageDecodePayload
pub fn decode_prefix<T: Xdr>(buf: &[u8]) -> Result<T, XdrError> {
    T::decode(&mut Reader::new(buf))
}

/// Decodes one `T` that must fill `buf` exactly (stricter than libvirt: for tests and for
/// data that is not a message payload).
pub fn decode_exact<T: Xdr>(buf: &[u8]) -> Result<T, XdrError> {
    let mut r = Reader::new(buf);
    let v = T::decode(&mut r)?;
    r.finish()?;
    Ok(v)
}

/// Encodes `v` into a new buffer.
pub fn encode_to_vec<T: Xdr>(v: &T) -> Vec<u8> {
    let mut w = Writer::new();
    v.encode(&mut w);
    w.into_vec()
}

macro_rules! xdr_primitive {
    ($ty:ty, $size:expr, $get:ident, $put:ident) => {
        impl Xdr for $ty {
            const MIN_SIZE: usize = $size;
            #[inline]
            fn encode(&self, w: &mut Writer) {
                w.$put(*self);
            }
            #[inline]
            fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
                r.$get()
            }
        }
    };
}

xdr_primitive!(u32, 4, u32, u32);
xdr_primitive!(i32, 4, i32, i32);
xdr_primitive!(u64, 8, u64, u64);
xdr_primitive!(i64, 8, i64, i64);
xdr_primitive!(f64, 8, f64, f64);
xdr_primitive!(bool, 4, bool, bool);

/// `void`
impl Xdr for () {
    const MIN_SIZE: usize = 0;
    fn encode(&self, _w: &mut Writer) {}
    fn decode(_r: &mut Reader<'_>) -> Result<Self, XdrError> {
        Ok(())
    }
}

/// `opaque name[N]` (e.g. a UUID).
impl<const N: usize> Xdr for [u8; N] {
    const MIN_SIZE: usize = N + pad_len(N);
    fn encode(&self, w: &mut Writer) {
        w.opaque_fixed(self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        let s = r.opaque_fixed(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
}

/// `string name<DEFAULT_STRING_MAX>` (remote_nonnull_string and friends).
impl Xdr for String {
    fn encode(&self, w: &mut Writer) {
        w.string(self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        r.string(DEFAULT_STRING_MAX)
    }
}

/// `T *name`: optional data.
impl<T: Xdr> Xdr for Option<T> {
    fn encode(&self, w: &mut Writer) {
        w.optional(self.is_some());
        if let Some(v) = self {
            v.encode(w);
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        if r.optional()? {
            T::decode(r).map(Some)
        } else {
            Ok(None)
        }
    }
}

impl XdrBounded for String {
    fn encode_bounded(&self, w: &mut Writer) {
        w.string(self);
    }
    fn decode_bounded(r: &mut Reader<'_>, max: u32) -> Result<Self, XdrError> {
        r.string(max)
    }
}

/// `T name<max>`
impl<T: Xdr> XdrBounded for Vec<T> {
    fn encode_bounded(&self, w: &mut Writer) {
        w.array_len(self.len());
        for v in self {
            v.encode(w);
        }
    }
    fn decode_bounded(r: &mut Reader<'_>, max: u32) -> Result<Self, XdrError> {
        let n = r.array_len(max, T::MIN_SIZE)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::decode(r)?);
        }
        Ok(v)
    }
}

/// `remote_string name` with an explicit maximum, or an optional bounded list.
impl<T: XdrBounded> XdrBounded for Option<T> {
    fn encode_bounded(&self, w: &mut Writer) {
        w.optional(self.is_some());
        if let Some(v) = self {
            v.encode_bounded(w);
        }
    }
    fn decode_bounded(r: &mut Reader<'_>, max: u32) -> Result<Self, XdrError> {
        if r.optional()? {
            T::decode_bounded(r, max).map(Some)
        } else {
            Ok(None)
        }
    }
}
