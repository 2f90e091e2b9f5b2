//! The authentication procedures of the REMOTE program, served before a client is
//! authenticated (libvirt's remote/remote_daemon_dispatch.c AUTH_* dispatchers). Each
//! daemon's REMOTE program hands them here (`Auth::dispatch`).
//!
//! Supported: "none" and SASL (cyrus libsasl2, `crate::rpc::sasl`); polkit is not supported.
//! A failed SASL authentication is answered after `AUTH_FAILURE_DELAY` and the connection
//! closed (libvirt keeps it open for another try, which let a client guess thousands of
//! passwords a second).

use log::{debug, error, info};

use std::sync::Arc;

use crate::remote::protocol::AuthListRet;
use crate::rpc::message::Packet;
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::program::{self, answer, Lookup};
use crate::rpc::protocol::{self as proto, RemoteError, REMOTE_AUTH_SASL_DATA_MAX, REMOTE_STRING_MAX, VIR_ERR_AUTH_FAILED, VIR_FROM_RPC};
use crate::rpc::sasl::{self, SaslConfig, SaslLayer, SaslSession, StepResult};
use crate::rpc::service::AuthType;
use crate::xdr::{Reader, Writer, Xdr, XdrError};

pub fn is_auth_proc(proc_: i32) -> bool {
    (proto::REMOTE_PROC_AUTH_LIST..=proto::REMOTE_PROC_AUTH_POLKIT).contains(&proc_)
}

fn auth_failed() -> RemoteError {
    RemoteError::new(VIR_ERR_AUTH_FAILED, VIR_FROM_RPC, Some("authentication failed"))
}

/// SASL data: `char data<REMOTE_AUTH_SASL_DATA_MAX>` in remote_protocol.x, which rpcgen
/// turns into an array of xdr_char, so every byte travels as a 4-byte integer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SaslData(pub Vec<u8>);

impl SaslData {
    fn encode_into(&self, w: &mut Writer) {
        w.array_len(self.0.len());
        for b in &self.0 {
            w.i32(*b as i8 as i32);
        }
    }

    fn decode_from(r: &mut Reader<'_>) -> Result<SaslData, XdrError> {
        let n = r.array_len(REMOTE_AUTH_SASL_DATA_MAX, 4)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(r.i32()? as u8);
        }
        Ok(SaslData(v))
    }
}

/// remote_auth_sasl_init_ret
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslInitRet {
    pub mechlist: String,
}

impl Xdr for SaslInitRet {
    fn encode(&self, w: &mut Writer) {
        w.string(&self.mechlist);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        Ok(SaslInitRet { mechlist: r.string(REMOTE_STRING_MAX)? })
    }
}

/// remote_auth_sasl_start_args
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslStartArgs {
    pub mech: String,
    pub nil: i32,
    pub data: SaslData,
}

impl Xdr for SaslStartArgs {
    fn encode(&self, w: &mut Writer) {
        w.string(&self.mech);
        w.i32(self.nil);
        self.data.encode_into(w);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        Ok(SaslStartArgs { mech: r.string(REMOTE_STRING_MAX)?, nil: r.i32()?, data: SaslData::decode_from(r)? })
    }
}

/// remote_auth_sasl_step_args
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslStepArgs {
    pub nil: i32,
    pub data: SaslData,
}

impl Xdr for SaslStepArgs {
    fn encode(&self, w: &mut Writer) {
        w.i32(self.nil);
        self.data.encode_into(w);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        Ok(SaslStepArgs { nil: r.i32()?, data: SaslData::decode_from(r)? })
    }
}

/// remote_auth_sasl_start_ret and remote_auth_sasl_step_ret (same layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslStepRet {
    pub complete: i32,
    pub nil: i32,
    pub data: SaslData,
}

impl Xdr for SaslStepRet {
    fn encode(&self, w: &mut Writer) {
        w.i32(self.complete);
        w.i32(self.nil);
        self.data.encode_into(w);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        Ok(SaslStepRet { complete: r.i32()?, nil: r.i32()?, data: SaslData::decode_from(r)? })
    }
}

/// What a REMOTE program tells the engine of a procedure before authentication: the AUTH_*
/// procedures may run, the others known to the table need an authenticated client.
// C: remoteProcs[].needAuth
pub fn lookup(proc_: i32) -> Lookup {
    if is_auth_proc(proc_) {
        Lookup::NoAuth
    } else if crate::rpc::protocol::remote_proc_name(proc_).is_some() {
        Lookup::Auth
    } else {
        Lookup::Unknown
    }
}

/// What a finished round asks of the caller once the reply is queued.
struct RoundOutcome {
    ret: SaslStepRet,
    /// Authentication completed with this security layer to install (None: none needed).
    layer: Option<Option<SaslLayer>>,
}

/// The authentication side of a daemon's REMOTE program: the SASL settings its clients are
/// checked against (libvirt's saslCtxt of remote_daemon.c).
#[derive(Clone, Default)]
pub struct Auth {
    pub sasl: Option<Arc<SaslConfig>>,
}

impl Auth {
    pub fn dispatch(&self, core: &mut Core, cid: ClientId, pkt: Packet) {
        let Some(client) = core.client(cid) else { return };
        let auth = client.auth;
        match pkt.header.proc_ {
            // C: remoteDispatchAuthList
            proto::REMOTE_PROC_AUTH_LIST => {
                let res = program::args::<()>(&pkt).map(|()| AuthListRet { types: vec![auth as i32] });
                answer(core, cid, &pkt, res);
            }
            proto::REMOTE_PROC_AUTH_SASL_INIT => {
                let res = program::args::<()>(&pkt).and_then(|()| self.sasl_init(core, cid));
                answer(core, cid, &pkt, res);
            }
            proto::REMOTE_PROC_AUTH_SASL_START => {
                let res = program::args::<SaslStartArgs>(&pkt).and_then(|a| {
                    let data = (a.nil == 0).then_some(a.data.0);
                    self.sasl_round(core, cid, Some(&a.mech), data.as_deref())
                });
                answer_sasl(core, cid, &pkt, res);
            }
            proto::REMOTE_PROC_AUTH_SASL_STEP => {
                let res = program::args::<SaslStepArgs>(&pkt).and_then(|a| {
                    let data = (a.nil == 0).then_some(a.data.0);
                    self.sasl_round(core, cid, None, data.as_deref())
                });
                answer_sasl(core, cid, &pkt, res);
            }
            _ => {
                debug!("client {}: PolicyKit request refused (polkit is not supported)", cid.idx);
                core.reply_error(cid, &pkt.header, &auth_failed());
            }
        }
    }

    /// Starts a SASL session for the client and lists the mechanisms it may use.
    // C: remoteDispatchAuthSaslInit
    fn sasl_init(&self, core: &mut Core, cid: ClientId) -> Result<SaslInitRet, RemoteError> {
        let Some(cfg) = self.sasl.clone() else { return Err(auth_failed()) };
        let Some(c) = core.client_mut(cid) else { return Err(auth_failed()) };
        if c.auth != AuthType::Sasl || c.sasl.is_some() || c.authenticated {
            error!("client tried invalid SASL init request");
            return Err(auth_failed());
        }
        let channel = c.channel();
        let (local, remote) = (c.io.stream.local_addr_string(), c.io.stream.peer_addr_string());
        let setup = || -> Result<(SaslSession, String), sasl::SaslError> {
            let mut s = SaslSession::new(local.as_deref(), remote.as_deref())?;
            if let sasl::Channel::Tls(bits) = channel {
                s.set_external_ssf(bits)?;
            }
            let (min, max, flags) = sasl::sec_props(channel, cfg.tcp_min_ssf);
            s.set_sec_props(min, max, flags)?;
            let mechs = s.list_mechanisms()?;
            Ok((s, mechs))
        };
        match setup() {
            Ok((s, mechlist)) => {
                debug!("client {}: SASL mechanisms offered: '{mechlist}'", cid.idx);
                c.sasl = Some(s);
                Ok(SaslInitRet { mechlist })
            }
            Err(e) => {
                error!("client {}: {e}", cid.idx);
                Err(auth_failed())
            }
        }
    }

    /// One SASL round (START when `mech` is given, else STEP); on completion the SSF and the
    /// user name ACL are checked and the client becomes authenticated.
    // C: remoteDispatchAuthSaslStart + remoteDispatchAuthSaslStep + remoteSASLFinish
    fn sasl_round(&self, core: &mut Core, cid: ClientId, mech: Option<&str>, data: Option<&[u8]>) -> Result<RoundOutcome, RemoteError> {
        let Some(cfg) = self.sasl.clone() else { return Err(auth_failed()) };
        let Some(c) = core.client_mut(cid) else { return Err(auth_failed()) };
        let channel = c.channel();
        let Some(mut s) = c.sasl.take().filter(|_| c.auth == AuthType::Sasl) else {
            error!("client tried invalid SASL start request");
            return Err(auth_failed());
        };
        let step = match mech {
            Some(m) => s.start(m, data),
            None => s.step(data),
        };
        let StepResult { complete, data: out } = match step {
            Ok(r) => r,
            Err(e) => {
                info!("client {}: SASL authentication failed: {e}", cid.idx);
                return Err(auth_failed());
            }
        };
        if out.as_ref().is_some_and(|d| d.len() > REMOTE_AUTH_SASL_DATA_MAX as usize) {
            error!("sasl reply data too long {}", out.as_ref().map_or(0, |d| d.len()));
            return Err(auth_failed());
        }
        let ret = SaslStepRet { complete: complete as i32, nil: out.is_none() as i32, data: SaslData(out.unwrap_or_default()) };
        if !complete {
            c.sasl = Some(s);
            return Ok(RoundOutcome { ret, layer: None });
        }
        // C: remoteSASLFinish
        let ssf = s.ssf().map_err(|e| {
            error!("{e}");
            auth_failed()
        })?;
        if !sasl::ssf_acceptable(channel, ssf) {
            error!("negotiated SSF {ssf} was not strong enough");
            return Err(auth_failed());
        }
        let user = s.username().map_err(|e| {
            error!("{e}");
            auth_failed()
        })?;
        if !cfg.allows(&user) {
            error!("SASL client identity '{user}' not allowed by ACL (sasl_allowed_username_list)");
            return Err(auth_failed());
        }
        info!("client {}: SASL authentication of '{user}' succeeded (SSF {ssf})", cid.idx);
        c.identity.sasl_user = Some(user);
        let layer = (ssf > 0).then(|| SaslLayer(s));
        Ok(RoundOutcome { ret, layer: Some(layer) })
    }
}

/// Sends the round's reply in the clear, then (on completion) marks the client
/// authenticated and puts the security layer under everything that follows.
fn answer_sasl(core: &mut Core, cid: ClientId, pkt: &Packet, res: Result<RoundOutcome, RemoteError>) {
    match res {
        // C: remoteDispatchAuthSaslStart (authfail) — and then, unlike libvirt, no more tries.
        Err(e) => core.fail_auth(cid, &pkt.header, &e),
        Ok(RoundOutcome { ret, layer }) => {
            answer(core, cid, pkt, Ok(ret));
            if let Some(layer) = layer {
                core.set_authenticated(cid);
                if let (Some(l), Some(c)) = (layer, core.client_mut(cid)) {
                    // C: virNetServerClientSetSASLSession
                    c.io.set_layer(Box::new(l));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sasl_data_is_four_bytes_per_char() {
        let a = SaslStepArgs { nil: 0, data: SaslData(vec![0x41, 0xff]) };
        let b = crate::xdr::encode_to_vec(&a);
        assert_eq!(b, [0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x41, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(crate::xdr::decode_exact::<SaslStepArgs>(&b).unwrap(), a);
    }

    #[test]
    fn sasl_start_args_round_trip() {
        let a = SaslStartArgs { mech: "SCRAM-SHA-256".into(), nil: 1, data: SaslData::default() };
        let b = crate::xdr::encode_to_vec(&a);
        assert_eq!(crate::xdr::decode_exact::<SaslStartArgs>(&b).unwrap(), a);
    }

    #[test]
    fn sasl_data_over_limit_refused() {
        let mut w = Writer::new();
        w.i32(0);
        w.u32(REMOTE_AUTH_SASL_DATA_MAX + 1);
        assert!(crate::xdr::decode_exact::<SaslStepArgs>(w.as_slice()).is_err());
    }

    #[test]
    fn is_auth_proc_covers_66_to_70() {
        assert!(is_auth_proc(66) && is_auth_proc(70));
        assert!(!is_auth_proc(65) && !is_auth_proc(71));
    }
}
