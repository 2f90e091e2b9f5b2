//! Raw declarations of the libxl 4.17 / xentoollog functions virtxend calls (libxl.h,
//! libxl_event.h, _libxl_types.h, xentoollog.h), with the few small structs laid out by hand.
//!
//! Only the exported (`@@VERS_4.17.0`) signatures are declared: the old-API variants are
//! macros or inline wrappers in the header. Large IDL structs (`libxl_domain_config`) are
//! opaque here; their size comes from the build-time probe (`SIZEOF_*` below). The hand-laid
//! structs are checked field by field against the installed header by `layout_tests`.
#![allow(non_camel_case_types)]

use libc::{c_char, c_int, c_short, c_uint, c_void, pid_t, timeval, FILE};

include!(concat!(env!("OUT_DIR"), "/libxl_sizes.rs"));

/// Opaque `libxl_ctx`.
pub enum libxl_ctx {}
/// Opaque `xentoollog_logger` (the base "class" every logger starts with).
pub enum xentoollog_logger {}
/// Opaque `xentoollog_logger_stdiostream`.
pub enum xentoollog_logger_stdiostream {}
/// Opaque `libxl_domain_config`: never laid out here, see `SIZEOF_LIBXL_DOMAIN_CONFIG`.
pub enum libxl_domain_config {}
/// Opaque `libxl__evgen_domain_death`.
pub enum libxl_evgen_domain_death {}

pub type libxl_ev_user = u64;

/// `libxl_version_info` (96 bytes on x86_64, stable 4.17 to 4.20).
#[repr(C)]
pub struct libxl_version_info {
    pub xen_version_major: c_int,
    pub xen_version_minor: c_int,
    pub xen_version_extra: *mut c_char,
    pub compiler: *mut c_char,
    pub compile_by: *mut c_char,
    pub compile_domain: *mut c_char,
    pub compile_date: *mut c_char,
    pub capabilities: *mut c_char,
    pub changeset: *mut c_char,
    pub virt_start: u64,
    pub pagesize: c_int,
    pub commandline: *mut c_char,
    pub build_id: *mut c_char,
}

/// `libxl_dominfo` (120 bytes; its size is the stride of `libxl_list_domain`'s array).
#[repr(C)]
pub struct libxl_dominfo {
    pub uuid: [u8; 16],
    pub domid: u32,
    pub ssidref: u32,
    pub ssid_label: *mut c_char,
    pub running: bool,
    pub blocked: bool,
    pub paused: bool,
    pub shutdown: bool,
    pub dying: bool,
    pub never_stop: bool,
    pub shutdown_reason: c_int,
    pub outstanding_memkb: u64,
    pub current_memkb: u64,
    pub shared_memkb: u64,
    pub paged_memkb: u64,
    pub max_memkb: u64,
    pub cpu_time: u64,
    pub vcpu_max_id: u32,
    pub vcpu_online: u32,
    pub cpupool: u32,
    pub gpaddr_bits: u8,
    pub domain_type: c_int,
}

/// `libxl_physinfo` as of 4.17 (128 bytes; 4.18 adds fields, hence the SONAME pinning).
#[repr(C)]
pub struct libxl_physinfo {
    pub threads_per_core: u32,
    pub cores_per_socket: u32,
    pub max_cpu_id: u32,
    pub nr_cpus: u32,
    pub cpu_khz: u32,
    pub total_pages: u64,
    pub free_pages: u64,
    pub scrub_pages: u64,
    pub outstanding_pages: u64,
    pub sharing_freed_pages: u64,
    pub sharing_used_frames: u64,
    pub max_possible_mfn: u64,
    pub nr_nodes: u32,
    pub hw_cap: [u32; 8],
    pub cap_hvm: bool,
    pub cap_pv: bool,
    pub cap_hvm_directio: bool,
    pub cap_hap: bool,
    pub cap_shadow: bool,
    pub cap_iommu_hap_pt_share: bool,
    pub cap_vmtrace: bool,
    pub cap_vpmu: bool,
    pub cap_gnttab_v1: bool,
    pub cap_gnttab_v2: bool,
}

/// `libxl_numainfo`.
#[repr(C)]
pub struct libxl_numainfo {
    pub size: u64,
    pub free: u64,
    pub num_dists: c_int,
    pub dists: *mut u32,
}

/// `libxl_cputopology`.
#[repr(C)]
pub struct libxl_cputopology {
    pub core: u32,
    pub socket: u32,
    pub node: u32,
}

/// `libxl_event`: the header we read, then the union as opaque words (208 bytes in all).
#[repr(C)]
pub struct libxl_event {
    /// `XEN_TAILQ_ENTRY`: next pointer and pointer-to-previous-next.
    pub link: [*mut c_void; 2],
    pub domid: u32,
    pub domuuid: [u8; 16],
    pub for_user: u64,
    pub type_: c_int,
    /// `u`: `domain_shutdown.shutdown_reason` is its first byte, `operation_complete.rc`
    /// its first int, `disk_eject.vdev` its first pointer.
    pub u: [u64; 19],
}

/// `libxl_event_hooks`.
#[repr(C)]
pub struct libxl_event_hooks {
    pub event_occurs_mask: u64,
    pub event_occurs: Option<unsafe extern "C" fn(user: *mut c_void, event: *const libxl_event)>,
    pub disaster: Option<unsafe extern "C" fn(user: *mut c_void, type_: c_int, msg: *const c_char, errnoval: c_int)>,
}

/// `libxl_osevent_hooks`.
#[repr(C)]
pub struct libxl_osevent_hooks {
    pub fd_register: Option<
        unsafe extern "C" fn(user: *mut c_void, fd: c_int, reg_out: *mut *mut c_void, events: c_short, for_libxl: *mut c_void) -> c_int,
    >,
    pub fd_modify: Option<unsafe extern "C" fn(user: *mut c_void, fd: c_int, reg_upd: *mut *mut c_void, events: c_short) -> c_int>,
    pub fd_deregister: Option<unsafe extern "C" fn(user: *mut c_void, fd: c_int, reg: *mut c_void)>,
    pub timeout_register:
        Option<unsafe extern "C" fn(user: *mut c_void, reg_out: *mut *mut c_void, abs: timeval, for_libxl: *mut c_void) -> c_int>,
    pub timeout_modify: Option<unsafe extern "C" fn(user: *mut c_void, reg_upd: *mut *mut c_void, abs: timeval) -> c_int>,
    pub timeout_deregister: Option<unsafe extern "C" fn(user: *mut c_void, reg: *mut c_void)>,
}

/// `libxl_childproc_hooks`.
#[repr(C)]
pub struct libxl_childproc_hooks {
    pub chldowner: c_int,
    pub fork_replacement: Option<unsafe extern "C" fn(user: *mut c_void) -> pid_t>,
    pub reaped_callback: Option<unsafe extern "C" fn(pid: pid_t, status: c_int, user: *mut c_void) -> c_int>,
}

/// `libxl_asyncop_how` (only ever passed as NULL: every call we make is synchronous).
pub enum libxl_asyncop_how {}
/// `libxl_asyncprogress_how` (likewise passed as NULL).
pub enum libxl_asyncprogress_how {}

// libxl_sigchld_owner
pub const LIBXL_SIGCHLD_OWNER_LIBXL: c_int = 0;
pub const LIBXL_SIGCHLD_OWNER_MAINLOOP: c_int = 1;
pub const LIBXL_SIGCHLD_OWNER_LIBXL_ALWAYS: c_int = 2;
pub const LIBXL_SIGCHLD_OWNER_LIBXL_ALWAYS_SELECTIVE_REAP: c_int = 3;

pub const LIBXL_VERSION: c_int = 0;
pub const LIBXL_EVENTMASK_ALL: u64 = !0;

// libxl_event_type
pub const LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN: c_int = 1;
pub const LIBXL_EVENT_TYPE_DOMAIN_DEATH: c_int = 2;
pub const LIBXL_EVENT_TYPE_DISK_EJECT: c_int = 3;
pub const LIBXL_EVENT_TYPE_OPERATION_COMPLETE: c_int = 4;
pub const LIBXL_EVENT_TYPE_DOMAIN_CREATE_CONSOLE_AVAILABLE: c_int = 5;

// xentoollog_level
pub const XTL_DEBUG: c_int = 1;
pub const XTL_VERBOSE: c_int = 2;
pub const XTL_DETAIL: c_int = 3;
pub const XTL_PROGRESS: c_int = 4;
pub const XTL_INFO: c_int = 5;
pub const XTL_NOTICE: c_int = 6;
pub const XTL_WARN: c_int = 7;
pub const XTL_ERROR: c_int = 8;
pub const XTL_CRITICAL: c_int = 9;
pub const XTL_STDIOSTREAM_SHOW_PID: c_uint = 0o1;
pub const XTL_STDIOSTREAM_SHOW_DATE: c_uint = 0o2;
pub const XTL_STDIOSTREAM_HIDE_PROGRESS: c_uint = 0o4;

#[link(name = "xentoollog")]
extern "C" {
    pub fn xtl_createlogger_stdiostream(f: *mut FILE, min_level: c_int, flags: c_uint) -> *mut xentoollog_logger_stdiostream;
    pub fn xtl_logger_destroy(logger: *mut xentoollog_logger);
}

#[link(name = "xenlight")]
extern "C" {
    pub fn libxl_ctx_alloc(pctx: *mut *mut libxl_ctx, version: c_int, flags: c_uint, lg: *mut xentoollog_logger) -> c_int;
    pub fn libxl_ctx_free(ctx: *mut libxl_ctx) -> c_int;

    pub fn libxl_get_version_info(ctx: *mut libxl_ctx) -> *const libxl_version_info;
    pub fn libxl_get_physinfo(ctx: *mut libxl_ctx, physinfo: *mut libxl_physinfo) -> c_int;
    pub fn libxl_physinfo_init(p: *mut libxl_physinfo);
    pub fn libxl_physinfo_dispose(p: *mut libxl_physinfo);
    pub fn libxl_get_max_cpus(ctx: *mut libxl_ctx) -> c_int;
    pub fn libxl_get_max_nodes(ctx: *mut libxl_ctx) -> c_int;
    pub fn libxl_get_free_memory(ctx: *mut libxl_ctx, memkb: *mut u64) -> c_int;
    pub fn libxl_get_numainfo(ctx: *mut libxl_ctx, nr: *mut c_int) -> *mut libxl_numainfo;
    pub fn libxl_numainfo_list_free(list: *mut libxl_numainfo, nr: c_int);
    pub fn libxl_get_cpu_topology(ctx: *mut libxl_ctx, nb_cpu_out: *mut c_int) -> *mut libxl_cputopology;
    pub fn libxl_cputopology_list_free(list: *mut libxl_cputopology, nr: c_int);

    pub fn libxl_dominfo_init(p: *mut libxl_dominfo);
    pub fn libxl_dominfo_dispose(p: *mut libxl_dominfo);
    pub fn libxl_domain_info(ctx: *mut libxl_ctx, info_r: *mut libxl_dominfo, domid: u32) -> c_int;
    pub fn libxl_list_domain(ctx: *mut libxl_ctx, nb_domain_out: *mut c_int) -> *mut libxl_dominfo;
    pub fn libxl_dominfo_list_free(list: *mut libxl_dominfo, nb_domain: c_int);
    pub fn libxl_name_to_domid(ctx: *mut libxl_ctx, name: *const c_char, domid: *mut u32) -> c_int;
    pub fn libxl_domid_to_name(ctx: *mut libxl_ctx, domid: u32) -> *mut c_char;

    pub fn libxl_domain_config_init(d_config: *mut libxl_domain_config);
    pub fn libxl_domain_config_dispose(d_config: *mut libxl_domain_config);
    pub fn libxl_domain_config_from_json(ctx: *mut libxl_ctx, p: *mut libxl_domain_config, s: *const c_char) -> c_int;
    pub fn libxl_domain_config_to_json(ctx: *mut libxl_ctx, p: *mut libxl_domain_config) -> *mut c_char;
    pub fn libxl_retrieve_domain_configuration(
        ctx: *mut libxl_ctx,
        domid: u32,
        d_config: *mut libxl_domain_config,
        ao_how: *const libxl_asyncop_how,
    ) -> c_int;

    pub fn libxl_domain_create_new(
        ctx: *mut libxl_ctx,
        d_config: *mut libxl_domain_config,
        domid: *mut u32,
        ao_how: *const libxl_asyncop_how,
        aop_console_how: *const libxl_asyncprogress_how,
    ) -> c_int;
    pub fn libxl_domain_destroy(ctx: *mut libxl_ctx, domid: u32, ao_how: *const libxl_asyncop_how) -> c_int;
    pub fn libxl_domain_shutdown(ctx: *mut libxl_ctx, domid: u32, ao_how: *const libxl_asyncop_how) -> c_int;
    pub fn libxl_domain_reboot(ctx: *mut libxl_ctx, domid: u32, ao_how: *const libxl_asyncop_how) -> c_int;
    pub fn libxl_domain_pause(ctx: *mut libxl_ctx, domid: u32, ao_how: *const libxl_asyncop_how) -> c_int;
    pub fn libxl_domain_unpause(ctx: *mut libxl_ctx, domid: u32, ao_how: *const libxl_asyncop_how) -> c_int;
    pub fn libxl_send_trigger(ctx: *mut libxl_ctx, domid: u32, trigger: c_int, vcpuid: u32, ao_how: *const libxl_asyncop_how) -> c_int;
    pub fn libxl_set_memory_target(ctx: *mut libxl_ctx, domid: u32, target_memkb: i64, relative: c_int, enforce: c_int) -> c_int;
    pub fn libxl_domain_setmaxmem(ctx: *mut libxl_ctx, domid: u32, target_memkb: u64) -> c_int;
    pub fn libxl_console_get_tty(ctx: *mut libxl_ctx, domid: u32, cons_num: c_int, type_: c_int, path: *mut *mut c_char) -> c_int;

    pub fn libxl_userdata_store(ctx: *mut libxl_ctx, domid: u32, userid: *const c_char, data: *const u8, datalen: c_int) -> c_int;
    pub fn libxl_userdata_retrieve(
        ctx: *mut libxl_ctx,
        domid: u32,
        userid: *const c_char,
        data_r: *mut *mut u8,
        datalen_r: *mut c_int,
    ) -> c_int;

    pub fn libxl_evenable_domain_death(
        ctx: *mut libxl_ctx,
        domid: u32,
        user: libxl_ev_user,
        evgen_out: *mut *mut libxl_evgen_domain_death,
    ) -> c_int;
    pub fn libxl_evdisable_domain_death(ctx: *mut libxl_ctx, evgen: *mut libxl_evgen_domain_death);
    pub fn libxl_event_register_callbacks(ctx: *mut libxl_ctx, hooks: *const libxl_event_hooks, user: *mut c_void);
    pub fn libxl_event_free(ctx: *mut libxl_ctx, event: *mut libxl_event);

    pub fn libxl_osevent_register_hooks(ctx: *mut libxl_ctx, hooks: *const libxl_osevent_hooks, user: *mut c_void);
    pub fn libxl_osevent_occurred_fd(ctx: *mut libxl_ctx, for_libxl: *mut c_void, fd: c_int, events: c_short, revents: c_short);
    pub fn libxl_osevent_occurred_timeout(ctx: *mut libxl_ctx, for_libxl: *mut c_void);
    pub fn libxl_childproc_setmode(ctx: *mut libxl_ctx, hooks: *const libxl_childproc_hooks, user: *mut c_void);
}

// Compile-time checks of the hand-laid structs against the probed header sizes (skipped
// when the build could not probe; `layout_tests` then reports it). physinfo only needs our
// prefix to fit: it is always allocated with the header's size (it grew in 4.18).
const _: () = assert!(
    !LIBXL_PROBED || std::mem::size_of::<libxl_dominfo>() == SIZEOF_LIBXL_DOMINFO,
    "libxl_dominfo differs from the installed <libxl.h>: review src/libxl_ffi/sys.rs"
);
const _: () = assert!(
    !LIBXL_PROBED || std::mem::size_of::<libxl_physinfo>() <= SIZEOF_LIBXL_PHYSINFO,
    "libxl_physinfo is larger than the installed <libxl.h> says: review src/libxl_ffi/sys.rs"
);
const _: () = assert!(
    !LIBXL_PROBED || std::mem::size_of::<libxl_version_info>() == SIZEOF_LIBXL_VERSION_INFO,
    "libxl_version_info differs from the installed <libxl.h>: review src/libxl_ffi/sys.rs"
);
const _: () = assert!(
    !LIBXL_PROBED || std::mem::size_of::<libxl_event>() == SIZEOF_LIBXL_EVENT,
    "libxl_event differs from the installed <libxl.h>: review src/libxl_ffi/sys.rs"
);
const _: () = assert!(
    !LIBXL_PROBED || std::mem::size_of::<libxl_numainfo>() == SIZEOF_LIBXL_NUMAINFO,
    "libxl_numainfo differs from the installed <libxl.h>: review src/libxl_ffi/sys.rs"
);
const _: () = assert!(
    !LIBXL_PROBED || std::mem::size_of::<libxl_cputopology>() == SIZEOF_LIBXL_CPUTOPOLOGY,
    "libxl_cputopology differs from the installed <libxl.h>: review src/libxl_ffi/sys.rs"
);
