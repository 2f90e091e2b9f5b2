//! Which level, filters and outputs the daemon starts with: config, then environment, then
//! `--verbose`, then the default output (util/virdaemon.c virDaemonSetupLogging,
//! util/virlog.c virLogSetFromEnv and virLogSetDefaultOutput). Pure: the environment and
//! the host probes are passed in.

use std::path::{Path, PathBuf};

use super::filter::{self, Filter};
use super::spec::{self, Dest, OutputSpec, Priority, VIR_LOG_DEFAULT, VIR_LOG_INFO};
use super::{LogError, LogSettings};

/// Environment variables that override the config file.
pub const ENV_DEBUG: &str = "LIBVIRT_DEBUG";
pub const ENV_FILTERS: &str = "LIBVIRT_LOG_FILTERS";
pub const ENV_OUTPUTS: &str = "LIBVIRT_LOG_OUTPUTS";

/// Directory of the privileged daemons' default log files (LOCALSTATEDIR "/log/libvirt").
pub const PRIVILEGED_LOG_DIR: &str = "/var/log/libvirt";

/// What the host looks like, for the choice of the default output.
#[derive(Clone, Debug)]
pub struct Probe {
    /// The journald socket accepts datagrams.
    pub journald: bool,
    /// Standard input is a terminal.
    pub stdin_tty: bool,
    /// The user's cache directory ($XDG_CACHE_HOME, else ~/.cache), when known.
    pub user_cache: Option<PathBuf>,
}

/// The default output, plus the directory its file needs. Kept as a parsed spec: a
/// cache directory may hold spaces or colons that the string form cannot carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultOutput {
    pub output: OutputSpec,
    pub dir: Option<PathBuf>,
}

/// The outcome of the precedence rules.
#[derive(Clone, Debug)]
pub struct Plan {
    pub level: Priority,
    pub filters: Vec<Filter>,
    /// Outputs set by config or environment; `None` means the default output.
    pub outputs: Option<Vec<OutputSpec>>,
    pub default_output: DefaultOutput,
}

/// The default output for a daemon at `level`: with `-d`, journald when it is there, else
/// a file; in the foreground, journald when stdin is not a terminal and journald is
/// there, else stderr. Journald never gets debug by default (rate limiting); it gets info.
// C: virLogSetDefaultOutput
pub fn default_output(daemon: &str, level: Priority, godaemon: bool, privileged: bool, probe: &Probe) -> Result<DefaultOutput, LogError> {
    let journald = || DefaultOutput { output: OutputSpec { priority: level.max(VIR_LOG_INFO), dest: Dest::Journald }, dir: None };
    if !godaemon {
        if !probe.stdin_tty && probe.journald {
            return Ok(journald());
        }
        return Ok(DefaultOutput { output: OutputSpec { priority: level, dest: Dest::Stderr }, dir: None });
    }
    if probe.journald {
        return Ok(journald());
    }
    let dir =
        if privileged { PathBuf::from(PRIVILEGED_LOG_DIR) } else { probe.user_cache.as_ref().ok_or(LogError::NoCacheDir)?.join("libvirt") };
    let file = dir.join(format!("{}.log", daemon));
    Ok(DefaultOutput { output: OutputSpec { priority: level, dest: Dest::File(file) }, dir: Some(dir) })
}

/// Applies config < environment < `--verbose` (each one overriding the one before) and
/// works out the default output. Every error found is reported, not just the first.
// C: virDaemonSetupLogging
#[allow(clippy::too_many_arguments)]
pub fn plan(
    daemon: &str,
    cfg: &LogSettings,
    env: &dyn Fn(&str) -> Option<String>,
    privileged: bool,
    verbose: bool,
    godaemon: bool,
    probe: &Probe,
    cwd: &Path,
) -> Result<Plan, Vec<LogError>> {
    let mut errors = Vec::new();
    let mut level = VIR_LOG_DEFAULT;
    let mut filters = Vec::new();
    let mut outputs = None;

    match spec::config_priority(cfg.level) {
        Ok(Some(p)) => level = p,
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    if let Some(f) = &cfg.filters {
        match filter::parse_filters(f) {
            Ok(list) => filters = list,
            Err(e) => errors.push(e),
        }
    }
    if let Some(o) = &cfg.outputs {
        match spec::parse_outputs(o, cwd) {
            Ok(list) => outputs = Some(list),
            Err(e) => errors.push(e),
        }
    }

    // C: virLogSetFromEnv (an empty variable counts as unset)
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(v) = var(ENV_DEBUG) {
        match spec::parse_default_priority(&v) {
            Ok(p) => level = p,
            Err(e) => errors.push(e),
        }
    }
    if let Some(v) = var(ENV_FILTERS) {
        match filter::parse_filters(&v) {
            Ok(list) => filters = list,
            Err(e) => errors.push(e),
        }
    }
    if let Some(v) = var(ENV_OUTPUTS) {
        match spec::parse_outputs(&v, cwd) {
            Ok(list) => outputs = Some(list),
            Err(e) => errors.push(e),
        }
    }

    if verbose && level > VIR_LOG_INFO {
        level = VIR_LOG_INFO;
    }

    let default_output = match default_output(daemon, level, godaemon, privileged, probe) {
        Ok(d) if errors.is_empty() => d,
        Ok(_) => return Err(errors),
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };
    let outputs = outputs.filter(|l: &Vec<OutputSpec>| !l.is_empty());
    Ok(Plan { level, filters, outputs, default_output })
}

/// The user's cache directory as glib finds it: $XDG_CACHE_HOME, else $HOME/.cache.
pub fn user_cache_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(x) = env("XDG_CACHE_HOME").filter(|v| Path::new(v).is_absolute()) {
        return Some(PathBuf::from(x));
    }
    env("HOME").filter(|v| !v.is_empty()).map(|h| Path::new(&h).join(".cache"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn probe(journald: bool, stdin_tty: bool) -> Probe {
        Probe { journald, stdin_tty, user_cache: Some("/home/u/.cache".into()) }
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    fn run(cfg: &LogSettings, env: &[(&str, &str)], verbose: bool) -> Result<Plan, Vec<LogError>> {
        plan("virtproxyd", cfg, &env_of(env), true, verbose, false, &probe(false, true), Path::new("/"))
    }

    fn cfg(level: u32, filters: Option<&str>, outputs: Option<&str>) -> LogSettings {
        LogSettings { level, filters: filters.map(String::from), outputs: outputs.map(String::from) }
    }

    #[test]
    fn default_output_foreground_tty_is_stderr() {
        let d = default_output("virtproxyd", Priority::Warn, false, true, &probe(true, true)).unwrap();
        assert_eq!(d.output.to_string(), "3:stderr");
    }

    #[test]
    fn default_output_foreground_no_tty_with_journald() {
        let d = default_output("virtproxyd", Priority::Warn, false, true, &probe(true, false)).unwrap();
        assert_eq!(d.output.to_string(), "3:journald");
    }

    #[test]
    fn default_output_foreground_no_tty_without_journald_is_stderr() {
        let d = default_output("virtproxyd", Priority::Info, false, true, &probe(false, false)).unwrap();
        assert_eq!(d.output.to_string(), "2:stderr");
    }

    #[test]
    fn default_output_daemon_journald_never_debug() {
        let d = default_output("virtproxyd", Priority::Debug, true, true, &probe(true, true)).unwrap();
        assert_eq!(d.output.to_string(), "2:journald");
    }

    #[test]
    fn default_output_daemon_privileged_file() {
        let d = default_output("virtxend", Priority::Debug, true, true, &probe(false, true)).unwrap();
        assert_eq!(d.output.to_string(), "1:file:/var/log/libvirt/virtxend.log");
        assert_eq!(d.dir, Some(PathBuf::from("/var/log/libvirt")));
    }

    #[test]
    fn default_output_daemon_session_file_in_cache() {
        let d = default_output("virtproxyd", Priority::Warn, true, false, &probe(false, true)).unwrap();
        assert_eq!(d.output.to_string(), "3:file:/home/u/.cache/libvirt/virtproxyd.log");
    }

    #[test]
    fn default_output_cache_path_with_space_and_colon_kept_whole() {
        let p = Probe { journald: false, stdin_tty: true, user_cache: Some("/h/a b:c".into()) };
        let d = default_output("virtproxyd", Priority::Warn, true, false, &p).unwrap();
        assert_eq!(d.output.dest, Dest::File("/h/a b:c/libvirt/virtproxyd.log".into()));
    }

    #[test]
    fn default_output_session_without_home_is_error() {
        let p = Probe { journald: false, stdin_tty: true, user_cache: None };
        let e = default_output("virtproxyd", Priority::Warn, true, false, &p).unwrap_err();
        assert!(matches!(e, LogError::NoCacheDir));
    }

    #[test]
    fn plan_nothing_set_uses_warning_and_default_output() {
        let p = run(&LogSettings::default(), &[], false).unwrap();
        assert_eq!(p.level, Priority::Warn);
        assert!(p.filters.is_empty() && p.outputs.is_none());
        assert_eq!(p.default_output.output.to_string(), "3:stderr");
    }

    #[test]
    fn plan_config_values_used() {
        let p = run(&cfg(1, Some("3:rpc"), Some("2:stderr")), &[], false).unwrap();
        assert_eq!(p.level, Priority::Debug);
        assert_eq!(filter::format_filters(&p.filters), "3:*rpc* ");
        assert_eq!(spec::format_outputs(p.outputs.as_ref().unwrap()), "2:stderr");
        assert_eq!(p.default_output.output.to_string(), "1:stderr");
    }

    #[test]
    fn plan_env_overrides_config() {
        let env = [(ENV_DEBUG, "info"), (ENV_FILTERS, "1:util"), (ENV_OUTPUTS, "4:stderr")];
        let p = run(&cfg(1, Some("3:rpc"), Some("2:stderr")), &env, false).unwrap();
        assert_eq!(p.level, Priority::Info);
        assert_eq!(filter::format_filters(&p.filters), "1:*util* ");
        assert_eq!(spec::format_outputs(p.outputs.as_ref().unwrap()), "4:stderr");
    }

    #[test]
    fn plan_empty_env_does_not_override() {
        let env = [(ENV_DEBUG, ""), (ENV_FILTERS, ""), (ENV_OUTPUTS, "")];
        let p = run(&cfg(2, Some("3:rpc"), Some("1:stderr")), &env, false).unwrap();
        assert_eq!(p.level, Priority::Info);
        assert_eq!(p.filters.len(), 1);
        assert!(p.outputs.is_some());
    }

    #[test]
    fn plan_verbose_raises_to_info() {
        assert_eq!(run(&cfg(4, None, None), &[], true).unwrap().level, Priority::Info);
    }

    #[test]
    fn plan_verbose_keeps_debug() {
        let p = run(&cfg(4, None, None), &[(ENV_DEBUG, "1")], true).unwrap();
        assert_eq!(p.level, Priority::Debug);
    }

    #[test]
    fn plan_verbose_applies_to_default_output_level() {
        let p = run(&LogSettings::default(), &[], true).unwrap();
        assert_eq!(p.default_output.output.to_string(), "2:stderr");
    }

    #[test]
    fn plan_blank_outputs_mean_default() {
        let p = run(&cfg(0, None, Some("   ")), &[], false).unwrap();
        assert!(p.outputs.is_none());
    }

    #[test]
    fn plan_reports_every_error() {
        let env = [(ENV_DEBUG, "loud"), (ENV_OUTPUTS, "1:nowhere")];
        let errs = run(&cfg(9, Some("x"), None), &env, false).unwrap_err();
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            text,
            [
                "Failed to set logging priority, argument '9' is invalid",
                "Malformed format for filter 'x'",
                "Failed to set logging priority, argument 'loud' is invalid",
                "Invalid log destination 'nowhere' for log output '1:nowhere'",
            ]
        );
    }

    #[test]
    fn plan_bad_config_reported_even_when_env_overrides() {
        let errs = run(&cfg(0, None, Some("1:bad")), &[(ENV_OUTPUTS, "1:stderr")], false).unwrap_err();
        assert_eq!(errs.len(), 1);
    }

    #[test]
    fn user_cache_dir_prefers_xdg() {
        let env = env_of(&[("XDG_CACHE_HOME", "/x/cache"), ("HOME", "/home/u")]);
        assert_eq!(user_cache_dir(&env), Some(PathBuf::from("/x/cache")));
    }

    #[test]
    fn user_cache_dir_falls_back_to_home() {
        let env = env_of(&[("XDG_CACHE_HOME", ""), ("HOME", "/home/u")]);
        assert_eq!(user_cache_dir(&env), Some(PathBuf::from("/home/u/.cache")));
        assert_eq!(user_cache_dir(&env_of(&[])), None);
    }
}
