//! Parse -> format round trips, libvirt's defaults and status XML.
use super::*;
use crate::libxl::domain_def::{DomainState, LifecycleAction, OsType};
use crate::libxl::domain_dev::{ChrType, ConsoleTarget, InputBus, InputType, MemballoonModel, VideoType};

pub(crate) const PV: &str = "<domain type='xen'>
  <name>pv1</name>
  <uuid>8f5c8e2a-1b3d-4c6e-9a7b-2d4f6e8a0c1e</uuid>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  <os>
    <type>linux</type>
    <kernel>/boot/vmlinuz-pv</kernel>
    <initrd>/boot/initrd-pv</initrd>
    <cmdline>root=/dev/xvda1 console=hvc0</cmdline>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/srv/xen/pv1.img'/>
      <target dev='xvda'/>
    </disk>
    <interface type='bridge'>
      <mac address='00:16:3e:12:34:56'/>
      <source bridge='xenbr0'/>
    </interface>
  </devices>
</domain>
";

pub(crate) const PVH: &str = "<domain type='xen'>
  <name>pvh1</name>
  <uuid>1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f</uuid>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu current='1'>2</vcpu>
  <os>
    <type arch='x86_64' machine='xenpvh'>xenpvh</type>
    <kernel>/boot/vmlinuz-pvh</kernel>
    <cmdline>console=hvc0</cmdline>
  </os>
  <devices>
    <disk type='block' device='disk'>
      <driver name='phy'/>
      <source dev='/dev/vg0/pvh1'/>
      <target dev='xvda' bus='xen'/>
    </disk>
  </devices>
</domain>
";

pub(crate) const HVM: &str = "<domain type='xen'>
  <name>hvm1</name>
  <uuid>6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d</uuid>
  <memory unit='GiB'>2</memory>
  <vcpu placement='static' cpuset='0-3'>4</vcpu>
  <os>
    <type arch='x86_64' machine='xenfv'>hvm</type>
    <loader type='rom'>/usr/lib/xen/boot/hvmloader</loader>
    <boot dev='cdrom'/>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <hap state='on'/>
  </features>
  <clock offset='localtime'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>preserve</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <source file='/srv/xen/hvm1.img'/>
      <target dev='hda' bus='ide'/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='/srv/iso/install.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <interface type='bridge'>
      <mac address='00:16:3e:aa:bb:cc'/>
      <source bridge='xenbr0'/>
      <model type='e1000'/>
    </interface>
    <serial type='pty'>
      <target port='0'/>
    </serial>
    <input type='tablet' bus='usb'/>
    <graphics type='vnc' port='5901' autoport='no' listen='0.0.0.0' passwd='s3cret'/>
  </devices>
</domain>
";

fn parse(xml: &str) -> DomainDef {
    match parse_domain_xml(xml, ParseFlags { inactive: true, validate: false }) {
        Ok(d) => d,
        Err(e) => panic!("parse failed: {e}"),
    }
}

fn inactive() -> FormatFlags {
    FormatFlags { inactive: true, ..FormatFlags::default() }
}

fn secure_inactive() -> FormatFlags {
    FormatFlags { inactive: true, secure: true, ..FormatFlags::default() }
}

fn assert_round_trip(xml: &str, flags: FormatFlags) {
    let def = parse(xml);
    let out = format_domain_xml(&def, None, flags);
    let again = parse(&out);
    assert_eq!(def, again, "formatted XML:\n{out}");
    assert_eq!(out, format_domain_xml(&again, None, flags));
}

#[test]
fn round_trip_pv_is_stable() {
    assert_round_trip(PV, inactive());
}

#[test]
fn round_trip_pvh_is_stable() {
    assert_round_trip(PVH, inactive());
}

#[test]
fn round_trip_hvm_is_stable() {
    assert_round_trip(HVM, secure_inactive());
}

#[test]
fn format_pv_writes_linux_os_type_and_xenpv_machine() {
    let out = format_domain_xml(&parse(PV), None, inactive());
    assert!(out.contains("<type arch='x86_64' machine='xenpv'>linux</type>"), "{out}");
}

#[test]
fn format_pv_matches_libvirt_layout() {
    let out = format_domain_xml(&parse(PV), None, inactive());
    let expected = "<domain type='xen'>
  <name>pv1</name>
  <uuid>8f5c8e2a-1b3d-4c6e-9a7b-2d4f6e8a0c1e</uuid>
  <memory unit='KiB'>524288</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='xenpv'>linux</type>
    <kernel>/boot/vmlinuz-pv</kernel>
    <initrd>/boot/initrd-pv</initrd>
    <cmdline>root=/dev/xvda1 console=hvc0</cmdline>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/srv/xen/pv1.img'/>
      <target dev='xvda' bus='xen'/>
    </disk>
    <controller type='xenbus' index='0'/>
    <interface type='bridge'>
      <mac address='00:16:3e:12:34:56'/>
      <source bridge='xenbr0'/>
    </interface>
    <console type='pty'>
      <target type='xen' port='0'/>
    </console>
    <input type='mouse' bus='xen'/>
    <input type='keyboard' bus='xen'/>
    <memballoon model='xen'/>
  </devices>
</domain>
";
    assert_eq!(out, expected);
}

#[test]
fn defaults_lifecycle_actions_are_libvirts() {
    let def = parse(PV);
    assert_eq!(def.on_poweroff, LifecycleAction::Destroy);
    assert_eq!(def.on_reboot, LifecycleAction::Restart);
    assert_eq!(def.on_crash, LifecycleAction::Destroy);
}

#[test]
fn defaults_current_memory_equals_memory() {
    let def = parse(PV);
    assert_eq!(def.memory_kib, 512 * 1024);
    assert_eq!(def.current_memory_kib, def.memory_kib);
}

#[test]
fn defaults_vcpu_current_equals_max_and_placement_static() {
    let def = parse(PV);
    assert_eq!(def.vcpus(), 2);
    assert_eq!(def.vcpu.placement, crate::libxl::domain_def::Placement::Static);
}

#[test]
fn defaults_pv_gets_xen_console() {
    let def = parse(PV);
    assert_eq!(def.devices.consoles.len(), 1);
    assert_eq!(def.devices.consoles[0].chr_type, ChrType::Pty);
    assert_eq!(def.devices.consoles[0].console_target, Some(ConsoleTarget::Xen));
}

#[test]
fn defaults_hvm_console_mirrors_first_serial() {
    let def = parse(HVM);
    assert_eq!(def.devices.consoles.len(), 1);
    assert_eq!(def.devices.consoles[0].console_target, Some(ConsoleTarget::Serial));
    let out = format_domain_xml(&def, None, inactive());
    assert!(out.contains("<console type='pty'>\n      <target type='serial' port='0'/>"), "{out}");
}

#[test]
fn defaults_inputs_and_balloon_added() {
    let def = parse(HVM);
    let has = |t, b| def.devices.inputs.iter().any(|i| i.input_type == t && i.bus == b);
    assert!(has(InputType::Mouse, InputBus::Ps2));
    assert!(has(InputType::Keyboard, InputBus::Ps2));
    assert!(has(InputType::Tablet, InputBus::Usb));
    assert_eq!(def.devices.memballoon.as_ref().map(|m| m.model), Some(MemballoonModel::Xen));
}

#[test]
fn defaults_hvm_gets_pae_and_cirrus_video() {
    let def = parse(HVM);
    assert!(def.features.pae);
    assert_eq!(def.devices.videos.len(), 1);
    assert_eq!(def.devices.videos[0].video_type, Some(VideoType::Cirrus));
    assert_eq!(def.devices.videos[0].vram, 8192);
}

#[test]
fn defaults_missing_mac_is_generated_under_xen_prefix() {
    let xml = PV.replace("      <mac address='00:16:3e:12:34:56'/>\n", "");
    let def = parse(&xml);
    assert_eq!(&def.devices.nets[0].mac[..3], &[0x00, 0x16, 0x3e]);
}

#[test]
fn defaults_missing_uuid_is_generated() {
    let xml = PV.replace("  <uuid>8f5c8e2a-1b3d-4c6e-9a7b-2d4f6e8a0c1e</uuid>\n", "");
    let a = parse(&xml);
    let b = parse(&xml);
    assert_ne!(a.uuid, b.uuid);
    assert_eq!(a.uuid[6] >> 4, 4);
}

#[test]
fn defaults_disk_format_raw_and_bus_from_name() {
    let def = parse(HVM);
    assert_eq!(def.devices.disks[0].format, Some(crate::libxl::domain_dev::DiskFormat::Raw));
    assert_eq!(def.devices.disks[0].bus, Some(crate::libxl::domain_dev::DiskBus::Ide));
}

#[test]
fn parse_os_type_xen_is_pv() {
    let def = parse(&PV.replace("<type>linux</type>", "<type>xen</type>"));
    assert!(def.is_pv());
    assert_eq!(def.os.os_type, OsType::Xen);
}

#[test]
fn format_passwd_hidden_without_secure() {
    let def = parse(HVM);
    assert!(!format_domain_xml(&def, None, inactive()).contains("s3cret"));
    assert!(format_domain_xml(&def, None, secure_inactive()).contains("passwd='s3cret'"));
}

#[test]
fn format_running_id_written_unless_inactive() {
    let def = parse(PV);
    assert!(format_domain_xml(&def, Some(7), FormatFlags::default()).starts_with("<domain type='xen' id='7'>\n"));
    assert!(format_domain_xml(&def, Some(7), inactive()).starts_with("<domain type='xen'>\n"));
}

#[test]
fn format_metadata_kept_per_namespace() {
    let xml = PV.replace(
        "  <memory",
        "  <metadata>\n    <app:info xmlns:app='http://example.org/app'><app:v>1</app:v></app:info>\n  </metadata>\n  <memory",
    );
    let out = format_domain_xml(&parse(&xml), None, inactive());
    assert!(out.contains("<app:info xmlns:app=\"http://example.org/app\">"), "{out}");
    assert_round_trip(&xml, inactive());
}

#[test]
fn status_round_trip_keeps_id_state_and_reason() {
    let def = parse(HVM);
    let xml = format_status_xml(&def, 12, DomainState::Running, 1);
    assert!(xml.starts_with("<domstatus state='running' reason='booted' pid='0'>\n  <domain type='xen' id='12'>\n"), "{xml}");
    let (back, id, state, reason) = match parse_status_xml(&xml) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    assert_eq!((id, state, reason), (12, DomainState::Running, 1));
    assert_eq!(back.name, def.name);
    assert_eq!(back.uuid, def.uuid);
    assert_eq!(back.devices, def.devices);
}

#[test]
fn status_keeps_pty_path_and_passwd() {
    let mut def = parse(PV);
    def.devices.consoles[0].path = Some("/dev/pts/3".into());
    let xml = format_status_xml(&def, 3, DomainState::Paused, 1);
    assert!(xml.contains("<source path='/dev/pts/3'/>"), "{xml}");
    let back = match parse_status_xml(&xml) {
        Ok(v) => v.0,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(back.devices.consoles[0].path.as_deref(), Some("/dev/pts/3"));
}

#[test]
fn status_lock_state_round_trips() {
    let def = parse(PV);
    let st = crate::libxl::domain_def::DomainStatus {
        state: DomainState::Running,
        reason: 1,
        pid: 0,
        lock_process_running: true,
        lock_state: Some("lease-data".into()),
        def: crate::libxl::domain_def::DomainDef { id: 4, ..def },
    };
    let xml = status::format_status(&st);
    assert!(xml.contains("  <lockstate>lease-data</lockstate>\n  <lockProcessRunning/>\n"), "{xml}");
    match status::parse_status(&xml) {
        Ok(back) => assert_eq!(back, st),
        Err(e) => panic!("{e}"),
    }
}
