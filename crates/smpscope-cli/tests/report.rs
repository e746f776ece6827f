//! `smpscope report`: the demo patient's report from photos and from saved documents (nothing
//! analysed again), one photo, and the outputs' safety (never an input, nothing half-written).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel)
}

fn smpscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smpscope")).args(args).output().expect("the command runs")
}

fn visits() -> Vec<String> {
    (1..=4).map(|i| fixture(&format!("patient/visit-{i}.jpg")).display().to_string()).collect()
}

fn profiles() -> String {
    fixture("devices.toml").display().to_string()
}

fn sections(html: &str) -> usize {
    html.matches("<section class=\"page visit\"").count()
}

#[test]
fn the_patient_report_from_photos_and_from_saved_documents_agree() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("patient.html");
    let profiles = profiles();
    let mut args: Vec<&str> = vec!["report"];
    let v = visits();
    args.extend(v.iter().map(String::as_str));
    args.extend(["--profiles", &profiles, "--label", "P-0042", "-q", "--out", out.to_str().unwrap()]);
    let r = smpscope(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let from_photos = std::fs::read_to_string(&out).unwrap();
    assert_eq!(sections(&from_photos), 4);
    assert!(from_photos.contains("P-0042") && from_photos.contains("id=\"fade-plot\""));

    // The same from `analyze --json` and `track --out` documents: nothing is analysed again, and
    // the photos are read back from the paths the documents name for the pictures.
    let docs = dir.path().join("visits.json");
    let track = dir.path().join("track.json");
    let mut a: Vec<&str> = vec!["analyze"];
    a.extend(v.iter().map(String::as_str));
    a.extend(["--profiles", &profiles, "-q", "--json", docs.to_str().unwrap()]);
    assert!(smpscope(&a).status.success());
    let mut t: Vec<&str> = vec!["track"];
    t.extend(v.iter().map(String::as_str));
    t.extend(["--profiles", &profiles, "-q", "--out", track.to_str().unwrap()]);
    assert!(smpscope(&t).status.success());
    let out2 = dir.path().join("from-documents.html");
    let r = smpscope(&[
        "report",
        docs.to_str().unwrap(),
        "--track",
        track.to_str().unwrap(),
        "--label",
        "P-0042",
        "-q",
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let from_docs = std::fs::read_to_string(&out2).unwrap();
    assert_eq!(sections(&from_docs), 4);
    assert_eq!(from_docs.matches("data:image/jpeg;base64,").count(), 4);
    // The same figures in the summary (the provenance differs: other files, no parameters).
    let summary = |h: &str| h[..h.find("<section class=\"page visit\"").unwrap()].to_string();
    assert_eq!(summary(&from_docs), summary(&from_photos));
}

#[test]
fn one_photo_gives_a_report_without_a_fade_curve() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("one.html");
    let photo = fixture("photos/demo-1.jpg");
    let r = smpscope(&["report", photo.to_str().unwrap(), "--px-per-mm", "40", "-q", "--out", out.to_str().unwrap()]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(sections(&html), 1);
    assert!(!html.contains("id=\"fade-plot\""));
}

#[test]
fn an_input_is_never_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("visit.jpg");
    std::fs::copy(fixture("photos/demo-1.jpg"), &photo).unwrap();
    let before = std::fs::read(&photo).unwrap();
    let r = smpscope(&["report", photo.to_str().unwrap(), "--px-per-mm", "40", "-q", "--out", photo.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("it is the input"));
    assert_eq!(std::fs::read(&photo).unwrap(), before);
    // A failed report leaves no file behind.
    let out = dir.path().join("r.html");
    let r = smpscope(&[
        "report",
        photo.to_str().unwrap(),
        "--dates",
        "2024-01-01,2024-02-01",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(!out.exists());
}
