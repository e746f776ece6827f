//! `params`: see smpscope::fuzzing::params, which the replay test (crates/smpscope/tests/fuzz_corpus.rs)
//! also runs on every file of fuzz/corpus/params.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| smpscope::fuzzing::params(data));
