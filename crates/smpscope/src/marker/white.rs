//! White balance and exposure from the card's neutral patches: the grey patches and the paper.

use crate::colour::{LUMA, delta_e_2000, linear_rgb_to_lab};
use crate::photo::Photo;

use super::homography::{self, Homography};
use super::layout::GREYS;
use super::sample;

/// White balance and exposure read on the marker.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WhiteBalance {
    /// Gains on linear R, G, B (green 1) that make the neutral patches neutral.
    pub gains: [f64; 3],
    /// Standard errors of the gains, from their scatter between patches.
    pub gains_sd: [f64; 3],
    /// Linear luminance at which the paper white reads after the gains (1 = the top of the
    /// range): the light on the card times the camera's exposure.
    pub exposure: f64,
    /// Colour cast left on the grey patches after the gains: the largest CIEDE2000 between a
    /// balanced patch and the neutral grey of its own lightness.
    pub residual_de: f64,
    /// Neutral patches read (greys and paper; clipped or covered ones left out).
    pub patches: usize,
}

/// The paper between the grey patches and the frame, [x0, y0, x1, y1] mm.
const PAPER: [f64; 4] = [3.0, 12.95, 13.0, 13.65];

/// Mean of the middle half of linear RGB over a 10 x 10 grid of the rectangle (0.35 mm in from its sides); None
/// when a sample is clipped or outside the photo.
fn patch(photo: &Photo, h: &Homography, r: [f64; 4], inset: f64) -> Option<[f64; 3]> {
    let mut vals: [Vec<f64>; 3] = Default::default();
    for k in 0..100 {
        let u = r[0] + inset + (r[2] - r[0] - 2.0 * inset) * ((k % 10) as f64 + 0.5) / 10.0;
        let v = r[1] + inset + (r[3] - r[1] - 2.0 * inset) * ((k / 10) as f64 + 0.5) / 10.0;
        let [x, y] = homography::apply(h, u, v)?;
        let (xi, yi) = (x.round(), y.round());
        if !(xi >= 0.0 && yi >= 0.0 && xi < photo.width() as f64 && yi < photo.height() as f64) {
            return None;
        }
        let (xi, yi) = (xi as usize, yi as usize);
        if sample::top_clipped(photo, xi, yi) {
            return None;
        }
        let c = sample::rgb(photo, xi, yi);
        for ch in 0..3 {
            vals[ch].push(c[ch]);
        }
    }
    // The middle half's mean: the median's robustness to a hair or a speck, without its rounding
    // to one 8-bit code (a dark grey's code step is 3 % of its value).
    Some(vals.map(crate::stats::middle_half_mean))
}

/// Reads the neutral patches; None when fewer than two are readable.
pub fn measure(photo: &Photo, h: &Homography) -> Option<WhiteBalance> {
    let mut neutral: Vec<([f64; 3], f64)> = GREYS
        .iter()
        .filter_map(|(_, level, r)| {
            let nominal = crate::colour::srgb_to_linear(*level as f64 / 255.0);
            patch(photo, h, *r, 0.35).map(|m| (m, nominal))
        })
        .collect();
    let greys = neutral.len();
    if let Some(m) = patch(photo, h, PAPER, 0.15) {
        neutral.push((m, 1.0));
    }
    if neutral.len() < 2 || neutral.iter().any(|(m, _)| m.iter().any(|&v| v.is_nan() || v <= 0.0)) {
        return None;
    }
    let n = neutral.len() as f64;
    let mut gains = [1.0; 3];
    let mut gains_sd = [0.0; 3];
    for c in [0, 2] {
        gains[c] = neutral.iter().map(|(m, _)| m[c] * m[1]).sum::<f64>()
            / neutral.iter().map(|(m, _)| m[c] * m[c]).sum::<f64>();
        let ratios: Vec<f64> = neutral.iter().map(|(m, _)| m[1] / m[c]).collect();
        let mean = ratios.iter().sum::<f64>() / n;
        gains_sd[c] = (ratios.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / ((n - 1.0) * n)).sqrt();
    }
    let balanced = |m: &[f64; 3]| -> [f64; 3] { std::array::from_fn(|c| gains[c] * m[c]) };
    let y = |c: [f64; 3]| (0..3).map(|i| LUMA[i] as f64 * c[i]).sum::<f64>();
    let exposure = neutral.iter().map(|(m, nom)| y(balanced(m)) * nom).sum::<f64>()
        / neutral.iter().map(|(_, nom)| nom * nom).sum::<f64>();
    let residual_de = neutral[..greys]
        .iter()
        .map(|(m, _)| {
            let lab = linear_rgb_to_lab(balanced(m));
            delta_e_2000(lab, [lab[0], 0.0, 0.0])
        })
        .fold(0.0, f64::max);
    Some(WhiteBalance { gains, gains_sd, exposure, residual_de, patches: neutral.len() })
}
