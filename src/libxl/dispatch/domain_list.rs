//! Domain lookup and listing (libvirt's libxlConnectListDomains, libxlConnectNumOfDomains,
//! libxlConnectListDefinedDomains, libxlConnectNumOfDefinedDomains,
//! libxlConnectListAllDomains and libxlDomainLookupBy* in libxl_driver.c).

use super::{no_domain, uuid_str, Call};
use crate::libxl::driver::XenDriver;
use crate::remote::domain_proto::*;
use crate::rpc::protocol::RemoteError;

impl XenDriver {
    // C: libxlConnectListDomains
    pub(super) fn connect_list_domains(&mut self, _: &mut Call<'_>, a: MaxArgs) -> Result<ListIdsRet, RemoteError> {
        let max = a.max.clamp(0, REMOTE_DOMAIN_LIST_MAX as i32) as usize;
        let ids = self.doms.iter().filter(|o| o.is_active()).map(|o| o.id()).take(max).collect();
        Ok(ListIdsRet { ids })
    }

    // C: libxlConnectNumOfDomains
    pub(super) fn connect_num_of_domains(&mut self, _: &mut Call<'_>, (): ()) -> Result<IntRet, RemoteError> {
        Ok(IntRet { v: self.doms.iter().filter(|o| o.is_active()).count() as i32 })
    }

    // C: libxlConnectListDefinedDomains
    pub(super) fn connect_list_defined_domains(&mut self, _: &mut Call<'_>, a: MaxArgs) -> Result<ListNamesRet, RemoteError> {
        let max = a.max.clamp(0, REMOTE_DOMAIN_LIST_MAX as i32) as usize;
        let names = self.doms.iter().filter(|o| !o.is_active()).map(|o| o.def.name.clone()).take(max).collect();
        Ok(ListNamesRet { names })
    }

    // C: libxlConnectNumOfDefinedDomains
    pub(super) fn connect_num_of_defined_domains(&mut self, _: &mut Call<'_>, (): ()) -> Result<IntRet, RemoteError> {
        Ok(IntRet { v: self.doms.iter().filter(|o| !o.is_active()).count() as i32 })
    }

    // C: libxlConnectListAllDomains
    pub(super) fn connect_list_all_domains(&mut self, _: &mut Call<'_>, a: ListAllArgs) -> Result<ListAllRet, RemoteError> {
        self.list_all(a)
    }

    // C: libxlDomainLookupByID
    pub(super) fn domain_lookup_by_id(&mut self, _: &mut Call<'_>, a: LookupIdArgs) -> Result<DomRet, RemoteError> {
        let i = self.doms.by_id(a.id).ok_or_else(|| no_domain(format!("no domain with matching id {}", a.id)))?;
        Ok(DomRet { dom: self.nn(i)? })
    }

    // C: libxlDomainLookupByName
    pub(super) fn domain_lookup_by_name(&mut self, _: &mut Call<'_>, a: LookupNameArgs) -> Result<DomRet, RemoteError> {
        let i = self.doms.by_name(&a.name).ok_or_else(|| no_domain(format!("no domain with matching name '{}'", a.name)))?;
        Ok(DomRet { dom: self.nn(i)? })
    }

    // C: libxlDomainLookupByUUID
    pub(super) fn domain_lookup_by_uuid(&mut self, _: &mut Call<'_>, a: LookupUuidArgs) -> Result<DomRet, RemoteError> {
        let i = self.doms.by_uuid(&a.uuid).ok_or_else(|| no_domain(format!("no domain with matching uuid '{}'", uuid_str(&a.uuid))))?;
        Ok(DomRet { dom: self.nn(i)? })
    }
}
