//! The REMOTE program's procedures, named once (libvirt's remote/remote_protocol.x,
//! `enum remote_procedure`): number, name, the connection it acts on, its kind, and the
//! libvirt release that added it. Both daemons use this table: virtproxyd to know the
//! procedures, virtxend to dispatch them by name and to send the network, storage... ones
//! to their daemons.
//!
//! Where the facts come from: numbers, names and stream annotations from remote_protocol.x
//! of libvirt 11.3 (1-453) and the generated tables of releases 12.4 and 12.5 (454-456; 12.8
//! adds none); the class is the connection libvirt's dispatcher uses (gendispatch.pl's
//! choice among remoteGetHypervisorConn, remoteGetNetworkConn... and the hand-written
//! dispatchers of remote_daemon_dispatch.c); file descriptors as remote_daemon_dispatch.c
//! passes them; `since` is the release of the public API or event the procedure carries
//! (libvirt-api.xml of 12.8), and for the internal ones (migration steps, auth, supports
//! feature, ...) the release of the nearest earlier procedure, a lower bound.

/// The connection of a client a procedure acts on (libvirt's remoteGet*Conn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// The hypervisor driver (domains, the node, the connection itself).
    Hypervisor,
    Network,
    Storage,
    NodeDev,
    Secret,
    Interface,
    NWFilter,
    /// The RPC engine's authentication procedures; no driver connection.
    Auth,
}

/// How a procedure travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A CALL answered by one REPLY.
    Plain,
    /// A MESSAGE the daemon sends on its own (an event); never a CALL.
    Event,
    /// A CALL that opens a stream: STREAM packets follow on its serial.
    Stream,
    /// A CALL or REPLY that carries file descriptors (CALL_WITH_FDS / REPLY_WITH_FDS).
    Fds,
}

/// One REMOTE procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proc {
    pub num: i32,
    /// `REMOTE_PROC_...`, as in remote_protocol.x.
    pub name: &'static str,
    pub class: Class,
    pub kind: Kind,
    /// The libvirt release (major, minor, micro) that added it.
    pub since: (u32, u32, u32),
    /// The public API's name when it is not the camel case of `name`
    /// (virDomainGetXMLDesc for REMOTE_PROC_DOMAIN_GET_XML_DESC).
    api: Option<&'static str>,
}

/// Declares the table once: for every line `NUM NAME CLASS KIND (SINCE) ["API"];` a constant
/// `NAME: i32 = NUM` and an entry of `PROCS`.
macro_rules! remote_procs {
    ($($num:literal $name:ident $class:ident $kind:ident ($a:literal, $b:literal, $c:literal) $($api:literal)?;)*) => {
        $(pub const $name: i32 = $num;)*
        /// Every REMOTE procedure, in number order (`PROCS[n - 1].num == n`).
        pub static PROCS: &[Proc] = &[
            $(Proc { num: $num, name: stringify!($name), class: Class::$class, kind: Kind::$kind, since: ($a, $b, $c), api: remote_procs!(@api $($api)?) },)*
        ];
    };
    (@api $api:literal) => { Some($api) };
    (@api) => { None };
}

/// The highest procedure number in the table.
pub const REMOTE_PROC_LAST: i32 = REMOTE_PROC_DOMAIN_ANNOUNCE_INTERFACE;

/// The procedure numbered `n`, if the table has it.
pub fn remote_proc(n: i32) -> Option<&'static Proc> {
    usize::try_from(n).ok()?.checked_sub(1).and_then(|i| PROCS.get(i))
}

/// The name of REMOTE procedure `n` (1 is "REMOTE_PROC_CONNECT_OPEN"), if known.
pub fn remote_proc_name(n: i32) -> Option<&'static str> {
    remote_proc(n).map(|p| p.name)
}

impl Proc {
    /// The name of the libvirt function a client calls for this procedure
    /// (virDomainCreateWithFlags, virDomainGetXMLDesc, virDomainMigratePrepare3Params), for
    /// "not supported" errors; None for events, which no client calls.
    pub fn api_name(&self) -> Option<String> {
        if self.kind == Kind::Event {
            return None;
        }
        if let Some(api) = self.api {
            return Some(api.to_string());
        }
        let mut out = String::from("vir");
        for word in self.name.trim_start_matches("REMOTE_PROC_").split('_') {
            let mut cs = word.chars();
            if let Some(c) = cs.next() {
                out.push(c);
                out.extend(cs.map(|c| c.to_ascii_lowercase()));
            }
        }
        Some(out)
    }

    /// Whether a libvirt of release `v` knows this procedure.
    pub fn known_by(&self, v: (u32, u32, u32)) -> bool {
        self.since <= v
    }
}

#[cfg(test)]
#[path = "procs/tests.rs"]
mod tests;

#[rustfmt::skip]
remote_procs! {
    1 REMOTE_PROC_CONNECT_OPEN Hypervisor Plain (0, 3, 0);
    2 REMOTE_PROC_CONNECT_CLOSE Hypervisor Plain (0, 3, 0);
    3 REMOTE_PROC_CONNECT_GET_TYPE Hypervisor Plain (0, 3, 0);
    4 REMOTE_PROC_CONNECT_GET_VERSION Hypervisor Plain (0, 3, 0);
    5 REMOTE_PROC_CONNECT_GET_MAX_VCPUS Hypervisor Plain (0, 3, 0);
    6 REMOTE_PROC_NODE_GET_INFO Hypervisor Plain (0, 3, 0);
    7 REMOTE_PROC_CONNECT_GET_CAPABILITIES Hypervisor Plain (0, 3, 0);
    8 REMOTE_PROC_DOMAIN_ATTACH_DEVICE Hypervisor Plain (0, 3, 0);
    9 REMOTE_PROC_DOMAIN_CREATE Hypervisor Plain (0, 3, 0);
    10 REMOTE_PROC_DOMAIN_CREATE_XML Hypervisor Plain (0, 3, 0) "virDomainCreateXML";
    11 REMOTE_PROC_DOMAIN_DEFINE_XML Hypervisor Plain (0, 3, 0) "virDomainDefineXML";
    12 REMOTE_PROC_DOMAIN_DESTROY Hypervisor Plain (0, 3, 0);
    13 REMOTE_PROC_DOMAIN_DETACH_DEVICE Hypervisor Plain (0, 3, 0);
    14 REMOTE_PROC_DOMAIN_GET_XML_DESC Hypervisor Plain (0, 3, 0) "virDomainGetXMLDesc";
    15 REMOTE_PROC_DOMAIN_GET_AUTOSTART Hypervisor Plain (0, 3, 0);
    16 REMOTE_PROC_DOMAIN_GET_INFO Hypervisor Plain (0, 3, 0);
    17 REMOTE_PROC_DOMAIN_GET_MAX_MEMORY Hypervisor Plain (0, 3, 0);
    18 REMOTE_PROC_DOMAIN_GET_MAX_VCPUS Hypervisor Plain (0, 3, 0);
    19 REMOTE_PROC_DOMAIN_GET_OS_TYPE Hypervisor Plain (0, 3, 0) "virDomainGetOSType";
    20 REMOTE_PROC_DOMAIN_GET_VCPUS Hypervisor Plain (0, 3, 0);
    21 REMOTE_PROC_CONNECT_LIST_DEFINED_DOMAINS Hypervisor Plain (0, 3, 0);
    22 REMOTE_PROC_DOMAIN_LOOKUP_BY_ID Hypervisor Plain (0, 3, 0) "virDomainLookupByID";
    23 REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME Hypervisor Plain (0, 3, 0);
    24 REMOTE_PROC_DOMAIN_LOOKUP_BY_UUID Hypervisor Plain (0, 3, 0) "virDomainLookupByUUID";
    25 REMOTE_PROC_CONNECT_NUM_OF_DEFINED_DOMAINS Hypervisor Plain (0, 3, 0);
    26 REMOTE_PROC_DOMAIN_PIN_VCPU Hypervisor Plain (0, 3, 0);
    27 REMOTE_PROC_DOMAIN_REBOOT Hypervisor Plain (0, 3, 0);
    28 REMOTE_PROC_DOMAIN_RESUME Hypervisor Plain (0, 3, 0);
    29 REMOTE_PROC_DOMAIN_SET_AUTOSTART Hypervisor Plain (0, 3, 0);
    30 REMOTE_PROC_DOMAIN_SET_MAX_MEMORY Hypervisor Plain (0, 3, 0);
    31 REMOTE_PROC_DOMAIN_SET_MEMORY Hypervisor Plain (0, 3, 0);
    32 REMOTE_PROC_DOMAIN_SET_VCPUS Hypervisor Plain (0, 3, 0);
    33 REMOTE_PROC_DOMAIN_SHUTDOWN Hypervisor Plain (0, 3, 0);
    34 REMOTE_PROC_DOMAIN_SUSPEND Hypervisor Plain (0, 3, 0);
    35 REMOTE_PROC_DOMAIN_UNDEFINE Hypervisor Plain (0, 3, 0);
    36 REMOTE_PROC_CONNECT_LIST_DEFINED_NETWORKS Network Plain (0, 3, 0);
    37 REMOTE_PROC_CONNECT_LIST_DOMAINS Hypervisor Plain (0, 3, 0);
    38 REMOTE_PROC_CONNECT_LIST_NETWORKS Network Plain (0, 3, 0);
    39 REMOTE_PROC_NETWORK_CREATE Network Plain (0, 3, 0);
    40 REMOTE_PROC_NETWORK_CREATE_XML Network Plain (0, 3, 0) "virNetworkCreateXML";
    41 REMOTE_PROC_NETWORK_DEFINE_XML Network Plain (0, 3, 0) "virNetworkDefineXML";
    42 REMOTE_PROC_NETWORK_DESTROY Network Plain (0, 3, 0);
    43 REMOTE_PROC_NETWORK_GET_XML_DESC Network Plain (0, 3, 0) "virNetworkGetXMLDesc";
    44 REMOTE_PROC_NETWORK_GET_AUTOSTART Network Plain (0, 3, 0);
    45 REMOTE_PROC_NETWORK_GET_BRIDGE_NAME Network Plain (0, 3, 0);
    46 REMOTE_PROC_NETWORK_LOOKUP_BY_NAME Network Plain (0, 3, 0);
    47 REMOTE_PROC_NETWORK_LOOKUP_BY_UUID Network Plain (0, 3, 0) "virNetworkLookupByUUID";
    48 REMOTE_PROC_NETWORK_SET_AUTOSTART Network Plain (0, 3, 0);
    49 REMOTE_PROC_NETWORK_UNDEFINE Network Plain (0, 3, 0);
    50 REMOTE_PROC_CONNECT_NUM_OF_DEFINED_NETWORKS Network Plain (0, 3, 0);
    51 REMOTE_PROC_CONNECT_NUM_OF_DOMAINS Hypervisor Plain (0, 3, 0);
    52 REMOTE_PROC_CONNECT_NUM_OF_NETWORKS Network Plain (0, 3, 0);
    53 REMOTE_PROC_DOMAIN_CORE_DUMP Hypervisor Plain (0, 3, 0);
    54 REMOTE_PROC_DOMAIN_RESTORE Hypervisor Plain (0, 3, 0);
    55 REMOTE_PROC_DOMAIN_SAVE Hypervisor Plain (0, 3, 0);
    56 REMOTE_PROC_DOMAIN_GET_SCHEDULER_TYPE Hypervisor Plain (0, 3, 0);
    57 REMOTE_PROC_DOMAIN_GET_SCHEDULER_PARAMETERS Hypervisor Plain (0, 3, 0);
    58 REMOTE_PROC_DOMAIN_SET_SCHEDULER_PARAMETERS Hypervisor Plain (0, 3, 0);
    59 REMOTE_PROC_CONNECT_GET_HOSTNAME Hypervisor Plain (0, 3, 0);
    60 REMOTE_PROC_CONNECT_SUPPORTS_FEATURE Hypervisor Plain (0, 3, 0);
    61 REMOTE_PROC_DOMAIN_MIGRATE_PREPARE Hypervisor Plain (0, 3, 0);
    62 REMOTE_PROC_DOMAIN_MIGRATE_PERFORM Hypervisor Plain (0, 3, 0);
    63 REMOTE_PROC_DOMAIN_MIGRATE_FINISH Hypervisor Plain (0, 3, 0);
    64 REMOTE_PROC_DOMAIN_BLOCK_STATS Hypervisor Plain (0, 3, 2);
    65 REMOTE_PROC_DOMAIN_INTERFACE_STATS Hypervisor Plain (0, 3, 2);
    66 REMOTE_PROC_AUTH_LIST Auth Plain (0, 3, 2);
    67 REMOTE_PROC_AUTH_SASL_INIT Auth Plain (0, 3, 2);
    68 REMOTE_PROC_AUTH_SASL_START Auth Plain (0, 3, 2);
    69 REMOTE_PROC_AUTH_SASL_STEP Auth Plain (0, 3, 2);
    70 REMOTE_PROC_AUTH_POLKIT Auth Plain (0, 3, 2);
    71 REMOTE_PROC_CONNECT_NUM_OF_STORAGE_POOLS Storage Plain (0, 4, 1);
    72 REMOTE_PROC_CONNECT_LIST_STORAGE_POOLS Storage Plain (0, 4, 1);
    73 REMOTE_PROC_CONNECT_NUM_OF_DEFINED_STORAGE_POOLS Storage Plain (0, 4, 1);
    74 REMOTE_PROC_CONNECT_LIST_DEFINED_STORAGE_POOLS Storage Plain (0, 4, 1);
    75 REMOTE_PROC_CONNECT_FIND_STORAGE_POOL_SOURCES Storage Plain (0, 4, 5);
    76 REMOTE_PROC_STORAGE_POOL_CREATE_XML Storage Plain (0, 4, 5) "virStoragePoolCreateXML";
    77 REMOTE_PROC_STORAGE_POOL_DEFINE_XML Storage Plain (0, 4, 5) "virStoragePoolDefineXML";
    78 REMOTE_PROC_STORAGE_POOL_CREATE Storage Plain (0, 4, 5);
    79 REMOTE_PROC_STORAGE_POOL_BUILD Storage Plain (0, 4, 5);
    80 REMOTE_PROC_STORAGE_POOL_DESTROY Storage Plain (0, 4, 5);
    81 REMOTE_PROC_STORAGE_POOL_DELETE Storage Plain (0, 4, 5);
    82 REMOTE_PROC_STORAGE_POOL_UNDEFINE Storage Plain (0, 4, 5);
    83 REMOTE_PROC_STORAGE_POOL_REFRESH Storage Plain (0, 4, 5);
    84 REMOTE_PROC_STORAGE_POOL_LOOKUP_BY_NAME Storage Plain (0, 4, 5);
    85 REMOTE_PROC_STORAGE_POOL_LOOKUP_BY_UUID Storage Plain (0, 4, 5) "virStoragePoolLookupByUUID";
    86 REMOTE_PROC_STORAGE_POOL_LOOKUP_BY_VOLUME Storage Plain (0, 4, 5);
    87 REMOTE_PROC_STORAGE_POOL_GET_INFO Storage Plain (0, 4, 5);
    88 REMOTE_PROC_STORAGE_POOL_GET_XML_DESC Storage Plain (0, 4, 5) "virStoragePoolGetXMLDesc";
    89 REMOTE_PROC_STORAGE_POOL_GET_AUTOSTART Storage Plain (0, 4, 5);
    90 REMOTE_PROC_STORAGE_POOL_SET_AUTOSTART Storage Plain (0, 4, 5);
    91 REMOTE_PROC_STORAGE_POOL_NUM_OF_VOLUMES Storage Plain (0, 4, 5);
    92 REMOTE_PROC_STORAGE_POOL_LIST_VOLUMES Storage Plain (0, 4, 5);
    93 REMOTE_PROC_STORAGE_VOL_CREATE_XML Storage Plain (0, 4, 5) "virStorageVolCreateXML";
    94 REMOTE_PROC_STORAGE_VOL_DELETE Storage Plain (0, 4, 5);
    95 REMOTE_PROC_STORAGE_VOL_LOOKUP_BY_NAME Storage Plain (0, 4, 5);
    96 REMOTE_PROC_STORAGE_VOL_LOOKUP_BY_KEY Storage Plain (0, 4, 5);
    97 REMOTE_PROC_STORAGE_VOL_LOOKUP_BY_PATH Storage Plain (0, 4, 5);
    98 REMOTE_PROC_STORAGE_VOL_GET_INFO Storage Plain (0, 4, 5);
    99 REMOTE_PROC_STORAGE_VOL_GET_XML_DESC Storage Plain (0, 4, 5) "virStorageVolGetXMLDesc";
    100 REMOTE_PROC_STORAGE_VOL_GET_PATH Storage Plain (0, 4, 5);
    101 REMOTE_PROC_NODE_GET_CELLS_FREE_MEMORY Hypervisor Plain (0, 4, 5);
    102 REMOTE_PROC_NODE_GET_FREE_MEMORY Hypervisor Plain (0, 4, 5);
    103 REMOTE_PROC_DOMAIN_BLOCK_PEEK Hypervisor Plain (0, 4, 5);
    104 REMOTE_PROC_DOMAIN_MEMORY_PEEK Hypervisor Plain (0, 4, 5);
    105 REMOTE_PROC_CONNECT_DOMAIN_EVENT_REGISTER Hypervisor Plain (0, 5, 0);
    106 REMOTE_PROC_CONNECT_DOMAIN_EVENT_DEREGISTER Hypervisor Plain (0, 5, 0);
    107 REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE Hypervisor Event (0, 5, 0);
    108 REMOTE_PROC_DOMAIN_MIGRATE_PREPARE2 Hypervisor Plain (0, 5, 0);
    109 REMOTE_PROC_DOMAIN_MIGRATE_FINISH2 Hypervisor Plain (0, 5, 0);
    110 REMOTE_PROC_CONNECT_GET_URI Hypervisor Plain (0, 5, 0) "virConnectGetURI";
    111 REMOTE_PROC_NODE_NUM_OF_DEVICES NodeDev Plain (0, 5, 0);
    112 REMOTE_PROC_NODE_LIST_DEVICES NodeDev Plain (0, 5, 0);
    113 REMOTE_PROC_NODE_DEVICE_LOOKUP_BY_NAME NodeDev Plain (0, 5, 0);
    114 REMOTE_PROC_NODE_DEVICE_GET_XML_DESC NodeDev Plain (0, 5, 0) "virNodeDeviceGetXMLDesc";
    115 REMOTE_PROC_NODE_DEVICE_GET_PARENT NodeDev Plain (0, 5, 0);
    116 REMOTE_PROC_NODE_DEVICE_NUM_OF_CAPS NodeDev Plain (0, 5, 0);
    117 REMOTE_PROC_NODE_DEVICE_LIST_CAPS NodeDev Plain (0, 5, 0);
    118 REMOTE_PROC_NODE_DEVICE_DETTACH Hypervisor Plain (0, 6, 1);
    119 REMOTE_PROC_NODE_DEVICE_RE_ATTACH Hypervisor Plain (0, 6, 1);
    120 REMOTE_PROC_NODE_DEVICE_RESET Hypervisor Plain (0, 6, 1);
    121 REMOTE_PROC_DOMAIN_GET_SECURITY_LABEL Hypervisor Plain (0, 6, 1);
    122 REMOTE_PROC_NODE_GET_SECURITY_MODEL Hypervisor Plain (0, 6, 1);
    123 REMOTE_PROC_NODE_DEVICE_CREATE_XML NodeDev Plain (0, 6, 3) "virNodeDeviceCreateXML";
    124 REMOTE_PROC_NODE_DEVICE_DESTROY NodeDev Plain (0, 6, 3);
    125 REMOTE_PROC_STORAGE_VOL_CREATE_XML_FROM Storage Plain (0, 6, 4) "virStorageVolCreateXMLFrom";
    126 REMOTE_PROC_CONNECT_NUM_OF_INTERFACES Interface Plain (0, 6, 4);
    127 REMOTE_PROC_CONNECT_LIST_INTERFACES Interface Plain (0, 6, 4);
    128 REMOTE_PROC_INTERFACE_LOOKUP_BY_NAME Interface Plain (0, 6, 4);
    129 REMOTE_PROC_INTERFACE_LOOKUP_BY_MAC_STRING Interface Plain (0, 6, 4) "virInterfaceLookupByMACString";
    130 REMOTE_PROC_INTERFACE_GET_XML_DESC Interface Plain (0, 6, 4) "virInterfaceGetXMLDesc";
    131 REMOTE_PROC_INTERFACE_DEFINE_XML Interface Plain (0, 6, 4) "virInterfaceDefineXML";
    132 REMOTE_PROC_INTERFACE_UNDEFINE Interface Plain (0, 6, 4);
    133 REMOTE_PROC_INTERFACE_CREATE Interface Plain (0, 6, 4);
    134 REMOTE_PROC_INTERFACE_DESTROY Interface Plain (0, 6, 4);
    135 REMOTE_PROC_CONNECT_DOMAIN_XML_FROM_NATIVE Hypervisor Plain (0, 6, 4) "virConnectDomainXMLFromNative";
    136 REMOTE_PROC_CONNECT_DOMAIN_XML_TO_NATIVE Hypervisor Plain (0, 6, 4) "virConnectDomainXMLToNative";
    137 REMOTE_PROC_CONNECT_NUM_OF_DEFINED_INTERFACES Interface Plain (0, 7, 0);
    138 REMOTE_PROC_CONNECT_LIST_DEFINED_INTERFACES Interface Plain (0, 7, 0);
    139 REMOTE_PROC_CONNECT_NUM_OF_SECRETS Secret Plain (0, 7, 1);
    140 REMOTE_PROC_CONNECT_LIST_SECRETS Secret Plain (0, 7, 1);
    141 REMOTE_PROC_SECRET_LOOKUP_BY_UUID Secret Plain (0, 7, 1) "virSecretLookupByUUID";
    142 REMOTE_PROC_SECRET_DEFINE_XML Secret Plain (0, 7, 1) "virSecretDefineXML";
    143 REMOTE_PROC_SECRET_GET_XML_DESC Secret Plain (0, 7, 1) "virSecretGetXMLDesc";
    144 REMOTE_PROC_SECRET_SET_VALUE Secret Plain (0, 7, 1);
    145 REMOTE_PROC_SECRET_GET_VALUE Secret Plain (0, 7, 1);
    146 REMOTE_PROC_SECRET_UNDEFINE Secret Plain (0, 7, 1);
    147 REMOTE_PROC_SECRET_LOOKUP_BY_USAGE Secret Plain (0, 7, 1);
    148 REMOTE_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL Hypervisor Stream (0, 7, 1);
    149 REMOTE_PROC_CONNECT_IS_SECURE Hypervisor Plain (0, 7, 3);
    150 REMOTE_PROC_DOMAIN_IS_ACTIVE Hypervisor Plain (0, 7, 3);
    151 REMOTE_PROC_DOMAIN_IS_PERSISTENT Hypervisor Plain (0, 7, 3);
    152 REMOTE_PROC_NETWORK_IS_ACTIVE Network Plain (0, 7, 3);
    153 REMOTE_PROC_NETWORK_IS_PERSISTENT Network Plain (0, 7, 3);
    154 REMOTE_PROC_STORAGE_POOL_IS_ACTIVE Storage Plain (0, 7, 3);
    155 REMOTE_PROC_STORAGE_POOL_IS_PERSISTENT Storage Plain (0, 7, 3);
    156 REMOTE_PROC_INTERFACE_IS_ACTIVE Interface Plain (0, 7, 3);
    157 REMOTE_PROC_CONNECT_GET_LIB_VERSION Hypervisor Plain (0, 7, 3);
    158 REMOTE_PROC_CONNECT_COMPARE_CPU Hypervisor Plain (0, 7, 5) "virConnectCompareCPU";
    159 REMOTE_PROC_DOMAIN_MEMORY_STATS Hypervisor Plain (0, 7, 5);
    160 REMOTE_PROC_DOMAIN_ATTACH_DEVICE_FLAGS Hypervisor Plain (0, 7, 7);
    161 REMOTE_PROC_DOMAIN_DETACH_DEVICE_FLAGS Hypervisor Plain (0, 7, 7);
    162 REMOTE_PROC_CONNECT_BASELINE_CPU Hypervisor Plain (0, 7, 7) "virConnectBaselineCPU";
    163 REMOTE_PROC_DOMAIN_GET_JOB_INFO Hypervisor Plain (0, 7, 7);
    164 REMOTE_PROC_DOMAIN_ABORT_JOB Hypervisor Plain (0, 7, 7);
    165 REMOTE_PROC_STORAGE_VOL_WIPE Storage Plain (0, 8, 0);
    166 REMOTE_PROC_DOMAIN_MIGRATE_SET_MAX_DOWNTIME Hypervisor Plain (0, 8, 0);
    167 REMOTE_PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY Hypervisor Plain (0, 8, 0);
    168 REMOTE_PROC_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY Hypervisor Plain (0, 8, 0);
    169 REMOTE_PROC_DOMAIN_EVENT_REBOOT Hypervisor Event (0, 8, 0);
    170 REMOTE_PROC_DOMAIN_EVENT_RTC_CHANGE Hypervisor Event (0, 8, 0);
    171 REMOTE_PROC_DOMAIN_EVENT_WATCHDOG Hypervisor Event (0, 8, 0);
    172 REMOTE_PROC_DOMAIN_EVENT_IO_ERROR Hypervisor Event (0, 8, 0);
    173 REMOTE_PROC_DOMAIN_EVENT_GRAPHICS Hypervisor Event (0, 8, 0);
    174 REMOTE_PROC_DOMAIN_UPDATE_DEVICE_FLAGS Hypervisor Plain (0, 8, 0);
    175 REMOTE_PROC_NWFILTER_LOOKUP_BY_NAME NWFilter Plain (0, 8, 0) "virNWFilterLookupByName";
    176 REMOTE_PROC_NWFILTER_LOOKUP_BY_UUID NWFilter Plain (0, 8, 0) "virNWFilterLookupByUUID";
    177 REMOTE_PROC_NWFILTER_GET_XML_DESC NWFilter Plain (0, 8, 0) "virNWFilterGetXMLDesc";
    178 REMOTE_PROC_CONNECT_NUM_OF_NWFILTERS NWFilter Plain (0, 8, 0) "virConnectNumOfNWFilters";
    179 REMOTE_PROC_CONNECT_LIST_NWFILTERS NWFilter Plain (0, 8, 0) "virConnectListNWFilters";
    180 REMOTE_PROC_NWFILTER_DEFINE_XML NWFilter Plain (0, 8, 0) "virNWFilterDefineXML";
    181 REMOTE_PROC_NWFILTER_UNDEFINE NWFilter Plain (0, 8, 0) "virNWFilterUndefine";
    182 REMOTE_PROC_DOMAIN_MANAGED_SAVE Hypervisor Plain (0, 8, 0);
    183 REMOTE_PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE Hypervisor Plain (0, 8, 0);
    184 REMOTE_PROC_DOMAIN_MANAGED_SAVE_REMOVE Hypervisor Plain (0, 8, 0);
    185 REMOTE_PROC_DOMAIN_SNAPSHOT_CREATE_XML Hypervisor Plain (0, 8, 0) "virDomainSnapshotCreateXML";
    186 REMOTE_PROC_DOMAIN_SNAPSHOT_GET_XML_DESC Hypervisor Plain (0, 8, 0) "virDomainSnapshotGetXMLDesc";
    187 REMOTE_PROC_DOMAIN_SNAPSHOT_NUM Hypervisor Plain (0, 8, 0);
    188 REMOTE_PROC_DOMAIN_SNAPSHOT_LIST_NAMES Hypervisor Plain (0, 8, 0);
    189 REMOTE_PROC_DOMAIN_SNAPSHOT_LOOKUP_BY_NAME Hypervisor Plain (0, 8, 0);
    190 REMOTE_PROC_DOMAIN_HAS_CURRENT_SNAPSHOT Hypervisor Plain (0, 8, 0);
    191 REMOTE_PROC_DOMAIN_SNAPSHOT_CURRENT Hypervisor Plain (0, 8, 0);
    192 REMOTE_PROC_DOMAIN_REVERT_TO_SNAPSHOT Hypervisor Plain (0, 8, 0);
    193 REMOTE_PROC_DOMAIN_SNAPSHOT_DELETE Hypervisor Plain (0, 8, 0);
    194 REMOTE_PROC_DOMAIN_GET_BLOCK_INFO Hypervisor Plain (0, 8, 1);
    195 REMOTE_PROC_DOMAIN_EVENT_IO_ERROR_REASON Hypervisor Event (0, 8, 1);
    196 REMOTE_PROC_DOMAIN_CREATE_WITH_FLAGS Hypervisor Plain (0, 8, 2);
    197 REMOTE_PROC_DOMAIN_SET_MEMORY_PARAMETERS Hypervisor Plain (0, 8, 5);
    198 REMOTE_PROC_DOMAIN_GET_MEMORY_PARAMETERS Hypervisor Plain (0, 8, 5);
    199 REMOTE_PROC_DOMAIN_SET_VCPUS_FLAGS Hypervisor Plain (0, 8, 5);
    200 REMOTE_PROC_DOMAIN_GET_VCPUS_FLAGS Hypervisor Plain (0, 8, 5);
    201 REMOTE_PROC_DOMAIN_OPEN_CONSOLE Hypervisor Stream (0, 8, 6);
    202 REMOTE_PROC_DOMAIN_IS_UPDATED Hypervisor Plain (0, 8, 6);
    203 REMOTE_PROC_CONNECT_GET_SYSINFO Hypervisor Plain (0, 8, 8);
    204 REMOTE_PROC_DOMAIN_SET_MEMORY_FLAGS Hypervisor Plain (0, 9, 0);
    205 REMOTE_PROC_DOMAIN_SET_BLKIO_PARAMETERS Hypervisor Plain (0, 9, 0);
    206 REMOTE_PROC_DOMAIN_GET_BLKIO_PARAMETERS Hypervisor Plain (0, 9, 0);
    207 REMOTE_PROC_DOMAIN_MIGRATE_SET_MAX_SPEED Hypervisor Plain (0, 9, 0);
    208 REMOTE_PROC_STORAGE_VOL_UPLOAD Storage Stream (0, 9, 0);
    209 REMOTE_PROC_STORAGE_VOL_DOWNLOAD Storage Stream (0, 9, 0);
    210 REMOTE_PROC_DOMAIN_INJECT_NMI Hypervisor Plain (0, 9, 2) "virDomainInjectNMI";
    211 REMOTE_PROC_DOMAIN_SCREENSHOT Hypervisor Stream (0, 9, 2);
    212 REMOTE_PROC_DOMAIN_GET_STATE Hypervisor Plain (0, 9, 2);
    213 REMOTE_PROC_DOMAIN_MIGRATE_BEGIN3 Hypervisor Plain (0, 9, 2);
    214 REMOTE_PROC_DOMAIN_MIGRATE_PREPARE3 Hypervisor Plain (0, 9, 2);
    215 REMOTE_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3 Hypervisor Stream (0, 9, 2);
    216 REMOTE_PROC_DOMAIN_MIGRATE_PERFORM3 Hypervisor Plain (0, 9, 2);
    217 REMOTE_PROC_DOMAIN_MIGRATE_FINISH3 Hypervisor Plain (0, 9, 2);
    218 REMOTE_PROC_DOMAIN_MIGRATE_CONFIRM3 Hypervisor Plain (0, 9, 2);
    219 REMOTE_PROC_DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS Hypervisor Plain (0, 9, 2);
    220 REMOTE_PROC_INTERFACE_CHANGE_BEGIN Interface Plain (0, 9, 2);
    221 REMOTE_PROC_INTERFACE_CHANGE_COMMIT Interface Plain (0, 9, 2);
    222 REMOTE_PROC_INTERFACE_CHANGE_ROLLBACK Interface Plain (0, 9, 2);
    223 REMOTE_PROC_DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS Hypervisor Plain (0, 9, 2);
    224 REMOTE_PROC_DOMAIN_EVENT_CONTROL_ERROR Hypervisor Event (0, 9, 2);
    225 REMOTE_PROC_DOMAIN_PIN_VCPU_FLAGS Hypervisor Plain (0, 9, 3);
    226 REMOTE_PROC_DOMAIN_SEND_KEY Hypervisor Plain (0, 9, 3);
    227 REMOTE_PROC_NODE_GET_CPU_STATS Hypervisor Plain (0, 9, 3) "virNodeGetCPUStats";
    228 REMOTE_PROC_NODE_GET_MEMORY_STATS Hypervisor Plain (0, 9, 3);
    229 REMOTE_PROC_DOMAIN_GET_CONTROL_INFO Hypervisor Plain (0, 9, 3);
    230 REMOTE_PROC_DOMAIN_GET_VCPU_PIN_INFO Hypervisor Plain (0, 9, 3);
    231 REMOTE_PROC_DOMAIN_UNDEFINE_FLAGS Hypervisor Plain (0, 9, 4);
    232 REMOTE_PROC_DOMAIN_SAVE_FLAGS Hypervisor Plain (0, 9, 4);
    233 REMOTE_PROC_DOMAIN_RESTORE_FLAGS Hypervisor Plain (0, 9, 4);
    234 REMOTE_PROC_DOMAIN_DESTROY_FLAGS Hypervisor Plain (0, 9, 4);
    235 REMOTE_PROC_DOMAIN_SAVE_IMAGE_GET_XML_DESC Hypervisor Plain (0, 9, 4) "virDomainSaveImageGetXMLDesc";
    236 REMOTE_PROC_DOMAIN_SAVE_IMAGE_DEFINE_XML Hypervisor Plain (0, 9, 4) "virDomainSaveImageDefineXML";
    237 REMOTE_PROC_DOMAIN_BLOCK_JOB_ABORT Hypervisor Plain (0, 9, 4);
    238 REMOTE_PROC_DOMAIN_GET_BLOCK_JOB_INFO Hypervisor Plain (0, 9, 4);
    239 REMOTE_PROC_DOMAIN_BLOCK_JOB_SET_SPEED Hypervisor Plain (0, 9, 4);
    240 REMOTE_PROC_DOMAIN_BLOCK_PULL Hypervisor Plain (0, 9, 4);
    241 REMOTE_PROC_DOMAIN_EVENT_BLOCK_JOB Hypervisor Event (0, 9, 4);
    242 REMOTE_PROC_DOMAIN_MIGRATE_GET_MAX_SPEED Hypervisor Plain (0, 9, 5);
    243 REMOTE_PROC_DOMAIN_BLOCK_STATS_FLAGS Hypervisor Plain (0, 9, 5);
    244 REMOTE_PROC_DOMAIN_SNAPSHOT_GET_PARENT Hypervisor Plain (0, 9, 7);
    245 REMOTE_PROC_DOMAIN_RESET Hypervisor Plain (0, 9, 7);
    246 REMOTE_PROC_DOMAIN_SNAPSHOT_NUM_CHILDREN Hypervisor Plain (0, 9, 7);
    247 REMOTE_PROC_DOMAIN_SNAPSHOT_LIST_CHILDREN_NAMES Hypervisor Plain (0, 9, 7);
    248 REMOTE_PROC_DOMAIN_EVENT_DISK_CHANGE Hypervisor Event (0, 9, 7);
    249 REMOTE_PROC_DOMAIN_OPEN_GRAPHICS Hypervisor Fds (0, 9, 7);
    250 REMOTE_PROC_NODE_SUSPEND_FOR_DURATION Hypervisor Plain (0, 9, 8);
    251 REMOTE_PROC_DOMAIN_BLOCK_RESIZE Hypervisor Plain (0, 9, 8);
    252 REMOTE_PROC_DOMAIN_SET_BLOCK_IO_TUNE Hypervisor Plain (0, 9, 8);
    253 REMOTE_PROC_DOMAIN_GET_BLOCK_IO_TUNE Hypervisor Plain (0, 9, 8);
    254 REMOTE_PROC_DOMAIN_SET_NUMA_PARAMETERS Hypervisor Plain (0, 9, 9);
    255 REMOTE_PROC_DOMAIN_GET_NUMA_PARAMETERS Hypervisor Plain (0, 9, 9);
    256 REMOTE_PROC_DOMAIN_SET_INTERFACE_PARAMETERS Hypervisor Plain (0, 9, 9);
    257 REMOTE_PROC_DOMAIN_GET_INTERFACE_PARAMETERS Hypervisor Plain (0, 9, 9);
    258 REMOTE_PROC_DOMAIN_SHUTDOWN_FLAGS Hypervisor Plain (0, 9, 10);
    259 REMOTE_PROC_STORAGE_VOL_WIPE_PATTERN Storage Plain (0, 9, 10);
    260 REMOTE_PROC_STORAGE_VOL_RESIZE Storage Plain (0, 9, 10);
    261 REMOTE_PROC_DOMAIN_PM_SUSPEND_FOR_DURATION Hypervisor Plain (0, 9, 10) "virDomainPMSuspendForDuration";
    262 REMOTE_PROC_DOMAIN_GET_CPU_STATS Hypervisor Plain (0, 9, 10) "virDomainGetCPUStats";
    263 REMOTE_PROC_DOMAIN_GET_DISK_ERRORS Hypervisor Plain (0, 9, 10);
    264 REMOTE_PROC_DOMAIN_SET_METADATA Hypervisor Plain (0, 9, 10);
    265 REMOTE_PROC_DOMAIN_GET_METADATA Hypervisor Plain (0, 9, 10);
    266 REMOTE_PROC_DOMAIN_BLOCK_REBASE Hypervisor Plain (0, 9, 10);
    267 REMOTE_PROC_DOMAIN_PM_WAKEUP Hypervisor Plain (0, 9, 11) "virDomainPMWakeup";
    268 REMOTE_PROC_DOMAIN_EVENT_TRAY_CHANGE Hypervisor Event (0, 9, 11);
    269 REMOTE_PROC_DOMAIN_EVENT_PMWAKEUP Hypervisor Event (0, 9, 11);
    270 REMOTE_PROC_DOMAIN_EVENT_PMSUSPEND Hypervisor Event (0, 9, 11);
    271 REMOTE_PROC_DOMAIN_SNAPSHOT_IS_CURRENT Hypervisor Plain (0, 9, 13);
    272 REMOTE_PROC_DOMAIN_SNAPSHOT_HAS_METADATA Hypervisor Plain (0, 9, 13);
    273 REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS Hypervisor Plain (0, 9, 13);
    274 REMOTE_PROC_DOMAIN_LIST_ALL_SNAPSHOTS Hypervisor Plain (0, 9, 13);
    275 REMOTE_PROC_DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN Hypervisor Plain (0, 9, 13);
    276 REMOTE_PROC_DOMAIN_EVENT_BALLOON_CHANGE Hypervisor Event (0, 10, 0);
    277 REMOTE_PROC_DOMAIN_GET_HOSTNAME Hypervisor Plain (0, 10, 0);
    278 REMOTE_PROC_DOMAIN_GET_SECURITY_LABEL_LIST Hypervisor Plain (0, 10, 0);
    279 REMOTE_PROC_DOMAIN_PIN_EMULATOR Hypervisor Plain (0, 10, 0);
    280 REMOTE_PROC_DOMAIN_GET_EMULATOR_PIN_INFO Hypervisor Plain (0, 10, 0);
    281 REMOTE_PROC_CONNECT_LIST_ALL_STORAGE_POOLS Storage Plain (0, 10, 2);
    282 REMOTE_PROC_STORAGE_POOL_LIST_ALL_VOLUMES Storage Plain (0, 10, 2);
    283 REMOTE_PROC_CONNECT_LIST_ALL_NETWORKS Network Plain (0, 10, 2);
    284 REMOTE_PROC_CONNECT_LIST_ALL_INTERFACES Interface Plain (0, 10, 2);
    285 REMOTE_PROC_CONNECT_LIST_ALL_NODE_DEVICES NodeDev Plain (0, 10, 2);
    286 REMOTE_PROC_CONNECT_LIST_ALL_NWFILTERS NWFilter Plain (0, 10, 2) "virConnectListAllNWFilters";
    287 REMOTE_PROC_CONNECT_LIST_ALL_SECRETS Secret Plain (0, 10, 2);
    288 REMOTE_PROC_NODE_SET_MEMORY_PARAMETERS Hypervisor Plain (0, 10, 2);
    289 REMOTE_PROC_NODE_GET_MEMORY_PARAMETERS Hypervisor Plain (0, 10, 2);
    290 REMOTE_PROC_DOMAIN_BLOCK_COMMIT Hypervisor Plain (0, 10, 2);
    291 REMOTE_PROC_NETWORK_UPDATE Network Plain (0, 10, 2);
    292 REMOTE_PROC_DOMAIN_EVENT_PMSUSPEND_DISK Hypervisor Event (1, 0, 0);
    293 REMOTE_PROC_NODE_GET_CPU_MAP Hypervisor Plain (1, 0, 0) "virNodeGetCPUMap";
    294 REMOTE_PROC_DOMAIN_FSTRIM Hypervisor Plain (1, 0, 1) "virDomainFSTrim";
    295 REMOTE_PROC_DOMAIN_SEND_PROCESS_SIGNAL Hypervisor Plain (1, 0, 1);
    296 REMOTE_PROC_DOMAIN_OPEN_CHANNEL Hypervisor Stream (1, 0, 2);
    297 REMOTE_PROC_NODE_DEVICE_LOOKUP_SCSI_HOST_BY_WWN NodeDev Plain (1, 0, 3) "virNodeDeviceLookupSCSIHostByWWN";
    298 REMOTE_PROC_DOMAIN_GET_JOB_STATS Hypervisor Plain (1, 0, 3);
    299 REMOTE_PROC_DOMAIN_MIGRATE_GET_COMPRESSION_CACHE Hypervisor Plain (1, 0, 3);
    300 REMOTE_PROC_DOMAIN_MIGRATE_SET_COMPRESSION_CACHE Hypervisor Plain (1, 0, 3);
    301 REMOTE_PROC_NODE_DEVICE_DETACH_FLAGS Hypervisor Plain (1, 0, 5);
    302 REMOTE_PROC_DOMAIN_MIGRATE_BEGIN3_PARAMS Hypervisor Plain (1, 0, 5);
    303 REMOTE_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS Hypervisor Plain (1, 0, 5);
    304 REMOTE_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS Hypervisor Stream (1, 0, 5);
    305 REMOTE_PROC_DOMAIN_MIGRATE_PERFORM3_PARAMS Hypervisor Plain (1, 0, 5);
    306 REMOTE_PROC_DOMAIN_MIGRATE_FINISH3_PARAMS Hypervisor Plain (1, 0, 5);
    307 REMOTE_PROC_DOMAIN_MIGRATE_CONFIRM3_PARAMS Hypervisor Plain (1, 0, 5);
    308 REMOTE_PROC_DOMAIN_SET_MEMORY_STATS_PERIOD Hypervisor Plain (1, 1, 1);
    309 REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES Hypervisor Fds (1, 1, 1) "virDomainCreateXMLWithFiles";
    310 REMOTE_PROC_DOMAIN_CREATE_WITH_FILES Hypervisor Fds (1, 1, 1);
    311 REMOTE_PROC_DOMAIN_EVENT_DEVICE_REMOVED Hypervisor Event (1, 1, 1);
    312 REMOTE_PROC_CONNECT_GET_CPU_MODEL_NAMES Hypervisor Plain (1, 1, 3) "virConnectGetCPUModelNames";
    313 REMOTE_PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY Network Plain (1, 2, 1);
    314 REMOTE_PROC_CONNECT_NETWORK_EVENT_DEREGISTER_ANY Network Plain (1, 2, 1);
    315 REMOTE_PROC_NETWORK_EVENT_LIFECYCLE Network Event (1, 2, 1);
    316 REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY Hypervisor Plain (1, 2, 1);
    317 REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY Hypervisor Plain (1, 2, 1);
    318 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE Hypervisor Event (1, 2, 1);
    319 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_REBOOT Hypervisor Event (1, 2, 1);
    320 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_RTC_CHANGE Hypervisor Event (1, 2, 1);
    321 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_WATCHDOG Hypervisor Event (1, 2, 1);
    322 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_IO_ERROR Hypervisor Event (1, 2, 1);
    323 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_GRAPHICS Hypervisor Event (1, 2, 1);
    324 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_IO_ERROR_REASON Hypervisor Event (1, 2, 1);
    325 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_CONTROL_ERROR Hypervisor Event (1, 2, 1);
    326 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_BLOCK_JOB Hypervisor Event (1, 2, 1);
    327 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_DISK_CHANGE Hypervisor Event (1, 2, 1);
    328 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_TRAY_CHANGE Hypervisor Event (1, 2, 1);
    329 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_PMWAKEUP Hypervisor Event (1, 2, 1);
    330 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_PMSUSPEND Hypervisor Event (1, 2, 1);
    331 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_BALLOON_CHANGE Hypervisor Event (1, 2, 1);
    332 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_PMSUSPEND_DISK Hypervisor Event (1, 2, 1);
    333 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED Hypervisor Event (1, 2, 1);
    334 REMOTE_PROC_DOMAIN_CORE_DUMP_WITH_FORMAT Hypervisor Plain (1, 2, 3);
    335 REMOTE_PROC_DOMAIN_FSFREEZE Hypervisor Plain (1, 2, 5) "virDomainFSFreeze";
    336 REMOTE_PROC_DOMAIN_FSTHAW Hypervisor Plain (1, 2, 5) "virDomainFSThaw";
    337 REMOTE_PROC_DOMAIN_GET_TIME Hypervisor Plain (1, 2, 5);
    338 REMOTE_PROC_DOMAIN_SET_TIME Hypervisor Plain (1, 2, 5);
    339 REMOTE_PROC_DOMAIN_EVENT_BLOCK_JOB_2 Hypervisor Event (1, 2, 6);
    340 REMOTE_PROC_NODE_GET_FREE_PAGES Hypervisor Plain (1, 2, 6);
    341 REMOTE_PROC_NETWORK_GET_DHCP_LEASES Network Plain (1, 2, 6) "virNetworkGetDHCPLeases";
    342 REMOTE_PROC_CONNECT_GET_DOMAIN_CAPABILITIES Hypervisor Plain (1, 2, 7);
    343 REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD Hypervisor Fds (1, 2, 8) "virDomainOpenGraphicsFD";
    344 REMOTE_PROC_CONNECT_GET_ALL_DOMAIN_STATS Hypervisor Plain (1, 2, 8);
    345 REMOTE_PROC_DOMAIN_BLOCK_COPY Hypervisor Plain (1, 2, 8);
    346 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_TUNABLE Hypervisor Event (1, 2, 9);
    347 REMOTE_PROC_NODE_ALLOC_PAGES Hypervisor Plain (1, 2, 9);
    348 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_AGENT_LIFECYCLE Hypervisor Event (1, 2, 11);
    349 REMOTE_PROC_DOMAIN_GET_FSINFO Hypervisor Plain (1, 2, 11) "virDomainGetFSInfo";
    350 REMOTE_PROC_DOMAIN_DEFINE_XML_FLAGS Hypervisor Plain (1, 2, 12) "virDomainDefineXMLFlags";
    351 REMOTE_PROC_DOMAIN_GET_IOTHREAD_INFO Hypervisor Plain (1, 2, 14) "virDomainGetIOThreadInfo";
    352 REMOTE_PROC_DOMAIN_PIN_IOTHREAD Hypervisor Plain (1, 2, 14) "virDomainPinIOThread";
    353 REMOTE_PROC_DOMAIN_INTERFACE_ADDRESSES Hypervisor Plain (1, 2, 14);
    354 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_ADDED Hypervisor Event (1, 2, 15);
    355 REMOTE_PROC_DOMAIN_ADD_IOTHREAD Hypervisor Plain (1, 2, 15) "virDomainAddIOThread";
    356 REMOTE_PROC_DOMAIN_DEL_IOTHREAD Hypervisor Plain (1, 2, 15) "virDomainDelIOThread";
    357 REMOTE_PROC_DOMAIN_SET_USER_PASSWORD Hypervisor Plain (1, 2, 16);
    358 REMOTE_PROC_DOMAIN_RENAME Hypervisor Plain (1, 2, 19);
    359 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_MIGRATION_ITERATION Hypervisor Event (1, 3, 2);
    360 REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK Hypervisor Plain (1, 3, 2);
    361 REMOTE_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK Hypervisor Plain (1, 3, 2);
    362 REMOTE_PROC_CONNECT_EVENT_CONNECTION_CLOSED Hypervisor Event (1, 3, 2);
    363 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_JOB_COMPLETED Hypervisor Event (1, 3, 3);
    364 REMOTE_PROC_DOMAIN_MIGRATE_START_POST_COPY Hypervisor Plain (1, 3, 3);
    365 REMOTE_PROC_DOMAIN_GET_PERF_EVENTS Hypervisor Plain (1, 3, 3);
    366 REMOTE_PROC_DOMAIN_SET_PERF_EVENTS Hypervisor Plain (1, 3, 3);
    367 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED Hypervisor Event (1, 3, 4);
    368 REMOTE_PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY Storage Plain (2, 0, 0);
    369 REMOTE_PROC_CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY Storage Plain (2, 0, 0);
    370 REMOTE_PROC_STORAGE_POOL_EVENT_LIFECYCLE Storage Event (2, 0, 0);
    371 REMOTE_PROC_DOMAIN_GET_GUEST_VCPUS Hypervisor Plain (2, 0, 0);
    372 REMOTE_PROC_DOMAIN_SET_GUEST_VCPUS Hypervisor Plain (2, 0, 0);
    373 REMOTE_PROC_STORAGE_POOL_EVENT_REFRESH Storage Event (2, 0, 0);
    374 REMOTE_PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY NodeDev Plain (2, 2, 0);
    375 REMOTE_PROC_CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY NodeDev Plain (2, 2, 0);
    376 REMOTE_PROC_NODE_DEVICE_EVENT_LIFECYCLE NodeDev Event (2, 2, 0);
    377 REMOTE_PROC_NODE_DEVICE_EVENT_UPDATE NodeDev Event (2, 2, 0);
    378 REMOTE_PROC_STORAGE_VOL_GET_INFO_FLAGS Storage Plain (3, 0, 0);
    379 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_METADATA_CHANGE Hypervisor Event (3, 0, 0);
    380 REMOTE_PROC_CONNECT_SECRET_EVENT_REGISTER_ANY Secret Plain (3, 0, 0);
    381 REMOTE_PROC_CONNECT_SECRET_EVENT_DEREGISTER_ANY Secret Plain (3, 0, 0);
    382 REMOTE_PROC_SECRET_EVENT_LIFECYCLE Secret Event (3, 0, 0);
    383 REMOTE_PROC_SECRET_EVENT_VALUE_CHANGED Secret Event (3, 0, 0);
    384 REMOTE_PROC_DOMAIN_SET_VCPU Hypervisor Plain (3, 1, 0);
    385 REMOTE_PROC_DOMAIN_EVENT_BLOCK_THRESHOLD Hypervisor Event (3, 2, 0);
    386 REMOTE_PROC_DOMAIN_SET_BLOCK_THRESHOLD Hypervisor Plain (3, 2, 0);
    387 REMOTE_PROC_DOMAIN_MIGRATE_GET_MAX_DOWNTIME Hypervisor Plain (3, 7, 0);
    388 REMOTE_PROC_DOMAIN_MANAGED_SAVE_GET_XML_DESC Hypervisor Plain (3, 7, 0) "virDomainManagedSaveGetXMLDesc";
    389 REMOTE_PROC_DOMAIN_MANAGED_SAVE_DEFINE_XML Hypervisor Plain (3, 7, 0) "virDomainManagedSaveDefineXML";
    390 REMOTE_PROC_DOMAIN_SET_LIFECYCLE_ACTION Hypervisor Plain (3, 9, 0);
    391 REMOTE_PROC_STORAGE_POOL_LOOKUP_BY_TARGET_PATH Storage Plain (4, 1, 0);
    392 REMOTE_PROC_DOMAIN_DETACH_DEVICE_ALIAS Hypervisor Plain (4, 4, 0);
    393 REMOTE_PROC_CONNECT_COMPARE_HYPERVISOR_CPU Hypervisor Plain (4, 4, 0) "virConnectCompareHypervisorCPU";
    394 REMOTE_PROC_CONNECT_BASELINE_HYPERVISOR_CPU Hypervisor Plain (4, 4, 0) "virConnectBaselineHypervisorCPU";
    395 REMOTE_PROC_NODE_GET_SEV_INFO Hypervisor Plain (4, 5, 0) "virNodeGetSEVInfo";
    396 REMOTE_PROC_DOMAIN_GET_LAUNCH_SECURITY_INFO Hypervisor Plain (4, 5, 0);
    397 REMOTE_PROC_NWFILTER_BINDING_LOOKUP_BY_PORT_DEV NWFilter Plain (4, 5, 0) "virNWFilterBindingLookupByPortDev";
    398 REMOTE_PROC_NWFILTER_BINDING_GET_XML_DESC NWFilter Plain (4, 5, 0) "virNWFilterBindingGetXMLDesc";
    399 REMOTE_PROC_NWFILTER_BINDING_CREATE_XML NWFilter Plain (4, 5, 0) "virNWFilterBindingCreateXML";
    400 REMOTE_PROC_NWFILTER_BINDING_DELETE NWFilter Plain (4, 5, 0) "virNWFilterBindingDelete";
    401 REMOTE_PROC_CONNECT_LIST_ALL_NWFILTER_BINDINGS NWFilter Plain (4, 5, 0) "virConnectListAllNWFilterBindings";
    402 REMOTE_PROC_DOMAIN_SET_IOTHREAD_PARAMS Hypervisor Plain (4, 10, 0) "virDomainSetIOThreadParams";
    403 REMOTE_PROC_CONNECT_GET_STORAGE_POOL_CAPABILITIES Storage Plain (5, 2, 0);
    404 REMOTE_PROC_NETWORK_LIST_ALL_PORTS Network Plain (5, 5, 0);
    405 REMOTE_PROC_NETWORK_PORT_LOOKUP_BY_UUID Network Plain (5, 5, 0) "virNetworkPortLookupByUUID";
    406 REMOTE_PROC_NETWORK_PORT_CREATE_XML Network Plain (5, 5, 0) "virNetworkPortCreateXML";
    407 REMOTE_PROC_NETWORK_PORT_GET_PARAMETERS Network Plain (5, 5, 0);
    408 REMOTE_PROC_NETWORK_PORT_SET_PARAMETERS Network Plain (5, 5, 0);
    409 REMOTE_PROC_NETWORK_PORT_GET_XML_DESC Network Plain (5, 5, 0) "virNetworkPortGetXMLDesc";
    410 REMOTE_PROC_NETWORK_PORT_DELETE Network Plain (5, 5, 0);
    411 REMOTE_PROC_DOMAIN_CHECKPOINT_CREATE_XML Hypervisor Plain (5, 6, 0) "virDomainCheckpointCreateXML";
    412 REMOTE_PROC_DOMAIN_CHECKPOINT_GET_XML_DESC Hypervisor Plain (5, 6, 0) "virDomainCheckpointGetXMLDesc";
    413 REMOTE_PROC_DOMAIN_LIST_ALL_CHECKPOINTS Hypervisor Plain (5, 6, 0);
    414 REMOTE_PROC_DOMAIN_CHECKPOINT_LIST_ALL_CHILDREN Hypervisor Plain (5, 6, 0);
    415 REMOTE_PROC_DOMAIN_CHECKPOINT_LOOKUP_BY_NAME Hypervisor Plain (5, 6, 0);
    416 REMOTE_PROC_DOMAIN_CHECKPOINT_GET_PARENT Hypervisor Plain (5, 6, 0);
    417 REMOTE_PROC_DOMAIN_CHECKPOINT_DELETE Hypervisor Plain (5, 6, 0);
    418 REMOTE_PROC_DOMAIN_GET_GUEST_INFO Hypervisor Plain (5, 7, 0);
    419 REMOTE_PROC_CONNECT_SET_IDENTITY Hypervisor Plain (5, 8, 0);
    420 REMOTE_PROC_DOMAIN_AGENT_SET_RESPONSE_TIMEOUT Hypervisor Plain (5, 10, 0);
    421 REMOTE_PROC_DOMAIN_BACKUP_BEGIN Hypervisor Plain (6, 0, 0);
    422 REMOTE_PROC_DOMAIN_BACKUP_GET_XML_DESC Hypervisor Plain (6, 0, 0) "virDomainBackupGetXMLDesc";
    423 REMOTE_PROC_DOMAIN_EVENT_MEMORY_FAILURE Hypervisor Event (6, 9, 0);
    424 REMOTE_PROC_DOMAIN_AUTHORIZED_SSH_KEYS_GET Hypervisor Plain (6, 10, 0) "virDomainAuthorizedSSHKeysGet";
    425 REMOTE_PROC_DOMAIN_AUTHORIZED_SSH_KEYS_SET Hypervisor Plain (6, 10, 0) "virDomainAuthorizedSSHKeysSet";
    426 REMOTE_PROC_DOMAIN_GET_MESSAGES Hypervisor Plain (7, 1, 0);
    427 REMOTE_PROC_DOMAIN_START_DIRTY_RATE_CALC Hypervisor Plain (7, 2, 0);
    428 REMOTE_PROC_NODE_DEVICE_DEFINE_XML NodeDev Plain (7, 3, 0) "virNodeDeviceDefineXML";
    429 REMOTE_PROC_NODE_DEVICE_UNDEFINE NodeDev Plain (7, 3, 0);
    430 REMOTE_PROC_NODE_DEVICE_CREATE NodeDev Plain (7, 3, 0);
    431 REMOTE_PROC_NWFILTER_DEFINE_XML_FLAGS NWFilter Plain (7, 7, 0) "virNWFilterDefineXMLFlags";
    432 REMOTE_PROC_NETWORK_DEFINE_XML_FLAGS Network Plain (7, 7, 0) "virNetworkDefineXMLFlags";
    433 REMOTE_PROC_NODE_DEVICE_GET_AUTOSTART NodeDev Plain (7, 8, 0);
    434 REMOTE_PROC_NODE_DEVICE_SET_AUTOSTART NodeDev Plain (7, 8, 0);
    435 REMOTE_PROC_NODE_DEVICE_IS_PERSISTENT NodeDev Plain (7, 8, 0);
    436 REMOTE_PROC_NODE_DEVICE_IS_ACTIVE NodeDev Plain (7, 8, 0);
    437 REMOTE_PROC_NETWORK_CREATE_XML_FLAGS Network Plain (7, 8, 0) "virNetworkCreateXMLFlags";
    438 REMOTE_PROC_DOMAIN_EVENT_MEMORY_DEVICE_SIZE_CHANGE Hypervisor Event (7, 9, 0);
    439 REMOTE_PROC_DOMAIN_SET_LAUNCH_SECURITY_STATE Hypervisor Plain (8, 0, 0);
    440 REMOTE_PROC_DOMAIN_SAVE_PARAMS Hypervisor Plain (8, 4, 0);
    441 REMOTE_PROC_DOMAIN_RESTORE_PARAMS Hypervisor Plain (8, 4, 0);
    442 REMOTE_PROC_DOMAIN_ABORT_JOB_FLAGS Hypervisor Plain (8, 5, 0);
    443 REMOTE_PROC_DOMAIN_FD_ASSOCIATE Hypervisor Fds (9, 0, 0) "virDomainFDAssociate";
    444 REMOTE_PROC_NETWORK_SET_METADATA Network Plain (9, 7, 0);
    445 REMOTE_PROC_NETWORK_GET_METADATA Network Plain (9, 7, 0);
    446 REMOTE_PROC_NETWORK_EVENT_CALLBACK_METADATA_CHANGE Network Event (9, 8, 0);
    447 REMOTE_PROC_NODE_DEVICE_UPDATE NodeDev Plain (10, 1, 0);
    448 REMOTE_PROC_DOMAIN_GRAPHICS_RELOAD Hypervisor Plain (10, 2, 0);
    449 REMOTE_PROC_DOMAIN_GET_AUTOSTART_ONCE Hypervisor Plain (11, 2, 0);
    450 REMOTE_PROC_DOMAIN_SET_AUTOSTART_ONCE Hypervisor Plain (11, 2, 0);
    451 REMOTE_PROC_DOMAIN_SET_THROTTLE_GROUP Hypervisor Plain (11, 2, 0);
    452 REMOTE_PROC_DOMAIN_DEL_THROTTLE_GROUP Hypervisor Plain (11, 2, 0);
    453 REMOTE_PROC_DOMAIN_EVENT_NIC_MAC_CHANGE Hypervisor Event (11, 2, 0);
    454 REMOTE_PROC_DOMAIN_EVENT_VCPU_REMOVED Hypervisor Event (12, 4, 0);
    455 REMOTE_PROC_DOMAIN_EVENT_CALLBACK_CHANNEL_LIFECYCLE Hypervisor Event (12, 4, 0);
    456 REMOTE_PROC_DOMAIN_ANNOUNCE_INTERFACE Hypervisor Plain (12, 5, 0);
}
