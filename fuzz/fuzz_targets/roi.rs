//! `roi`: see smpscope::fuzzing::roi, which the replay test (crates/smpscope/tests/fuzz_corpus.rs)
//! also runs on every file of fuzz/corpus/roi.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| smpscope::fuzzing::roi(data));
