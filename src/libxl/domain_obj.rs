//! The driver's domains: one `DomainObj` per defined or running domain and the list that
//! finds them by name, UUID and id (libvirt's conf/virdomainobjlist.c and the virDomainObj
//! parts of conf/domain_conf.c).

use super::domain_def::{DomainDef, DomainState};
use crate::libxl_ffi::DeathWatch;

/// One domain the driver knows.
pub struct DomainObj {
    /// The running definition while active, else the persistent one.
    pub def: DomainDef,
    /// The persistent definition waiting for the next start while the domain runs with
    /// `def` (virDomainObj.newDef); None when they are the same.
    pub new_def: Option<DomainDef>,
    pub state: DomainState,
    /// Index into `state.reasons()`.
    pub reason: i32,
    pub persistent: bool,
    pub autostart: bool,
    /// DOMAIN_SHUTDOWN/DEATH events of the running domain.
    pub death: Option<DeathWatch>,
}

impl DomainObj {
    pub fn new(def: DomainDef, persistent: bool) -> DomainObj {
        DomainObj { def, new_def: None, state: DomainState::Shutoff, reason: 0, persistent, autostart: false, death: None }
    }

    // C: virDomainObjIsActive
    pub fn is_active(&self) -> bool {
        self.def.id != -1
    }

    pub fn id(&self) -> i32 {
        self.def.id
    }

    pub fn name(&self) -> &str {
        &self.def.name
    }

    /// The definition a restart or the next start uses (virDomainObjGetPersistentDef).
    pub fn persistent_def(&self) -> &DomainDef {
        self.new_def.as_ref().unwrap_or(&self.def)
    }

    // C: virDomainObjSetState
    pub fn set_state(&mut self, state: DomainState, reason: i32) {
        self.state = state;
        self.reason = reason;
    }

    /// Domain-0 is synthesised by the driver and refuses most operations.
    pub fn is_dom0(&self) -> bool {
        self.def.id == 0
    }
}

/// All domains, in definition order (listing order is by id/name, as clients sort anyway).
#[derive(Default)]
pub struct DomainList {
    objs: Vec<DomainObj>,
}

impl DomainList {
    pub fn new() -> DomainList {
        DomainList { objs: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.objs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &DomainObj> {
        self.objs.iter()
    }

    // C: virDomainObjListFindByName
    pub fn by_name(&self, name: &str) -> Option<usize> {
        self.objs.iter().position(|o| o.def.name == name)
    }

    // C: virDomainObjListFindByUUID
    pub fn by_uuid(&self, uuid: &[u8; 16]) -> Option<usize> {
        self.objs.iter().position(|o| &o.def.uuid == uuid)
    }

    // C: virDomainObjListFindByID
    pub fn by_id(&self, id: i32) -> Option<usize> {
        if id < 0 {
            return None;
        }
        self.objs.iter().position(|o| o.def.id == id)
    }

    pub fn get(&self, i: usize) -> Option<&DomainObj> {
        self.objs.get(i)
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut DomainObj> {
        self.objs.get_mut(i)
    }

    pub fn push(&mut self, obj: DomainObj) -> usize {
        self.objs.push(obj);
        self.objs.len() - 1
    }

    // C: virDomainObjListRemove
    pub fn remove(&mut self, i: usize) -> Option<DomainObj> {
        (i < self.objs.len()).then(|| self.objs.remove(i))
    }

    /// Checks a new definition against the list the way virDomainObjListAdd does: the
    /// index of the domain it replaces (same name and UUID), None for a new one, or the
    /// error libvirt reports for a clash.
    // C: virDomainObjListAddLocked (the checks)
    pub fn check_new(&self, def: &DomainDef) -> Result<Option<usize>, Clash> {
        if let Some(i) = self.by_uuid(&def.uuid) {
            let o = &self.objs[i];
            if o.def.name != def.name {
                return Err(Clash::UuidOtherName { name: o.def.name.clone(), uuid: def.uuid_string() });
            }
            return Ok(Some(i));
        }
        if let Some(i) = self.by_name(&def.name) {
            return Err(Clash::NameOtherUuid { name: def.name.clone(), uuid: self.objs[i].def.uuid_string() });
        }
        Ok(None)
    }
}

/// Why a definition cannot join the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clash {
    /// The UUID belongs to a domain with another name.
    UuidOtherName { name: String, uuid: String },
    /// The name belongs to a domain with another UUID.
    NameOtherUuid { name: String, uuid: String },
}

impl std::fmt::Display for Clash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Clash::UuidOtherName { name, uuid } => write!(f, "domain '{name}' is already defined with uuid {uuid}"),
            Clash::NameOtherUuid { name, uuid } => write!(f, "domain '{name}' already exists with uuid {uuid}"),
        }
    }
}
