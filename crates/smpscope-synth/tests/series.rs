//! Patient series: determinism, identities, aging laws, geometry, loss, touch-up, colour.

use std::collections::HashMap;

use smpscope_synth::series::map_point;
use smpscope_synth::{Pose, SeriesDot, SeriesSpec, SeriesTruth, TouchUp, encode, render_series, write_series};

fn small(seed: u64) -> SeriesSpec {
    SeriesSpec::random(seed, 240, 180)
}

/// The demo patient at a small size, with the given changes.
fn demo_small(f: impl FnOnce(&mut SeriesSpec)) -> SeriesSpec {
    let mut s = SeriesSpec::default();
    s.base.width = 480;
    s.base.height = 360;
    f(&mut s);
    s
}

fn by_identity(t: &SeriesTruth) -> HashMap<usize, &SeriesDot> {
    t.dots.iter().map(|d| (d.identity, d)).collect()
}

/// Months since the dot's ink was last deposited, at `t`.
fn age(d: &SeriesDot, t: f64) -> f64 {
    match d.reinked_months {
        Some(r) if t >= r => t - r,
        _ => t - d.born_months,
    }
}

#[test]
fn same_spec_gives_same_bytes() {
    for spec in [small(3), small(8)] {
        let (a, b) = (render_series(&spec), render_series(&spec));
        assert_eq!(a.truth, b.truth);
        for (x, y) in a.visits.iter().zip(&b.visits) {
            assert_eq!(encode(&x.scene, &x.spec).bytes, encode(&y.scene, &y.spec).bytes);
        }
    }
    // A spec of short decimals (like the demo's) survives JSON exactly. (Random specs may move by
    // an ulp: serde_json parses floats exactly only with its `float_roundtrip` feature.)
    let demo = SeriesSpec::default();
    assert_eq!(serde_json::from_str::<SeriesSpec>(&serde_json::to_string(&demo).unwrap()).unwrap(), demo);
    let (a, b) = (render_series(&small(3)), render_series(&small(4)));
    assert_ne!(a.visits[0].scene.upright.as_raw(), b.visits[0].scene.upright.as_raw());
}

#[test]
fn random_specs_are_deterministic_and_in_range() {
    let mut touch_ups = 0;
    for seed in 0..50 {
        let s = SeriesSpec::random(seed, 400, 300);
        assert_eq!(s, SeriesSpec::random(seed, 400, 300));
        s.validate().unwrap();
        let n = s.visits();
        assert!((3..=6).contains(&n) && s.poses.len() == n && s.shots.len() == n);
        let m = &s.visit_months;
        assert!(m[0] == 0.0 && m.windows(2).all(|w| w[1] > w[0]) && (6.0..=60.0).contains(&m[n - 1]));
        assert_eq!(s.poses[0], Pose::IDENTITY);
        for p in &s.poses {
            assert!(p.rotation_deg.abs() <= 15.0 && (0.9..=1.1).contains(&p.scale), "{seed}: {p:?}");
            assert!(p.shift.iter().all(|f| f.abs() <= 1.0 / 3.0), "{seed}: {p:?}");
        }
        assert!(s.shots.iter().all(|o| [1, 6].contains(&o.orientation) && (70..=95).contains(&o.jpeg_quality)));
        assert!((12.0..=60.0).contains(&s.half_life_months) && (0.0..=8.0).contains(&s.spread_growth_um_per_year));
        assert!((0.0..=1.5).contains(&s.blueing_per_year) && (0.0..=0.06).contains(&s.loss_per_year));
        assert!(s.base.jpeg_quality.is_some() && s.base.fade == 0.0 && s.base.blue_shift == 0.0);
        if let Some(t) = &s.touch_up {
            touch_ups += 1;
            assert!(t.visit >= 2 && t.visit < n && (0.15..=0.35).contains(&t.new_fraction));
        }
    }
    assert!((8..=35).contains(&touch_ups), "{touch_ups} touch-ups in 50");
}

/// Every truth dot's ink is A0 pi R^2 0.5^(age / h_dot), its spread sqrt(s0^2 + (g age/12)^2),
/// its diameter constant, and across visits the same identity keeps its size.
#[test]
fn dots_age_by_the_stated_laws() {
    let mut compared = 0;
    for spec in [small(1), small(2), small(6), demo_small(|_| {})] {
        let s = render_series(&spec);
        let dots = by_identity(&s.truth);
        let g = spec.spread_growth_um_per_year;
        for v in &s.truth.visits {
            assert_eq!(v.identity.len(), v.truth.dots.len());
            for (td, id) in v.truth.dots.iter().zip(&v.identity) {
                let d = dots[id];
                let tau = age(d, v.months);
                let r_mm = 0.5 * d.diameter_um / 1000.0;
                let fresh_ink = d.amplitude * std::f64::consts::PI * r_mm * r_mm;
                let want = 0.5f64.powf(tau / d.half_life_months);
                assert!((td.ink / fresh_ink - want).abs() < 1e-9, "ink of {id}: {} vs {want}", td.ink / fresh_ink);
                assert!((td.spread_um - d.spread_um.hypot(g * tau / 12.0)).abs() < 1e-9);
                assert_eq!(td.diameter_um, d.diameter_um);
            }
            // Against the first visit directly, for dots never re-inked.
            let first: HashMap<usize, f64> = s.truth.visits[0]
                .identity
                .iter()
                .zip(&s.truth.visits[0].truth.dots)
                .map(|(&i, d)| (i, d.ink))
                .collect();
            for (td, id) in v.truth.dots.iter().zip(&v.identity) {
                if let (Some(ink0), None) = (first.get(id), dots[id].reinked_months) {
                    let want = 0.5f64.powf(v.months / dots[id].half_life_months);
                    assert!((td.ink / ink0 - want).abs() < 1e-9);
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 50, "too few dots followed: {compared}");
}

#[test]
fn to_first_maps_each_visit_onto_the_first() {
    let mut shared = 0;
    for spec in [small(4), small(9), demo_small(|_| {})] {
        let s = render_series(&spec);
        let dots = by_identity(&s.truth);
        let first: HashMap<usize, [f64; 2]> = s.truth.visits[0]
            .identity
            .iter()
            .zip(&s.truth.visits[0].truth.dots)
            .map(|(&i, d)| (i, [d.x, d.y]))
            .collect();
        for (k, v) in s.truth.visits.iter().enumerate() {
            assert_eq!(v.px_per_mm, spec.base.px_per_mm * spec.pose(k).scale);
            for (td, id) in v.truth.dots.iter().zip(&v.identity) {
                let p = map_point(v.to_first, [td.x, td.y]);
                let d = dots[id];
                assert!((p[0] - d.x).hypot(p[1] - d.y) < 1e-6, "visit {k} dot {id}");
                if let Some(q) = first.get(id) {
                    assert!((p[0] - q[0]).hypot(p[1] - q[1]) < 1e-6);
                    shared += 1;
                }
            }
        }
        assert_eq!(s.truth.visits[0].to_first, [1.0, 0.0, 0.0, 0.0]);
    }
    assert!(shared > 50, "too few dots shared with the first visit: {shared}");
}

/// A dot is in a visit's truth exactly when it is alive then and its centre is in the frame.
#[test]
fn lost_dots_are_absent_and_living_dots_present() {
    let spec = demo_small(|s| s.loss_per_year = 0.3);
    let s = render_series(&spec);
    let (w, h) = (spec.base.width as f64, spec.base.height as f64);
    let mut lost_seen = 0;
    for (k, v) in s.truth.visits.iter().enumerate() {
        let to_visit = spec.pose(k).to_visit(spec.base.width, spec.base.height);
        let present: std::collections::HashSet<usize> = v.identity.iter().copied().collect();
        for d in &s.truth.dots {
            let [x, y] = map_point(to_visit, [d.x, d.y]);
            let inside = x >= -0.5 && y >= -0.5 && x < w - 0.5 && y < h - 0.5;
            let alive = v.months >= d.born_months && d.lost_months.is_none_or(|l| v.months < l);
            assert_eq!(present.contains(&d.identity), inside && alive, "visit {k} dot {}", d.identity);
            lost_seen += usize::from(inside && !alive && d.born_months <= v.months);
        }
    }
    assert!(lost_seen > 10, "too few lost dots to test: {lost_seen}");
}

#[test]
fn a_touch_up_adds_new_dots_in_gaps_and_reinks() {
    let spec = demo_small(|s| s.touch_up = Some(TouchUp { visit: 2, new_fraction: 0.3, reink_fraction: 0.7 }));
    let s = render_series(&spec);
    let t_k = s.truth.visits[2].months;
    let n0 = s.truth.original_dots;
    assert_eq!(s.truth.visits.iter().map(|v| v.touch_up).collect::<Vec<_>>(), [false, false, true, false]);
    for (k, v) in s.truth.visits.iter().enumerate() {
        let new = v.identity.iter().filter(|&&i| i >= n0).count();
        if k < 2 { assert_eq!(new, 0) } else { assert!(new > 5, "visit {k}: {new} new dots") }
    }
    let um = spec.base.px_per_mm / 1000.0;
    let (mut reinked, mut kept) = (0, 0);
    for d in &s.truth.dots {
        if d.identity >= n0 {
            assert_eq!(d.born_months, t_k);
            // An edge-to-edge gap of at least one mean diameter to every other dot.
            for o in s.truth.dots.iter().filter(|o| o.identity != d.identity) {
                let gap = (d.x - o.x).hypot(d.y - o.y) - 0.5 * (d.diameter_um + o.diameter_um) * um;
                assert!(gap >= spec.base.diameter_um * um - 1e-9, "new dot {} too close to {}", d.identity, o.identity);
            }
        } else if d.reinked_months.is_some() {
            assert_eq!(d.reinked_months, Some(t_k));
            reinked += 1;
        } else {
            kept += 1;
        }
    }
    assert!(reinked > 10 && kept > 3, "{reinked} re-inked, {kept} not");
    // Re-inked dots are back to their first-visit ink at the touch-up visit.
    let v = &s.truth.visits[2];
    let dots = by_identity(&s.truth);
    for (td, id) in v.truth.dots.iter().zip(&v.identity) {
        if dots[id].reinked_months.is_some() {
            assert!((td.amplitude - dots[id].amplitude).abs() < 1e-12);
        }
    }
}

/// lab_ref takes the light out: without aging it is the same at every visit; with blueing
/// only, b* falls from visit to visit. The skin reference never changes (the skin is on the scalp).
#[test]
fn reference_colours_isolate_the_ink() {
    let still = |s: &mut SeriesSpec| {
        s.half_life_months = 1e12;
        s.spread_growth_um_per_year = 0.0;
        s.loss_per_year = 0.0;
        s.touch_up = None;
    };
    let frozen = render_series(&demo_small(|s| {
        still(s);
        s.blueing_per_year = 0.0;
    }));
    let blueing = render_series(&demo_small(|s| {
        still(s);
        s.blueing_per_year = 1.0;
    }));
    for series in [&frozen, &blueing] {
        let v0 = &series.truth.visits[0];
        for (i, td) in v0.truth.dots.iter().enumerate() {
            assert!((0..3).all(|c| (v0.lab_ref[i][c] - td.lab[c]).abs() < 1e-9
                && (v0.skin_lab_ref[i][c] - td.skin_lab[c]).abs() < 1e-9));
        }
    }
    type LabPair = ([f64; 3], [f64; 3]);
    let per_identity = |s: &smpscope_synth::Series| {
        let mut m: HashMap<usize, Vec<LabPair>> = HashMap::new();
        for v in &s.truth.visits {
            for (k, &id) in v.identity.iter().enumerate() {
                m.entry(id).or_default().push((v.lab_ref[k], v.skin_lab_ref[k]));
            }
        }
        m.into_values().filter(|l| l.len() == s.truth.visits.len()).collect::<Vec<_>>()
    };
    let (a, b) = (per_identity(&frozen), per_identity(&blueing));
    assert!(a.len() > 10 && b.len() > 10, "{} and {} dots in every visit", a.len(), b.len());
    for labs in &a {
        for (lab, skin) in labs {
            assert!((0..3).all(|c| (lab[c] - labs[0].0[c]).abs() < 1e-6 && (skin[c] - labs[0].1[c]).abs() < 1e-6));
        }
    }
    for labs in &b {
        assert!(labs.windows(2).all(|w| w[1].0[2] < w[0].0[2] - 0.05), "b* not falling: {labs:?}");
        assert!(labs.iter().all(|(_, skin)| (0..3).all(|c| (skin[c] - labs[0].1[c]).abs() < 1e-6)));
    }
}

#[test]
fn rendering_does_not_depend_on_the_thread_count() {
    let spec = demo_small(|s| s.base.partial_region = true);
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| render_series(&spec));
    let many = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap().install(|| render_series(&spec));
    assert_eq!(one.truth, many.truth);
    for (a, b) in one.visits.iter().zip(&many.visits) {
        assert_eq!(a.scene.upright.as_raw(), b.scene.upright.as_raw());
    }
}

#[test]
fn write_series_writes_dated_photos_and_truth() {
    let spec = demo_small(|_| {});
    let dir = std::env::temp_dir().join(format!("smpscope-series-test-{}", std::process::id()));
    let paths = write_series(&spec, &dir).unwrap();
    let names: Vec<String> = paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["visit-1.jpg", "visit-2.jpg", "visit-3.jpg", "visit-4.jpg", "series.truth.json"]);
    let truth: SeriesTruth = serde_json::from_slice(&std::fs::read(&paths[4]).unwrap()).unwrap();
    let dates: Vec<&str> = truth.visits.iter().map(|v| v.date.as_str()).collect();
    assert_eq!(dates, ["2023-03-14", "2023-11-12", "2024-11-12", "2026-01-12"]);
    for (k, path) in paths[..4].iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&bytes)).unwrap();
        let get = |t| exif.get_field(t, exif::In::PRIMARY).unwrap().display_value().to_string();
        assert!(get(exif::Tag::DateTimeOriginal).starts_with(&format!("{} 10:30:00", dates[k])));
        assert_eq!(get(exif::Tag::Make), "\"smpscope-synth\"");
        assert_eq!(get(exif::Tag::Orientation).contains("row 0 at right"), spec.shots[k].orientation == 6);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_specs_are_rejected() {
    let bad = [
        demo_small(|s| s.visit_months = vec![0.0, 8.0, 8.0, 20.0]),
        demo_small(|s| s.visit_months = vec![1.0, 8.0, 9.0, 20.0]),
        demo_small(|s| s.poses[0].scale = 1.1),
        demo_small(|s| s.first_date = "2023-02-30".into()),
        demo_small(|s| s.touch_up = Some(TouchUp { visit: 4, new_fraction: 0.2, reink_fraction: 0.5 })),
        demo_small(|s| s.half_life_months = 0.0),
    ];
    for s in bad {
        assert!(s.validate().is_err(), "{:?} {:?}", s.visit_months, s.poses.first());
    }
    assert!(demo_small(|_| {}).validate().is_ok());
}

/// fixtures/patient is the demo patient: `SeriesSpec::default()`, written by `synth-series`.
#[test]
fn the_demo_fixture_is_the_default_spec() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/patient");
    let spec: SeriesSpec = serde_json::from_slice(&std::fs::read(dir.join("series.spec.json")).unwrap()).unwrap();
    assert_eq!(spec, SeriesSpec::default());
    let truth: SeriesTruth = serde_json::from_slice(&std::fs::read(dir.join("series.truth.json")).unwrap()).unwrap();
    let dates: Vec<String> = (0..spec.visits()).map(|v| spec.visit_date(v)).collect();
    assert_eq!(truth.visits.iter().map(|v| v.date.clone()).collect::<Vec<_>>(), dates);
    for v in 1..=spec.visits() {
        let bytes = std::fs::metadata(dir.join(format!("visit-{v}.jpg"))).unwrap().len();
        assert!(bytes < 300_000, "visit-{v}.jpg is {bytes} bytes");
    }
}

/// `render_dots` with the spec's own lattice is `render` (the series renders through it).
#[test]
fn render_dots_with_the_specs_own_dots_is_render() {
    use smpscope_synth::{SceneSpec, dots, render, render_dots};
    let spec = SceneSpec { distractors: true, ..SceneSpec::random(12, 240, 180) };
    let spec = SceneSpec { partial_region: false, ..spec };
    let own = dots::place(&spec, None, dots::margin_px(&spec));
    let (a, b) = (render(&spec), render_dots(&spec, &own));
    assert_eq!(a.upright.as_raw(), b.upright.as_raw());
    assert_eq!(a.truth, b.truth);
}
