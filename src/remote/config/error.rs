//! Errors of the daemon configuration: libvirt's texts for the checks
//! remote_daemon_config.c and remote_daemon.c make, plus ours.
use std::fmt;

use super::SSF_WARNING_LEVEL;
use crate::util::conf::ConfError;

/// A problem with the daemon configuration; `Display` is the message to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// Reading, parsing or a typed getter.
    Conf(ConfError),
    /// An auth_* string that is none of "none", "sasl", "polkit".
    UnsupportedAuth {
        file: String,
        key: &'static str,
        value: String,
    },
    /// Ours: polkit auth asked for, and this daemon is built without it.
    PolkitUnsupported {
        key: &'static str,
    },
    /// max_workers = 0.
    MaxWorkersZero,
    /// tcp_min_ssf set below SSF_WARNING_LEVEL.
    MinSsfTooLow {
        value: u32,
    },
    /// A unix_sock_*_perms string that is not an octal mode.
    BadPerms {
        key: &'static str,
        value: String,
    },
    /// max_anonymous_clients above max_clients.
    TooManyAnonymous {
        max_clients: u32,
        max_anonymous_clients: u32,
    },
    /// host_uuid that does not parse, or has all its bytes equal.
    BadHostUuid {
        value: String,
    },
    /// host_uuid_source other than "smbios" or "machine-id".
    BadUuidSource {
        value: String,
    },
    /// log_level above 4 (VIR_LOG_ERROR).
    BadLogLevel {
        value: u32,
    },
    /// Some of key_file/cert_file set but not ca_file (and so on).
    NoCaFile,
    NoCertFile,
    NoKeyFile,
}

impl From<ConfError> for ConfigError {
    fn from(err: ConfError) -> Self {
        ConfigError::Conf(err)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // libvirt's own texts first; where they do not name the key, we add it.
        match self {
            ConfigError::Conf(err) => err.fmt(f),
            ConfigError::UnsupportedAuth { file, key, value } => {
                write!(f, "unsupported configuration: {file}: {key}: unsupported auth {value}")
            }
            ConfigError::PolkitUnsupported { key } => write!(
                f,
                "unsupported configuration: {key}: polkit authentication is not supported by this daemon; \
                 use \"none\" or \"sasl\""
            ),
            ConfigError::MaxWorkersZero => f.write_str("internal error: 'max_workers' must be greater than 0"),
            ConfigError::MinSsfTooLow { value } => write!(
                f,
                "unsupported configuration: minimum SSF levels lower than {SSF_WARNING_LEVEL} are not supported \
                 (parameter 'tcp_min_ssf' is {value})"
            ),
            ConfigError::BadPerms { key, value } => {
                write!(f, "Failed to parse mode '{value}' (parameter '{key}')")
            }
            ConfigError::TooManyAnonymous { max_clients, max_anonymous_clients } => write!(
                f,
                "internal error: The overall maximum number of clients must not be less than the number of \
                 clients waiting for authentication (max_clients is {max_clients}, max_anonymous_clients is \
                 {max_anonymous_clients})"
            ),
            ConfigError::BadHostUuid { value } => {
                write!(f, "invalid host UUID: {value} (parameter 'host_uuid')")
            }
            ConfigError::BadUuidSource { value } => {
                write!(f, "invalid UUID source: {value} (parameter 'host_uuid_source')")
            }
            ConfigError::BadLogLevel { value } => write!(
                f,
                "invalid argument: Failed to set logging priority, argument '{value}' is invalid \
                 (parameter 'log_level')"
            ),
            ConfigError::NoCaFile => {
                f.write_str("unsupported configuration: No CA certificate path set to match server key/cert (parameter 'ca_file')")
            }
            ConfigError::NoCertFile => {
                f.write_str("unsupported configuration: No server certificate path set to match server key (parameter 'cert_file')")
            }
            ConfigError::NoKeyFile => {
                f.write_str("unsupported configuration: No server key path set to match server cert (parameter 'key_file')")
            }
        }
    }
}

impl std::error::Error for ConfigError {}
