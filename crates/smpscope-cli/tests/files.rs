//! The command never writes onto an input, finds unwritable outputs before the work, and
//! `track` reads what `analyze --json FILE` writes.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel)
}

fn smpscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_smpscope")).args(args).output().expect("the command runs")
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn json_onto_the_photo_is_refused_and_the_photo_kept() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.jpg");
    std::fs::copy(fixture("photos/demo-1.jpg"), &victim).unwrap();
    let before = std::fs::read(&victim).unwrap();
    let o = smpscope(&["analyze", s(&victim), "--px-per-mm", "40", "--json", s(&victim), "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("it is the input") && stderr(&o).contains("victim.jpg"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&victim).unwrap(), before);
}

#[test]
fn out_folder_documents_never_replace_an_input() {
    // A JPEG saved as "scan.json" would be replaced by its own document "scan.json".
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("scan.json");
    std::fs::copy(fixture("photos/demo-1.jpg"), &photo).unwrap();
    let before = std::fs::read(&photo).unwrap();
    let o = smpscope(&["analyze", s(&photo), "--px-per-mm", "40", "--out", s(dir.path()), "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read(&photo).unwrap(), before);
}

#[test]
fn an_unwritable_output_fails_before_the_work_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("track.json");
    let csv = dir.path().join("no-such-folder/visits.csv");
    let (v1, v2) = (fixture("patient/visit-1.jpg"), fixture("patient/visit-2.jpg"));
    let started = std::time::Instant::now();
    let o = smpscope(&["track", s(&v1), s(&v2), "--px-per-mm", "40", "--out", s(&out), "--csv", s(&csv), "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("cannot write") && e.contains("visits.csv") && e.contains("does not exist"), "{e}");
    assert!(!out.exists(), "no partial output");
    // Refused before the photos were analysed (each takes about a second).
    assert!(started.elapsed().as_secs_f64() < 30.0);
    // A folder inside a file cannot be made.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let o = smpscope(&["analyze", s(&v1), "--px-per-mm", "40", "--out", s(&file.join("x")), "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
    let o = smpscope(&["analyze", s(&v1), "--px-per-mm", "40", "--json", s(dir.path()), "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a folder"), "{}", stderr(&o));
}

#[test]
fn track_reads_the_array_that_analyze_json_writes() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("visits.json");
    let visits: Vec<PathBuf> = (1..=3).map(|v| fixture(&format!("patient/visit-{v}.jpg"))).collect();
    let profiles = fixture("devices.toml");
    let mut args = vec!["analyze"];
    args.extend(visits.iter().map(|p| s(p)));
    args.extend(["--profiles", s(&profiles), "--json", s(&all), "-q"]);
    let o = smpscope(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = dir.path().join("track.json");
    let o = smpscope(&["track", s(&all), "--out", s(&out), "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["visits"].as_array().unwrap().len(), 3);

    // A document of another schema is named with its place in the file.
    let mut docs: Value = serde_json::from_str(&std::fs::read_to_string(&all).unwrap()).unwrap();
    docs[1]["schema"] = "smpscope.analysis/99".into();
    std::fs::write(&all, docs.to_string()).unwrap();
    let o = smpscope(&["track", s(&all), "-q"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("visits.json") && e.contains("document 2 of 3") && e.contains("analysis/99"), "{e}");
    std::fs::write(&all, r#"{"schema": "banana"}"#).unwrap();
    let o = smpscope(&["track", s(&all), s(&all), "-q"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("\"banana\""), "{}", stderr(&o));
}
