//! Pigment dots: a jittered hexagonal lattice (the way practitioners space dots), per-dot size,
//! spread, amount and fade, overlapping partners from layered sessions, and the ink colour.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use smpscope::colour::LUMA;

use crate::region;
use crate::scene::{SceneSpec, rng, stream};

/// Per-dot draws are lognormal around the spec's mean, cut at this many sigmas.
const MAX_Z: f64 = 3.0;

/// Range of the plateau amount A before fade, luminance OD.
const AMPLITUDE_RANGE: (f64, f64) = (0.4, 1.2);

/// Largest fade of a single dot.
const MAX_FADE: f64 = 0.95;

/// One dot as drawn: centre in upright px, sizes in um.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DotInstance {
    /// Centre, px.
    pub x: f64,
    /// Centre, px.
    pub y: f64,
    /// Deposit diameter D, um.
    pub diameter_um: f64,
    /// Spread sigma, um.
    pub spread_um: f64,
    /// Plateau amount after fade, luminance OD.
    pub amplitude: f64,
    /// Part of an overlapping pair.
    pub overlaps: bool,
}

/// Scales `k` so that its luminance-weighted sum is 1 (so A is a luminance OD).
pub fn normalise_k(k: [f64; 3]) -> [f64; 3] {
    let l: f64 = (0..3).map(|c| LUMA[c] as f64 * k[c]).sum();
    k.map(|v| v / l)
}

/// The ink's absorption vector after blue shift, normalised.
pub fn ink_k(spec: &SceneSpec) -> [f64; 3] {
    blue_shifted_k(spec.ink_k, spec.blue_shift)
}

/// Absorption `ink_k` after a blue shift of 0 .. 1 (clamped), normalised.
pub fn blue_shifted_k(ink_k: [f64; 3], blue_shift: f64) -> [f64; 3] {
    let b = blue_shift.clamp(0.0, 1.0);
    let [r, g, bl] = ink_k;
    // UV breaks down the chromophores that absorb blue-ish light, and the residue reads redder
    // in absorption: the dot looks bluer.
    normalise_k([r * (1.0 + 0.15 * b), g, bl * (1.0 - 0.3 * b)])
}

fn z(r: &mut ChaCha8Rng) -> f64 {
    let v: f64 = StandardNormal.sample(r);
    v.clamp(-MAX_Z, MAX_Z)
}

/// Draws one dot's size, spread and amount (always the same number of draws).
pub(crate) fn draw(spec: &SceneSpec, r: &mut ChaCha8Rng, x: f64, y: f64, overlaps: bool) -> DotInstance {
    let diameter_um = spec.diameter_um * (spec.diameter_cv * z(r)).exp();
    let spread_um = spec.spread_um * (spec.spread_cv * z(r)).exp();
    let a0 = (spec.amplitude * (spec.amplitude_cv * z(r)).exp()).clamp(AMPLITUDE_RANGE.0, AMPLITUDE_RANGE.1);
    let fade = (spec.fade * (spec.fade_cv * z(r)).exp()).clamp(0.0, MAX_FADE);
    DotInstance { x, y, diameter_um, spread_um, amplitude: a0 * (1.0 - fade), overlaps }
}

/// How far past the frame dots must be generated so that every dot touching the frame exists:
/// the largest footprint plus the largest partner offset, px.
pub fn margin_px(spec: &SceneSpec) -> f64 {
    let um = spec.px_per_mm / 1000.0;
    let d_max = spec.diameter_um * (spec.diameter_cv * MAX_Z).exp();
    let s_max = spec.spread_um * (spec.spread_cv * MAX_Z).exp();
    (0.5 * d_max + 6.5 * s_max + 1.2 * d_max) * um + 4.0
}

/// Lattice spacing in px for a density per cm^2 (hexagonal cell area = sqrt(3)/2 a^2).
pub fn hex_spacing_px(density_per_cm2: f64, px_per_mm: f64) -> f64 {
    let a_cm = (2.0 / (3f64.sqrt() * density_per_cm2)).sqrt();
    a_cm * 10.0 * px_per_mm
}

/// Every dot over the frame plus `margin` px, in a fixed order. With a region, lattice dots
/// outside it are dropped (their partners are kept wherever they land).
pub fn place(spec: &SceneSpec, region: Option<&[[f64; 2]]>, margin: f64) -> Vec<DotInstance> {
    let mut r = rng(spec.seed, stream::DOTS);
    // The partners add to the lattice's dots: thin the lattice so the total meets the density.
    let lattice_density = spec.density_per_cm2.max(1e-3) / (1.0 + spec.overlap_fraction.clamp(0.0, 1.0));
    let a = hex_spacing_px(lattice_density, spec.px_per_mm);
    let th = spec.lattice_angle_deg.to_radians();
    let e1 = [a * th.cos(), a * th.sin()];
    let e2 = [a * (th + std::f64::consts::FRAC_PI_3).cos(), a * (th + std::f64::consts::FRAC_PI_3).sin()];
    let origin = [r.random_range(0.0..1.0) * a, r.random_range(0.0..1.0) * a];
    let jitter = spec.lattice_jitter * a;

    let (lo_x, lo_y) = (-0.5 - margin, -0.5 - margin);
    let (hi_x, hi_y) = (spec.width as f64 - 0.5 + margin, spec.height as f64 - 0.5 + margin);
    // Lattice index range covering the box (corners in lattice coordinates, plus slack for jitter).
    let det = e1[0] * e2[1] - e1[1] * e2[0];
    let to_lattice = |x: f64, y: f64| {
        let (dx, dy) = (x - origin[0], y - origin[1]);
        ((dx * e2[1] - dy * e2[0]) / det, (e1[0] * dy - e1[1] * dx) / det)
    };
    let corners = [(lo_x, lo_y), (hi_x, lo_y), (lo_x, hi_y), (hi_x, hi_y)].map(|(x, y)| to_lattice(x, y));
    let slack = 1.0 + 4.0 * spec.lattice_jitter;
    let fold = |f: fn(f64, f64) -> f64, init: f64, pick: fn(&(f64, f64)) -> f64| corners.iter().map(pick).fold(init, f);
    let i0 = (fold(f64::min, f64::INFINITY, |c| c.0) - slack).floor() as i64;
    let i1 = (fold(f64::max, f64::NEG_INFINITY, |c| c.0) + slack).ceil() as i64;
    let j0 = (fold(f64::min, f64::INFINITY, |c| c.1) - slack).floor() as i64;
    let j1 = (fold(f64::max, f64::NEG_INFINITY, |c| c.1) + slack).ceil() as i64;

    let in_box = |x: f64, y: f64| x >= lo_x && x < hi_x && y >= lo_y && y < hi_y;
    let mut dots = Vec::new();
    for j in j0..=j1 {
        for i in i0..=i1 {
            // Draw everything for every lattice site, kept or not, so that the region and the
            // frame size do not reshuffle the other dots.
            let jx = jitter * z(&mut r);
            let jy = jitter * z(&mut r);
            let x = origin[0] + i as f64 * e1[0] + j as f64 * e2[0] + jx;
            let y = origin[1] + i as f64 * e1[1] + j as f64 * e2[1] + jy;
            let partner = r.random_bool(spec.overlap_fraction.clamp(0.0, 1.0));
            let dot = draw(spec, &mut r, x, y, partner);
            let angle: f64 = r.random_range(0.0..std::f64::consts::TAU);
            let dist: f64 = r.random_range(0.7..=1.2);
            let mut second = draw(spec, &mut r, 0.0, 0.0, true);
            let keep = in_box(x, y) && region.is_none_or(|poly| region::contains(poly, x, y));
            if !keep {
                continue;
            }
            dots.push(dot);
            if partner {
                let d_px = dist * dot.diameter_um * spec.px_per_mm / 1000.0;
                second.x = x + d_px * angle.cos();
                second.y = y + d_px * angle.sin();
                dots.push(second);
            }
        }
    }
    dots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ink_k_is_normalised_and_blue_shift_lowers_blue() {
        let spec = SceneSpec { blue_shift: 1.0, ..Default::default() };
        let k = ink_k(&spec);
        let l: f64 = (0..3).map(|c| LUMA[c] as f64 * k[c]).sum();
        assert!((l - 1.0).abs() < 1e-6);
        assert!(k[2] < k[1] && k[0] > k[1]);
    }

    #[test]
    fn lattice_density_matches_the_spec() {
        let spec =
            SceneSpec { width: 2000, height: 2000, px_per_mm: 20.0, overlap_fraction: 0.0, ..Default::default() };
        let dots = place(&spec, None, 0.0);
        let area_cm2 = (100.0 * 100.0) / 100.0;
        let density = dots.len() as f64 / area_cm2;
        assert!((density / spec.density_per_cm2 - 1.0).abs() < 0.03, "{density}");
    }
}
