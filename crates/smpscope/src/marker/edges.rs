//! Straight edges of the card seen in the photo: sub-pixel edge points along a printed edge,
//! and a robust straight line through them.

use crate::photo::Photo;

use super::homography::{self, Homography};
use super::sample;

/// A printed edge on the card: from `a` to `b` (mm), dark on the side of `dark` (a unit
/// vector in card mm), with `reach` mm of plain print on either side.
#[derive(Debug, Clone, Copy)]
pub struct PrintedEdge {
    /// Start, card mm.
    pub a: [f64; 2],
    /// End, card mm.
    pub b: [f64; 2],
    /// Unit normal pointing to the dark side, card mm.
    pub dark: [f64; 2],
    /// How far the profile reaches on either side, mm.
    pub reach: f64,
}

/// A line fitted to edge points: `normal . p = offset`, px.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    /// Unit normal, pointing to the dark side.
    pub normal: [f64; 2],
    /// Distance of the line from the origin along the normal, px.
    pub offset: f64,
    /// Robust standard deviation of the inliers about the line, px.
    pub sd: f64,
    /// Inlying edge points.
    pub inliers: usize,
    /// Share of the profiles along the edge that gave an inlying edge point, 0..1.
    pub coverage: f64,
    /// Extent of the inliers along the line, px.
    pub span: f64,
    /// Weighted centre of the edge points, px.
    pub centre: [f64; 2],
}

impl Line {
    /// Signed distance of p from the line, px (positive on the dark side).
    pub fn distance(&self, p: [f64; 2]) -> f64 {
        self.normal[0] * p[0] + self.normal[1] * p[1] - self.offset
    }

    /// The intersection with another line; None when (nearly) parallel.
    pub fn meet(&self, o: &Line) -> Option<[f64; 2]> {
        let det = self.normal[0] * o.normal[1] - self.normal[1] * o.normal[0];
        (det.abs() > 1e-6).then(|| {
            [
                (self.offset * o.normal[1] - self.normal[1] * o.offset) / det,
                (self.normal[0] * o.offset - self.offset * o.normal[0]) / det,
            ]
        })
    }
}

/// Edge points along a printed edge: at about every px along it (ends `margin` mm left out),
/// the profile across it is read, and the point where it crosses halfway between its plain
/// dark and bright levels (in linear light, where a symmetric blur leaves an edge in place).
/// Also returns how many profiles were read.
pub fn points(photo: &Photo, h: &Homography, e: &PrintedEdge, margin: f64) -> (Vec<[f64; 2]>, usize) {
    let len = (e.b[0] - e.a[0]).hypot(e.b[1] - e.a[1]);
    let (Some(pa), Some(pb)) = (homography::apply(h, e.a[0], e.a[1]), homography::apply(h, e.b[0], e.b[1])) else {
        return (Vec::new(), 0);
    };
    let len_px = (pb[0] - pa[0]).hypot(pb[1] - pa[1]);
    let n = ((len_px * (len - 2.0 * margin) / len).round() as usize).clamp(4, 400);
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let t = (margin + (len - 2.0 * margin) * (k as f64 + 0.5) / n as f64) / len;
        let m = [e.a[0] + t * (e.b[0] - e.a[0]), e.a[1] + t * (e.b[1] - e.a[1])];
        if let Some(p) = crossing(photo, h, m, e) {
            out.push(p);
        }
    }
    (out, n)
}

/// The edge crossing of one profile through the card point `m` (mm) across the edge.
fn crossing(photo: &Photo, h: &Homography, m: [f64; 2], e: &PrintedEdge) -> Option<[f64; 2]> {
    let p = homography::apply(h, m[0], m[1])?;
    let q = homography::apply(h, m[0] + e.reach * e.dark[0], m[1] + e.reach * e.dark[1])?;
    let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
    let reach = dx.hypot(dy);
    if reach.is_nan() || reach < 2.0 {
        return None;
    }
    let n = [dx / reach, dy / reach];
    let steps = (4.0 * reach).ceil() as isize;
    let at = |i: isize| {
        let r = reach * i as f64 / steps as f64;
        sample::lum_at(photo, p[0] + r * n[0], p[1] + r * n[1])
    };
    let profile: Vec<f64> = (-steps..=steps).map(at).collect::<Option<_>>()?;
    let plain = (0.4 * steps as f64).ceil() as usize;
    let bright = profile[..plain].iter().sum::<f64>() / plain as f64;
    let dark = profile[profile.len() - plain..].iter().sum::<f64>() / plain as f64;
    // A profile without a clear step (a hair across it, a covered edge) gives no point.
    if bright.is_nan() || bright <= 2.0 * dark.max(1e-4) {
        return None;
    }
    let level = 0.5 * (bright + dark);
    let centre = steps as usize;
    let cross = |i: usize| (profile[i] - level) * (profile[i + 1] - level) <= 0.0 && profile[i] != profile[i + 1];
    let i = (0..profile.len() - 1).filter(|&i| cross(i)).min_by_key(|&i| i.abs_diff(centre))?;
    let t = (profile[i] - level) / (profile[i] - profile[i + 1]);
    let r = reach * ((i as f64 + t) - steps as f64) / steps as f64;
    Some([p[0] + r * n[0], p[1] + r * n[1]])
}

/// A robust line through edge points (total least squares, Tukey weights): the normal is
/// turned towards `dark_hint` (a direction in px). None with fewer than 6 points.
pub fn fit(points: &[[f64; 2]], tried: usize, dark_hint: [f64; 2]) -> Option<Line> {
    if points.len() < 6 {
        return None;
    }
    let mut w = vec![1.0f64; points.len()];
    let mut line = None;
    for _ in 0..8 {
        let sw: f64 = w.iter().sum();
        if sw.is_nan() || sw <= 3.0 {
            return None;
        }
        let c = [0, 1].map(|k| points.iter().zip(&w).map(|(p, wi)| wi * p[k]).sum::<f64>() / sw);
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        for (p, wi) in points.iter().zip(&w) {
            let (dx, dy) = (p[0] - c[0], p[1] - c[1]);
            sxx += wi * dx * dx;
            sxy += wi * dx * dy;
            syy += wi * dy * dy;
        }
        // The normal is the direction of least spread.
        let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy) + std::f64::consts::FRAC_PI_2;
        let mut normal = [angle.cos(), angle.sin()];
        if normal[0] * dark_hint[0] + normal[1] * dark_hint[1] < 0.0 {
            normal = [-normal[0], -normal[1]];
        }
        let offset = normal[0] * c[0] + normal[1] * c[1];
        let mut r: Vec<f64> = points.iter().map(|p| (normal[0] * p[0] + normal[1] * p[1] - offset).abs()).collect();
        let mut sorted = r.clone();
        let s = (1.4826 * crate::stats::quantile(&mut sorted, 0.5)).max(0.02);
        let cut = 4.685 * s;
        for (wi, ri) in w.iter_mut().zip(r.iter_mut()) {
            *wi = if *ri < cut { (1.0 - (*ri / cut).powi(2)).powi(2) } else { 0.0 };
        }
        let inl: Vec<usize> = (0..points.len()).filter(|&i| r[i] < cut).collect();
        let sd = (inl.iter().map(|&i| r[i] * r[i]).sum::<f64>() / (inl.len().max(3) - 2) as f64).sqrt().max(0.01);
        let along = |p: &[f64; 2]| -normal[1] * p[0] + normal[0] * p[1];
        let (lo, hi) = inl
            .iter()
            .map(|&i| along(&points[i]))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        line = Some(Line {
            normal,
            offset,
            sd,
            inliers: inl.len(),
            coverage: inl.len() as f64 / tried.max(1) as f64,
            span: hi - lo,
            centre: c,
        });
    }
    line
}
