//! Careless input that once went wrong silently or hung: a FIFO and /dev/zero, files past the
//! size limit, TIFF tags, transparent PNGs and CMYK JPEGs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use smpscope::{Error, Params, WarningCode, photo};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel)
}

fn codes(p: &smpscope::Photo) -> Vec<WarningCode> {
    p.warnings.iter().map(|w| w.code).collect()
}

#[cfg(unix)]
#[test]
fn devices_and_fifos_are_refused_at_once() {
    let started = Instant::now();
    let e = photo::load_path(Path::new("/dev/zero")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("not a regular file"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("photo.jpg");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let e = photo::load_path(&fifo).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
    }
    let e = photo::load_path(dir.path()).unwrap_err();
    assert!(e.to_string().contains("a folder"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn files_past_the_size_limit_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("huge.tif");
    // A sparse file: its length passes the limit without a byte written.
    std::fs::File::create(&big).unwrap().set_len(photo::MAX_FILE_BYTES + 1).unwrap();
    let e = photo::load_path(&big).unwrap_err();
    assert!(e.to_string().contains("photo files up to 1024 MB"), "{e}");
}

#[test]
fn tiff_tags_are_read() {
    // Stored 88 x 590 (its ImageWidth and ImageLength tags) with orientation 6: upright it is
    // 590 x 88, as Pillow shows it.
    let p = photo::load_path(&fixture("real/orientation/pillow__g4_orientation_6.tif")).unwrap();
    assert_eq!(p.info.orientation, 6, "{:?}", p.warnings);
    assert_eq!((p.info.width, p.info.height), (590, 88));
}

#[test]
fn transparency_is_refused_or_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let save = |name: &str, alpha: fn(u32) -> u8| {
        let img = image::RgbaImage::from_fn(200, 150, |x, _| image::Rgba([200, 150, 120, alpha(x)]));
        let path = dir.path().join(name);
        img.save(&path).unwrap();
        path
    };
    let clear = save("clear.png", |_| 0);
    let e = smpscope::analyze_path(&clear, &Params::default()).unwrap_err();
    assert!(e.to_string().contains("100 % of the photo is fully transparent"), "{e}");
    let edge = save("edge.png", |x| if x < 20 { 0 } else { 255 });
    assert!(codes(&photo::load_path(&edge).unwrap()).contains(&WarningCode::AlphaIgnored));
}

#[test]
fn cmyk_jpegs_are_read_with_a_warning() {
    let p = photo::load_path(&fixture("real/odd-exif/pillow__pil_sample_cmyk.jpg")).unwrap();
    assert!(codes(&p).contains(&WarningCode::CmykConverted), "{:?}", p.warnings);
    let rgb = photo::load_path(&fixture("photos/demo-1.jpg")).unwrap();
    assert!(!codes(&rgb).contains(&WarningCode::CmykConverted));
}

#[test]
fn unreadable_files_are_explained_without_decoder_internals() {
    let leaks = ["ChunkType", "Unknown(", "Memory limit exceeded", "failed to fill whole buffer", "Format error"];
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(fixture("real/broken")).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.extend(std::fs::read_dir(fixture("real/formats")).unwrap().map(|e| e.unwrap().path()));
    for path in dirs {
        if let Err(e) = photo::load_path(&path) {
            let msg = e.to_string();
            assert!(!leaks.iter().any(|l| msg.contains(l)), "{msg}");
        }
    }
    let said = |rel: &str| photo::load_path(&fixture(rel)).unwrap_err().to_string();
    assert!(said("real/formats/pillow__hopper_bigtiff.tif").contains("a BigTIFF file"));
    // Without the heic feature, HEIC is refused with what to do (tests/heic.rs reads it with).
    if cfg!(not(feature = "heic")) {
        assert!(said("real/formats/pillow__hopper.heif").contains("a HEIC/HEIF photo"));
        assert!(said("real/formats/exifrs__exif.heic").contains("--features heic"));
    }
    assert!(said("real/broken/pillow__crash-2020-10-test.tif").contains("more than 2 GB of memory"));
    assert!(said("real/broken/pillow__truncated_image.png").contains("ends too early"));
}
