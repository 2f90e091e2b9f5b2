//! The fake Xen host (t/fakexen/) for integration tests: builds `libfakexen.so` and
//! `fakexenctl` once per test process with t/fakexen/build.sh, and gives the environment
//! that makes a child process (virtxend, or a re-executed test) run real libxl over it.
//!
//! Building is safe when several test binaries do it at once: each builds in a directory of
//! its own and renames the two files into `target/fakexen/` (rename replaces atomically; a
//! process already using the old library keeps its inode).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Environment variables naming the fake's files, read by `FakeXen::from_env` in children.
pub const ENV_STATE: &str = "FAKEXEN_STATE";
pub const ENV_CTL: &str = "FAKEXEN_CTL";
pub const ENV_DELAY: &str = "FAKEXEN_DELAY_MS";
/// Guest reaction time used by the tests (shutdown/reboot requests), in milliseconds.
pub const DELAY_MS: u32 = 50;

/// One simulated host: the built library and tool, and this host's state file.
#[derive(Debug, Clone)]
pub struct FakeXen {
    pub so: PathBuf,
    pub ctl: PathBuf,
    pub state: PathBuf,
}

/// (libfakexen.so, fakexenctl), built once per process; Err is the build's output.
static BUILT: OnceLock<Result<(PathBuf, PathBuf), String>> = OnceLock::new();

fn target_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        let d = PathBuf::from(d);
        return if d.is_absolute() { d } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(d) };
    }
    // The test binary is target/<profile>/deps/NAME-HASH.
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent()?.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn build() -> Result<(PathBuf, PathBuf), String> {
    let out = target_dir().join("fakexen");
    let tmp = out.join(format!("build-{}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("t/fakexen/build.sh");
    let _ = std::fs::remove_dir_all(&tmp);
    let res = Command::new("sh").arg(&script).arg(&tmp).output().map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !res.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(format!(
            "{} failed ({}):\n{}{}",
            script.display(),
            res.status,
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        ));
    }
    let mut paths = Vec::new();
    for name in ["libfakexen.so", "fakexenctl"] {
        let dst = out.join(name);
        std::fs::rename(tmp.join(name), &dst).map_err(|e| format!("cannot install {}: {e}", dst.display()))?;
        paths.push(dst);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let ctl = paths.pop().unwrap_or_default();
    let so = paths.pop().unwrap_or_default();
    Ok((so, ctl))
}

impl FakeXen {
    /// A fresh simulated host whose state lives under `dir` (in `dir/fakexen/`, a directory
    /// of its own because the fake watches the state file's directory). Panics with the
    /// compiler's output if the fake cannot be built.
    pub fn new(dir: &Path) -> FakeXen {
        let (so, ctl) = match BUILT.get_or_init(build) {
            Ok(p) => p.clone(),
            Err(e) => panic!("cannot build the fake Xen host: {e}"),
        };
        let state_dir = dir.join("fakexen");
        std::fs::create_dir_all(&state_dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", state_dir.display()));
        FakeXen { so, ctl, state: state_dir.join("state") }
    }

    /// The fake described by the environment `env()` set up (in a re-executed child), if any.
    pub fn from_env() -> Option<FakeXen> {
        let preload = std::env::var_os("LD_PRELOAD")?;
        let state = std::env::var_os(ENV_STATE)?;
        let ctl = std::env::var_os(ENV_CTL)?;
        Some(FakeXen { so: PathBuf::from(preload), ctl: PathBuf::from(ctl), state: PathBuf::from(state) })
    }

    /// What a process needs to run over the fake: LD_PRELOAD, FAKEXEN_STATE, a short
    /// FAKEXEN_DELAY_MS, and FAKEXEN_CTL (for `from_env`).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("LD_PRELOAD".to_string(), self.so.display().to_string()),
            (ENV_STATE.to_string(), self.state.display().to_string()),
            (ENV_DELAY.to_string(), DELAY_MS.to_string()),
            (ENV_CTL.to_string(), self.ctl.display().to_string()),
        ]
    }

    /// Runs `fakexenctl ARGS` on this host: (exit code, stdout followed by stderr); -1 when
    /// it was killed by a signal.
    pub fn ctl(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(&self.ctl)
            .args(args)
            .env(ENV_STATE, &self.state)
            .env_remove("LD_PRELOAD")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.ctl.display()));
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }
}
