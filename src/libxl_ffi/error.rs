//! Errors of the libxl FFI layer: every libxl return code goes through `check` into a
//! `LibxlError` naming the function and the code (libxl's `libxl_error` enum, _libxl_types.h).

use std::fmt;
use std::io;
use std::path::PathBuf;

pub const ERROR_NONSPECIFIC: i32 = -1;
pub const ERROR_VERSION: i32 = -2;
pub const ERROR_FAIL: i32 = -3;
pub const ERROR_NI: i32 = -4;
pub const ERROR_NOMEM: i32 = -5;
pub const ERROR_INVAL: i32 = -6;
pub const ERROR_BADFAIL: i32 = -7;
pub const ERROR_GUEST_TIMEDOUT: i32 = -8;
pub const ERROR_TIMEDOUT: i32 = -9;
pub const ERROR_NOPARAVIRT: i32 = -10;
pub const ERROR_NOT_READY: i32 = -11;
pub const ERROR_OSEVENT_REG_FAIL: i32 = -12;
pub const ERROR_BUFFERFULL: i32 = -13;
pub const ERROR_UNKNOWN_CHILD: i32 = -14;
pub const ERROR_LOCK_FAIL: i32 = -15;
pub const ERROR_JSON_CONFIG_EMPTY: i32 = -16;
pub const ERROR_DEVICE_EXISTS: i32 = -17;
pub const ERROR_CHECKPOINT_DEVOPS_DOES_NOT_MATCH: i32 = -18;
pub const ERROR_CHECKPOINT_DEVICE_NOT_SUPPORTED: i32 = -19;
pub const ERROR_VNUMA_CONFIG_INVALID: i32 = -20;
pub const ERROR_DOMAIN_NOTFOUND: i32 = -21;
pub const ERROR_ABORTED: i32 = -22;
pub const ERROR_NOTFOUND: i32 = -23;
pub const ERROR_DOMAIN_DESTROYED: i32 = -24;
pub const ERROR_FEATURE_REMOVED: i32 = -25;
pub const ERROR_PROTOCOL_ERROR_QMP: i32 = -26;
pub const ERROR_UNKNOWN_QMP_ERROR: i32 = -27;
pub const ERROR_QMP_GENERIC_ERROR: i32 = -28;
pub const ERROR_QMP_COMMAND_NOT_FOUND: i32 = -29;
pub const ERROR_QMP_DEVICE_NOT_ACTIVE: i32 = -30;
pub const ERROR_QMP_DEVICE_NOT_FOUND: i32 = -31;
pub const ERROR_QEMU_API: i32 = -32;

/// The name of a libxl error code, as libxl's `libxl_error_to_string` spells it.
pub fn error_name(rc: i32) -> &'static str {
    const NAMES: [&str; 32] = [
        "ERROR_NONSPECIFIC",
        "ERROR_VERSION",
        "ERROR_FAIL",
        "ERROR_NI",
        "ERROR_NOMEM",
        "ERROR_INVAL",
        "ERROR_BADFAIL",
        "ERROR_GUEST_TIMEDOUT",
        "ERROR_TIMEDOUT",
        "ERROR_NOPARAVIRT",
        "ERROR_NOT_READY",
        "ERROR_OSEVENT_REG_FAIL",
        "ERROR_BUFFERFULL",
        "ERROR_UNKNOWN_CHILD",
        "ERROR_LOCK_FAIL",
        "ERROR_JSON_CONFIG_EMPTY",
        "ERROR_DEVICE_EXISTS",
        "ERROR_CHECKPOINT_DEVOPS_DOES_NOT_MATCH",
        "ERROR_CHECKPOINT_DEVICE_NOT_SUPPORTED",
        "ERROR_VNUMA_CONFIG_INVALID",
        "ERROR_DOMAIN_NOTFOUND",
        "ERROR_ABORTED",
        "ERROR_NOTFOUND",
        "ERROR_DOMAIN_DESTROYED",
        "ERROR_FEATURE_REMOVED",
        "ERROR_PROTOCOL_ERROR_QMP",
        "ERROR_UNKNOWN_QMP_ERROR",
        "ERROR_QMP_GENERIC_ERROR",
        "ERROR_QMP_COMMAND_NOT_FOUND",
        "ERROR_QMP_DEVICE_NOT_ACTIVE",
        "ERROR_QMP_DEVICE_NOT_FOUND",
        "ERROR_QEMU_API",
    ];
    if (-32..=-1).contains(&rc) {
        NAMES[(-rc - 1) as usize]
    } else {
        "unknown libxl error"
    }
}

/// What went wrong in a libxl call or around it.
#[derive(Debug)]
pub enum LibxlError {
    /// A libxl function returned an error code.
    Call { func: &'static str, rc: i32 },
    /// A libxl function that returns a pointer (or a count) gave NULL (or a negative count).
    Null { func: &'static str },
    /// An argument we were asked to pass cannot be represented in C (NUL byte, too long).
    Arg { func: &'static str, what: String },
    /// A libxl string that is not UTF-8 where we need text (JSON).
    Utf8 { func: &'static str },
    /// The log file could not be opened.
    LogFile { path: PathBuf, err: io::Error },
    /// An fd or timer could not be registered with the poll loop.
    Poll { what: &'static str, err: io::Error },
}

impl LibxlError {
    /// The libxl error code, if the error came from libxl.
    pub fn code(&self) -> Option<i32> {
        match self {
            LibxlError::Call { rc, .. } => Some(*rc),
            _ => None,
        }
    }

    /// Whether libxl said the domain does not exist.
    pub fn is_domain_not_found(&self) -> bool {
        self.code() == Some(ERROR_DOMAIN_NOTFOUND)
    }
}

impl fmt::Display for LibxlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LibxlError::Call { func, rc } => write!(f, "{func} failed: {} ({rc})", error_name(*rc)),
            LibxlError::Null { func } => write!(f, "{func} failed"),
            LibxlError::Arg { func, what } => write!(f, "{func}: invalid argument: {what}"),
            LibxlError::Utf8 { func } => write!(f, "{func} returned text that is not UTF-8"),
            LibxlError::LogFile { path, err } => write!(f, "cannot open libxl log file {}: {err}", path.display()),
            LibxlError::Poll { what, err } => write!(f, "cannot {what}: {err}"),
        }
    }
}

impl std::error::Error for LibxlError {}

pub type Result<T> = std::result::Result<T, LibxlError>;

/// Turns a libxl return code into a Result: negative codes are errors.
pub fn check(func: &'static str, rc: i32) -> Result<i32> {
    if rc < 0 {
        Err(LibxlError::Call { func, rc })
    } else {
        Ok(rc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_name_known_codes_match_header() {
        assert_eq!(error_name(ERROR_FAIL), "ERROR_FAIL");
        assert_eq!(error_name(ERROR_INVAL), "ERROR_INVAL");
        assert_eq!(error_name(ERROR_NOPARAVIRT), "ERROR_NOPARAVIRT");
        assert_eq!(error_name(ERROR_DOMAIN_NOTFOUND), "ERROR_DOMAIN_NOTFOUND");
        assert_eq!(error_name(ERROR_QEMU_API), "ERROR_QEMU_API");
        assert_eq!(error_name(ERROR_NONSPECIFIC), "ERROR_NONSPECIFIC");
    }

    #[test]
    fn error_name_out_of_range_is_unknown() {
        assert_eq!(error_name(0), "unknown libxl error");
        assert_eq!(error_name(-33), "unknown libxl error");
        assert_eq!(error_name(i32::MIN), "unknown libxl error");
    }

    #[test]
    fn check_negative_rc_names_function_and_code() {
        let e = check("libxl_domain_info", ERROR_DOMAIN_NOTFOUND).unwrap_err();
        assert!(e.is_domain_not_found());
        assert_eq!(e.to_string(), "libxl_domain_info failed: ERROR_DOMAIN_NOTFOUND (-21)");
        assert_eq!(check("libxl_get_max_cpus", 4).unwrap(), 4);
    }
}
