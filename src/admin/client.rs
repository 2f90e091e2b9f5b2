//! Admin procedures on the clients of a server: listing, lookup, identity and forced
//! close (admin/admin_server.c adminServerListClients, adminClientGetInfo, adminClientClose;
//! rpc/virnetserver.c virNetServerGetClients / virNetServerGetClient).

use super::error::AdminError;
use super::params;
use super::protocol::*;
use crate::rpc::client::{Client, Identity, Transport};
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::protocol::ADMIN_CLIENT_LIST_MAX;
use crate::xdr::{TypedParam, TypedParamValue};

// C: VIR_CLIENT_INFO_* (include/libvirt/libvirt-admin.h)
pub const VIR_CLIENT_INFO_READONLY: &str = "readonly";
pub const VIR_CLIENT_INFO_SOCKET_ADDR: &str = "sock_addr";
pub const VIR_CLIENT_INFO_SASL_USER_NAME: &str = "sasl_user_name";
pub const VIR_CLIENT_INFO_X509_DISTINGUISHED_NAME: &str = "tls_x509_dname";
pub const VIR_CLIENT_INFO_UNIX_USER_ID: &str = "unix_user_id";
pub const VIR_CLIENT_INFO_UNIX_USER_NAME: &str = "unix_user_name";
pub const VIR_CLIENT_INFO_UNIX_GROUP_ID: &str = "unix_group_id";
pub const VIR_CLIENT_INFO_UNIX_GROUP_NAME: &str = "unix_group_name";
pub const VIR_CLIENT_INFO_UNIX_PROCESS_ID: &str = "unix_process_id";
pub const VIR_CLIENT_INFO_SELINUX_CONTEXT: &str = "selinux_context";

/// The live clients of server `srv`, oldest first (libvirt keeps them in connection order).
fn clients_of(core: &Core, srv: usize) -> Vec<(ClientId, &Client)> {
    let mut v: Vec<(ClientId, &Client)> = core.clients().filter(|(_, c)| c.server == srv && c.closed.is_none()).collect();
    v.sort_by_key(|(_, c)| c.id);
    v
}

fn find_client(core: &Core, srv: usize, id: u64) -> Option<(ClientId, &Client)> {
    clients_of(core, srv).into_iter().find(|(_, c)| c.id == id)
}

// C: make_nonnull_client + make_nonnull_server
fn nonnull(core: &Core, c: &Client) -> NonnullClient {
    NonnullClient {
        srv: NonnullServer { name: core.servers[c.server].name.clone() },
        id: c.id,
        timestamp: c.conn_time,
        transport: c.transport as u32,
    }
}

// C: adminServerListClients
pub fn list(core: &Core, a: ListClientsArgs) -> Result<ListClientsRet, AdminError> {
    let srv = super::server::find(core, &a.srv.name)?;
    params::check_flags(a.flags, "adminServerListClients")?;
    let all = clients_of(core, srv);
    let (clients, ret) =
        params::listed(all.len(), a.need_results, "client", ADMIN_CLIENT_LIST_MAX, || all.iter().map(|(_, c)| nonnull(core, c)).collect())?;
    Ok(ListClientsRet { clients, ret })
}

// C: adminServerLookupClient
pub fn lookup(core: &Core, a: LookupClientArgs) -> Result<LookupClientRet, AdminError> {
    let srv = super::server::find(core, &a.srv.name)?;
    params::check_flags(a.flags, "adminServerLookupClient")?;
    let (_, c) = find_client(core, srv, a.id).ok_or(AdminError::NoClientWithId(a.id))?;
    Ok(LookupClientRet { clnt: nonnull(core, c) })
}

// C: adminDispatchClientGetInfo + adminClientGetInfo
pub fn get_info(core: &Core, a: ClientArgs) -> Result<ClientInfoRet, AdminError> {
    let srv = super::server::find_matching(core, &a.clnt.srv.name)?;
    let (_, c) = find_client(core, srv, a.clnt.id).ok_or(AdminError::NoClientMatching(a.clnt.id))?;
    params::check_flags(a.flags, "adminClientGetInfo")?;
    let local = c.transport == Transport::Unix;
    Ok(ClientInfoRet { params: info_params(c.readonly, local, c.sock_addr.as_deref(), &c.identity) })
}

/// The client to close; the caller answers first, then closes it.
// C: adminClientClose
pub fn close_target(core: &Core, a: ClientArgs) -> Result<ClientId, AdminError> {
    let srv = super::server::find(core, &a.clnt.srv.name)?;
    let (cid, _) = find_client(core, srv, a.clnt.id).ok_or(AdminError::NoClientWithId(a.clnt.id))?;
    params::check_flags(a.flags, "adminClientClose")?;
    Ok(cid)
}

/// The identity parameters of a client, in libvirt's order: read-only flag, SASL user, then
/// for a network client its address and certificate name, for a local one its UNIX
/// credentials, and last its SELinux context. Absent facts are left out.
// C: adminClientGetInfo
pub fn info_params(readonly: bool, local: bool, sock_addr: Option<&str>, id: &Identity) -> Vec<TypedParam> {
    let string = |name: &str, v: &str| TypedParam::new(name, TypedParamValue::String(v.to_string()));
    let mut p = vec![TypedParam::new(VIR_CLIENT_INFO_READONLY, TypedParamValue::Boolean(readonly))];
    if let Some(u) = &id.sasl_user {
        p.push(string(VIR_CLIENT_INFO_SASL_USER_NAME, u));
    }
    if !local {
        if let Some(a) = sock_addr {
            p.push(string(VIR_CLIENT_INFO_SOCKET_ADDR, &uri_addr(a)));
        }
        if let Some(dn) = &id.x509_dn {
            p.push(string(VIR_CLIENT_INFO_X509_DISTINGUISHED_NAME, dn));
        }
    } else {
        // libvirt passes uid_t/gid_t through an int.
        if let Some(uid) = id.uid {
            p.push(TypedParam::new(VIR_CLIENT_INFO_UNIX_USER_ID, TypedParamValue::Int(uid as i32)));
        }
        if let Some(n) = &id.user_name {
            p.push(string(VIR_CLIENT_INFO_UNIX_USER_NAME, n));
        }
        if let Some(gid) = id.gid {
            p.push(TypedParam::new(VIR_CLIENT_INFO_UNIX_GROUP_ID, TypedParamValue::Int(gid as i32)));
        }
        if let Some(n) = &id.group_name {
            p.push(string(VIR_CLIENT_INFO_UNIX_GROUP_NAME, n));
        }
        if let Some(pid) = id.pid {
            p.push(TypedParam::new(VIR_CLIENT_INFO_UNIX_PROCESS_ID, TypedParamValue::Int(pid)));
        }
    }
    if let Some(ctx) = &id.selinux_context {
        p.push(string(VIR_CLIENT_INFO_SELINUX_CONTEXT, ctx));
    }
    p
}

/// A peer address kept in SASL's `host;port` form, as libvirt shows it to admins:
/// `host:port`, with an IPv6 host in brackets.
// C: virSocketAddrFormatFull (separator NULL)
pub fn uri_addr(addr: &str) -> String {
    match addr.rsplit_once(';') {
        Some((host, port)) if host.contains(':') => format!("[{host}]:{port}"),
        Some((host, port)) => format!("{host}:{port}"),
        None => addr.to_string(),
    }
}
