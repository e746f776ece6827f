//! The calibration marker on the repository's files: found on its own raster at the scale
//! marker.json states, never found on a photo without it, and the files agree with the layout.

use std::path::{Path, PathBuf};

use smpscope::marker::{self, MarkerParams, layout};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn marker_json() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("calibration/marker.json")).unwrap()).unwrap()
}

#[test]
fn marker_json_holds_the_layout_the_detector_reads() {
    let json = marker_json();
    assert_eq!(
        json["elements"],
        serde_json::to_value(layout::elements()).unwrap(),
        "regenerate with the marker_files example"
    );
    assert_eq!(json["card_mm"][0], layout::CARD_MM);
}

#[test]
fn the_markers_own_raster_is_read_at_its_stated_scale() {
    let json = marker_json();
    let want = json["png"]["px_per_mm"].as_f64().unwrap();
    let photo = smpscope::photo::load_path(&fixtures().join("calibration/marker.png")).unwrap();
    let mut warnings = Vec::new();
    let m = marker::detect(&photo, &MarkerParams::default(), &mut warnings).expect("marker found");
    assert!((m.px_per_mm / want - 1.0).abs() < 1e-3, "{} vs {want}", m.px_per_mm);
    assert!(m.tilt_deg < 0.5, "{}", m.tilt_deg);
    // The top-left corner as printed is the raster's top-left.
    assert!(m.corners_px[0][0] < 100.0 && m.corners_px[0][1] < 100.0, "{:?}", m.corners_px);
    assert!(warnings.is_empty(), "{warnings:?}");
}

fn photos_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            photos_under(&p, out);
        } else if p.extension().is_some_and(|x| {
            ["jpg", "jpeg", "png", "tif", "tiff"].contains(&x.to_string_lossy().to_lowercase().as_str())
        }) {
            out.push(p);
        }
    }
}

#[test]
fn no_marker_is_found_on_a_photo_without_one() {
    let mut files = Vec::new();
    for d in ["photos", "patient", "real"] {
        photos_under(&fixtures().join(d), &mut files);
    }
    let mut read = 0;
    for f in files.iter().filter(|f| !f.file_name().unwrap().to_string_lossy().contains("marker")) {
        let Ok(photo) = smpscope::photo::load_path(f) else { continue };
        read += 1;
        let mut warnings = Vec::new();
        let m = marker::detect(&photo, &MarkerParams::default(), &mut warnings);
        assert!(m.is_none(), "{}: a marker was invented", f.display());
        assert!(warnings.is_empty(), "{}: {warnings:?}", f.display());
    }
    assert!(read >= 10, "{read} photos read");
}

#[test]
fn an_expected_marker_that_is_absent_is_named_as_such() {
    let expected = MarkerParams { expected: true, ..Default::default() };
    for name in ["photos/demo-1.jpg", "patient/visit-2.jpg"] {
        let photo = smpscope::photo::load_path(&fixtures().join(name)).unwrap();
        let mut warnings = Vec::new();
        assert!(marker::detect(&photo, &expected, &mut warnings).is_none());
        let codes: Vec<_> = warnings.iter().map(|w| w.code).collect();
        assert_eq!(codes, [smpscope::WarningCode::MarkerNotFound], "{name}");
    }
}
