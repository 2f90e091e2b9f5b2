//! virtxend's connections to the secondary-driver daemons (virtnetworkd, virtstoraged,
//! virtnodedevd, virtsecretd, virtinterfaced, virtnwfilterd): opened lazily, one per client
//! and family, as libvirt's remote/remote_daemon_dispatch.c remoteGetNetworkConn & co do.
//!
//! Where libvirt re-issues each call through its client library, we relay the frames with
//! the relay virtproxyd uses (`remote::relay`): each link belongs to one client, so serials,
//! event callback ids and stream serials pass through unchanged; client packets wait while
//! the open handshake runs. When a daemon goes away, the client's calls and streams on that
//! link fail; its Xen calls go on, and the next call of that family opens a new link.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use log::debug;

use super::forward_class::Family;
use crate::poll::Readiness;
use crate::remote::protocol::VIR_CONNECT_RO;
use crate::remote::relay::{LinkKey, LinkState, OpenSpec, Relay, RelayEvent};
use crate::remote::sockets;
use crate::rpc::message::Packet;
use crate::rpc::netclient::OpenRequest;
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::program::ProgramId;
use crate::rpc::protocol::{RemoteError, VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC};
use crate::util::paths::Env;

/// The aux/timer tag of the secondary links.
pub const TAG: u8 = 2;

/// Keepalive towards the daemons (libvirt's client defaults: 5 s, 5 missed).
const KA_INTERVAL: i32 = 5;
const KA_COUNT: u32 = 5;

const FAMILIES: [Family; 6] = [Family::Network, Family::Storage, Family::NodeDev, Family::Secret, Family::Interface, Family::NWFilter];

fn family_of(n: u8) -> Option<Family> {
    FAMILIES.get(n as usize).copied()
}

fn family_number(f: Family) -> u8 {
    FAMILIES.iter().position(|&x| x == f).unwrap_or(0) as u8
}

/// What calls in flight get when a secondary daemon goes away.
fn link_lost(key: &LinkKey, why: &str) -> RemoteError {
    let daemon = family_of(key.family).map(|f| f.daemon()).unwrap_or("?");
    RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, Some(&format!("connection to virt{daemon}d lost: {why}")))
}

/// The URI a daemon behind `sock` accepts: `///system` unless the socket belongs to an
/// unprivileged (session) daemon, which only serves `///session`.
fn upstream_uri(family: Family, sock: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let session = std::fs::metadata(sock).is_ok_and(|m| m.uid() != 0);
    format!("{}:///{}", family.daemon(), if session { "session" } else { "system" })
}

/// The open links of every client.
pub struct Secondary {
    relay: Relay,
    /// Where the daemons' sockets are (None: the system directory).
    sock_dir: Option<PathBuf>,
}

impl Secondary {
    pub fn new(sock_dir: Option<PathBuf>) -> Secondary {
        Secondary { relay: Relay::new(0, TAG, KA_INTERVAL, KA_COUNT, link_lost), sock_dir }
    }

    /// The program that owns the links' sources and timers.
    pub fn set_owner(&mut self, owner: ProgramId) {
        self.relay.set_owner(owner);
    }

    fn socket_path(&self, family: Family, readonly: bool) -> PathBuf {
        let dir = self.sock_dir.clone().unwrap_or_else(|| sockets::socket_dir(false, &Env::default()));
        dir.join(sockets::socket_name(family.daemon(), readonly, false))
    }

    /// A client packet of `family`: relayed, held during the handshake, or (the first call)
    /// the reason to open the link.
    // C: remoteGetStorageConn (and its siblings)
    pub fn client_packet(&mut self, core: &mut Core, cid: ClientId, family: Family, readonly: bool, pkt: Packet, fds: Vec<OwnedFd>) {
        let key = LinkKey { cid, family: family_number(family) };
        match self.relay.state(&key) {
            Some(LinkState::Open) => return self.relay.forward(core, &key, pkt, fds),
            Some(LinkState::Opening) => return self.relay.hold(core, &key, pkt, fds),
            None => {}
        }
        if !pkt.header.type_.is_call() {
            debug!(
                "client {}: dropping {:?} packet for virt{}d, which it has no connection to",
                cid.idx,
                pkt.header.type_,
                family.daemon()
            );
            return;
        }
        let path = self.socket_path(family, readonly);
        let Some(identity) = core.client(cid).map(|c| c.identity.clone()) else { return };
        let request = OpenRequest { uri: upstream_uri(family, &path), flags: if readonly { VIR_CONNECT_RO } else { 0 }, identity };
        debug!("client {}: opening {} via {}", cid.idx, request.uri, path.display());
        if let Err(e) = self.relay.open(core, key, OpenSpec { socket: path, request }) {
            return core.reply_error(cid, &pkt.header, &e);
        }
        self.relay.hold(core, &key, pkt, fds);
    }

    /// Routes what the relay reported: held packets of an opened link go on, those of a
    /// failed open get its error; a link that died needs nothing more (the relay answered).
    fn relay_events(&mut self, core: &mut Core) {
        for ev in self.relay.take_events() {
            match ev {
                RelayEvent::Opened { key, held } => {
                    for (p, fds) in held {
                        self.relay.forward(core, &key, p, fds);
                    }
                }
                RelayEvent::OpenFailed { key, err, held } => {
                    for (p, _) in held {
                        if p.header.type_.is_call() {
                            core.reply_error(key.cid, &p.header, &err);
                        }
                    }
                }
                RelayEvent::Died { .. } => {}
            }
        }
    }

    /// Readiness of a link's socket.
    pub fn aux_event(&mut self, core: &mut Core, idx: usize, r: Readiness) {
        self.relay.aux_event(core, idx, r);
        self.relay_events(core);
    }

    /// A timer of a link.
    pub fn timer(&mut self, core: &mut Core, n: u64) {
        self.relay.timer(core, n);
        self.relay_events(core);
    }

    /// The client closed its connection: close its links.
    pub fn drop_client(&mut self, core: &mut Core, cid: ClientId) {
        self.relay.drop_client(core, cid);
    }

    /// Lifts pauses whose other side drained, then writes queued output.
    pub fn after_batch(&mut self, core: &mut Core) {
        // Routing held packets of a link that just opened queues more output: go round.
        for _ in 0..16 {
            self.relay.after_batch(core);
            self.relay_events(core);
            if !self.relay.has_work() {
                break;
            }
        }
    }

    /// Daemon shutdown: close every link.
    pub fn shutdown(&mut self, core: &mut Core) {
        self.relay.shutdown(core);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_path_readonly_uses_ro_socket() {
        let s = Secondary::new(Some(PathBuf::from("/r")));
        assert_eq!(s.socket_path(Family::Storage, true), Path::new("/r/virtstoraged-sock-ro"));
        assert_eq!(s.socket_path(Family::Network, false), Path::new("/r/virtnetworkd-sock"));
    }

    #[test]
    fn family_numbers_round_trip() {
        for f in FAMILIES {
            assert_eq!(family_of(family_number(f)), Some(f));
        }
    }

    #[test]
    fn upstream_uri_missing_socket_is_system() {
        assert_eq!(upstream_uri(Family::Secret, Path::new("/nonexistent/virtsecretd-sock")), "secret:///system");
    }
}
