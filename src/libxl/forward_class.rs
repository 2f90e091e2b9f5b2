//! Which REMOTE procedures virtxend hands to another modular daemon, and to which one
//! (the split libvirt's remote/remote_daemon_dispatch.c makes with remoteGetNetworkConn,
//! remoteGetStorageConn, remoteGetNodeDevConn, remoteGetSecretConn, remoteGetInterfaceConn
//! and remoteGetNWFilterConn). Derived from the procedure names of remote_protocol.x.

use crate::rpc::remote_procs::remote_proc_name;

/// A secondary driver and the daemon that serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Network,
    Storage,
    NodeDev,
    Secret,
    Interface,
    NWFilter,
}

impl Family {
    /// The daemon's base name (`network` for virtnetworkd) and its URI scheme.
    pub fn daemon(self) -> &'static str {
        match self {
            Family::Network => "network",
            Family::Storage => "storage",
            Family::NodeDev => "nodedev",
            Family::Secret => "secret",
            Family::Interface => "interface",
            Family::NWFilter => "nwfilter",
        }
    }
}

/// The family of a procedure name without its `REMOTE_PROC_` prefix.
fn family_of_name(name: &str) -> Option<Family> {
    // Domain procedures (DOMAIN_INTERFACE_ADDRESSES, DOMAIN_GET_INTERFACE_PARAMETERS...)
    // always stay with the hypervisor driver.
    if name.starts_with("DOMAIN_") {
        return None;
    }
    const OBJECTS: &[(&str, Family)] = &[
        ("NWFILTER", Family::NWFilter),
        ("NETWORK", Family::Network),
        ("STORAGE_POOL", Family::Storage),
        ("STORAGE_VOL", Family::Storage),
        ("NODE_DEVICE", Family::NodeDev),
        ("SECRET", Family::Secret),
        ("INTERFACE", Family::Interface),
    ];
    // An object's own procedures: NETWORK_CREATE, STORAGE_VOL_UPLOAD, SECRET_EVENT_LIFECYCLE...
    for &(obj, fam) in OBJECTS {
        if name.strip_prefix(obj).is_some_and(|rest| rest.starts_with('_')) {
            return Some(fam);
        }
    }
    // The node device listing of the old API.
    if matches!(name, "NODE_NUM_OF_DEVICES" | "NODE_LIST_DEVICES") {
        return Some(Family::NodeDev);
    }
    // Connection-level procedures that name the object: CONNECT_LIST_ALL_NETWORKS,
    // CONNECT_FIND_STORAGE_POOL_SOURCES, CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY...
    let rest = name.strip_prefix("CONNECT_")?;
    let words: Vec<&str> = rest.split('_').collect();
    let has = |obj: &str| {
        let ow: Vec<&str> = obj.split('_').collect();
        words.windows(ow.len()).any(|w| w.iter().zip(&ow).all(|(a, b)| a.trim_end_matches('S') == *b))
    };
    OBJECTS.iter().find(|(obj, _)| has(obj)).map(|&(_, f)| f)
}

/// The daemon that serves REMOTE procedure `proc_`, or None when virtxend answers it.
// C: remoteGetNetworkConn & co (which connection a dispatcher uses)
pub fn family(proc_: i32) -> Option<Family> {
    family_of_name(remote_proc_name(proc_)?.strip_prefix("REMOTE_PROC_")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::remote_procs::REMOTE_PROC_LAST;

    fn names(f: Option<Family>) -> Vec<&'static str> {
        (1..=REMOTE_PROC_LAST).filter(|&p| family(p) == f).filter_map(remote_proc_name).collect()
    }

    #[test]
    fn family_every_proc_classified_by_its_name() {
        for p in 1..=REMOTE_PROC_LAST {
            let name = remote_proc_name(p).expect("every number up to REMOTE_PROC_LAST has a name");
            let short = &name["REMOTE_PROC_".len()..];
            let want = [
                ("NWFILTER", Family::NWFilter),
                ("NETWORK", Family::Network),
                ("STORAGE", Family::Storage),
                ("NODE_DEVICE", Family::NodeDev),
                ("SECRET", Family::Secret),
                ("INTERFACE", Family::Interface),
            ]
            .iter()
            .find(|(w, _)| short.contains(w))
            .map(|&(_, f)| f)
            .filter(|_| !short.starts_with("DOMAIN_"));
            let want = want.or(matches!(short, "NODE_NUM_OF_DEVICES" | "NODE_LIST_DEVICES").then_some(Family::NodeDev));
            assert_eq!(family(p), want, "{name}");
        }
    }

    #[test]
    fn family_no_domain_proc_is_forwarded() {
        for p in 1..=REMOTE_PROC_LAST {
            let name = remote_proc_name(p).unwrap_or("");
            if name.starts_with("REMOTE_PROC_DOMAIN_") {
                assert_eq!(family(p), None, "{name}");
            }
        }
    }

    #[test]
    fn family_domain_interface_procs_stay_local() {
        // 353 DOMAIN_INTERFACE_ADDRESSES, 65 DOMAIN_INTERFACE_STATS.
        assert_eq!(family(353), None);
        assert_eq!(family(65), None);
    }

    #[test]
    fn family_connect_procs_naming_objects_are_forwarded() {
        let cases = [
            (283, Family::Network),   // CONNECT_LIST_ALL_NETWORKS
            (313, Family::Network),   // CONNECT_NETWORK_EVENT_REGISTER_ANY
            (75, Family::Storage),    // CONNECT_FIND_STORAGE_POOL_SOURCES
            (72, Family::Storage),    // CONNECT_LIST_STORAGE_POOLS
            (281, Family::Storage),   // CONNECT_LIST_ALL_STORAGE_POOLS
            (284, Family::Interface), // CONNECT_LIST_ALL_INTERFACES
            (285, Family::NodeDev),   // CONNECT_LIST_ALL_NODE_DEVICES
            (286, Family::NWFilter),  // CONNECT_LIST_ALL_NWFILTERS
            (287, Family::Secret),    // CONNECT_LIST_ALL_SECRETS
            (111, Family::NodeDev),   // NODE_NUM_OF_DEVICES
            (112, Family::NodeDev),   // NODE_LIST_DEVICES
        ];
        for (p, f) in cases {
            assert_eq!(family(p), Some(f), "{:?}", remote_proc_name(p));
        }
    }

    #[test]
    fn family_object_procs_land_in_their_family() {
        assert!(names(Some(Family::Storage)).contains(&"REMOTE_PROC_STORAGE_VOL_UPLOAD"));
        assert!(names(Some(Family::Storage)).contains(&"REMOTE_PROC_STORAGE_VOL_DOWNLOAD"));
        assert!(names(Some(Family::Storage)).contains(&"REMOTE_PROC_STORAGE_POOL_EVENT_LIFECYCLE"));
        assert!(names(Some(Family::Network)).contains(&"REMOTE_PROC_NETWORK_PORT_CREATE_XML"));
        assert!(names(Some(Family::Secret)).contains(&"REMOTE_PROC_SECRET_GET_VALUE"));
        assert!(names(Some(Family::NWFilter)).contains(&"REMOTE_PROC_NWFILTER_BINDING_CREATE_XML"));
        assert!(names(Some(Family::Interface)).contains(&"REMOTE_PROC_INTERFACE_CHANGE_BEGIN"));
        assert!(names(Some(Family::NodeDev)).contains(&"REMOTE_PROC_NODE_DEVICE_DETACH_FLAGS"));
    }

    #[test]
    fn family_host_and_connection_procs_stay_local() {
        for name in [
            "REMOTE_PROC_CONNECT_OPEN",
            "REMOTE_PROC_CONNECT_CLOSE",
            "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE",
            "REMOTE_PROC_CONNECT_IS_SECURE",
            "REMOTE_PROC_NODE_GET_INFO",
            "REMOTE_PROC_NODE_GET_SECURITY_MODEL",
            "REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS",
            "REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK",
        ] {
            assert!(names(None).contains(&name), "{name}");
        }
    }
}
