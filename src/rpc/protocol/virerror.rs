//! libvirt's error numbers, domains and levels (include/libvirt/virterror.h) and the message
//! texts clients see (util/virerror.c: virErrorMsg's table and virReportErrorHelper).
//!
//! The texts are those of libvirt 9.0 (format strings with a plain `%s`; newer libvirt writes
//! `%1$s` in str1, with the same words). Error numbers and texts are protocol data.

// ---- virErrorLevel ----

pub const VIR_ERR_NONE: i32 = 0;
pub const VIR_ERR_WARNING: i32 = 1;
pub const VIR_ERR_ERROR: i32 = 2;

// ---- virErrorDomain (append-only; 0..=72 in libvirt 9.0) ----

pub const VIR_FROM_NONE: i32 = 0;
pub const VIR_FROM_XEN: i32 = 1;
pub const VIR_FROM_XEND: i32 = 2;
pub const VIR_FROM_XENSTORE: i32 = 3;
pub const VIR_FROM_SEXPR: i32 = 4;
pub const VIR_FROM_XML: i32 = 5;
pub const VIR_FROM_DOM: i32 = 6;
pub const VIR_FROM_RPC: i32 = 7;
pub const VIR_FROM_PROXY: i32 = 8;
pub const VIR_FROM_CONF: i32 = 9;
pub const VIR_FROM_QEMU: i32 = 10;
pub const VIR_FROM_NET: i32 = 11;
pub const VIR_FROM_TEST: i32 = 12;
pub const VIR_FROM_REMOTE: i32 = 13;
pub const VIR_FROM_OPENVZ: i32 = 14;
pub const VIR_FROM_XENXM: i32 = 15;
pub const VIR_FROM_STATS_LINUX: i32 = 16;
pub const VIR_FROM_LXC: i32 = 17;
pub const VIR_FROM_STORAGE: i32 = 18;
pub const VIR_FROM_NETWORK: i32 = 19;
pub const VIR_FROM_DOMAIN: i32 = 20;
pub const VIR_FROM_UML: i32 = 21;
pub const VIR_FROM_NODEDEV: i32 = 22;
pub const VIR_FROM_XEN_INOTIFY: i32 = 23;
pub const VIR_FROM_SECURITY: i32 = 24;
pub const VIR_FROM_VBOX: i32 = 25;
pub const VIR_FROM_INTERFACE: i32 = 26;
pub const VIR_FROM_ONE: i32 = 27;
pub const VIR_FROM_ESX: i32 = 28;
pub const VIR_FROM_PHYP: i32 = 29;
pub const VIR_FROM_SECRET: i32 = 30;
pub const VIR_FROM_CPU: i32 = 31;
pub const VIR_FROM_XENAPI: i32 = 32;
pub const VIR_FROM_NWFILTER: i32 = 33;
pub const VIR_FROM_HOOK: i32 = 34;
pub const VIR_FROM_DOMAIN_SNAPSHOT: i32 = 35;
pub const VIR_FROM_AUDIT: i32 = 36;
pub const VIR_FROM_SYSINFO: i32 = 37;
pub const VIR_FROM_STREAMS: i32 = 38;
pub const VIR_FROM_VMWARE: i32 = 39;
pub const VIR_FROM_EVENT: i32 = 40;
pub const VIR_FROM_LIBXL: i32 = 41;
pub const VIR_FROM_LOCKING: i32 = 42;
pub const VIR_FROM_HYPERV: i32 = 43;
pub const VIR_FROM_CAPABILITIES: i32 = 44;
pub const VIR_FROM_URI: i32 = 45;
pub const VIR_FROM_AUTH: i32 = 46;
pub const VIR_FROM_DBUS: i32 = 47;
pub const VIR_FROM_PARALLELS: i32 = 48;
pub const VIR_FROM_DEVICE: i32 = 49;
pub const VIR_FROM_SSH: i32 = 50;
pub const VIR_FROM_LOCKSPACE: i32 = 51;
pub const VIR_FROM_INITCTL: i32 = 52;
pub const VIR_FROM_IDENTITY: i32 = 53;
pub const VIR_FROM_CGROUP: i32 = 54;
pub const VIR_FROM_ACCESS: i32 = 55;
pub const VIR_FROM_SYSTEMD: i32 = 56;
pub const VIR_FROM_BHYVE: i32 = 57;
pub const VIR_FROM_CRYPTO: i32 = 58;
pub const VIR_FROM_FIREWALL: i32 = 59;
pub const VIR_FROM_POLKIT: i32 = 60;
pub const VIR_FROM_THREAD: i32 = 61;
pub const VIR_FROM_ADMIN: i32 = 62;
pub const VIR_FROM_LOGGING: i32 = 63;
pub const VIR_FROM_XENXL: i32 = 64;
pub const VIR_FROM_PERF: i32 = 65;
pub const VIR_FROM_LIBSSH: i32 = 66;
pub const VIR_FROM_RESCTRL: i32 = 67;
pub const VIR_FROM_FIREWALLD: i32 = 68;
pub const VIR_FROM_DOMAIN_CHECKPOINT: i32 = 69;
pub const VIR_FROM_TPM: i32 = 70;
pub const VIR_FROM_BPF: i32 = 71;
pub const VIR_FROM_CH: i32 = 72;

// ---- virErrorNumber (append-only; 0..=110 in libvirt 9.0, 111 since 9.7) ----

pub const VIR_ERR_OK: i32 = 0;
pub const VIR_ERR_INTERNAL_ERROR: i32 = 1;
pub const VIR_ERR_NO_MEMORY: i32 = 2;
pub const VIR_ERR_NO_SUPPORT: i32 = 3;
pub const VIR_ERR_UNKNOWN_HOST: i32 = 4;
pub const VIR_ERR_NO_CONNECT: i32 = 5;
pub const VIR_ERR_INVALID_CONN: i32 = 6;
pub const VIR_ERR_INVALID_DOMAIN: i32 = 7;
pub const VIR_ERR_INVALID_ARG: i32 = 8;
pub const VIR_ERR_OPERATION_FAILED: i32 = 9;
pub const VIR_ERR_GET_FAILED: i32 = 10;
pub const VIR_ERR_POST_FAILED: i32 = 11;
pub const VIR_ERR_HTTP_ERROR: i32 = 12;
pub const VIR_ERR_SEXPR_SERIAL: i32 = 13;
pub const VIR_ERR_NO_XEN: i32 = 14;
pub const VIR_ERR_XEN_CALL: i32 = 15;
pub const VIR_ERR_OS_TYPE: i32 = 16;
pub const VIR_ERR_NO_KERNEL: i32 = 17;
pub const VIR_ERR_NO_ROOT: i32 = 18;
pub const VIR_ERR_NO_SOURCE: i32 = 19;
pub const VIR_ERR_NO_TARGET: i32 = 20;
pub const VIR_ERR_NO_NAME: i32 = 21;
pub const VIR_ERR_NO_OS: i32 = 22;
pub const VIR_ERR_NO_DEVICE: i32 = 23;
pub const VIR_ERR_NO_XENSTORE: i32 = 24;
pub const VIR_ERR_DRIVER_FULL: i32 = 25;
pub const VIR_ERR_CALL_FAILED: i32 = 26;
pub const VIR_ERR_XML_ERROR: i32 = 27;
pub const VIR_ERR_DOM_EXIST: i32 = 28;
pub const VIR_ERR_OPERATION_DENIED: i32 = 29;
pub const VIR_ERR_OPEN_FAILED: i32 = 30;
pub const VIR_ERR_READ_FAILED: i32 = 31;
pub const VIR_ERR_PARSE_FAILED: i32 = 32;
pub const VIR_ERR_CONF_SYNTAX: i32 = 33;
pub const VIR_ERR_WRITE_FAILED: i32 = 34;
pub const VIR_ERR_XML_DETAIL: i32 = 35;
pub const VIR_ERR_INVALID_NETWORK: i32 = 36;
pub const VIR_ERR_NETWORK_EXIST: i32 = 37;
pub const VIR_ERR_SYSTEM_ERROR: i32 = 38;
pub const VIR_ERR_RPC: i32 = 39;
pub const VIR_ERR_GNUTLS_ERROR: i32 = 40;
pub const VIR_WAR_NO_NETWORK: i32 = 41;
pub const VIR_ERR_NO_DOMAIN: i32 = 42;
pub const VIR_ERR_NO_NETWORK: i32 = 43;
pub const VIR_ERR_INVALID_MAC: i32 = 44;
pub const VIR_ERR_AUTH_FAILED: i32 = 45;
pub const VIR_ERR_INVALID_STORAGE_POOL: i32 = 46;
pub const VIR_ERR_INVALID_STORAGE_VOL: i32 = 47;
pub const VIR_WAR_NO_STORAGE: i32 = 48;
pub const VIR_ERR_NO_STORAGE_POOL: i32 = 49;
pub const VIR_ERR_NO_STORAGE_VOL: i32 = 50;
pub const VIR_WAR_NO_NODE: i32 = 51;
pub const VIR_ERR_INVALID_NODE_DEVICE: i32 = 52;
pub const VIR_ERR_NO_NODE_DEVICE: i32 = 53;
pub const VIR_ERR_NO_SECURITY_MODEL: i32 = 54;
pub const VIR_ERR_OPERATION_INVALID: i32 = 55;
pub const VIR_WAR_NO_INTERFACE: i32 = 56;
pub const VIR_ERR_NO_INTERFACE: i32 = 57;
pub const VIR_ERR_INVALID_INTERFACE: i32 = 58;
pub const VIR_ERR_MULTIPLE_INTERFACES: i32 = 59;
pub const VIR_WAR_NO_NWFILTER: i32 = 60;
pub const VIR_ERR_INVALID_NWFILTER: i32 = 61;
pub const VIR_ERR_NO_NWFILTER: i32 = 62;
pub const VIR_ERR_BUILD_FIREWALL: i32 = 63;
pub const VIR_WAR_NO_SECRET: i32 = 64;
pub const VIR_ERR_INVALID_SECRET: i32 = 65;
pub const VIR_ERR_NO_SECRET: i32 = 66;
pub const VIR_ERR_CONFIG_UNSUPPORTED: i32 = 67;
pub const VIR_ERR_OPERATION_TIMEOUT: i32 = 68;
pub const VIR_ERR_MIGRATE_PERSIST_FAILED: i32 = 69;
pub const VIR_ERR_HOOK_SCRIPT_FAILED: i32 = 70;
pub const VIR_ERR_INVALID_DOMAIN_SNAPSHOT: i32 = 71;
pub const VIR_ERR_NO_DOMAIN_SNAPSHOT: i32 = 72;
pub const VIR_ERR_INVALID_STREAM: i32 = 73;
pub const VIR_ERR_ARGUMENT_UNSUPPORTED: i32 = 74;
pub const VIR_ERR_STORAGE_PROBE_FAILED: i32 = 75;
pub const VIR_ERR_STORAGE_POOL_BUILT: i32 = 76;
pub const VIR_ERR_SNAPSHOT_REVERT_RISKY: i32 = 77;
pub const VIR_ERR_OPERATION_ABORTED: i32 = 78;
pub const VIR_ERR_AUTH_CANCELLED: i32 = 79;
pub const VIR_ERR_NO_DOMAIN_METADATA: i32 = 80;
pub const VIR_ERR_MIGRATE_UNSAFE: i32 = 81;
pub const VIR_ERR_OVERFLOW: i32 = 82;
pub const VIR_ERR_BLOCK_COPY_ACTIVE: i32 = 83;
pub const VIR_ERR_OPERATION_UNSUPPORTED: i32 = 84;
pub const VIR_ERR_SSH: i32 = 85;
pub const VIR_ERR_AGENT_UNRESPONSIVE: i32 = 86;
pub const VIR_ERR_RESOURCE_BUSY: i32 = 87;
pub const VIR_ERR_ACCESS_DENIED: i32 = 88;
pub const VIR_ERR_DBUS_SERVICE: i32 = 89;
pub const VIR_ERR_STORAGE_VOL_EXIST: i32 = 90;
pub const VIR_ERR_CPU_INCOMPATIBLE: i32 = 91;
pub const VIR_ERR_XML_INVALID_SCHEMA: i32 = 92;
pub const VIR_ERR_MIGRATE_FINISH_OK: i32 = 93;
pub const VIR_ERR_AUTH_UNAVAILABLE: i32 = 94;
pub const VIR_ERR_NO_SERVER: i32 = 95;
pub const VIR_ERR_NO_CLIENT: i32 = 96;
pub const VIR_ERR_AGENT_UNSYNCED: i32 = 97;
pub const VIR_ERR_LIBSSH: i32 = 98;
pub const VIR_ERR_DEVICE_MISSING: i32 = 99;
pub const VIR_ERR_INVALID_NWFILTER_BINDING: i32 = 100;
pub const VIR_ERR_NO_NWFILTER_BINDING: i32 = 101;
pub const VIR_ERR_INVALID_DOMAIN_CHECKPOINT: i32 = 102;
pub const VIR_ERR_NO_DOMAIN_CHECKPOINT: i32 = 103;
pub const VIR_ERR_NO_DOMAIN_BACKUP: i32 = 104;
pub const VIR_ERR_INVALID_NETWORK_PORT: i32 = 105;
pub const VIR_ERR_NETWORK_PORT_EXIST: i32 = 106;
pub const VIR_ERR_NO_NETWORK_PORT: i32 = 107;
pub const VIR_ERR_NO_HOSTNAME: i32 = 108;
pub const VIR_ERR_CHECKPOINT_INCONSISTENT: i32 = 109;
pub const VIR_ERR_MULTIPLE_DOMAINS: i32 = 110;
pub const VIR_ERR_NO_NETWORK_METADATA: i32 = 111;

/// virErrorMsg's table for codes 1..: (text without detail, format with one `%s` for the
/// detail). Index = code - 1. Code 111 is newer than 9.0 and has its later text.
#[rustfmt::skip]
static ERROR_MESSAGES: [(&str, &str); 111] = [
    ("internal error", "internal error: %s"), // 1
    ("out of memory", "out of memory: %s"), // 2
    ("this function is not supported by the connection driver", "this function is not supported by the connection driver: %s"), // 3
    ("unknown host", "unknown host %s"), // 4
    ("no connection driver available", "no connection driver available for %s"), // 5
    ("invalid connection pointer in", "invalid connection pointer in %s"), // 6
    ("invalid domain pointer in", "invalid domain pointer in %s"), // 7
    ("invalid argument", "invalid argument: %s"), // 8
    ("operation failed", "operation failed: %s"), // 9
    ("GET operation failed", "GET operation failed: %s"), // 10
    ("POST operation failed", "POST operation failed: %s"), // 11
    ("got unknown HTTP error code", "got unknown HTTP error code %s"), // 12
    ("failed to serialize S-Expr", "failed to serialize S-Expr: %s"), // 13
    ("could not use Xen hypervisor entry", "could not use Xen hypervisor entry %s"), // 14
    ("failed Xen syscall", "failed Xen syscall %s"), // 15
    ("unknown OS type", "unknown OS type %s"), // 16
    ("missing kernel information", "missing kernel information: %s"), // 17
    ("missing root device information", "missing root device information in %s"), // 18
    ("missing source information for device", "missing source information for device %s"), // 19
    ("missing target information for device", "missing target information for device %s"), // 20
    ("missing name information", "missing name information in %s"), // 21
    ("missing operating system information", "missing operating system information for %s"), // 22
    ("missing devices information", "missing devices information for %s"), // 23
    ("could not connect to Xen Store", "could not connect to Xen Store %s"), // 24
    ("too many drivers registered", "too many drivers registered in %s"), // 25
    ("library call failed", "library call failed: %s"), // 26
    ("XML description is invalid or not well formed", "XML error: %s"), // 27
    ("this domain exists already", "domain %s exists already"), // 28
    ("operation forbidden for read only access", "operation forbidden: %s"), // 29
    ("failed to open configuration file", "failed to open configuration file %s"), // 30
    ("failed to read configuration file", "failed to read configuration file %s"), // 31
    ("failed to parse configuration file", "failed to parse configuration file %s"), // 32
    ("configuration file syntax error", "configuration file syntax error: %s"), // 33
    ("failed to write configuration file", "failed to write configuration file: %s"), // 34
    ("parser error", "%s"), // 35
    ("invalid network pointer in", "invalid network pointer in %s"), // 36
    ("this network exists already", "network %s exists already"), // 37
    ("system call error", "%s"), // 38
    ("RPC error", "%s"), // 39
    ("GNUTLS call error", "%s"), // 40
    ("Failed to find the network", "Failed to find the network: %s"), // 41
    ("Domain not found", "Domain not found: %s"), // 42
    ("Network not found", "Network not found: %s"), // 43
    ("invalid MAC address", "invalid MAC address: %s"), // 44
    ("authentication failed", "authentication failed: %s"), // 45
    ("invalid storage pool pointer in", "invalid storage pool pointer in %s"), // 46
    ("invalid storage volume pointer in", "invalid storage volume pointer in %s"), // 47
    ("Failed to find a storage driver", "Failed to find a storage driver: %s"), // 48
    ("Storage pool not found", "Storage pool not found: %s"), // 49
    ("Storage volume not found", "Storage volume not found: %s"), // 50
    ("Failed to find a node driver", "Failed to find a node driver: %s"), // 51
    ("invalid node device pointer", "invalid node device pointer in %s"), // 52
    ("Node device not found", "Node device not found: %s"), // 53
    ("Security model not found", "Security model not found: %s"), // 54
    ("Requested operation is not valid", "Requested operation is not valid: %s"), // 55
    ("Failed to find the interface", "Failed to find the interface: %s"), // 56
    ("Interface not found", "Interface not found: %s"), // 57
    ("invalid interface pointer in", "invalid interface pointer in %s"), // 58
    ("multiple matching interfaces found", "multiple matching interfaces found: %s"), // 59
    ("Failed to start the nwfilter driver", "Failed to start the nwfilter driver: %s"), // 60
    ("Invalid network filter", "Invalid network filter: %s"), // 61
    ("Network filter not found", "Network filter not found: %s"), // 62
    ("Error while building firewall", "Error while building firewall: %s"), // 63
    ("Failed to find a secret storage driver", "Failed to find a secret storage driver: %s"), // 64
    ("Invalid secret", "Invalid secret: %s"), // 65
    ("Secret not found", "Secret not found: %s"), // 66
    ("unsupported configuration", "unsupported configuration: %s"), // 67
    ("Timed out during operation", "Timed out during operation: %s"), // 68
    ("Failed to make domain persistent after migration", "Failed to make domain persistent after migration: %s"), // 69
    ("Hook script execution failed", "Hook script execution failed: %s"), // 70
    ("Invalid domain snapshot", "Invalid domain snapshot: %s"), // 71
    ("Domain snapshot not found", "Domain snapshot not found: %s"), // 72
    ("invalid stream pointer", "invalid stream pointer in %s"), // 73
    ("argument unsupported", "argument unsupported: %s"), // 74
    ("Storage pool probe failed", "Storage pool probe failed: %s"), // 75
    ("Storage pool already built", "Storage pool already built: %s"), // 76
    ("revert requires force", "revert requires force: %s"), // 77
    ("operation aborted", "operation aborted: %s"), // 78
    ("authentication cancelled", "authentication cancelled: %s"), // 79
    ("metadata not found", "metadata not found: %s"), // 80
    ("Unsafe migration", "Unsafe migration: %s"), // 81
    ("numerical overflow", "numerical overflow: %s"), // 82
    ("block copy still active", "block copy still active: %s"), // 83
    ("Operation not supported", "Operation not supported: %s"), // 84
    ("SSH transport error", "SSH transport error: %s"), // 85
    ("Guest agent is not responding", "Guest agent is not responding: %s"), // 86
    ("resource busy", "resource busy: %s"), // 87
    ("access denied", "access denied: %s"), // 88
    ("error from service", "error from service: %s"), // 89
    ("this storage volume exists already", "storage volume %s exists already"), // 90
    ("the CPU is incompatible with host CPU", "the CPU is incompatible with host CPU: %s"), // 91
    ("XML document failed to validate against schema", "XML document failed to validate against schema: %s"), // 92
    ("migration successfully aborted", "migration successfully aborted: %s"), // 93
    ("authentication unavailable", "authentication unavailable: %s"), // 94
    ("Server not found", "Server not found: %s"), // 95
    ("Client not found", "Client not found: %s"), // 96
    ("guest agent replied with wrong id to guest-sync command", "guest agent replied with wrong id to guest-sync command: %s"), // 97
    ("libssh transport error", "libssh transport error: %s"), // 98
    ("device not found", "device not found: %s"), // 99
    ("Invalid network filter binding", "Invalid network filter binding: %s"), // 100
    ("Network filter binding not found", "Network filter binding not found: %s"), // 101
    ("Invalid domain checkpoint", "Invalid domain checkpoint: %s"), // 102
    ("Domain checkpoint not found", "Domain checkpoint not found: %s"), // 103
    ("Domain backup job id not found", "Domain backup job id not found: %s"), // 104
    ("Invalid network port pointer", "Invalid network port pointer: %s"), // 105
    ("this network port exists already", "network port %s exists already"), // 106
    ("network port not found", "network port not found: %s"), // 107
    ("no hostname found", "no hostname found: %s"), // 108
    ("checkpoint inconsistent", "checkpoint inconsistent: %s"), // 109
    ("multiple matching domains found", "multiple matching domains found: %s"), // 110
    ("metadata not found", "metadata not found: %s"), // 111
];

/// The format libvirt uses for `code`: with `with_info`, the text with one `%s` where the
/// detail goes; without, the plain text. None for codes it does not know (including 0).
// C: virErrorMsg
pub fn error_format(code: i32, with_info: bool) -> Option<&'static str> {
    let i = usize::try_from(code).ok()?.checked_sub(1)?;
    let (plain, with) = ERROR_MESSAGES.get(i)?;
    Some(if with_info { with } else { plain })
}

/// The message of an error raised with `code` and the detail `info`, e.g.
/// `error_message(VIR_ERR_INTERNAL_ERROR, Some("x"))` is "internal error: x" and
/// VIR_ERR_RPC gives the detail alone. Unknown codes give "No error message provided",
/// as libvirt does.
// C: virReportErrorHelper (message part)
pub fn error_message(code: i32, info: Option<&str>) -> String {
    let Some(fmt) = error_format(code, info.is_some()) else {
        return "No error message provided".to_owned();
    };
    match (info, fmt.split_once("%s")) {
        (Some(info), Some((before, after))) => {
            let mut s = String::with_capacity(before.len() + info.len() + after.len());
            s.push_str(before);
            s.push_str(info);
            s.push_str(after);
            s
        }
        _ => fmt.to_owned(),
    }
}
