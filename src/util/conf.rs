//! placeholder

/// Fuzz entry point (fuzz/fuzz_targets/), also replayed over the corpus by t/fuzz_corpus.rs.
pub fn fuzz_target(_data: &[u8]) {}
