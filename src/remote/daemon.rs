//! Start of day for both daemons, in libvirt's order: arguments, config, logging, pidfile,
//! run directory, servers, signals, sockets, readiness, loop (libvirt's
//! remote/remote_daemon.c `main` and `daemonSetupNetworking`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use log::{error, info};

use crate::admin::AdminProgram;
use crate::remote::auth::Auth;
use crate::remote::cli::{self, Parsed};
use crate::remote::config::{DaemonConfig, DaemonKind};
use crate::rpc::netdaemon::{Core, NetDaemon, RunEnd};
use crate::rpc::program::Program;
use crate::rpc::sasl::{self, SaslConfig};
use crate::rpc::server::{NetServer, ServerLimits};
use crate::rpc::service::{AuthType, Service, Transport};
use crate::rpc::socket::{self, Listener};
use crate::rpc::tls::{TlsContext, TlsFiles, TlsSettings};
use crate::util::daemon::{DaemonErr, StatusPipe};
use crate::util::paths::{self, Env, SocketPaths};
use crate::util::pidfile::PidFile;
use crate::util::systemd::{Activation, ActivationMatch, ListenEnv};
use crate::util::{self, sys};

/// What makes one daemon binary different from the other.
pub struct DaemonSpec {
    /// Name of the daemon: config file, pidfile, unit names, log ident.
    pub name: &'static str,
    /// Prefix of the socket file names (`libvirt` for virtproxyd, as libvirtd had).
    pub sock_prefix: &'static str,
    pub kind: DaemonKind,
}

impl DaemonSpec {
    pub fn with_ip(&self) -> bool {
        self.kind == DaemonKind::Proxy
    }
}

/// What a daemon's main program gets to build itself from.
pub struct StartCtx<'a> {
    pub spec: &'a DaemonSpec,
    pub config: &'a DaemonConfig,
    pub config_path: &'a Path,
    pub privileged: bool,
    pub env: &'a Env,
    /// The authentication procedures' settings, for the REMOTE program.
    pub auth: Auth,
}

/// A failed start: the class (exit code / -d status) and what to print.
pub struct StartError {
    pub class: DaemonErr,
    pub msg: String,
}

impl StartError {
    pub fn new(class: DaemonErr, msg: impl Into<String>) -> StartError {
        StartError { class, msg: msg.into() }
    }
}

/// Builds the daemon's main program (its REMOTE program and what it drives) once the
/// listeners exist; it may register its own sources with the loop.
pub type ProgramFactory<'f> = dyn FnOnce(&StartCtx<'_>, &mut Core) -> Result<Box<dyn Program>, StartError> + 'f;

/// Runs a daemon to completion and returns its exit code.
pub fn run(spec: &DaemonSpec, make_program: Box<ProgramFactory<'_>>) -> i32 {
    crate::util::memtrim::tune_allocator();
    let argv: Vec<String> = std::env::args().collect();
    let argv0 = argv.first().cloned().unwrap_or_else(|| spec.name.to_string());
    let privileged = sys::geteuid() == 0;
    let args = match cli::parse(&argv0, argv.get(1..).unwrap_or(&[])) {
        Parsed::Run(a) => a,
        Parsed::Version(v) => {
            println!("{v}");
            return 0;
        }
        Parsed::Help => {
            eprint!("{}", cli::usage(&argv0, spec.name, spec.sock_prefix, spec.with_ip(), privileged));
            return 0;
        }
        Parsed::Fail { msg, usage } => {
            eprintln!("{msg}");
            if usage {
                eprint!("{}", cli::usage(&argv0, spec.name, spec.sock_prefix, spec.with_ip(), privileged));
            }
            return 1;
        }
    };
    sys::ignore_sigpipe();
    util::log::init_early(spec.name);
    let env = Env::from_process();

    let implicit = args.config.is_none();
    let config_path = match &args.config {
        Some(p) => PathBuf::from(p),
        None => paths::config_file(spec.name, privileged, &env),
    };
    if args.check_config {
        return check_config(spec, &config_path, implicit, privileged);
    }
    let mut config = DaemonConfig::new(spec.kind, privileged);
    if let Err(errs) = config.load_file(&config_path, implicit) {
        for e in errs {
            eprintln!("{}: Can't load config file: {}: {}", argv0, e, config_path.display());
        }
        return 1;
    }
    let problems = config.validate();
    if !problems.is_empty() {
        for p in problems {
            eprintln!("{}: {}: {}", argv0, config_path.display(), p);
        }
        return 1;
    }

    let log_settings = util::log::LogSettings {
        level: config.log_level.unwrap_or(0),
        filters: config.log_filters.clone(),
        outputs: config.log_outputs.clone(),
    };
    if let Err(errs) = util::log::setup(spec.name, &log_settings, privileged, args.verbose, args.daemon) {
        for e in errs {
            error!("{e}");
        }
    }

    let pid_path = match &args.pid_file {
        Some(p) => PathBuf::from(p),
        None => paths::pid_file(spec.name, privileged, &env),
    };
    let sock_paths = paths::socket_paths(spec.sock_prefix, privileged, config.unix_sock_dir.as_deref(), &env);

    let mut status = None;
    if args.daemon {
        if let Err(e) = std::env::set_current_dir("/") {
            error!("cannot change to root directory: {}", util::strerror(&e));
            return 1;
        }
        match util::daemon::fork_into_background(&argv0) {
            Ok(s) => status = Some(s),
            Err(e) => {
                error!("Failed to fork as daemon: {}", util::strerror(&e));
                return 1;
            }
        }
    }
    let code = start_and_run(spec, &args, &config, &config_path, privileged, &env, &pid_path, &sock_paths, status.as_mut(), make_program);
    if let (Some(s), Err(e)) = (status.as_mut(), &code) {
        s.report(e.class);
    }
    match code {
        Ok(()) => 0,
        Err(e) => {
            error!("{}", e.msg);
            e.class as i32
        }
    }
}

/// Everything from the pidfile on; an Err is reported to the `-d` parent by the caller.
#[allow(clippy::too_many_arguments)]
fn start_and_run(
    spec: &DaemonSpec,
    args: &cli::Args,
    config: &DaemonConfig,
    config_path: &Path,
    privileged: bool,
    env: &Env,
    pid_path: &Path,
    sock_paths: &SocketPaths,
    status: Option<&mut StatusPipe>,
    make_program: Box<ProgramFactory<'_>>,
) -> Result<(), StartError> {
    if !privileged {
        if let Some(dir) = pid_path.parent() {
            let old = sys::umask(0o077);
            let _ = std::fs::create_dir_all(dir);
            sys::umask(old);
        }
    }
    let _pidfile = PidFile::acquire(pid_path, sys::getpid()).map_err(|e| StartError::new(DaemonErr::Pidfile, e.to_string()))?;

    let run_dir = paths::run_dir(privileged, env);
    let old = sys::umask(if privileged { 0o022 } else { 0o077 });
    let made = std::fs::create_dir_all(&run_dir);
    sys::umask(old);
    made.map_err(|e| StartError::new(DaemonErr::Rundir, format!("unable to create rundir {}: {}", run_dir.display(), util::strerror(&e))))?;

    let mut dmn = NetDaemon::new(spec.name, privileged).map_err(|e| StartError::new(DaemonErr::Init, e.to_string()))?;
    let main_limits = ServerLimits {
        max_clients: config.max_clients as usize,
        max_anonymous_clients: config.max_anonymous_clients as usize,
        keepalive_interval: config.keepalive_interval,
        keepalive_count: config.keepalive_count,
        min_workers: config.min_workers as usize,
        max_workers: config.max_workers as usize,
        prio_workers: config.prio_workers as usize,
    };
    let adm_limits = ServerLimits {
        max_clients: config.admin_max_clients as usize,
        max_anonymous_clients: 0,
        keepalive_interval: config.admin_keepalive_interval,
        keepalive_count: config.admin_keepalive_count,
        min_workers: config.admin_min_workers as usize,
        max_workers: config.admin_max_workers as usize,
        prio_workers: 0,
    };
    let srv = NetServer::new(spec.name, &main_limits).map_err(|e| StartError::new(DaemonErr::Init, e.to_string()))?;
    let srv_adm = NetServer::new("admin", &adm_limits).map_err(|e| StartError::new(DaemonErr::Init, e.to_string()))?;
    let srv = dmn.add_server(srv);
    let srv_adm = dmn.add_server(srv_adm);

    if args.timeout > 0 {
        dmn.set_auto_shutdown(args.timeout);
    }
    dmn.setup_signals().map_err(|e| StartError::new(DaemonErr::Signal, e.to_string()))?;

    setup_networking(spec, &mut dmn, config, sock_paths, srv, srv_adm).map_err(|msg| StartError::new(DaemonErr::Network, msg))?;
    let auth = setup_remote_auth(&mut dmn, config, privileged, env).map_err(|msg| StartError::new(DaemonErr::Network, msg))?;

    let ctx = StartCtx { spec, config, config_path, privileged, env, auth };
    let program = make_program(&ctx, &mut dmn.core)?;
    dmn.add_program(srv, program);
    dmn.add_program(srv_adm, Box::new(AdminProgram));

    // Logging settings are what SIGHUP can change; the driver reloads its own state.
    let cfg_path = config_path.to_path_buf();
    let (kind, verbose, godaemon, name) = (spec.kind, args.verbose, args.daemon, spec.name);
    dmn.core.reload_hook = Some(Box::new(move |_core| reload_logging(name, kind, &cfg_path, privileged, verbose, godaemon)));

    if let Some(s) = status {
        s.report(DaemonErr::None);
    }
    crate::util::systemd::notify_ready();
    // Start-up code is not needed again: let it leave the resident set (see util::memtrim).
    let trimmed = crate::util::memtrim::trim_code_pages();
    log::debug!("dropped the start-up code pages of {trimmed} mappings");
    info!("{} started", spec.name);
    match dmn.run() {
        RunEnd::Signal(s) => info!("Shutting down on signal {s}"),
        RunEnd::Timeout => info!("Shutting down after idle timeout"),
        RunEnd::Quit => {}
    }
    drop(dmn);
    Ok(())
}

fn reload_logging(name: &str, kind: DaemonKind, path: &Path, privileged: bool, verbose: bool, godaemon: bool) {
    let mut cfg = DaemonConfig::new(kind, privileged);
    if let Err(errs) = cfg.load_file(path, true) {
        for e in errs {
            log::warn!("Keeping the current logging settings: {e}: {}", path.display());
        }
        return;
    }
    let settings = util::log::LogSettings { level: cfg.log_level.unwrap_or(0), filters: cfg.log_filters, outputs: cfg.log_outputs };
    if let Err(errs) = util::log::setup(name, &settings, privileged, verbose, godaemon) {
        for e in errs {
            log::warn!("{e}");
        }
    }
    let _ = util::log::reopen();
}

fn parse_mode(key: &str, s: &str) -> Result<u32, String> {
    u32::from_str_radix(s.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("Failed to parse mode '{s}' of {key}"))
}

/// Creates (or takes from socket activation) every listening socket.
// C: daemonSetupNetworking
fn setup_networking(
    spec: &DaemonSpec,
    dmn: &mut NetDaemon,
    config: &DaemonConfig,
    paths: &SocketPaths,
    srv: usize,
    srv_adm: usize,
) -> Result<(), String> {
    let name = spec.name;
    let rw_name = format!("{name}.socket");
    let ro_name = format!("{name}-ro.socket");
    let adm_name = format!("{name}-admin.socket");
    let tcp_name = format!("{name}-tcp.socket");
    let tls_name = format!("{name}-tls.socket");

    let mut map = vec![(rw_name.clone(), ActivationMatch::Unix(paths.rw.clone()))];
    if let Some(p) = &paths.ro {
        map.push((ro_name.clone(), ActivationMatch::Unix(p.clone())));
    }
    if let Some(p) = &paths.admin {
        map.push((adm_name.clone(), ActivationMatch::Unix(p.clone())));
    }
    if spec.with_ip() {
        if let Some(p) = socket::resolve_service(&config.tcp_port) {
            map.push((tcp_name.clone(), ActivationMatch::Port(p)));
        }
        if let Some(p) = socket::resolve_service(&config.tls_port) {
            map.push((tls_name.clone(), ActivationMatch::Port(p)));
        }
    }
    let mut act = Activation::from_env(&ListenEnv::take_from_process(), &map).map_err(|e| e.to_string())?;

    let gid = match &config.unix_sock_group {
        Some(g) => Some(sys::group_id(g).ok_or_else(|| format!("Failed to find group record for name '{g}'"))?),
        None => None,
    };
    let rw_mode = parse_mode("unix_sock_rw_perms", &config.unix_sock_rw_perms)?;
    let ro_mode = parse_mode("unix_sock_ro_perms", &config.unix_sock_ro_perms)?;
    let adm_mode = parse_mode("unix_sock_admin_perms", &config.unix_sock_admin_perms)?;

    struct Want<'a> {
        name: &'a str,
        path: &'a Path,
        mode: u32,
        auth: AuthType,
        readonly: bool,
        server: usize,
        backlog: u32,
        nreq: u32,
    }
    let mut wants = vec![Want {
        name: &rw_name,
        path: &paths.rw,
        mode: rw_mode,
        auth: config.auth_unix_rw,
        readonly: false,
        server: srv,
        backlog: config.max_queued_clients,
        nreq: config.max_client_requests,
    }];
    if let Some(p) = &paths.ro {
        wants.push(Want {
            name: &ro_name,
            path: p,
            mode: ro_mode,
            auth: config.auth_unix_ro,
            readonly: true,
            server: srv,
            backlog: config.max_queued_clients,
            nreq: config.max_client_requests,
        });
    }
    if let Some(p) = &paths.admin {
        wants.push(Want {
            name: &adm_name,
            path: p,
            mode: adm_mode,
            auth: AuthType::None,
            readonly: false,
            server: srv_adm,
            backlog: config.admin_max_queued_clients,
            nreq: config.admin_max_client_requests,
        });
    }
    for w in wants {
        let (listeners, unlink) = match act.as_mut() {
            Some(a) => {
                let fds = a.claim(w.name);
                if fds.is_empty() {
                    // Activated without this unit: the service is simply not offered.
                    continue;
                }
                let ls = fds
                    .into_iter()
                    .map(Listener::from_activation)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("Unusable activation socket for {}: {e}", w.name))?;
                (ls, Vec::new())
            }
            None => {
                if let Some(dir) = w.path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                let l = socket::listen_unix(w.path, w.mode, gid, w.backlog).map_err(|e| e.to_string())?;
                (vec![Listener::Unix(l)], vec![w.path.to_path_buf()])
            }
        };
        let svc = dmn.add_service(Service {
            name: w.name.to_string(),
            server: w.server,
            auth: w.auth,
            readonly: w.readonly,
            transport: Transport::Unix,
            nrequests_client_max: w.nreq,
            unlink_on_close: unlink,
        });
        for l in listeners {
            dmn.add_listener(svc, l).map_err(|e| e.to_string())?;
        }
    }

    if spec.with_ip() {
        let tcp_fds = match act.as_mut() {
            Some(a) => a.claim(&tcp_name),
            None => Vec::new(),
        };
        let want_tcp = if act.is_some() { !tcp_fds.is_empty() } else { config.listen_tcp };
        if want_tcp {
            let listeners = if act.is_some() {
                tcp_fds
                    .into_iter()
                    .map(Listener::from_activation)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("Unusable activation socket for {tcp_name}: {e}"))?
            } else {
                socket::listen_tcp(config.listen_addr.as_deref(), &config.tcp_port, config.max_queued_clients)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(Listener::Tcp)
                    .collect()
            };
            let svc = dmn.add_service(Service {
                name: tcp_name.clone(),
                server: srv,
                auth: config.auth_tcp,
                readonly: false,
                transport: Transport::Tcp,
                nrequests_client_max: config.max_client_requests,
                unlink_on_close: Vec::new(),
            });
            for l in listeners {
                dmn.add_listener(svc, l).map_err(|e| e.to_string())?;
            }
        }
        let tls_fds = match act.as_mut() {
            Some(a) => a.claim(&tls_name),
            None => Vec::new(),
        };
        let want_tls = if act.is_some() { !tls_fds.is_empty() } else { config.listen_tls };
        if want_tls {
            let listeners = if act.is_some() {
                tls_fds
                    .into_iter()
                    .map(Listener::from_activation)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("Unusable activation socket for {tls_name}: {e}"))?
            } else {
                socket::listen_tcp(config.listen_addr.as_deref(), &config.tls_port, config.max_queued_clients)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(Listener::Tcp)
                    .collect()
            };
            let svc = dmn.add_service(Service {
                name: tls_name.clone(),
                server: srv,
                auth: config.auth_tls,
                readonly: false,
                transport: Transport::Tls,
                nrequests_client_max: config.max_client_requests,
                unlink_on_close: Vec::new(),
            });
            for l in listeners {
                dmn.add_listener(svc, l).map_err(|e| e.to_string())?;
            }
        }
    }
    if let Some(a) = &act {
        a.complete().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The TLS settings of the config: explicit files when key_file/cert_file/ca_file are set
/// (validated as a set), else the default locations.
// C: daemonSetupNetworking (the TLS context part)
pub fn tls_settings(config: &DaemonConfig, privileged: bool, env: &Env) -> Result<TlsSettings, String> {
    let files = match (&config.key_file, &config.cert_file, &config.ca_file) {
        (Some(k), Some(c), Some(ca)) => TlsFiles {
            ca: PathBuf::from(ca),
            crl: config.crl_file.as_ref().map(PathBuf::from),
            cert: PathBuf::from(c),
            key: PathBuf::from(k),
        },
        _ => {
            let mut f = TlsFiles::locate(privileged, env.home.as_deref().map(Path::new)).map_err(|e| e.to_string())?;
            if let Some(crl) = &config.crl_file {
                f.crl = Some(PathBuf::from(crl));
            }
            f
        }
    };
    Ok(TlsSettings {
        files,
        no_sanity: config.tls_no_sanity_certificate,
        no_verify: config.tls_no_verify_certificate,
        allowed_dn: config.tls_allowed_dn_list.clone(),
        priority: config.tls_priority.clone(),
    })
}

/// Builds the TLS context when there is a TLS service and sets up SASL when a service
/// uses it; either failing stops the start. Returns the REMOTE program's auth settings.
// C: daemonSetupNetworking (virNetTLSContextNewServer*, virNetSASLContextNewServer)
fn setup_remote_auth(dmn: &mut NetDaemon, config: &DaemonConfig, privileged: bool, env: &Env) -> Result<Auth, String> {
    let core = &mut dmn.core;
    if core.services.iter().any(|s| s.transport == Transport::Tls) {
        let ctx = TlsContext::new(tls_settings(config, privileged, env)?).map_err(|e| e.to_string())?;
        core.tls = Some(Arc::new(ctx));
    }
    if core.services.iter().any(|s| s.auth == AuthType::Sasl) {
        sasl::server_init().map_err(|e| e.to_string())?;
    }
    let sasl = Arc::new(SaslConfig { allowed_users: config.sasl_allowed_username_list.clone(), tcp_min_ssf: config.min_ssf() });
    Ok(Auth { sasl: Some(sasl) })
}

/// `--check-config`: report every problem of the config file and the logging settings.
pub fn check_config(spec: &DaemonSpec, path: &Path, implicit: bool, privileged: bool) -> i32 {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if implicit && e.kind() == std::io::ErrorKind::NotFound => {
            println!("{}: not found, defaults apply", path.display());
            return 0;
        }
        Err(e) => {
            eprintln!("{}: {}", path.display(), util::strerror(&e));
            return 1;
        }
    };
    let fname = path.display().to_string();
    let (conf, syntax) = util::conf::Conf::parse_all(&fname, &text);
    let mut problems: Vec<String> = syntax.iter().map(|e| e.to_string()).collect();
    let mut config = DaemonConfig::new(spec.kind, privileged);
    if let Err(errs) = config.load_conf(&conf) {
        problems.extend(errs.iter().map(|e| e.to_string()));
    }
    problems.extend(config.validate().iter().map(|e| format!("{fname}: {e}")));
    let settings = util::log::LogSettings {
        level: config.log_level.unwrap_or(0),
        filters: config.log_filters.clone(),
        outputs: config.log_outputs.clone(),
    };
    problems.extend(util::log::check(&settings).iter().map(|e| format!("{fname}: {e}")));
    if let Some(g) = &config.unix_sock_group {
        if sys::group_id(g).is_none() {
            problems.push(format!("{fname}: Failed to find group record for name '{g}'"));
        }
    }
    if problems.is_empty() {
        println!("{fname}: OK");
        0
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        1
    }
}
