//! The few REMOTE program argument and return types the daemons decode themselves
//! (remote/remote_protocol.x); everything else is relayed or belongs to a driver.

use crate::rpc::protocol::{REMOTE_AUTH_TYPE_LIST_MAX, REMOTE_CONNECT_IDENTITY_PARAMS_MAX};
use crate::xdr::TypedParam;
use crate::xdr_struct;

xdr_struct! {
    /// remote_connect_open_args
    pub struct ConnectOpenArgs {
        pub name: Option<String>,
        pub flags: u32,
    }
}

xdr_struct! {
    /// remote_connect_supports_feature_args
    pub struct SupportsFeatureArgs { pub feature: i32 }
}

xdr_struct! {
    /// remote_connect_supports_feature_ret
    pub struct SupportsFeatureRet { pub supported: i32 }
}

xdr_struct! {
    /// remote_auth_list_ret
    pub struct AuthListRet {
        pub types: Vec<i32> [max REMOTE_AUTH_TYPE_LIST_MAX],
    }
}

xdr_struct! {
    /// remote_auth_polkit_ret
    pub struct AuthPolkitRet { pub complete: i32 }
}

xdr_struct! {
    /// remote_connect_set_identity_args
    pub struct SetIdentityArgs {
        pub params: Vec<TypedParam> [max REMOTE_CONNECT_IDENTITY_PARAMS_MAX],
        pub flags: u32,
    }
}

xdr_struct! {
    /// remote_connect_event_connection_closed_msg
    pub struct ConnectionClosedMsg { pub reason: i32 }
}

/// VIR_CONNECT_RO: the only CONNECT_OPEN flag a server honours.
pub const VIR_CONNECT_RO: u32 = 1;

/// Features (libvirt_internal.h VIR_DRV_FEATURE_*) a server answers without its driver.
pub const VIR_DRV_FEATURE_FD_PASSING: i32 = 8;
pub const VIR_DRV_FEATURE_PROGRAM_KEEPALIVE: i32 = 10;
pub const VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK: i32 = 14;
pub const VIR_DRV_FEATURE_REMOTE_CLOSE_CALLBACK: i32 = 15;

/// virConnectCloseReason
pub const VIR_CONNECT_CLOSE_REASON_ERROR: i32 = 0;
pub const VIR_CONNECT_CLOSE_REASON_EOF: i32 = 1;
pub const VIR_CONNECT_CLOSE_REASON_KEEPALIVE: i32 = 2;
pub const VIR_CONNECT_CLOSE_REASON_CLIENT: i32 = 3;
