//! `libxl_domain_config` as an opaque, correctly sized heap block filled from JSON (the
//! route DESIGN.md §5 takes instead of libvirt's libxl_conf.c field-by-field build).
//!
//! The struct is never laid out in Rust: `SIZEOF_LIBXL_DOMAIN_CONFIG` and its alignment come
//! from the installed header at build time. libxl's own `_init`, `_from_json`, `_to_json`
//! and `_dispose` do all the work.

use std::alloc::{self, Layout};
use std::ffi::{CStr, CString};
use std::ptr::NonNull;

use super::ctx::Ctx;
use super::error::{check, LibxlError, Result};
use super::sys;

/// An initialised `libxl_domain_config`, disposed and freed on drop.
pub struct DomainConfig {
    ptr: NonNull<u8>,
}

// SAFETY: the block is plain heap memory owned by this value; libxl keeps no reference to it
// after the calls we make with it return.
unsafe impl Send for DomainConfig {}

fn layout() -> Layout {
    let align = sys::ALIGNOF_LIBXL_DOMAIN_CONFIG.clamp(8, 64).next_power_of_two();
    // The probe's size is a multiple of the header's alignment, so this cannot fail.
    Layout::from_size_align(sys::SIZEOF_LIBXL_DOMAIN_CONFIG.max(8), align).unwrap_or_else(|_| Layout::new::<[u64; 1024]>())
}

impl DomainConfig {
    /// An empty (default) configuration.
    pub fn new() -> DomainConfig {
        let l = layout();
        // SAFETY: the layout has a non-zero size.
        let p = unsafe { alloc::alloc_zeroed(l) };
        let Some(ptr) = NonNull::new(p) else { alloc::handle_alloc_error(l) };
        // SAFETY: the block is big and aligned enough for the header's libxl_domain_config.
        unsafe { sys::libxl_domain_config_init(ptr.as_ptr() as *mut sys::libxl_domain_config) };
        DomainConfig { ptr }
    }

    /// Parses libxl's JSON form of a domain config (what `libxl_domain_config_to_json`
    /// writes; fields left out keep their defaults).
    pub fn from_json(ctx: &Ctx, json: &str) -> Result<DomainConfig> {
        let c = CString::new(json)
            .map_err(|_| LibxlError::Arg { func: "libxl_domain_config_from_json", what: "JSON contains a NUL byte".into() })?;
        let mut cfg = DomainConfig::new();
        // SAFETY: `cfg` is initialised; `c` is a valid string; the context is alive.
        let rc = unsafe { sys::libxl_domain_config_from_json(ctx.raw(), cfg.as_mut_ptr(), c.as_ptr()) };
        check("libxl_domain_config_from_json", rc)?;
        Ok(cfg)
    }

    /// libxl's JSON form of this config.
    pub fn to_json(&self, ctx: &Ctx) -> Result<String> {
        // SAFETY: the config is initialised; libxl only reads it (the prototype lacks const).
        let p = unsafe { sys::libxl_domain_config_to_json(ctx.raw(), self.ptr.as_ptr() as *mut sys::libxl_domain_config) };
        if p.is_null() {
            return Err(LibxlError::Null { func: "libxl_domain_config_to_json" });
        }
        // SAFETY: libxl returned a NUL-terminated malloc'd string that is ours.
        let s = unsafe { CStr::from_ptr(p) }.to_str().map(str::to_string);
        // SAFETY: as above, freed once.
        unsafe { libc::free(p as *mut libc::c_void) };
        s.map_err(|_| LibxlError::Utf8 { func: "libxl_domain_config_to_json" })
    }

    pub(super) fn as_mut_ptr(&mut self) -> *mut sys::libxl_domain_config {
        self.ptr.as_ptr() as *mut sys::libxl_domain_config
    }
}

impl Default for DomainConfig {
    fn default() -> Self {
        DomainConfig::new()
    }
}

impl Drop for DomainConfig {
    fn drop(&mut self) {
        // SAFETY: the config was initialised in `new` and is disposed, then freed with the
        // layout it was allocated with, exactly once.
        unsafe {
            sys::libxl_domain_config_dispose(self.as_mut_ptr());
            alloc::dealloc(self.ptr.as_ptr(), layout());
        }
    }
}
