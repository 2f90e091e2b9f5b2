//! libxl's domain events delivered as a Rust enum (libvirt's libxl_domain.c
//! libxlDomainEventHandler and the event hooks registered in libxl_driver.c).
//!
//! libxl hands each event to `event_occurs` and the application owns it: we copy what we
//! need into a `LibxlEvent`, free the C event at once with `libxl_event_free`, and then call
//! the Rust callback. Panics never cross back into C: they are caught and logged.

use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};

use log::error;

use super::sys;

/// Why a domain shut down (`libxl_shutdown_reason`; the event carries it as a byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownReason {
    Poweroff,
    Reboot,
    Suspend,
    Crash,
    Watchdog,
    SoftReset,
    Unknown(i32),
}

impl ShutdownReason {
    pub fn from_raw(v: i32) -> ShutdownReason {
        match v {
            0 => ShutdownReason::Poweroff,
            1 => ShutdownReason::Reboot,
            2 => ShutdownReason::Suspend,
            3 => ShutdownReason::Crash,
            4 => ShutdownReason::Watchdog,
            5 => ShutdownReason::SoftReset,
            other => ShutdownReason::Unknown(other),
        }
    }
}

/// One libxl event (`libxl_event`), with the `for_user` value given when it was enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibxlEvent {
    Shutdown {
        domid: u32,
        reason: ShutdownReason,
        for_user: u64,
    },
    Death {
        domid: u32,
        for_user: u64,
    },
    DiskEject {
        domid: u32,
        vdev: String,
        for_user: u64,
    },
    OperationComplete {
        domid: u32,
        rc: i32,
        for_user: u64,
    },
    ConsoleAvailable {
        domid: u32,
        for_user: u64,
    },
    /// A type this libxl added after 4.17.
    Other {
        domid: u32,
        type_: i32,
        for_user: u64,
    },
}

impl LibxlEvent {
    pub fn domid(&self) -> u32 {
        match self {
            LibxlEvent::Shutdown { domid, .. }
            | LibxlEvent::Death { domid, .. }
            | LibxlEvent::DiskEject { domid, .. }
            | LibxlEvent::OperationComplete { domid, .. }
            | LibxlEvent::ConsoleAvailable { domid, .. }
            | LibxlEvent::Other { domid, .. } => *domid,
        }
    }
}

/// Copies a C event into a `LibxlEvent`.
///
/// # Safety
/// `ev` must point to a valid, initialised `libxl_event`.
pub(super) unsafe fn convert(ev: *const sys::libxl_event) -> LibxlEvent {
    // SAFETY: the caller guarantees `ev` is valid.
    let ev = unsafe { &*ev };
    let (domid, for_user) = (ev.domid, ev.for_user);
    match ev.type_ {
        sys::LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN => {
            // The union's first byte is `domain_shutdown.shutdown_reason` (uint8_t).
            let reason = ev.u[0].to_ne_bytes()[0];
            LibxlEvent::Shutdown { domid, reason: ShutdownReason::from_raw(reason as i32), for_user }
        }
        sys::LIBXL_EVENT_TYPE_DOMAIN_DEATH => LibxlEvent::Death { domid, for_user },
        sys::LIBXL_EVENT_TYPE_DISK_EJECT => {
            // The union's first word is `disk_eject.vdev` (char *).
            let p = ev.u[0] as usize as *const libc::c_char;
            let vdev = if p.is_null() {
                String::new()
            } else {
                // SAFETY: a DISK_EJECT event's vdev is NULL or a NUL-terminated string it owns.
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            };
            LibxlEvent::DiskEject { domid, vdev, for_user }
        }
        sys::LIBXL_EVENT_TYPE_OPERATION_COMPLETE => {
            // The union's first int is `operation_complete.rc`.
            let b = ev.u[0].to_ne_bytes();
            let rc = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            LibxlEvent::OperationComplete { domid, rc, for_user }
        }
        sys::LIBXL_EVENT_TYPE_DOMAIN_CREATE_CONSOLE_AVAILABLE => LibxlEvent::ConsoleAvailable { domid, for_user },
        other => LibxlEvent::Other { domid, type_: other, for_user },
    }
}

pub(super) type EventCallback = Box<dyn Fn(LibxlEvent) + Send + Sync>;

/// The user data of our event hooks: the context (to free events) and the Rust callback.
pub(super) struct EventSink {
    ctx: *mut sys::libxl_ctx,
    callback: EventCallback,
}

impl EventSink {
    pub(super) fn new(ctx: *mut sys::libxl_ctx, callback: EventCallback) -> EventSink {
        EventSink { ctx, callback }
    }
}

pub(super) static EVENT_HOOKS: sys::libxl_event_hooks =
    sys::libxl_event_hooks { event_occurs_mask: sys::LIBXL_EVENTMASK_ALL, event_occurs: Some(event_occurs), disaster: Some(disaster) };

/// libxl's `event_occurs` hook.
// C: libxlDomainEventHandler
unsafe extern "C" fn event_occurs(user: *mut libc::c_void, ev: *const sys::libxl_event) {
    if user.is_null() || ev.is_null() {
        return;
    }
    // SAFETY: `user` is the EventSink registered with this context, alive until after
    // libxl_ctx_free (CtxInner owns it).
    let sink = unsafe { &*(user as *const EventSink) };
    // SAFETY: libxl passes a valid event that now belongs to us.
    let event = unsafe { convert(ev) };
    // SAFETY: the event is ours (see above) and freed exactly once, after copying it.
    unsafe { sys::libxl_event_free(sink.ctx, ev as *mut sys::libxl_event) };
    if catch_unwind(AssertUnwindSafe(|| (sink.callback)(event))).is_err() {
        error!("libxl event callback panicked; event dropped");
    }
}

/// libxl's `disaster` hook: libxl could not deliver events (it has already logged at
/// CRITICAL). Without this hook libxl would exit the process.
unsafe extern "C" fn disaster(_user: *mut libc::c_void, type_: libc::c_int, msg: *const libc::c_char, errnoval: libc::c_int) {
    let text = if msg.is_null() {
        String::new()
    } else {
        // SAFETY: libxl passes a NUL-terminated message.
        unsafe { CStr::from_ptr(msg) }.to_string_lossy().into_owned()
    };
    error!("libxl event disaster (event type {type_}): {text}: errno {errnoval}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_event(type_: i32, domid: u32, first_word: u64) -> sys::libxl_event {
        let mut u = [0u64; 19];
        u[0] = first_word;
        sys::libxl_event { link: [std::ptr::null_mut(); 2], domid, domuuid: [0; 16], for_user: 77, type_, u }
    }

    #[test]
    fn convert_shutdown_reads_reason_byte() {
        let ev = raw_event(sys::LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 5, u64::from_ne_bytes([3, 0, 0, 0, 0, 0, 0, 0]));
        // SAFETY: `ev` is a valid event.
        let e = unsafe { convert(&ev) };
        assert_eq!(e, LibxlEvent::Shutdown { domid: 5, reason: ShutdownReason::Crash, for_user: 77 });
    }

    #[test]
    fn convert_operation_complete_reads_negative_rc() {
        let b = (-3i32).to_ne_bytes();
        let ev = raw_event(sys::LIBXL_EVENT_TYPE_OPERATION_COMPLETE, 2, u64::from_ne_bytes([b[0], b[1], b[2], b[3], 0, 0, 0, 0]));
        // SAFETY: `ev` is a valid event.
        assert_eq!(unsafe { convert(&ev) }, LibxlEvent::OperationComplete { domid: 2, rc: -3, for_user: 77 });
    }

    #[test]
    fn convert_unknown_type_is_other() {
        let ev = raw_event(42, 9, 0);
        // SAFETY: `ev` is a valid event.
        assert_eq!(unsafe { convert(&ev) }, LibxlEvent::Other { domid: 9, type_: 42, for_user: 77 });
    }

    #[test]
    fn shutdown_reason_out_of_range_is_unknown() {
        assert_eq!(ShutdownReason::from_raw(255), ShutdownReason::Unknown(255));
        assert_eq!(ShutdownReason::from_raw(-1), ShutdownReason::Unknown(-1));
        assert_eq!(ShutdownReason::from_raw(1), ShutdownReason::Reboot);
    }
}
