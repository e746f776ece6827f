//! Every number a user gives is bounded and every key checked: an absurd value or a misspelt
//! key is refused at once (exit 2) with the field, the value, the accepted range and a hint,
//! instead of running for ever or being ignored.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel)
}

/// Runs the command and returns (exit code, stderr); a guard of 60 s catches a hang.
fn smpscope(args: &[&str]) -> (Option<i32>, String) {
    let started = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_smpscope")).args(args).output().expect("the command runs");
    assert!(started.elapsed() < Duration::from_secs(60), "{args:?} took {:?}", started.elapsed());
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn refused(args: &[&str], wanted: &[&str]) {
    let (code, err) = smpscope(args);
    assert_eq!(code, Some(2), "{args:?}: {err}");
    for w in wanted {
        assert!(err.contains(w), "{args:?}: {w:?} not in {err}");
    }
    assert!(err.len() < 600, "a short message: {err}");
}

#[test]
fn absurd_numbers_are_refused_with_their_range() {
    let photo = fixture("photos/demo-1.jpg");
    let p = photo.to_str().unwrap();
    refused(&["analyze", p, "--camera-blur-um", "1e9"], &["camera_blur_um", "1.000e9", "0 to 150 um", "typical"]);
    refused(&["analyze", p, "--px-per-mm", "1e308"], &["px_per_mm", "1.000e308", "1 to 5000 px/mm"]);
    refused(&["analyze", p, "--px-per-mm", "NaN"], &["px_per_mm", "NaN"]);
    refused(&["analyze", p, "--threads", "100000"], &["threads", "1 to 256"]);
    refused(&["analyze", p, "--threads", "0"], &["threads"]);
    let v = fixture("patient/visit-1.jpg");
    let v = v.to_str().unwrap();
    refused(&["track", v, v, "--threshold", "1e308"], &["touch_up_threshold", "1.000e308", "0.01 to 0.99"]);
}

#[test]
fn parameter_files_refuse_absurd_numbers_and_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let photo = fixture("photos/demo-1.jpg");
    let p = photo.to_str().unwrap();
    let write = |name: &str, text: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        f.display().to_string()
    };
    let f = write("huge.json", r#"{"detect": {"max_diameter_um": 1e15}}"#);
    refused(&["analyze", p, "--params", &f], &["detect.max_diameter_um", "1.000e15", "20 to 2000 um"]);
    let f = write("typo.json", r#"{"detect": {"min_diamter_um": 300}}"#);
    refused(&["analyze", p, "--params", &f], &["typo.json", "min_diamter_um", "did you mean `min_diameter_um`?"]);
    let f = write("typo.toml", "[measure]\nmin_snrr = 4\n");
    refused(&["analyze", p, "--params", &f], &["typo.toml", "did you mean `min_snr`?"]);
    let f = write("top.json", r#"{"px_per_mmm": 40}"#);
    refused(&["analyze", p, "--params", &f], &["did you mean `px_per_mm`?"]);
    let f = write("blur.toml", "[[device]]\nmake = \"a\"\nmodel = \"b\"\npx_per_mm = 40\nblur_um = 1e9\n");
    refused(&["analyze", p, "--profiles", &f], &["blur.toml", "blur_um", "1.000e9", "0 to 150 um"]);
    let f = write("key.toml", "[[device]]\nmake = \"a\"\nmodel = \"b\"\npx_per_mm = 40\nblur = 5\n");
    refused(&["analyze", p, "--profiles", &f], &["key.toml", "unknown field `blur`", "did you mean `blur_um`?"]);
    let v = fixture("patient/visit-1.jpg");
    let v = v.to_str().unwrap();
    let f = write("track.json", r#"{"touch_up_treshold": 0.4}"#);
    refused(&["track", v, v, "--track-params", &f], &["did you mean `touch_up_threshold`?"]);
}

#[test]
fn visit_dates_and_repeated_photos_are_checked() {
    let (v1, v2) = (fixture("patient/visit-1.jpg"), fixture("patient/visit-2.jpg"));
    let (v1, v2) = (v1.to_str().unwrap(), v2.to_str().unwrap());
    refused(&["track", v1, v1, "-q"], &["visit-1.jpg is given twice (visits 1 and 2)"]);
    refused(
        &["track", v1, v2, "--dates", "2024-13-01,2025-01-01", "-q"],
        &["\"2024-13-01\" is not a date", "YYYY-MM-DD"],
    );
    refused(
        &["track", v1, v2, "--dates", "1900-01-01,2025-01-01", "-q"],
        &["1900-01-01 is outside 1990-01-01 to 2100-12-31"],
    );
    // Odd but possible: warned of in the document, not refused.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.json");
    let o = Command::new(env!("CARGO_BIN_EXE_smpscope"))
        .args(["track", v1, v2, "--dates", "2031-05-01,2031-05-01", "--px-per-mm", "40", "-q", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let codes: Vec<&str> =
        doc["warning_codes"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"same_date") && codes.contains(&"date_mismatch"), "{codes:?}");
}
