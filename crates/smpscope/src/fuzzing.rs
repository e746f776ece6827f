//! The bodies of the fuzz targets (`fuzz/fuzz_targets/*.rs`), in one place so that the replay
//! test (`tests/fuzz_corpus.rs`) runs every corpus file through exactly the same calls on stable
//! Rust. Each takes arbitrary bytes, goes only through the public API and returns nothing: any
//! `Ok` or `Err` is fine; a panic, a hang or a wild allocation is the bug they look for.
//! Not part of the API (hidden from the docs, no stability promised).

use std::sync::OnceLock;

use chrono::NaiveDate;

use crate::photo::{self, MAX_PIXELS, Photo, Pixels};
use crate::region::{Region, Roi};
use crate::{ANALYSIS_SCHEMA, Analysis, DeviceProfiles, Params, TrackParams, Visit};

/// Largest photo the `photo` target decodes (pixels): the core accepts up to [`MAX_PIXELS`],
/// but decoding 100 MP takes seconds, longer than a fuzzer's hang limit. Files that say they
/// are larger than [`MAX_PIXELS`] still go through the decoder, which must refuse them from
/// their header alone.
pub const PHOTO_DECODE_PIXELS: u64 = 4_000_000;
/// Largest photo the `photo` target analyses end to end (pixels, 32 x 32): every dot candidate
/// is fitted, 9-13 ms each in a release build and about thirty times that in a fuzzing build
/// (sanitizer, coverage counters, overflow checks), and the fuzzer made a 64 x 48 px TIFF with
/// 120 candidates (1.5 s in a release build, over the fuzzers' 10 s limit in theirs).
pub const PHOTO_ANALYSE_PIXELS: u64 = 32 * 32;
/// Most analysis documents the `documents` target tracks at once.
pub const MAX_VISITS: usize = 4;

/// `photo`: bytes as a photo file -> EXIF, orientation, decoding -> the whole analysis, with a
/// scale and without (the scale-finding path from the device profile).
pub fn photo(data: &[u8]) {
    let pixels = header_pixels(data);
    if pixels.is_some_and(|p| p > PHOTO_DECODE_PIXELS && p <= MAX_PIXELS) {
        return;
    }
    let Ok(p) = photo::load_bytes(data, "fuzz.jpg") else { return };
    assert!(pixels.is_none_or(|n| n <= MAX_PIXELS), "a {pixels:?} px photo was decoded");
    assert_eq!(p.width() * p.height(), p.info.width as usize * p.info.height as usize);
    if (p.width() * p.height()) as u64 > PHOTO_ANALYSE_PIXELS {
        return;
    }
    // analyze_bytes is load_bytes then analyze_photo; the photo is decoded once here. Half the
    // inputs are analysed with a scale given, half with the scale from a device profile when
    // the EXIF camera matches (else none: the working scale is then estimated from the photo).
    let params = if data.len().is_multiple_of(2) {
        Params { px_per_mm: Some(40.0), camera_blur_um: Some(15.0), ..Default::default() }
    } else {
        let profiles = DeviceProfiles::parse(
            r#"{"device": [{"make": "Canon", "model": "Canon EOS 40D", "px_per_mm": 30, "blur_um": 12}]}"#,
            true,
            "fuzz.json",
        )
        .expect("a valid profile");
        Params { device_profiles: Some(profiles), ..Default::default() }
    };
    if let Ok(a) = crate::analyze_photo(&p, &params) {
        check_analysis(&a);
    }
}

/// The width times height a photo file's header declares, without decoding it (the same
/// decoder and allocation limit as [`photo::load_bytes`]); None when the header cannot be read.
fn header_pixels(data: &[u8]) -> Option<u64> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(data)).with_guessed_format().ok()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(2 * 1024 * 1024 * 1024);
    reader.limits(limits);
    let (w, h) = reader.into_dimensions().ok()?;
    Some(w as u64 * h as u64)
}

fn check_analysis(a: &Analysis) {
    assert_eq!(a.schema, ANALYSIS_SCHEMA);
    let s = &a.summary;
    assert!(s.dot_count <= a.dots.len(), "{} dots counted of {}", s.dot_count, a.dots.len());
    for d in &a.dots {
        assert!(d.x.is_finite() && d.y.is_finite(), "{d:?}");
    }
    // The document always serialises and reads back.
    let back: Analysis = serde_json::from_str(&a.to_json()).expect("an analysis reads back");
    assert_eq!(back.dots.len(), a.dots.len());
}

/// `params`: bytes as UTF-8 JSON -> [`Params`] and [`TrackParams`], validated; valid analysis
/// parameters then analyse a small fixed photo (the sizes, thresholds and limits they set reach
/// the detector and the fits).
pub fn params(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(t) = serde_json::from_str::<TrackParams>(text) {
        let _ = t.validate();
    }
    let Ok(p) = serde_json::from_str::<Params>(text) else { return };
    if p.validate().is_err() {
        return;
    }
    if let Ok(a) = crate::analyze_photo(small_photo(), &p) {
        check_analysis(&a);
    }
}

/// A 96 x 72 px photo of skin with six dark dots, drawn once.
fn small_photo() -> &'static Photo {
    static PHOTO: OnceLock<Photo> = OnceLock::new();
    PHOTO.get_or_init(|| {
        let (w, h) = (96usize, 72usize);
        let dots = [(20.0, 18.0, 3.0), (52.0, 20.0, 2.5), (78.0, 30.0, 4.0), (30.0, 50.0, 2.0), (60.0, 55.0, 3.5)];
        let mut data = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let ink: f64 = dots
                    .iter()
                    .map(|&(cx, cy, r)| {
                        let d2 = (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2);
                        0.8 * (-d2 / (2.0 * r * r)).exp()
                    })
                    .sum::<f64>()
                    .min(0.9);
                let ripple = ((x * 7 + y * 13) % 5) as f64;
                for skin in [205.0, 160.0, 130.0] {
                    data.push((skin * (1.0 - ink) + ripple) as u8);
                }
            }
        }
        Photo::from_pixels("fuzz-small.png", w, h, 3, Pixels::U8(data)).expect("a valid photo")
    })
}

/// `profiles`: bytes as UTF-8 -> device profiles read as JSON and as TOML, then matched
/// against a camera and used to resolve a scale.
pub fn profiles(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for json in [true, false] {
        let Ok(profiles) = DeviceProfiles::parse(text, json, "fuzz") else { continue };
        for d in &profiles.device {
            assert!(d.px_per_mm.is_finite() && d.px_per_mm > 0.0, "{d:?}");
            let found = profiles.find(&d.make, &d.model).expect("a profile finds itself");
            let mut info = small_photo().info.clone();
            info.camera_make = Some(found.make.clone());
            info.camera_model = Some(found.model.clone());
            let mut warnings = Vec::new();
            let scale = crate::scale::resolve(&info, None, None, Some(&profiles), &mut warnings);
            assert_eq!(scale.px_per_mm, Some(found.px_per_mm));
        }
    }
}

/// The photo sizes the `roi` target clips polygons to.
const ROI_FRAMES: [(usize, usize); 3] = [(800, 600), (16, 16), (4000, 3000)];

/// `roi`: bytes as UTF-8 -> the polygon parser -> the region clipped to fixed photo sizes: its
/// area is finite, non-negative and at most the frame's, and points can be tested against it.
/// The vertices, taken as dot centres, also go through the region found from dots.
pub fn roi(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(roi) = Roi::parse_polygon(text, "fuzz.json") else { return };
    let Roi::Polygon(vertices) = &roi else { unreachable!("parse_polygon makes polygons") };
    for (w, h) in ROI_FRAMES {
        if let Ok(region) = Region::from_roi(&roi, w, h) {
            check_region(&region, w, h);
            for v in vertices.iter().take(64) {
                let _ = region.contains(v[0], v[1]);
            }
            let _ = region.contains(w as f64 / 2.0, h as f64 / 2.0);
        }
        let points: Vec<(f64, f64)> = vertices.iter().map(|v| (v[0], v[1])).collect();
        // The spacing of the dots, as the analysis takes it (from the first two).
        let spacing = match vertices.as_slice() {
            [a, b, ..] => (a[0] - b[0]).hypot(a[1] - b[1]),
            _ => f64::NAN,
        };
        let region = Region::from_dots(&points, spacing, w, h);
        check_region(&region, w, h);
        for &(x, y) in points.iter().take(64) {
            let _ = region.contains(x, y);
        }
    }
}

fn check_region(region: &Region, w: usize, h: usize) {
    let frame = (w * h) as f64;
    assert!(region.area_px.is_finite() && region.area_px >= 0.0, "area {}", region.area_px);
    assert!(region.area_px <= frame * (1.0 + 1e-9), "area {} in a {w}x{h} frame", region.area_px);
    assert!(region.perimeter_px.is_finite() && region.perimeter_px >= 0.0, "perimeter {}", region.perimeter_px);
}

/// `documents`: bytes as analysis JSON (one document or an array of them), checked as the
/// `track` command checks them (the `schema` field first, then the document); two or more that
/// read are tracked, dated by their EXIF capture date when they have one, else a year apart.
pub fn documents(data: &[u8]) {
    let Some(docs) = read_documents(data) else { return };
    for d in &docs {
        let _ = d.to_json();
    }
    if docs.len() < 2 {
        return;
    }
    let first = NaiveDate::from_ymd_opt(2020, 1, 1).expect("a valid date");
    let visits: Vec<Visit> = docs
        .into_iter()
        .take(MAX_VISITS)
        .enumerate()
        .map(|(i, analysis)| {
            let date = analysis.image.captured_at.is_none().then(|| first + chrono::Days::new(365 * i as u64));
            Visit { analysis, date }
        })
        .collect();
    if let Ok(t) = crate::track(visits, &TrackParams::default()) {
        let _ = t.to_json();
    }
}

/// The analysis documents in JSON text, as `smpscope track` reads them (`read_documents` in
/// the command): a document or an array of documents, each with the analysis schema. None
/// when any of them is not one.
pub fn read_documents(data: &[u8]) -> Option<Vec<Analysis>> {
    let value: serde_json::Value = serde_json::from_slice(data).ok()?;
    let docs = match value {
        serde_json::Value::Array(docs) => docs,
        doc => vec![doc],
    };
    docs.into_iter()
        .map(|doc| match doc.get("schema").and_then(|s| s.as_str()) {
            Some(ANALYSIS_SCHEMA) => serde_json::from_value(doc).ok(),
            _ => None,
        })
        .collect()
}
