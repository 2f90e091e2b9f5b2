//! TLS for the TLS listener: x509 credentials, the server context and per-client sessions
//! whose handshake runs inside the poll loop (libvirt's rpc/virnettlscontext.c and
//! rpc/virnettlsconfig.c, on OpenSSL instead of GnuTLS).
//!
//! A session is accepted non-blocking; the loop calls `TlsStream::handshake` on each
//! readiness edge until it completes, then `TlsContext::check_peer` verifies the client's
//! certificate and DN, and the client is sent the single byte 1 that libvirt clients wait
//! for before any RPC.

pub mod cert;
pub mod priority;

use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use openssl::ssl::{ErrorCode, Ssl, SslContext, SslContextBuilder, SslFiletype, SslMethod, SslStream, SslVerifyMode};
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::X509PurposeId;
use openssl::x509::X509VerifyResult;

pub use cert::{acl_allows, dn_string, glob_match};
pub use priority::{parse_priority, TlsPriority};

pub const LIBVIRT_CACERT: &str = "/etc/pki/CA/cacert.pem";
pub const LIBVIRT_CACRL: &str = "/etc/pki/CA/cacrl.pem";
pub const LIBVIRT_SERVERCERT: &str = "/etc/pki/libvirt/servercert.pem";
pub const LIBVIRT_SERVERKEY: &str = "/etc/pki/libvirt/private/serverkey.pem";

/// A client that has not finished its TLS handshake by then is dropped.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The byte sent inside TLS once the client's certificate passed the checks.
pub const TLS_CHECK_OK_BYTE: u8 = 1;

#[derive(Debug)]
pub enum TlsError {
    Missing { what: &'static str, path: PathBuf },
    KeyWithoutCert { key: PathBuf, cert: PathBuf },
    Read { path: PathBuf, err: String },
    Parse { path: PathBuf, err: String },
    Key { path: PathBuf, err: String },
    KeyMismatch { key: PathBuf, cert: PathBuf },
    Priority(priority::PriorityError),
    Insane(Vec<String>),
    Setup(String),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Missing { what, path } => write!(f, "{what} '{}' does not exist", path.display()),
            TlsError::KeyWithoutCert { key, cert } => {
                write!(f, "Certificate '{}' does not exist, but key '{}' does", cert.display(), key.display())
            }
            TlsError::Read { path, err } => write!(f, "Unable to read '{}': {err}", path.display()),
            TlsError::Parse { path, err } => write!(f, "Unable to import certificate '{}': {err}", path.display()),
            TlsError::Key { path, err } => write!(f, "Unable to import private key '{}': {err}", path.display()),
            TlsError::KeyMismatch { key, cert } => {
                write!(f, "The private key '{}' does not match the certificate '{}'", key.display(), cert.display())
            }
            TlsError::Priority(e) => write!(f, "{e}"),
            TlsError::Insane(errs) => write!(f, "{}", errs.join("; ")),
            TlsError::Setup(e) => write!(f, "Unable to set up TLS: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

fn setup_err(e: openssl::error::ErrorStack) -> TlsError {
    TlsError::Setup(e.to_string())
}

/// The four credential files of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    /// None: no CRL (the default CRL file does not exist).
    pub crl: Option<PathBuf>,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// The default locations: a root daemon uses the system PKI paths; others look in
    /// `$HOME/.pki/libvirt/` first, file by file for the CA (and CRL), and as a pair for the
    /// certificate and key, falling back to the system paths.
    // C: virNetTLSConfigUserCreds + virNetTLSConfigSystemCreds
    pub fn locate(privileged: bool, home: Option<&Path>) -> Result<TlsFiles, TlsError> {
        let mut ca = None;
        let mut crl = None;
        let mut pair = None;
        if let (false, Some(h)) = (privileged, home) {
            let dir = h.join(".pki/libvirt");
            let (c, r) = (dir.join("cacert.pem"), dir.join("cacrl.pem"));
            if c.exists() {
                ca = Some(c);
            }
            if r.exists() {
                crl = Some(r);
            }
            let (cert, key) = (dir.join("servercert.pem"), dir.join("serverkey.pem"));
            if cert.exists() {
                if !key.exists() {
                    return Err(TlsError::Missing { what: "Key", path: key });
                }
                pair = Some((cert, key));
            } else if key.exists() {
                return Err(TlsError::KeyWithoutCert { key, cert });
            }
        }
        let ca = ca.unwrap_or_else(|| PathBuf::from(LIBVIRT_CACERT));
        if crl.is_none() && ca == Path::new(LIBVIRT_CACERT) && Path::new(LIBVIRT_CACRL).exists() {
            crl = Some(PathBuf::from(LIBVIRT_CACRL));
        }
        let (cert, key) = pair.unwrap_or_else(|| (PathBuf::from(LIBVIRT_SERVERCERT), PathBuf::from(LIBVIRT_SERVERKEY)));
        Ok(TlsFiles { ca, crl, cert, key })
    }

    fn check_exist(&self) -> Result<(), TlsError> {
        if !self.ca.exists() {
            return Err(TlsError::Missing { what: "CA certificate", path: self.ca.clone() });
        }
        if !self.cert.exists() {
            return Err(TlsError::Missing { what: "Certificate", path: self.cert.clone() });
        }
        if !self.key.exists() {
            return Err(TlsError::Missing { what: "Key", path: self.key.clone() });
        }
        Ok(())
    }
}

/// Everything a server context is built from (the TLS keys of virtproxyd.conf).
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub files: TlsFiles,
    pub no_sanity: bool,
    pub no_verify: bool,
    pub allowed_dn: Option<Vec<String>>,
    pub priority: Option<String>,
}

/// A server TLS context: OpenSSL's SSL_CTX plus the client checks it implies.
pub struct TlsContext {
    ctx: SslContext,
    pub settings: TlsSettings,
}

impl fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsContext").field("settings", &self.settings).finish()
    }
}

/// Outcome of one handshake attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum HandshakeStep {
    Done,
    /// OpenSSL waits for the socket; the next readiness edge continues.
    Pending,
    Failed(String),
}

impl TlsContext {
    /// Loads and checks the credentials and builds the SSL_CTX.
    // C: virNetTLSContextNewServer + virNetTLSContextNew
    pub fn new(settings: TlsSettings) -> Result<TlsContext, TlsError> {
        let prio = parse_priority(settings.priority.as_deref()).map_err(TlsError::Priority)?;
        let files = &settings.files;
        files.check_exist()?;
        let cas = cert::load_certs(&files.ca)?;
        let chain = cert::load_certs(&files.cert)?;
        let key_pem = std::fs::read(&files.key).map_err(|e| TlsError::Read { path: files.key.clone(), err: crate::util::strerror(&e) })?;
        let key = openssl::pkey::PKey::private_key_from_pem(&key_pem)
            .map_err(|e| TlsError::Key { path: files.key.clone(), err: e.to_string() })?;
        if !settings.no_sanity {
            let f = cert::sanity_check(&chain[0], &files.cert, &cas, &files.ca);
            for w in &f.warnings {
                log::warn!("{w}");
            }
            if !f.errors.is_empty() {
                return Err(TlsError::Insane(f.errors));
            }
        }

        let mut b = SslContextBuilder::new(SslMethod::tls_server()).map_err(setup_err)?;
        b.set_min_proto_version(Some(prio.min)).map_err(setup_err)?;
        b.set_max_proto_version(Some(prio.max)).map_err(setup_err)?;
        b.set_cipher_list(prio.ciphers).map_err(setup_err)?;
        if let Some(s) = prio.suites {
            b.set_ciphersuites(s).map_err(setup_err)?;
        }
        b.set_certificate(&chain[0]).map_err(setup_err)?;
        for extra in chain.iter().skip(1) {
            b.add_extra_chain_cert(extra.clone()).map_err(setup_err)?;
        }
        b.set_private_key(&key).map_err(setup_err)?;
        if b.check_private_key().is_err() {
            return Err(TlsError::KeyMismatch { key: files.key.clone(), cert: files.cert.clone() });
        }
        // Client certificates are verified against the CA (and CRL) with the TLS client
        // purpose; the handshake always completes so that the reason can be logged and
        // tls_no_verify_certificate honoured afterwards.
        let mut store = X509StoreBuilder::new().map_err(setup_err)?;
        for ca in &cas {
            store.add_cert(ca.clone()).map_err(setup_err)?;
            b.add_client_ca(ca).map_err(setup_err)?;
        }
        if let Some(crl) = &files.crl {
            let lookup = store.add_lookup(X509Lookup::file()).map_err(setup_err)?;
            lookup.load_crl_file(crl, SslFiletype::PEM).map_err(|e| TlsError::Parse { path: crl.clone(), err: e.to_string() })?;
            store.set_flags(X509VerifyFlags::CRL_CHECK).map_err(setup_err)?;
        }
        store.set_purpose(X509PurposeId::SSL_CLIENT).map_err(setup_err)?;
        b.set_verify_cert_store(store.build()).map_err(setup_err)?;
        b.set_verify_callback(SslVerifyMode::PEER, |_ok, _ctx| true);
        // libvirt clients never resume sessions: no tickets to send after the handshake.
        b.set_num_tickets(0).map_err(setup_err)?;
        b.set_session_id_context(b"libvirt").map_err(setup_err)?;
        Ok(TlsContext { ctx: b.build(), settings })
    }

    /// Starts a server session on an accepted socket.
    // C: virNetTLSSessionNew
    pub fn new_session(&self, tcp: mio::net::TcpStream) -> Result<TlsStream, TlsError> {
        let ssl = Ssl::new(&self.ctx).map_err(setup_err)?;
        let ssl = SslStream::new(ssl, tcp).map_err(setup_err)?;
        Ok(TlsStream { ssl, handshake_done: false })
    }

    /// After the handshake: the client's certificate must have verified against our CA
    /// (and CRL), be within its validity, usable by a TLS client, not a CA, and its DN must
    /// be allowed. Ok(dn) when the client may proceed (with tls_no_verify_certificate a
    /// failure is only logged); Err(reason) when it must be dropped.
    // C: virNetTLSContextCheckCertificate + virNetTLSContextValidCertificate
    pub fn check_peer(&self, s: &TlsStream) -> Result<Option<String>, String> {
        let peer = s.ssl.ssl().peer_certificate();
        let dn = peer.as_ref().map(|c| dn_string(c.subject_name()));
        match self.validate_peer(s, peer.as_deref(), dn.as_deref()) {
            Ok(()) => Ok(dn),
            Err(reason) if self.settings.no_verify => {
                log::warn!("Ignoring bad certificate at user request: {reason}");
                Ok(dn)
            }
            Err(reason) => Err(reason),
        }
    }

    fn validate_peer(&self, s: &TlsStream, peer: Option<&openssl::x509::X509Ref>, dn: Option<&str>) -> Result<(), String> {
        let (Some(peer), Some(dn)) = (peer, dn) else {
            return Err("the client did not send a certificate".to_string());
        };
        let vr = s.ssl.ssl().verify_result();
        if vr != X509VerifyResult::OK {
            return Err(format!("the client certificate '{dn}' failed verification: {}", vr.error_string()));
        }
        let u = cert::check_usage(&cert::cert_flags(peer), cert::CertRole::Client, &format!("'{dn}'"));
        for w in &u.warnings {
            log::warn!("{w}");
        }
        if let Some(e) = u.errors.into_iter().next() {
            return Err(e);
        }
        if !acl_allows(self.settings.allowed_dn.as_deref(), dn) {
            return Err(format!("Client's Distinguished Name '{dn}' is not on the list of allowed clients (tls_allowed_dn_list)"));
        }
        Ok(())
    }
}

/// A client's TLS session over its TCP socket.
pub struct TlsStream {
    ssl: SslStream<mio::net::TcpStream>,
    pub handshake_done: bool,
}

impl fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream").field("fd", &self.raw_fd()).field("handshake_done", &self.handshake_done).finish()
    }
}

impl TlsStream {
    /// Continues the server handshake.
    // C: virNetTLSSessionHandshake
    pub fn handshake(&mut self) -> HandshakeStep {
        match self.ssl.accept() {
            Ok(()) => {
                self.handshake_done = true;
                HandshakeStep::Done
            }
            Err(e) if matches!(e.code(), ErrorCode::WANT_READ | ErrorCode::WANT_WRITE) => HandshakeStep::Pending,
            Err(e) => {
                let why = match (e.ssl_error(), e.io_error()) {
                    (Some(stack), _) => stack.to_string(),
                    (None, Some(io)) => crate::util::strerror(io),
                    (None, None) => "the peer closed the connection".to_string(),
                };
                HandshakeStep::Failed(why)
            }
        }
    }

    /// The negotiated cipher's key size in bits (what SASL is told as external SSF).
    // C: virNetTLSSessionGetKeySize
    pub fn key_bits(&self) -> u32 {
        self.ssl.ssl().current_cipher().map(|c| c.bits().secret.max(0) as u32).unwrap_or(0)
    }

    pub fn tcp(&self) -> &mio::net::TcpStream {
        self.ssl.get_ref()
    }

    pub fn raw_fd(&self) -> RawFd {
        self.ssl.get_ref().as_raw_fd()
    }

    /// Decrypted bytes OpenSSL holds that the socket will not announce again.
    pub fn pending(&self) -> usize {
        self.ssl.ssl().pending()
    }

    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.ssl.read(buf)
    }

    /// Writes from one buffer: OpenSSL wants a retried write to carry the same bytes, which
    /// holds since the output queue only advances on success.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.ssl.write(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_root_uses_system_paths() {
        let f = TlsFiles::locate(true, Some(Path::new("/nonexistent-home"))).unwrap();
        assert_eq!(f.ca, PathBuf::from(LIBVIRT_CACERT));
        assert_eq!(f.cert, PathBuf::from(LIBVIRT_SERVERCERT));
        assert_eq!(f.key, PathBuf::from(LIBVIRT_SERVERKEY));
    }

    #[test]
    fn locate_user_pki_dir_preferred_per_file() {
        let d = std::env::temp_dir().join(format!("vl-tls-loc-{}", std::process::id()));
        let pki = d.join(".pki/libvirt");
        std::fs::create_dir_all(&pki).unwrap();
        std::fs::write(pki.join("cacert.pem"), "x").unwrap();
        let f = TlsFiles::locate(false, Some(&d)).unwrap();
        assert_eq!(f.ca, pki.join("cacert.pem"));
        assert_eq!(f.cert, PathBuf::from(LIBVIRT_SERVERCERT));
        std::fs::write(pki.join("servercert.pem"), "x").unwrap();
        std::fs::write(pki.join("serverkey.pem"), "x").unwrap();
        let f = TlsFiles::locate(false, Some(&d)).unwrap();
        assert_eq!((f.cert, f.key), (pki.join("servercert.pem"), pki.join("serverkey.pem")));
        std::fs::remove_file(pki.join("servercert.pem")).unwrap();
        assert!(matches!(TlsFiles::locate(false, Some(&d)), Err(TlsError::KeyWithoutCert { .. })));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn context_missing_ca_names_file() {
        let s = TlsSettings {
            files: TlsFiles {
                ca: PathBuf::from("/nonexistent/ca.pem"),
                crl: None,
                cert: PathBuf::from("/nonexistent/c.pem"),
                key: PathBuf::from("/nonexistent/k.pem"),
            },
            no_sanity: false,
            no_verify: false,
            allowed_dn: None,
            priority: None,
        };
        let e = TlsContext::new(s).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn context_bad_priority_refused_first() {
        let s = TlsSettings {
            files: TlsFiles { ca: "/x".into(), crl: None, cert: "/y".into(), key: "/z".into() },
            no_sanity: false,
            no_verify: false,
            allowed_dn: None,
            priority: Some("NORMAL:+WEIRD".into()),
        };
        assert!(matches!(TlsContext::new(s), Err(TlsError::Priority(_))));
    }
}
