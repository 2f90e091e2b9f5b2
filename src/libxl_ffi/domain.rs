//! Domain-level libxl calls: information, life cycle, memory, console, userdata and death
//! watches (what libvirt's libxl_driver.c and libxl_domain.c call, in the same shapes).
//!
//! Every call is synchronous (`ao_how` NULL): libxl then runs its own private poll loop in
//! the calling thread, so these belong on worker threads, not on the poll loop.

use std::ffi::{CStr, CString};
use std::ptr::{self, NonNull};
use std::sync::Arc;

use super::config::DomainConfig;
use super::ctx::{Ctx, CtxInner};
use super::error::{check, LibxlError, Result, ERROR_DOMAIN_NOTFOUND, ERROR_INVAL};
use super::events::ShutdownReason;
use super::sys;

/// `libxl_domain_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainType {
    Hvm,
    Pv,
    Pvh,
    Invalid,
    Other(i32),
}

impl DomainType {
    pub fn from_raw(v: i32) -> DomainType {
        match v {
            1 => DomainType::Hvm,
            2 => DomainType::Pv,
            3 => DomainType::Pvh,
            -1 => DomainType::Invalid,
            other => DomainType::Other(other),
        }
    }
}

/// `libxl_trigger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Power = 1,
    Sleep = 2,
    Nmi = 3,
    Init = 4,
    Reset = 5,
    S3Resume = 6,
}

/// `libxl_console_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleType {
    Serial = 1,
    Pv = 2,
    Vuart = 3,
}

/// `libxl_dominfo`, copied out of libxl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomInfo {
    pub uuid: [u8; 16],
    pub domid: u32,
    pub ssidref: u32,
    pub running: bool,
    pub blocked: bool,
    pub paused: bool,
    pub shutdown: bool,
    pub dying: bool,
    pub never_stop: bool,
    /// Meaningful only when `shutdown` is set.
    pub shutdown_reason: ShutdownReason,
    pub outstanding_memkb: u64,
    pub current_memkb: u64,
    pub shared_memkb: u64,
    pub paged_memkb: u64,
    pub max_memkb: u64,
    /// Nanoseconds of CPU time used.
    pub cpu_time: u64,
    pub vcpu_max_id: u32,
    pub vcpu_online: u32,
    pub cpupool: u32,
    pub domain_type: DomainType,
}

impl DomInfo {
    fn from_raw(d: &sys::libxl_dominfo) -> DomInfo {
        DomInfo {
            uuid: d.uuid,
            domid: d.domid,
            ssidref: d.ssidref,
            running: d.running,
            blocked: d.blocked,
            paused: d.paused,
            shutdown: d.shutdown,
            dying: d.dying,
            never_stop: d.never_stop,
            shutdown_reason: ShutdownReason::from_raw(d.shutdown_reason),
            outstanding_memkb: d.outstanding_memkb,
            current_memkb: d.current_memkb,
            shared_memkb: d.shared_memkb,
            paged_memkb: d.paged_memkb,
            max_memkb: d.max_memkb,
            cpu_time: d.cpu_time,
            vcpu_max_id: d.vcpu_max_id,
            vcpu_online: d.vcpu_online,
            cpupool: d.cpupool,
            domain_type: DomainType::from_raw(d.domain_type),
        }
    }
}

/// A libxl_dominfo owned by us: init'd on creation, disposed on drop.
struct RawDomInfo(sys::libxl_dominfo);

impl RawDomInfo {
    fn new() -> RawDomInfo {
        // SAFETY: libxl_dominfo is plain data (numbers, bools, one nullable pointer), so all
        // zero is a valid value, which libxl_dominfo_init then sets up.
        let mut d = RawDomInfo(unsafe { std::mem::zeroed() });
        // SAFETY: `d.0` is valid for writes.
        unsafe { sys::libxl_dominfo_init(&mut d.0) };
        d
    }
}

impl Drop for RawDomInfo {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, disposed once (frees ssid_label if libxl set it).
        unsafe { sys::libxl_dominfo_dispose(&mut self.0) };
    }
}

/// A libxl domain-death watch (DOMAIN_SHUTDOWN and DOMAIN_DEATH events for one domain);
/// disabled when dropped. It keeps its context alive, as libxl requires evdisable before
/// libxl_ctx_free.
pub struct DeathWatch {
    ctx: Arc<CtxInner>,
    gen: NonNull<sys::libxl_evgen_domain_death>,
    domid: u32,
}

// SAFETY: the evgen is an opaque handle only passed back to libxl, whose context is
// thread-safe; it is disabled exactly once (Drop).
unsafe impl Send for DeathWatch {}
// SAFETY: shared references only read `domid`.
unsafe impl Sync for DeathWatch {}

impl DeathWatch {
    pub fn domid(&self) -> u32 {
        self.domid
    }
}

impl Drop for DeathWatch {
    fn drop(&mut self) {
        // SAFETY: `gen` came from libxl_evenable_domain_death on this context, which is
        // still alive (we hold it), and is disabled once.
        unsafe { sys::libxl_evdisable_domain_death(self.ctx.raw.as_ptr(), self.gen.as_ptr()) };
    }
}

fn cstring(func: &'static str, what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| LibxlError::Arg { func, what: format!("{what} contains a NUL byte") })
}

impl Ctx {
    /// Information about one domain.
    // C: libxlDomainGetInfo (libxl_domain_info)
    pub fn domain_info(&self, domid: u32) -> Result<DomInfo> {
        let mut d = RawDomInfo::new();
        // SAFETY: `d.0` is an initialised dominfo valid for writes.
        check("libxl_domain_info", unsafe { sys::libxl_domain_info(self.raw(), &mut d.0, domid) })?;
        Ok(DomInfo::from_raw(&d.0))
    }

    /// Whether a domain exists (libxl_domain_info with a NULL info, as libxl itself does).
    pub fn domain_exists(&self, domid: u32) -> Result<bool> {
        // SAFETY: libxl accepts a NULL info pointer.
        match unsafe { sys::libxl_domain_info(self.raw(), ptr::null_mut(), domid) } {
            0 => Ok(true),
            ERROR_DOMAIN_NOTFOUND | ERROR_INVAL => Ok(false),
            rc => Err(LibxlError::Call { func: "libxl_domain_info", rc }),
        }
    }

    /// Every domain on the host, Domain-0 included.
    pub fn list_domains(&self) -> Result<Vec<DomInfo>> {
        let mut n: libc::c_int = 0;
        // SAFETY: `n` is valid for writes; the array is freed below with its free function.
        let list = unsafe { sys::libxl_list_domain(self.raw(), &mut n) };
        if list.is_null() || n < 0 {
            return Err(LibxlError::Null { func: "libxl_list_domain" });
        }
        // SAFETY: libxl returned `n` initialised dominfos at `list`; their stride is
        // size_of::<libxl_dominfo>(), checked against the header at build time.
        let out = unsafe { std::slice::from_raw_parts(list, n as usize) }.iter().map(DomInfo::from_raw).collect();
        // SAFETY: `list`/`n` came from libxl_list_domain and are freed once.
        unsafe { sys::libxl_dominfo_list_free(list, n) };
        Ok(out)
    }

    /// The id of the domain called `name`, if any.
    pub fn name_to_domid(&self, name: &str) -> Result<Option<u32>> {
        let c = cstring("libxl_name_to_domid", "domain name", name)?;
        let mut domid = 0u32;
        // SAFETY: valid string and out pointer.
        match unsafe { sys::libxl_name_to_domid(self.raw(), c.as_ptr(), &mut domid) } {
            0 => Ok(Some(domid)),
            ERROR_INVAL => Ok(None),
            rc => Err(LibxlError::Call { func: "libxl_name_to_domid", rc }),
        }
    }

    /// The name of a domain, if it exists.
    pub fn domid_to_name(&self, domid: u32) -> Option<String> {
        // SAFETY: the result is NULL or a malloc'd string that we free.
        let p = unsafe { sys::libxl_domid_to_name(self.raw(), domid) };
        take_malloced_string(p)
    }

    /// Builds and starts a domain from `config`; the new domain is left paused (libvirt
    /// unpauses it unless asked to start paused). Returns its id.
    // C: libxlDomainStart (libxl_domain_create_new)
    pub fn domain_create_new(&self, config: &mut DomainConfig) -> Result<u32> {
        let mut domid = u32::MAX;
        // SAFETY: `config` is an initialised libxl_domain_config of the header's size; NULL
        // ao_how makes the call synchronous, NULL aop_console_how discards console progress.
        let rc = unsafe { sys::libxl_domain_create_new(self.raw(), config.as_mut_ptr(), &mut domid, ptr::null(), ptr::null()) };
        check("libxl_domain_create_new", rc)?;
        Ok(domid)
    }

    // C: libxlDomainDestroyInternal
    pub fn domain_destroy(&self, domid: u32) -> Result<()> {
        // SAFETY: synchronous call on a valid context.
        check("libxl_domain_destroy", unsafe { sys::libxl_domain_destroy(self.raw(), domid, ptr::null()) }).map(drop)
    }

    /// Asks the guest to power off (ERROR_NOPARAVIRT when it has no PV drivers).
    // C: libxlDomainShutdownFlags
    pub fn domain_shutdown(&self, domid: u32) -> Result<()> {
        // SAFETY: synchronous call on a valid context.
        check("libxl_domain_shutdown", unsafe { sys::libxl_domain_shutdown(self.raw(), domid, ptr::null()) }).map(drop)
    }

    // C: libxlDomainReboot
    pub fn domain_reboot(&self, domid: u32) -> Result<()> {
        // SAFETY: synchronous call on a valid context.
        check("libxl_domain_reboot", unsafe { sys::libxl_domain_reboot(self.raw(), domid, ptr::null()) }).map(drop)
    }

    // C: libxlDomainSuspend
    pub fn domain_pause(&self, domid: u32) -> Result<()> {
        // SAFETY: synchronous call on a valid context.
        check("libxl_domain_pause", unsafe { sys::libxl_domain_pause(self.raw(), domid, ptr::null()) }).map(drop)
    }

    // C: libxlDomainResume
    pub fn domain_unpause(&self, domid: u32) -> Result<()> {
        // SAFETY: synchronous call on a valid context.
        check("libxl_domain_unpause", unsafe { sys::libxl_domain_unpause(self.raw(), domid, ptr::null()) }).map(drop)
    }

    // C: libxlDomainShutdownFlags (ACPI fallback), libxlDomainInjectNMI
    pub fn send_trigger(&self, domid: u32, trigger: Trigger, vcpu: u32) -> Result<()> {
        // SAFETY: synchronous call on a valid context.
        let rc = unsafe { sys::libxl_send_trigger(self.raw(), domid, trigger as libc::c_int, vcpu, ptr::null()) };
        check("libxl_send_trigger", rc).map(drop)
    }

    /// Sets the balloon target (KiB; `relative` adds to the current target).
    // C: libxlDomainSetMemoryFlags
    pub fn set_memory_target(&self, domid: u32, target_kb: i64, relative: bool, enforce: bool) -> Result<()> {
        // SAFETY: plain values on a valid context.
        let rc = unsafe { sys::libxl_set_memory_target(self.raw(), domid, target_kb, relative as libc::c_int, enforce as libc::c_int) };
        check("libxl_set_memory_target", rc).map(drop)
    }

    /// Sets the maximum memory (KiB).
    // C: libxlDomainSetMemoryFlags (VIR_DOMAIN_MEM_MAXIMUM)
    pub fn set_max_memory(&self, domid: u32, max_kb: u64) -> Result<()> {
        // SAFETY: plain values on a valid context.
        check("libxl_domain_setmaxmem", unsafe { sys::libxl_domain_setmaxmem(self.raw(), domid, max_kb) }).map(drop)
    }

    /// The pty path of a domain's console.
    // C: libxlConsoleCallback / libxlDomainOpenConsole
    pub fn console_tty(&self, domid: u32, cons_num: u32, kind: ConsoleType) -> Result<String> {
        let num = libc::c_int::try_from(cons_num)
            .map_err(|_| LibxlError::Arg { func: "libxl_console_get_tty", what: format!("console {cons_num} out of range") })?;
        let mut path: *mut libc::c_char = ptr::null_mut();
        // SAFETY: `path` is a valid out pointer; on success it holds a malloc'd string.
        let rc = unsafe { sys::libxl_console_get_tty(self.raw(), domid, num, kind as libc::c_int, &mut path) };
        check("libxl_console_get_tty", rc)?;
        take_malloced_string(path).ok_or(LibxlError::Null { func: "libxl_console_get_tty" })
    }

    /// Stores data under `userid` for the domain; empty data deletes it.
    // C: libxlDomainStart (libxl_userdata_store "libvirt-xml")
    pub fn userdata_store(&self, domid: u32, userid: &str, data: &[u8]) -> Result<()> {
        let id = cstring("libxl_userdata_store", "userdata id", userid)?;
        let len = libc::c_int::try_from(data.len())
            .map_err(|_| LibxlError::Arg { func: "libxl_userdata_store", what: format!("{} bytes is too large", data.len()) })?;
        // SAFETY: `data` is valid for `len` bytes (unused when len is 0).
        check("libxl_userdata_store", unsafe { sys::libxl_userdata_store(self.raw(), domid, id.as_ptr(), data.as_ptr(), len) }).map(drop)
    }

    /// The data stored under `userid`, None if there is none.
    // C: libxlReconnectDomain (libxl_userdata_retrieve "libvirt-xml")
    pub fn userdata_retrieve(&self, domid: u32, userid: &str) -> Result<Option<Vec<u8>>> {
        let id = cstring("libxl_userdata_retrieve", "userdata id", userid)?;
        let mut data: *mut u8 = ptr::null_mut();
        let mut len: libc::c_int = 0;
        // SAFETY: valid out pointers; on success `data` is NULL or malloc'd with `len` bytes.
        let rc = unsafe { sys::libxl_userdata_retrieve(self.raw(), domid, id.as_ptr(), &mut data, &mut len) };
        check("libxl_userdata_retrieve", rc)?;
        if data.is_null() {
            return Ok(None);
        }
        let out = if len > 0 {
            // SAFETY: libxl returned `len` bytes at `data`.
            Some(unsafe { std::slice::from_raw_parts(data, len as usize) }.to_vec())
        } else {
            None
        };
        // SAFETY: `data` is malloc'd and ours.
        unsafe { libc::free(data as *mut libc::c_void) };
        Ok(out)
    }

    /// The configuration libxl stored when it created the domain.
    pub fn retrieve_domain_configuration(&self, domid: u32) -> Result<DomainConfig> {
        let mut cfg = DomainConfig::new();
        // SAFETY: `cfg` is initialised and of the header's size; synchronous call.
        let rc = unsafe { sys::libxl_retrieve_domain_configuration(self.raw(), domid, cfg.as_mut_ptr(), ptr::null()) };
        check("libxl_retrieve_domain_configuration", rc)?;
        Ok(cfg)
    }

    /// Starts DOMAIN_SHUTDOWN/DOMAIN_DEATH events for `domid`, tagged with `for_user`.
    // C: libxlDomainStart (libxl_evenable_domain_death), libxlReconnectDomain
    pub fn enable_domain_death(&self, domid: u32, for_user: u64) -> Result<DeathWatch> {
        let mut gen: *mut sys::libxl_evgen_domain_death = ptr::null_mut();
        // SAFETY: `gen` is a valid out pointer.
        let rc = unsafe { sys::libxl_evenable_domain_death(self.raw(), domid, for_user, &mut gen) };
        check("libxl_evenable_domain_death", rc)?;
        let gen = NonNull::new(gen).ok_or(LibxlError::Null { func: "libxl_evenable_domain_death" })?;
        Ok(DeathWatch { ctx: Arc::clone(&self.inner), gen, domid })
    }
}

/// Copies and frees a malloc'd C string from libxl.
fn take_malloced_string(p: *mut libc::c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: libxl returned a NUL-terminated malloc'd string that is ours to free.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    // SAFETY: as above; freed once.
    unsafe { libc::free(p as *mut libc::c_void) };
    Some(s)
}

/// A UUID in its usual text form (8-4-4-4-12 lower-case hex).
pub fn uuid_string(u: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_string_formats_groups() {
        let u = [0x3f, 0x2a, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb, 0xc, 0xd];
        assert_eq!(uuid_string(&u), "3f2a0001-0203-0405-0607-08090a0b0c0d");
    }

    #[test]
    fn domain_type_maps_header_values() {
        assert_eq!(DomainType::from_raw(1), DomainType::Hvm);
        assert_eq!(DomainType::from_raw(2), DomainType::Pv);
        assert_eq!(DomainType::from_raw(3), DomainType::Pvh);
        assert_eq!(DomainType::from_raw(-1), DomainType::Invalid);
        assert_eq!(DomainType::from_raw(9), DomainType::Other(9));
    }
}
