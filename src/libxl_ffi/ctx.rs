//! The libxl context and its logger (libvirt's libxl_conf.c libxlDriverConfigInit /
//! libxlDriverConfigDispose, libxl_logger.c), and the host information calls
//! (libxl_capabilities.c and libxl_driver.c libxlDriverNodeGetInfo use these).

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use super::error::{check, LibxlError, Result};
use super::events::{EventSink, LibxlEvent};
use super::osevent::LibxlEvents;
use super::sys;

/// Minimum level of the messages libxl writes to its log (xentoollog's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    Detail,
    Progress,
    Info,
    Notice,
    Warn,
    Error,
    Critical,
}

impl LogLevel {
    fn xtl(self) -> libc::c_int {
        match self {
            LogLevel::Debug => sys::XTL_DEBUG,
            LogLevel::Verbose => sys::XTL_VERBOSE,
            LogLevel::Detail => sys::XTL_DETAIL,
            LogLevel::Progress => sys::XTL_PROGRESS,
            LogLevel::Info => sys::XTL_INFO,
            LogLevel::Notice => sys::XTL_NOTICE,
            LogLevel::Warn => sys::XTL_WARN,
            LogLevel::Error => sys::XTL_ERROR,
            LogLevel::Critical => sys::XTL_CRITICAL,
        }
    }
}

/// A xentoollog stdio logger writing to a file we opened (libvirt writes libxl's own
/// messages to /var/log/libvirt/libxl/libxl-driver.log). libxl only holds a pointer to
/// it, so it must outlive the context: `Ctx` owns it.
pub struct Logger {
    raw: NonNull<sys::xentoollog_logger_stdiostream>,
    file: NonNull<libc::FILE>,
}

// SAFETY: the logger is only used through libxl, which serialises nothing itself but
// writes each message with one stdio call; glibc's FILE operations lock the stream.
unsafe impl Send for Logger {}
// SAFETY: as above; shared use is concurrent stdio writes, which glibc locks.
unsafe impl Sync for Logger {}

impl Logger {
    /// Appends to `path` (created 0600 if missing), one line per message with date and pid.
    // C: libxlLoggerNew
    pub fn to_file(path: &Path, min_level: LogLevel) -> Result<Logger> {
        let cpath = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| LibxlError::Arg { func: "fopen", what: format!("{}: path contains a NUL byte", path.display()) })?;
        // SAFETY: both arguments are valid NUL-terminated strings.
        let f = unsafe { libc::fopen(cpath.as_ptr(), b"ae\0".as_ptr() as *const libc::c_char) };
        let Some(file) = NonNull::new(f) else {
            return Err(LibxlError::LogFile { path: path.to_path_buf(), err: std::io::Error::last_os_error() });
        };
        Self::from_file(file, min_level)
    }

    /// Writes to a duplicate of the process's stderr.
    pub fn to_stderr(min_level: LogLevel) -> Result<Logger> {
        // SAFETY: dup has no memory-safety preconditions.
        let fd = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 3) };
        if fd < 0 {
            return Err(LibxlError::LogFile { path: "/dev/stderr".into(), err: std::io::Error::last_os_error() });
        }
        // SAFETY: `fd` is an fd we own; on success the FILE takes it over.
        let f = unsafe { libc::fdopen(fd, b"a\0".as_ptr() as *const libc::c_char) };
        let Some(file) = NonNull::new(f) else {
            let err = std::io::Error::last_os_error();
            // SAFETY: fdopen failed, so `fd` is still ours to close.
            unsafe { libc::close(fd) };
            return Err(LibxlError::LogFile { path: "/dev/stderr".into(), err });
        };
        Self::from_file(file, min_level)
    }

    fn from_file(file: NonNull<libc::FILE>, min_level: LogLevel) -> Result<Logger> {
        // SAFETY: `file` is a valid stream we own; a NULL buffer asks stdio to allocate one.
        unsafe { libc::setvbuf(file.as_ptr(), ptr::null_mut(), libc::_IOLBF, 0) };
        let flags = sys::XTL_STDIOSTREAM_SHOW_DATE | sys::XTL_STDIOSTREAM_SHOW_PID | sys::XTL_STDIOSTREAM_HIDE_PROGRESS;
        // SAFETY: `file` stays open until after the logger is destroyed (see Drop).
        let lg = unsafe { sys::xtl_createlogger_stdiostream(file.as_ptr(), min_level.xtl(), flags) };
        match NonNull::new(lg) {
            Some(raw) => Ok(Logger { raw, file }),
            None => {
                // SAFETY: the logger was not created, so nothing else refers to `file`.
                unsafe { libc::fclose(file.as_ptr()) };
                Err(LibxlError::Null { func: "xtl_createlogger_stdiostream" })
            }
        }
    }

    fn as_xtl(&self) -> *mut sys::xentoollog_logger {
        self.raw.as_ptr() as *mut sys::xentoollog_logger
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        // SAFETY: `raw` came from xtl_createlogger_stdiostream and is destroyed once; the
        // stdio logger's destroy does not close the stream, so we close it afterwards.
        unsafe {
            sys::xtl_logger_destroy(self.as_xtl());
            libc::fclose(self.file.as_ptr());
        }
    }
}

/// What a `Ctx` owns; freed with `libxl_ctx_free` before the hooks' user data and the logger.
pub(super) struct CtxInner {
    pub(super) raw: NonNull<sys::libxl_ctx>,
    pub(super) events: Option<Arc<LibxlEvents>>,
    sink: Option<Box<EventSink>>,
    _logger: Logger,
}

// SAFETY: libxl.h documents `struct libxl_ctx*` as thread-safe (it takes its own recursive
// lock on every entry); the hook data is immutable after set-up or behind its own mutex.
unsafe impl Send for CtxInner {}
// SAFETY: as above.
unsafe impl Sync for CtxInner {}

impl Drop for CtxInner {
    fn drop(&mut self) {
        // SAFETY: `raw` came from libxl_ctx_alloc and is freed exactly once, here. libxl may
        // call our fd/timeout hooks while freeing; `events` and `sink` are dropped only after.
        unsafe { sys::libxl_ctx_free(self.raw.as_ptr()) };
    }
}

/// A libxl context (one per daemon, as libvirt's driver has). Cloning shares it.
#[derive(Clone)]
pub struct Ctx {
    pub(super) inner: Arc<CtxInner>,
}

/// libxl's hooks tables: libxl keeps the pointers, so they live in statics.
static CHILDPROC_HOOKS: sys::libxl_childproc_hooks = sys::libxl_childproc_hooks {
    chldowner: sys::LIBXL_SIGCHLD_OWNER_LIBXL_ALWAYS_SELECTIVE_REAP,
    fork_replacement: None,
    reaped_callback: None,
};

impl Ctx {
    /// A context without event-loop integration: enough for JSON conversion and queries.
    /// libxl then processes its fds only inside its own synchronous calls.
    // C: libxlDriverConfigInit (libxl_ctx_alloc part)
    pub fn new(logger: Logger) -> Result<Ctx> {
        let raw = alloc(&logger)?;
        Ok(Ctx { inner: Arc::new(CtxInner { raw, events: None, sink: None, _logger: logger }) })
    }

    /// A context wired to the daemon's poll loop (`events`) and delivering domain events to
    /// `on_event`, in libvirt's order: osevent hooks, child-process mode, event callbacks.
    ///
    /// `on_event` runs on whichever thread is inside libxl when the event is reported (the
    /// loop thread inside `osevent_fd`, or a worker inside a libxl call): it must not block.
    // C: libxlStateInitialize (the libxl_osevent_register_hooks ... register_callbacks part)
    pub fn with_events(logger: Logger, events: Arc<LibxlEvents>, on_event: impl Fn(LibxlEvent) + Send + Sync + 'static) -> Result<Ctx> {
        if !events.attach() {
            return Err(LibxlError::Arg { func: "libxl_osevent_register_hooks", what: "LibxlEvents already serves a context".into() });
        }
        let raw = alloc(&logger)?;
        let sink = Box::new(EventSink::new(raw.as_ptr(), Box::new(on_event)));
        let inner = CtxInner { raw, events: Some(Arc::clone(&events)), sink: Some(sink), _logger: logger };
        let user = Arc::as_ptr(&events) as *mut libc::c_void;
        let sink_ptr = inner.sink.as_deref().map_or(ptr::null_mut(), |s| s as *const EventSink as *mut libc::c_void);
        // SAFETY: the hook tables are statics; `user` (the LibxlEvents) and `sink_ptr` are
        // kept alive by `inner` until after libxl_ctx_free. Each is registered once, before
        // any other use of the context, as libxl requires.
        unsafe {
            sys::libxl_osevent_register_hooks(raw.as_ptr(), &super::osevent::OSEVENT_HOOKS, user);
            sys::libxl_childproc_setmode(raw.as_ptr(), &CHILDPROC_HOOKS, ptr::null_mut());
            sys::libxl_event_register_callbacks(raw.as_ptr(), &super::events::EVENT_HOOKS, sink_ptr);
        }
        Ok(Ctx { inner: Arc::new(inner) })
    }

    pub(super) fn raw(&self) -> *mut sys::libxl_ctx {
        self.inner.raw.as_ptr()
    }

    /// Xen's version and build information.
    // C: libxlDriverConfigInit (libxl_get_version_info), libxlConnectGetVersion
    pub fn version_info(&self) -> Result<VersionInfo> {
        // SAFETY: the context is valid; the result is owned by the context and only read here.
        let v = unsafe { sys::libxl_get_version_info(self.raw()) };
        // SAFETY: libxl returns NULL or a pointer valid for the context's lifetime.
        let Some(v) = (unsafe { v.as_ref() }) else {
            return Err(LibxlError::Null { func: "libxl_get_version_info" });
        };
        Ok(VersionInfo {
            major: v.xen_version_major,
            minor: v.xen_version_minor,
            extra: cstr_or_empty(v.xen_version_extra),
            compiler: cstr_or_empty(v.compiler),
            compile_by: cstr_or_empty(v.compile_by),
            compile_domain: cstr_or_empty(v.compile_domain),
            compile_date: cstr_or_empty(v.compile_date),
            capabilities: cstr_or_empty(v.capabilities),
            changeset: cstr_or_empty(v.changeset),
            virt_start: v.virt_start,
            pagesize: v.pagesize,
            commandline: cstr_or_empty(v.commandline),
            build_id: cstr_or_empty(v.build_id),
        })
    }

    /// The host's CPUs, memory and capabilities.
    // C: libxlDriverNodeGetInfo, libxlCapsInitHost
    pub fn physinfo(&self) -> Result<PhysInfo> {
        let mut buf = PhysInfoBuf::new();
        // SAFETY: `buf` is at least as large as the header's libxl_physinfo and initialised.
        check("libxl_get_physinfo", unsafe { sys::libxl_get_physinfo(self.raw(), buf.as_mut_ptr()) })?;
        let p = buf.get();
        Ok(PhysInfo {
            threads_per_core: p.threads_per_core,
            cores_per_socket: p.cores_per_socket,
            max_cpu_id: p.max_cpu_id,
            nr_cpus: p.nr_cpus,
            cpu_khz: p.cpu_khz,
            total_pages: p.total_pages,
            free_pages: p.free_pages,
            scrub_pages: p.scrub_pages,
            nr_nodes: p.nr_nodes,
            hw_cap: p.hw_cap,
            cap_hvm: p.cap_hvm,
            cap_pv: p.cap_pv,
            cap_hvm_directio: p.cap_hvm_directio,
            cap_hap: p.cap_hap,
            cap_shadow: p.cap_shadow,
        })
    }

    pub fn max_cpus(&self) -> Result<u32> {
        // SAFETY: the context is valid.
        let n = unsafe { sys::libxl_get_max_cpus(self.raw()) };
        check("libxl_get_max_cpus", n).map(|n| n as u32)
    }

    pub fn max_nodes(&self) -> Result<u32> {
        // SAFETY: the context is valid.
        let n = unsafe { sys::libxl_get_max_nodes(self.raw()) };
        check("libxl_get_max_nodes", n).map(|n| n as u32)
    }

    /// Free host memory in KiB.
    // C: libxlDriverConfigInit (libxl_get_free_memory), libxlNodeGetFreeMemory
    pub fn free_memory_kb(&self) -> Result<u64> {
        let mut kb = 0u64;
        // SAFETY: `kb` is valid for writes.
        check("libxl_get_free_memory", unsafe { sys::libxl_get_free_memory(self.raw(), &mut kb) })?;
        Ok(kb)
    }

    /// One entry per NUMA node: (size bytes, free bytes, distances to every node).
    // C: libxlCapsInitNuma
    pub fn numainfo(&self) -> Result<Vec<NumaNode>> {
        let mut n: libc::c_int = 0;
        // SAFETY: `n` is valid for writes; the list is freed below with its own free function.
        let list = unsafe { sys::libxl_get_numainfo(self.raw(), &mut n) };
        if list.is_null() || n < 0 {
            return Err(LibxlError::Null { func: "libxl_get_numainfo" });
        }
        // SAFETY: libxl returned `n` initialised elements at `list`.
        let items = unsafe { std::slice::from_raw_parts(list, n as usize) };
        let out = items
            .iter()
            .map(|it| {
                let dists = if it.dists.is_null() || it.num_dists <= 0 {
                    Vec::new()
                } else {
                    // SAFETY: `dists` holds `num_dists` u32s allocated by libxl.
                    unsafe { std::slice::from_raw_parts(it.dists, it.num_dists as usize) }.to_vec()
                };
                NumaNode { size: it.size, free: it.free, dists }
            })
            .collect();
        // SAFETY: `list`/`n` came from libxl_get_numainfo and are freed once.
        unsafe { sys::libxl_numainfo_list_free(list, n) };
        Ok(out)
    }

    /// One entry per CPU: (core, socket, node); `u32::MAX` where Xen does not know.
    // C: libxlCapsInitNuma (libxl_get_cpu_topology)
    pub fn cpu_topology(&self) -> Result<Vec<CpuTopology>> {
        let mut n: libc::c_int = 0;
        // SAFETY: `n` is valid for writes; the list is freed below.
        let list = unsafe { sys::libxl_get_cpu_topology(self.raw(), &mut n) };
        if list.is_null() || n < 0 {
            return Err(LibxlError::Null { func: "libxl_get_cpu_topology" });
        }
        // SAFETY: libxl returned `n` elements at `list`.
        let items = unsafe { std::slice::from_raw_parts(list, n as usize) };
        let out = items.iter().map(|t| CpuTopology { core: t.core, socket: t.socket, node: t.node }).collect();
        // SAFETY: `list`/`n` came from libxl_get_cpu_topology and are freed once.
        unsafe { sys::libxl_cputopology_list_free(list, n) };
        Ok(out)
    }
}

fn alloc(logger: &Logger) -> Result<NonNull<sys::libxl_ctx>> {
    let mut raw: *mut sys::libxl_ctx = ptr::null_mut();
    // SAFETY: `raw` is valid for writes; the logger outlives the context (Ctx owns both and
    // frees the context first).
    let rc = unsafe { sys::libxl_ctx_alloc(&mut raw, sys::LIBXL_VERSION, 0, logger.as_xtl()) };
    check("libxl_ctx_alloc", rc)?;
    NonNull::new(raw).ok_or(LibxlError::Null { func: "libxl_ctx_alloc" })
}

/// Copies a C string owned by libxl; NULL gives "".
pub(super) fn cstr_or_empty(p: *const libc::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: libxl's strings are NUL-terminated and live at least as long as this call.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// A libxl_physinfo buffer of the header's size (which grew after 4.17), init'd and disposed.
struct PhysInfoBuf {
    words: Vec<u64>,
}

impl PhysInfoBuf {
    fn new() -> PhysInfoBuf {
        let bytes = sys::SIZEOF_LIBXL_PHYSINFO.max(std::mem::size_of::<sys::libxl_physinfo>());
        let mut b = PhysInfoBuf { words: vec![0u64; bytes.div_ceil(8)] };
        // SAFETY: the buffer is large enough and 8-aligned for libxl_physinfo.
        unsafe { sys::libxl_physinfo_init(b.as_mut_ptr()) };
        b
    }

    fn as_mut_ptr(&mut self) -> *mut sys::libxl_physinfo {
        self.words.as_mut_ptr() as *mut sys::libxl_physinfo
    }

    fn get(&self) -> &sys::libxl_physinfo {
        // SAFETY: the buffer holds an initialised libxl_physinfo (see `new`).
        unsafe { &*(self.words.as_ptr() as *const sys::libxl_physinfo) }
    }
}

impl Drop for PhysInfoBuf {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, disposed once.
        unsafe { sys::libxl_physinfo_dispose(self.as_mut_ptr()) };
    }
}

/// `libxl_version_info`, copied out of libxl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    pub major: i32,
    pub minor: i32,
    pub extra: String,
    pub compiler: String,
    pub compile_by: String,
    pub compile_domain: String,
    pub compile_date: String,
    pub capabilities: String,
    pub changeset: String,
    pub virt_start: u64,
    pub pagesize: i32,
    pub commandline: String,
    pub build_id: String,
}

/// The parts of `libxl_physinfo` the driver uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysInfo {
    pub threads_per_core: u32,
    pub cores_per_socket: u32,
    pub max_cpu_id: u32,
    pub nr_cpus: u32,
    pub cpu_khz: u32,
    pub total_pages: u64,
    pub free_pages: u64,
    pub scrub_pages: u64,
    pub nr_nodes: u32,
    pub hw_cap: [u32; 8],
    pub cap_hvm: bool,
    pub cap_pv: bool,
    pub cap_hvm_directio: bool,
    pub cap_hap: bool,
    pub cap_shadow: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumaNode {
    pub size: u64,
    pub free: u64,
    pub dists: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTopology {
    pub core: u32,
    pub socket: u32,
    pub node: u32,
}
