//! End-to-end checks of the generator: determinism, ink conservation, orientation, density.

use image::{DynamicImage, ImageDecoder};
use smpscope::colour::LUMA;
use smpscope_synth::{SceneSpec, encode, od_map, render};

fn small(seed: u64) -> SceneSpec {
    SceneSpec::random(seed, 240, 180)
}

#[test]
fn same_spec_gives_same_bytes() {
    for seed in [3, 11] {
        let spec = SceneSpec { distractors: true, jpeg_quality: Some(85), orientation: 6, ..small(seed) };
        let (a, b) = (render(&spec), render(&spec));
        assert_eq!(a.upright.as_raw(), b.upright.as_raw());
        assert_eq!(a.truth, b.truth);
        assert_eq!(encode(&a, &spec).bytes, encode(&b, &spec).bytes);
    }
    // And a different seed gives a different photo.
    assert_ne!(render(&small(3)).upright.as_raw(), render(&small(4)).upright.as_raw());
}

#[test]
fn random_specs_are_deterministic_and_in_range() {
    for seed in 0..50 {
        let s = SceneSpec::random(seed, 400, 300);
        assert_eq!(s, SceneSpec::random(seed, 400, 300));
        assert!((15.0..=120.0).contains(&s.px_per_mm) && (1..=6).contains(&s.skin_type));
        assert!((20.0..=120.0).contains(&s.density_per_cm2) && (0.0..=0.6).contains(&s.fade));
        assert!((1..=8).contains(&s.orientation) && s.highlights.len() <= 3);
    }
}

#[test]
fn rendering_does_not_depend_on_the_thread_count() {
    let spec = SceneSpec { distractors: true, ..small(5) };
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| render(&spec));
    let many = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap().install(|| render(&spec));
    assert_eq!(one.upright.as_raw(), many.upright.as_raw());
    assert_eq!(one.truth, many.truth);
}

/// Integrated luminance OD around each isolated dot equals its ink.
#[test]
fn isolated_dot_od_integrates_to_ink() {
    for (ppm, spread, diameter) in [(40.0, 15.0, 120.0), (25.0, 0.0, 100.0), (80.0, 35.0, 150.0), (15.0, 5.0, 90.0)] {
        let spec = SceneSpec {
            width: 300,
            height: 220,
            px_per_mm: ppm,
            // Lattice spacing ~90 px whatever the scale, so dots are isolated and numerous.
            density_per_cm2: 2.0 / (3f64.sqrt() * (9.0 / ppm).powi(2)),
            lattice_jitter: 0.1,
            overlap_fraction: 0.0,
            spread_um: spread,
            diameter_um: diameter,
            ..Default::default()
        };
        let truth = render(&spec).truth;
        let od = od_map(&spec);
        let px_area_mm2 = 1.0 / (ppm * ppm);
        let mut checked = 0;
        for d in &truth.dots {
            let reach = (0.5 * d.diameter_um + 6.5 * d.spread_um) / 1000.0 * ppm + 2.0;
            if d.x < reach || d.y < reach || d.x > 299.0 - reach || d.y > 219.0 - reach {
                continue;
            }
            let mut sum = 0.0f64;
            for j in (d.y - reach).floor() as usize..=(d.y + reach).ceil() as usize {
                for i in (d.x - reach).floor() as usize..=(d.x + reach).ceil() as usize {
                    let p = od[j * 300 + i];
                    sum += (0..3).map(|c| LUMA[c] as f64 * p[c] as f64).sum::<f64>();
                }
            }
            let ink = sum * px_area_mm2;
            assert!((ink / d.ink - 1.0).abs() < 1e-3, "ppm {ppm} spread {spread}: {ink} vs {}", d.ink);
            checked += 1;
        }
        assert!(checked >= 3, "too few isolated dots: {checked}");
    }
}

#[test]
fn truth_fields_follow_their_definitions() {
    let spec = SceneSpec { fade: 0.3, blue_shift: 0.8, ..small(9) };
    let t = render(&spec).truth;
    assert!(!t.dots.is_empty());
    for d in &t.dots {
        let r = 0.5 * d.diameter_um;
        let want_peak = if d.spread_um > 0.0 {
            d.amplitude * (1.0 - (-(r * r) / (2.0 * d.spread_um.powi(2))).exp())
        } else {
            d.amplitude
        };
        assert!((d.peak_od - want_peak).abs() < 1e-9);
        assert!((d.ink - d.amplitude * std::f64::consts::PI * (r / 1000.0).powi(2)).abs() < 1e-12);
        assert!(d.fwhm_um > 0.0 && (d.spread_um > 1.0 || (d.fwhm_um - d.diameter_um).abs() < 1e-3 * d.diameter_um));
        assert!(d.lab[0] < d.skin_lab[0] && d.delta_e > 0.0);
        let kl: f64 = (0..3).map(|c| LUMA[c] as f64 * d.k[c]).sum();
        assert!((kl - 1.0).abs() < 1e-6);
    }
    // Blue shift lowers b* of the dot relative to its skin.
    let fresh = render(&SceneSpec { blue_shift: 0.0, ..spec.clone() }).truth;
    let db =
        |t: &smpscope_synth::Truth| t.dots.iter().map(|d| d.lab[2] - d.skin_lab[2]).sum::<f64>() / t.dots.len() as f64;
    assert!(db(&t) < db(&fresh));
}

#[test]
fn truth_density_is_count_over_area() {
    for seed in 0..6 {
        for partial in [false, true] {
            let spec = SceneSpec { partial_region: partial, region_coverage: 0.6, ..small(seed) };
            let t = render(&spec).truth;
            let n = t.dots.iter().filter(|d| d.in_region).count() as f64;
            assert!((t.density_per_cm2 - n / t.region_area_cm2).abs() < 1e-9);
            let frame_cm2 = 240.0 * 180.0 / spec.px_per_mm.powi(2) / 100.0;
            if partial {
                assert!(t.region.is_some());
                assert!((t.region_area_cm2 / frame_cm2 - 0.6).abs() < 1e-6);
            } else {
                assert!((t.region_area_cm2 - frame_cm2).abs() < 1e-9 && t.dots.iter().all(|d| d.in_region));
            }
        }
    }
}

#[test]
fn exif_orientation_round_trips_to_upright() {
    for o in 1..=8u8 {
        let spec = SceneSpec {
            jpeg_quality: Some(92),
            orientation: o,
            ..SceneSpec { width: 64, height: 40, ..Default::default() }
        };
        let scene = render(&spec);
        let photo = encode(&scene, &spec);
        assert_eq!(photo.extension, "jpg");
        let mut dec = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&photo.bytes)).unwrap();
        let orientation = dec.orientation().unwrap();
        assert_eq!(orientation.to_exif(), o);
        let mut img = DynamicImage::from_decoder(dec).unwrap();
        img.apply_orientation(orientation);
        let img = img.to_rgb8();
        assert_eq!(img.dimensions(), scene.upright.dimensions(), "orientation {o}");
        let mad: f64 =
            img.as_raw().iter().zip(scene.upright.as_raw()).map(|(&a, &b)| (a as f64 - b as f64).abs()).sum::<f64>()
                / img.as_raw().len() as f64;
        assert!(mad < 3.0, "orientation {o}: mean abs diff {mad}");
    }
}

#[test]
fn jpeg_carries_the_exif_fields() {
    let spec = SceneSpec { jpeg_quality: Some(80), orientation: 3, width: 48, height: 32, ..Default::default() };
    let bytes = encode(&render(&spec), &spec).bytes;
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&bytes)).unwrap();
    let get = |t| exif.get_field(t, exif::In::PRIMARY).unwrap().display_value().to_string();
    assert_eq!(get(exif::Tag::Make), "\"smpscope-synth\"");
    assert_eq!(get(exif::Tag::Model), "\"virtual-dermatoscope\"");
    assert!(get(exif::Tag::DateTimeOriginal).starts_with("2024-01-15 10:30:00"));
}

#[test]
fn a_420_jpeg_stores_colour_at_half_resolution_and_keeps_its_exif() {
    let spec = SceneSpec {
        jpeg_quality: Some(85),
        jpeg_chroma_420: true,
        orientation: 6,
        width: 64,
        height: 40,
        ..Default::default()
    };
    let bytes = encode(&render(&spec), &spec).bytes;
    // Baseline frame header: FF C0, length, precision, height, width, components, then the
    // first (luma) component's id and its sampling factors: 2x2 against chroma's 1x1.
    let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline JPEG");
    assert_eq!((bytes[sof + 9], bytes[sof + 11], bytes[sof + 14]), (3, 0x22, 0x11));
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&bytes)).unwrap();
    assert_eq!(exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY).unwrap().value.get_uint(0), Some(6));
    let photo = smpscope::photo::load_bytes(&bytes, "420.jpg").unwrap();
    assert_eq!((photo.width(), photo.height()), (64, 40));
    assert_eq!(photo.info.chroma_subsampling.as_deref(), Some("4:2:0"));
}

#[test]
fn distractors_are_drawn_and_listed() {
    let plain = SceneSpec { width: 300, height: 220, ..Default::default() };
    let spec = SceneSpec { distractors: true, ..plain.clone() };
    let t = render(&spec).truth;
    use smpscope_synth::DistractorKind::*;
    for kind in [Stubble, Pore, Mole] {
        assert!(t.distractors.iter().any(|d| d.kind == kind), "no {kind:?}");
    }
    // Distractors do not move the dots.
    assert_eq!(t.dots, render(&plain).truth.dots);
}

#[test]
fn skin_stays_unclipped_for_every_type() {
    for skin_type in 1..=6 {
        let spec = SceneSpec { skin_type, width: 200, height: 150, density_per_cm2: 20.0, ..Default::default() };
        let img = render(&spec).upright;
        let max = img.as_raw().iter().copied().max().unwrap();
        let mean: f64 = img.as_raw().iter().map(|&v| v as f64).sum::<f64>() / img.as_raw().len() as f64;
        assert!(max < 255, "type {skin_type} clips");
        assert!(mean > 30.0, "type {skin_type} too dark: {mean}");
    }
}

/// Without blur, noise or texture, the centre pixel of a large hard dot has the truth colour.
#[test]
fn dot_centre_pixels_have_the_truth_colour() {
    let spec = SceneSpec {
        width: 240,
        height: 180,
        px_per_mm: 80.0,
        diameter_um: 160.0,
        spread_um: 0.0,
        texture_rms: 0.0,
        camera_blur_px: 0.0,
        noise_gain: 0.0,
        read_noise: 0.0,
        white_balance: [1.05, 1.0, 0.92],
        blue_shift: 0.7,
        fade: 0.3,
        ..Default::default()
    };
    let scene = render(&spec);
    assert!(!scene.truth.dots.is_empty());
    for d in &scene.truth.dots {
        let (i, j) = (d.x.round() as u32, d.y.round() as u32);
        if i >= 240 || j >= 180 || d.overlaps {
            continue;
        }
        let px = scene.upright.get_pixel(i, j).0;
        let lab = smpscope::colour::srgb8_to_lab(px);
        let de = smpscope::colour::delta_e_2000(lab, d.lab);
        assert!(de < 1.0, "dot {} at ({i}, {j}): {lab:?} vs {:?} (dE {de})", d.id, d.lab);
    }
}
