//! Log priorities and output strings (util/virlog.c: priority and output parsing and
//! formatting, with no I/O so every rule can be tested on its own).

use std::fmt;
use std::path::{Component, Path, PathBuf};

use super::LogError;

/// libvirt's `virLogPriority`: the higher, the more severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
}

pub const VIR_LOG_DEBUG: Priority = Priority::Debug;
pub const VIR_LOG_INFO: Priority = Priority::Info;
pub const VIR_LOG_WARN: Priority = Priority::Warn;
pub const VIR_LOG_ERROR: Priority = Priority::Error;
/// The default priority before any configuration (libvirt's `VIR_LOG_DEFAULT`).
pub const VIR_LOG_DEFAULT: Priority = VIR_LOG_WARN;

impl Priority {
    /// The numeric level 1..=4, if `n` is one.
    pub fn from_u32(n: u32) -> Option<Priority> {
        match n {
            1 => Some(Priority::Debug),
            2 => Some(Priority::Info),
            3 => Some(Priority::Warn),
            4 => Some(Priority::Error),
            _ => None,
        }
    }

    pub fn as_u32(self) -> u32 {
        self as u32
    }

    /// The word written in each log line.
    // C: virLogPriorityString
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Debug => "debug",
            Priority::Info => "info",
            Priority::Warn => "warning",
            Priority::Error => "error",
        }
    }

    /// The syslog(3) priority (also journald's PRIORITY= field).
    // C: virLogPrioritySyslog
    pub fn syslog(self) -> i32 {
        match self {
            Priority::Debug => libc::LOG_DEBUG,
            Priority::Info => libc::LOG_INFO,
            Priority::Warn => libc::LOG_WARNING,
            Priority::Error => libc::LOG_ERR,
        }
    }

    /// The priority of a `log` crate record; `trace!` counts as debug.
    pub fn from_log(level: ::log::Level) -> Priority {
        match level {
            ::log::Level::Error => Priority::Error,
            ::log::Level::Warn => Priority::Warn,
            ::log::Level::Info => Priority::Info,
            ::log::Level::Debug | ::log::Level::Trace => Priority::Debug,
        }
    }

    /// The `log` crate filter letting through exactly the records of this priority or above.
    pub fn to_level_filter(self) -> ::log::LevelFilter {
        match self {
            Priority::Debug => ::log::LevelFilter::Trace,
            Priority::Info => ::log::LevelFilter::Info,
            Priority::Warn => ::log::LevelFilter::Warn,
            Priority::Error => ::log::LevelFilter::Error,
        }
    }
}

/// The level given in LIBVIRT_DEBUG: a number or its name.
// C: virLogParseDefaultPriority
pub fn parse_default_priority(s: &str) -> Result<Priority, LogError> {
    match s {
        "1" | "debug" => Ok(Priority::Debug),
        "2" | "info" => Ok(Priority::Info),
        "3" | "warning" => Ok(Priority::Warn),
        "4" | "error" => Ok(Priority::Error),
        _ => Err(LogError::BadLevel { value: s.to_string() }),
    }
}

/// The config file's `log_level`: 0 means "not set", 1..=4 a level.
pub fn config_priority(level: u32) -> Result<Option<Priority>, LogError> {
    if level == 0 {
        return Ok(None);
    }
    Priority::from_u32(level).map(Some).ok_or(LogError::BadLevel { value: level.to_string() })
}

/// The numeric priority at the head of an output or filter (`virStrToLong_uip` + range).
pub(super) fn parse_numeric_priority(s: &str) -> Option<Priority> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = s.parse().ok()?;
    Priority::from_u32(n)
}

/// Where an output sends its lines (libvirt's `virLogDestination`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dest {
    Stderr,
    /// syslog(3) with this message tag.
    Syslog(String),
    /// Appended to this absolute path.
    File(PathBuf),
    Journald,
}

impl Dest {
    pub fn type_name(&self) -> &'static str {
        match self {
            Dest::Stderr => "stderr",
            Dest::Syslog(_) => "syslog",
            Dest::File(_) => "file",
            Dest::Journald => "journald",
        }
    }
}

/// One parsed `L:dest[:name]` output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputSpec {
    pub priority: Priority,
    pub dest: Dest,
}

impl fmt::Display for OutputSpec {
    // C: virLogGetOutputs (one element)
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.priority.as_u32();
        match &self.dest {
            Dest::Syslog(ident) => write!(f, "{}:syslog:{}", p, ident),
            Dest::File(path) => write!(f, "{}:file:{}", p, path.display()),
            other => write!(f, "{}:{}", p, other.type_name()),
        }
    }
}

/// Parses one output. A relative file path is made absolute against `cwd`, lexically
/// (`.` and `..` resolved, symlinks left alone), as g_canonicalize_filename does.
// C: virLogParseOutput
pub fn parse_output(src: &str, cwd: &Path) -> Result<OutputSpec, LogError> {
    let tokens: Vec<&str> = src.split(':').collect();
    if tokens.len() < 2 {
        return Err(LogError::MalformedOutput { spec: src.to_string() });
    }
    let priority = parse_numeric_priority(tokens[0])
        .ok_or_else(|| LogError::BadOutputPriority { priority: tokens[0].to_string(), spec: src.to_string() })?;
    let want = match tokens[1] {
        "stderr" | "journald" => 2,
        "syslog" | "file" => 3,
        other => return Err(LogError::BadDestination { dest: other.to_string(), spec: src.to_string() }),
    };
    if tokens.len() != want {
        return Err(LogError::OutputFormat { spec: src.to_string(), dest: tokens[1].to_string() });
    }
    let dest = match tokens[1] {
        "stderr" => Dest::Stderr,
        "journald" => Dest::Journald,
        "syslog" => Dest::Syslog(tokens[2].to_string()),
        _ => Dest::File(canonicalize(Path::new(tokens[2]), cwd)),
    };
    Ok(OutputSpec { priority, dest })
}

/// Parses a space-separated list of outputs. Empty words are skipped; when two outputs
/// share destination and name, the later one replaces the earlier, at the later position.
// C: virLogParseOutputs
pub fn parse_outputs(src: &str, cwd: &Path) -> Result<Vec<OutputSpec>, LogError> {
    let mut list: Vec<OutputSpec> = Vec::new();
    for word in src.split(' ').filter(|w| !w.is_empty()) {
        let out = parse_output(word, cwd)?;
        list.retain(|o| o.dest != out.dest);
        list.push(out);
    }
    Ok(list)
}

/// libvirt's string for a list of outputs: elements joined by one space.
// C: virLogGetOutputs
pub fn format_outputs(list: &[OutputSpec]) -> String {
    list.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(" ")
}

/// `path` made absolute against `cwd` and cleaned lexically.
pub fn canonicalize(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) };
    let mut out = PathBuf::from("/");
    for comp in joined.components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cwd() -> &'static Path {
        Path::new("/work/dir")
    }

    #[test]
    fn parse_output_stderr_ok() {
        let o = parse_output("1:stderr", cwd()).unwrap();
        assert_eq!(o, OutputSpec { priority: Priority::Debug, dest: Dest::Stderr });
    }

    #[test]
    fn parse_output_journald_ok() {
        let o = parse_output("2:journald", cwd()).unwrap();
        assert_eq!(o, OutputSpec { priority: Priority::Info, dest: Dest::Journald });
    }

    #[test]
    fn parse_output_syslog_keeps_ident() {
        let o = parse_output("3:syslog:virtproxyd", cwd()).unwrap();
        assert_eq!(o.dest, Dest::Syslog("virtproxyd".into()));
        assert_eq!(o.priority, Priority::Warn);
    }

    #[test]
    fn parse_output_file_absolute_kept() {
        let o = parse_output("4:file:/var/log/libvirt/x.log", cwd()).unwrap();
        assert_eq!(o.dest, Dest::File("/var/log/libvirt/x.log".into()));
    }

    #[test]
    fn parse_output_file_relative_made_absolute() {
        let o = parse_output("1:file:../logs/./a.log", cwd()).unwrap();
        assert_eq!(o.dest, Dest::File("/work/logs/a.log".into()));
    }

    #[test]
    fn parse_output_single_token_malformed() {
        let e = parse_output("stderr", cwd()).unwrap_err();
        assert_eq!(e.to_string(), "Malformed format for log output 'stderr'");
    }

    #[test]
    fn parse_output_priority_out_of_range_rejected() {
        for bad in ["0:stderr", "5:stderr", "x:stderr", ":stderr", "-1:stderr", "99999999999:stderr"] {
            let e = parse_output(bad, cwd()).unwrap_err();
            assert!(matches!(e, LogError::BadOutputPriority { .. }), "{bad}: {e:?}");
        }
        let e = parse_output("7:stderr", cwd()).unwrap_err();
        assert_eq!(e.to_string(), "Invalid log priority '7' for log output '7:stderr'");
    }

    #[test]
    fn parse_output_unknown_destination_rejected() {
        let e = parse_output("1:tcp:host", cwd()).unwrap_err();
        assert_eq!(e.to_string(), "Invalid log destination 'tcp' for log output '1:tcp:host'");
    }

    #[test]
    fn parse_output_wrong_field_count_rejected() {
        for bad in ["1:stderr:x", "1:journald:x", "1:file", "1:syslog", "1:file:/a:b"] {
            let e = parse_output(bad, cwd()).unwrap_err();
            assert!(matches!(e, LogError::OutputFormat { .. }), "{bad}: {e:?}");
        }
        let e = parse_output("1:syslog", cwd()).unwrap_err();
        assert_eq!(e.to_string(), "Log output '1:syslog' does not meet the format requirements for destination type 'syslog'");
    }

    #[test]
    fn parse_outputs_skips_repeated_spaces() {
        let l = parse_outputs("  1:stderr   3:journald ", cwd()).unwrap();
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn parse_outputs_duplicate_replaced_by_last_at_its_position() {
        let l = parse_outputs("1:stderr 2:file:/a 3:stderr", cwd()).unwrap();
        assert_eq!(format_outputs(&l), "2:file:/a 3:stderr");
    }

    #[test]
    fn parse_outputs_different_files_both_kept() {
        let l = parse_outputs("1:file:/a 2:file:/b", cwd()).unwrap();
        assert_eq!(format_outputs(&l), "1:file:/a 2:file:/b");
    }

    #[test]
    fn parse_outputs_one_bad_fails_all() {
        assert!(parse_outputs("1:stderr 9:stderr", cwd()).is_err());
    }

    #[test]
    fn format_outputs_every_form_round_trips() {
        let s = "1:stderr 2:syslog:virtproxyd 3:file:/var/log/x.log 4:journald";
        assert_eq!(format_outputs(&parse_outputs(s, cwd()).unwrap()), s);
    }

    #[test]
    fn priority_level_filter_mapping() {
        assert_eq!(Priority::Debug.to_level_filter(), ::log::LevelFilter::Trace);
        assert_eq!(Priority::Error.to_level_filter(), ::log::LevelFilter::Error);
        assert_eq!(Priority::from_log(::log::Level::Trace), Priority::Debug);
    }

    #[test]
    fn parse_default_priority_names_and_numbers() {
        assert_eq!(parse_default_priority("debug").unwrap(), Priority::Debug);
        assert_eq!(parse_default_priority("3").unwrap(), Priority::Warn);
        assert_eq!(parse_default_priority("warning").unwrap(), Priority::Warn);
        let e = parse_default_priority("warn").unwrap_err();
        assert_eq!(e.to_string(), "Failed to set logging priority, argument 'warn' is invalid");
    }

    #[test]
    fn config_priority_zero_means_unset() {
        assert_eq!(config_priority(0).unwrap(), None);
        assert_eq!(config_priority(2).unwrap(), Some(Priority::Info));
        assert!(config_priority(5).is_err());
    }

    #[test]
    fn syslog_priorities() {
        assert_eq!(Priority::Debug.syslog(), 7);
        assert_eq!(Priority::Info.syslog(), 6);
        assert_eq!(Priority::Warn.syslog(), 4);
        assert_eq!(Priority::Error.syslog(), 3);
    }
}
