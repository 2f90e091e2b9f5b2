//! The argument and return types of the admin program (libvirt's admin/admin_protocol.x),
//! in wire order. `admin_typed_param` is `crate::xdr::TypedParam`; `admin_string` is
//! `Option<String>`; `admin_nonnull_string` is `String` (both bounded by ADMIN_STRING_MAX,
//! which is the 4 MiB default of our `String`).

use crate::rpc::protocol::{
    ADMIN_CLIENT_INFO_PARAMETERS_MAX, ADMIN_CLIENT_LIST_MAX, ADMIN_SERVER_CLIENT_LIMITS_MAX, ADMIN_SERVER_LIST_MAX,
    ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX,
};
use crate::xdr::TypedParam;
use crate::xdr_struct;

xdr_struct! {
    /// admin_nonnull_server
    pub struct NonnullServer { pub name: String }
}

xdr_struct! {
    /// admin_nonnull_client: `transport` is 0 unix, 1 tcp, 2 tls (virClientTransport).
    pub struct NonnullClient {
        pub srv: NonnullServer,
        pub id: u64,
        pub timestamp: i64,
        pub transport: u32,
    }
}

xdr_struct! {
    /// admin_connect_open_args, and every `{ unsigned int flags; }` argument
    /// (admin_connect_get_logging_outputs_args, admin_connect_get_logging_filters_args).
    pub struct FlagsArgs { pub flags: u32 }
}

xdr_struct! {
    /// admin_connect_get_lib_version_ret
    pub struct GetLibVersionRet { pub lib_ver: u64 }
}

xdr_struct! {
    /// admin_connect_list_servers_args
    pub struct ListServersArgs { pub need_results: u32, pub flags: u32 }
}

xdr_struct! {
    /// admin_connect_list_servers_ret
    pub struct ListServersRet {
        pub servers: Vec<NonnullServer> [max ADMIN_SERVER_LIST_MAX],
        pub ret: u32,
    }
}

xdr_struct! {
    /// admin_connect_lookup_server_args
    pub struct LookupServerArgs { pub name: String, pub flags: u32 }
}

xdr_struct! {
    /// admin_connect_lookup_server_ret
    pub struct LookupServerRet { pub srv: NonnullServer }
}

xdr_struct! {
    /// admin_server_get_threadpool_parameters_args, admin_server_get_client_limits_args,
    /// admin_server_update_tls_files_args: a server and flags.
    pub struct ServerArgs { pub srv: NonnullServer, pub flags: u32 }
}

xdr_struct! {
    /// admin_server_get_threadpool_parameters_ret
    pub struct ThreadpoolParamsRet {
        pub params: Vec<TypedParam> [max ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX],
    }
}

xdr_struct! {
    /// admin_server_set_threadpool_parameters_args
    pub struct SetThreadpoolParamsArgs {
        pub srv: NonnullServer,
        pub params: Vec<TypedParam> [max ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX],
        pub flags: u32,
    }
}

xdr_struct! {
    /// admin_server_list_clients_args
    pub struct ListClientsArgs { pub srv: NonnullServer, pub need_results: u32, pub flags: u32 }
}

xdr_struct! {
    /// admin_server_list_clients_ret
    pub struct ListClientsRet {
        pub clients: Vec<NonnullClient> [max ADMIN_CLIENT_LIST_MAX],
        pub ret: u32,
    }
}

xdr_struct! {
    /// admin_server_lookup_client_args
    pub struct LookupClientArgs { pub srv: NonnullServer, pub id: u64, pub flags: u32 }
}

xdr_struct! {
    /// admin_server_lookup_client_ret
    pub struct LookupClientRet { pub clnt: NonnullClient }
}

xdr_struct! {
    /// admin_client_get_info_args, admin_client_close_args: a client and flags.
    pub struct ClientArgs { pub clnt: NonnullClient, pub flags: u32 }
}

xdr_struct! {
    /// admin_client_get_info_ret
    pub struct ClientInfoRet {
        pub params: Vec<TypedParam> [max ADMIN_CLIENT_INFO_PARAMETERS_MAX],
    }
}

xdr_struct! {
    /// admin_server_get_client_limits_ret
    pub struct ClientLimitsRet {
        pub params: Vec<TypedParam> [max ADMIN_SERVER_CLIENT_LIMITS_MAX],
    }
}

xdr_struct! {
    /// admin_server_set_client_limits_args
    pub struct SetClientLimitsArgs {
        pub srv: NonnullServer,
        pub params: Vec<TypedParam> [max ADMIN_SERVER_CLIENT_LIMITS_MAX],
        pub flags: u32,
    }
}

xdr_struct! {
    /// admin_connect_get_logging_outputs_ret
    pub struct LoggingOutputsRet { pub outputs: String, pub noutputs: u32 }
}

xdr_struct! {
    /// admin_connect_get_logging_filters_ret: `filters` is absent when none are defined.
    pub struct LoggingFiltersRet { pub filters: Option<String>, pub nfilters: u32 }
}

xdr_struct! {
    /// admin_connect_set_logging_outputs_args, admin_connect_set_logging_filters_args.
    pub struct SetLoggingArgs { pub value: Option<String>, pub flags: u32 }
}

xdr_struct! {
    /// admin_connect_set_daemon_timeout_args
    pub struct SetDaemonTimeoutArgs { pub timeout: u32, pub flags: u32 }
}
