//! Shape: a dot's elongation and direction from the second moments of its own density.

use super::blur::apparent;
use super::fit::{DotModel, GroupFit, Window};

/// Eccentricity and long-axis angle from the second moments of dot `i`'s own density (the
/// data minus the background and the other dots' models) within its apparent extent.
pub(super) fn shape_moments(win: &Window, fit: &GroupFit, i: usize, blur_var: f64) -> (f64, f64) {
    let (l1, l2, angle) = principal_axes(win, fit, i, blur_var);
    (eccentricity(l1, l2), angle)
}

/// Eccentricity from the larger and smaller variance: 0 for round, towards 1 for elongated (0
/// where there is no density).
pub(super) fn eccentricity(l1: f64, l2: f64) -> f64 {
    if l1 > 0.0 { (1.0 - (l2 / l1).max(0.0)).sqrt() } else { 0.0 }
}

/// Second moments of dot `i`'s density (the other dots of the fit taken off) along its axes:
/// the larger and smaller variance, px^2, and the long axis's direction, degrees from x
/// towards y, 0..180.
pub(super) fn principal_axes(win: &Window, fit: &GroupFit, i: usize, blur_var: f64) -> (f64, f64, f64) {
    let seen: Vec<DotModel> = fit.dots.iter().map(|d| apparent(d, blur_var)).collect();
    let d = &seen[i];
    let reach = d.radius + 1.5 * d.sigma + 0.5;
    let (mut m0, mut mxx, mut myy, mut mxy) = (0.0, 0.0, 0.0, 0.0);
    for (k, od) in win.od.iter().enumerate() {
        let (x, y) = ((win.x0 + k % win.width) as f64, (win.y0 + k / win.width) as f64);
        let (dx, dy) = (x - d.x, y - d.y);
        if dx.hypot(dy) > reach {
            continue;
        }
        let others: f64 =
            seen.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, o)| o.amplitude * o.shape(x, y, 0.0)).sum();
        let v = (od - fit.offset - others).max(0.0);
        m0 += v;
        mxx += v * dx * dx;
        myy += v * dy * dy;
        mxy += v * dx * dy;
    }
    if m0 <= 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let (a, b, c) = (mxx / m0, myy / m0, mxy / m0);
    let disc = ((a - b).powi(2) + 4.0 * c * c).sqrt();
    let mut angle = 0.5 * (2.0 * c).atan2(a - b).to_degrees();
    if angle < 0.0 {
        angle += 180.0;
    }
    (0.5 * (a + b + disc), 0.5 * (a + b - disc), angle)
}
