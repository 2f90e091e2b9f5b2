//! Logging backend for the `log` crate with libvirt's outputs, filters and line format
//! (util/virlog.c; the start-up rules of util/virdaemon.c virDaemonSetupLogging).
//!
//! One global logger holds an immutable snapshot (default level, filters, opened outputs)
//! behind an `RwLock<Arc<_>>`; changes build a new snapshot and swap it in whole.
//! `log::max_level()` is kept at the most verbose level any filter or output could let
//! through, so a disabled `debug!` costs one atomic load. Sub-modules: `spec` (parsing
//! and decisions), `format` (line and journald layout), `output` (the I/O), `setup`
//! (precedence and default output).

mod error;
mod filter;
mod format;
mod output;
mod setup;
mod spec;

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::SystemTime;

pub use self::error::LogError;
pub use self::format::format_timestamp;
pub use self::setup::{ENV_DEBUG, ENV_FILTERS, ENV_OUTPUTS};
pub use self::spec::{parse_default_priority, Priority, VIR_LOG_DEBUG, VIR_LOG_DEFAULT, VIR_LOG_ERROR, VIR_LOG_INFO, VIR_LOG_WARN};

use self::filter::Filter;
use self::format::Origin;
use self::output::{EmitCtx, Output, Rendered, JOURNAL_SOCKET};
use self::spec::Dest;

/// The `log_level`, `log_filters` and `log_outputs` values of a daemon config file.
/// `level` 0 means "not set"; `None` strings mean the key was absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSettings {
    pub level: u32,
    pub filters: Option<String>,
    pub outputs: Option<String>,
}

/// One consistent set of logging settings; never changed once published.
#[derive(Clone)]
struct State {
    default: Priority,
    filters: Vec<Filter>,
    /// Empty means the stderr fallback, which takes every record passing the filters.
    outputs: Vec<Arc<Output>>,
    /// What `set_outputs("")` goes back to; known once `setup` has run.
    default_output: Option<spec::OutputSpec>,
    /// The daemon name, sent to journald as SYSLOG_IDENTIFIER.
    ident: String,
}

impl State {
    fn initial(ident: &str) -> State {
        State { default: VIR_LOG_DEFAULT, filters: Vec::new(), outputs: Vec::new(), default_output: None, ident: ident.to_string() }
    }

    /// Whether a record of `priority` and `category` would reach at least one output.
    fn wants(&self, priority: Priority, category: &str) -> bool {
        priority >= filter::category_priority(&self.filters, self.default, category)
            && (self.outputs.is_empty() || self.outputs.iter().any(|o| priority >= o.priority()))
    }

    fn max_level(&self) -> ::log::LevelFilter {
        let outs: Vec<Priority> = self.outputs.iter().map(|o| o.priority()).collect();
        filter::most_verbose(self.default, &self.filters, &outs).to_level_filter()
    }

    /// Filters one `log` record and emits it: the category comes from the target, the
    /// place written in the line from the module path.
    fn log_record(&self, record: &::log::Record<'_>, now: SystemTime, tid: u64) {
        let priority = Priority::from_log(record.level());
        let category = filter::category_of(record.target());
        if !self.wants(priority, &category) {
            return;
        }
        let place = record.module_path().map(filter::category_of);
        let origin = Origin {
            category: &category,
            place: Some(place.as_deref().unwrap_or(&category)),
            file: record.file(),
            line: record.line().unwrap_or(0),
            module: record.module_path(),
        };
        let msg = record.args().to_string();
        self.emit(priority, &origin, &msg, now, tid);
    }

    /// Renders one record (already known to be wanted) and hands it to the outputs.
    // C: virLogVMessage
    fn emit(&self, priority: Priority, origin: &Origin<'_>, msg: &str, now: SystemTime, tid: u64) {
        let place = origin.place.map(|p| (p, origin.line));
        let text = format::format_message(tid, priority, place, msg);
        let timestamp = format::format_timestamp(now);
        let rec = Rendered { priority, origin: *origin, raw: msg, text: &text, timestamp: &timestamp };
        let ctx = EmitCtx { tid, hostname: hostname(), ident: &self.ident };
        if self.outputs.is_empty() {
            if STDERR_INIT_PENDING.swap(false, Ordering::AcqRel) {
                for raw in [format::version_string(), format::hostname_string(ctx.hostname)] {
                    let t = format::format_message(tid, Priority::Info, None, &raw);
                    let init = Rendered { priority: Priority::Info, raw: &raw, text: &t, ..rec };
                    output::write_stderr(&init);
                }
            }
            output::write_stderr(&rec);
            return;
        }
        for out in &self.outputs {
            out.emit(&rec, &ctx);
        }
    }
}

static STATE: RwLock<Option<Arc<State>>> = RwLock::new(None);
/// Serializes read-modify-publish of STATE (readers never wait on it).
static UPDATE: Mutex<()> = Mutex::new(());
/// The stderr fallback writes the version lines once per process, as libvirt does.
static STDERR_INIT_PENDING: AtomicBool = AtomicBool::new(true);
static LOGGER: Logger = Logger;
static HOSTNAME: OnceLock<String> = OnceLock::new();

fn hostname() -> &'static str {
    HOSTNAME.get_or_init(output::hostname)
}

fn current() -> Arc<State> {
    let g = STATE.read().unwrap_or_else(|e| e.into_inner());
    match &*g {
        Some(s) => Arc::clone(s),
        None => Arc::new(State::initial("")),
    }
}

/// Publishes `new` (caller holds UPDATE), points syslog at the new ident and updates
/// `log`'s max level.
// C: virLogDefineOutputs, virLogDefineFilters
fn publish(new: State) {
    let ident = new.outputs.iter().find_map(|o| match &o.spec.dest {
        Dest::Syslog(id) => Some(id.as_str()),
        _ => None,
    });
    output::syslog_activate(ident);
    ::log::set_max_level(new.max_level());
    *STATE.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(new));
}

struct Logger;

impl ::log::Log for Logger {
    fn enabled(&self, metadata: &::log::Metadata<'_>) -> bool {
        let st = current();
        st.wants(Priority::from_log(metadata.level()), &filter::category_of(metadata.target()))
    }

    fn log(&self, record: &::log::Record<'_>) {
        // The tid is not cached: after `-d` forks, the daemon's main thread has a new one.
        current().log_record(record, SystemTime::now(), output::gettid());
    }

    fn flush(&self) {}
}

/// Installs the logger before the config is read: no outputs (libvirt's stderr fallback)
/// and the warning level. Calling it again resets the settings.
pub fn init_early(daemon_name: &str) {
    let _guard = UPDATE.lock().unwrap_or_else(|e| e.into_inner());
    publish(State::initial(daemon_name));
    // Fails only if a logger is already installed (ours, or a test harness's).
    let _ = ::log::set_logger(&LOGGER);
}

fn cwd() -> Result<PathBuf, LogError> {
    std::env::current_dir().map_err(|err| LogError::Cwd { err })
}

fn open_outputs(specs: Vec<spec::OutputSpec>) -> Result<Vec<Arc<Output>>, Vec<LogError>> {
    let mut opened = Vec::with_capacity(specs.len());
    let mut errors = Vec::new();
    for s in specs {
        match Output::open(s, Path::new(JOURNAL_SOCKET)) {
            Ok(o) => opened.push(Arc::new(o)),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(opened)
    } else {
        Err(errors)
    }
}

/// Sets logging up from the config values, the environment (LIBVIRT_DEBUG,
/// LIBVIRT_LOG_FILTERS, LIBVIRT_LOG_OUTPUTS) and `-v`, in that order of increasing
/// precedence; without outputs, the default output (see `setup::default_output`). On
/// error nothing changes and every problem found is returned.
// C: virDaemonSetupLogging
pub fn setup(daemon_name: &str, cfg: &LogSettings, privileged: bool, verbose: bool, godaemon: bool) -> Result<(), Vec<LogError>> {
    let env = |k: &str| std::env::var(k).ok();
    let probe = setup::Probe {
        journald: output::journald_available(Path::new(JOURNAL_SOCKET)).is_ok(),
        stdin_tty: io::stdin().is_terminal(),
        user_cache: setup::user_cache_dir(&env),
    };
    let cwd = cwd().map_err(|e| vec![e])?;
    let plan = setup::plan(daemon_name, cfg, &env, privileged, verbose, godaemon, &probe, &cwd)?;
    if let Some(dir) = &plan.default_output.dir {
        create_log_dir(dir).map_err(|e| vec![e])?;
    }
    let specs = match plan.outputs {
        Some(list) => list,
        None => vec![plan.default_output.output.clone()],
    };
    let outputs = open_outputs(specs)?;
    let _guard = UPDATE.lock().unwrap_or_else(|e| e.into_inner());
    publish(State {
        default: plan.level,
        filters: plan.filters,
        outputs,
        default_output: Some(plan.default_output.output),
        ident: daemon_name.to_string(),
    });
    Ok(())
}

/// Creates the default log file's directory (and parents) private to the daemon's user.
fn create_log_dir(dir: &Path) -> Result<(), LogError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|err| LogError::LogDir { path: dir.to_path_buf(), err })
}

/// Validates config values without changing anything (for `--check-config`): the level,
/// the filter and output syntax, that journald is there if named and that a file
/// output's directory exists.
pub fn check(cfg: &LogSettings) -> Vec<LogError> {
    let mut errors = Vec::new();
    if let Err(e) = spec::config_priority(cfg.level) {
        errors.push(e);
    }
    if let Some(f) = &cfg.filters {
        if let Err(e) = filter::parse_filters(f) {
            errors.push(e);
        }
    }
    let Some(o) = &cfg.outputs else { return errors };
    let specs = match cwd().and_then(|c| spec::parse_outputs(o, &c)) {
        Ok(s) => s,
        Err(e) => {
            errors.push(e);
            return errors;
        }
    };
    for s in specs {
        match &s.dest {
            Dest::Journald => {
                if let Err(err) = output::journald_available(Path::new(JOURNAL_SOCKET)) {
                    errors.push(LogError::Journald { path: JOURNAL_SOCKET.into(), err });
                }
            }
            Dest::File(path) => {
                let dir = path.parent().unwrap_or(Path::new("/"));
                if !dir.is_dir() {
                    let err = io::Error::from_raw_os_error(libc::ENOENT);
                    errors.push(LogError::Io { path: path.clone(), err });
                }
            }
            Dest::Syslog(ident) if ident.contains('\0') => {
                errors.push(LogError::SyslogIdent { ident: ident.clone() });
            }
            _ => {}
        }
    }
    errors
}

/// Replaces the outputs (virt-admin daemon-log-outputs). An empty or blank string means
/// the default output chosen at `setup` (nothing changes if `setup` has not run). On
/// error the current outputs stay.
// C: virLogSetOutputs
pub fn set_outputs(spec_str: &str) -> Result<(), LogError> {
    let specs = if spec_str.trim_matches(' ').is_empty() {
        match current().default_output.clone() {
            Some(d) => vec![d],
            None => return Ok(()),
        }
    } else {
        spec::parse_outputs(spec_str, &cwd()?)?
    };
    let outputs = open_outputs(specs).map_err(|mut v| v.remove(0))?;
    let _guard = UPDATE.lock().unwrap_or_else(|e| e.into_inner());
    let mut st = (*current()).clone();
    st.outputs = outputs;
    publish(st);
    Ok(())
}

/// Replaces the filters (virt-admin daemon-log-filters); an empty string removes them.
// C: virLogSetFilters
pub fn set_filters(spec_str: &str) -> Result<(), LogError> {
    let filters = filter::parse_filters(spec_str)?;
    let _guard = UPDATE.lock().unwrap_or_else(|e| e.into_inner());
    let mut st = (*current()).clone();
    st.filters = filters;
    publish(st);
    Ok(())
}

/// The outputs in libvirt's form, e.g. `3:stderr 1:file:/var/log/x.log`.
// C: virLogGetOutputs
pub fn outputs() -> String {
    let specs: Vec<spec::OutputSpec> = current().outputs.iter().map(|o| o.spec.clone()).collect();
    spec::format_outputs(&specs)
}

/// The filters in libvirt's form: each `L:*match* ` with its trailing space, e.g.
/// `3:*rpc* 1:*util* `; empty without filters.
// C: virLogGetFilters
pub fn filters() -> String {
    filter::format_filters(&current().filters)
}

// C: virLogGetNbOutputs
pub fn nb_outputs() -> usize {
    current().outputs.len()
}

// C: virLogGetNbFilters
pub fn nb_filters() -> usize {
    current().filters.len()
}

// C: virLogGetDefaultPriority
pub fn default_level() -> u32 {
    current().default.as_u32()
}

/// Reopens every file output at its path (SIGHUP after logrotate). A file that cannot be
/// reopened keeps its old descriptor; its error is returned.
pub fn reopen() -> Result<(), Vec<LogError>> {
    let errors: Vec<LogError> = current().outputs.iter().filter_map(|o| o.reopen().err()).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod testdir;
#[cfg(test)]
mod tests;
