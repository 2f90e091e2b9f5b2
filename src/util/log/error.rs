//! Errors of the logging module (texts of util/virlog.c's errors where virt-admin users see them).

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Errors of the logging module. The texts of the parsing errors are libvirt's, since
/// virt-admin shows them to the user.
#[derive(Debug)]
pub enum LogError {
    /// A level that is not 1..=4 (or, in LIBVIRT_DEBUG, not one of their names).
    BadLevel {
        value: String,
    },
    MalformedOutput {
        spec: String,
    },
    BadOutputPriority {
        priority: String,
        spec: String,
    },
    BadDestination {
        dest: String,
        spec: String,
    },
    /// Wrong number of `:` fields for the destination type.
    OutputFormat {
        spec: String,
        dest: String,
    },
    MalformedFilter {
        spec: String,
    },
    BadFilterPriority {
        priority: String,
        spec: String,
    },
    BadMatch {
        matcher: String,
    },
    SyslogIdent {
        ident: String,
    },
    /// A log file could not be opened.
    Io {
        path: PathBuf,
        err: io::Error,
    },
    /// The journald socket is missing or refuses connections.
    Journald {
        path: PathBuf,
        err: io::Error,
    },
    /// The directory of the default log file could not be created.
    LogDir {
        path: PathBuf,
        err: io::Error,
    },
    /// No $XDG_CACHE_HOME nor $HOME to put an unprivileged daemon's log file in.
    NoCacheDir,
    /// The working directory, needed for a relative file output, is unknown.
    Cwd {
        err: io::Error,
    },
}

/// An OS error as libvirt prints it (strerror text, without Rust's "(os error N)").
fn sys_text(err: &io::Error) -> String {
    let s = err.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::BadLevel { value } => {
                write!(f, "Failed to set logging priority, argument '{}' is invalid", value)
            }
            LogError::MalformedOutput { spec } => {
                write!(f, "Malformed format for log output '{}'", spec)
            }
            LogError::BadOutputPriority { priority, spec } => {
                write!(f, "Invalid log priority '{}' for log output '{}'", priority, spec)
            }
            LogError::BadDestination { dest, spec } => {
                write!(f, "Invalid log destination '{}' for log output '{}'", dest, spec)
            }
            LogError::OutputFormat { spec, dest } => {
                write!(f, "Log output '{}' does not meet the format requirements for destination type '{}'", spec, dest)
            }
            LogError::MalformedFilter { spec } => {
                write!(f, "Malformed format for filter '{}'", spec)
            }
            LogError::BadFilterPriority { priority, spec } => {
                write!(f, "Invalid priority '{}' for filter '{}'", priority, spec)
            }
            LogError::BadMatch { matcher } => write!(f, "Invalid match string '{}'", matcher),
            LogError::SyslogIdent { ident } => {
                write!(f, "Invalid syslog ident '{}': contains a NUL byte", ident.escape_debug())
            }
            LogError::Io { path, err } => {
                write!(f, "failed to open {}: {}", path.display(), sys_text(err))
            }
            LogError::Journald { path, err } => {
                write!(f, "journald socket {} is not available: {}", path.display(), sys_text(err))
            }
            LogError::LogDir { path, err } => {
                write!(f, "Could not create log directory {}: {}", path.display(), sys_text(err))
            }
            LogError::NoCacheDir => {
                write!(f, "Could not find the user cache directory: neither XDG_CACHE_HOME nor HOME is set")
            }
            LogError::Cwd { err } => {
                write!(f, "Could not get the current directory: {}", sys_text(err))
            }
        }
    }
}

impl std::error::Error for LogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LogError::Io { err, .. } | LogError::Journald { err, .. } | LogError::LogDir { err, .. } | LogError::Cwd { err } => Some(err),
            _ => None,
        }
    }
}
