//! What the false detections lie on (stubble, hair, pore, freckle, mole, or nothing), with
//! each detection's shape, contrast and colour, as a table for offline study:
//! `cargo run --release -p smpscope-synth --example fp_kinds -- FIRST COUNT > fp.tsv` (random
//! photos of 20x15 mm; `SERIES=1`: every visit of the series FIRST.. instead).
use rayon::prelude::*;
use smpscope::{Analysis, Dot};
use smpscope_synth::evaluate::{pair_detections, params_for, random_scene};
use smpscope_synth::{DistractorKind, Truth, TruthDistractor, encode, render};

/// An analysed photo: its id (the seed, or seed * 10 + visit for series), analysis and truth.
type Case = (u64, Analysis, Truth);

fn seg_dist(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 { (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0) } else { 0.0 };
    (p[0] - a[0] - t * dx).hypot(p[1] - a[1] - t * dy)
}

fn main() {
    let a: Vec<u64> = std::env::args().skip(1).filter_map(|s| s.parse().ok()).collect();
    let (first, count) = (a.first().copied().unwrap_or(5000), a.get(1).copied().unwrap_or(30));
    let series = std::env::var_os("SERIES").is_some();
    let cases: Vec<Case> = (first..first + count)
        .into_par_iter()
        .flat_map_iter(|seed| if series { series_cases(seed) } else { photo_case(seed).into_iter().collect() })
        .collect();
    let rows: Vec<String> = cases.par_iter().flat_map_iter(rows).collect();
    println!("photo\tskin\tpxmm\tkind\tecc\tsnr\tbr\tdiam\tpeak\tspread\tscore\tink");
    for r in rows {
        println!("{r}");
    }
}

/// Every visit of the random series `seed` (20x15 mm), analysed, with id seed * 10 + visit.
fn series_cases(seed: u64) -> Vec<Case> {
    let spec = smpscope_synth::evaluate_series::random_series(seed, (20.0, 15.0), 1200);
    let (_, analyses, truth) = smpscope_synth::evaluate_series::run_series(&spec, &smpscope::TrackParams::default());
    analyses.into_iter().zip(truth.visits).enumerate().map(|(k, (a, v))| (seed * 10 + k as u64, a, v.truth)).collect()
}

/// The random photo `seed` (20x15 mm), analysed at its true scale; None if refused.
fn photo_case(seed: u64) -> Option<Case> {
    let spec = random_scene(seed, (20.0, 15.0), 1200);
    let scene = render(&spec);
    let photo = encode(&scene, &spec);
    smpscope::analyze_bytes(&photo.bytes, "x.jpg", &params_for(&scene.truth)).ok().map(|a| (seed, a, scene.truth))
}

/// One table row per detection of a photo: what it lies on (`TRUE` for a true dot's) and its
/// shape, contrast and colour.
fn rows((seed, an, t): &Case) -> Vec<String> {
    let all: Vec<usize> = (0..t.dots.len()).collect();
    let pairs = pair_detections(t, &an.dots, &all);
    let mut used = vec![false; an.dots.len()];
    for &(_, j) in &pairs {
        used[j] = true;
    }
    let pxmm = t.px_per_mm;
    let mut out = vec![];
    for (j, d) in an.dots.iter().enumerate() {
        let kind = if used[j] { "TRUE".to_string() } else { lies_on(d, t) };
        let br = if d.od_rgb[0] > 0.0 { d.od_rgb[2] / d.od_rgb[0] } else { 0.0 };
        out.push(format!(
            "{seed}\t{}\t{:.0}\t{kind}\t{:.2}\t{:.1}\t{:.2}\t{:.2}\t{:.3}\t{:.2}\t{:.2}\t{:.3}",
            t.conditions.skin_type,
            pxmm,
            d.eccentricity,
            d.snr,
            br,
            d.diameter_px,
            d.peak_od,
            d.spread_px,
            d.score,
            d.ink_px
        ));
    }
    out
}

/// The kind of the nearest distractor within reach of a false detection (`none` if none is).
fn lies_on(d: &Dot, t: &Truth) -> String {
    let p = [d.x, d.y];
    let mut best = ("none".to_string(), f64::MAX);
    for ds in &t.distractors {
        let dist = distance_px(p, ds);
        if dist <= reach_px(ds, t.px_per_mm) && dist < best.1 {
            best = (format!("{:?}", ds.kind), dist);
        }
    }
    best.0
}

/// Distance in px from `p` to a distractor: to its path if it has one, else to its centre.
fn distance_px(p: [f64; 2], ds: &TruthDistractor) -> f64 {
    match &ds.path {
        Some(path) => path.windows(2).map(|w| seg_dist(p, w[0], w[1])).fold(f64::MAX, f64::min),
        None => (ds.x - p[0]).hypot(ds.y - p[1]),
    }
}

/// How far in px from a distractor a detection counts as lying on it, at `pxmm` px per mm.
fn reach_px(ds: &TruthDistractor, pxmm: f64) -> f64 {
    let reach = ds.size_um / 2000.0 * pxmm + 2.0;
    reach.max(match ds.kind {
        DistractorKind::Freckle | DistractorKind::Mole => ds.size_um / 2000.0 * pxmm * 1.3,
        _ => 0.0,
    })
}
