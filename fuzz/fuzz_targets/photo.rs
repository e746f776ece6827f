//! `photo`: see smpscope::fuzzing::photo, which the replay test (crates/smpscope/tests/fuzz_corpus.rs)
//! also runs on every file of fuzz/corpus/photo.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| smpscope::fuzzing::photo(data));
