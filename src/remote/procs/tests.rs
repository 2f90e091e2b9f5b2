use super::*;

#[test]
fn procs_numbered_one_to_last_without_gap() {
    assert_eq!(PROCS.len() as i32, REMOTE_PROC_LAST);
    for (i, p) in PROCS.iter().enumerate() {
        assert_eq!(p.num, i as i32 + 1, "{}", p.name);
        assert!(p.name.starts_with("REMOTE_PROC_"), "{}", p.name);
    }
}

#[test]
fn procs_constants_carry_their_numbers() {
    // Spot checks against remote_protocol.x.
    assert_eq!(REMOTE_PROC_CONNECT_OPEN, 1);
    assert_eq!(REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, 60);
    assert_eq!(REMOTE_PROC_DOMAIN_CREATE_WITH_FLAGS, 196);
    assert_eq!(REMOTE_PROC_DOMAIN_OPEN_CONSOLE, 201);
    assert_eq!(REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, 316);
    assert_eq!(REMOTE_PROC_CONNECT_SET_IDENTITY, 419);
    assert_eq!(REMOTE_PROC_DOMAIN_FD_ASSOCIATE, 443);
    assert_eq!(REMOTE_PROC_DOMAIN_EVENT_NIC_MAC_CHANGE, 453);
    assert_eq!(REMOTE_PROC_DOMAIN_EVENT_VCPU_REMOVED, 454);
    assert_eq!(REMOTE_PROC_DOMAIN_EVENT_CALLBACK_CHANNEL_LIFECYCLE, 455);
    assert_eq!(REMOTE_PROC_DOMAIN_ANNOUNCE_INTERFACE, 456);
}

#[test]
fn remote_proc_name_out_of_range_is_none() {
    assert_eq!(remote_proc_name(REMOTE_PROC_CONNECT_OPEN), Some("REMOTE_PROC_CONNECT_OPEN"));
    assert_eq!(remote_proc_name(0), None);
    assert_eq!(remote_proc_name(-1), None);
    assert_eq!(remote_proc_name(REMOTE_PROC_LAST + 1), None);
    assert_eq!(remote_proc_name(i32::MIN), None);
    assert_eq!(remote_proc_name(i32::MAX), None);
}

#[test]
fn api_name_is_libvirts_function_name() {
    let api = |n| remote_proc(n).and_then(|p| p.api_name());
    assert_eq!(api(REMOTE_PROC_CONNECT_GET_SYSINFO).as_deref(), Some("virConnectGetSysinfo"));
    assert_eq!(api(REMOTE_PROC_DOMAIN_GET_XML_DESC).as_deref(), Some("virDomainGetXMLDesc"));
    assert_eq!(api(REMOTE_PROC_DOMAIN_LOOKUP_BY_UUID).as_deref(), Some("virDomainLookupByUUID"));
    assert_eq!(api(REMOTE_PROC_NWFILTER_DEFINE_XML).as_deref(), Some("virNWFilterDefineXML"));
    assert_eq!(api(REMOTE_PROC_DOMAIN_MIGRATE_BEGIN3_PARAMS).as_deref(), Some("virDomainMigrateBegin3Params"));
    assert_eq!(api(REMOTE_PROC_DOMAIN_ANNOUNCE_INTERFACE).as_deref(), Some("virDomainAnnounceInterface"));
    // Events are sent by the daemon; no function calls them.
    assert_eq!(api(REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE), None);
    assert_eq!(api(REMOTE_PROC_DOMAIN_EVENT_VCPU_REMOVED), None);
}

#[test]
fn class_follows_libvirts_connection_choice() {
    let class = |n| remote_proc(n).map(|p| p.class);
    assert_eq!(class(REMOTE_PROC_DOMAIN_INTERFACE_ADDRESSES), Some(Class::Hypervisor));
    assert_eq!(class(REMOTE_PROC_CONNECT_LIST_ALL_NETWORKS), Some(Class::Network));
    assert_eq!(class(REMOTE_PROC_NETWORK_PORT_CREATE_XML), Some(Class::Network));
    assert_eq!(class(REMOTE_PROC_STORAGE_VOL_UPLOAD), Some(Class::Storage));
    assert_eq!(class(REMOTE_PROC_NODE_NUM_OF_DEVICES), Some(Class::NodeDev));
    assert_eq!(class(REMOTE_PROC_NODE_DEVICE_LOOKUP_BY_NAME), Some(Class::NodeDev));
    // PCI passthrough preparation is the hypervisor driver's (gendispatch.pl's exceptions).
    assert_eq!(class(REMOTE_PROC_NODE_DEVICE_DETTACH), Some(Class::Hypervisor));
    assert_eq!(class(REMOTE_PROC_NODE_DEVICE_DETACH_FLAGS), Some(Class::Hypervisor));
    assert_eq!(class(REMOTE_PROC_NODE_DEVICE_RE_ATTACH), Some(Class::Hypervisor));
    assert_eq!(class(REMOTE_PROC_NODE_DEVICE_RESET), Some(Class::Hypervisor));
    assert_eq!(class(REMOTE_PROC_INTERFACE_CHANGE_BEGIN), Some(Class::Interface));
    assert_eq!(class(REMOTE_PROC_NWFILTER_BINDING_CREATE_XML), Some(Class::NWFilter));
    assert_eq!(class(REMOTE_PROC_CONNECT_SECRET_EVENT_REGISTER_ANY), Some(Class::Secret));
    assert_eq!(class(REMOTE_PROC_AUTH_LIST), Some(Class::Auth));
    let count = |c| PROCS.iter().filter(|p| p.class == c).count();
    // Counts of libvirt 12.8 (444-446 are network ones).
    assert_eq!(count(Class::Auth), 5);
    assert_eq!(count(Class::Network), 35);
    assert_eq!(count(Class::Storage), 47);
}

#[test]
fn kind_marks_streams_fds_and_events() {
    let kind = |n| remote_proc(n).map(|p| p.kind);
    for n in [
        REMOTE_PROC_DOMAIN_OPEN_CONSOLE,
        REMOTE_PROC_DOMAIN_OPEN_CHANNEL,
        REMOTE_PROC_DOMAIN_SCREENSHOT,
        REMOTE_PROC_STORAGE_VOL_UPLOAD,
        REMOTE_PROC_STORAGE_VOL_DOWNLOAD,
        REMOTE_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL,
        REMOTE_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3,
        REMOTE_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS,
    ] {
        assert_eq!(kind(n), Some(Kind::Stream), "{n}");
    }
    for n in [
        REMOTE_PROC_DOMAIN_OPEN_GRAPHICS,
        REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD,
        REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES,
        REMOTE_PROC_DOMAIN_CREATE_WITH_FILES,
        REMOTE_PROC_DOMAIN_FD_ASSOCIATE,
    ] {
        assert_eq!(kind(n), Some(Kind::Fds), "{n}");
    }
    assert_eq!(PROCS.iter().filter(|p| p.kind == Kind::Stream).count(), 8);
    assert_eq!(PROCS.iter().filter(|p| p.kind == Kind::Fds).count(), 5);
    assert_eq!(kind(REMOTE_PROC_CONNECT_EVENT_CONNECTION_CLOSED), Some(Kind::Event));
    assert_eq!(kind(REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE), Some(Kind::Event));
    assert_eq!(kind(REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY), Some(Kind::Plain));
    // Every event procedure has EVENT in its name, and the registrations are calls.
    for p in PROCS {
        if p.kind == Kind::Event {
            assert!(p.name.contains("_EVENT_"), "{}", p.name);
            assert!(!p.name.contains("REGISTER"), "{}", p.name);
        }
    }
}

#[test]
fn since_grows_with_the_number_and_splits_at_9_0() {
    for w in PROCS.windows(2) {
        assert!(w[0].since <= w[1].since, "{} {}", w[0].name, w[1].name);
    }
    // libvirt 9.0 knows 1-443 (the wire protocol we reproduce).
    assert_eq!(PROCS.iter().filter(|p| p.known_by((9, 0, 0))).count(), 443);
    let since = |n| remote_proc(n).map(|p| p.since);
    assert_eq!(since(REMOTE_PROC_NETWORK_SET_METADATA), Some((9, 7, 0)));
    assert_eq!(since(REMOTE_PROC_DOMAIN_GRAPHICS_RELOAD), Some((10, 2, 0)));
    assert_eq!(since(REMOTE_PROC_DOMAIN_EVENT_NIC_MAC_CHANGE), Some((11, 2, 0)));
    assert_eq!(since(REMOTE_PROC_DOMAIN_EVENT_CALLBACK_CHANNEL_LIFECYCLE), Some((12, 4, 0)));
    assert_eq!(since(REMOTE_PROC_DOMAIN_ANNOUNCE_INTERFACE), Some((12, 5, 0)));
}
