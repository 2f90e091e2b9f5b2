//! Replays every file of each fuzz corpus (fuzz/corpus/<target>/) through the
//! same entry point the fuzzer uses, as a normal test: a crash found once stays fixed.
use std::fs;
use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut n = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_file() {
            f(&fs::read(&path).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "corpus {} is empty", dir.display());
}

#[test]
fn conf_corpus_replays_without_panic() {
    replay("conf", virtlite::util::conf::fuzz_target);
}

#[test]
fn frame_corpus_replays_without_panic() {
    replay("frame", virtlite::rpc::message::fuzz_target);
}

#[test]
fn xdr_corpus_replays_without_panic() {
    replay("xdr", virtlite::xdr::fuzz_target);
}

#[cfg(feature = "xen")]
#[test]
fn domain_xml_corpus_replays_without_panic() {
    replay("domain_xml", virtlite::libxl::domain_xml::fuzz_target);
}

#[test]
fn uri_corpus_replays_without_panic() {
    replay("uri", virtlite::remote::sockets::fuzz_target);
}

#[test]
fn tls_priority_corpus_replays_without_panic() {
    replay("tls_priority", virtlite::rpc::tls::priority::fuzz_target);
}

#[test]
fn domain_proto_corpus_replays_without_panic() {
    replay("domain_proto", virtlite::remote::domain_proto::fuzz_target);
}
