//! The command's contract: one JSON document per photo, an error record and exit 1 for a bad
//! photo while the others still run, exit 2 for bad arguments, null lengths without a scale.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel)
}

fn smpscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_smpscope")).args(args).output().expect("the command runs")
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_bad_photo_gives_an_error_record_and_the_others_still_run() {
    let out = tempfile::tempdir().unwrap();
    let good = fixture("photos/demo-1.jpg");
    let bad = fixture("real/broken/pillow__truncated_jpeg.jpg");
    let before = std::fs::read(&bad).unwrap();
    let o = smpscope(&[
        "analyze",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
        "--profiles",
        fixture("devices.toml").to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--overlay",
        out.path().to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("pillow__truncated_jpeg.jpg"));

    let doc = read(&out.path().join("demo-1.json"));
    assert_eq!(doc["schema"], "smpscope.analysis/1");
    assert_eq!(doc["scale"]["source"], "device_profile");
    assert_eq!(doc["image"]["captured_at"], "2026-01-15T10:30:00");
    let truth = read(&fixture("photos/demo-1.truth.json"));
    let (n, t) = (doc["summary"]["dot_count"].as_f64().unwrap(), truth["dots"].as_array().unwrap().len() as f64);
    assert!((n - t).abs() <= 0.06 * t, "{n} dots found, {t} in truth");
    let dots = doc["dots"].as_array().unwrap();
    for field in [
        "x",
        "y",
        "diameter_um",
        "spread_um",
        "fwhm_um",
        "peak_od",
        "ink",
        "eccentricity",
        "angle_deg",
        "lab",
        "skin_lab",
        "delta_e",
        "score",
    ] {
        assert!(!dots[0][field].is_null(), "dot field {field} missing");
    }
    assert!(out.path().join("demo-1.overlay.png").exists());

    let err = read(&out.path().join("pillow__truncated_jpeg.json"));
    assert_eq!(err["schema"], "smpscope.error/1");
    assert!(err["error"]["message"].as_str().unwrap().contains("pillow__truncated_jpeg.jpg"));
    assert_eq!(std::fs::read(&bad).unwrap(), before, "input files are never written to");
}

#[test]
fn without_a_scale_lengths_are_null_with_a_warning() {
    let o = smpscope(&["analyze", fixture("photos/demo-2.jpg").to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc["scale"]["px_per_mm"].is_null());
    assert!(doc["summary"]["density_per_cm2"].is_null());
    assert!(doc["dots"][0]["diameter_um"].is_null() && doc["dots"][0]["peak_od"].is_number());
    assert!(doc["summary"]["dot_count"].as_u64().unwrap() > 100);
    assert!(doc["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("scale")));
    let codes: Vec<&str> =
        doc["warning_codes"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"no_scale"), "{codes:?}");
    assert_eq!(codes.len(), doc["warnings"].as_array().unwrap().len());
}

#[test]
fn nonsense_arguments_exit_2() {
    let photo = fixture("photos/demo-1.jpg");
    for args in [
        vec!["analyze", photo.to_str().unwrap(), "--px-per-mm", "-3"],
        vec!["analyze", "/no/such/photo.jpg", "--roi", "/no/such/roi.json"],
    ] {
        let o = smpscope(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(!o.stderr.is_empty());
    }
}

#[test]
fn track_follows_the_demo_patient_and_writes_csv() {
    let out = tempfile::tempdir().unwrap();
    let csv = out.path().join("visits.csv");
    let json = out.path().join("track.json");
    let mut args: Vec<String> = vec!["track".into()];
    // Given out of order: the EXIF dates decide.
    for v in [3, 1, 4, 2] {
        args.push(fixture(&format!("patient/visit-{v}.jpg")).display().to_string());
    }
    for a in [
        "--profiles",
        fixture("devices.toml").to_str().unwrap(),
        "--out",
        json.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "-q",
    ] {
        args.push(a.into());
    }
    let o = smpscope(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let doc = read(&json);
    assert_eq!(doc["schema"], "smpscope.track/1");
    let visits = doc["visits"].as_array().unwrap();
    let dates: Vec<&str> = visits.iter().map(|v| v["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2023-03-14", "2023-11-12", "2024-11-12", "2026-01-12"]);
    // The truth of the demo patient (fixtures/patient/series.truth.json): ink kept 0.830 and
    // 0.625 at the second and third visits, a touch-up before the fourth.
    let ink: Vec<f64> = visits[1..3].iter().map(|v| v["ink_retained"].as_f64().unwrap()).collect();
    assert!((ink[0] - 0.830).abs() < 0.03 && (ink[1] - 0.625).abs() < 0.03, "{ink:?}");
    assert_eq!(
        visits.iter().map(|v| v["touch_up"].as_bool().unwrap()).collect::<Vec<_>>(),
        [false, false, false, true]
    );
    // True delta b* (median over the dots, first visit's light): blueing, then fresh ink.
    for (v, truth) in visits[1..].iter().zip([-1.70, -2.10, 0.0]) {
        assert!(v["registration"]["residual_um"].as_f64().unwrap() < 25.0);
        let db = v["delta_b"].as_f64().unwrap();
        let interval: Vec<f64> =
            v["delta_b_interval"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert!(interval[0] < db && db < interval[1] && interval[0] < truth && truth < interval[1], "{truth}: {v}");
        if truth < 0.0 {
            assert!(interval[1] < 0.0, "blueing seen with certainty: {v}");
        }
    }
    let trend = &doc["trend"];
    assert_eq!(trend["baseline_visit"], 3);
    assert!(trend["half_life_months"].as_f64().is_some_and(|h| (h - 30.0).abs() < 6.0), "{trend}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert!(text.starts_with("visit,source,date,months,baseline,touch_up"));
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    for column in ["ink_retained", "delta_b_low", "pigment_shift", "pigment_shift_high", "input"] {
        assert!(header.contains(&column), "{column} missing from {header:?}");
    }
    assert!(text.lines().all(|l| l.split(',').count() == header.len()));
}

#[test]
fn track_leaves_out_a_visit_of_another_scalp_area() {
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("track.json");
    let (v1, v2, other) =
        (fixture("patient/visit-1.jpg"), fixture("patient/visit-2.jpg"), fixture("photos/demo-1.jpg"));
    let o = smpscope(&[
        "track",
        v1.to_str().unwrap(),
        v2.to_str().unwrap(),
        other.to_str().unwrap(),
        "--dates",
        "2023-03-14,2023-11-12,2024-05-01",
        "--profiles",
        fixture("devices.toml").to_str().unwrap(),
        "--out",
        json.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("demo-1.jpg: cannot register"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc = read(&json);
    assert_eq!(doc["visits"].as_array().unwrap().len(), 2);
    assert!(
        doc["left_out"][0]["source"].as_str().unwrap().ends_with("demo-1.jpg")
            && doc["left_out"][0]["date"] == "2024-05-01",
        "{}",
        doc["left_out"]
    );
    // Alone with the first visit, it refuses the series.
    let o = smpscope(&[
        "track",
        v1.to_str().unwrap(),
        other.to_str().unwrap(),
        "--dates",
        "2023-03-14,2024-05-01",
        "--profiles",
        fixture("devices.toml").to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn track_refuses_a_visit_without_a_date_and_wrong_date_counts() {
    let p = fixture("photos/demo-1.jpg");
    let o = smpscope(&["track", p.to_str().unwrap(), p.to_str().unwrap(), "--dates", "2024-01-01", "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("dates"));
}
