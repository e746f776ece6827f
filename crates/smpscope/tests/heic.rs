//! HEIC/HEIF photos read through libheif (the `heic` feature): the demo photo saved as HEIC by
//! libheif's heif-enc (quality 92, EXIF kept) measures as its JPEG does, and a phone-style file
//! with EXIF gives its camera.
#![cfg(feature = "heic")]

use std::path::Path;

use smpscope::{Params, analyze_path, photo};

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel)
}

#[test]
fn a_heic_photo_measures_as_its_jpeg() {
    let params = Params { px_per_mm: Some(40.0), ..Default::default() };
    let heic = analyze_path(&fixture("photos/demo-1.heic"), &params).unwrap();
    let jpeg = analyze_path(&fixture("photos/demo-1.jpg"), &params).unwrap();
    assert_eq!((heic.image.format.as_str(), heic.image.width, heic.image.height), ("heic", 800, 600));
    assert_eq!(heic.image.camera_model, jpeg.image.camera_model);
    assert_eq!(heic.image.captured_at, jpeg.image.captured_at);
    // The truth: 211 dots on 3 cm^2 (70.3 per cm^2); a second lossy encoding moves little.
    let (h, j) = (heic.summary.density_per_cm2.unwrap(), jpeg.summary.density_per_cm2.unwrap());
    assert!((h / 70.3 - 1.0).abs() < 0.05 && (h / j - 1.0).abs() < 0.03, "heic {h}, jpeg {j}");
    let d = |a: &smpscope::Analysis| a.summary.distributions.diameter_um.as_ref().unwrap().median;
    assert!((d(&heic) - d(&jpeg)).abs() < 5.0, "diameter {} vs {}", d(&heic), d(&jpeg));
}

#[test]
fn heic_files_decode_with_their_exif_or_say_what_is_wrong() {
    let p = photo::load_path(&fixture("real/formats/exifrs__exif.heic")).unwrap();
    assert_eq!((p.width(), p.height(), p.info.format.as_str()), (64, 64, "heic"));
    let hopper = photo::load_path(&fixture("real/formats/pillow__hopper.heif")).unwrap();
    assert!(hopper.width() > 0);
    let mut cut = std::fs::read(fixture("photos/demo-1.heic")).unwrap();
    cut.truncate(cut.len() / 2);
    let e = photo::load_bytes(&cut, "cut.heic").unwrap_err().to_string();
    assert!(e.starts_with("cut.heic: ") && e.contains("HEIC"), "{e}");
}
