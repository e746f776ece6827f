//! Replays every file of the fuzz corpora (fuzz/corpus/<target>/, kept by scripts/fuzz.sh) and
//! the inputs of the bugs they found (fuzz/regressions/<target>/) through the same calls as the
//! fuzz targets, on stable Rust: whatever a file holds, the result may be an error, never a panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn replay(target: &str, body: fn(&[u8])) {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let dir = fuzz.join("corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .chain(std::fs::read_dir(fuzz.join("regressions").join(target)).into_iter().flatten())
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    let mut failed = Vec::new();
    let mut slowest = (Duration::ZERO, PathBuf::new());
    for path in &files {
        let data = std::fs::read(path).expect("a corpus file");
        let start = Instant::now();
        if catch_unwind(AssertUnwindSafe(|| body(&data))).is_err() {
            failed.push(path.display().to_string());
        }
        slowest = slowest.max((start.elapsed(), path.clone()));
    }
    eprintln!("{target}: {} files, slowest {:?} ({})", files.len(), slowest.0, slowest.1.display());
    assert!(failed.is_empty(), "{target}: {} of {} files panic: {failed:#?}", failed.len(), files.len());
}

#[test]
fn photo_corpus() {
    replay("photo", smpscope::fuzzing::photo);
}

#[test]
fn params_corpus() {
    replay("params", smpscope::fuzzing::params);
}

#[test]
fn profiles_corpus() {
    replay("profiles", smpscope::fuzzing::profiles);
}

#[test]
fn roi_corpus() {
    replay("roi", smpscope::fuzzing::roi);
}

#[test]
fn documents_corpus() {
    replay("documents", smpscope::fuzzing::documents);
}
