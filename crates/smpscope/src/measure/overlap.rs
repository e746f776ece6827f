//! Overlapping dots. Layered sessions put dots on dots, and two that overlap by a few tenths
//! of a diameter reach the detector as one elongated blob, which a one-dot fit drops as elongated
//! or counts once. A lone fit that is elongated is tried as two dots along its long axis, and
//! kept as two where the second dot explains the blob better than its five parameters would by
//! chance (the Bayesian information criterion; docs/decisions.md#overlapping-dots).

use super::Inputs;
use super::blur::{apparent, blur_variance};
use super::fit::{Bounds, DotModel, GroupFit, Window};
use super::members::fit_shapes;
use super::shape::{eccentricity, principal_axes};

/// Eccentricity of a lone fit above which it is tried as two dots: between lone dots and pairs
/// of layered dots fitted as one (docs/decisions.md#overlapping-dots).
const SPLIT_ECCENTRICITY: f64 = 0.6;
/// Smallest candidate radius, px, that is tried: below it two dots cannot be told from one.
pub(super) const SPLIT_MIN_RADIUS: f64 = 1.5;
/// Parameters the second dot adds.
const EXTRA_PARAMETERS: f64 = 5.0;
/// Largest eccentricity of either dot of a split: each of two overlapping dots is round once
/// the other is taken off, where the halves of a stubble fragment stay elongated.
const SPLIT_MAX_ECCENTRICITY: f64 = 0.45;
/// Largest distance between the two dots' centres, in radii of the larger: overlapping or just
/// touching (docs/decisions.md#overlapping-dots).
const SPLIT_MAX_APART: f64 = 2.5;

/// The fit of a lone elongated dot redone as two, with their bounds, where two explain it
/// better; None otherwise.
pub(super) fn split(
    inp: &Inputs,
    win: &Window,
    one: &GroupFit,
    bounds: &[Bounds],
    spread: Option<f64>,
) -> Option<(GroupFit, Vec<Bounds>)> {
    let [d] = one.dots.as_slice() else { return None };
    let blur_var = blur_variance(inp);
    let (l1, l2, angle_deg) = principal_axes(win, one, 0, blur_var);
    if eccentricity(l1, l2) < SPLIT_ECCENTRICITY {
        return None;
    }
    // Two equal dots 2h apart: the long axis's variance is the short one's plus h^2, and the
    // short one is a lone dot's (a disc of radius R: R^2 / 4, plus its blur).
    let half = (l1 - l2).sqrt();
    let (c, s) = (angle_deg.to_radians().cos(), angle_deg.to_radians().sin());
    let radius = (2.0 * (l2 - apparent(d, blur_var).sigma.powi(2)).max(0.25).sqrt()).min(d.radius);
    let starts = [-1.0, 1.0].map(|k| DotModel { x: d.x + k * half * c, y: d.y + k * half * s, radius, ..*d });
    let two_bounds = vec![Bounds { max_size: bounds[0].max_size, max_shift: half + 2.0 }; 2];
    let two = fit_shapes(inp, win, &starts, one.offset, &two_bounds, spread);
    // Huber costs are half the chi-square of the inliers, in units of the noise variance.
    let gain = 2.0 * (one.cost - two.cost) / inp.noise.max(1e-4).powi(2);
    let pixels = win.used.iter().filter(|&&u| u).count().max(2) as f64;
    let [a, b] = two.dots.as_slice() else { return None };
    let apart = (a.x - b.x).hypot(a.y - b.y);
    let distinct = a.amplitude > 0.0
        && b.amplitude > 0.0
        && apart > 0.5 * a.radius.min(b.radius)
        && apart < SPLIT_MAX_APART * a.radius.max(b.radius);
    if !(distinct && gain > EXTRA_PARAMETERS * pixels.ln()) {
        return None;
    }
    let round = |i: usize| {
        let (l1, l2, _) = principal_axes(win, &two, i, blur_var);
        eccentricity(l1, l2) < SPLIT_MAX_ECCENTRICITY
    };
    (round(0) && round(1)).then_some((two, two_bounds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::background::Background;
    use crate::detect::Candidate;
    use crate::measure::PixelScale;
    use crate::measure::members::fit_members;
    use crate::photo::{Photo, Pixels};
    use crate::plane::Plane;

    /// Splits the lone fit of a candidate at (40, 40) of radius 5 px over the OD `od(x, y)`,
    /// with a little skin texture; the split dots' centres, if split.
    fn split_of(od: impl Fn(f64, f64) -> f64) -> Option<Vec<[f64; 2]>> {
        let (w, h) = (80, 80);
        let mut plane = Plane::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let texture = 0.01 * (((x * 7919 + y * 104729) % 97) as f64 / 97.0 - 0.5);
                plane.data[y * w + x] = (od(x as f64, y as f64) + texture) as f32;
            }
        }
        let photo = Photo::from_pixels("t", w, h, 3, Pixels::U8(vec![180; w * h * 3])).unwrap();
        let background = Background::estimate(&photo, 16);
        let scale = PixelScale { px_per_mm: Some(30.0), working_px_per_mm: 30.0, camera_blur_px: Some(0.0) };
        let inp = Inputs {
            photo: &photo,
            od: &plane,
            background: &background,
            noise: 0.005,
            scale,
            min_diameter_um: 40.0,
            max_diameter_um: 400.0,
        };
        let candidate = [Candidate { x: 40.0, y: 40.0, radius_px: 5.0, strength: 50.0, response: 0.3 }];
        let (win, one, bounds) = fit_members(&inp, &candidate, &[0], None);
        split(&inp, &win, &one, &bounds, None).map(|(two, _)| two.dots.iter().map(|d| [d.x, d.y]).collect())
    }

    fn dot(x: f64, y: f64) -> DotModel {
        DotModel { x, y, amplitude: 0.5, radius: 4.0, sigma: 0.6 }
    }

    #[test]
    fn two_overlapping_dots_are_split_and_a_lone_dot_is_not() {
        // Layered dots 0.75 and 1.1 diameters apart along a diagonal; their inks add.
        for apart in [6.0, 8.8] {
            let (a, b) = (dot(40.0 - 0.35 * apart, 40.0 - 0.35 * apart), dot(40.0 + 0.35 * apart, 40.0 + 0.35 * apart));
            let got = split_of(|x, y| a.amplitude * a.shape(x, y, 0.0) + b.amplitude * b.shape(x, y, 0.0))
                .unwrap_or_else(|| panic!("{apart} px apart: not split"));
            for t in [a, b] {
                let nearest = got.iter().map(|p| (p[0] - t.x).hypot(p[1] - t.y)).fold(f64::MAX, f64::min);
                assert!(nearest < 0.5, "{apart} px apart: {got:?}");
            }
        }
        let lone = dot(40.3, 39.8);
        assert_eq!(split_of(|x, y| lone.amplitude * lone.shape(x, y, 0.0)), None);
    }

    #[test]
    fn a_stubble_fragment_is_not_split_into_dots() {
        // 18 px long and 4 px wide, as dark as a dot: a two-dot model fits it better than one,
        // but each of its halves stays elongated.
        let shaft = |x: f64, y: f64| if (x - 40.0).abs() <= 9.0 && (y - 40.0).abs() <= 2.0 { 0.5 } else { 0.0 };
        assert_eq!(split_of(shaft), None);
    }
}
