//! Domain configuration, lifecycle, information and console procedures (libvirt's
//! libxlDomain* callbacks of libxl_driver.c; the operations shared by several procedures
//! are in `domain_ops`).

use super::{check_flags, Call, AFFECT_CONFIG, AFFECT_LIVE, MEM_MAXIMUM, VCPU_MAXIMUM};
use crate::libxl::driver::XenDriver;
use crate::remote::domain_proto::*;
use crate::rpc::protocol::RemoteError;

impl XenDriver {
    // C: libxlDomainDefineXML
    pub(super) fn domain_define_xml(&mut self, cx: &mut Call<'_>, a: XmlArgs) -> Result<DomRet, RemoteError> {
        self.define(cx.cid, &a.xml, 0, "virDomainDefineXML")
    }

    // C: libxlDomainDefineXMLFlags
    pub(super) fn domain_define_xml_flags(&mut self, cx: &mut Call<'_>, a: XmlFlagsArgs) -> Result<DomRet, RemoteError> {
        self.define(cx.cid, &a.xml, a.flags, "virDomainDefineXMLFlags")
    }

    // C: libxlDomainUndefine
    pub(super) fn domain_undefine(&mut self, cx: &mut Call<'_>, a: DomArgs) -> Result<(), RemoteError> {
        self.undefine(cx.cid, &a.dom, 0, "virDomainUndefine")
    }

    // C: libxlDomainUndefineFlags
    pub(super) fn domain_undefine_flags(&mut self, cx: &mut Call<'_>, a: DomFlagsArgs) -> Result<(), RemoteError> {
        self.undefine(cx.cid, &a.dom, a.flags, "virDomainUndefineFlags")
    }

    // C: libxlDomainCreate
    pub(super) fn domain_create(&mut self, cx: &mut Call<'_>, a: DomArgs) -> Result<(), RemoteError> {
        self.create(cx.cid, &a.dom, 0, "virDomainCreate").map(|_| ())
    }

    // C: libxlDomainCreateWithFlags
    pub(super) fn domain_create_with_flags(&mut self, cx: &mut Call<'_>, a: DomFlagsArgs) -> Result<DomRet, RemoteError> {
        self.create(cx.cid, &a.dom, a.flags, "virDomainCreateWithFlags").map(|dom| DomRet { dom })
    }

    // C: libxlDomainCreateXML
    pub(super) fn domain_create_xml(&mut self, cx: &mut Call<'_>, a: XmlFlagsArgs) -> Result<DomRet, RemoteError> {
        self.create_xml(cx.cid, &a.xml, a.flags)
    }

    // C: libxlDomainDestroy
    pub(super) fn domain_destroy(&mut self, cx: &mut Call<'_>, a: DomArgs) -> Result<(), RemoteError> {
        self.destroy(cx.cid, &a.dom, 0, "virDomainDestroy")
    }

    // C: libxlDomainDestroyFlags
    pub(super) fn domain_destroy_flags(&mut self, cx: &mut Call<'_>, a: DomFlagsArgs) -> Result<(), RemoteError> {
        self.destroy(cx.cid, &a.dom, a.flags, "virDomainDestroyFlags")
    }

    // C: libxlDomainShutdown
    pub(super) fn domain_shutdown(&mut self, cx: &mut Call<'_>, a: DomArgs) -> Result<(), RemoteError> {
        self.shutdown(cx.cid, &a.dom, 0, "virDomainShutdown")
    }

    // C: libxlDomainShutdownFlags
    pub(super) fn domain_shutdown_flags(&mut self, cx: &mut Call<'_>, a: DomFlagsArgs) -> Result<(), RemoteError> {
        self.shutdown(cx.cid, &a.dom, a.flags, "virDomainShutdownFlags")
    }

    // C: libxlDomainReboot
    pub(super) fn domain_reboot(&mut self, cx: &mut Call<'_>, a: DomFlagsArgs) -> Result<(), RemoteError> {
        self.reboot(cx.cid, &a.dom, a.flags)
    }

    // C: libxlDomainSuspend
    pub(super) fn domain_suspend(&mut self, cx: &mut Call<'_>, a: DomArgs) -> Result<(), RemoteError> {
        self.suspend(cx.cid, &a.dom)
    }

    // C: libxlDomainResume
    pub(super) fn domain_resume(&mut self, cx: &mut Call<'_>, a: DomArgs) -> Result<(), RemoteError> {
        self.resume(cx.cid, &a.dom)
    }

    // C: libxlDomainGetXMLDesc
    pub(super) fn domain_get_xml_desc(&mut self, cx: &mut Call<'_>, a: DomFlagsArgs) -> Result<StringRet, RemoteError> {
        self.xml_desc(cx.cid, &a.dom, a.flags)
    }

    // C: libxlDomainGetAutostart
    pub(super) fn domain_get_autostart(&mut self, _: &mut Call<'_>, a: DomArgs) -> Result<IntRet, RemoteError> {
        Ok(IntRet { v: self.dom(&a.dom)?.autostart as i32 })
    }

    // C: libxlDomainSetAutostart
    pub(super) fn domain_set_autostart(&mut self, cx: &mut Call<'_>, a: SetAutostartArgs) -> Result<(), RemoteError> {
        self.set_autostart(cx.cid, &a.dom, a.autostart != 0)
    }

    // C: libxlDomainSetMemory
    pub(super) fn domain_set_memory(&mut self, cx: &mut Call<'_>, a: SetMemoryArgs) -> Result<(), RemoteError> {
        self.set_memory(cx.cid, &a.dom, a.memory, AFFECT_LIVE, "virDomainSetMemory")
    }

    // C: libxlDomainSetMaxMemory
    pub(super) fn domain_set_max_memory(&mut self, cx: &mut Call<'_>, a: SetMemoryArgs) -> Result<(), RemoteError> {
        self.set_memory(cx.cid, &a.dom, a.memory, MEM_MAXIMUM, "virDomainSetMaxMemory")
    }

    // C: libxlDomainSetMemoryFlags
    pub(super) fn domain_set_memory_flags(&mut self, cx: &mut Call<'_>, a: SetMemoryFlagsArgs) -> Result<(), RemoteError> {
        self.set_memory(cx.cid, &a.dom, a.memory, a.flags, "virDomainSetMemoryFlags")
    }

    /// Opens a stream on the call's serial; guest output follows as STREAM packets.
    // C: remoteDispatchDomainOpenConsole -> libxlDomainOpenConsole
    pub(super) fn domain_open_console(&mut self, cx: &mut Call<'_>, a: OpenConsoleArgs) -> Result<(), RemoteError> {
        self.open_console(cx.core, cx.cid, cx.serial, a)
    }

    // C: libxlDomainGetInfo
    pub(super) fn domain_get_info(&mut self, _: &mut Call<'_>, a: DomArgs) -> Result<DomainInfoRet, RemoteError> {
        self.info(&a.dom)
    }

    // C: libxlDomainGetState
    pub(super) fn domain_get_state(&mut self, _: &mut Call<'_>, a: DomFlagsArgs) -> Result<StateRet, RemoteError> {
        check_flags(a.flags, 0, "libxlDomainGetState")?;
        let o = self.dom(&a.dom)?;
        Ok(StateRet { state: o.state.number(), reason: o.reason })
    }

    // C: libxlDomainGetMaxMemory
    pub(super) fn domain_get_max_memory(&mut self, _: &mut Call<'_>, a: DomArgs) -> Result<U64Ret, RemoteError> {
        Ok(U64Ret { v: self.dom(&a.dom)?.def.memory_kib })
    }

    // C: libxlDomainGetMaxVcpus
    pub(super) fn domain_get_max_vcpus(&mut self, _: &mut Call<'_>, a: DomArgs) -> Result<IntRet, RemoteError> {
        Ok(IntRet { v: self.dom(&a.dom)?.def.vcpu.max as i32 })
    }

    // C: libxlDomainGetVcpusFlags
    pub(super) fn domain_get_vcpus_flags(&mut self, _: &mut Call<'_>, a: DomFlagsArgs) -> Result<IntRet, RemoteError> {
        check_flags(a.flags, AFFECT_LIVE | AFFECT_CONFIG | VCPU_MAXIMUM, "libxlDomainGetVcpusFlags")?;
        let o = self.dom(&a.dom)?;
        let def = if a.flags & AFFECT_CONFIG != 0 { o.persistent_def() } else { &o.def };
        Ok(IntRet { v: if a.flags & VCPU_MAXIMUM != 0 { def.vcpu.max } else { def.vcpus() } as i32 })
    }

    // C: libxlDomainGetOSType
    pub(super) fn domain_get_os_type(&mut self, _: &mut Call<'_>, a: DomArgs) -> Result<StringRet, RemoteError> {
        Ok(StringRet { s: self.dom(&a.dom)?.def.os.os_type.as_str().to_string() })
    }

    // C: libxlDomainIsActive
    pub(super) fn domain_is_active(&mut self, _: &mut Call<'_>, a: DomArgs) -> Result<IntRet, RemoteError> {
        Ok(IntRet { v: self.dom(&a.dom)?.is_active() as i32 })
    }

    // C: libxlDomainIsPersistent
    pub(super) fn domain_is_persistent(&mut self, _: &mut Call<'_>, a: DomArgs) -> Result<IntRet, RemoteError> {
        Ok(IntRet { v: self.dom(&a.dom)?.persistent as i32 })
    }

    /// Live changes never leave the persistent config behind here: always 0.
    // C: libxlDomainIsUpdated
    pub(super) fn domain_is_updated(&mut self, _: &mut Call<'_>, a: DomArgs) -> Result<IntRet, RemoteError> {
        self.find(&a.dom)?;
        Ok(IntRet { v: 0 })
    }

    // C: libxlDomainHasManagedSaveImage
    pub(super) fn domain_has_managed_save_image(&mut self, _: &mut Call<'_>, a: DomFlagsArgs) -> Result<IntRet, RemoteError> {
        check_flags(a.flags, 0, "libxlDomainHasManagedSaveImage")?;
        let o = self.dom(&a.dom)?;
        Ok(IntRet { v: self.paths.managed_save_file(&o.def.name).exists() as i32 })
    }
}
