//! Debian's real libvirtd, run unprivileged in session mode (as `nobody`, with its own HOME and
//! XDG directories) as the daemon behind our proxy, plus the symlinks that make every
//! per-driver socket name the proxy dials (`virtqemud-sock`, `virtstoraged-sock`...) lead to it.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::*;

pub const DRIVERS: &[&str] = &["qemu", "network", "storage", "secret", "nodedev", "interface", "nwfilter"];

pub fn chown_nobody(p: &Path) {
    let st = Command::new("chown").args(["-R", "nobody:nogroup"]).arg(p).status().unwrap();
    assert!(st.success());
}

/// Runs `cmd` as nobody:nogroup.
pub fn as_nobody(cmd: &str) -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", cmd]);
    c
}

pub struct Libvirtd {
    pub child: Option<Child>,
    pub home: PathBuf,
    pub run: PathBuf,
}

impl Libvirtd {
    /// The session daemon's socket.
    pub fn sock(&self) -> PathBuf {
        self.run.join("libvirt/libvirt-sock")
    }

    pub fn admin_sock(&self) -> PathBuf {
        self.run.join("libvirt/libvirt-admin-sock")
    }

    /// Starts libvirtd in `base` (home and runtime dir inside it) and waits for its socket.
    pub fn start(base: &Path) -> Libvirtd {
        let home = base.join("lvhome");
        let run = base.join("lvrun");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&run).unwrap();
        fs::set_permissions(&run, fs::Permissions::from_mode(0o700)).unwrap();
        chown_nobody(base);
        let mut d = Libvirtd { child: None, home, run };
        d.spawn();
        d
    }

    pub fn spawn(&mut self) {
        let _ = fs::remove_file(self.sock());
        let log = fs::File::create(self.home.join("libvirtd.log")).unwrap();
        let child = as_nobody("libvirtd")
            .args(["--timeout", "300"])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", &self.home)
            .env("XDG_RUNTIME_DIR", &self.run)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("libvirtd (Debian's libvirt-daemon) must be installed");
        self.child = Some(child);
        let sock = self.sock();
        assert!(wait_for(Duration::from_secs(30), || super::is_ready(&sock)), "libvirtd did not create {}", sock.display());
        // Wait until it answers: connecting succeeds once it listens.
        assert!(wait_for(Duration::from_secs(30), || std::os::unix::net::UnixStream::connect(&sock).is_ok()));
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Libvirtd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A proxy in front of a libvirtd: its own socket dir and an XDG runtime dir whose
/// per-driver sockets point at libvirtd's one socket.
pub struct ProxySetup {
    pub dir: TestDir,
    pub libvirtd: Libvirtd,
    pub proxy: Daemon,
    pub sockdir: PathBuf,
    pub xdg: PathBuf,
}

impl ProxySetup {
    /// `as_root`: run the proxy as root (it then also creates the read-only socket).
    pub fn start(tag: &str, as_root: bool, extra_conf: &str) -> ProxySetup {
        ProxySetup::start_in(TestDir::new(tag), as_root, extra_conf, &[])
    }

    /// As `start`, in a directory the caller prepared (certificates, SASL files), with
    /// extra environment for the proxy.
    pub fn start_in(dir: TestDir, as_root: bool, extra_conf: &str, env: &[(&str, &str)]) -> ProxySetup {
        let libvirtd = Libvirtd::start(&dir.path);
        let sockdir = dir.join("psock");
        let xdg = dir.join("prun");
        fs::create_dir_all(xdg.join("libvirt")).unwrap();
        fs::create_dir_all(&sockdir).unwrap();
        for d in DRIVERS {
            std::os::unix::fs::symlink(libvirtd.sock(), xdg.join(format!("libvirt/virt{d}d-sock"))).unwrap();
        }
        let conf = format!("unix_sock_dir = \"{}\"\n{}\n", sockdir.display(), extra_conf);
        fs::write(dir.join("proxy.conf"), conf).unwrap();
        chown_nobody(&dir.path);
        let mut cmd = if as_root { Command::new(PROXY) } else { as_nobody(PROXY) };
        cmd.arg("-f")
            .arg(dir.join("proxy.conf"))
            .arg("-p")
            .arg(dir.join("proxy.pid"))
            .env_remove("LIBVIRT_DEBUG")
            .env_remove("LIBVIRT_LOG_OUTPUTS")
            .env_remove("LIBVIRT_LOG_FILTERS")
            .env("HOME", dir.join("lvhome"))
            .env("XDG_RUNTIME_DIR", &xdg)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = cmd.spawn().unwrap();
        let mut proxy = Daemon { child, dir: dir.path.clone() };
        // The read-write socket is bound first, the read-only one (root only) after it.
        let ready = sockdir.join(if as_root { "libvirt-sock-ro" } else { "libvirt-sock" });
        if !wait_for(Duration::from_secs(10), || super::is_ready(&ready)) {
            panic!("proxy did not start: {}", proxy.stderr_text());
        }
        ProxySetup { dir, libvirtd, proxy, sockdir, xdg }
    }

    pub fn proxy_uri(&self) -> String {
        format!("qemu:///session?socket={}", self.sockdir.join("libvirt-sock").display())
    }

    pub fn ro_uri(&self) -> String {
        format!("qemu:///session?socket={}", self.sockdir.join("libvirt-sock-ro").display())
    }

    pub fn direct_uri(&self) -> String {
        format!("qemu:///session?socket={}", self.libvirtd.sock().display())
    }

    /// virsh as nobody (the owner of every socket here) against `uri`.
    pub fn virsh(&self, uri: &str, args: &[&str]) -> std::process::Output {
        let mut c = as_nobody("virsh");
        c.env("HOME", &self.libvirtd.home).arg("-c").arg(uri).args(args);
        run_with_timeout(&mut c, Duration::from_secs(60))
    }

    /// Debian's python3 with python3-libvirt, as nobody, running `script`.
    pub fn python(&self, script: &str) -> std::process::Output {
        let path = self.dir.join(&format!("s{}.py", std::process::id() as u64 ^ script.len() as u64));
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let mut c = as_nobody("/usr/bin/python3");
        c.env("HOME", &self.libvirtd.home)
            .env("PROXY_URI", self.proxy_uri())
            .env("RO_URI", self.ro_uri())
            .env("DIRECT_URI", self.direct_uri())
            .env("WORK", &self.dir.path)
            .arg(&path);
        run_with_timeout(&mut c, Duration::from_secs(120))
    }
}
