//! `documents`: see smpscope::fuzzing::documents, which the replay test (crates/smpscope/tests/fuzz_corpus.rs)
//! also runs on every file of fuzz/corpus/documents.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| smpscope::fuzzing::documents(data));
