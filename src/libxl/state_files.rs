//! Where the Xen driver keeps its domains on disk, in libvirt's layout so a host can switch
//! between libvirt's virtxend and ours (libxl_conf.h's LIBXL_*_DIR, and the file helpers of
//! conf/domain_conf.c: virDomainDefSave, virDomainSaveStatus, virDomainObjListLoadAllConfigs,
//! virDomainConfigFile, autostart links).
//!
//! Paths: `/etc/libvirt/libxl/NAME.xml` (0600), `/etc/libvirt/libxl/autostart/NAME.xml` ->
//! `../NAME.xml`... (libvirt links to the absolute path of the config), `/run/libvirt/libxl/NAME.xml`
//! (status), `/run/libvirt/libxl/autostarted` (autostart done this boot),
//! `/var/lib/libvirt/libxl/save/NAME.save` (managed save), `/var/log/libvirt/libxl/`.
//!
//! `VIRTLITE_ROOT` (environment, for tests and chroot-like set-ups): when set, every one of
//! these paths, and /etc/libvirt/libxl.conf, is taken under that directory instead of `/`.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{symlink, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::util::paths::{LOCALSTATEDIR, RUNSTATEDIR, SYSCONFDIR};

/// The driver's directories.
#[derive(Debug, Clone)]
pub struct DriverPaths {
    pub config_dir: PathBuf,
    pub autostart_dir: PathBuf,
    pub state_dir: PathBuf,
    pub lib_dir: PathBuf,
    pub save_dir: PathBuf,
    pub dump_dir: PathBuf,
    pub log_dir: PathBuf,
    pub libxl_conf: PathBuf,
}

impl DriverPaths {
    /// libvirt's layout under `root` ("/" normally).
    // C: libxlDriverConfigNew (the directory part)
    pub fn under(root: &Path) -> DriverPaths {
        let at = |base: &str, rest: &str| root.join(base.trim_start_matches('/')).join(rest);
        DriverPaths {
            config_dir: at(SYSCONFDIR, "libvirt/libxl"),
            autostart_dir: at(SYSCONFDIR, "libvirt/libxl/autostart"),
            state_dir: at(RUNSTATEDIR, "libvirt/libxl"),
            lib_dir: at(LOCALSTATEDIR, "lib/libvirt/libxl"),
            save_dir: at(LOCALSTATEDIR, "lib/libvirt/libxl/save"),
            dump_dir: at(LOCALSTATEDIR, "lib/libvirt/libxl/dump"),
            log_dir: at(LOCALSTATEDIR, "log/libvirt/libxl"),
            libxl_conf: at(SYSCONFDIR, "libvirt/libxl.conf"),
        }
    }

    /// The layout for this process: `/`, or `$VIRTLITE_ROOT` when set.
    pub fn from_env() -> DriverPaths {
        match std::env::var_os("VIRTLITE_ROOT") {
            Some(r) if !r.is_empty() => DriverPaths::under(Path::new(&r)),
            _ => DriverPaths::under(Path::new("/")),
        }
    }

    /// Creates the directories the driver writes to (libxlStateInitialize's mkdirs).
    pub fn create_dirs(&self) -> Result<(), (PathBuf, io::Error)> {
        for d in [&self.config_dir, &self.autostart_dir, &self.state_dir, &self.lib_dir, &self.save_dir, &self.dump_dir, &self.log_dir] {
            fs::create_dir_all(d).map_err(|e| (d.clone(), e))?;
        }
        Ok(())
    }

    // C: virDomainConfigFile
    pub fn config_file(&self, name: &str) -> PathBuf {
        self.config_dir.join(format!("{name}.xml"))
    }

    pub fn autostart_link(&self, name: &str) -> PathBuf {
        self.autostart_dir.join(format!("{name}.xml"))
    }

    pub fn status_file(&self, name: &str) -> PathBuf {
        self.state_dir.join(format!("{name}.xml"))
    }

    pub fn managed_save_file(&self, name: &str) -> PathBuf {
        self.save_dir.join(format!("{name}.save"))
    }

    /// The marker that autostart already ran since the host booted (/run is a tmpfs).
    pub fn autostarted_marker(&self) -> PathBuf {
        self.state_dir.join("autostarted")
    }
}

/// Writes `data` to `path` atomically: a temporary file in the same directory with `mode`,
/// fsync'ed, then renamed over the old one. A failure leaves the old file untouched.
// C: virFileRewrite
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.new"));
    let res = (|| {
        let mut f = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

/// Removes a file; a missing file is not an error.
pub fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Makes or removes the autostart link of `name`.
// C: libxlDomainSetAutostart (the symlink part)
pub fn set_autostart(paths: &DriverPaths, name: &str, on: bool) -> io::Result<()> {
    let link = paths.autostart_link(name);
    if on {
        fs::create_dir_all(&paths.autostart_dir)?;
        remove_if_exists(&link)?;
        symlink(paths.config_file(name), &link)
    } else {
        remove_if_exists(&link)
    }
}

/// Whether `name` has an autostart link.
pub fn is_autostart(paths: &DriverPaths, name: &str) -> bool {
    fs::symlink_metadata(paths.autostart_link(name)).is_ok()
}

/// The `NAME.xml` files of a directory, as (name, path), sorted by name. Files whose name
/// is not NAME.xml are skipped; an unreadable directory gives nothing.
// C: virDomainObjListLoadAllConfigs (the directory walk)
pub fn xml_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(String, PathBuf)> = rd
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let name = file.strip_suffix(".xml")?;
            if name.is_empty() || name.starts_with('.') || !e.file_type().ok()?.is_file() {
                return None;
            }
            Some((name.to_string(), e.path()))
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("virtlite-state-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn layout_under_root_matches_libvirt() {
        let p = DriverPaths::under(Path::new("/"));
        assert_eq!(p.config_file("g"), Path::new(&format!("{SYSCONFDIR}/libvirt/libxl/g.xml")));
        assert_eq!(p.status_file("g"), Path::new(&format!("{RUNSTATEDIR}/libvirt/libxl/g.xml")));
        assert_eq!(p.managed_save_file("g"), Path::new(&format!("{LOCALSTATEDIR}/lib/libvirt/libxl/save/g.save")));
    }

    #[test]
    fn write_atomic_replaces_content_with_mode() {
        use std::os::unix::fs::PermissionsExt;
        let d = tmpdir("atomic");
        let f = d.join("a.xml");
        write_atomic(&f, b"one", 0o600).unwrap();
        write_atomic(&f, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"two");
        assert_eq!(fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
    }

    #[test]
    fn write_atomic_into_missing_dir_fails_and_leaves_nothing() {
        let d = tmpdir("atomic-missing");
        assert!(write_atomic(&d.join("no/a.xml"), b"x", 0o600).is_err());
    }

    #[test]
    fn autostart_link_toggles() {
        let d = tmpdir("autostart");
        let p = DriverPaths::under(&d);
        p.create_dirs().unwrap();
        set_autostart(&p, "g", true).unwrap();
        assert!(is_autostart(&p, "g"));
        set_autostart(&p, "g", true).unwrap();
        set_autostart(&p, "g", false).unwrap();
        assert!(!is_autostart(&p, "g"));
        set_autostart(&p, "g", false).unwrap();
    }

    #[test]
    fn xml_files_skips_other_names() {
        let d = tmpdir("xmlfiles");
        for f in ["b.xml", "a.xml", ".x.xml.new", "c.txt", ".xml"] {
            fs::write(d.join(f), "").unwrap();
        }
        fs::create_dir(d.join("autostart")).unwrap();
        let names: Vec<String> = xml_files(&d).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["a", "b"]);
    }
}
