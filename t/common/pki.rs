//! A throw-away PKI made with Debian's `openssl` CLI for the TLS tests: a CA, a server
//! certificate for 127.0.0.1/::1/localhost, and client certificates signed with `openssl ca`
//! (which can back-date them and revoke them into a CRL).
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Pki {
    pub dir: PathBuf,
}

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl CLI must be installed");
    assert!(
        out.status.success(),
        "openssl {:?} failed: {}{}",
        args,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const CA_CONF: &str = "[ ca ]
default_ca = testca
[ testca ]
dir = .
database = ./index.txt
new_certs_dir = ./newcerts
certificate = ./cacert.pem
private_key = ./cakey.pem
serial = ./serial
crlnumber = ./crlnumber
default_md = sha256
default_days = 365
default_crl_days = 30
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ client_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost
";

impl Pki {
    /// Makes the CA (`ca/`) and the server's credentials (`server/`).
    pub fn new(base: &Path) -> Pki {
        let dir = base.join("pki");
        let ca = dir.join("ca");
        fs::create_dir_all(ca.join("newcerts")).unwrap();
        fs::write(ca.join("index.txt"), "").unwrap();
        fs::write(ca.join("serial"), "1000\n").unwrap();
        fs::write(ca.join("crlnumber"), "1000\n").unwrap();
        fs::write(ca.join("ca.conf"), CA_CONF).unwrap();
        run(
            &ca,
            &[
                "req",
                "-x509",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "cakey.pem",
                "-out",
                "cacert.pem",
                "-days",
                "3650",
                "-subj",
                "/C=GB/O=virtlite test/CN=virtlite test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        let p = Pki { dir };
        p.sign("server", "/C=GB/O=virtlite test/CN=localhost", "server_ext", None);
        p
    }

    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca/cacert.pem")
    }

    pub fn crl(&self) -> PathBuf {
        self.dir.join("ca/cacrl.pem")
    }

    /// Signs a new key for `name` (files in `<name>/`: key.pem, cert.pem). `dates`: an
    /// explicit (start, end) in openssl's YYYYMMDDHHMMSSZ form.
    pub fn sign(&self, name: &str, subj: &str, ext: &str, dates: Option<(&str, &str)>) -> PathBuf {
        let d = self.dir.join(name);
        fs::create_dir_all(&d).unwrap();
        let key = d.join("key.pem");
        let csr = d.join("req.csr");
        let cert = d.join("cert.pem");
        run(&d, &["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "req.csr", "-subj", subj]);
        let ca = self.dir.join("ca");
        let mut args: Vec<String> = ["ca", "-batch", "-notext", "-preserveDN", "-config", "ca.conf", "-extensions", ext, "-in"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.push(csr.display().to_string());
        args.push("-out".into());
        args.push(cert.display().to_string());
        if let Some((start, end)) = dates {
            args.extend(["-startdate".to_string(), start.to_string(), "-enddate".to_string(), end.to_string()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&ca, &refs);
        assert!(key.exists());
        cert
    }

    /// A client certificate; see `sign`.
    pub fn client(&self, name: &str, subj: &str, dates: Option<(&str, &str)>) -> PathBuf {
        self.sign(name, subj, "client_ext", dates)
    }

    /// Revokes `name`'s certificate and (re)writes the CRL.
    pub fn revoke(&self, name: &str) {
        let ca = self.dir.join("ca");
        let cert = self.dir.join(name).join("cert.pem");
        run(&ca, &["ca", "-batch", "-config", "ca.conf", "-revoke", cert.to_str().unwrap()]);
        run(&ca, &["ca", "-batch", "-config", "ca.conf", "-gencrl", "-out", "cacrl.pem"]);
    }

    /// A pkipath directory for libvirt's client: cacert.pem, clientcert.pem, clientkey.pem.
    pub fn client_pkipath(&self, name: &str) -> PathBuf {
        let d = self.dir.join(format!("{name}-pkipath"));
        fs::create_dir_all(&d).unwrap();
        fs::copy(self.ca_cert(), d.join("cacert.pem")).unwrap();
        fs::copy(self.dir.join(name).join("cert.pem"), d.join("clientcert.pem")).unwrap();
        fs::copy(self.dir.join(name).join("key.pem"), d.join("clientkey.pem")).unwrap();
        d
    }

    /// The virtproxyd.conf lines pointing at the server credentials (and the CRL if made).
    pub fn server_conf(&self) -> String {
        let mut s = format!(
            "ca_file = \"{}\"\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            self.ca_cert().display(),
            self.dir.join("server/cert.pem").display(),
            self.dir.join("server/key.pem").display()
        );
        if self.crl().exists() {
            s.push_str(&format!("crl_file = \"{}\"\n", self.crl().display()));
        }
        s
    }
}
