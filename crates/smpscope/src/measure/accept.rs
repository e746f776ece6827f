//! Acceptance: the physical quantities of a fitted dot, and the tests that tell a pigment dot
//! from a pore, a hair or a failed fit.

use super::blur::{apparent, blur_variance};
use super::fit::{DotModel, GroupFit, Window};
use super::flags::flags;
use super::shape::shape_moments;
use super::uncertainty::intervals;
use super::{Dot, Inputs, MeasureParams, Reject, profile};
use crate::colour::{delta_e_2000, linear_rgb_to_lab};

/// Measures dot `i` of a group's fit: its physical quantities, shape and colour (`od_rgb`,
/// asked only once the dot has passed the tests that need no colour), their intervals (from
/// the group's `covariance`, asked as late) and flags, or why it is not a pigment dot.
pub(super) fn describe<'c>(
    inp: &Inputs,
    win: &Window,
    fit: &GroupFit,
    i: usize,
    od_rgb: &dyn Fn(usize) -> [f64; 3],
    covariance: &dyn Fn() -> Option<(&'c [f64], usize)>,
    p: &MeasureParams,
) -> Result<Dot, Reject> {
    let d = &fit.dots[i];
    if !(d.amplitude.is_finite() && d.radius.is_finite() && d.sigma.is_finite()) || d.amplitude <= 0.0 {
        return Err(Reject::Fit);
    }
    let blur_var = blur_variance(inp);
    let seen = apparent(d, blur_var);
    let observed_peak = d.amplitude * profile::centre(seen.radius / seen.sigma);
    let snr = observed_peak / inp.noise.max(1e-6);
    let sigma_pig = d.sigma;
    let centre_share = if sigma_pig > 0.0 { profile::centre(d.radius / sigma_pig) } else { 1.0 };
    let peak_od = d.amplitude * centre_share;
    let ink_px = d.amplitude * std::f64::consts::PI * d.radius * d.radius;
    let fwhm_px = profile::fwhm(d.radius, sigma_pig);
    let um = 1000.0 / inp.scale.working_px_per_mm;
    let apparent_um = profile::fwhm(seen.radius, seen.sigma) * um;
    if observed_peak < p.min_peak_od || snr < p.min_snr || ink_px / inp.scale.working_px_per_mm.powi(2) < p.min_ink {
        return Err(Reject::Faint);
    }
    if apparent_um < 0.5 * inp.min_diameter_um || apparent_um > inp.max_diameter_um {
        return Err(Reject::Size);
    }
    let (eccentricity, angle_deg) = shape_moments(win, fit, i, blur_var);
    let attached = attached_density(inp, fit, i, blur_var);
    if eccentricity > p.max_eccentricity || attached > p.max_attached * observed_peak {
        return Err(Reject::Elongated);
    }
    let od_rgb = od_rgb(i);
    let skin_log = inp.background.log_rgb_at(d.x as f32, d.y as f32);
    let skin: [f64; 3] = skin_log.map(|l| 10f64.powf(l as f64));
    let core: [f64; 3] = std::array::from_fn(|c| skin[c] * 10f64.powf(-od_rgb[c] * centre_share));
    let lab = linear_rgb_to_lab(core);
    let skin_lab = linear_rgb_to_lab(skin);
    let mm = inp.scale.px_per_mm.map(|s| 1.0 / s);
    let score = (1.0 - (-snr / 10.0).exp()) * (1.0 - 0.5 * eccentricity * eccentricity);
    let mut dot = Dot {
        x: d.x,
        y: d.y,
        diameter_um: mm.map(|m| 2.0 * d.radius * m * 1000.0),
        spread_um: mm.map(|m| sigma_pig * m * 1000.0),
        fwhm_um: mm.map(|m| fwhm_px * m * 1000.0),
        peak_od,
        ink: mm.map(|m| ink_px * m * m),
        eccentricity,
        angle_deg,
        lab,
        skin_lab,
        delta_e: delta_e_2000(lab, skin_lab),
        score,
        diameter_px: 2.0 * d.radius,
        spread_px: sigma_pig,
        fwhm_px,
        ink_px,
        od_rgb,
        snr,
        blur_px: seen.sigma,
        ci95: covariance().map(|(c, n)| intervals(d, i, c, n, mm)),
        flags: Vec::new(),
    };
    dot.flags = flags(inp, fit, i, &dot, attached / observed_peak, blur_var);
    Ok(dot)
}

/// The highest residual density (data minus every fitted dot and the offset) that runs
/// outwards from dot `i` in one of 8 directions, through both halves of a ring just outside it:
/// near zero for an isolated dot, high where a hair runs through it or away from it. A shaft
/// attached to the dot crosses the ring radially, so it darkens the same direction in the inner
/// and the outer half; stubble that only passes by, a few radii off, darkens the outer half
/// alone (docs/decisions.md#attached-hairs).
fn attached_density(inp: &Inputs, fit: &GroupFit, i: usize, blur_var: f64) -> f64 {
    const BINS: usize = 8;
    let seen: Vec<DotModel> = fit.dots.iter().map(|d| apparent(d, blur_var)).collect();
    let d = &seen[i];
    let apparent = 0.5 * profile::fwhm(d.radius, d.sigma);
    let (r0, r1) = (1.5 * apparent + 0.5, 3.0 * apparent + 1.5);
    let middle = 0.5 * (r0 + r1);
    // [inner, outer] half of the ring, per direction.
    let (mut sum, mut n) = ([[0.0f64; BINS]; 2], [[0usize; BINS]; 2]);
    let (w, h) = (inp.od.width as isize, inp.od.height as isize);
    for y in (d.y - r1).floor() as isize..=(d.y + r1).ceil() as isize {
        for x in (d.x - r1).floor() as isize..=(d.x + r1).ceil() as isize {
            if x < 0 || y < 0 || x >= w || y >= h {
                continue;
            }
            let (dx, dy) = (x as f64 - d.x, y as f64 - d.y);
            let r = (dx * dx + dy * dy).sqrt();
            if r < r0 || r > r1 {
                continue;
            }
            let model: f64 = seen.iter().map(|o| o.amplitude * o.shape(x as f64, y as f64, 0.0)).sum();
            let bin = (((dy.atan2(dx) / std::f64::consts::TAU + 1.0) * BINS as f64) as usize) % BINS;
            let half = (r > middle) as usize;
            sum[half][bin] += inp.od.at(x as usize, y as usize) as f64 - fit.offset - model;
            n[half][bin] += 1;
        }
    }
    // Each direction's mean less three standard errors, so that noise alone stays near zero.
    let level = |half: usize, b: usize| {
        if n[half][b] > 0 {
            sum[half][b] / n[half][b] as f64 - 3.0 * inp.noise / (n[half][b] as f64).sqrt()
        } else {
            0.0
        }
    };
    (0..BINS).map(|b| level(0, b).min(level(1, b))).fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::background::Background;
    use crate::measure::PixelScale;
    use crate::photo::Photo;
    use crate::plane::Plane;

    /// Attached density around a dot of radius 3 px at (40, 40), with a shaft 2 px wide of OD
    /// 0.7 (dark stubble) along the segment `from`-`to`, over skin with a little texture.
    fn attached_with_shaft(from: [f64; 2], to: [f64; 2]) -> f64 {
        let (w, h) = (80, 80);
        let dot = DotModel { x: 40.0, y: 40.0, amplitude: 0.5, radius: 3.0, sigma: 0.5 };
        let mut od = Plane::new(w, h);
        let (dx, dy) = (to[0] - from[0], to[1] - from[1]);
        for y in 0..h {
            for x in 0..w {
                let p = [x as f64, y as f64];
                let t = (((p[0] - from[0]) * dx + (p[1] - from[1]) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
                let shaft = if (p[0] - from[0] - t * dx).hypot(p[1] - from[1] - t * dy) <= 1.0 { 0.7 } else { 0.0 };
                let texture = 0.01 * (((x * 7919 + y * 104729) % 97) as f64 / 97.0 - 0.5);
                od.data[y * w + x] = (dot.amplitude * dot.shape(p[0], p[1], 0.0) + shaft + texture) as f32;
            }
        }
        let photo = Photo::from_pixels("t", w, h, 3, crate::photo::Pixels::U8(vec![180; w * h * 3])).unwrap();
        let background = Background::estimate(&photo, 16);
        let scale = PixelScale { px_per_mm: Some(30.0), working_px_per_mm: 30.0, camera_blur_px: Some(0.0) };
        let inp = Inputs {
            photo: &photo,
            od: &od,
            background: &background,
            noise: 0.005,
            scale,
            min_diameter_um: 40.0,
            max_diameter_um: 400.0,
        };
        let fit = GroupFit {
            dots: vec![dot],
            offset: 0.0,
            weights: vec![],
            model: vec![],
            cost: 0.0,
            converged: true,
            spread_held: false,
        };
        attached_density(&inp, &fit, 0, blur_variance(&inp)) / 0.5
    }

    #[test]
    fn a_hair_running_from_a_dot_is_attached_and_stubble_passing_by_is_not() {
        let limit = MeasureParams::default().max_attached;
        // A dot at the end of a hair, and a hair running through a dot.
        assert!(attached_with_shaft([40.0, 40.0], [75.0, 40.0]) > limit);
        assert!(attached_with_shaft([5.0, 40.0], [75.0, 40.0]) > limit);
        // Stubble 9 px (three radii) from the centre, across the outer part of the ring only.
        assert!(attached_with_shaft([25.0, 49.0], [55.0, 49.0]) < 0.1 * limit);
        // A clean dot.
        assert!(attached_with_shaft([0.0, 0.0], [0.0, 1.0]) < 0.1 * limit);
    }
}
