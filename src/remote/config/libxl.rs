//! libxl.conf, the Xen driver's own settings (mirrors libxlDriverConfigLoadFile in
//! libxl/libxl_conf.c). A minimal typed loader; the Xen driver decides what they mean.
use std::path::Path;

use crate::util::conf::{Conf, ConfError, Value};

/// Where virtxend reads the driver settings from.
pub const LIBXL_CONFIG_FILE: &str = "/etc/libvirt/libxl.conf";

/// Every key of libxl.conf.
pub const LIBXL_KEYS: &[&str] = &["autoballoon", "lock_manager", "keepalive_interval", "keepalive_count", "nested_hvm"];

/// The settings of libxl.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibxlConfig {
    /// None: decided from the Xen command line (on unless dom0_mem is given).
    pub autoballoon: Option<bool>,
    /// None: no lock manager ("nop").
    pub lock_manager: Option<String>,
    /// Keepalive towards the peer daemon during migration; -1 disables it.
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
    pub nested_hvm: bool,
}

impl Default for LibxlConfig {
    fn default() -> Self {
        LibxlConfig { autoballoon: None, lock_manager: None, keepalive_interval: 5, keepalive_count: 5, nested_hvm: false }
    }
}

fn take<T>(errors: &mut Vec<ConfError>, got: Result<Option<T>, ConfError>, slot: &mut T) {
    match got {
        Ok(Some(v)) => *slot = v,
        Ok(None) => {}
        Err(err) => errors.push(err),
    }
}

impl LibxlConfig {
    /// Applies every key of `conf`, collecting every type error.
    pub fn load_conf(&mut self, conf: &Conf) -> Result<(), Vec<ConfError>> {
        let mut errs = Vec::new();
        if let Some(on) = take_opt(&mut errs, conf.get_bool("autoballoon")) {
            self.autoballoon = Some(on);
        }
        if let Some(name) = take_opt(&mut errs, conf.get_string("lock_manager")) {
            self.lock_manager = Some(name);
        }
        take(&mut errs, conf.get_int("keepalive_interval"), &mut self.keepalive_interval);
        take(&mut errs, conf.get_uint("keepalive_count"), &mut self.keepalive_count);
        take(&mut errs, conf.get_bool("nested_hvm"), &mut self.nested_hvm);
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// Reads `path` if it can be opened; a file that cannot (missing, unreadable)
    /// leaves the defaults, as libvirt does.
    // C: libxlDriverConfigLoadFile
    pub fn load_file(&mut self, path: &Path) -> Result<(), Vec<ConfError>> {
        if std::fs::File::open(path).is_err() {
            return Ok(());
        }
        let (conf, errors) = Conf::read_file_all(path);
        if !errors.is_empty() {
            return Err(errors);
        }
        self.load_conf(&conf)
    }

    /// The value of `key` as the file would hold it; None when unset or unknown.
    pub fn value_of(&self, key: &str) -> Option<Value> {
        match key {
            "autoballoon" => self.autoballoon.map(|on| Value::Unsigned(on.into())),
            "lock_manager" => self.lock_manager.clone().map(Value::Str),
            "keepalive_interval" => Some(if self.keepalive_interval < 0 {
                Value::Signed(self.keepalive_interval.into())
            } else {
                Value::Unsigned(self.keepalive_interval as u64)
            }),
            "keepalive_count" => Some(Value::Unsigned(self.keepalive_count.into())),
            "nested_hvm" => Some(Value::Unsigned(self.nested_hvm.into())),
            _ => None,
        }
    }
}

fn take_opt<T>(errors: &mut Vec<ConfError>, got: Result<Option<T>, ConfError>) -> Option<T> {
    got.unwrap_or_else(|err| {
        errors.push(err);
        None
    })
}
