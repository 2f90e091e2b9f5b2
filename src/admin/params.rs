//! Checks on what an admin call sends: flags, typed-parameter names and types, and the new
//! thread-pool and client limits it asks for (util/virtypedparam.c virTypedParamsValidate,
//! virTypedParamsDeserialize; util/virthreadpool.c virThreadPoolSetParameters;
//! rpc/virnetserver.c virNetServerSetClientLimits; admin/admin_server.c). Pure functions.

use super::error::AdminError;
use crate::rpc::threadpool::PoolParams;
use crate::xdr::{TypedParam, TypedParamValue, VIR_TYPED_PARAM_UINT};

// C: VIR_THREADPOOL_* and VIR_SERVER_CLIENTS_* (include/libvirt/libvirt-admin.h)
pub const VIR_THREADPOOL_WORKERS_MIN: &str = "minWorkers";
pub const VIR_THREADPOOL_WORKERS_MAX: &str = "maxWorkers";
pub const VIR_THREADPOOL_WORKERS_PRIORITY: &str = "prioWorkers";
pub const VIR_THREADPOOL_WORKERS_FREE: &str = "freeWorkers";
pub const VIR_THREADPOOL_WORKERS_CURRENT: &str = "nWorkers";
pub const VIR_THREADPOOL_JOB_QUEUE_DEPTH: &str = "jobQueueDepth";
pub const VIR_SERVER_CLIENTS_MAX: &str = "nclients_max";
pub const VIR_SERVER_CLIENTS_CURRENT: &str = "nclients";
pub const VIR_SERVER_CLIENTS_UNAUTH_MAX: &str = "nclients_unauth_max";
pub const VIR_SERVER_CLIENTS_UNAUTH_CURRENT: &str = "nclients_unauth";

/// Every admin procedure supports no flags at all.
// C: virCheckFlags(0, ...)
pub fn check_flags(flags: u32, func: &'static str) -> Result<(), AdminError> {
    if flags == 0 {
        Ok(())
    } else {
        Err(AdminError::UnsupportedFlags { flags, func })
    }
}

/// Every received name must fit libvirt's `virTypedParameter.field`.
// C: virTypedParamsDeserialize (the field copy)
pub fn check_fields(params: &[TypedParam]) -> Result<(), AdminError> {
    match params.iter().find(|p| !p.field_fits()) {
        Some(p) => Err(AdminError::ParamNameTooLong(p.field.clone())),
        None => Ok(()),
    }
}

/// Every parameter must be one of `known` (name, VIR_TYPED_PARAM_* type), of that type, and
/// appear once. Like libvirt, both lists are walked in name order, so with several problems
/// the one reported is the one libvirt would report.
// C: virTypedParamsValidate
pub fn validate(params: &[TypedParam], known: &[(&str, i32)]) -> Result<(), AdminError> {
    let mut sorted: Vec<&TypedParam> = params.iter().collect();
    sorted.sort_by(|a, b| a.field.as_bytes().cmp(b.field.as_bytes()));
    let mut keys = known.to_vec();
    keys.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let (mut i, mut j) = (0, 0);
    let mut last: Option<&str> = None;
    while i < sorted.len() && j < keys.len() {
        let p = sorted[i];
        let (name, want) = keys[j];
        if p.field != name {
            j += 1;
            continue;
        }
        if last == Some(name) {
            return Err(AdminError::ParamRepeated(p.field.clone()));
        }
        let got = p.value.type_code();
        if got != want {
            return Err(AdminError::ParamType { field: p.field.clone(), got, expected: want });
        }
        last = Some(name);
        i += 1;
    }
    match sorted.get(i) {
        Some(p) if j == keys.len() => Err(AdminError::ParamNotSupported(p.field.clone())),
        _ => Ok(()),
    }
}

/// The value of an unsigned-int parameter (the list has been validated).
fn get_uint(params: &[TypedParam], name: &str) -> Option<u32> {
    params.iter().find(|p| p.field == name).and_then(|p| match p.value {
        TypedParamValue::UInt(v) => Some(v),
        _ => None,
    })
}

/// New thread-pool limits; None keeps the current value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolChange {
    pub min: Option<usize>,
    pub max: Option<usize>,
    pub prio: Option<usize>,
}

/// What SERVER_SET_THREADPOOL_PARAMETERS asks for, checked against the pool as it is.
// C: adminServerSetThreadPoolParameters + the checks of virThreadPoolSetParameters
pub fn threadpool_change(params: &[TypedParam], cur: &PoolParams) -> Result<PoolChange, AdminError> {
    validate(
        params,
        &[
            (VIR_THREADPOOL_WORKERS_MIN, VIR_TYPED_PARAM_UINT),
            (VIR_THREADPOOL_WORKERS_MAX, VIR_TYPED_PARAM_UINT),
            (VIR_THREADPOOL_WORKERS_PRIORITY, VIR_TYPED_PARAM_UINT),
        ],
    )?;
    let change = PoolChange {
        min: get_uint(params, VIR_THREADPOOL_WORKERS_MIN).map(|v| v as usize),
        max: get_uint(params, VIR_THREADPOOL_WORKERS_MAX).map(|v| v as usize),
        prio: get_uint(params, VIR_THREADPOOL_WORKERS_PRIORITY).map(|v| v as usize),
    };
    let min = change.min.unwrap_or(cur.min_workers);
    let max = change.max.unwrap_or(cur.max_workers);
    if min > max {
        return Err(AdminError::MinWorkersAboveMax);
    }
    if let Some(m) = change.max {
        if (m == 0) != (cur.max_workers == 0) {
            return Err(AdminError::MaxWorkersZeroSwitch);
        }
    }
    Ok(change)
}

/// New client limits; None keeps the current value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LimitsChange {
    pub max: Option<usize>,
    pub unauth_max: Option<usize>,
}

/// What SERVER_SET_CLIENT_LIMITS asks for, checked against the current limits.
// C: adminServerSetClientLimits + the check of virNetServerSetClientLimits
pub fn client_limits_change(params: &[TypedParam], cur_max: usize, cur_unauth_max: usize) -> Result<LimitsChange, AdminError> {
    validate(params, &[(VIR_SERVER_CLIENTS_MAX, VIR_TYPED_PARAM_UINT), (VIR_SERVER_CLIENTS_UNAUTH_MAX, VIR_TYPED_PARAM_UINT)])?;
    let change = LimitsChange {
        max: get_uint(params, VIR_SERVER_CLIENTS_MAX).map(|v| v as usize),
        unauth_max: get_uint(params, VIR_SERVER_CLIENTS_UNAUTH_MAX).map(|v| v as usize),
    };
    if change.max.unwrap_or(cur_max) < change.unauth_max.unwrap_or(cur_unauth_max) {
        return Err(AdminError::MaxClientsBelowUnauth);
    }
    Ok(change)
}

/// A list answer: the items only if the caller asked for them, the count always; a count
/// over the protocol's limit is an error either way.
// C: the generated admin dispatchers of CONNECT_LIST_SERVERS / SERVER_LIST_CLIENTS
pub fn listed<T>(
    count: usize,
    need_results: u32,
    what: &'static str,
    limit: u32,
    make: impl FnOnce() -> Vec<T>,
) -> Result<(Vec<T>, u32), AdminError> {
    if count > limit as usize {
        return Err(AdminError::TooMany { what, count, limit });
    }
    let items = if need_results != 0 { make() } else { Vec::new() };
    Ok((items, count as u32))
}

/// A count as the UINT typed parameter libvirt sends (size_t truncated to unsigned int).
pub fn uint_param(name: &str, v: usize) -> TypedParam {
    TypedParam::new(name, TypedParamValue::UInt(v as u32))
}
