//! Checks every hand-laid struct of `sys` field by field (offset and size), and the constants
//! we copied, against the installed <libxl.h> by compiling and running a small C program.
//! Skipped, with a message, when no C compiler is available.

use std::fmt::Write as _;
use std::mem::{size_of, MaybeUninit};
use std::process::Command;

use super::error::*;
use super::sys::*;

fn size_of_pointee<T>(_: *const T) -> usize {
    size_of::<T>()
}

/// (offset, size) of a field of a Rust struct, without offset_of! (rust-version 1.75).
macro_rules! field {
    ($t:ty, $f:ident) => {{
        let u = MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: addr_of! computes the field's address without reading the value.
        let fp = unsafe { std::ptr::addr_of!((*base).$f) };
        (fp as usize - base as usize, size_of_pointee(fp))
    }};
}

/// One line the C program prints, with what Rust says it should be.
struct Check {
    c_expr: String,
    c_size: String,
    rust: (usize, usize),
}

fn struct_checks() -> Vec<Check> {
    let mut v = Vec::new();
    let mut s = |ty: &str, rust_size: usize| {
        v.push(Check { c_expr: format!("0 /* {ty} */"), c_size: format!("sizeof({ty})"), rust: (0, rust_size) })
    };
    s("libxl_dominfo", size_of::<libxl_dominfo>());
    s("libxl_version_info", size_of::<libxl_version_info>());
    s("libxl_event", size_of::<libxl_event>());
    s("libxl_numainfo", size_of::<libxl_numainfo>());
    s("libxl_cputopology", size_of::<libxl_cputopology>());
    s("libxl_event_hooks", size_of::<libxl_event_hooks>());
    s("libxl_osevent_hooks", size_of::<libxl_osevent_hooks>());
    s("libxl_childproc_hooks", size_of::<libxl_childproc_hooks>());
    v
}

macro_rules! fields {
    ($v:ident, $t:ty, $ct:literal, [$($f:ident $(= $cf:literal)?),* $(,)?]) => {
        $(
            let cname = fields!(@name $f $(, $cf)?);
            $v.push(Check {
                c_expr: format!("offsetof({}, {})", $ct, cname),
                c_size: format!("sizeof((({} *)0)->{})", $ct, cname),
                rust: field!($t, $f),
            });
        )*
    };
    (@name $f:ident) => { stringify!($f) };
    (@name $f:ident, $cf:literal) => { $cf };
}

fn field_checks() -> Vec<Check> {
    let mut v = Vec::new();
    fields!(
        v,
        libxl_dominfo,
        "libxl_dominfo",
        [
            uuid,
            domid,
            ssidref,
            ssid_label,
            running,
            blocked,
            paused,
            shutdown,
            dying,
            never_stop,
            shutdown_reason,
            outstanding_memkb,
            current_memkb,
            shared_memkb,
            paged_memkb,
            max_memkb,
            cpu_time,
            vcpu_max_id,
            vcpu_online,
            cpupool,
            gpaddr_bits,
            domain_type,
        ]
    );
    fields!(
        v,
        libxl_physinfo,
        "libxl_physinfo",
        [
            threads_per_core,
            cores_per_socket,
            max_cpu_id,
            nr_cpus,
            cpu_khz,
            total_pages,
            free_pages,
            scrub_pages,
            outstanding_pages,
            sharing_freed_pages,
            sharing_used_frames,
            max_possible_mfn,
            nr_nodes,
            hw_cap,
            cap_hvm,
            cap_pv,
            cap_hvm_directio,
            cap_hap,
            cap_shadow,
            cap_iommu_hap_pt_share,
            cap_vmtrace,
            cap_vpmu,
            cap_gnttab_v1,
            cap_gnttab_v2,
        ]
    );
    fields!(
        v,
        libxl_version_info,
        "libxl_version_info",
        [
            xen_version_major,
            xen_version_minor,
            xen_version_extra,
            compiler,
            compile_by,
            compile_domain,
            compile_date,
            capabilities,
            changeset,
            virt_start,
            pagesize,
            commandline,
            build_id,
        ]
    );
    fields!(v, libxl_numainfo, "libxl_numainfo", [size, free, num_dists, dists]);
    fields!(v, libxl_cputopology, "libxl_cputopology", [core, socket, node]);
    fields!(v, libxl_event, "libxl_event", [link, domid, domuuid, for_user, type_ = "type", u]);
    fields!(v, libxl_event_hooks, "libxl_event_hooks", [event_occurs_mask, event_occurs, disaster]);
    fields!(
        v,
        libxl_osevent_hooks,
        "libxl_osevent_hooks",
        [fd_register, fd_modify, fd_deregister, timeout_register, timeout_modify, timeout_deregister,]
    );
    fields!(v, libxl_childproc_hooks, "libxl_childproc_hooks", [chldowner, fork_replacement, reaped_callback]);
    // The union members we read sit at the start of `u`.
    let u_off = field!(libxl_event, u).0;
    for (member, size) in [("u.domain_shutdown.shutdown_reason", 1), ("u.operation_complete.rc", 4), ("u.disk_eject.vdev", 8)] {
        v.push(Check {
            c_expr: format!("offsetof(libxl_event, {member})"),
            c_size: format!("sizeof(((libxl_event *)0)->{member})"),
            rust: (u_off, size),
        });
    }
    v
}

fn const_checks() -> Vec<(&'static str, i64)> {
    vec![
        ("ERROR_FAIL", ERROR_FAIL as i64),
        ("ERROR_INVAL", ERROR_INVAL as i64),
        ("ERROR_NOPARAVIRT", ERROR_NOPARAVIRT as i64),
        ("ERROR_NOT_READY", ERROR_NOT_READY as i64),
        ("ERROR_OSEVENT_REG_FAIL", ERROR_OSEVENT_REG_FAIL as i64),
        ("ERROR_LOCK_FAIL", ERROR_LOCK_FAIL as i64),
        ("ERROR_DOMAIN_NOTFOUND", ERROR_DOMAIN_NOTFOUND as i64),
        ("ERROR_NOTFOUND", ERROR_NOTFOUND as i64),
        ("ERROR_QEMU_API", ERROR_QEMU_API as i64),
        ("LIBXL_VERSION", LIBXL_VERSION as i64),
        ("LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN", LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN as i64),
        ("LIBXL_EVENT_TYPE_DOMAIN_DEATH", LIBXL_EVENT_TYPE_DOMAIN_DEATH as i64),
        ("LIBXL_EVENT_TYPE_DISK_EJECT", LIBXL_EVENT_TYPE_DISK_EJECT as i64),
        ("LIBXL_EVENT_TYPE_OPERATION_COMPLETE", LIBXL_EVENT_TYPE_OPERATION_COMPLETE as i64),
        ("LIBXL_EVENT_TYPE_DOMAIN_CREATE_CONSOLE_AVAILABLE", LIBXL_EVENT_TYPE_DOMAIN_CREATE_CONSOLE_AVAILABLE as i64),
        ("libxl_sigchld_owner_libxl_always_selective_reap", LIBXL_SIGCHLD_OWNER_LIBXL_ALWAYS_SELECTIVE_REAP as i64),
        ("libxl_sigchld_owner_mainloop", LIBXL_SIGCHLD_OWNER_MAINLOOP as i64),
        ("XTL_DEBUG", XTL_DEBUG as i64),
        ("XTL_CRITICAL", XTL_CRITICAL as i64),
        ("XTL_STDIOSTREAM_SHOW_DATE", XTL_STDIOSTREAM_SHOW_DATE as i64),
        ("XTL_STDIOSTREAM_HIDE_PROGRESS", XTL_STDIOSTREAM_HIDE_PROGRESS as i64),
        ("LIBXL_SHUTDOWN_REASON_CRASH", 3),
        ("LIBXL_SHUTDOWN_REASON_SOFT_RESET", 5),
        ("LIBXL_DOMAIN_TYPE_PVH", 3),
        ("LIBXL_TRIGGER_S3RESUME", super::domain::Trigger::S3Resume as i64),
        ("LIBXL_TRIGGER_NMI", super::domain::Trigger::Nmi as i64),
        ("LIBXL_CONSOLE_TYPE_VUART", super::domain::ConsoleType::Vuart as i64),
    ]
}

fn c_program(checks: &[Check], consts: &[(&str, i64)]) -> String {
    let mut c = String::from("#include <stdio.h>\n#include <stddef.h>\n#include <libxl.h>\n#include <libxl_event.h>\nint main(void)\n{\n");
    for ch in checks {
        let _ = writeln!(c, "    printf(\"%zu %zu\\n\", (size_t)({}), (size_t){});", ch.c_expr, ch.c_size);
    }
    for (name, _) in consts {
        let _ = writeln!(c, "    printf(\"%lld\\n\", (long long)({name}));");
    }
    c.push_str("    return 0;\n}\n");
    c
}

#[test]
fn hand_laid_structs_match_installed_header() {
    let mut checks = struct_checks();
    checks.extend(field_checks());
    let consts = const_checks();
    let dir = std::env::temp_dir().join(format!("vlt-libxl-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, c_program(&checks, &consts)).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let built = Command::new(&cc).arg("-o").arg(&exe).arg(&src).output();
    let built = match built {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED hand_laid_structs_match_installed_header: no C compiler ({cc}: {e})");
            return;
        }
    };
    assert!(built.status.success(), "layout probe does not compile: {}", String::from_utf8_lossy(&built.stderr));
    let out = Command::new(&exe).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let mut bad = Vec::new();
    for ch in &checks {
        let got: Vec<usize> = lines.next().unwrap().split(' ').map(|w| w.parse().unwrap()).collect();
        if (got[0], got[1]) != ch.rust {
            bad.push(format!("{} / {}: C ({}, {}) Rust {:?}", ch.c_expr, ch.c_size, got[0], got[1], ch.rust));
        }
    }
    for (name, val) in &consts {
        let got: i64 = lines.next().unwrap().parse().unwrap();
        if got != *val {
            bad.push(format!("{name}: C {got} Rust {val}"));
        }
    }
    assert!(bad.is_empty(), "layout mismatches:\n{}", bad.join("\n"));
    // A runtime check on purpose: a fallback build must still compile, and fail here.
    let probed = LIBXL_PROBED;
    assert!(probed, "build.rs could not probe the header; struct sizes are fallbacks");
}

#[test]
fn probed_domain_config_size_is_plausible() {
    // 1288 bytes on 4.17 x86_64, more on later releases; never smaller than its known prefix.
    let size = SIZEOF_LIBXL_DOMAIN_CONFIG;
    assert!(size >= 1024, "{size}");
    assert!(ALIGNOF_LIBXL_DOMAIN_CONFIG.is_power_of_two());
}
