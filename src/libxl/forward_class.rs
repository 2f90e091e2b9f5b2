//! Which REMOTE procedures virtxend hands to another modular daemon, and to which one
//! (the split libvirt's remote/remote_daemon_dispatch.c makes with remoteGetNetworkConn,
//! remoteGetStorageConn, remoteGetNodeDevConn, remoteGetSecretConn, remoteGetInterfaceConn
//! and remoteGetNWFilterConn): the class of the procedure in `remote::procs`.

use crate::remote::procs::{remote_proc, Class};

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

/// The daemon that serves REMOTE procedure `proc_`, or None when virtxend answers it.
// C: remoteGetNetworkConn & co (which connection a dispatcher uses)
pub fn family(proc_: i32) -> Option<Family> {
    match remote_proc(proc_)?.class {
        Class::Network => Some(Family::Network),
        Class::Storage => Some(Family::Storage),
        Class::NodeDev => Some(Family::NodeDev),
        Class::Secret => Some(Family::Secret),
        Class::Interface => Some(Family::Interface),
        Class::NWFilter => Some(Family::NWFilter),
        Class::Hypervisor | Class::Auth => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::procs::*;

    fn names(f: Option<Family>) -> Vec<&'static str> {
        (1..=REMOTE_PROC_LAST).filter(|&p| family(p) == f).filter_map(remote_proc_name).collect()
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
        assert_eq!(family(REMOTE_PROC_DOMAIN_INTERFACE_ADDRESSES), None);
        assert_eq!(family(REMOTE_PROC_DOMAIN_INTERFACE_STATS), None);
    }

    #[test]
    fn family_pci_passthrough_node_device_procs_stay_local() {
        // libvirt's libxl driver answers these itself (nodeDeviceDettach & co).
        for p in [
            REMOTE_PROC_NODE_DEVICE_DETTACH,
            REMOTE_PROC_NODE_DEVICE_DETACH_FLAGS,
            REMOTE_PROC_NODE_DEVICE_RE_ATTACH,
            REMOTE_PROC_NODE_DEVICE_RESET,
        ] {
            assert_eq!(family(p), None, "{:?}", remote_proc_name(p));
        }
    }

    #[test]
    fn family_connect_procs_naming_objects_are_forwarded() {
        let cases = [
            (REMOTE_PROC_CONNECT_LIST_ALL_NETWORKS, Family::Network),
            (REMOTE_PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY, Family::Network),
            (REMOTE_PROC_CONNECT_FIND_STORAGE_POOL_SOURCES, Family::Storage),
            (REMOTE_PROC_CONNECT_LIST_STORAGE_POOLS, Family::Storage),
            (REMOTE_PROC_CONNECT_LIST_ALL_STORAGE_POOLS, Family::Storage),
            (REMOTE_PROC_CONNECT_LIST_ALL_INTERFACES, Family::Interface),
            (REMOTE_PROC_CONNECT_LIST_ALL_NODE_DEVICES, Family::NodeDev),
            (REMOTE_PROC_CONNECT_LIST_ALL_NWFILTERS, Family::NWFilter),
            (REMOTE_PROC_CONNECT_LIST_ALL_SECRETS, Family::Secret),
            (REMOTE_PROC_NODE_NUM_OF_DEVICES, Family::NodeDev),
            (REMOTE_PROC_NODE_LIST_DEVICES, Family::NodeDev),
            (REMOTE_PROC_NETWORK_EVENT_CALLBACK_METADATA_CHANGE, Family::Network),
            (REMOTE_PROC_NODE_DEVICE_UPDATE, Family::NodeDev),
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
        assert!(names(Some(Family::NodeDev)).contains(&"REMOTE_PROC_NODE_DEVICE_GET_PARENT"));
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
            "REMOTE_PROC_AUTH_LIST",
        ] {
            assert!(names(None).contains(&name), "{name}");
        }
    }
}
