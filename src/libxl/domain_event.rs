//! Domain lifecycle events and the clients' registrations for them (libvirt's
//! conf/domain_event.c and conf/object_event.c, and the event parts of
//! remote/remote_daemon_dispatch.c that turn them into REMOTE messages).

use super::domain_obj::DomainObj;
use crate::remote::domain_proto::{CallbackLifecycleMsg, LifecycleMsg, NonnullDomain};
use crate::rpc::netdaemon::ClientId;

// virDomainEventType and the details the driver emits.
pub const EVENT_DEFINED: i32 = 0;
pub const EVENT_UNDEFINED: i32 = 1;
pub const EVENT_STARTED: i32 = 2;
pub const EVENT_SUSPENDED: i32 = 3;
pub const EVENT_RESUMED: i32 = 4;
pub const EVENT_STOPPED: i32 = 5;
pub const DEFINED_ADDED: i32 = 0;
pub const DEFINED_UPDATED: i32 = 1;
pub const UNDEFINED_REMOVED: i32 = 0;
pub const STARTED_BOOTED: i32 = 0;
pub const SUSPENDED_PAUSED: i32 = 0;
pub const RESUMED_UNPAUSED: i32 = 0;
pub const STOPPED_SHUTDOWN: i32 = 0;
pub const STOPPED_DESTROYED: i32 = 1;
pub const STOPPED_CRASHED: i32 = 2;
pub const STOPPED_FAILED: i32 = 5;

/// VIR_DOMAIN_EVENT_ID_LIFECYCLE.
pub const EVENT_ID_LIFECYCLE: i32 = 0;
/// VIR_DOMAIN_EVENT_ID_LAST of libvirt 9.0: ids at or above it are refused.
pub const EVENT_ID_LAST: i32 = 27;

/// One lifecycle event, ready to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleEvent {
    pub dom: NonnullDomain,
    pub event: i32,
    pub detail: i32,
}

impl LifecycleEvent {
    // C: virDomainEventLifecycleNewFromObj
    pub fn of(obj: &DomainObj, event: i32, detail: i32) -> LifecycleEvent {
        LifecycleEvent { dom: nonnull(obj), event, detail }
    }
}

/// The wire name of a domain.
pub fn nonnull(obj: &DomainObj) -> NonnullDomain {
    NonnullDomain { name: obj.def.name.clone(), uuid: obj.def.uuid, id: obj.def.id }
}

/// How a client registered.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// virConnectDomainEventRegister / RegisterAny without callback ids: messages
    /// REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE.
    Legacy,
    /// virConnectDomainEventRegisterAny with callback ids (REMOTE_EVENT_CALLBACK):
    /// REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE carrying the id, optionally filtered by domain.
    Callback { id: i32, uuid: Option<[u8; 16]> },
}

#[derive(Debug, Clone)]
struct Registration {
    client: ClientId,
    event_id: i32,
    kind: Kind,
}

/// What to send to one client for one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Legacy(LifecycleMsg),
    Callback(CallbackLifecycleMsg),
}

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegError {
    BadEventId(i32),
    AlreadyRegistered,
    NotRegistered,
    NoCallback(i32),
}

impl std::fmt::Display for RegError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegError::BadEventId(id) => write!(f, "unsupported event ID {id}"),
            RegError::AlreadyRegistered => write!(f, "domain event is already registered"),
            RegError::NotRegistered => write!(f, "domain event is not registered"),
            RegError::NoCallback(id) => write!(f, "domain event callback {id} not registered"),
        }
    }
}

/// Every client's registrations; callback ids are daemon-wide and never reused.
#[derive(Default)]
pub struct EventRegistry {
    regs: Vec<Registration>,
    next_id: i32,
}

impl EventRegistry {
    pub fn new() -> EventRegistry {
        EventRegistry { regs: Vec::new(), next_id: 1 }
    }

    fn check_id(event_id: i32) -> Result<(), RegError> {
        if (0..EVENT_ID_LAST).contains(&event_id) {
            Ok(())
        } else {
            Err(RegError::BadEventId(event_id))
        }
    }

    /// Legacy registration of one event id (REGISTER uses the lifecycle id).
    // C: remoteDispatchConnectDomainEventRegisterAny
    pub fn register_legacy(&mut self, client: ClientId, event_id: i32) -> Result<(), RegError> {
        Self::check_id(event_id)?;
        if self.regs.iter().any(|r| r.client == client && r.event_id == event_id && r.kind == Kind::Legacy) {
            return Err(RegError::AlreadyRegistered);
        }
        self.regs.push(Registration { client, event_id, kind: Kind::Legacy });
        Ok(())
    }

    // C: remoteDispatchConnectDomainEventDeregisterAny
    pub fn deregister_legacy(&mut self, client: ClientId, event_id: i32) -> Result<(), RegError> {
        Self::check_id(event_id)?;
        let before = self.regs.len();
        self.regs.retain(|r| !(r.client == client && r.event_id == event_id && r.kind == Kind::Legacy));
        if self.regs.len() == before {
            return Err(RegError::NotRegistered);
        }
        Ok(())
    }

    // C: remoteDispatchConnectDomainEventCallbackRegisterAny
    pub fn register_callback(&mut self, client: ClientId, event_id: i32, uuid: Option<[u8; 16]>) -> Result<i32, RegError> {
        Self::check_id(event_id)?;
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        self.regs.push(Registration { client, event_id, kind: Kind::Callback { id, uuid } });
        Ok(id)
    }

    // C: remoteDispatchConnectDomainEventCallbackDeregisterAny
    pub fn deregister_callback(&mut self, client: ClientId, callback_id: i32) -> Result<(), RegError> {
        let before = self.regs.len();
        self.regs.retain(|r| !(r.client == client && matches!(r.kind, Kind::Callback { id, .. } if id == callback_id)));
        if self.regs.len() == before {
            return Err(RegError::NoCallback(callback_id));
        }
        Ok(())
    }

    /// Forgets a client that went away (or closed its connection).
    pub fn drop_client(&mut self, client: ClientId) {
        self.regs.retain(|r| r.client != client);
    }

    pub fn count(&self) -> usize {
        self.regs.len()
    }

    /// Who gets what for a lifecycle event.
    // C: virObjectEventStateDispatch (the filtering part)
    pub fn deliveries(&self, ev: &LifecycleEvent) -> Vec<(ClientId, Delivery)> {
        let msg = LifecycleMsg { dom: ev.dom.clone(), event: ev.event, detail: ev.detail };
        self.regs
            .iter()
            .filter(|r| r.event_id == EVENT_ID_LIFECYCLE)
            .filter_map(|r| match &r.kind {
                Kind::Legacy => Some((r.client, Delivery::Legacy(msg.clone()))),
                Kind::Callback { id, uuid } => match uuid {
                    Some(u) if u != &ev.dom.uuid => None,
                    _ => Some((r.client, Delivery::Callback(CallbackLifecycleMsg { callback_id: *id, msg: msg.clone() }))),
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid(idx: u32) -> ClientId {
        ClientId { srv: 0, idx, gen: 0 }
    }

    fn ev(uuid: u8) -> LifecycleEvent {
        LifecycleEvent { dom: NonnullDomain { name: "g".into(), uuid: [uuid; 16], id: 3 }, event: EVENT_STARTED, detail: STARTED_BOOTED }
    }

    #[test]
    fn register_callback_out_of_range_id_is_refused() {
        let mut r = EventRegistry::new();
        assert_eq!(r.register_callback(cid(1), EVENT_ID_LAST, None), Err(RegError::BadEventId(EVENT_ID_LAST)));
        assert_eq!(r.register_callback(cid(1), -1, None), Err(RegError::BadEventId(-1)));
    }

    #[test]
    fn callback_ids_are_distinct_and_filtered_by_uuid() {
        let mut r = EventRegistry::new();
        let a = r.register_callback(cid(1), EVENT_ID_LIFECYCLE, None).unwrap();
        let b = r.register_callback(cid(2), EVENT_ID_LIFECYCLE, Some([9; 16])).unwrap();
        assert_ne!(a, b);
        assert_eq!(r.deliveries(&ev(1)).len(), 1);
        assert_eq!(r.deliveries(&ev(9)).len(), 2);
    }

    #[test]
    fn non_lifecycle_registrations_get_no_lifecycle_event() {
        let mut r = EventRegistry::new();
        r.register_callback(cid(1), 5, None).unwrap();
        assert!(r.deliveries(&ev(1)).is_empty());
    }

    #[test]
    fn legacy_double_registration_is_refused() {
        let mut r = EventRegistry::new();
        r.register_legacy(cid(1), 0).unwrap();
        assert_eq!(r.register_legacy(cid(1), 0), Err(RegError::AlreadyRegistered));
        r.deregister_legacy(cid(1), 0).unwrap();
        assert_eq!(r.deregister_legacy(cid(1), 0), Err(RegError::NotRegistered));
    }

    #[test]
    fn deregister_other_clients_callback_fails() {
        let mut r = EventRegistry::new();
        let a = r.register_callback(cid(1), 0, None).unwrap();
        assert_eq!(r.deregister_callback(cid(2), a), Err(RegError::NoCallback(a)));
        r.deregister_callback(cid(1), a).unwrap();
        assert_eq!(r.count(), 0);
    }

    #[test]
    fn dropped_client_receives_nothing() {
        let mut r = EventRegistry::new();
        r.register_legacy(cid(1), 0).unwrap();
        r.register_callback(cid(1), 0, None).unwrap();
        r.drop_client(cid(1));
        assert!(r.deliveries(&ev(1)).is_empty());
    }
}
