//! `virsh console`: a domain's pty relayed over a libvirt stream (libvirt's
//! libxl_driver.c libxlDomainOpenConsole, conf/virchrdev.c, and the stream handling of
//! remote/remote_daemon_stream.c).
//!
//! The pty libxl reports is opened non-blocking and registered with the loop as an Aux
//! source below the libxl range. Guest output becomes STREAM packets (status CONTINUE) on
//! the call's serial; the client's STREAM packets are written to the pty; a finish (OK) or
//! abort (ERROR) from the client is confirmed with an empty OK packet, as libvirt does. One
//! session per domain: a second one needs VIR_DOMAIN_CONSOLE_FORCE, which ends the first.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use log::{debug, warn};

use crate::poll::{self, TokenKind};
use crate::rpc::message::{encode_packet, Packet};
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::protocol::{Header, MessageStatus, MessageType, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION};

/// REMOTE_PROC_DOMAIN_OPEN_CONSOLE.
pub const PROC_DOMAIN_OPEN_CONSOLE: i32 = crate::remote::procs::REMOTE_PROC_DOMAIN_OPEN_CONSOLE;
/// VIR_DOMAIN_CONSOLE_FORCE / _SAFE.
pub const CONSOLE_FORCE: u32 = 1;
pub const CONSOLE_SAFE: u32 = 2;
/// Most bytes of guest output sent in one packet.
const CHUNK: usize = 64 * 1024;
/// Most client input kept while the pty is full.
const MAX_PENDING: usize = 1 << 20;

struct Session {
    cid: ClientId,
    serial: u32,
    uuid: [u8; 16],
    pty: File,
    pending: Vec<u8>,
}

/// The open console sessions, by their Aux index.
#[derive(Default)]
pub struct Consoles {
    sessions: HashMap<usize, Session>,
    next: usize,
}

fn stream_header(serial: u32, status: MessageStatus) -> Header {
    Header::new(REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, PROC_DOMAIN_OPEN_CONSOLE, MessageType::Stream, serial, status)
}

fn send_stream(core: &mut Core, cid: ClientId, serial: u32, status: MessageStatus, data: &[u8]) {
    match encode_packet(&stream_header(serial, status), None, |w| w.raw(data)) {
        Ok(buf) => core.send(cid, buf, Vec::new()),
        Err(e) => warn!("cannot encode a console stream packet: {e}"),
    }
}

/// Why a console cannot be opened.
#[derive(Debug)]
pub enum OpenError {
    Busy,
    Io(io::Error),
}

impl Consoles {
    pub fn new() -> Consoles {
        Consoles { sessions: HashMap::new(), next: 1 }
    }

    /// Starts relaying `path` to the client's stream `serial`. With `force`, an existing
    /// session on the same domain is ended first (its client gets an abort).
    // C: libxlDomainOpenConsole + virChrdevOpen
    pub fn open(&mut self, core: &mut Core, cid: ClientId, serial: u32, uuid: [u8; 16], path: &str, force: bool) -> Result<(), OpenError> {
        if let Some((&idx, _)) = self.sessions.iter().find(|(_, s)| s.uuid == uuid) {
            if !force {
                return Err(OpenError::Busy);
            }
            if let Some(old) = self.close(core, idx) {
                send_stream(core, old.0, old.1, MessageStatus::Ok, &[]);
            }
        }
        let pty =
            OpenOptions::new().read(true).write(true).custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK).open(path).map_err(OpenError::Io)?;
        let idx = self.next;
        self.next += 1;
        poll::register_fd_readable(&core.registry, pty.as_raw_fd(), poll::token(TokenKind::Aux, idx)).map_err(OpenError::Io)?;
        self.sessions.insert(idx, Session { cid, serial, uuid, pty, pending: Vec::new() });
        debug!("console session {idx} on {path} for client {}", cid.idx);
        Ok(())
    }

    /// Whether an Aux index is one of ours.
    pub fn owns(&self, idx: usize) -> bool {
        self.sessions.contains_key(&idx)
    }

    fn close(&mut self, core: &mut Core, idx: usize) -> Option<(ClientId, u32)> {
        let s = self.sessions.remove(&idx)?;
        poll::deregister_fd(&core.registry, s.pty.as_raw_fd());
        Some((s.cid, s.serial))
    }

    /// Guest output is ready: send it; at end of file or error, end the stream.
    pub fn readable(&mut self, core: &mut Core, idx: usize) {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let Some(s) = self.sessions.get_mut(&idx) else { return };
            let n = match s.pty.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // EIO: the guest side of the pty is gone.
                Err(_) => 0,
            };
            let (cid, serial) = (s.cid, s.serial);
            if n == 0 {
                self.close(core, idx);
                send_stream(core, cid, serial, MessageStatus::Ok, &[]);
                return;
            }
            send_stream(core, cid, serial, MessageStatus::Continue, &buf[..n]);
        }
    }

    /// A STREAM packet of the client: data for the guest, a finish or an abort.
    /// Returns false when the packet belongs to no session of this client.
    // C: daemonStreamHandleWrite
    pub fn from_client(&mut self, core: &mut Core, cid: ClientId, pkt: &Packet) -> bool {
        let h = pkt.header;
        let Some((&idx, _)) = self.sessions.iter().find(|(_, s)| s.cid == cid && s.serial == h.serial) else { return false };
        match h.status {
            MessageStatus::Continue => {
                let Some(s) = self.sessions.get_mut(&idx) else { return true };
                if s.pending.len() + pkt.payload().len() > MAX_PENDING {
                    warn!("console input of client {} is not being read by the guest; dropping it", cid.idx);
                    return true;
                }
                s.pending.extend_from_slice(pkt.payload());
                while !s.pending.is_empty() {
                    match s.pty.write(&s.pending) {
                        Ok(n) => {
                            s.pending.drain(..n);
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
            }
            MessageStatus::Ok | MessageStatus::Error => {
                self.close(core, idx);
                send_stream(core, cid, h.serial, MessageStatus::Ok, &[]);
            }
        }
        true
    }

    /// Ends every session of a client that went away.
    pub fn drop_client(&mut self, core: &mut Core, cid: ClientId) {
        let idxs: Vec<usize> = self.sessions.iter().filter(|(_, s)| s.cid == cid).map(|(&i, _)| i).collect();
        for i in idxs {
            self.close(core, i);
        }
    }

    /// Ends the session of a domain that stopped (its client sees the end of the stream).
    pub fn domain_stopped(&mut self, core: &mut Core, uuid: &[u8; 16]) {
        let idxs: Vec<usize> = self.sessions.iter().filter(|(_, s)| &s.uuid == uuid).map(|(&i, _)| i).collect();
        for i in idxs {
            if let Some((cid, serial)) = self.close(core, i) {
                send_stream(core, cid, serial, MessageStatus::Ok, &[]);
            }
        }
    }
}
