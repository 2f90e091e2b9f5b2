//! `tls_priority`: GnuTLS priority strings mapped onto OpenSSL settings (libvirt hands the
//! string to gnutls_priority_set_direct in rpc/virnettlscontext.c; OpenSSL has no such
//! language, so the common keywords and the protocol-version modifiers are translated and
//! anything else is refused at start-up rather than silently ignored).
//!
//! | GnuTLS | OpenSSL |
//! |---|---|
//! | `NORMAL`, `PERFORMANCE`, `SYSTEM`, `@SYSTEM`, `@LIBVIRT,SYSTEM` | TLS 1.2-1.3, cipher list `DEFAULT` |
//! | `SECURE128`, `PFS` | TLS 1.2-1.3, forward-secret AEAD ciphers only |
//! | `SECURE192`, `SECURE256` | as SECURE128 without 128-bit ciphers |
//! | `NONE` | no version enabled until a `+VERS-...` adds one |
//! | `+VERS-TLS1.x` / `-VERS-TLS1.x` (x = 0..3), `+VERS-ALL`, `-VERS-ALL`, `!` for `-` | enable/disable; the lowest and highest enabled become OpenSSL's min/max version |
//! | `%FLAG` | accepted, no effect |

use std::fmt;

use openssl::ssl::SslVersion;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriorityError {
    UnknownKeyword(String),
    UnknownToken(String),
    NoVersion,
}

impl fmt::Display for PriorityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PriorityError::UnknownKeyword(k) => write!(f, "unsupported TLS priority keyword '{k}' (tls_priority)"),
            PriorityError::UnknownToken(t) => write!(f, "unsupported TLS priority element '{t}' (tls_priority)"),
            PriorityError::NoVersion => write!(f, "tls_priority leaves no TLS protocol version enabled"),
        }
    }
}

/// TLS versions in order; index i is TLS 1.i.
const VERSIONS: [SslVersion; 4] = [SslVersion::TLS1, SslVersion::TLS1_1, SslVersion::TLS1_2, SslVersion::TLS1_3];

const CIPHERS_DEFAULT: &str = "DEFAULT";
const CIPHERS_SECURE128: &str = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL";
const CIPHERS_SECURE256: &str = "ECDHE+AES256+AESGCM:ECDHE+CHACHA20:DHE+AES256+AESGCM:DHE+CHACHA20:!aNULL";
const SUITES_SECURE256: &str = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

/// What a priority string means for OpenSSL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPriority {
    pub min: SslVersion,
    pub max: SslVersion,
    /// Cipher list for TLS <= 1.2.
    pub ciphers: &'static str,
    /// TLS 1.3 ciphersuites, when not OpenSSL's default.
    pub suites: Option<&'static str>,
}

impl Default for TlsPriority {
    fn default() -> TlsPriority {
        TlsPriority { min: SslVersion::TLS1_2, max: SslVersion::TLS1_3, ciphers: CIPHERS_DEFAULT, suites: None }
    }
}

fn version_index(name: &str) -> Option<usize> {
    match name {
        "TLS1.0" => Some(0),
        "TLS1.1" => Some(1),
        "TLS1.2" => Some(2),
        "TLS1.3" => Some(3),
        _ => None,
    }
}

/// Translates a GnuTLS priority string; None (the key unset) gives the defaults.
pub fn parse_priority(s: Option<&str>) -> Result<TlsPriority, PriorityError> {
    let Some(s) = s else { return Ok(TlsPriority::default()) };
    let mut tokens = s.split(':').map(str::trim);
    let keyword = tokens.next().unwrap_or("");
    let mut enabled = [false, false, true, true];
    let (ciphers, suites) = match keyword {
        "NORMAL" | "PERFORMANCE" | "SYSTEM" | "@SYSTEM" | "@LIBVIRT,SYSTEM" | "@LIBVIRT" => (CIPHERS_DEFAULT, None),
        "SECURE128" | "PFS" | "SECURE" => (CIPHERS_SECURE128, None),
        "SECURE192" | "SECURE256" => (CIPHERS_SECURE256, Some(SUITES_SECURE256)),
        "NONE" => {
            enabled = [false; 4];
            (CIPHERS_DEFAULT, None)
        }
        other => return Err(PriorityError::UnknownKeyword(other.to_string())),
    };
    for t in tokens {
        if t.is_empty() || t.starts_with('%') {
            continue;
        }
        let (on, rest) = match t.as_bytes()[0] {
            b'+' => (true, &t[1..]),
            b'-' | b'!' => (false, &t[1..]),
            _ => return Err(PriorityError::UnknownToken(t.to_string())),
        };
        let Some(v) = rest.strip_prefix("VERS-") else { return Err(PriorityError::UnknownToken(t.to_string())) };
        if v == "ALL" || v == "TLS-ALL" {
            enabled = [on; 4];
        } else if let Some(i) = version_index(v) {
            enabled[i] = on;
        } else {
            return Err(PriorityError::UnknownToken(t.to_string()));
        }
    }
    let lo = enabled.iter().position(|e| *e).ok_or(PriorityError::NoVersion)?;
    let hi = enabled.iter().rposition(|e| *e).ok_or(PriorityError::NoVersion)?;
    Ok(TlsPriority { min: VERSIONS[lo], max: VERSIONS[hi], ciphers, suites })
}

/// Fuzz entry point (fuzz/fuzz_targets/tls_priority.rs, replayed by t/fuzz_corpus.rs): any
/// string gives a priority or an error, and a priority always has min <= max.
pub fn fuzz_target(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Ok(p) = parse_priority(Some(&s)) {
        assert!(VERSIONS.iter().position(|v| *v == p.min) <= VERSIONS.iter().position(|v| *v == p.max));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_priority_unset_is_tls12_to_13() {
        let p = parse_priority(None).unwrap();
        assert_eq!((p.min, p.max), (SslVersion::TLS1_2, SslVersion::TLS1_3));
    }

    #[test]
    fn parse_priority_normal_minus_tls13_caps_at_12() {
        let p = parse_priority(Some("NORMAL:-VERS-TLS1.3")).unwrap();
        assert_eq!((p.min, p.max), (SslVersion::TLS1_2, SslVersion::TLS1_2));
    }

    #[test]
    fn parse_priority_none_plus_one_version() {
        let p = parse_priority(Some("NONE:+VERS-TLS1.3")).unwrap();
        assert_eq!((p.min, p.max), (SslVersion::TLS1_3, SslVersion::TLS1_3));
    }

    #[test]
    fn parse_priority_fedora_default_accepted() {
        assert_eq!(parse_priority(Some("@LIBVIRT,SYSTEM")).unwrap(), TlsPriority::default());
    }

    #[test]
    fn parse_priority_secure256_restricts_ciphers() {
        let p = parse_priority(Some("SECURE256:%SERVER_PRECEDENCE")).unwrap();
        assert_eq!(p.ciphers, CIPHERS_SECURE256);
        assert_eq!(p.suites, Some(SUITES_SECURE256));
    }

    #[test]
    fn parse_priority_unknown_keyword_refused() {
        assert_eq!(parse_priority(Some("BOGUS")), Err(PriorityError::UnknownKeyword("BOGUS".into())));
    }

    #[test]
    fn parse_priority_unknown_element_refused() {
        assert!(matches!(parse_priority(Some("NORMAL:+AES-128-CBC")), Err(PriorityError::UnknownToken(_))));
        assert!(matches!(parse_priority(Some("NORMAL:VERS-TLS1.2")), Err(PriorityError::UnknownToken(_))));
    }

    #[test]
    fn parse_priority_all_disabled_refused() {
        assert_eq!(parse_priority(Some("NORMAL:-VERS-ALL")), Err(PriorityError::NoVersion));
    }
}
