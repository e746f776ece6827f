//! Detect: candidate dots as maxima of the scale-normalised Laplacian of Gaussian of the
//! optical density, across positions and the scales that dots of 40-400 um occupy, with a
//! threshold relative to the noise measured over the frame at each scale, and lines (hairs)
//! rejected by the Hessian's eigenvalue ratio.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::background::Background;
use crate::photo::Photo;
use crate::plane::Plane;
use crate::stats::median;

/// Parameters of the detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectParams {
    /// Smallest dot sought, apparent diameter in um.
    pub min_diameter_um: f64,
    /// Largest dot sought, apparent diameter in um; larger dark spots are freckles or moles.
    pub max_diameter_um: f64,
    /// Detection threshold, in noise standard deviations of the scale's own response.
    pub threshold_sigma: f64,
    /// Smallest ratio of the Hessian's eigenvalues (small/large) of a candidate; lines
    /// (hairs) are near 0, round dots near 1.
    pub min_roundness: f64,
}

impl Default for DetectParams {
    fn default() -> Self {
        DetectParams { min_diameter_um: 40.0, max_diameter_um: 400.0, threshold_sigma: 5.0, min_roundness: 0.3 }
    }
}

/// A candidate dot, in full-resolution pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Column of the centre, px (sub-pixel).
    pub x: f64,
    /// Row of the centre, px (sub-pixel).
    pub y: f64,
    /// Radius of the disc that best matches the detecting scale, in pixels.
    pub radius_px: f64,
    /// Response in noise standard deviations.
    pub strength: f64,
    /// Scale-normalised LoG response (OD units), which selects the scale.
    pub response: f64,
}

/// The detection is done at about this many pixels per mm (or the photo's own, if coarser):
/// enough to see a 40 um dot, and cheap on 12 MP photos.
const WORKING_PX_PER_MM: f64 = 35.0;

/// Finds candidate dots in an optical-density plane with `px_per_mm` pixels per mm.
///
/// ```
/// use smpscope::detect::{DetectParams, find_candidates};
/// use smpscope::plane::Plane;
/// // At 40 px/mm, two dots of 150 um (radius 3 px) and OD 0.6 on faintly textured skin.
/// let mut od = Plane::new(120, 80);
/// for (i, v) in od.data.iter_mut().enumerate() {
///     let (x, y) = ((i % 120) as f64, (i / 120) as f64);
///     let dot = (x - 30.0).hypot(y - 40.0) <= 3.0 || (x - 90.0).hypot(y - 40.0) <= 3.0;
///     *v = if dot { 0.6 } else { 0.0 } + 0.01 * ((i * 7919 % 97) as f32 / 97.0 - 0.5);
/// }
/// let found = find_candidates(&od, 40.0, &DetectParams::default());
/// assert_eq!(found.len(), 2);
/// assert!(found.iter().all(|c| (c.x - 30.0).abs().min((c.x - 90.0).abs()) < 1.0 && (c.y - 40.0).abs() < 1.0));
/// ```
pub fn find_candidates(od: &Plane, px_per_mm: f64, p: &DetectParams) -> Vec<Candidate> {
    let factor = ((px_per_mm / WORKING_PX_PER_MM).round() as usize).max(1);
    let scale = px_per_mm / factor as f64;
    // A disc of radius r gives its strongest normalised LoG response at sigma = r / sqrt(2).
    let sigma_min = p.min_diameter_um / 2000.0 * scale / 2f64.sqrt();
    let sigma_max = p.max_diameter_um / 2000.0 * scale / 2f64.sqrt();
    find_candidates_px(od, factor, sigma_min, sigma_max, p)
}

/// Finds candidates after downsampling by `factor`, over LoG sigmas `sigma_min..sigma_max` in
/// downsampled pixels (the smallest is kept at 0.5 px or more).
pub fn find_candidates_px(
    od: &Plane,
    factor: usize,
    sigma_min: f64,
    sigma_max: f64,
    p: &DetectParams,
) -> Vec<Candidate> {
    let base = od.downsample(factor);
    let sigma_min = sigma_min.max(0.5);
    let sigma_max = sigma_max.max(sigma_min * 1.5);
    let ratio = 2f64.sqrt();
    let n = ((sigma_max / sigma_min).ln() / ratio.ln()).ceil() as usize + 1;
    let levels = pyramid(&base, (0..n).map(|k| sigma_min * ratio.powi(k as i32)));
    let mut found: Vec<Candidate> = (0..levels.len())
        .into_par_iter()
        .flat_map_iter(|k| {
            let lv = &levels[k];
            let neighbours: Vec<&Level> =
                [k.checked_sub(1), Some(k + 1)].into_iter().flatten().filter_map(|i| levels.get(i)).collect();
            let (w, h) = (lv.log.width, lv.log.height);
            let mut out = Vec::new();
            for y in 1..h.saturating_sub(1) {
                for x in 1..w.saturating_sub(1) {
                    let v = lv.log.at(x, y);
                    if (v as f64) < p.threshold_sigma * lv.noise as f64
                        || !lv.is_spatial_max(x, y, v)
                        || lv.roundness(x, y) < p.min_roundness
                    {
                        continue;
                    }
                    // A maximum across scale too: the inner rim of a large flat dot peaks at a
                    // small scale but grows into the dot's own response at larger ones.
                    let (xb, yb) = (
                        (x * lv.step) as f64 + 0.5 * (lv.step - 1) as f64,
                        (y * lv.step) as f64 + 0.5 * (lv.step - 1) as f64,
                    );
                    if neighbours.iter().any(|n| n.max_near(xb, yb) > v) {
                        continue;
                    }
                    let (dx, dy) = lv.subpixel(x, y);
                    let step = (lv.step * factor) as f64;
                    out.push(Candidate {
                        x: (x as f64 + dx + 0.5) * step - 0.5,
                        y: (y as f64 + dy + 0.5) * step - 0.5,
                        radius_px: lv.sigma_base * 2f64.sqrt() * factor as f64,
                        strength: v as f64 / lv.noise as f64,
                        response: v as f64,
                    });
                }
            }
            out
        })
        .collect();
    // The strongest scale-normalised response among overlapping candidates picks the scale
    // (Lindeberg's scale selection).
    prune_overlapping(&mut found);
    found
}

/// The scale space as a pyramid: each level is blurred incrementally from the previous one,
/// and the image is halved whenever the blur reaches two of its pixels, so that every level
/// costs a small kernel on an ever smaller image.
fn pyramid(base: &Plane, sigmas: impl Iterator<Item = f64>) -> Vec<Level> {
    let mut img = base.clone();
    let mut step = 1usize;
    // Blur already in `img`, as a variance in base pixels^2.
    let mut var = 0.0f64;
    let mut levels = Vec::new();
    for s in sigmas {
        if s / step as f64 >= 2.0 && img.width >= 8 && img.height >= 8 {
            img = img.downsample(2);
            // Averaging 2 samples adds a variance of 1/4 of the new pixel, i.e. step^2 base px^2.
            var += (step * step) as f64;
            step *= 2;
        }
        let extra = (s * s - var).max(0.0).sqrt() / step as f64;
        if extra > 0.05 {
            img = img.gaussian_blur(extra as f32);
        }
        var = var.max(s * s);
        levels.push(Level::new(img.clone(), s, step));
    }
    levels
}

/// One scale of the scale space: the normalised LoG response (positive on dark blobs) and the
/// blurred density it came from, sampled every `step` base pixels.
struct Level {
    /// Blur sigma in base pixels.
    sigma_base: f64,
    step: usize,
    blurred: Plane,
    log: Plane,
    noise: f32,
}

impl Level {
    fn new(blurred: Plane, sigma_base: f64, step: usize) -> Level {
        let (w, h) = (blurred.width, blurred.height);
        let mut log = Plane::new(w, h);
        let s = (sigma_base / step as f64) as f32;
        let s2 = s * s;
        log.data.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            for (x, o) in row.iter_mut().enumerate() {
                let (xi, yi) = (x as isize, y as isize);
                let c = blurred.at(x, y);
                let lap = blurred.at_clamped(xi - 1, yi)
                    + blurred.at_clamped(xi + 1, yi)
                    + blurred.at_clamped(xi, yi - 1)
                    + blurred.at_clamped(xi, yi + 1)
                    - 4.0 * c;
                *o = -s2 * lap;
            }
        });
        // Robust standard deviation of the response over the frame: most of it is skin.
        let step_s = ((w * h) / 100_000).max(1);
        let mut sample: Vec<f32> = log.data.iter().step_by(step_s).copied().collect();
        let med = median(&mut sample);
        let mut dev: Vec<f32> = sample.iter().map(|v| (v - med).abs()).collect();
        let noise = (1.4826 * median(&mut dev)).max(1e-6);
        Level { sigma_base, step, blurred, log, noise }
    }

    /// Largest response in the 3x3 neighbourhood of base-pixel position (xb, yb).
    fn max_near(&self, xb: f64, yb: f64) -> f32 {
        let (x, y) = (
            ((xb + 0.5) / self.step as f64 - 0.5).round() as isize,
            ((yb + 0.5) / self.step as f64 - 0.5).round() as isize,
        );
        let mut m = f32::MIN;
        for dy in -1..=1 {
            for dx in -1..=1 {
                m = m.max(self.log.at_clamped(x + dx, y + dy));
            }
        }
        m
    }

    fn is_spatial_max(&self, x: usize, y: usize, v: f32) -> bool {
        for dy in -1isize..=1 {
            for dx in -1isize..=1 {
                if (dx, dy) != (0, 0) {
                    let n = self.log.at_clamped(x as isize + dx, y as isize + dy);
                    // Ties broken by position so that a flat top yields one maximum.
                    if n > v || (n == v && (dy, dx) < (0, 0)) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Ratio of the Hessian eigenvalues of the blurred density (small / large magnitude).
    fn roundness(&self, x: usize, y: usize) -> f64 {
        let b = |dx: isize, dy: isize| self.blurred.at_clamped(x as isize + dx, y as isize + dy) as f64;
        let dxx = b(1, 0) + b(-1, 0) - 2.0 * b(0, 0);
        let dyy = b(0, 1) + b(0, -1) - 2.0 * b(0, 0);
        let dxy = 0.25 * (b(1, 1) + b(-1, -1) - b(1, -1) - b(-1, 1));
        let tr = dxx + dyy;
        let disc = ((dxx - dyy).powi(2) + 4.0 * dxy * dxy).sqrt();
        let (l1, l2) = (0.5 * (tr - disc), 0.5 * (tr + disc));
        let (big, small) = if l1.abs() >= l2.abs() { (l1, l2) } else { (l2, l1) };
        if big == 0.0 || small * big < 0.0 { 0.0 } else { small / big }
    }

    /// Sub-pixel offset of the maximum from a quadratic fit to the 3x3 neighbourhood.
    fn subpixel(&self, x: usize, y: usize) -> (f64, f64) {
        let l = |dx: isize, dy: isize| self.log.at_clamped(x as isize + dx, y as isize + dy) as f64;
        let gx = 0.5 * (l(1, 0) - l(-1, 0));
        let gy = 0.5 * (l(0, 1) - l(0, -1));
        let hxx = l(1, 0) + l(-1, 0) - 2.0 * l(0, 0);
        let hyy = l(0, 1) + l(0, -1) - 2.0 * l(0, 0);
        let off = |g: f64, h: f64| if h < 0.0 { (-g / h).clamp(-0.5, 0.5) } else { 0.0 };
        (off(gx, hxx), off(gy, hyy))
    }
}

/// Of two candidates whose discs mostly overlap, keeps the stronger: one dot seen at two
/// neighbouring scales, or a plateau seen twice. Partly overlapping dots (layered sessions)
/// overlap less and are both kept.
fn prune_overlapping(c: &mut Vec<Candidate>) {
    c.sort_by(|a, b| b.response.total_cmp(&a.response).then(a.y.total_cmp(&b.y)).then(a.x.total_cmp(&b.x)));
    let cell = c.iter().map(|d| d.radius_px).fold(1.0, f64::max) * 2.0;
    let mut grid: std::collections::HashMap<(i64, i64), Vec<usize>> = Default::default();
    let mut keep: Vec<Candidate> = Vec::with_capacity(c.len());
    for cand in c.iter() {
        let (gx, gy) = ((cand.x / cell).floor() as i64, (cand.y / cell).floor() as i64);
        let clash = (-1..=1).any(|dy| {
            (-1..=1).any(|dx| {
                grid.get(&(gx + dx, gy + dy)).is_some_and(|v| v.iter().any(|&i| overlap_fraction(&keep[i], cand) > 0.5))
            })
        });
        if !clash {
            grid.entry((gx, gy)).or_default().push(keep.len());
            keep.push(*cand);
        }
    }
    *c = keep;
}

/// Area of the intersection of two candidate discs over the area of the smaller.
fn overlap_fraction(a: &Candidate, b: &Candidate) -> f64 {
    let d = (a.x - b.x).hypot(a.y - b.y);
    let (r1, r2) = (a.radius_px, b.radius_px);
    if d >= r1 + r2 {
        return 0.0;
    }
    let small = r1.min(r2);
    if d <= (r1 - r2).abs() {
        return 1.0;
    }
    let a1 = r1 * r1 * ((d * d + r1 * r1 - r2 * r2) / (2.0 * d * r1)).clamp(-1.0, 1.0).acos();
    let a2 = r2 * r2 * ((d * d + r2 * r2 - r1 * r1) / (2.0 * d * r2)).clamp(-1.0, 1.0).acos();
    let a3 = 0.5 * ((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2)).max(0.0).sqrt();
    (a1 + a2 - a3) / (std::f64::consts::PI * small * small)
}

/// Without a scale, the detector still needs to know roughly how large a dot is in pixels:
/// taken from the photo itself, px per mm, as the typical size of the strongest blobs, assuming
/// a typical SMP dot of 120 um. Only the search uses it; no length is reported from it.
pub fn working_scale(photo: &Photo) -> f64 {
    let long_side = photo.width().max(photo.height());
    let background = Background::estimate(photo, (long_side / 40).max(8));
    let od = background.optical_density(photo);
    let factor = (long_side / 1500).max(1);
    let mut c = find_candidates_px(&od, factor, 0.6, 24.0 / factor as f64, &DetectParams::default());
    c.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    let mut radii: Vec<f32> = c.iter().take(200).map(|d| d.radius_px as f32).collect();
    if radii.is_empty() {
        return 40.0;
    }
    (2.0 * median(&mut radii) as f64 / 0.12).clamp(5.0, 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc_plane(w: usize, h: usize, dots: &[(f64, f64, f64, f32)]) -> Plane {
        let mut p = Plane::new(w, h);
        for y in 0..h {
            for x in 0..w {
                for &(cx, cy, r, a) in dots {
                    if (x as f64 - cx).hypot(y as f64 - cy) <= r {
                        p.data[y * w + x] += a;
                    }
                }
                // Deterministic texture so the noise estimate is not zero.
                p.data[y * w + x] += 0.01 * (((x * 7919 + y * 104729) % 97) as f32 / 97.0 - 0.5);
            }
        }
        p
    }

    #[test]
    fn finds_round_dots_and_nothing_along_a_line() {
        let mut p = disc_plane(200, 150, &[(50.0, 50.0, 3.0, 0.6), (120.0, 40.0, 5.0, 0.4), (60.0, 110.0, 2.0, 0.8)]);
        for x in 100..190 {
            for y in 100..103 {
                p.data[y * 200 + x] += 0.7;
            }
        }
        let c = find_candidates(&p, 40.0, &DetectParams::default());
        // The line's ends look like blobs locally (the fit's shape test rejects them later);
        // along its length nothing is found.
        assert!(c.iter().all(|d| !(d.y > 95.0 && d.x > 105.0 && d.x < 185.0)), "{c:?}");
        assert_eq!(c.iter().filter(|d| d.y < 95.0 || d.x < 95.0).count(), 3, "{c:?}");
        for (cx, cy) in [(50.0, 50.0), (120.0, 40.0), (60.0, 110.0)] {
            assert!(c.iter().any(|d| (d.x - cx).hypot(d.y - cy) < 1.0), "missing {cx},{cy}: {c:?}");
        }
    }
}
