#![no_main]
// Fuzz target: uri. The body lives in the library so that t/fuzz_corpus.rs replays the corpus.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    virtlite::remote::sockets::fuzz_target(data);
});
