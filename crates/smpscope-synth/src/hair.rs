//! Distractors: stubble, long hairs, pores, freckles and moles, as absorbers plus their truth.
//!
//! Hairs are about as wide as a dot, which is what makes them hard: stubble cut short reads as
//! a dark dash, a follicle-sized pore as a faint dot.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

use crate::dots::normalise_k;
use crate::profile::DiscGauss;
use crate::raster::Absorber;
use crate::scene::{SceneSpec, rng, stream};
use crate::truth::{DistractorKind, TruthDistractor};

/// Pores: neutral to slightly pink (absorb green a little more).
const PORE_K: [f64; 3] = [0.85, 1.05, 1.0];
/// Freckles and moles: brown, melanin absorbs blue most.
const FRECKLE_K: [f64; 3] = [0.6, 1.0, 1.6];
const MOLE_K: [f64; 3] = [0.7, 1.0, 1.45];

/// Spread of freckle and mole edges relative to their radius.
const FRECKLE_SOFTNESS: f64 = 0.35;
const MOLE_SOFTNESS: f64 = 0.1;

/// Length over which a hair fades in from its root, mm.
const ROOT_TAPER_MM: f64 = 0.15;

/// Longest long hair, mm (a frame-crossing hair in a large frame need not be longer).
const MAX_HAIR_MM: f64 = 60.0;

/// All distractors of a scene: absorbers (in a fixed order) and the truth of those that touch
/// the frame. Empty when `spec.distractors` is off.
pub fn distractors(spec: &SceneSpec) -> (Vec<Absorber>, Vec<TruthDistractor>) {
    let mut out = (Vec::new(), Vec::new());
    if !spec.distractors {
        return out;
    }
    let r = &mut rng(spec.seed, stream::HAIR);
    let ppm = spec.px_per_mm;
    let (w, h) = (spec.width as f64, spec.height as f64);
    let margin = 2.0 * ppm; // 2 mm: stubble starting just outside can reach in
    let area_cm2 = (w + 2.0 * margin) * (h + 2.0 * margin) / (ppm * ppm) / 100.0;
    let uniform_pos = |r: &mut ChaCha8Rng| {
        [r.random_range(-0.5 - margin..w - 0.5 + margin), r.random_range(-0.5 - margin..h - 0.5 + margin)]
    };
    let hair_k = normalise_k(spec.hair_k);
    let flow = spec.hair_angle_deg.to_radians();

    // Stubble: short, mostly straight, roughly along the hair flow.
    for _ in 0..poisson(r, spec.stubble_per_cm2 * area_cm2) {
        let start = uniform_pos(r);
        let angle = flow + 0.45 * normal(r);
        let length = r.random_range(0.2..=1.5) * ppm;
        let curvature = 0.12 * normal(r) / ppm; // rad per px
        let width_um = r.random_range(60.0..=120.0);
        let od = (spec.hair_od * r.random_range(0.7..=1.3)).clamp(0.4, 1.5);
        strand(spec, &mut out, DistractorKind::Stubble, start, angle, length, curvature, 0.0, width_um, od, hair_k);
    }
    // Long hairs: curved, several mm up to across the frame.
    let diag = w.hypot(h);
    for _ in 0..spec.long_hairs {
        let start = uniform_pos(r);
        let angle = flow + 0.6 * normal(r);
        let length = r.random_range((3.0 * ppm).min(diag)..=diag.min(MAX_HAIR_MM * ppm).max(3.0 * ppm));
        let curvature = 0.08 * normal(r) / ppm;
        let wiggle = 0.05 * normal(r).abs() / ppm;
        let width_um = r.random_range(60.0..=120.0);
        let od = (spec.hair_od * r.random_range(0.7..=1.3)).clamp(0.4, 1.5);
        strand(spec, &mut out, DistractorKind::Hair, start, angle, length, curvature, wiggle, width_um, od, hair_k);
    }
    // Pores: small soft Gaussian darkenings, size given as FWHM.
    for _ in 0..poisson(r, spec.pores_per_cm2 * area_cm2) {
        let [x, y] = uniform_pos(r);
        let size_um = r.random_range(30.0..=80.0);
        let peak = r.random_range(0.03..=0.12);
        let sigma = size_um * 1e-3 * ppm / (2.0 * (2.0 * 2f64.ln()).sqrt());
        out.0.push(Absorber::gauss(x, y, sigma, normalise_k(PORE_K).map(|k| k * peak)));
        push_blob(spec, &mut out.1, DistractorKind::Pore, x, y, size_um, peak);
    }
    // Freckles and moles: large soft-edged discs, inside the frame.
    let blobs = [
        (DistractorKind::Freckle, spec.freckles, (1.0, 3.0), (0.05, 0.3), FRECKLE_SOFTNESS, FRECKLE_K),
        (DistractorKind::Mole, spec.moles, (2.0, 5.0), (0.3, 0.8), MOLE_SOFTNESS, MOLE_K),
    ];
    for (kind, count, (d0, d1), (o0, o1), soft, k) in blobs {
        for _ in 0..count {
            let x = r.random_range(0.0..w.max(1.0));
            let y = r.random_range(0.0..h.max(1.0));
            let d_mm: f64 = r.random_range(d0..=d1);
            let od = r.random_range(o0..=o1);
            let rad = 0.5 * d_mm * ppm;
            let profile = DiscGauss::new(rad, soft * rad);
            // `od` is the visible peak: scale the plateau so that P(0) gives it.
            let plateau = od / profile.peak();
            out.0.push(Absorber::disc_gauss(x, y, profile, normalise_k(k).map(|c| c * plateau)));
            push_blob(spec, &mut out.1, kind, x, y, d_mm * 1000.0, od);
        }
    }
    out
}

fn normal(r: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(r)
}

fn poisson(r: &mut ChaCha8Rng, mean: f64) -> u64 {
    if mean <= 0.0 { 0 } else { Poisson::new(mean).map(|p| p.sample(r) as u64).unwrap_or(0) }
}

fn in_frame(spec: &SceneSpec, x: f64, y: f64) -> bool {
    x >= -0.5 && y >= -0.5 && x < spec.width as f64 - 0.5 && y < spec.height as f64 - 0.5
}

fn push_blob(
    spec: &SceneSpec,
    truth: &mut Vec<TruthDistractor>,
    kind: DistractorKind,
    x: f64,
    y: f64,
    size_um: f64,
    peak_od: f64,
) {
    if in_frame(spec, x, y) {
        truth.push(TruthDistractor { kind, x, y, size_um, length_um: None, peak_od, path: None });
    }
}

/// A curved shaft as a polyline of short pieces: the direction turns by `curvature` rad/px
/// plus a slow sinusoidal `wiggle`.
#[allow(clippy::too_many_arguments)]
fn strand(
    spec: &SceneSpec,
    out: &mut (Vec<Absorber>, Vec<TruthDistractor>),
    kind: DistractorKind,
    start: [f64; 2],
    angle: f64,
    length: f64,
    curvature: f64,
    wiggle: f64,
    width_um: f64,
    od: f64,
    k: [f64; 3],
) {
    let ppm = spec.px_per_mm;
    // Pieces of 0.1 mm (at least 2 px) keep the bend per piece small.
    let step = (0.1 * ppm).max(2.0);
    let n = (length / step).ceil().max(1.0) as usize;
    let ds = length / n as f64;
    let hw = 0.5 * width_um * 1e-3 * ppm;
    let wl = 5.0 * ppm;
    let mut path = vec![start];
    let (mut p, mut th) = (start, angle);
    for i in 0..n {
        th += curvature * ds + wiggle * ds * (std::f64::consts::TAU * i as f64 * ds / wl).sin();
        p = [p[0] + ds * th.cos(), p[1] + ds * th.sin()];
        path.push(p);
    }
    // The root end (the start) runs under the epidermis: it fades in over the first part of the
    // shaft rather than starting with a cut edge.
    let root = ROOT_TAPER_MM * ppm;
    let weight = |i: usize| 0.25 + 0.75 * (i as f64 * ds / root).min(1.0);
    let odv = k.map(|c| c * od);
    for (i, piece) in path.windows(2).enumerate() {
        out.0.push(Absorber::segment(piece[0], piece[1], hw, i + 1 == n, [weight(i), weight(i + 1)], odv));
    }
    if path.iter().any(|&[x, y]| in_frame(spec, x, y)) {
        let mid = path[n / 2];
        out.1.push(TruthDistractor {
            kind,
            x: mid[0],
            y: mid[1],
            size_um: width_um,
            length_um: Some(length / ppm * 1000.0),
            peak_od: od,
            path: Some(path),
        });
    }
}
