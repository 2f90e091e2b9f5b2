//! The devices of the domain definition (virDomainDiskDef, virDomainNetDef,
//! virDomainChrDef... in conf/domain_conf.h), limited to what Xen domains use,
//! with their XML spellings.
use super::domain_def::{vir_enum, Switch, YesNo};

vir_enum!(
    /// virStorageType, the disk source kinds we support.
    DiskType { File = "file", Block = "block", Network = "network" }
);

vir_enum!(
    /// virDomainDiskDevice.
    DiskDevice { Disk = "disk", Cdrom = "cdrom", Floppy = "floppy", Lun = "lun" }
);

vir_enum!(
    /// virDomainDiskBus.
    DiskBus {
        Ide = "ide",
        Fdc = "fdc",
        Scsi = "scsi",
        Virtio = "virtio",
        Xen = "xen",
        Usb = "usb",
        Uml = "uml",
        Sata = "sata",
        Sd = "sd",
    }
);

vir_enum!(
    /// virStorageFileFormat.
    DiskFormat {
        None = "none",
        Raw = "raw",
        Dir = "dir",
        Bochs = "bochs",
        Cloop = "cloop",
        Dmg = "dmg",
        Iso = "iso",
        Vpc = "vpc",
        Vdi = "vdi",
        Fat = "fat",
        Vhd = "vhd",
        Ploop = "ploop",
        Cow = "cow",
        Qcow = "qcow",
        Qcow2 = "qcow2",
        Qed = "qed",
        Vmdk = "vmdk",
    }
);

vir_enum!(
    /// virDomainDiskCache.
    DiskCache {
        Default = "default",
        None = "none",
        Writethrough = "writethrough",
        Writeback = "writeback",
        Directsync = "directsync",
        Unsafe = "unsafe",
    }
);

vir_enum!(
    /// virDomainDiskIo.
    DiskIo { Default = "default", Native = "native", Threads = "threads", IoUring = "io_uring" }
);

vir_enum!(
    /// virDomainDiskDiscard.
    DiskDiscard { Default = "default", Unmap = "unmap", Ignore = "ignore" }
);

vir_enum!(
    /// virStorageNetProtocol.
    NetProtocol {
        None = "none",
        Nbd = "nbd",
        Rbd = "rbd",
        Sheepdog = "sheepdog",
        Gluster = "gluster",
        Iscsi = "iscsi",
        Http = "http",
        Https = "https",
        Ftp = "ftp",
        Ftps = "ftps",
        Tftp = "tftp",
        Ssh = "ssh",
        Vxhs = "vxhs",
        Nfs = "nfs",
    }
);

vir_enum!(
    /// virStorageNetHostTransport.
    HostTransport { Tcp = "tcp", Unix = "unix", Rdma = "rdma" }
);

/// `<disk>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskDef {
    pub disk_type: DiskType,
    pub device: DiskDevice,
    pub driver_name: Option<String>,
    pub format: Option<DiskFormat>,
    pub cache: Option<DiskCache>,
    pub io: Option<DiskIo>,
    pub discard: Option<DiskDiscard>,
    pub source: DiskSource,
    pub dst: String,
    /// None until the defaults are applied (then always set).
    pub bus: Option<DiskBus>,
    pub readonly: bool,
    pub shareable: bool,
    pub transient: bool,
    pub serial: Option<String>,
    pub address: Option<DriveAddress>,
    pub alias: Option<String>,
}

/// The `<source>` of a disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskSource {
    /// `file=` or `dev=`.
    pub path: Option<String>,
    pub protocol: Option<NetProtocol>,
    /// `name=` of a network source.
    pub name: Option<String>,
    pub hosts: Vec<NetHost>,
}

/// `<source><host>` of a network disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetHost {
    pub name: Option<String>,
    pub port: Option<u32>,
    pub transport: Option<HostTransport>,
    pub socket: Option<String>,
}

/// `<address type='drive'>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriveAddress {
    pub controller: u32,
    pub bus: u32,
    pub target: u32,
    pub unit: u32,
}

vir_enum!(
    /// virDomainControllerType, the kinds we support.
    ControllerType { Ide = "ide", Fdc = "fdc", Scsi = "scsi", Sata = "sata", Usb = "usb", Xenbus = "xenbus" }
);

/// `<controller>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerDef {
    pub ctrl_type: ControllerType,
    /// -1 until the defaults assign one.
    pub index: i32,
    pub model: Option<String>,
    /// usb: `ports=`.
    pub ports: Option<u32>,
    /// xenbus: `maxGrantFrames=`.
    pub max_grant_frames: Option<u32>,
    /// xenbus: `maxEventChannels=`.
    pub max_event_channels: Option<u32>,
}

vir_enum!(
    /// virDomainNetType, the kinds Xen can plug.
    NetType { Bridge = "bridge", Ethernet = "ethernet", Network = "network" }
);

/// `<interface>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetDef {
    pub net_type: NetType,
    pub mac: [u8; 6],
    /// `<source bridge=>` or `<source network=>`.
    pub source: Option<String>,
    pub ips: Vec<NetIp>,
    pub script: Option<String>,
    /// `<target dev=>`.
    pub ifname: Option<String>,
    pub model: Option<String>,
    pub alias: Option<String>,
}

/// `<interface><ip>`: an address the guest uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetIp {
    pub address: std::net::IpAddr,
    pub prefix: Option<u32>,
    pub peer: Option<std::net::IpAddr>,
}

vir_enum!(
    /// virDomainChrType, the kinds we support.
    ChrType {
        Null = "null",
        Vc = "vc",
        Pty = "pty",
        Dev = "dev",
        File = "file",
        Pipe = "pipe",
        Stdio = "stdio",
        Tcp = "tcp",
        Unix = "unix",
    }
);

vir_enum!(
    /// virDomainChrConsoleTargetType, the kinds Xen domains use.
    ConsoleTarget { Serial = "serial", Xen = "xen" }
);

vir_enum!(
    /// virDomainChrTcpProtocol.
    TcpProtocol { Raw = "raw", Telnet = "telnet", Telnets = "telnets", Tls = "tls" }
);

/// Which list a character device belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChrDeviceType {
    Serial,
    Console,
}

/// `<serial>` or `<console>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChrDef {
    pub device: ChrDeviceType,
    pub chr_type: ChrType,
    /// pty (live), dev, file, pipe, unix: the path.
    pub path: Option<String>,
    /// tcp: host and service; tcp/unix: listen (mode='bind').
    pub host: Option<String>,
    pub service: Option<String>,
    pub listen: bool,
    pub protocol: Option<TcpProtocol>,
    /// Console: `<target type=>` (None until the defaults are applied).
    pub console_target: Option<ConsoleTarget>,
    /// Serial: `<target type=>` as written (e.g. "isa-serial").
    pub serial_target: Option<String>,
    /// `<target port=>`, -1 until assigned.
    pub port: i32,
    pub alias: Option<String>,
}

vir_enum!(
    /// virDomainInputType.
    InputType { Mouse = "mouse", Tablet = "tablet", Keyboard = "keyboard" }
);

vir_enum!(
    /// virDomainInputBus.
    InputBus { Ps2 = "ps2", Usb = "usb", Xen = "xen", Parallels = "parallels", Virtio = "virtio", None = "none" }
);

/// `<input>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputDef {
    pub input_type: InputType,
    pub bus: InputBus,
}

vir_enum!(
    /// virDomainGraphicsVNCSharePolicy.
    SharePolicy { AllowExclusive = "allow-exclusive", ForceShared = "force-shared", Ignore = "ignore" }
);

/// `<graphics>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphicsDef {
    Vnc(VncDef),
    Sdl(SdlDef),
}

/// `<graphics type='vnc'>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VncDef {
    /// 0: none, -1 only while parsing; the driver sets it when autoport allocates one.
    pub port: i32,
    pub autoport: bool,
    pub websocket: i32,
    pub keymap: Option<String>,
    pub share_policy: Option<SharePolicy>,
    pub passwd: Option<String>,
    pub listens: Vec<GraphicsListen>,
}

/// `<graphics><listen>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphicsListen {
    /// type='address'; `auto_generated` marks an address the driver filled in.
    Address { address: Option<String>, from_config: u32, auto_generated: bool },
    /// type='none'.
    None { from_config: u32 },
}

/// `<graphics type='sdl'>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdlDef {
    pub display: Option<String>,
    pub xauth: Option<String>,
    pub fullscreen: bool,
}

vir_enum!(
    /// virDomainVideoType, the models libxl knows.
    VideoType { Vga = "vga", Cirrus = "cirrus", Xen = "xen" }
);

/// `<video>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoDef {
    /// None: model type to be chosen by the defaults.
    pub video_type: Option<VideoType>,
    /// KiB; 0 until the defaults set it.
    pub vram: u32,
    pub heads: Option<u32>,
    pub primary: bool,
}

vir_enum!(
    /// virDomainMemballoonModel.
    MemballoonModel { Virtio = "virtio", Xen = "xen", None = "none" }
);

/// `<memballoon>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemballoonDef {
    pub model: MemballoonModel,
    pub stats_period: Option<u32>,
}

/// The on/off helper the formatters share.
pub fn switch_str(s: Switch) -> &'static str {
    s.as_str()
}

/// The yes/no helper the formatters share.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        YesNo::Yes.as_str()
    } else {
        YesNo::No.as_str()
    }
}
