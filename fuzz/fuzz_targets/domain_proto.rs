#![no_main]
// Fuzz target: domain_proto. The body lives in the library so that t/fuzz_corpus.rs replays the corpus.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    virtlite::remote::domain_proto::fuzz_target(data);
});
