//! The camera's blur from the slanted square's edges (ISO 12233 style): every pixel near an
//! edge is placed by its distance across the edge, and the edge spread function of a Gaussian
//! blur, seen through the pixel's own square area, is fitted to them.

use crate::photo::Photo;

use super::edges::{self, Line, PrintedEdge};
use super::homography::{self, Homography};
use super::layout::{self, SLANT_CENTRE};
use super::sample;

/// The camera's blur as measured on the marker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blur {
    /// Gaussian sigma, px, the pixel's own area not included.
    pub sigma_px: f64,
    /// Its standard error, px.
    pub sd_px: f64,
    /// Edges that gave a fit (of 4).
    pub edges: usize,
}

/// Largest blur read, px: beyond it the edge's profile leaves the plain print around it.
const MAX_SIGMA_PX: f64 = 12.0;

/// Measures the blur on the slanted square; None when fewer than two of its edges fit.
pub fn measure(photo: &Photo, h: &Homography, px_per_mm: f64) -> Option<Blur> {
    let sq = layout::slanted_square();
    let mut fits: Vec<(f64, f64)> = Vec::new();
    for k in 0..4 {
        let (a, b) = (sq[k], sq[(k + 1) % 4]);
        let mid = [0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])];
        let (dx, dy) = (SLANT_CENTRE[0] - mid[0], SLANT_CENTRE[1] - mid[1]);
        let dark = [dx / dx.hypot(dy), dy / dx.hypot(dy)];
        let e = PrintedEdge { a, b, dark, reach: 0.45 };
        let (pts, tried) = edges::points(photo, h, &e, 0.5);
        let (Some(p), Some(q)) = (
            homography::apply(h, mid[0], mid[1]),
            homography::apply(h, mid[0] + 0.1 * dark[0], mid[1] + 0.1 * dark[1]),
        ) else {
            continue;
        };
        let Some(line) = edges::fit(&pts, tried, [q[0] - p[0], q[1] - p[1]]) else { continue };
        let (Some(pa), Some(pb)) = (homography::apply(h, a[0], a[1]), homography::apply(h, b[0], b[1])) else {
            continue;
        };
        let half_width = (0.45 * px_per_mm).clamp(3.0, 30.0);
        let samples = pixels_near(photo, &line, pa, pb, half_width);
        if let Some(fit) = fit_esf(&samples, &line) {
            fits.push(fit);
        }
    }
    if fits.len() < 2 {
        return None;
    }
    let wsum: f64 = fits.iter().map(|f| 1.0 / (f.1 * f.1)).sum();
    let mean = fits.iter().map(|f| f.0 / (f.1 * f.1)).sum::<f64>() / wsum;
    // The scatter between edges widens the error where it exceeds what each fit says.
    let chi2 = fits.iter().map(|f| ((f.0 - mean) / f.1).powi(2)).sum::<f64>() / (fits.len() - 1) as f64;
    let sd = (1.0 / wsum).sqrt() * chi2.max(1.0).sqrt();
    Some(Blur { sigma_px: mean, sd_px: sd, edges: fits.len() })
}

/// (signed distance across the edge px, linear luminance) of the unclipped pixels within
/// `half_width` px of the line, over the middle 70 % of the edge from `pa` to `pb`.
fn pixels_near(photo: &Photo, line: &Line, pa: [f64; 2], pb: [f64; 2], half_width: f64) -> Vec<(f64, f64)> {
    let t = [-line.normal[1], line.normal[0]];
    let along = |p: [f64; 2]| t[0] * p[0] + t[1] * p[1];
    let (sa, sb) = (along(pa).min(along(pb)), along(pa).max(along(pb)));
    let (lo, hi) = (sa + 0.15 * (sb - sa), sb - 0.15 * (sb - sa));
    let (x0, x1) = (pa[0].min(pb[0]) - half_width - 1.0, pa[0].max(pb[0]) + half_width + 1.0);
    let (y0, y1) = (pa[1].min(pb[1]) - half_width - 1.0, pa[1].max(pb[1]) + half_width + 1.0);
    let (w, h) = (photo.width() as f64, photo.height() as f64);
    let mut out = Vec::new();
    for y in (y0.max(0.0).ceil() as usize)..=(y1.min(h - 1.0).floor().max(0.0) as usize) {
        for x in (x0.max(0.0).ceil() as usize)..=(x1.min(w - 1.0).floor().max(0.0) as usize) {
            let p = [x as f64, y as f64];
            let d = line.distance(p);
            let s = along(p);
            if d.abs() <= half_width && s >= lo && s <= hi && !sample::top_clipped(photo, x, y) {
                out.push((d, sample::lum(photo, x, y)));
            }
        }
    }
    // At most 3000 pixels, every k-th: a fixed subset, the same on every run.
    let step = out.len().div_ceil(3000).max(1);
    out.into_iter().step_by(step).collect()
}

/// Fits the edge spread function to the samples: sigma and its standard error, px.
fn fit_esf(samples: &[(f64, f64)], line: &Line) -> Option<(f64, f64)> {
    if samples.len() < 30 {
        return None;
    }
    // The pixel's square area seen across the edge: 4 x 4 points of the pixel along the normal.
    let q = [-0.375, -0.125, 0.125, 0.375];
    let offsets: Vec<f64> =
        q.iter().flat_map(|&a| q.iter().map(move |&b| a * line.normal[0] + b * line.normal[1])).collect();
    let sse = |d0: f64, sigma: f64| esf_sse(samples, &offsets, d0, sigma).0;
    let (mut d0, mut ls) = (0.0, 0.0f64);
    for _ in 0..2 {
        ls = golden(|v| sse(d0, v.exp()), (0.04f64).ln(), MAX_SIGMA_PX.ln());
        d0 = golden(|v| sse(v, ls.exp()), -1.5, 1.5);
    }
    let sigma = ls.exp();
    let (best, contrast) = esf_sse(samples, &offsets, d0, sigma);
    if contrast.is_nan() || contrast <= 0.0 || sigma >= 0.98 * MAX_SIGMA_PX {
        return None;
    }
    let s2 = best / (samples.len() - 4) as f64;
    let hstep = 0.02 * sigma.max(0.2);
    let curv = (sse(d0, sigma + hstep) - 2.0 * best + sse(d0, (sigma - hstep).max(1e-3))) / (hstep * hstep);
    (curv > 0.0).then(|| (sigma, (2.0 * s2 / curv).sqrt()))
}

/// Sum of squared residuals of the best levels for (d0, sigma), and bright minus dark level.
fn esf_sse(samples: &[(f64, f64)], offsets: &[f64], d0: f64, sigma: f64) -> (f64, f64) {
    // v = bright (1 - F) + dark F, F the share of the pixel on the dark side: linear in the levels.
    let (mut s11, mut s12, mut s22, mut b1, mut b2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let f: Vec<f64> = samples
        .iter()
        .map(|(d, _)| offsets.iter().map(|o| phi((d + o - d0) / sigma)).sum::<f64>() / offsets.len() as f64)
        .collect();
    for ((_, v), fi) in samples.iter().zip(&f) {
        let (g1, g2) = (1.0 - fi, *fi);
        s11 += g1 * g1;
        s12 += g1 * g2;
        s22 += g2 * g2;
        b1 += g1 * v;
        b2 += g2 * v;
    }
    let det = s11 * s22 - s12 * s12;
    if det.is_nan() || det.abs() <= 1e-12 {
        return (f64::INFINITY, 0.0);
    }
    let bright = (b1 * s22 - b2 * s12) / det;
    let dark = (s11 * b2 - s12 * b1) / det;
    let sse = samples.iter().zip(&f).map(|((_, v), fi)| (v - bright * (1.0 - fi) - dark * fi).powi(2)).sum();
    (sse, bright - dark)
}

/// Minimum of a unimodal function on [lo, hi] by golden-section search (30 steps).
fn golden(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let (mut a, mut b) = (hi - g * (hi - lo), lo + g * (hi - lo));
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..30 {
        if fa < fb {
            hi = b;
            (b, fb) = (a, fa);
            a = hi - g * (hi - lo);
            fa = f(a);
        } else {
            lo = a;
            (a, fa) = (b, fb);
            b = lo + g * (hi - lo);
            fb = f(b);
        }
    }
    0.5 * (lo + hi)
}

/// The standard normal cumulative distribution (Abramowitz and Stegun 7.1.26, error < 1.5e-7).
pub fn phi(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_is_the_normal_cdf() {
        assert!((phi(0.0) - 0.5).abs() < 1e-7);
        assert!((phi(1.0) - 0.841_344_746).abs() < 1e-6);
        assert!((phi(-1.96) - 0.024_997_895).abs() < 1e-6);
    }

    #[test]
    fn an_edge_spread_function_gives_back_its_sigma() {
        let line = Line {
            normal: [0.996, 0.087],
            offset: 0.0,
            sd: 0.0,
            inliers: 0,
            coverage: 1.0,
            span: 0.0,
            centre: [0.0; 2],
        };
        let q = [-0.375, -0.125, 0.125, 0.375];
        let offs: Vec<f64> = q.iter().flat_map(|&a| q.iter().map(move |&b| a * 0.996 + b * 0.087)).collect();
        for sigma in [0.3, 0.8, 2.0] {
            let samples: Vec<(f64, f64)> = (0..400)
                .map(|i| {
                    let d = -6.0 + 12.0 * i as f64 / 400.0;
                    let f = offs.iter().map(|o| phi((d + o - 0.2) / sigma)).sum::<f64>() / 16.0;
                    (d, 0.8 * (1.0 - f) + 0.04 * f)
                })
                .collect();
            let (s, _) = fit_esf(&samples, &line).unwrap();
            assert!((s / sigma - 1.0).abs() < 0.02, "{sigma}: {s}");
        }
    }
}
