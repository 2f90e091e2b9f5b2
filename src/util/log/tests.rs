//! Tests of the logger's dispatch on local `State` values (clock and thread id injected),
//! plus one test of the global setters and getters.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::log::{Level, Record};

use super::filter;
use super::output::{Output, JOURNAL_SOCKET};
use super::spec::OutputSpec;
use super::testdir::TestDir;
use super::*;

fn state(default: Priority, filters: &str, outputs: &[OutputSpec]) -> State {
    State {
        default,
        filters: filter::parse_filters(filters).unwrap(),
        outputs: outputs.iter().map(|s| Arc::new(Output::open(s.clone(), Path::new(JOURNAL_SOCKET)).unwrap())).collect(),
        default_output: None,
        ident: "virtproxyd".into(),
    }
}

fn file_out(priority: Priority, path: &Path) -> OutputSpec {
    OutputSpec { priority, dest: Dest::File(path.to_path_buf()) }
}

/// 2024-02-29 13:45:07.089 UTC
fn clock() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_709_214_307_089)
}

#[test]
fn log_record_file_line_golden() {
    let dir = TestDir::new("golden");
    let path = dir.path().join("d.log");
    let st = state(Priority::Debug, "", &[file_out(Priority::Debug, &path)]);
    st.log_record(
        &Record::builder()
            .level(Level::Warn)
            .target("virtlite::rpc::client")
            .module_path(Some("virtlite::rpc::client"))
            .file(Some("src/rpc/client.rs"))
            .line(Some(42))
            .args(format_args!("hello {}", 5))
            .build(),
        clock(),
        77,
    );
    let got = std::fs::read_to_string(&path).unwrap();
    let want = format!(
        // timestamp                   tid   level       place     line   message
        "2024-02-29 13:45:07.089+0000: 77: info : libvirt version: 9.0.0, package: virtlite {}\n\
         2024-02-29 13:45:07.089+0000: 77: info : hostname: {}\n\
         2024-02-29 13:45:07.089+0000: 77: warning : rpc.client:42 : hello 5\n",
        env!("CARGO_PKG_VERSION"),
        hostname()
    );
    assert_eq!(got, want);
}

#[test]
fn log_record_explicit_target_matched_by_filter() {
    let dir = TestDir::new("target");
    let path = dir.path().join("t.log");
    let st = state(Priority::Error, "1:audit", &[file_out(Priority::Debug, &path)]);
    st.log_record(
        &Record::builder()
            .level(Level::Debug)
            .target("audit")
            .module_path(Some("virtlite::util::conf"))
            .line(Some(9))
            .args(format_args!("x"))
            .build(),
        clock(),
        1,
    );
    let got = std::fs::read_to_string(&path).unwrap();
    assert!(got.ends_with(": 1: debug : util.conf:9 : x\n"), "{got}");
}

#[test]
fn log_record_below_category_level_dropped() {
    let dir = TestDir::new("drop");
    let path = dir.path().join("t.log");
    let st = state(Priority::Debug, "4:rpc", &[file_out(Priority::Debug, &path)]);
    st.log_record(&Record::builder().level(Level::Warn).target("virtlite::rpc::server").args(format_args!("x")).build(), clock(), 1);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
}

#[test]
fn log_record_each_output_applies_own_level() {
    let dir = TestDir::new("perout");
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let st = state(Priority::Debug, "", &[file_out(Priority::Debug, &a), file_out(Priority::Error, &b)]);
    st.log_record(&Record::builder().level(Level::Info).target("virtlite::x").args(format_args!("m")).build(), clock(), 1);
    assert!(std::fs::read_to_string(&a).unwrap().ends_with(": 1: info : x:0 : m\n"));
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "");
}

#[test]
fn wants_filter_then_output_level() {
    let dir = TestDir::new("wants");
    let st = state(Priority::Warn, "1:rpc", &[file_out(Priority::Info, &dir.path().join("w.log"))]);
    assert!(!st.wants(Priority::Debug, "rpc.client"), "output is info");
    assert!(st.wants(Priority::Info, "rpc.client"));
    assert!(!st.wants(Priority::Info, "util.conf"), "default is warning");
    assert!(st.wants(Priority::Warn, "util.conf"));
}

#[test]
fn wants_no_outputs_takes_what_filters_pass() {
    let st = state(Priority::Info, "", &[]);
    assert!(st.wants(Priority::Info, "any"));
    assert!(!st.wants(Priority::Debug, "any"));
}

#[test]
fn max_level_follows_filters_and_outputs() {
    let dir = TestDir::new("max");
    let path = dir.path().join("m.log");
    let quiet = state(Priority::Warn, "", &[file_out(Priority::Debug, &path)]);
    assert_eq!(quiet.max_level(), ::log::LevelFilter::Warn);
    let rpc = state(Priority::Warn, "1:rpc", &[file_out(Priority::Debug, &path)]);
    assert_eq!(rpc.max_level(), ::log::LevelFilter::Trace);
    let capped = state(Priority::Debug, "", &[file_out(Priority::Error, &path)]);
    assert_eq!(capped.max_level(), ::log::LevelFilter::Error);
}

#[test]
fn syslog_ident_with_nul_rejected() {
    let spec = OutputSpec { priority: Priority::Info, dest: Dest::Syslog("a\0b".into()) };
    let e = Output::open(spec, Path::new(JOURNAL_SOCKET)).err().unwrap();
    assert!(matches!(e, LogError::SyslogIdent { .. }));
}

#[test]
fn check_reports_syntax_and_missing_directory() {
    let cfg = LogSettings { level: 7, filters: Some("1:".into()), outputs: Some("1:file:/nonexistent-virtlite-dir/x.log".into()) };
    let errs: Vec<String> = check(&cfg).iter().map(|e| e.to_string()).collect();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert_eq!(errs[0], "Failed to set logging priority, argument '7' is invalid");
    assert_eq!(errs[1], "Invalid match string ''");
    assert!(errs[2].starts_with("failed to open /nonexistent-virtlite-dir/x.log: "), "{}", errs[2]);
}

#[test]
fn check_valid_config_no_errors() {
    let cfg = LogSettings { level: 1, filters: Some("3:rpc".into()), outputs: Some("2:stderr".into()) };
    assert!(check(&cfg).is_empty());
}

/// The only test touching the global settings; it puts them back to "never set" at the end.
#[test]
fn global_setters_and_getters_round_trip() {
    let dir = TestDir::new("global");
    let file = dir.path().join("g.log");

    set_filters("3:rpc  1:util").unwrap();
    assert_eq!(filters(), "3:*rpc* 1:*util* ");
    assert_eq!(nb_filters(), 2);
    assert!(set_filters("1:rpc 9:x").is_err());
    assert_eq!(nb_filters(), 2, "a bad string leaves the filters alone");
    set_filters("").unwrap();
    assert_eq!(filters(), "");

    let spec = format!("1:file:{} 4:stderr", file.display());
    set_outputs(&spec).unwrap();
    assert_eq!(outputs(), spec);
    assert_eq!(nb_outputs(), 2);
    assert!(set_outputs("1:file:/nonexistent-virtlite-dir/x.log").is_err());
    assert_eq!(outputs(), spec, "a failed open leaves the outputs alone");
    set_outputs("").unwrap();
    assert_eq!(outputs(), spec, "no default output before setup");
    assert!(reopen().is_ok());
    assert_eq!(default_level(), 3);

    // As after setup: an empty string goes back to the default output.
    {
        let _guard = UPDATE.lock().unwrap();
        let mut st = (*current()).clone();
        st.default_output = Some(OutputSpec { priority: Priority::Info, dest: Dest::Stderr });
        publish(st);
    }
    set_outputs("  ").unwrap();
    assert_eq!(outputs(), "2:stderr");

    *STATE.write().unwrap_or_else(|e| e.into_inner()) = None;
    output::syslog_activate(None);
}
