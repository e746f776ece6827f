//! Shine: light reflected by the skin's surface, added equally to every channel.
//!
//! A cell's skin light per channel is B_c = g s_c + h: the frame's typical skin colour s (the
//! median over cells of each channel relative to green; shine reaches few cells) times the local
//! light g, plus the shine h. The three channels give g and h by least squares. Skin mottle and
//! cells crowded with hair scatter h around 0 as well, so only cells whose share of shine stands
//! out of that scatter count: from 2 robust sigmas (or 1 % of the light) above the frame's
//! typical value, fully from twice that, so that a highlight's soft rim is not cut off.

use crate::plane::quantile;

/// Below this spread of skin colour (largest channel / smallest) the channels cannot tell shine
/// from light (grey images, grey targets): no shine is estimated.
const MIN_CHROMA: f64 = 1.1;
/// Smallest scatter of the shine share taken as noise.
const MIN_SCATTER: f64 = 0.01;
/// What is left of a pixel's light after shine comes off, at least (a share of the light).
const FLOOR: f32 = 0.01;

/// Shine per cell, linear light, from the cells' log10 levels `[luma, R, G, B]`.
pub fn estimate(levels: &[[f32; 4]]) -> Vec<f32> {
    let none = vec![0.0; levels.len()];
    let light: Vec<[f64; 3]> = levels.iter().map(|l| [1, 2, 3].map(|k| 10f64.powf(l[k] as f64))).collect();
    let ratio = |c: usize| {
        let mut v: Vec<f64> = light.iter().map(|b| (b[c] / b[1].max(1e-9)).ln()).collect();
        if v.is_empty() { 0.0 } else { quantile(&mut v, 0.5).exp() }
    };
    let s = [ratio(0), 1.0, ratio(2)];
    let (lo, hi) = (s.iter().copied().fold(f64::MAX, f64::min), s.iter().copied().fold(0.0, f64::max));
    if levels.len() < 4 || !(hi / lo.max(1e-9) >= MIN_CHROMA) {
        return none;
    }
    // Least squares of B_c = g s_c + h over the three channels.
    let (sx, sxx) = (s.iter().sum::<f64>(), s.iter().map(|v| v * v).sum::<f64>());
    let det = 3.0 * sxx - sx * sx;
    let fitted: Vec<(f64, f64)> = light
        .iter()
        .map(|b| {
            let (sb, sxb) = (b.iter().sum::<f64>(), b.iter().zip(&s).map(|(b, s)| b * s).sum::<f64>());
            let h = (sxx * sb - sx * sxb) / det;
            (h, h / b[1].max(1e-9))
        })
        .collect();
    let mut share: Vec<f64> = fitted.iter().map(|f| f.1).collect();
    let centre = quantile(&mut share, 0.5);
    let mut dev: Vec<f64> = share.iter().map(|q| (q - centre).abs()).collect();
    let scatter = (2.0 * 1.4826 * quantile(&mut dev, 0.5)).max(MIN_SCATTER);
    fitted.iter().map(|&(h, q)| (((q - centre) / scatter - 1.0).clamp(0.0, 1.0) * h.max(0.0)) as f32).collect()
}

/// log10 of the light `log_level` (log10 linear) with shine `h` taken off.
#[inline]
pub fn without(log_level: f32, h: f32) -> f32 {
    let v = 10f32.powf(log_level);
    (v - h).max(FLOOR * v).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(light: [f64; 3]) -> [f32; 4] {
        let l = light.map(|v| v.log10() as f32);
        [0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2], l[0], l[1], l[2]]
    }

    #[test]
    fn a_highlight_on_brown_skin_is_found_and_plain_skin_is_left_alone() {
        let skin = [0.20, 0.12, 0.08];
        let mut levels = Vec::new();
        for i in 0..100 {
            // Mottle: a few per cent per channel; lighting: a gradient.
            let g = 0.8 + 0.004 * i as f64;
            let m = [1.0 + 0.03 * ((i * 7 % 11) as f64 / 5.0 - 1.0), 1.0, 1.0 + 0.03 * ((i * 3 % 7) as f64 / 3.0 - 1.0)];
            let h = if (40..46).contains(&i) { 0.15 } else { 0.0 };
            levels.push(cell(std::array::from_fn(|c| g * skin[c] * m[c] + h)));
        }
        let shine = estimate(&levels);
        for (i, h) in shine.iter().enumerate() {
            if (40..46).contains(&i) {
                assert!((h - 0.15).abs() < 0.02, "cell {i}: {h}");
            } else {
                assert!(*h < 0.01, "cell {i}: {h}");
            }
        }
    }

    #[test]
    fn grey_images_have_no_shine() {
        let levels: Vec<[f32; 4]> = (0..50).map(|i| cell([0.3 + 0.01 * i as f64; 3])).collect();
        assert!(estimate(&levels).iter().all(|&h| h == 0.0));
    }
}
