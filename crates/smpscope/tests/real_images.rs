//! Real camera, orientation, odd-EXIF, format and broken files (fixtures/real): every one is
//! either analysed or refused with an error naming the file; none panics; none is written.

use std::path::{Path, PathBuf};

use smpscope::{Params, photo};

fn real(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/real").join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

fn params() -> Params {
    Params { px_per_mm: Some(40.0), ..Default::default() }
}

#[test]
fn every_real_file_is_analysed_or_refused_by_name() {
    for dir in ["broken", "camera", "formats", "odd-exif", "orientation"] {
        for path in real(dir) {
            let before = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| smpscope::analyze_path(&path, &params()));
            let result = result.unwrap_or_else(|_| panic!("{} panicked", path.display()));
            if let Err(e) = &result {
                let msg = e.to_string();
                assert!(msg.starts_with(&path.display().to_string()), "error does not name the file: {msg}");
            }
            assert_eq!(std::fs::read(&path).unwrap(), before, "{} was modified", path.display());
        }
    }
}

#[test]
fn truncated_jpegs_are_refused() {
    for name in ["pillow__truncated_jpeg.jpg", "imagers__oss-fuzz-36829.jpeg"] {
        let path = real("broken").into_iter().find(|p| p.ends_with(name)).unwrap();
        let e = smpscope::analyze_path(&path, &params()).unwrap_err().to_string();
        assert!(e.contains(name), "{e}");
    }
}

#[test]
fn camera_exif_is_read() {
    let p = real("camera").into_iter().find(|p| p.ends_with("exifpy__Canon_40D.jpg")).unwrap();
    let photo = photo::load_path(&p).unwrap();
    assert_eq!(photo.info.camera_make.as_deref(), Some("Canon"));
    assert_eq!(photo.info.camera_model.as_deref(), Some("Canon EOS 40D"));
    assert!(photo.info.captured_at.as_deref().is_some_and(|d| d.starts_with("2008-")), "{:?}", photo.info.captured_at);
}

/// The recurser set holds the same picture stored under every EXIF orientation: once
/// applied, each must match orientation 1.
#[test]
fn orientation_is_applied() {
    for kind in ["Landscape", "Portrait"] {
        let files: Vec<PathBuf> = real("orientation")
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(&format!("recurser__{kind}_")))
            .collect();
        let reference =
            photo::load_path(files.iter().find(|p| p.to_string_lossy().ends_with("_1.jpg")).unwrap()).unwrap();
        let r = reference.to_rgb8();
        for f in &files {
            let p = photo::load_path(f).unwrap();
            assert_eq!((p.info.width, p.info.height), (reference.info.width, reference.info.height), "{}", f.display());
            let img = p.to_rgb8();
            let diff: f64 =
                img.as_raw().iter().zip(r.as_raw()).map(|(a, b)| (*a as f64 - *b as f64).abs()).sum::<f64>()
                    / img.as_raw().len() as f64;
            assert!(diff < 12.0, "{}: mean difference {diff} from the upright reference", f.display());
        }
    }
}

#[test]
fn sixteen_bit_and_grey_tiffs_load() {
    for name in ["pillow__16bit.MM.cropped.tif", "pillow__tiff_16bit_RGB.tiff", "imagers__basi0g16.png"] {
        let p = real("formats").into_iter().find(|p| p.ends_with(name)).unwrap();
        let photo = photo::load_path(&p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(photo.info.bit_depth, 16, "{name}");
        smpscope::analyze_photo(&photo, &params()).unwrap();
    }
}
