//! The in-memory domain definition: the part of libvirt's virDomainDef (conf/domain_conf.h)
//! that virtxend supports, with the enumerations' XML spellings (VIR_ENUM_IMPL tables of
//! conf/domain_conf.c). Parsing, defaults and formatting live in `domain_xml`.
use super::conf_util::Bitmap;

/// Declares an enumeration with its XML spellings, like libvirt's VIR_ENUM_DECL/IMPL pair.
macro_rules! vir_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in libvirt's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The XML spelling.
            // C: <Enum>TypeToString
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value spelled `s`, if any.
            // C: <Enum>TypeFromString
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}
pub(crate) use vir_enum;

vir_enum!(
    /// virDomainOSType, the values this driver accepts. `Xen` is PV: libvirt reads both
    /// "xen" and "linux" and writes "linux" for Xen domains.
    OsType { Hvm = "hvm", Xen = "xen", Linux = "linux", XenPvh = "xenpvh" }
);

impl OsType {
    /// Paravirtualised (os type xen or linux).
    pub fn is_pv(self) -> bool {
        matches!(self, OsType::Xen | OsType::Linux)
    }
}

vir_enum!(
    /// virArch, the x86 values Xen capabilities list.
    Arch { I686 = "i686", X86_64 = "x86_64" }
);

vir_enum!(
    /// virDomainLifecycleAction.
    LifecycleAction {
        Destroy = "destroy",
        Restart = "restart",
        RenameRestart = "rename-restart",
        Preserve = "preserve",
        CoredumpDestroy = "coredump-destroy",
        CoredumpRestart = "coredump-restart",
    }
);

vir_enum!(
    /// virDomainBootOrder.
    BootDev { Floppy = "fd", Cdrom = "cdrom", Disk = "hd", Network = "network" }
);

vir_enum!(
    /// virDomainLoader.
    LoaderType { Rom = "rom", Pflash = "pflash" }
);

vir_enum!(
    /// virDomainOsDefFirmware.
    Firmware { Bios = "bios", Efi = "efi" }
);

vir_enum!(
    /// virTristateSwitch without "absent" (absence is `None`).
    Switch { On = "on", Off = "off" }
);

vir_enum!(
    /// virTristateBool without "absent".
    YesNo { Yes = "yes", No = "no" }
);

vir_enum!(
    /// virDomainCpuPlacementMode.
    Placement { Static = "static", Auto = "auto" }
);

vir_enum!(
    /// virDomainXenPassthroughMode.
    PassthroughMode { SyncPt = "sync_pt", SharePt = "share_pt" }
);

vir_enum!(
    /// virDomainClockBasis.
    ClockBasis { Utc = "utc", Localtime = "localtime" }
);

vir_enum!(
    /// virDomainTimerName.
    TimerName {
        Platform = "platform",
        Pit = "pit",
        Rtc = "rtc",
        Hpet = "hpet",
        Tsc = "tsc",
        Kvmclock = "kvmclock",
        Hypervclock = "hypervclock",
        Armvtimer = "armvtimer",
    }
);

vir_enum!(
    /// virDomainTimerTickpolicy.
    TimerTickpolicy {
        Delay = "delay",
        Catchup = "catchup",
        Merge = "merge",
        Discard = "discard",
    }
);

vir_enum!(
    /// virDomainTimerTrack.
    TimerTrack { Boot = "boot", Guest = "guest", Wall = "wall", Realtime = "realtime" }
);

vir_enum!(
    /// virDomainTimerMode.
    TimerMode {
        Auto = "auto",
        Native = "native",
        Emulate = "emulate",
        Paravirt = "paravirt",
        Smpsafe = "smpsafe",
    }
);

/// `<domain>`: the definition of one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainDef {
    /// Hypervisor domain id while running, -1 otherwise.
    pub id: i32,
    pub name: String,
    pub uuid: [u8; 16],
    pub title: Option<String>,
    pub description: Option<String>,
    /// `<metadata>` children, sanitised as libvirt does (one per namespace).
    pub metadata: Vec<XmlElement>,
    /// `<memory>`, KiB.
    pub memory_kib: u64,
    /// `<currentMemory>`, KiB.
    pub current_memory_kib: u64,
    pub vcpu: VcpuDef,
    pub os: OsDef,
    pub features: Features,
    pub clock: ClockDef,
    pub on_poweroff: LifecycleAction,
    pub on_reboot: LifecycleAction,
    pub on_crash: LifecycleAction,
    pub devices: Devices,
}

/// `<vcpu>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcpuDef {
    pub max: u32,
    /// Online vCPUs at start (equal to `max` when the attribute is absent).
    pub current: u32,
    pub placement: Placement,
    pub cpuset: Option<Bitmap>,
}

/// `<os>`, plus `<bootloader>` and `<bootloader_args>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsDef {
    pub os_type: OsType,
    pub arch: Arch,
    pub machine: Option<String>,
    pub firmware: Option<Firmware>,
    pub loader: Option<LoaderDef>,
    pub kernel: Option<String>,
    pub initrd: Option<String>,
    pub cmdline: Option<String>,
    pub boot_devs: Vec<BootDev>,
    pub bootmenu: Option<BootMenu>,
    pub bootloader: Option<String>,
    pub bootloader_args: Option<String>,
}

/// `<os><loader>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoaderDef {
    pub path: Option<String>,
    pub readonly: Option<YesNo>,
    pub secure: Option<YesNo>,
    pub loader_type: Option<LoaderType>,
}

/// `<os><bootmenu>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootMenu {
    pub enable: YesNo,
    pub timeout: Option<u32>,
}

/// `<features>`: the features Xen domains use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    pub acpi: bool,
    /// `<apic/>`, with its `eoi` attribute.
    pub apic: Option<Option<Switch>>,
    pub pae: bool,
    pub hap: Option<Switch>,
    pub viridian: bool,
    /// `<xen>`: `<e820_host state>` and `<passthrough state mode>`.
    pub xen: Option<XenFeatures>,
}

/// `<features><xen>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XenFeatures {
    pub e820_host: Option<Switch>,
    pub passthrough: Option<(Switch, Option<PassthroughMode>)>,
}

/// `<clock>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockDef {
    pub offset: ClockOffset,
    pub timers: Vec<TimerDef>,
}

/// virDomainClockOffsetType with its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockOffset {
    /// `reset`: adjustment='reset'.
    Utc {
        reset: bool,
    },
    Localtime {
        reset: bool,
    },
    Variable {
        adjustment: i64,
        basis: ClockBasis,
    },
    Timezone(String),
    Absolute(u64),
}

/// `<clock><timer>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerDef {
    pub name: TimerName,
    pub present: Option<YesNo>,
    pub tickpolicy: Option<TimerTickpolicy>,
    pub track: Option<TimerTrack>,
    pub frequency: Option<u64>,
    pub mode: Option<TimerMode>,
}

/// `<devices>`, each list in libvirt's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Devices {
    pub emulator: Option<String>,
    pub disks: Vec<super::domain_dev::DiskDef>,
    pub controllers: Vec<super::domain_dev::ControllerDef>,
    pub nets: Vec<super::domain_dev::NetDef>,
    pub serials: Vec<super::domain_dev::ChrDef>,
    pub consoles: Vec<super::domain_dev::ChrDef>,
    pub inputs: Vec<super::domain_dev::InputDef>,
    pub graphics: Vec<super::domain_dev::GraphicsDef>,
    pub videos: Vec<super::domain_dev::VideoDef>,
    pub memballoon: Option<super::domain_dev::MemballoonDef>,
}

/// A foreign element kept verbatim (the children of `<metadata>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlElement {
    /// Qualified name as written ("prefix:local" or "local").
    pub name: String,
    /// Attributes in document order, namespace declarations (`xmlns:p`) included.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<XmlNode>,
}

/// A child of an `XmlElement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlNode {
    Element(XmlElement),
    Text(String),
}

vir_enum!(
    /// virDomainState.
    DomainState {
        NoState = "nostate",
        Running = "running",
        Blocked = "blocked",
        Paused = "paused",
        Shutdown = "shutdown",
        Shutoff = "shutoff",
        Crashed = "crashed",
        PmSuspended = "pmsuspended",
    }
);

impl DomainState {
    /// The reason strings of this state, indexed by reason number
    /// (virDomainRunningReason and the other per-state tables).
    pub fn reasons(self) -> &'static [&'static str] {
        match self {
            DomainState::NoState | DomainState::Blocked | DomainState::PmSuspended => &["unknown"],
            DomainState::Running => &[
                "unknown",
                "booted",
                "migrated",
                "restored",
                "from snapshot",
                "unpaused",
                "migration canceled",
                "save canceled",
                "wakeup",
                "crashed",
                "post-copy",
                "post-copy failed",
            ],
            DomainState::Paused => &[
                "unknown",
                "user",
                "migration",
                "save",
                "dump",
                "ioerror",
                "watchdog",
                "from snapshot",
                "shutdown",
                "snapshot",
                "panicked",
                "starting up",
                "post-copy",
                "post-copy failed",
                "api error",
            ],
            DomainState::Shutdown => &["unknown", "user"],
            DomainState::Shutoff => {
                &["unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot", "daemon"]
            }
            DomainState::Crashed => &["unknown", "panicked"],
        }
    }

    /// The wire number (virDomainState).
    pub fn number(self) -> i32 {
        match self {
            DomainState::NoState => 0,
            DomainState::Running => 1,
            DomainState::Blocked => 2,
            DomainState::Paused => 3,
            DomainState::Shutdown => 4,
            DomainState::Shutoff => 5,
            DomainState::Crashed => 6,
            DomainState::PmSuspended => 7,
        }
    }
}

/// `<domstatus>`: what the driver keeps in /run/libvirt/libxl/NAME.xml about a running
/// domain (virDomainObj's state, and the libxl driver's private data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainStatus {
    pub state: DomainState,
    /// Index into `state.reasons()`.
    pub reason: u32,
    /// Always 0 for Xen domains (libvirt never sets it).
    pub pid: i64,
    /// `<lockProcessRunning/>`.
    pub lock_process_running: bool,
    /// `<lockstate>`: the lock manager's saved state.
    pub lock_state: Option<String>,
    pub def: DomainDef,
}

impl DomainDef {
    /// The vCPUs online at start.
    // C: virDomainDefGetVcpus
    pub fn vcpus(&self) -> u32 {
        self.vcpu.current
    }

    /// Paravirtualised domain.
    pub fn is_pv(&self) -> bool {
        self.os.os_type.is_pv()
    }

    /// Fully virtualised domain.
    pub fn is_hvm(&self) -> bool {
        self.os.os_type == OsType::Hvm
    }

    /// The UUID in its canonical text form.
    pub fn uuid_string(&self) -> String {
        super::conf_util::uuid_format(&self.uuid)
    }
}
