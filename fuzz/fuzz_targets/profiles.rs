//! `profiles`: see smpscope::fuzzing::profiles, which the replay test (crates/smpscope/tests/fuzz_corpus.rs)
//! also runs on every file of fuzz/corpus/profiles.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| smpscope::fuzzing::profiles(data));
