//! Start-up checks of a loaded daemon configuration: the ones libvirt makes after
//! loading it (remote_daemon.c daemonSetupNetworking and daemonSetupHostUUID,
//! virnetserver.c virNetServerNew, virlog.c virLogSetDefaultPriority) and polkit.
use super::{AuthType, ConfigError, DaemonConfig};

/// Highest log level (VIR_LOG_ERROR); 0 means "not set".
const VIR_LOG_ERROR: u32 = 4;

/// A socket mode written in octal ("0770"). Digits 0-7 only, at least one, and a value
/// that fits an int as libvirt's virStrToLong_i(.., 8) needs; unlike strtol we take no
/// blanks or sign.
pub fn parse_perms(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
        return None;
    }
    u32::from_str_radix(text, 8).ok().filter(|&mode| mode <= i32::MAX as u32)
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// A UUID as libvirt's virUUIDParse reads it: 32 hex digits in pairs, with '-' or ' '
/// allowed before any pair, and blanks around the whole.
// C: virUUIDParse
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let bytes = text.trim_start_matches(|c: char| c.is_ascii_whitespace()).as_bytes();
    let mut uuid = [0u8; 16];
    let mut pos = 0;
    let mut filled = 0;
    while filled < uuid.len() {
        let c = *bytes.get(pos)?;
        if c == b'-' || c == b' ' {
            pos += 1;
            continue;
        }
        let high = hex_value(c)?;
        let low = hex_value(*bytes.get(pos + 1)?)?;
        uuid[filled] = high * 16 + low;
        filled += 1;
        pos += 2;
    }
    bytes[pos..].iter().all(|c| c.is_ascii_whitespace()).then_some(uuid)
}

/// Whether a host UUID is usable: it parses and not all its bytes are equal.
// C: virUUIDIsValid
fn host_uuid_is_valid(text: &str) -> bool {
    parse_uuid(text).is_some_and(|uuid| uuid.iter().any(|&b| b != uuid[0]))
}

impl DaemonConfig {
    /// key_file, cert_file and ca_file go together: if any is set all must be.
    /// libvirt checks this when it sets up the TLS listener.
    pub fn tls_file_problems(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        if self.ca_file.is_none() && self.cert_file.is_none() && self.key_file.is_none() {
            return out;
        }
        if self.ca_file.is_none() {
            out.push(ConfigError::NoCaFile);
        }
        if self.cert_file.is_none() {
            out.push(ConfigError::NoCertFile);
        }
        if self.key_file.is_none() {
            out.push(ConfigError::NoKeyFile);
        }
        out
    }

    /// Cross-key and value checks run before the daemon starts; every problem is returned.
    pub fn validate(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        let mut auths = vec![("auth_unix_rw", self.auth_unix_rw), ("auth_unix_ro", self.auth_unix_ro)];
        if self.kind.has_ip() {
            auths.extend([("auth_tcp", self.auth_tcp), ("auth_tls", self.auth_tls)]);
        }
        for (key, auth) in auths {
            if auth == AuthType::Polkit {
                out.push(ConfigError::PolkitUnsupported { key });
            }
        }
        for (key, value) in [
            ("unix_sock_ro_perms", &self.unix_sock_ro_perms),
            ("unix_sock_admin_perms", &self.unix_sock_admin_perms),
            ("unix_sock_rw_perms", &self.unix_sock_rw_perms),
        ] {
            if parse_perms(value).is_none() {
                out.push(ConfigError::BadPerms { key, value: value.clone() });
            }
        }
        // As libvirt: an explicit host_uuid wins and the source is then not looked at.
        match &self.host_uuid {
            Some(uuid) if !host_uuid_is_valid(uuid) => out.push(ConfigError::BadHostUuid { value: uuid.clone() }),
            Some(_) => {}
            None if matches!(self.host_uuid_source.as_str(), "smbios" | "machine-id") => {}
            None => out.push(ConfigError::BadUuidSource { value: self.host_uuid_source.clone() }),
        }
        if let Some(level) = self.log_level.filter(|&l| l > VIR_LOG_ERROR) {
            out.push(ConfigError::BadLogLevel { value: level });
        }
        if self.max_clients < self.max_anonymous_clients {
            out.push(ConfigError::TooManyAnonymous { max_clients: self.max_clients, max_anonymous_clients: self.max_anonymous_clients });
        }
        if self.kind.has_ip() && self.listen_tls {
            out.extend(self.tls_file_problems());
        }
        out
    }
}
