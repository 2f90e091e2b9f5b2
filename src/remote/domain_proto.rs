//! The REMOTE program's domain and host types that virtxend decodes and encodes itself
//! (remote/remote_protocol.x: remote_nonnull_domain, remote_domain_*_args/_ret, the domain
//! lifecycle event messages, remote_node_get_info_ret).

use crate::xdr::{Reader, Writer, Xdr, XdrError};
use crate::xdr_struct;

/// REMOTE_DOMAIN_LIST_MAX: the most domains (ids, names) one reply may carry.
pub const REMOTE_DOMAIN_LIST_MAX: u32 = 16384;
/// REMOTE_SECURITY_MODEL_MAX / REMOTE_SECURITY_DOI_MAX (VIR_SECURITY_MODEL_BUFLEN, _DOI_BUFLEN).
pub const REMOTE_SECURITY_MODEL_MAX: u32 = 257;
pub const REMOTE_SECURITY_DOI_MAX: u32 = 257;

xdr_struct! {
    /// remote_nonnull_domain: how a domain is named on the wire.
    pub struct NonnullDomain { pub name: String, pub uuid: [u8; 16], pub id: i32 }
}

xdr_struct! { /// remote_domain_*_args with only the domain.
pub struct DomArgs { pub dom: NonnullDomain } }
xdr_struct! { /// remote_domain_*_args with the domain and flags.
pub struct DomFlagsArgs { pub dom: NonnullDomain, pub flags: u32 } }
xdr_struct! { /// remote_domain_*_ret with only the domain.
pub struct DomRet { pub dom: NonnullDomain } }
xdr_struct! { /// Any reply made of one int (num, autostart, active, persistent, result...).
pub struct IntRet { pub v: i32 } }
xdr_struct! { /// Any reply made of one unsigned hyper (version, memory...).
pub struct U64Ret { pub v: u64 } }
xdr_struct! { /// Any reply made of one string (type, hostname, capabilities, xml, uri...).
pub struct StringRet { pub s: String } }
xdr_struct! { /// remote_connect_get_max_vcpus_args
pub struct MaxVcpusArgs { pub type_: Option<String> } }
xdr_struct! { /// remote_connect_get_sysinfo_args and other flags-only arguments.
pub struct FlagsArgs { pub flags: u32 } }
xdr_struct! { /// remote_connect_list_domains_args / _list_defined_domains_args
pub struct MaxArgs { pub max: i32 } }
xdr_struct! { /// remote_connect_list_domains_ret
pub struct ListIdsRet { pub ids: Vec<i32> [max REMOTE_DOMAIN_LIST_MAX] } }
xdr_struct! { /// remote_connect_list_defined_domains_ret
pub struct ListNamesRet { pub names: Vec<String> [max REMOTE_DOMAIN_LIST_MAX] } }
xdr_struct! { /// remote_connect_list_all_domains_args
pub struct ListAllArgs { pub need_results: i32, pub flags: u32 } }
xdr_struct! { /// remote_connect_list_all_domains_ret
pub struct ListAllRet { pub domains: Vec<NonnullDomain> [max REMOTE_DOMAIN_LIST_MAX], pub ret: u32 } }
xdr_struct! { /// remote_domain_lookup_by_id_args
pub struct LookupIdArgs { pub id: i32 } }
xdr_struct! { /// remote_domain_lookup_by_name_args
pub struct LookupNameArgs { pub name: String } }
xdr_struct! { /// remote_domain_lookup_by_uuid_args
pub struct LookupUuidArgs { pub uuid: [u8; 16] } }
xdr_struct! { /// remote_domain_create_xml_args / remote_domain_define_xml_flags_args
pub struct XmlFlagsArgs { pub xml: String, pub flags: u32 } }
xdr_struct! { /// remote_domain_define_xml_args
pub struct XmlArgs { pub xml: String } }
xdr_struct! { /// remote_domain_set_autostart_args
pub struct SetAutostartArgs { pub dom: NonnullDomain, pub autostart: i32 } }
xdr_struct! { /// remote_domain_set_memory_args / remote_domain_set_max_memory_args
pub struct SetMemoryArgs { pub dom: NonnullDomain, pub memory: u64 } }
xdr_struct! { /// remote_domain_set_memory_flags_args
pub struct SetMemoryFlagsArgs { pub dom: NonnullDomain, pub memory: u64, pub flags: u32 } }
xdr_struct! { /// remote_domain_get_info_ret (u_char and u_short travel as 4-byte ints)
pub struct DomainInfoRet { pub state: u32, pub max_mem: u64, pub memory: u64, pub nr_virt_cpu: u32, pub cpu_time: u64 } }
xdr_struct! { /// remote_domain_get_state_ret
pub struct StateRet { pub state: i32, pub reason: i32 } }
xdr_struct! { /// remote_connect_domain_event_register_any_args / _deregister_any_args
pub struct EventIdArgs { pub event_id: i32 } }
xdr_struct! { /// remote_connect_domain_event_callback_register_any_args
pub struct CallbackRegisterArgs { pub event_id: i32, pub dom: Option<NonnullDomain> } }
xdr_struct! { /// remote_connect_domain_event_callback_register_any_ret
pub struct CallbackRegisterRet { pub callback_id: i32 } }
xdr_struct! { /// remote_connect_domain_event_callback_deregister_any_args
pub struct CallbackIdArgs { pub callback_id: i32 } }
xdr_struct! { /// remote_domain_open_console_args
pub struct OpenConsoleArgs { pub dom: NonnullDomain, pub dev_name: Option<String>, pub flags: u32 } }
xdr_struct! { /// remote_connect_get_domain_capabilities_args
pub struct DomainCapsArgs {
    pub emulatorbin: Option<String>,
    pub arch: Option<String>,
    pub machine: Option<String>,
    pub virttype: Option<String>,
    pub flags: u32,
} }
xdr_struct! { /// remote_domain_event_lifecycle_msg
pub struct LifecycleMsg { pub dom: NonnullDomain, pub event: i32, pub detail: i32 } }
xdr_struct! { /// remote_domain_event_callback_lifecycle_msg
pub struct CallbackLifecycleMsg { pub callback_id: i32, pub msg: LifecycleMsg } }

/// remote_node_get_info_ret. `char model[32]` is a fixed XDR array of chars, each char
/// taking a 4-byte unit, so it is coded by hand.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfoRet {
    pub model: String,
    pub memory: u64,
    pub cpus: i32,
    pub mhz: i32,
    pub nodes: i32,
    pub sockets: i32,
    pub cores: i32,
    pub threads: i32,
}

impl Xdr for NodeInfoRet {
    const MIN_SIZE: usize = 32 * 4 + 8 + 6 * 4;

    fn encode(&self, w: &mut Writer) {
        let bytes = self.model.as_bytes();
        for i in 0..32 {
            // The model is NUL-terminated inside its 32 chars (virNodeInfo.model).
            let c = if i < 31 { bytes.get(i).copied().unwrap_or(0) } else { 0 };
            (c as i8 as i32).encode(w);
        }
        self.memory.encode(w);
        for v in [self.cpus, self.mhz, self.nodes, self.sockets, self.cores, self.threads] {
            v.encode(w);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        let mut model = Vec::new();
        let mut ended = false;
        for i in 0..32 {
            let c = i32::decode(r)? as u8;
            // A C string in 32 chars: at most 31 before the terminator, as clients read it.
            ended |= c == 0 || i == 31;
            if !ended {
                model.push(c);
            }
        }
        Ok(NodeInfoRet {
            model: ascii(&model),
            memory: u64::decode(r)?,
            cpus: i32::decode(r)?,
            mhz: i32::decode(r)?,
            nodes: i32::decode(r)?,
            sockets: i32::decode(r)?,
            cores: i32::decode(r)?,
            threads: i32::decode(r)?,
        })
    }
}

/// Text of a char array: these fields are ASCII (an arch name, a security model); any other
/// byte reads as '?', so that a value always encodes back to the same number of chars.
fn ascii(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| if b.is_ascii() { b as char } else { '?' }).collect()
}

/// remote_node_get_security_model_ret: two variable arrays of chars (4 bytes each). The
/// driver has no security driver, so it always answers two empty strings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecurityModelRet {
    pub model: String,
    pub doi: String,
}

impl Xdr for SecurityModelRet {
    const MIN_SIZE: usize = 8;

    fn encode(&self, w: &mut Writer) {
        for s in [&self.model, &self.doi] {
            // Sent with its NUL when not empty, as libvirt's dispatcher does (strlen + 1).
            let n = if s.is_empty() { 0 } else { s.len() + 1 };
            (n as u32).encode(w);
            for &c in s.as_bytes() {
                (c as i8 as i32).encode(w);
            }
            if n > 0 {
                0i32.encode(w);
            }
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        let mut out = [String::new(), String::new()];
        for (slot, max) in out.iter_mut().zip([REMOTE_SECURITY_MODEL_MAX, REMOTE_SECURITY_DOI_MAX]) {
            let n = r.array_len(max, 4)?;
            let mut bytes = Vec::with_capacity(n);
            for _ in 0..n {
                let c = i32::decode(r)? as u8;
                if c != 0 {
                    bytes.push(c);
                }
            }
            *slot = ascii(&bytes);
        }
        let [model, doi] = out;
        Ok(SecurityModelRet { model, doi })
    }
}

fn round_trip<T: Xdr + PartialEq + std::fmt::Debug>(data: &[u8]) {
    let mut r = Reader::new(data);
    if let Ok(v) = T::decode(&mut r) {
        let mut w = Writer::new();
        v.encode(&mut w);
        let bytes = w.into_vec();
        let mut r2 = Reader::new(&bytes);
        let again = T::decode(&mut r2).expect("re-encoded value decodes");
        assert_eq!(v, again);
    }
}

/// Fuzz entry point (fuzz/fuzz_targets/domain_proto.rs, replayed by t/fuzz_corpus.rs): the
/// first byte picks a type; whatever decodes must encode and decode to the same value.
pub fn fuzz_target(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    match pick % 8 {
        0 => round_trip::<NodeInfoRet>(rest),
        1 => round_trip::<SecurityModelRet>(rest),
        2 => round_trip::<ListAllRet>(rest),
        3 => round_trip::<CallbackRegisterArgs>(rest),
        4 => round_trip::<OpenConsoleArgs>(rest),
        5 => round_trip::<DomainCapsArgs>(rest),
        6 => round_trip::<CallbackLifecycleMsg>(rest),
        _ => round_trip::<XmlFlagsArgs>(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_bytes<T: Xdr>(v: &T) -> Vec<u8> {
        let mut w = Writer::new();
        v.encode(&mut w);
        w.into_vec()
    }

    fn from_bytes<T: Xdr>(b: &[u8]) -> Result<T, XdrError> {
        let mut r = Reader::new(b);
        let v = T::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }

    #[test]
    fn node_info_model_takes_four_bytes_per_char() {
        let ni = NodeInfoRet { model: "x86_64".into(), memory: 1024, cpus: 2, mhz: 3000, nodes: 1, sockets: 1, cores: 2, threads: 1 };
        let b = to_bytes(&ni);
        assert_eq!(b.len(), NodeInfoRet::MIN_SIZE);
        assert_eq!(&b[0..8], &[0, 0, 0, b'x', 0, 0, 0, b'8']);
        assert_eq!(from_bytes::<NodeInfoRet>(&b).unwrap(), ni);
    }

    #[test]
    fn node_info_long_model_is_cut_to_31_chars() {
        let ni = NodeInfoRet { model: "a".repeat(40), memory: 0, cpus: 0, mhz: 0, nodes: 0, sockets: 0, cores: 0, threads: 0 };
        let back = from_bytes::<NodeInfoRet>(&to_bytes(&ni)).unwrap();
        assert_eq!(back.model.len(), 31);
    }

    #[test]
    fn nonnull_domain_golden_bytes() {
        let d = NonnullDomain { name: "ab".into(), uuid: [7; 16], id: -1 };
        let mut want = vec![0, 0, 0, 2, b'a', b'b', 0, 0];
        want.extend_from_slice(&[7; 16]);
        want.extend_from_slice(&[0xff; 4]);
        assert_eq!(to_bytes(&d), want);
    }

    #[test]
    fn security_model_empty_is_two_zero_counts() {
        assert_eq!(to_bytes(&SecurityModelRet::default()), vec![0; 8]);
    }

    #[test]
    fn security_model_oversize_count_is_refused() {
        let mut b = vec![0, 0, 1, 2];
        b.extend_from_slice(&[0; 8]);
        assert!(from_bytes::<SecurityModelRet>(&b).is_err());
    }

    #[test]
    fn callback_lifecycle_msg_round_trips() {
        let m = CallbackLifecycleMsg {
            callback_id: 3,
            msg: LifecycleMsg { dom: NonnullDomain { name: "g".into(), uuid: [1; 16], id: 4 }, event: 2, detail: 0 },
        };
        assert_eq!(from_bytes::<CallbackLifecycleMsg>(&to_bytes(&m)).unwrap(), m);
    }
}
