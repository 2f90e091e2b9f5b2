//! Event registrations (libvirt's remoteDispatchConnectDomainEvent* in
//! remote_daemon_dispatch.c; the registry is `domain_event`).

use super::{err, Call};
use crate::libxl::domain_event::{RegError, EVENT_ID_LIFECYCLE};
use crate::libxl::driver::XenDriver;
use crate::remote::domain_proto::*;
use crate::rpc::protocol::{
    RemoteError, VIR_ERR_INTERNAL_ERROR, VIR_ERR_INVALID_ARG, VIR_ERR_OPERATION_FAILED, VIR_FROM_NONE, VIR_FROM_RPC,
};

fn reg_err(e: &RegError) -> RemoteError {
    match e {
        RegError::BadEventId(_) => RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, Some(&e.to_string())),
        _ => RemoteError::new(VIR_ERR_INVALID_ARG, VIR_FROM_NONE, Some(&e.to_string())),
    }
}

impl XenDriver {
    // C: remoteDispatchConnectDomainEventRegister
    pub(super) fn connect_domain_event_register(&mut self, cx: &mut Call<'_>, (): ()) -> Result<IntRet, RemoteError> {
        self.events.register_legacy(cx.cid, EVENT_ID_LIFECYCLE).map_err(|e| err(VIR_ERR_OPERATION_FAILED, &e.to_string()))?;
        Ok(IntRet { v: 1 })
    }

    // C: remoteDispatchConnectDomainEventDeregister
    pub(super) fn connect_domain_event_deregister(&mut self, cx: &mut Call<'_>, (): ()) -> Result<IntRet, RemoteError> {
        self.events.deregister_legacy(cx.cid, EVENT_ID_LIFECYCLE).map_err(|e| err(VIR_ERR_OPERATION_FAILED, &e.to_string()))?;
        Ok(IntRet { v: 0 })
    }

    // C: remoteDispatchConnectDomainEventRegisterAny
    pub(super) fn connect_domain_event_register_any(&mut self, cx: &mut Call<'_>, a: EventIdArgs) -> Result<(), RemoteError> {
        self.events.register_legacy(cx.cid, a.event_id).map_err(|e| reg_err(&e))
    }

    // C: remoteDispatchConnectDomainEventDeregisterAny
    pub(super) fn connect_domain_event_deregister_any(&mut self, cx: &mut Call<'_>, a: EventIdArgs) -> Result<(), RemoteError> {
        self.events.deregister_legacy(cx.cid, a.event_id).map_err(|e| reg_err(&e))
    }

    // C: remoteDispatchConnectDomainEventCallbackRegisterAny
    pub(super) fn connect_domain_event_callback_register_any(
        &mut self,
        cx: &mut Call<'_>,
        a: CallbackRegisterArgs,
    ) -> Result<CallbackRegisterRet, RemoteError> {
        let id = self.events.register_callback(cx.cid, a.event_id, a.dom.map(|x| x.uuid)).map_err(|e| reg_err(&e))?;
        Ok(CallbackRegisterRet { callback_id: id })
    }

    // C: remoteDispatchConnectDomainEventCallbackDeregisterAny
    pub(super) fn connect_domain_event_callback_deregister_any(&mut self, cx: &mut Call<'_>, a: CallbackIdArgs) -> Result<(), RemoteError> {
        self.events.deregister_callback(cx.cid, a.callback_id).map_err(|e| reg_err(&e))
    }
}
