#![no_main]
// Fuzz target: domain_xml. The body lives in the library so that t/fuzz_corpus.rs replays the corpus.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    virtlite::libxl::domain_xml::fuzz_target(data);
});
