//! How sure a dot's measures are: 95 % intervals from the fit's covariance, every shape
//! parameter free (so that a dot whose diameter and spread trade against each other shows it in
//! both intervals, even where the photo's shared spread was held), the pixel noise taken from
//! the fit's own residuals and widened for their correlation between neighbouring pixels
//! (camera blur, demosaicing and JPEG make noise that white-noise formulas would undercount).

use serde::{Deserialize, Serialize};

use super::fit::{Blur, DotModel, GroupFit, PER_DOT, Window, jacobian_at};
use super::profile;

/// Two-sided 95 % quantile of the normal distribution.
const Z95: f64 = 1.959_964;

/// Largest widening for correlated residuals: (1 + rho) / (1 - rho) per axis, rho at most 0.8.
const MAX_RHO: f64 = 0.8;

/// 95 % intervals `[low, high]` of a dot's measures. Lengths in um and ink in OD*mm^2 are null
/// without a scale; a measure the photo cannot constrain at all (its parameter has no effect on
/// the model there, as a spread of 0 under a wide blur) is null too.
///
/// ```
/// let iv = smpscope::Intervals::default();
/// assert!(iv.diameter_um.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Intervals {
    /// Centre, column, px.
    pub x: Option<[f64; 2]>,
    /// Centre, row, px.
    pub y: Option<[f64; 2]>,
    /// Deposit diameter, um.
    pub diameter_um: Option<[f64; 2]>,
    /// Pigment spread, um.
    pub spread_um: Option<[f64; 2]>,
    /// Peak optical density, OD.
    pub peak_od: Option<[f64; 2]>,
    /// Ink, OD*mm^2.
    pub ink: Option<[f64; 2]>,
    /// Deposit diameter, px.
    pub diameter_px: Option<[f64; 2]>,
    /// Pigment spread, px.
    pub spread_px: Option<[f64; 2]>,
    /// Ink, OD*px^2.
    pub ink_px: Option<[f64; 2]>,
}

/// The covariance of the fit's parameters (n x n, row-major, the layout of
/// [`jacobian_at`]); None when the window has too few pixels for the parameters.
pub(super) fn covariance(win: &Window, fit: &GroupFit, blur: &Blur) -> Option<(Vec<f64>, usize)> {
    let (jac, n) = jacobian_at(win, fit, blur);
    let used: Vec<usize> = (0..win.od.len()).filter(|&i| win.used[i] && fit.weights[i] > 0.0).collect();
    let weight: f64 = used.iter().map(|&i| fit.weights[i]).sum();
    if weight <= (n + 2) as f64 {
        return None;
    }
    let residual = |i: usize| win.od[i] - fit.model[i];
    let variance = used.iter().map(|&i| fit.weights[i] * residual(i).powi(2)).sum::<f64>() / (weight - n as f64);
    let mut h = vec![0.0; n * n];
    for &i in &used {
        let row = &jac[i * n..(i + 1) * n];
        for a in 0..n {
            for b in a..n {
                h[a * n + b] += fit.weights[i] * row[a] * row[b];
            }
        }
    }
    for a in 0..n {
        for b in 0..a {
            h[a * n + b] = h[b * n + a];
        }
    }
    let scale = variance * correlation_widening(win, fit);
    let mut cov = invert(&h, n)?;
    cov.iter_mut().for_each(|v| *v *= scale);
    Some((cov, n))
}

/// How much correlated residuals widen the white-noise covariance: the product over both axes
/// of (1 + rho) / (1 - rho), rho the lag-1 correlation of the weighted residuals (an
/// AR(1) process's variance of a mean); 1 for uncorrelated ones.
fn correlation_widening(win: &Window, fit: &GroupFit) -> f64 {
    let r = |i: usize| if win.used[i] && fit.weights[i] > 0.0 { Some(win.od[i] - fit.model[i]) } else { None };
    let lag = |step: usize, along_x: bool| {
        let (mut cross, mut a2, mut b2) = (0.0, 0.0, 0.0);
        for i in 0..win.od.len() {
            let j = i + step;
            if j >= win.od.len() || (along_x && i % win.width == win.width - 1) {
                continue;
            }
            if let (Some(a), Some(b)) = (r(i), r(j)) {
                cross += a * b;
                a2 += a * a;
                b2 += b * b;
            }
        }
        if a2 > 0.0 && b2 > 0.0 { (cross / (a2 * b2).sqrt()).clamp(0.0, MAX_RHO) } else { 0.0 }
    };
    let factor = |rho: f64| (1.0 + rho) / (1.0 - rho);
    factor(lag(1, true)) * factor(lag(win.width, false))
}

/// The inverse of a symmetric matrix; parameters the model does not depend on (a zero row)
/// get an infinite variance and no covariance. None when singular otherwise.
fn invert(h: &[f64], n: usize) -> Option<Vec<f64>> {
    let largest = (0..n).map(|a| h[a * n + a]).fold(0.0f64, f64::max);
    let live: Vec<usize> = (0..n).filter(|&a| h[a * n + a] > 1e-12 * largest).collect();
    let m = live.len();
    let mut out = vec![0.0; n * n];
    for a in 0..n {
        if !live.contains(&a) {
            out[a * n + a] = f64::INFINITY;
        }
    }
    for (col, &b) in live.iter().enumerate() {
        let mut sub: Vec<f64> = live.iter().flat_map(|&r| live.iter().map(move |&c| h[r * n + c])).collect();
        let unit: Vec<f64> = (0..m).map(|i| (i == col) as u8 as f64).collect();
        let x = crate::linalg::solve(&mut sub, &unit, m, super::fit::SINGULAR)?;
        for (row, &a) in live.iter().enumerate() {
            out[a * n + b] = x[row];
        }
    }
    Some(out)
}

/// The 95 % intervals of dot `i` of a fit with covariance `cov` (n x n); `mm_per_px` None
/// without a scale.
pub(super) fn intervals(d: &DotModel, i: usize, cov: &[f64], n: usize, mm_per_px: Option<f64>) -> Intervals {
    let at = |a: usize, b: usize| cov[(i * PER_DOT + a) * n + i * PER_DOT + b];
    // Variance of a function of the dot's parameters with gradient `g` over them.
    let var = |g: [f64; PER_DOT]| -> f64 {
        let mut v = 0.0;
        for a in 0..PER_DOT {
            for b in 0..PER_DOT {
                if g[a] != 0.0 && g[b] != 0.0 {
                    v += g[a] * at(a, b) * g[b];
                }
            }
        }
        v
    };
    let interval = |value: f64, variance: f64, floor: f64| {
        (variance.is_finite() && variance >= 0.0).then(|| {
            let half = Z95 * variance.sqrt();
            [(value - half).max(floor), value + half]
        })
    };
    let (a, r, s) = (d.amplitude, d.radius, d.sigma);
    let ink_px = a * std::f64::consts::PI * r * r;
    let ink_var = var([0.0, 0.0, std::f64::consts::PI * r * r, 2.0 * std::f64::consts::PI * a * r, 0.0]);
    // The peak's derivatives by central differences: the profile has no closed form for them.
    let peak = |a: f64, r: f64, s: f64| a * if s > 0.0 { profile::centre(r / s) } else { 1.0 };
    let (hr, hs) = (1e-4 * r.max(1e-3), 1e-4 * s.max(1e-3));
    let peak_grad = [
        0.0,
        0.0,
        peak(1.0, r, s),
        (peak(a, r + hr, s) - peak(a, r - hr, s)) / (2.0 * hr),
        (peak(a, r, s + hs) - peak(a, r, (s - hs).max(0.0))) / (s + hs - (s - hs).max(0.0)),
    ];
    let diameter_px = interval(2.0 * r, 4.0 * at(3, 3), 0.0);
    let spread_px = interval(s, at(4, 4), 0.0);
    let ink_iv = interval(ink_px, ink_var, 0.0);
    let um = |v: Option<[f64; 2]>| mm_per_px.and_then(|m| v.map(|[l, h]| [l * m * 1000.0, h * m * 1000.0]));
    Intervals {
        x: interval(d.x, at(0, 0), f64::NEG_INFINITY),
        y: interval(d.y, at(1, 1), f64::NEG_INFINITY),
        diameter_um: um(diameter_px),
        spread_um: um(spread_px),
        peak_od: interval(peak(a, r, s), var(peak_grad), 0.0),
        ink: mm_per_px.and_then(|m| ink_iv.map(|[l, h]| [l * m * m, h * m * m])),
        diameter_px,
        spread_px,
        ink_px: ink_iv,
    }
}
