//! Screening before any fit: a candidate that sits on a hair shaft is told by the region of
//! the photo darker than half its peak. Around a dot, or two or three touching, that region is
//! a blob a few dot widths across; along stubble or a long hair it is a bar many times longer
//! than wide. Such candidates are set aside unfitted, which costs microseconds where a fit of
//! the bar as a chain of dots costs milliseconds and passes for dots
//! (docs/decisions.md#shaft-screen).

use crate::detect::Candidate;
use crate::plane::Plane;

/// The half-maximum region is searched this many candidate radii around it (plus 3 px).
const REACH_RADII: f64 = 8.0;
/// A region at least this many times longer than wide is a shaft (two touching dots make
/// about 2)...
const SHAFT_ASPECT: f64 = 2.5;
/// ... when also longer than two touching dots of the largest usual size (150 um, with their
/// spread), um...
const TOUCHING_PAIR_UM: f64 = 350.0;
/// ... and than this many candidate radii (two touching dots of the candidate's size make
/// about 4).
const SHAFT_LENGTH_RADII: f64 = 5.0;
/// Widest a hair shaft's half-maximum region reads, um (hairs are 50-120 um thick, and the
/// camera's blur and the 3 x 3 smoothing widen them), plus `SHAFT_WIDTH_PX`: a wider region is
/// a cluster of dots or a patch, not a hair.
const SHAFT_WIDTH_UM: f64 = 200.0;
/// See `SHAFT_WIDTH_UM`, px.
const SHAFT_WIDTH_PX: f64 = 2.0;
/// A candidate whose own width across the shaft exceeds the shaft's by this factor is a dot
/// that a hair crosses, not a stretch of the hair.
const BULGE: f64 = 1.5;

/// A candidate this much darker than the rest of its region is a dot on a fainter hair.
const DARKER: f64 = 1.4;

/// The shape of the region darker than half a candidate's peak, within its search box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct HalfMaxRegion {
    /// Length along the long axis, px (from the second moments, as for a uniform bar).
    pub length: f64,
    /// Typical width across it away from the candidate (the median slice beyond two radii), px.
    pub width: f64,
    /// Widest slice across the long axis within a candidate radius of its centre, px.
    pub width_at_centre: f64,
    /// The candidate's peak over the median density of the region away from it (1 when the
    /// region has no such part).
    pub darker: f64,
}

impl HalfMaxRegion {
    /// Whether the region is a hair shaft with the candidate, of `radius_px`, a stretch of it,
    /// in a photo of `px_per_mm`.
    pub fn is_shaft(&self, radius_px: f64, px_per_mm: f64) -> bool {
        self.length >= SHAFT_ASPECT * self.width
            && self.width <= SHAFT_WIDTH_UM / 1000.0 * px_per_mm + SHAFT_WIDTH_PX
            && self.length >= (SHAFT_LENGTH_RADII * radius_px).max(TOUCHING_PAIR_UM / 1000.0 * px_per_mm)
            && self.width_at_centre <= BULGE * self.width
            && self.darker < DARKER
    }
}

/// Optical density at (x, y) smoothed by the 3 x 3 binomial kernel: a pixel's noise, which at
/// JPEG quality 60 can match a small dot's contrast, would otherwise cut the region short.
fn smoothed(od: &Plane, x: isize, y: isize) -> f32 {
    const W: [f32; 3] = [0.25, 0.5, 0.25];
    let mut acc = 0.0;
    for (j, wy) in W.iter().enumerate() {
        for (i, wx) in W.iter().enumerate() {
            acc += wx * wy * od.at_clamped(x + i as isize - 1, y + j as isize - 1);
        }
    }
    acc
}

/// The region connected to the candidate's darkest pixel (within 1 px) whose smoothed optical
/// density is at least half of that pixel's; None when the peak is not positive.
pub(super) fn half_max_region(od: &Plane, c: &Candidate) -> Option<HalfMaxRegion> {
    let (w, h) = (od.width as isize, od.height as isize);
    let (cx, cy) = (c.x.round() as isize, c.y.round() as isize);
    let (mut sx, mut sy, mut peak) = (cx.clamp(0, w - 1), cy.clamp(0, h - 1), f32::MIN);
    for y in (cy - 1).max(0)..=(cy + 1).min(h - 1) {
        for x in (cx - 1).max(0)..=(cx + 1).min(w - 1) {
            let v = smoothed(od, x, y);
            if v > peak {
                (sx, sy, peak) = (x, y, v);
            }
        }
    }
    if peak <= 0.0 {
        return None;
    }
    let half = 0.5 * peak;
    let reach = (REACH_RADII * c.radius_px + 3.0).ceil() as isize;
    let (x0, y0) = ((sx - reach).max(0), (sy - reach).max(0));
    let (x1, y1) = ((sx + reach).min(w - 1), (sy + reach).min(h - 1));
    let bw = (x1 - x0 + 1) as usize;
    let mut seen = vec![false; bw * (y1 - y0 + 1) as usize];
    let mut stack = vec![(sx, sy)];
    seen[((sy - y0) as usize) * bw + (sx - x0) as usize] = true;
    let mut pixels: Vec<(f64, f64, f32)> = Vec::new();
    while let Some((x, y)) = stack.pop() {
        pixels.push((x as f64, y as f64, smoothed(od, x, y)));
        for (nx, ny) in [(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)] {
            if nx < x0 || nx > x1 || ny < y0 || ny > y1 {
                continue;
            }
            let k = ((ny - y0) as usize) * bw + (nx - x0) as usize;
            if !seen[k] && smoothed(od, nx, ny) >= half {
                seen[k] = true;
                stack.push((nx, ny));
            }
        }
    }
    Some(shape(&pixels, (sx as f64, sy as f64), peak, c.radius_px))
}

/// Length of a set of pixels from their second moments; its widths across the long axis away
/// from and at `centre`.
fn shape(pixels: &[(f64, f64, f32)], centre: (f64, f64), peak: f32, radius_px: f64) -> HalfMaxRegion {
    let n = pixels.len() as f64;
    let (mx, my) = pixels.iter().fold((0.0, 0.0), |(a, b), p| (a + p.0 / n, b + p.1 / n));
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for &(x, y, _) in pixels {
        sxx += (x - mx) * (x - mx) / n;
        syy += (y - my) * (y - my) / n;
        sxy += (x - mx) * (y - my) / n;
    }
    // A pixel is a unit square: each adds 1/12 px^2 to the variance along any axis.
    let (tr, det) = (sxx + syy, sxx * syy - sxy * sxy);
    let disc = (tr * tr / 4.0 - det).max(0.0).sqrt();
    let (l1, l2) = (tr / 2.0 + disc + 1.0 / 12.0, (tr / 2.0 - disc).max(0.0) + 1.0 / 12.0);
    // Widths of the slices across the long axis, 1 px apart: the widest near the candidate
    // against the typical one of the rest.
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (ux, uy) = (angle.cos(), angle.sin());
    let along = |x: f64, y: f64| ((x - centre.0) * ux + (y - centre.1) * uy).round() as i64;
    let mut slices: std::collections::BTreeMap<i64, usize> = std::collections::BTreeMap::new();
    for &(x, y, _) in pixels {
        *slices.entry(along(x, y)).or_default() += 1;
    }
    let near = radius_px.max(1.0).ceil() as i64;
    let mut far_od: Vec<f32> = pixels.iter().filter(|p| along(p.0, p.1).abs() > 2 * near + 1).map(|p| p.2).collect();
    let darker = if far_od.is_empty() { 1.0 } else { (peak / crate::plane::median(&mut far_od).max(1e-6)) as f64 };
    let width_at_centre = slices.range(-near..=near).map(|(_, &n)| n).max().unwrap_or(0) as f64;
    let mut far: Vec<f32> = slices.iter().filter(|(t, _)| t.abs() > 2 * near + 1).map(|(_, &n)| n as f32).collect();
    let width = if far.len() >= 3 { crate::plane::median(&mut far) as f64 } else { (12.0 * l2).sqrt() };
    HalfMaxRegion { length: (12.0 * l1).sqrt(), width, width_at_centre, darker }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(x: f64, y: f64, radius_px: f64) -> Candidate {
        Candidate { x, y, radius_px, strength: 10.0, response: 0.1 }
    }

    /// A bar from one end to the other, with its half-width, px.
    type Bar = ((f64, f64), (f64, f64), f64);

    /// A plane with soft discs (x, y, radius) and soft bars drawn in.
    fn plane(discs: &[(f64, f64, f64)], bars: &[Bar]) -> Plane {
        let mut p = Plane::new(80, 60);
        for (i, v) in p.data.iter_mut().enumerate() {
            let (x, y) = ((i % 80) as f64, (i / 80) as f64);
            let mut od: f64 = 0.0;
            for &(cx, cy, r) in discs {
                od = od.max(0.6 / (1.0 + (((x - cx).hypot(y - cy) - r) / 0.4).exp()));
            }
            for &((ax, ay), (bx, by), half_width) in bars {
                let (dx, dy) = (bx - ax, by - ay);
                let t = (((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
                let d = (x - ax - t * dx).hypot(y - ay - t * dy);
                od = od.max(0.5 / (1.0 + ((d - half_width) / 0.4).exp()));
            }
            *v = od as f32;
        }
        p
    }

    #[test]
    fn stubble_is_a_shaft_and_dots_are_not() {
        // A stubble fragment 16 px long, 2.5 px wide, candidates at both ends; a lone dot; two
        // touching dots; a dot crossed by a thin hair.
        let od = plane(
            &[(60.0, 10.0, 2.5), (20.0, 45.0, 2.5), (25.0, 45.0, 2.5), (60.0, 45.0, 3.0)],
            &[((5.0, 10.0), (21.0, 12.0), 1.2), ((45.0, 40.0), (75.0, 50.0), 0.7)],
        );
        // At 20 px/mm: dots of 125 um.
        let shaft = |x, y, r| half_max_region(&od, &candidate(x, y, r)).unwrap().is_shaft(r, 20.0);
        assert!(shaft(7.0, 10.2, 1.3) && shaft(19.0, 11.8, 1.3));
        assert!(!shaft(60.0, 10.0, 2.5));
        assert!(!shaft(20.0, 45.0, 2.5) && !shaft(25.0, 45.0, 2.5));
        assert!(!shaft(60.0, 45.0, 3.0));
    }
}
