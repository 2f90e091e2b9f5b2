//! The errors the admin program answers with and the libvirt error each becomes: code,
//! domain and text as libvirt raises them (admin/admin_server.c, admin_server_dispatch.c,
//! rpc/virnetdaemon.c, rpc/virnetserver.c, util/virthreadpool.c, util/virtypedparam.c,
//! util/virlog.c, and the `virCheckFlags` macro of internal.h).

use std::fmt;

use crate::rpc::protocol::{
    RemoteError, VIR_ERR_ARGUMENT_UNSUPPORTED, VIR_ERR_INTERNAL_ERROR, VIR_ERR_INVALID_ARG, VIR_ERR_NO_CLIENT, VIR_ERR_NO_SERVER,
    VIR_ERR_SYSTEM_ERROR, VIR_FROM_ADMIN, VIR_FROM_NONE, VIR_FROM_RPC,
};
use crate::rpc::threadpool::PoolError;
use crate::util::log::LogError;
use crate::xdr::{
    VIR_TYPED_PARAM_BOOLEAN, VIR_TYPED_PARAM_DOUBLE, VIR_TYPED_PARAM_INT, VIR_TYPED_PARAM_LLONG, VIR_TYPED_PARAM_STRING,
    VIR_TYPED_PARAM_UINT, VIR_TYPED_PARAM_ULLONG,
};

#[derive(Debug)]
pub enum AdminError {
    /// No server of that name, as the daemon's lookup reports it (virNetDaemonGetServer).
    NoServerNamed(String),
    /// No server of that name, as the dispatchers of SERVER_SET_THREADPOOL_PARAMETERS,
    /// CLIENT_GET_INFO and SERVER_SET_CLIENT_LIMITS report it.
    NoServerMatching(String),
    /// No client with that id, as the server's lookup reports it (virNetServerGetClient).
    NoClientWithId(u64),
    /// No client with that id, as CLIENT_GET_INFO's dispatcher reports it.
    NoClientMatching(u64),
    /// Flags the procedure does not know; `func` is the C function that checks them.
    UnsupportedFlags {
        flags: u32,
        func: &'static str,
    },
    /// A typed parameter's name does not fit libvirt's 80-byte field.
    ParamNameTooLong(String),
    ParamNotSupported(String),
    ParamRepeated(String),
    ParamType {
        field: String,
        got: i32,
        expected: i32,
    },
    MinWorkersAboveMax,
    MaxWorkersZeroSwitch,
    MaxClientsBelowUnauth,
    /// A list longer than the protocol allows (`what` is "server" or "client").
    TooMany {
        what: &'static str,
        count: usize,
        limit: u32,
    },
    NoTlsService,
    ThreadPool(PoolError),
    Logging(LogError),
    /// An error the driver produced itself (TLS reload).
    Driver(RemoteError),
}

/// libvirt's name of a typed parameter type (virTypedParameterTypeToString, with
/// "unknown" for values it does not know).
pub fn typed_param_type_name(t: i32) -> &'static str {
    match t {
        VIR_TYPED_PARAM_INT => "int",
        VIR_TYPED_PARAM_UINT => "uint",
        VIR_TYPED_PARAM_LLONG => "llong",
        VIR_TYPED_PARAM_ULLONG => "ullong",
        VIR_TYPED_PARAM_DOUBLE => "double",
        VIR_TYPED_PARAM_BOOLEAN => "boolean",
        VIR_TYPED_PARAM_STRING => "string",
        _ => "unknown",
    }
}

impl AdminError {
    /// The error as a libvirt client receives it.
    pub fn to_remote(&self) -> RemoteError {
        use AdminError::*;
        let (code, domain, text) = match self {
            NoServerNamed(n) => (VIR_ERR_NO_SERVER, VIR_FROM_RPC, format!("No server named '{n}'")),
            NoServerMatching(n) => (VIR_ERR_NO_SERVER, VIR_FROM_ADMIN, format!("no server with matching name '{n}' found")),
            NoClientWithId(id) => (VIR_ERR_NO_CLIENT, VIR_FROM_RPC, format!("No client with matching ID '{id}'")),
            NoClientMatching(id) => (VIR_ERR_NO_CLIENT, VIR_FROM_ADMIN, format!("no client with matching id '{id}' found")),
            UnsupportedFlags { flags, func } => {
                (VIR_ERR_INVALID_ARG, VIR_FROM_ADMIN, format!("unsupported flags (0x{flags:x}) in function {func}"))
            }
            ParamNameTooLong(f) => (VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, format!("parameter {f} too big for destination")),
            ParamNotSupported(f) => (VIR_ERR_ARGUMENT_UNSUPPORTED, VIR_FROM_NONE, format!("parameter '{f}' not supported")),
            ParamRepeated(f) => (VIR_ERR_INVALID_ARG, VIR_FROM_NONE, format!("parameter '{f}' occurs multiple times")),
            ParamType { field, got, expected } => (
                VIR_ERR_INVALID_ARG,
                VIR_FROM_NONE,
                format!(
                    "invalid type '{}' for parameter '{}', expected '{}'",
                    typed_param_type_name(*got),
                    field,
                    typed_param_type_name(*expected)
                ),
            ),
            MinWorkersAboveMax => (VIR_ERR_INVALID_ARG, VIR_FROM_NONE, "minWorkers cannot be larger than maxWorkers".to_string()),
            MaxWorkersZeroSwitch => {
                (VIR_ERR_INVALID_ARG, VIR_FROM_NONE, "maxWorkers must not be switched from zero to non-zero and vice versa".to_string())
            }
            MaxClientsBelowUnauth => (
                VIR_ERR_INVALID_ARG,
                VIR_FROM_RPC,
                "The overall maximum number of clients must not be less than the number of clients waiting for authentication".to_string(),
            ),
            TooMany { what, count, limit } => {
                (VIR_ERR_INTERNAL_ERROR, VIR_FROM_ADMIN, format!("Too many {what}s '{count}' for limit '{limit}'"))
            }
            NoTlsService => (VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, "no tls service found, unable to update tls files".to_string()),
            ThreadPool(e) => (VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, e.to_string()),
            Logging(e) => return log_error(e),
            Driver(e) => return e.clone(),
        };
        RemoteError::new(code, domain, Some(&text))
    }
}

/// Syntax errors are invalid arguments; failures to open a destination are system errors
/// carrying the errno, as virlog.c reports them.
fn log_error(e: &LogError) -> RemoteError {
    let errno = match e {
        LogError::Io { err, .. } | LogError::Journald { err, .. } | LogError::LogDir { err, .. } | LogError::Cwd { err } => {
            Some(err.raw_os_error().unwrap_or(0))
        }
        _ => None,
    };
    let text = e.to_string();
    match (e, errno) {
        (_, Some(n)) => {
            let mut r = RemoteError::new(VIR_ERR_SYSTEM_ERROR, VIR_FROM_NONE, Some(&text));
            r.int1 = n;
            r
        }
        (LogError::NoCacheDir, None) => RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, Some(&text)),
        _ => RemoteError::new(VIR_ERR_INVALID_ARG, VIR_FROM_NONE, Some(&text)),
    }
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_remote().message())
    }
}

impl std::error::Error for AdminError {}

impl From<LogError> for AdminError {
    fn from(e: LogError) -> Self {
        AdminError::Logging(e)
    }
}
