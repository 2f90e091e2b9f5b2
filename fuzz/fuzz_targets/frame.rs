#![no_main]
// Fuzz target: frame. The body lives in the library so that t/fuzz_corpus.rs replays the corpus.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    virtlite::rpc::message::fuzz_target(data);
});
