//! Default file locations for root and non-root daemons (libvirt's util/virutil.c user
//! directories, util/virdaemon.c `virDaemonUnixSocketPaths`, util/virpidfile.c paths).
//!
//! Compile-time roots can be changed by the Makefile through the `VIRTLITE_SYSCONFDIR`,
//! `VIRTLITE_RUNSTATEDIR` and `VIRTLITE_LOCALSTATEDIR` environment variables at build time.

use std::env;
use std::path::PathBuf;

pub const SYSCONFDIR: &str = match option_env!("VIRTLITE_SYSCONFDIR") {
    Some(s) => s,
    None => "/etc",
};
pub const RUNSTATEDIR: &str = match option_env!("VIRTLITE_RUNSTATEDIR") {
    Some(s) => s,
    None => "/run",
};
pub const LOCALSTATEDIR: &str = match option_env!("VIRTLITE_LOCALSTATEDIR") {
    Some(s) => s,
    None => "/var",
};

/// The environment the path rules look at, so tests can exercise them without
/// touching the process environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub home: Option<String>,
    pub xdg_runtime_dir: Option<String>,
    pub xdg_config_home: Option<String>,
    pub xdg_cache_home: Option<String>,
}

impl Env {
    pub fn from_process() -> Env {
        let get = |k: &str| env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            home: get("HOME").or_else(|| super::sys::user_home(super::sys::geteuid())),
            xdg_runtime_dir: get("XDG_RUNTIME_DIR"),
            xdg_config_home: get("XDG_CONFIG_HOME"),
            xdg_cache_home: get("XDG_CACHE_HOME"),
        }
    }

    fn home(&self) -> PathBuf {
        PathBuf::from(self.home.clone().unwrap_or_else(|| "/".into()))
    }

    // C: virGetUserConfigDirectory
    pub fn user_config_dir(&self) -> PathBuf {
        match &self.xdg_config_home {
            Some(d) => PathBuf::from(d).join("libvirt"),
            None => self.home().join(".config/libvirt"),
        }
    }

    // C: virGetUserCacheDirectory
    pub fn user_cache_dir(&self) -> PathBuf {
        match &self.xdg_cache_home {
            Some(d) => PathBuf::from(d).join("libvirt"),
            None => self.home().join(".cache/libvirt"),
        }
    }

    // C: virGetUserRuntimeDirectory
    pub fn user_runtime_dir(&self) -> PathBuf {
        match &self.xdg_runtime_dir {
            Some(d) => PathBuf::from(d).join("libvirt"),
            None => self.user_cache_dir(),
        }
    }
}

/// The three UNIX socket paths of a daemon; a `None` is a socket this mode does not create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketPaths {
    pub rw: PathBuf,
    pub ro: Option<PathBuf>,
    pub admin: Option<PathBuf>,
}

// C: virDaemonUnixSocketPaths
pub fn socket_paths(prefix: &str, privileged: bool, unix_sock_dir: Option<&str>, env: &Env) -> SocketPaths {
    if let Some(dir) = unix_sock_dir {
        let dir = PathBuf::from(dir);
        // libvirt quirk kept on purpose: a non-root daemon with unix_sock_dir set gets
        // neither a read-only nor an admin socket.
        return SocketPaths {
            rw: dir.join(format!("{prefix}-sock")),
            ro: privileged.then(|| dir.join(format!("{prefix}-sock-ro"))),
            admin: privileged.then(|| dir.join(format!("{prefix}-admin-sock"))),
        };
    }
    if privileged {
        let dir = PathBuf::from(RUNSTATEDIR).join("libvirt");
        SocketPaths {
            rw: dir.join(format!("{prefix}-sock")),
            ro: Some(dir.join(format!("{prefix}-sock-ro"))),
            admin: Some(dir.join(format!("{prefix}-admin-sock"))),
        }
    } else {
        let dir = env.user_runtime_dir();
        SocketPaths { rw: dir.join(format!("{prefix}-sock")), ro: None, admin: Some(dir.join(format!("{prefix}-admin-sock"))) }
    }
}

/// The directory the daemon makes sure exists at start (`/run/libvirt` or the user runtime dir).
pub fn run_dir(privileged: bool, env: &Env) -> PathBuf {
    if privileged {
        PathBuf::from(RUNSTATEDIR).join("libvirt")
    } else {
        env.user_runtime_dir()
    }
}

// C: virPidFileConstructPath
pub fn pid_file(daemon: &str, privileged: bool, env: &Env) -> PathBuf {
    if privileged {
        PathBuf::from(RUNSTATEDIR).join(format!("{daemon}.pid"))
    } else {
        env.user_runtime_dir().join(format!("{daemon}.pid"))
    }
}

/// Default config file: `/etc/libvirt/NAME.conf` or `$XDG_CONFIG_HOME/libvirt/NAME.conf`.
pub fn config_file(name: &str, privileged: bool, env: &Env) -> PathBuf {
    if privileged {
        PathBuf::from(SYSCONFDIR).join("libvirt").join(format!("{name}.conf"))
    } else {
        env.user_config_dir().join(format!("{name}.conf"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_env() -> Env {
        Env { home: Some("/home/u".into()), xdg_runtime_dir: Some("/run/user/1000".into()), ..Env::default() }
    }

    #[test]
    fn socket_paths_root_default_has_all_three() {
        let p = socket_paths("libvirt", true, None, &Env::default());
        assert_eq!(p.rw, PathBuf::from("/run/libvirt/libvirt-sock"));
        assert_eq!(p.ro, Some(PathBuf::from("/run/libvirt/libvirt-sock-ro")));
        assert_eq!(p.admin, Some(PathBuf::from("/run/libvirt/libvirt-admin-sock")));
    }

    #[test]
    fn socket_paths_user_default_has_no_ro() {
        let p = socket_paths("virtxend", false, None, &user_env());
        assert_eq!(p.rw, PathBuf::from("/run/user/1000/libvirt/virtxend-sock"));
        assert_eq!(p.ro, None);
        assert_eq!(p.admin, Some(PathBuf::from("/run/user/1000/libvirt/virtxend-admin-sock")));
    }

    #[test]
    fn socket_paths_user_with_sock_dir_has_rw_only() {
        let p = socket_paths("libvirt", false, Some("/tmp/x"), &user_env());
        assert_eq!(p, SocketPaths { rw: "/tmp/x/libvirt-sock".into(), ro: None, admin: None });
    }

    #[test]
    fn socket_paths_root_with_sock_dir_has_all_three() {
        let p = socket_paths("libvirt", true, Some("/tmp/x"), &Env::default());
        assert_eq!(p.ro, Some(PathBuf::from("/tmp/x/libvirt-sock-ro")));
        assert_eq!(p.admin, Some(PathBuf::from("/tmp/x/libvirt-admin-sock")));
    }

    #[test]
    fn runtime_dir_without_xdg_falls_back_to_cache() {
        let e = Env { home: Some("/home/u".into()), ..Env::default() };
        assert_eq!(e.user_runtime_dir(), PathBuf::from("/home/u/.cache/libvirt"));
        let e = Env { xdg_cache_home: Some("/c".into()), ..e };
        assert_eq!(e.user_runtime_dir(), PathBuf::from("/c/libvirt"));
    }

    #[test]
    fn config_dir_without_xdg_falls_back_to_dot_config() {
        let e = Env { home: Some("/home/u".into()), ..Env::default() };
        assert_eq!(config_file("virtproxyd", false, &e), PathBuf::from("/home/u/.config/libvirt/virtproxyd.conf"));
        assert_eq!(config_file("virtproxyd", true, &e), PathBuf::from("/etc/libvirt/virtproxyd.conf"));
    }

    #[test]
    fn pid_file_root_and_user() {
        assert_eq!(pid_file("virtproxyd", true, &Env::default()), PathBuf::from("/run/virtproxyd.pid"));
        assert_eq!(pid_file("virtproxyd", false, &user_env()), PathBuf::from("/run/user/1000/libvirt/virtproxyd.pid"));
    }
}
