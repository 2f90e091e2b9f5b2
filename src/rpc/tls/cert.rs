//! x509 certificate checks: start-up sanity of our own credentials, the checks of a client's
//! certificate after the handshake, and the Distinguished Name text and ACL globs (libvirt's
//! rpc/virnettlscert.c and the check half of rpc/virnettlscontext.c).

use std::ffi::c_int;
use std::path::Path;

use openssl::asn1::Asn1Time;
use openssl::x509::{X509NameRef, X509Ref, X509StoreContext, X509};

use super::TlsError;

/// At most this many certificates of a CA file are checked (libvirt's MAX_CERTS).
pub const MAX_CERTS: usize = 16;

/// Which end a certificate is for, as the messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertRole {
    Ca,
    Server,
    Client,
}

impl CertRole {
    fn name(self) -> &'static str {
        match self {
            CertRole::Ca => "CA",
            CertRole::Server => "server",
            CertRole::Client => "client",
        }
    }
}

/// The extension facts the checks need, read from OpenSSL's cache of the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CertFlags {
    /// basicConstraints says CA:TRUE.
    pub is_ca: bool,
    /// keyUsage bits (X509v3_KU_*) if the extension is present, and its criticality.
    pub key_usage: Option<(u32, bool)>,
    /// extendedKeyUsage bits (XKU_*) if present, and its criticality.
    pub ext_key_usage: Option<(u32, bool)>,
}

const KU_DIGITAL_SIGNATURE: u32 = openssl_sys::X509v3_KU_DIGITAL_SIGNATURE;
const KU_KEY_ENCIPHERMENT: u32 = openssl_sys::X509v3_KU_KEY_ENCIPHERMENT;
const KU_KEY_CERT_SIGN: u32 = openssl_sys::X509v3_KU_KEY_CERT_SIGN;
const XKU_SSL_SERVER: u32 = openssl_sys::XKU_SSL_SERVER;
const XKU_SSL_CLIENT: u32 = openssl_sys::XKU_SSL_CLIENT;
const XKU_ANYEKU: u32 = openssl_sys::XKU_ANYEKU;

/// A private copy of a certificate as a raw OpenSSL object, freed on drop: the safe API has
/// no accessors for the extension flags, so they are read through openssl-sys.
struct RawX509(*mut openssl_sys::X509);

impl RawX509 {
    fn from_cert(cert: &X509Ref) -> Option<RawX509> {
        let der = cert.to_der().ok()?;
        let mut p = der.as_ptr();
        let len = libc::c_long::try_from(der.len()).ok()?;
        // SAFETY: d2i_X509 reads at most `len` bytes from `p`, which points into `der`
        // (alive for the call); it returns a new object we own, or NULL.
        let x = unsafe { openssl_sys::d2i_X509(std::ptr::null_mut(), &mut p, len) };
        (!x.is_null()).then_some(RawX509(x))
    }

    fn ext_critical(&self, nid: c_int) -> bool {
        // SAFETY: self.0 is a valid X509; the extension pointer is owned by it and only
        // read here.
        unsafe {
            let idx = openssl_sys::X509_get_ext_by_NID(self.0, nid, -1);
            if idx < 0 {
                return false;
            }
            let ext = openssl_sys::X509_get_ext(self.0, idx);
            !ext.is_null() && openssl_sys::X509_EXTENSION_get_critical(ext) > 0
        }
    }

    fn flags(&self) -> CertFlags {
        // SAFETY: self.0 is a valid X509; these calls fill and read its extension cache.
        let (exflags, ku, xku) = unsafe {
            (
                openssl_sys::X509_get_extension_flags(self.0),
                openssl_sys::X509_get_key_usage(self.0),
                openssl_sys::X509_get_extended_key_usage(self.0),
            )
        };
        CertFlags {
            is_ca: exflags & openssl_sys::EXFLAG_CA != 0,
            key_usage: (exflags & openssl_sys::EXFLAG_KUSAGE != 0).then(|| (ku, self.ext_critical(openssl_sys::NID_key_usage))),
            ext_key_usage: (exflags & openssl_sys::EXFLAG_XKUSAGE != 0).then(|| (xku, self.ext_critical(openssl_sys::NID_ext_key_usage))),
        }
    }
}

impl Drop for RawX509 {
    fn drop(&mut self) {
        // SAFETY: we own the object made by d2i_X509 and free it exactly once.
        unsafe { openssl_sys::X509_free(self.0) }
    }
}

pub fn cert_flags(cert: &X509Ref) -> CertFlags {
    RawX509::from_cert(cert).map(|r| r.flags()).unwrap_or_default()
}

/// Problems found with a certificate: fatal ones, and warnings that are only logged.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl Findings {
    fn add(&mut self, fatal: bool, msg: String) {
        if fatal {
            self.errors.push(msg);
        } else {
            self.warnings.push(msg);
        }
    }
}

/// Basic constraints, key usage and extended key usage of a certificate for `role`. A
/// missing usage bit is fatal only when its extension is marked critical.
// C: virNetTLSCertCheckBasicConstraints + virNetTLSCertCheckKeyUsage + virNetTLSCertCheckKeyPurpose
pub fn check_usage(flags: &CertFlags, role: CertRole, what: &str) -> Findings {
    let mut f = Findings::default();
    let r = role.name();
    match role {
        CertRole::Ca if !flags.is_ca => {
            f.errors.push(format!("The certificate {what} basic constraints do not show a CA"));
        }
        CertRole::Server | CertRole::Client if flags.is_ca => {
            f.errors.push(format!("The certificate {what} basic constraints show a CA, but a {r} certificate is needed"));
        }
        _ => {}
    }
    if let Some((ku, critical)) = flags.key_usage {
        let need: &[(u32, &str)] = match role {
            CertRole::Ca => &[(KU_KEY_CERT_SIGN, "certificate signing")],
            _ => &[(KU_DIGITAL_SIGNATURE, "digital signature"), (KU_KEY_ENCIPHERMENT, "key encipherment")],
        };
        for (bit, name) in need {
            if ku & bit == 0 {
                f.add(critical, format!("Certificate {what} usage does not permit {name}"));
            }
        }
    }
    if role != CertRole::Ca {
        if let Some((xku, critical)) = flags.ext_key_usage {
            let want = if role == CertRole::Server { XKU_SSL_SERVER } else { XKU_SSL_CLIENT };
            if xku & (want | XKU_ANYEKU) == 0 {
                f.add(critical, format!("Certificate {what} purpose does not allow use for a TLS WWW {r}"));
            }
        }
    }
    f
}

/// Whether `now` lies within the certificate's validity period.
// C: virNetTLSCertCheckTimes
pub fn check_times(cert: &X509Ref, role: CertRole, what: &str) -> Result<(), String> {
    let now = Asn1Time::days_from_now(0).map_err(|e| e.to_string())?;
    if cert.not_after() < now {
        return Err(format!("The {} certificate {what} has expired", role.name()));
    }
    if cert.not_before() > now {
        return Err(format!("The {} certificate {what} is not yet active", role.name()));
    }
    Ok(())
}

/// Reads every certificate of a PEM file (a CA file may hold several).
pub fn load_certs(path: &Path) -> Result<Vec<X509>, TlsError> {
    let pem = std::fs::read(path).map_err(|e| TlsError::Read { path: path.to_path_buf(), err: crate::util::strerror(&e) })?;
    let certs = X509::stack_from_pem(&pem).map_err(|e| TlsError::Parse { path: path.to_path_buf(), err: e.to_string() })?;
    if certs.is_empty() {
        return Err(TlsError::Parse { path: path.to_path_buf(), err: "no certificate found".into() });
    }
    Ok(certs)
}

/// Start-up sanity of our credentials: the CA certificates and our own within their validity
/// and usable for their role, and ours signed by one of the CAs.
// C: virNetTLSContextSanityCheckCredentials
pub fn sanity_check(cert: &X509Ref, cert_path: &Path, cas: &[X509], ca_path: &Path) -> Findings {
    let mut f = Findings::default();
    let cert_what = cert_path.display().to_string();
    let ca_what = ca_path.display().to_string();
    if let Err(e) = check_times(cert, CertRole::Server, &cert_what) {
        f.errors.push(e);
    }
    let u = check_usage(&cert_flags(cert), CertRole::Server, &cert_what);
    f.errors.extend(u.errors);
    f.warnings.extend(u.warnings);
    for ca in cas.iter().take(MAX_CERTS) {
        if let Err(e) = check_times(ca, CertRole::Ca, &ca_what) {
            f.errors.push(e);
        }
        let u = check_usage(&cert_flags(ca), CertRole::Ca, &ca_what);
        f.errors.extend(u.errors);
        f.warnings.extend(u.warnings);
    }
    if let Err(e) = verify_against(cert, cas) {
        f.errors.push(format!("The server certificate {cert_what} is not signed by the CA in {ca_what}: {e}"));
    }
    f
}

/// Verifies a certificate's chain against the given CA certificates.
fn verify_against(cert: &X509Ref, cas: &[X509]) -> Result<(), String> {
    let mut b = openssl::x509::store::X509StoreBuilder::new().map_err(|e| e.to_string())?;
    for ca in cas {
        b.add_cert(ca.clone()).map_err(|e| e.to_string())?;
    }
    let store = b.build();
    let chain = openssl::stack::Stack::new().map_err(|e| e.to_string())?;
    let mut ctx = X509StoreContext::new().map_err(|e| e.to_string())?;
    let res = ctx.init(&store, cert, &chain, |c| Ok(c.verify_cert()?.then_some(()).ok_or_else(|| c.error()))).map_err(|e| e.to_string())?;
    res.map_err(|e| e.error_string().to_string())
}

/// The name of an attribute as GnuTLS prints it in a DN.
fn attr_name(short: &str) -> &str {
    match short {
        "emailAddress" => "EMAIL",
        other => other,
    }
}

/// Escapes a DN attribute value the RFC 4514 way.
fn escape_value(v: &str, out: &mut String) {
    let n = v.chars().count();
    for (i, c) in v.chars().enumerate() {
        let special =
            matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') || (i == 0 && (c == '#' || c == ' ')) || (i + 1 == n && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The Distinguished Name as libvirt shows it (GnuTLS's gnutls_x509_crt_get_dn): the
/// attributes in certificate order, comma separated, e.g. "C=GB,O=Red Hat,CN=client".
// C: virNetTLSCertCheckDN (the DN text)
pub fn dn_string(name: &X509NameRef) -> String {
    let mut s = String::new();
    for (i, e) in name.entries().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let nid = e.object().nid();
        let short = nid.short_name().map(str::to_string).unwrap_or_else(|_| e.object().to_string());
        s.push_str(attr_name(&short));
        s.push('=');
        match e.data().to_string() {
            Ok(v) => escape_value(&v, &mut s),
            Err(_) => s.push_str(&String::from_utf8_lossy(e.data().as_slice())),
        }
    }
    s
}

pub use crate::util::glob_match;

/// Whether a DN (or SASL user name) is allowed by an ACL of globs; no ACL allows all, an
/// empty one nobody.
pub fn acl_allows(acl: Option<&[String]>, name: &str) -> bool {
    match acl {
        None => true,
        Some(globs) => globs.iter().any(|g| glob_match(g, name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_match_star_and_question_mark() {
        assert!(glob_match("C=GB,*,CN=client", "C=GB,ST=London,O=Red Hat,CN=client"));
        assert!(glob_match("*", ""));
        assert!(glob_match("CN=cli?nt", "CN=client"));
        assert!(!glob_match("CN=cli?nt", "CN=clint"));
        assert!(!glob_match("C=GB,*", "C=FR,CN=x"));
        assert!(glob_match("*@EXAMPLE.COM", "fred@EXAMPLE.COM"));
        assert!(!glob_match("*@EXAMPLE.COM", "fred@EXAMPLE.ORG"));
        assert!(glob_match("a*b*c", "aXXbYYbZc"));
    }

    #[test]
    fn glob_match_brackets_are_literal() {
        assert!(glob_match("CN=[x]", "CN=[x]"));
        assert!(!glob_match("CN=[x]", "CN=x"));
    }

    #[test]
    fn acl_allows_none_all_empty_nobody() {
        assert!(acl_allows(None, "anyone"));
        assert!(!acl_allows(Some(&[]), "anyone"));
        assert!(acl_allows(Some(&["fred".to_string(), "j*".to_string()]), "jim"));
    }

    #[test]
    fn dn_string_keeps_certificate_order_and_escapes() {
        let mut b = openssl::x509::X509NameBuilder::new().unwrap();
        b.append_entry_by_text("C", "GB").unwrap();
        b.append_entry_by_text("ST", "London").unwrap();
        b.append_entry_by_text("O", "Red Hat, Inc").unwrap();
        b.append_entry_by_text("CN", "client").unwrap();
        b.append_entry_by_text("emailAddress", "a@b").unwrap();
        let n = b.build();
        assert_eq!(dn_string(&n), "C=GB,ST=London,O=Red Hat\\, Inc,CN=client,EMAIL=a@b");
    }

    #[test]
    fn check_usage_leaf_ca_is_fatal() {
        let f = CertFlags { is_ca: true, ..CertFlags::default() };
        assert_eq!(check_usage(&f, CertRole::Server, "s.pem").errors.len(), 1);
        assert!(check_usage(&f, CertRole::Ca, "ca.pem").errors.is_empty());
    }

    #[test]
    fn check_usage_missing_bit_fatal_only_when_critical() {
        let ku = |critical| CertFlags { key_usage: Some((KU_DIGITAL_SIGNATURE, critical)), ..CertFlags::default() };
        let f = check_usage(&ku(true), CertRole::Server, "s.pem");
        assert_eq!((f.errors.len(), f.warnings.len()), (1, 0));
        let f = check_usage(&ku(false), CertRole::Server, "s.pem");
        assert_eq!((f.errors.len(), f.warnings.len()), (0, 1));
    }

    #[test]
    fn check_usage_client_purpose_on_server_refused() {
        let f = CertFlags { ext_key_usage: Some((XKU_SSL_CLIENT, true)), ..CertFlags::default() };
        assert!(!check_usage(&f, CertRole::Server, "s.pem").errors.is_empty());
        assert!(check_usage(&f, CertRole::Client, "c.pem").errors.is_empty());
    }

    #[test]
    fn check_usage_ca_without_cert_sign_refused() {
        let f = CertFlags { is_ca: true, key_usage: Some((KU_DIGITAL_SIGNATURE, true)), ..CertFlags::default() };
        assert!(!check_usage(&f, CertRole::Ca, "ca.pem").errors.is_empty());
    }
}
