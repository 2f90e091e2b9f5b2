//! Tests of the admin program's wire types and of its pure checks.
use super::client::{info_params, uri_addr};
use super::error::AdminError;
use super::params::*;
use super::protocol::*;
use crate::rpc::client::Identity;
use crate::rpc::protocol::*;
use crate::rpc::threadpool::PoolParams;
use crate::xdr::{decode_exact, encode_to_vec, TypedParam, TypedParamValue, Xdr, XdrError};

fn roundtrip<T: Xdr + PartialEq + std::fmt::Debug>(v: T) {
    let bytes = encode_to_vec(&v);
    assert_eq!(bytes.len() % 4, 0);
    assert_eq!(decode_exact::<T>(&bytes), Ok(v));
}

fn srv(name: &str) -> NonnullServer {
    NonnullServer { name: name.into() }
}

fn clnt(id: u64) -> NonnullClient {
    NonnullClient { srv: srv("virtproxyd"), id, timestamp: 1_700_000_000, transport: 0 }
}

fn uint(name: &str, v: u32) -> TypedParam {
    TypedParam::new(name, TypedParamValue::UInt(v))
}

// ---- golden bytes ----

#[test]
fn golden_list_servers_ret_encodes_and_decodes() {
    let ret = ListServersRet { servers: vec![srv("virtproxyd"), srv("admin")], ret: 2 };
    #[rustfmt::skip]
    let golden: [u8; 36] = [
        0, 0, 0, 2,                 // servers: 2 elements
        0, 0, 0, 10,                // servers[0].name length: 10
        b'v', b'i', b'r', b't',     //
        b'p', b'r', b'o', b'x',     //
        b'y', b'd', 0, 0,           //   "virtproxyd" + 2 bytes padding
        0, 0, 0, 5,                 // servers[1].name length: 5
        b'a', b'd', b'm', b'i',     //
        b'n', 0, 0, 0,              //   "admin" + 3 bytes padding
        0, 0, 0, 2,                 // ret: 2
    ];
    assert_eq!(encode_to_vec(&ret), golden.to_vec());
    assert_eq!(decode_exact::<ListServersRet>(&golden), Ok(ret));
}

#[test]
fn golden_client_get_info_args_encodes_and_decodes() {
    let args = ClientArgs { clnt: NonnullClient { srv: srv("admin"), id: 3, timestamp: 0x0102_0304_0506_0708, transport: 2 }, flags: 0 };
    #[rustfmt::skip]
    let golden: [u8; 36] = [
        0, 0, 0, 5,                 // clnt.srv.name length: 5
        b'a', b'd', b'm', b'i',     //
        b'n', 0, 0, 0,              //   "admin" + padding
        0, 0, 0, 0, 0, 0, 0, 3,     // clnt.id: 3 (unsigned hyper)
        1, 2, 3, 4, 5, 6, 7, 8,     // clnt.timestamp (hyper)
        0, 0, 0, 2,                 // clnt.transport: tls
        0, 0, 0, 0,                 // flags
    ];
    assert_eq!(encode_to_vec(&args), golden.to_vec());
    assert_eq!(decode_exact::<ClientArgs>(&golden), Ok(args));
}

#[test]
fn golden_logging_filters_ret_absent_string() {
    let ret = LoggingFiltersRet { filters: None, nfilters: 0 };
    // filters: absent (0), nfilters: 0
    assert_eq!(encode_to_vec(&ret), vec![0, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn golden_threadpool_uint_param() {
    let ret = ThreadpoolParamsRet { params: vec![uint("nWorkers", 5)] };
    #[rustfmt::skip]
    let golden: [u8; 24] = [
        0, 0, 0, 1,                 // params: 1 element
        0, 0, 0, 8,                 // field length: 8
        b'n', b'W', b'o', b'r',     //
        b'k', b'e', b'r', b's',     //   "nWorkers"
        0, 0, 0, 2,                 // value type: VIR_TYPED_PARAM_UINT
        0, 0, 0, 5,                 // value.ui: 5
    ];
    assert_eq!(encode_to_vec(&ret), golden.to_vec());
    assert_eq!(decode_exact::<ThreadpoolParamsRet>(&golden), Ok(ret));
}

// ---- every type round-trips ----

#[test]
fn roundtrip_every_admin_type() {
    let params = vec![uint("minWorkers", 1), TypedParam::new("readonly", TypedParamValue::Boolean(true))];
    roundtrip(FlagsArgs { flags: 7 });
    roundtrip(GetLibVersionRet { lib_ver: 9_000_000 });
    roundtrip(ListServersArgs { need_results: 1, flags: 0 });
    roundtrip(ListServersRet { servers: vec![srv("a"), srv("bb")], ret: 2 });
    roundtrip(LookupServerArgs { name: "virtxend".into(), flags: 0 });
    roundtrip(LookupServerRet { srv: srv("admin") });
    roundtrip(ServerArgs { srv: srv("virtproxyd"), flags: 0 });
    roundtrip(ThreadpoolParamsRet { params: params.clone() });
    roundtrip(SetThreadpoolParamsArgs { srv: srv("admin"), params: params.clone(), flags: 0 });
    roundtrip(ListClientsArgs { srv: srv("admin"), need_results: 0, flags: 0 });
    roundtrip(ListClientsRet { clients: vec![clnt(1), clnt(u64::MAX)], ret: 2 });
    roundtrip(LookupClientArgs { srv: srv("admin"), id: 42, flags: 0 });
    roundtrip(LookupClientRet { clnt: clnt(42) });
    roundtrip(ClientArgs { clnt: clnt(9), flags: 1 });
    roundtrip(ClientInfoRet { params: params.clone() });
    roundtrip(ClientLimitsRet { params: params.clone() });
    roundtrip(SetClientLimitsArgs { srv: srv("x"), params, flags: 0 });
    roundtrip(LoggingOutputsRet { outputs: "1:file:/var/log/x.log".into(), noutputs: 1 });
    roundtrip(LoggingFiltersRet { filters: Some("1:*rpc* ".into()), nfilters: 1 });
    roundtrip(SetLoggingArgs { value: None, flags: 0 });
    roundtrip(SetLoggingArgs { value: Some("".into()), flags: 0 });
    roundtrip(SetDaemonTimeoutArgs { timeout: 120, flags: 0 });
}

#[test]
fn decode_threadpool_params_over_limit_refused() {
    // A count of 33 typed parameters, over ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX.
    let mut bytes = vec![0, 0, 0, 33];
    bytes.extend(std::iter::repeat(0u8).take(33 * 12));
    assert!(matches!(
        decode_exact::<ThreadpoolParamsRet>(&bytes),
        Err(XdrError::TooLong { max: ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX, .. })
    ));
}

#[test]
fn decode_client_list_count_beyond_input_refused() {
    // 16384 clients claimed, 4 bytes given: refused before allocating.
    assert!(decode_exact::<ListClientsRet>(&[0, 0, 0x40, 0, 0, 0, 0, 0]).is_err());
}

// ---- flags and typed-parameter checks ----

#[test]
fn check_flags_nonzero_refused_with_function_name() {
    let e = check_flags(4, "adminConnectListServers").unwrap_err().to_remote();
    assert_eq!((e.code, e.domain), (VIR_ERR_INVALID_ARG, VIR_FROM_ADMIN));
    assert_eq!(e.message(), "invalid argument: unsupported flags (0x4) in function adminConnectListServers");
    assert!(check_flags(0, "x").is_ok());
}

const POOL_KEYS: [(&str, i32); 2] = [("minWorkers", 2), ("maxWorkers", 2)];

#[test]
fn validate_known_params_accepted() {
    assert!(validate(&[uint("maxWorkers", 3), uint("minWorkers", 1)], &POOL_KEYS).is_ok());
    assert!(validate(&[], &POOL_KEYS).is_ok());
}

#[test]
fn validate_unknown_param_not_supported() {
    let e = validate(&[uint("minWorkers", 1), uint("nWorkers", 3)], &POOL_KEYS).unwrap_err().to_remote();
    assert_eq!(e.code, VIR_ERR_ARGUMENT_UNSUPPORTED);
    assert_eq!(e.message(), "argument unsupported: parameter 'nWorkers' not supported");
}

#[test]
fn validate_wrong_type_refused() {
    let p = TypedParam::new("minWorkers", TypedParamValue::Int(1));
    let e = validate(&[p], &POOL_KEYS).unwrap_err().to_remote();
    assert_eq!(e.message(), "invalid argument: invalid type 'int' for parameter 'minWorkers', expected 'uint'");
}

#[test]
fn validate_repeated_param_refused() {
    let e = validate(&[uint("maxWorkers", 1), uint("maxWorkers", 2)], &POOL_KEYS).unwrap_err();
    assert!(matches!(e, AdminError::ParamRepeated(ref f) if f == "maxWorkers"), "{e:?}");
}

#[test]
fn validate_reports_first_problem_in_name_order() {
    // "aaa" sorts before the known names: libvirt's walk reports it as unsupported even
    // though a later parameter has the wrong type.
    let bad_type = TypedParam::new("minWorkers", TypedParamValue::String("x".into()));
    let e = validate(&[bad_type.clone(), uint("aaa", 1)], &POOL_KEYS).unwrap_err();
    assert!(matches!(e, AdminError::ParamNotSupported(ref f) if f == "aaa"), "{e:?}");
    // "zzz" sorts after them: the type error comes first.
    let e = validate(&[uint("zzz", 1), bad_type], &POOL_KEYS).unwrap_err();
    assert!(matches!(e, AdminError::ParamType { .. }), "{e:?}");
}

#[test]
fn check_fields_long_name_refused() {
    let long = "x".repeat(80);
    let e = check_fields(&[uint("minWorkers", 1), uint(&long, 1)]).unwrap_err().to_remote();
    assert_eq!(e.code, VIR_ERR_INTERNAL_ERROR);
    assert_eq!(e.message(), format!("internal error: parameter {long} too big for destination"));
    assert!(check_fields(&[uint(&"y".repeat(79), 1)]).is_ok());
}

// ---- thread pool and client limits ----

fn pool(min: usize, max: usize) -> PoolParams {
    PoolParams { min_workers: min, max_workers: max, prio_workers: 5, ..PoolParams::default() }
}

#[test]
fn threadpool_change_min_above_current_max_refused() {
    let e = threadpool_change(&[uint("minWorkers", 50)], &pool(5, 20)).unwrap_err().to_remote();
    assert_eq!(e.message(), "invalid argument: minWorkers cannot be larger than maxWorkers");
}

#[test]
fn threadpool_change_max_zero_refused() {
    let e = threadpool_change(&[uint("minWorkers", 0), uint("maxWorkers", 0)], &pool(5, 20)).unwrap_err();
    assert!(matches!(e, AdminError::MaxWorkersZeroSwitch), "{e:?}");
}

#[test]
fn threadpool_change_read_only_param_refused() {
    let e = threadpool_change(&[uint("freeWorkers", 1)], &pool(5, 20)).unwrap_err();
    assert!(matches!(e, AdminError::ParamNotSupported(ref f) if f == "freeWorkers"), "{e:?}");
}

#[test]
fn threadpool_change_valid_values_returned() {
    let c = threadpool_change(&[uint("prioWorkers", 0), uint("maxWorkers", 3)], &pool(2, 20)).unwrap();
    assert_eq!(c, PoolChange { min: None, max: Some(3), prio: Some(0) });
}

#[test]
fn client_limits_below_unauth_refused() {
    let e = client_limits_change(&[uint("nclients_max", 2)], 5000, 20).unwrap_err().to_remote();
    assert_eq!((e.code, e.domain), (VIR_ERR_INVALID_ARG, VIR_FROM_RPC));
    assert!(e.message().starts_with("invalid argument: The overall maximum number of clients must not be less"));
}

#[test]
fn client_limits_both_values_checked_together() {
    let p = [uint("nclients_max", 2), uint("nclients_unauth_max", 1)];
    assert_eq!(client_limits_change(&p, 5000, 20).unwrap(), LimitsChange { max: Some(2), unauth_max: Some(1) });
    assert!(client_limits_change(&[uint("nclients", 2)], 5000, 20).is_err());
}

#[test]
fn listed_without_need_results_gives_count_only() {
    let (items, n) = listed(2, 0, "server", 10, || vec![1, 2]).unwrap();
    assert!(items.is_empty());
    assert_eq!(n, 2);
    let (items, n) = listed(2, 1, "server", 10, || vec![1, 2]).unwrap();
    assert_eq!((items, n), (vec![1, 2], 2));
}

#[test]
fn listed_over_limit_refused() {
    let e = listed(11, 0, "client", 10, Vec::<u8>::new).unwrap_err().to_remote();
    assert_eq!(e.message(), "internal error: Too many clients '11' for limit '10'");
}

// ---- client identity ----

fn identity() -> Identity {
    Identity {
        uid: Some(0),
        gid: Some(0),
        pid: Some(1234),
        user_name: Some("root".into()),
        group_name: Some("root".into()),
        sasl_user: Some("fred".into()),
        x509_dn: Some("CN=client".into()),
        ..Identity::default()
    }
}

fn fields(p: &[TypedParam]) -> Vec<&str> {
    p.iter().map(|p| p.field.as_str()).collect()
}

#[test]
fn info_params_local_client_has_unix_credentials() {
    let p = info_params(true, true, None, &identity());
    assert_eq!(
        fields(&p),
        ["readonly", "sasl_user_name", "unix_user_id", "unix_user_name", "unix_group_id", "unix_group_name", "unix_process_id"]
    );
    assert_eq!(p[0].value, TypedParamValue::Boolean(true));
    assert_eq!(p[6].value, TypedParamValue::Int(1234));
}

#[test]
fn info_params_network_client_has_address_and_dname() {
    let mut id = identity();
    id.selinux_context = Some("system_u:system_r:x:s0".into());
    let p = info_params(false, false, Some("192.168.1.2;40000"), &id);
    assert_eq!(fields(&p), ["readonly", "sasl_user_name", "sock_addr", "tls_x509_dname", "selinux_context"]);
    assert_eq!(p[2].value, TypedParamValue::String("192.168.1.2:40000".into()));
}

#[test]
fn info_params_unknown_identity_has_readonly_only() {
    assert_eq!(fields(&info_params(false, true, None, &Identity::default())), ["readonly"]);
}

#[test]
fn uri_addr_brackets_ipv6() {
    assert_eq!(uri_addr("::1;16509"), "[::1]:16509");
    assert_eq!(uri_addr("10.0.0.1;5"), "10.0.0.1:5");
    assert_eq!(uri_addr("odd"), "odd");
}

// ---- error texts ----

#[test]
fn no_server_errors_use_each_callers_text_and_domain() {
    let e = AdminError::NoServerNamed("foo".into()).to_remote();
    assert_eq!((e.code, e.domain), (VIR_ERR_NO_SERVER, VIR_FROM_RPC));
    assert_eq!(e.message(), "Server not found: No server named 'foo'");
    let e = AdminError::NoServerMatching("foo".into()).to_remote();
    assert_eq!((e.code, e.domain), (VIR_ERR_NO_SERVER, VIR_FROM_ADMIN));
    assert_eq!(e.message(), "Server not found: no server with matching name 'foo' found");
}

#[test]
fn no_client_errors_use_each_callers_text_and_domain() {
    let e = AdminError::NoClientWithId(7).to_remote();
    assert_eq!(e.message(), "Client not found: No client with matching ID '7'");
    let e = AdminError::NoClientMatching(u64::MAX).to_remote();
    assert_eq!((e.code, e.domain), (VIR_ERR_NO_CLIENT, VIR_FROM_ADMIN));
    assert_eq!(e.message(), "Client not found: no client with matching id '18446744073709551615' found");
}

#[test]
fn log_syntax_error_is_invalid_argument() {
    let err = crate::util::log::LogError::MalformedFilter { spec: "x".into() };
    let e = AdminError::Logging(err).to_remote();
    assert_eq!((e.code, e.domain), (VIR_ERR_INVALID_ARG, VIR_FROM_NONE));
    assert_eq!(e.message(), "invalid argument: Malformed format for filter 'x'");
}

#[test]
fn log_open_failure_is_system_error_with_errno() {
    let err = crate::util::log::LogError::Io { path: "/nonexistent/x.log".into(), err: std::io::Error::from_raw_os_error(libc::ENOENT) };
    let e = AdminError::Logging(err).to_remote();
    assert_eq!((e.code, e.int1), (VIR_ERR_SYSTEM_ERROR, libc::ENOENT));
    assert_eq!(e.message(), "failed to open /nonexistent/x.log: No such file or directory");
}
