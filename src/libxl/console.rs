//! `virsh console`: a domain's pty relayed over a libvirt stream (libvirt's
//! libxl_driver.c libxlDomainOpenConsole, conf/virchrdev.c, and the stream handling of
//! remote/remote_daemon_stream.c).
//!
//! The pty libxl reports is opened non-blocking and registered with the loop as an Aux
//! source below the libxl range. Guest output becomes STREAM packets (status CONTINUE) on
//! the call's serial; the client's STREAM packets are written to the pty; a finish (OK) or
//! abort (ERROR) from the client is confirmed with an empty OK packet, as libvirt does. One
//! session per domain: a second one needs VIR_DOMAIN_CONSOLE_FORCE, which ends the first.
//!
//! How a stream ends from our side, as libvirt's daemonStreamEvent ends it (the client's
//! virNetClientCallDispatchStream accepts nothing else; an unasked OK makes it drop the
//! whole connection):
//! - end of the guest's output (the guest stopped, the pty closed): an empty STREAM
//!   CONTINUE packet, which the client reads as end of file; the session stays, without
//!   its pty, until the client's finish or abort, which get their empty OK;
//! - an error (a read failure, another client took the console with --force): a STREAM
//!   ERROR packet carrying the error; the session is gone and the client sends no more.
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use log::{debug, info, warn};

use crate::poll::{self, TokenKind};
use crate::rpc::message::{encode_packet, Packet};
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::protocol::{
    Header, MessageStatus, MessageType, RemoteError, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, VIR_ERR_RPC, VIR_FROM_STREAMS,
};

/// REMOTE_PROC_DOMAIN_OPEN_CONSOLE.
pub const PROC_DOMAIN_OPEN_CONSOLE: i32 = crate::remote::procs::REMOTE_PROC_DOMAIN_OPEN_CONSOLE;
/// VIR_DOMAIN_CONSOLE_FORCE / _SAFE.
pub const CONSOLE_FORCE: u32 = 1;
pub const CONSOLE_SAFE: u32 = 2;
/// Most bytes of guest output sent in one packet.
const CHUNK: usize = 64 * 1024;
/// Most client input kept while the pty is full.
const MAX_PENDING: usize = 1 << 20;
/// The aux tag of console ptys within virtxend's program (program 0).
pub const TAG: u8 = 4;

struct Session {
    cid: ClientId,
    serial: u32,
    uuid: [u8; 16],
    /// None once the end of the stream was sent: the session waits for the client's
    /// finish or abort.
    pty: Option<File>,
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

/// A STREAM packet with raw data: CONTINUE with data (or empty: end of file), or the empty
/// OK that confirms a client's finish or abort.
// C: virNetServerProgramSendStreamData
fn send_stream(core: &mut Core, cid: ClientId, serial: u32, status: MessageStatus, data: &[u8]) {
    match encode_packet(&stream_header(serial, status), None, |w| w.raw(data)) {
        Ok(buf) => core.send(cid, buf, Vec::new()),
        Err(e) => warn!("cannot encode a console stream packet: {e}"),
    }
}

/// A STREAM ERROR packet carrying `err`.
// C: virNetServerProgramSendStreamError
fn send_stream_error(core: &mut Core, cid: ClientId, serial: u32, err: &RemoteError) {
    match crate::rpc::message::reply_error(&stream_header(serial, MessageStatus::Ok), err) {
        Ok(buf) => core.send(cid, buf, Vec::new()),
        Err(e) => warn!("cannot encode a console stream error: {e}"),
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
    /// session on the same domain is ended first (its client gets a stream error).
    // C: libxlDomainOpenConsole + virChrdevOpen
    pub fn open(&mut self, core: &mut Core, cid: ClientId, serial: u32, uuid: [u8; 16], path: &str, force: bool) -> Result<(), OpenError> {
        let live: Vec<usize> = self.sessions.iter().filter(|(_, s)| s.uuid == uuid && s.pty.is_some()).map(|(&i, _)| i).collect();
        if !live.is_empty() && !force {
            return Err(OpenError::Busy);
        }
        let pty =
            OpenOptions::new().read(true).write(true).custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK).open(path).map_err(OpenError::Io)?;
        for idx in live {
            // virChrdevOpen aborts the old stream; the daemon then reports
            // VIR_STREAM_EVENT_ERROR as "stream had I/O failure".
            let e = RemoteError::new(VIR_ERR_RPC, VIR_FROM_STREAMS, Some("stream had I/O failure"));
            self.end_with_error(core, idx, &e, "another client took the console over");
        }
        let idx = self.next;
        self.next += 1;
        poll::register_fd_readable(&core.registry, pty.as_raw_fd(), poll::token(TokenKind::Aux, 0, TAG, idx)).map_err(OpenError::Io)?;
        self.sessions.insert(idx, Session { cid, serial, uuid, pty: Some(pty), pending: Vec::new() });
        debug!("console session {idx} on {path} for client {}", cid.idx);
        Ok(())
    }

    /// Whether an Aux index is one of ours.
    pub fn owns(&self, idx: usize) -> bool {
        self.sessions.contains_key(&idx)
    }

    fn close_pty(&mut self, core: &mut Core, idx: usize) {
        if let Some(pty) = self.sessions.get_mut(&idx).and_then(|s| s.pty.take()) {
            poll::deregister_fd(&core.registry, pty.as_raw_fd());
        }
    }

    /// Sends the end of the stream; the session waits for the client's finish or abort.
    // C: daemonStreamEvent (VIR_STREAM_EVENT_HANGUP: "send an empty packet so the client sees an EOF")
    fn end_of_stream(&mut self, core: &mut Core, idx: usize, why: &str) {
        let Some(s) = self.sessions.get(&idx) else { return };
        if s.pty.is_none() {
            return;
        }
        let (cid, serial) = (s.cid, s.serial);
        self.close_pty(core, idx);
        if let Some(s) = self.sessions.get_mut(&idx) {
            s.pending = Vec::new();
        }
        info!("console stream {serial} of client {} ended: {why}", cid.idx);
        send_stream(core, cid, serial, MessageStatus::Continue, &[]);
    }

    /// Sends a stream error and forgets the session.
    // C: daemonStreamEvent (VIR_STREAM_EVENT_ERROR) / daemonStreamHandleRead (read failure)
    fn end_with_error(&mut self, core: &mut Core, idx: usize, e: &RemoteError, why: &str) {
        self.close_pty(core, idx);
        let Some(s) = self.sessions.remove(&idx) else { return };
        info!("console stream {} of client {} ended with an error: {why}", s.serial, s.cid.idx);
        send_stream_error(core, s.cid, s.serial, e);
    }

    /// Guest output is ready: send it; at end of file, end the stream; on a read error,
    /// send the error.
    // C: daemonStreamHandleRead
    pub fn readable(&mut self, core: &mut Core, idx: usize) {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let Some(s) = self.sessions.get_mut(&idx) else { return };
            let Some(pty) = s.pty.as_mut() else { return };
            let n = match pty.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // EIO: the guest side of the pty is gone.
                Err(e) if e.raw_os_error() == Some(libc::EIO) => 0,
                Err(e) => {
                    let err = RemoteError::system(VIR_FROM_STREAMS, e.raw_os_error().unwrap_or(libc::EIO), Some("cannot read from stream"));
                    self.end_with_error(core, idx, &err, &format!("reading the console failed: {e}"));
                    return;
                }
            };
            let (cid, serial) = (s.cid, s.serial);
            if n == 0 {
                self.end_of_stream(core, idx, "the console's pty closed");
                return;
            }
            send_stream(core, cid, serial, MessageStatus::Continue, &buf[..n]);
        }
    }

    /// A STREAM packet of the client: data for the guest, a finish or an abort.
    /// Returns false when the packet belongs to no session of this client.
    // C: daemonStreamHandleWrite, daemonStreamHandleFinish, daemonStreamHandleAbort
    pub fn from_client(&mut self, core: &mut Core, cid: ClientId, pkt: &Packet) -> bool {
        let h = pkt.header;
        let Some((&idx, _)) = self.sessions.iter().find(|(_, s)| s.cid == cid && s.serial == h.serial) else { return false };
        match h.status {
            MessageStatus::Continue => {
                let Some(s) = self.sessions.get_mut(&idx) else { return true };
                // After the end of the stream, data still in flight is dropped.
                let Some(pty) = s.pty.as_mut() else { return true };
                if s.pending.len() + pkt.payload().len() > MAX_PENDING {
                    warn!("console input of client {} is not being read by the guest; dropping it", cid.idx);
                    return true;
                }
                s.pending.extend_from_slice(pkt.payload());
                while !s.pending.is_empty() {
                    match pty.write(&s.pending) {
                        Ok(n) => {
                            s.pending.drain(..n);
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
            }
            MessageStatus::Ok | MessageStatus::Error => {
                self.close_pty(core, idx);
                self.sessions.remove(&idx);
                debug!("console stream {} of client {} closed by the client", h.serial, cid.idx);
                send_stream(core, cid, h.serial, MessageStatus::Ok, &[]);
            }
        }
        true
    }

    /// Ends every session of a client that went away.
    pub fn drop_client(&mut self, core: &mut Core, cid: ClientId) {
        let idxs: Vec<usize> = self.sessions.iter().filter(|(_, s)| s.cid == cid).map(|(&i, _)| i).collect();
        for i in idxs {
            self.close_pty(core, i);
            self.sessions.remove(&i);
        }
    }

    /// Ends the session of a domain that stopped (its client sees the end of the stream).
    pub fn domain_stopped(&mut self, core: &mut Core, uuid: &[u8; 16]) {
        let idxs: Vec<usize> = self.sessions.iter().filter(|(_, s)| &s.uuid == uuid).map(|(&i, _)| i).collect();
        for i in idxs {
            self.end_of_stream(core, i, "the domain stopped");
        }
    }
}
