//! The daemon's pidfile, held under an fcntl write lock for the daemon's whole life
//! (libvirt's util/virpidfile.c `virPidFileAcquirePath` / `virPidFileReleasePath`).
//!
//! A second instance fails to take the lock and leaves the first one's file alone.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct PidFileError {
    pub path: PathBuf,
    pub err: io::Error,
}

impl fmt::Display for PidFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Failed to acquire pid file '{}': {}", self.path.display(), crate::util::strerror(&self.err))
    }
}

impl std::error::Error for PidFileError {}

/// A locked pidfile. Dropping it unlinks the file, then releases the lock.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    file: Option<File>,
}

fn lock_byte0(file: &File) -> io::Result<()> {
    super::sys::lock_first_byte(file)
}

impl PidFile {
    // C: virPidFileAcquirePath
    pub fn acquire(path: &Path, pid: i32) -> Result<PidFile, PidFileError> {
        let wrap = |err| PidFileError { path: path.to_path_buf(), err };
        loop {
            let file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .custom_flags(libc::O_CLOEXEC)
                .open(path)
                .map_err(wrap)?;
            lock_byte0(&file).map_err(wrap)?;
            // Someone may have unlinked and recreated the file between our open and lock:
            // then we hold a lock on an orphan inode and must start again.
            let ours = file.metadata().map_err(wrap)?;
            match std::fs::metadata(path) {
                Ok(now) if now.ino() == ours.ino() && now.dev() == ours.dev() => {}
                _ => continue,
            }
            file.set_len(0).map_err(wrap)?;
            (&file).write_all(pid.to_string().as_bytes()).map_err(wrap)?;
            return Ok(PidFile { path: path.to_path_buf(), file: Some(file) });
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidFile {
    // C: virPidFileReleasePath
    fn drop(&mut self) {
        // Unlink while still holding the lock so a new instance never sees our stale file.
        let _ = std::fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vl-pid-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&d);
        d
    }

    #[test]
    fn acquire_writes_pid_without_newline() {
        let p = tmp("a");
        let pf = PidFile::acquire(&p, 4242).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "4242");
        drop(pf);
        assert!(!p.exists());
    }

    #[test]
    fn acquire_replaces_stale_content() {
        let p = tmp("b");
        std::fs::write(&p, "999999999\n").unwrap();
        let _pf = PidFile::acquire(&p, 7).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "7");
    }

    #[test]
    fn acquire_in_missing_dir_names_the_file() {
        let p = PathBuf::from("/nonexistent-dir-vl/x.pid");
        let e = PidFile::acquire(&p, 1).unwrap_err();
        assert_eq!(e.to_string(), "Failed to acquire pid file '/nonexistent-dir-vl/x.pid': No such file or directory");
    }
}
