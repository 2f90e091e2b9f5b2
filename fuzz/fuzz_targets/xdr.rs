#![no_main]
// Fuzz target: xdr. The body lives in the library so that t/fuzz_corpus.rs replays the corpus.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    virtlite::xdr::fuzz_target(data);
});
