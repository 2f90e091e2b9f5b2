//! The connection and node procedures (libvirt's remote_daemon_dispatch.c
//! remoteDispatchConnect* and the libxlConnect* / libxlNode* callbacks of libxl_driver.c).

use super::{err, Call, XEN_URI};
use crate::libxl::capabilities;
use crate::libxl::driver::XenDriver;
use crate::libxl::lifecycle::libxl_err;
use crate::remote::domain_proto::*;
use crate::remote::protocol::{
    ConnectOpenArgs, SetIdentityArgs, SupportsFeatureArgs, SupportsFeatureRet, VIR_DRV_FEATURE_FD_PASSING,
    VIR_DRV_FEATURE_PROGRAM_KEEPALIVE, VIR_DRV_FEATURE_REMOTE_CLOSE_CALLBACK, VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK,
};
use crate::rpc::client::CloseReason;
use crate::rpc::protocol::{RemoteError, VIR_ERR_INTERNAL_ERROR, VIR_ERR_INVALID_ARG, VIR_ERR_OPERATION_DENIED, VIR_FROM_RPC};

/// virDrvFeature values every driver answers the same way (driver.c virDriverFeatureIsGlobal).
const VIR_DRV_FEATURE_TYPED_PARAM_STRING: i32 = 7;
const VIR_DRV_FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER: i32 = 16;

impl XenDriver {
    // C: remoteDispatchConnectOpen -> libxlConnectOpen
    pub(super) fn connect_open_call(&mut self, cx: &mut Call<'_>, a: ConnectOpenArgs) -> Result<(), RemoteError> {
        if self.conns.contains_key(&cx.cid) {
            return Err(RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, Some("connection already open")));
        }
        let ro = cx.core.client(cx.cid).is_some_and(|c| c.readonly);
        self.connect_open(cx.cid, a, ro)
    }

    /// Answered before or after open: the reply goes out, then the connection closes.
    // C: remoteDispatchConnectClose (virNetServerClientDelayedClose)
    pub(super) fn connect_close(&mut self, cx: &mut Call<'_>, (): ()) -> Result<(), RemoteError> {
        self.conns.remove(&cx.cid);
        self.events.drop_client(cx.cid);
        cx.core.close_client_after_flush(cx.cid, CloseReason::Client);
        Ok(())
    }

    /// Keepalive is the RPC layer's and is answered (and started) before open too; the
    /// other features need the open connection.
    // C: remoteDispatchConnectSupportsFeature -> libxlConnectSupportsFeature
    pub(super) fn connect_supports_feature(
        &mut self,
        cx: &mut Call<'_>,
        a: SupportsFeatureArgs,
    ) -> Result<SupportsFeatureRet, RemoteError> {
        if a.feature == VIR_DRV_FEATURE_PROGRAM_KEEPALIVE {
            cx.core.start_keepalive(cx.cid);
            return Ok(SupportsFeatureRet { supported: 1 });
        }
        if !self.conns.contains_key(&cx.cid) {
            return Err(super::not_open());
        }
        // Migration features (V3, PARAMS, P2P, CHANGE_PROTECTION in libvirt's driver) are
        // not claimed while virtxend has no migration.
        let supported = matches!(
            a.feature,
            VIR_DRV_FEATURE_FD_PASSING
                | VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK
                | VIR_DRV_FEATURE_REMOTE_CLOSE_CALLBACK
                | VIR_DRV_FEATURE_TYPED_PARAM_STRING
                | VIR_DRV_FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER
        );
        Ok(SupportsFeatureRet { supported: supported as i32 })
    }

    /// A proxy (our virtproxyd) passing on its client's identity; only root or ourselves
    /// may do that.
    // C: remoteDispatchConnectSetIdentity
    pub(super) fn connect_set_identity(&mut self, cx: &mut Call<'_>, a: SetIdentityArgs) -> Result<(), RemoteError> {
        let uid = cx.core.client(cx.cid).and_then(|c| c.identity.uid);
        let me = crate::util::sys::geteuid();
        if uid != Some(0) && uid != Some(me) {
            return Err(RemoteError::new(VIR_ERR_OPERATION_DENIED, VIR_FROM_RPC, Some("Only root can change the identity")));
        }
        log::debug!("client identity set by its proxy: {} parameters", a.params.len());
        Ok(())
    }

    // C: libxlConnectGetType
    pub(super) fn connect_get_type(&mut self, _: &mut Call<'_>, (): ()) -> Result<StringRet, RemoteError> {
        Ok(StringRet { s: "Xen".into() })
    }

    // C: libxlConnectGetVersion
    pub(super) fn connect_get_version(&mut self, _: &mut Call<'_>, (): ()) -> Result<U64Ret, RemoteError> {
        Ok(U64Ret { v: self.version.major.max(0) as u64 * 1_000_000 + self.version.minor.max(0) as u64 * 1000 })
    }

    // C: virConnectGetLibVersion
    pub(super) fn connect_get_lib_version(&mut self, _: &mut Call<'_>, (): ()) -> Result<U64Ret, RemoteError> {
        Ok(U64Ret { v: crate::LIBVIRT_VERSION_NUMBER })
    }

    // C: libxlConnectGetHostname
    pub(super) fn connect_get_hostname(&mut self, _: &mut Call<'_>, (): ()) -> Result<StringRet, RemoteError> {
        Ok(StringRet { s: hostname() })
    }

    // C: virConnectGetURI
    pub(super) fn connect_get_uri(&mut self, _: &mut Call<'_>, (): ()) -> Result<StringRet, RemoteError> {
        Ok(StringRet { s: XEN_URI.into() })
    }

    // C: libxlConnectIsSecure
    pub(super) fn connect_is_secure(&mut self, _: &mut Call<'_>, (): ()) -> Result<IntRet, RemoteError> {
        Ok(IntRet { v: 1 })
    }

    // C: libxlConnectGetMaxVcpus
    pub(super) fn connect_get_max_vcpus(&mut self, _: &mut Call<'_>, a: MaxVcpusArgs) -> Result<IntRet, RemoteError> {
        if let Some(t) = a.type_.filter(|t| !t.eq_ignore_ascii_case("xen")) {
            return Err(err(VIR_ERR_INVALID_ARG, &format!("unknown type '{t}'")));
        }
        let n = self.ctx.max_cpus().map_err(|e| libxl_err("failed to get the maximum number of CPUs", &e))?;
        Ok(IntRet { v: n as i32 })
    }

    // C: libxlNodeGetInfo
    pub(super) fn node_get_info(&mut self, _: &mut Call<'_>, (): ()) -> Result<NodeInfoRet, RemoteError> {
        let phys = self.ctx.physinfo().map_err(|e| libxl_err("libxl_get_physinfo_info failed", &e))?;
        Ok(capabilities::node_info(&phys, self.version.pagesize))
    }

    // C: libxlNodeGetFreeMemory
    pub(super) fn node_get_free_memory(&mut self, _: &mut Call<'_>, (): ()) -> Result<U64Ret, RemoteError> {
        let phys = self.ctx.physinfo().map_err(|e| libxl_err("libxl_get_physinfo_info failed", &e))?;
        Ok(U64Ret { v: phys.free_pages.saturating_mul(self.version.pagesize.max(0) as u64) })
    }

    // C: libxlConnectGetCapabilities
    pub(super) fn connect_get_capabilities(&mut self, _: &mut Call<'_>, (): ()) -> Result<StringRet, RemoteError> {
        self.capabilities_xml().map(|s| StringRet { s }).map_err(|e| libxl_err("failed to get host capabilities", &e))
    }

    // C: libxlConnectGetDomainCapabilities
    pub(super) fn connect_get_domain_capabilities(&mut self, _: &mut Call<'_>, a: DomainCapsArgs) -> Result<StringRet, RemoteError> {
        self.domain_capabilities(a)
    }

    /// No security driver: an empty model and DOI.
    // C: libxlNodeGetSecurityModel
    pub(super) fn node_get_security_model(&mut self, _: &mut Call<'_>, (): ()) -> Result<SecurityModelRet, RemoteError> {
        Ok(SecurityModelRet::default())
    }

    /// The close callback of a direct connection: nothing to do until it closes.
    // C: remoteDispatchConnectRegisterCloseCallback
    pub(super) fn connect_register_close_callback(&mut self, _: &mut Call<'_>, (): ()) -> Result<(), RemoteError> {
        Ok(())
    }

    // C: remoteDispatchConnectUnregisterCloseCallback
    pub(super) fn connect_unregister_close_callback(&mut self, _: &mut Call<'_>, (): ()) -> Result<(), RemoteError> {
        Ok(())
    }
}

/// This host's name.
// C: virGetHostname
fn hostname() -> String {
    crate::util::sys::hostname().unwrap_or_else(|| "localhost".into())
}
