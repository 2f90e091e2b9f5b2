//! Small value parsers and formatters the domain XML needs: UUIDs (util/viruuid.c), MAC
//! addresses (util/virmacaddr.c), unit suffixes (virScaleInteger in util/virutil.c), disk
//! names (virDiskNameParse) and CPU bitmaps (util/virbitmap.c).
use std::fs::File;
use std::io::Read;

use super::error::ConfError;
use crate::rpc::protocol::{VIR_ERR_INTERNAL_ERROR, VIR_ERR_OVERFLOW, VIR_FROM_NONE};

/// The largest CPU number a cpuset may name (VIR_DOMAIN_CPUMASK_LEN - 1).
pub const VIR_DOMAIN_CPUMASK_LEN: u32 = 16384;

/// The MAC prefix libvirt's Xen driver uses for generated addresses (Xensource OUI).
pub const LIBXL_MAC_PREFIX: [u8; 3] = [0x00, 0x16, 0x3e];

/// Fills `buf` from /dev/urandom.
// C: virRandomBytes
pub fn random_bytes(buf: &mut [u8]) -> Result<(), ConfError> {
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .map_err(|e| ConfError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, format!("unable to read /dev/urandom: {e}")))
}

/// A random version 4 UUID.
// C: virUUIDGenerate
pub fn uuid_generate() -> Result<[u8; 16], ConfError> {
    let mut uuid = [0u8; 16];
    random_bytes(&mut uuid)?;
    uuid[6] = (uuid[6] & 0x0f) | 0x40;
    uuid[8] = (uuid[8] & 0x3f) | 0x80;
    Ok(uuid)
}

/// Parses a UUID the way libvirt accepts it: 32 hex digits, dashes and spaces allowed
/// between byte pairs, surrounding spaces ignored. None when malformed.
// C: virUUIDParse
pub fn uuid_parse(s: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    for slot in out.iter_mut() {
        while i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b' ') {
            i += 1;
        }
        let hi = hex_val(*bytes.get(i)?)?;
        let lo = hex_val(*bytes.get(i + 1)?)?;
        *slot = (hi << 4) | lo;
        i += 2;
    }
    if bytes[i..].iter().all(|b| b.is_ascii_whitespace()) {
        Some(out)
    } else {
        None
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The canonical 36-character form.
// C: virUUIDFormat
pub fn uuid_format(uuid: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in uuid.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Parses "aa:bb:cc:dd:ee:ff" (one or two hex digits per byte, ':' or '-' separated).
// C: virMacAddrParse
pub fn mac_parse(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for slot in out.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        *slot = u8::from_str_radix(p, 16).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(out)
}

/// "00:16:3e:ab:cd:ef".
// C: virMacAddrFormat
pub fn mac_format(mac: &[u8; 6]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// A random address under the Xen prefix.
// C: virMacAddrGenerate
pub fn mac_generate() -> Result<[u8; 6], ConfError> {
    let mut tail = [0u8; 3];
    random_bytes(&mut tail)?;
    let p = LIBXL_MAC_PREFIX;
    Ok([p[0], p[1], p[2], tail[0], tail[1], tail[2]])
}

/// Multiplies `value` by the unit `suffix` names (KiB when absent, with `scale` the factor
/// of "no suffix"), refusing results above `limit`.
// C: virScaleInteger
pub fn scale_integer(value: u64, suffix: Option<&str>, scale: u64, limit: u64) -> Result<u64, ConfError> {
    let (factor, shown) = match suffix {
        None | Some("") => (scale, ""),
        Some(s) => {
            let lower = s.to_ascii_lowercase();
            if lower == "b" || lower == "byte" || lower == "bytes" {
                (1, s)
            } else {
                let mut chars = s.chars();
                let first = chars.next().map(|c| c.to_ascii_lowercase());
                let rest: String = chars.collect();
                let base: u64 = if rest.is_empty() || rest.eq_ignore_ascii_case("ib") {
                    1024
                } else if rest.eq_ignore_ascii_case("b") {
                    1000
                } else {
                    return Err(unknown_suffix(s));
                };
                let power = match first {
                    Some('k') => 1,
                    Some('m') => 2,
                    Some('g') => 3,
                    Some('t') => 4,
                    Some('p') => 5,
                    Some('e') => 6,
                    _ => return Err(unknown_suffix(s)),
                };
                (base.pow(power), s)
            }
        }
    };
    if value != 0 && value > limit / factor {
        return Err(ConfError::new(VIR_ERR_OVERFLOW, VIR_FROM_NONE, format!("value too large: {value}{shown}")));
    }
    Ok(value * factor)
}

fn unknown_suffix(s: &str) -> ConfError {
    ConfError::invalid_arg(format!("unknown suffix '{s}'"))
}

/// The disk index a target name encodes ("hda" 0, "xvdb" 1, "sdaa" 26), with the optional
/// partition number after it; None for names of no known prefix.
// C: virDiskNameParse
pub fn disk_name_parse(name: &str) -> Option<(u32, u32)> {
    const PREFIXES: [&str; 6] = ["fd", "hd", "vd", "sd", "xvd", "ubd"];
    let rest = PREFIXES.iter().find_map(|p| name.strip_prefix(p))?;
    let letters = rest.bytes().take_while(u8::is_ascii_lowercase).count();
    let mut idx: u32 = 0;
    for (i, c) in rest.bytes().take(letters).enumerate() {
        let carry = if i < 1 { 0 } else { 1 };
        idx = idx.checked_add(carry)?.checked_mul(26)?.checked_add(u32::from(c - b'a'))?;
    }
    let digits = &rest[letters..];
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let partition = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    Some((idx, partition))
}

/// The disk index of a target name, None when the name is not one libvirt knows.
// C: virDiskNameToIndex
pub fn disk_name_to_index(name: &str) -> Option<u32> {
    disk_name_parse(name).map(|(idx, _)| idx)
}

/// A set of CPU numbers, kept sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    bits: Vec<u32>,
}

impl Bitmap {
    /// Parses libvirt's list syntax ("0-3,^2,8") with numbers below `size`.
    // C: virBitmapParse
    pub fn parse(s: &str, size: u32) -> Result<Bitmap, ConfError> {
        let fail = || ConfError::invalid_arg(format!("Failed to parse bitmap '{s}'"));
        let mut set = vec![false; size as usize];
        let mut any = false;
        for item in s.split(',') {
            let item = item.trim_start();
            if item.is_empty() {
                return Err(fail());
            }
            let (neg, body) = match item.strip_prefix('^') {
                Some(b) => (true, b),
                None => (false, item),
            };
            let body = body.trim_end();
            let (lo, hi) = match body.split_once('-') {
                Some((a, b)) if !neg => (parse_cpu(a, size), parse_cpu(b, size)),
                Some(_) => (None, None),
                None => (parse_cpu(body, size), parse_cpu(body, size)),
            };
            let (Some(lo), Some(hi)) = (lo, hi) else {
                return Err(fail());
            };
            if lo > hi {
                return Err(fail());
            }
            for cpu in lo..=hi {
                set[cpu as usize] = !neg;
            }
            any = true;
        }
        if !any {
            return Err(fail());
        }
        let bits = (0..size).filter(|&i| set[i as usize]).collect();
        Ok(Bitmap { bits })
    }

    /// A bitmap holding exactly `bits` (sorted and deduplicated here).
    pub fn from_bits(mut bits: Vec<u32>) -> Bitmap {
        bits.sort_unstable();
        bits.dedup();
        Bitmap { bits }
    }

    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    pub fn bits(&self) -> &[u32] {
        &self.bits
    }

    /// "0-1,3,8".
    // C: virBitmapFormat
    pub fn format(&self) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < self.bits.len() {
            let start = self.bits[i];
            let mut end = start;
            while i + 1 < self.bits.len() && self.bits[i + 1] == end + 1 {
                i += 1;
                end += 1;
            }
            if !out.is_empty() {
                out.push(',');
            }
            if start == end {
                out.push_str(&start.to_string());
            } else {
                out.push_str(&format!("{start}-{end}"));
            }
            i += 1;
        }
        out
    }
}

fn parse_cpu(s: &str, size: u32) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: u32 = s.parse().ok()?;
    (v < size).then_some(v)
}

#[cfg(test)]
#[path = "conf_util_tests.rs"]
mod tests;
