//! What changed between a dot's baseline visit and a later one, in the first visit's units.
//!
//! Lengths and ink go through each visit's registration onto the first visit, so that a camera
//! a little closer or farther at a later visit does not read as spreading (the first visit's
//! scale turns px into um). Colours are compared after white balance: the later colour is
//! corrected in linear light by the ratio of the skin around that very dot at the two visits,
//! so that a change of light or white balance is not reported as a change of pigment.

use serde::{Deserialize, Serialize};

use crate::colour::{delta_e_2000, lab_to_linear_rgb, linear_rgb_to_lab};
use crate::measure::Dot;

/// One visit's dots seen from the first visit.
pub struct View<'a> {
    /// The visit's dots, as its analysis lists them.
    pub dots: &'a [Dot],
    /// Length factor onto the first visit's px (the registration's scale).
    pub scale: f64,
    /// Gains on linear R, G, B that bring this visit's light to the first visit's ([`light_onto`]).
    pub light: [f64; 3],
}

impl View<'_> {
    /// Ink of dot `d` in the first visit's px^2 (OD px^2).
    pub fn ink(&self, d: usize) -> f64 {
        self.dots[d].ink_px * self.scale * self.scale
    }

    /// Colour `lab` of this visit as the first visit's light would show it.
    pub fn in_first_light(&self, lab: [f64; 3]) -> [f64; 3] {
        let rgb = lab_to_linear_rgb(lab);
        linear_rgb_to_lab(std::array::from_fn(|c| rgb[c] * self.light[c]))
    }
}

/// Gains on linear R, G, B that bring one visit's light to another's: the per-channel median
/// ratio of the skin around the same dots, `(skin there, skin here)`; 1 without dots.
pub fn light_onto(skins: &[([f64; 3], [f64; 3])]) -> [f64; 3] {
    let ratios: Vec<[f64; 3]> = skins
        .iter()
        .map(|(there, here)| {
            let (there, here) = (lab_to_linear_rgb(*there), lab_to_linear_rgb(*here));
            std::array::from_fn(|c| there[c] / here[c].max(1e-6))
        })
        .collect();
    std::array::from_fn(|c| {
        let mut r: Vec<f64> = ratios.iter().map(|r| r[c]).filter(|r| r.is_finite()).collect();
        if r.is_empty() { 1.0 } else { crate::stats::quantile(&mut r, 0.5) }
    })
}

/// A dot at a later visit relative to its baseline visit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DotChange {
    /// Index of the dot in that visit's analysis.
    pub dot: usize,
    /// Ink now / ink at the baseline.
    pub ink_retained: f64,
    /// Spread sigma now minus at the baseline, um (None without a scale).
    pub spread_growth_um: Option<f64>,
    /// Deposit diameter now minus at the baseline, um (None without a scale).
    pub diameter_change_um: Option<f64>,
    /// CIEDE2000 between the dot's colour now and then, both under the first visit's light.
    pub delta_e: f64,
    /// b* now minus then, under the first visit's light: negative = bluer.
    pub delta_b: f64,
    /// Colour now, white-balanced onto the first visit's light (CIELAB).
    pub lab_balanced: [f64; 3],
    /// Change of the pigment's own hue ([`pigment_hue`] now minus then): negative = bluer. None
    /// where either visit's dot is too faint in red or blue to tell, or its photo keeps too
    /// little colour at its dots' size.
    #[serde(default)]
    pub pigment_shift: Option<f64>,
}

/// The later colour `lab` under the baseline's light: scaled per channel by the ratio of the
/// skin around the dot then (`skin_then`) and now (`skin_now`).
pub fn white_balance(lab: [f64; 3], skin_now: [f64; 3], skin_then: [f64; 3]) -> [f64; 3] {
    let (now, then, skin) = (lab_to_linear_rgb(lab), lab_to_linear_rgb(skin_then), lab_to_linear_rgb(skin_now));
    linear_rgb_to_lab(std::array::from_fn(|c| now[c] * then[c] / skin[c].max(1e-6)))
}

/// Compares dot `now` of view `later` with dot `then` of view `base`; `um_per_px` is the first
/// visit's (None without a scale). The later colour is white-balanced on the skin around the
/// dot at both visits, and both colours are then shown in the first visit's light: CIELAB is
/// not invariant to brightness (b* scales as its cube root), so a shift measured from a
/// touch-up visit taken brighter or darker than the first would otherwise be scaled.
pub fn compare(base: &View, then: usize, later: &View, now: usize, um_per_px: Option<f64>) -> DotChange {
    let (a, b) = (&base.dots[then], &later.dots[now]);
    let length = |f: fn(&Dot) -> f64| um_per_px.map(|k| (f(b) * later.scale - f(a) * base.scale) * k);
    let lab_then = base.in_first_light(a.lab);
    let lab_balanced = base.in_first_light(white_balance(b.lab, b.skin_lab, a.skin_lab));
    DotChange {
        dot: now,
        ink_retained: later.ink(now) / base.ink(then).max(1e-12),
        spread_growth_um: length(|d| d.spread_px),
        diameter_change_um: length(|d| d.diameter_px),
        delta_e: delta_e_2000(lab_then, lab_balanced),
        delta_b: lab_balanced[2] - lab_then[2],
        lab_balanced,
        pigment_shift: pigment_hue(b.od_rgb).zip(pigment_hue(a.od_rgb)).map(|(now, then)| now - then),
    }
}

/// Least plateau OD in red and in blue for a dot's pigment hue to be read.
const MIN_HUE_OD: f64 = 0.02;

/// The hue of a dot's pigment: ln(OD blue / OD red) of its plateau optical densities. It
/// depends on the ink alone: fading scales every channel's density alike, the skin's colour
/// and the light's cancel in optical density (read against the skin around the dot), and a
/// camera's tone curve scales all channels alike. An ink turning blue absorbs more red, so its
/// hue falls. None where either density is under 0.02.
pub fn pigment_hue(od_rgb: [f64; 3]) -> Option<f64> {
    (od_rgb[0] >= MIN_HUE_OD && od_rgb[2] >= MIN_HUE_OD).then(|| (od_rgb[2] / od_rgb[0]).ln())
}

/// Error of a visit's pigment shift common to all its dots, in ln(OD blue / OD red): the
/// chroma a JPEG quantises and the skin under the dots not quite the skin around them
/// (docs/decisions.md#pigment-shift).
pub const PIGMENT_SYSTEMATIC: f64 = 0.02;
/// The part of that error that grows with the shift, as a share of it: a JPEG's chroma
/// quantisation flattens small dots' colour, so a strong shift is under-read by up to a quarter
/// (docs/decisions.md#pigment-shift).
pub const PIGMENT_SYSTEMATIC_SHARE: f64 = 0.15;

/// The median pigment shift of matched dots and its 95 % interval (the median's sampling error
/// and the systematic error, [`PIGMENT_SYSTEMATIC`] and [`PIGMENT_SYSTEMATIC_SHARE`]); None with
/// fewer than 5 dots.
pub fn pigment_change(shifts: &[f64]) -> Option<(f64, [f64; 2])> {
    if shifts.len() < 5 {
        return None;
    }
    let centre = crate::stats::quantile(&mut shifts.to_vec(), 0.5);
    let systematic = PIGMENT_SYSTEMATIC.hypot(PIGMENT_SYSTEMATIC_SHARE * centre);
    let half = median_half_width(shifts.iter().copied(), centre, systematic);
    Some((centre, [centre - half, centre + half]))
}

/// Half-width of the 95 % interval of `centre`, the median of `values`: its sampling error (a
/// median of normal scatter errs by 1.2533 sigma / sqrt(n), sigma from the median absolute
/// deviation) and a `systematic` error common to all values, Student's t for n - 1 degrees.
fn median_half_width(values: impl Iterator<Item = f64>, centre: f64, systematic: f64) -> f64 {
    let mut dev: Vec<f64> = values.map(|v| (v - centre).abs()).collect();
    let n = dev.len();
    let sampling = 1.2533 * 1.4826 * crate::stats::quantile(&mut dev, 0.5) / (n as f64).sqrt();
    crate::stats::t95(n.saturating_sub(1).max(1)) * sampling.hypot(systematic)
}

/// Component-wise median of colours (None when empty).
pub fn median_lab(labs: impl Iterator<Item = [f64; 3]>) -> Option<[f64; 3]> {
    let all: Vec<[f64; 3]> = labs.collect();
    if all.is_empty() {
        return None;
    }
    Some(std::array::from_fn(|c| {
        let mut v: Vec<f64> = all.iter().map(|l| l[c]).collect();
        crate::stats::quantile(&mut v, 0.5)
    }))
}

/// Robust sigmas of log ratio beyond which a pair is not the same ink faded (see [`ink_retained`]).
const OUTLIER_SIGMAS: f64 = 3.0;
/// Narrowest outlier fence in log ratio (+-22 %): below it the spread is measurement noise.
const MIN_FENCE: f64 = 0.2;

/// Ink now / ink then of dot pairs `(then, now)` (same units): the ratio of the sums, which
/// weighs each dot by its ink as the fade of the whole treatment should. Pairs whose ratio lies
/// more than 3 robust sigmas (at least 22 %) from the median ratio are left out, because one
/// stubble fragment or pore taken for a dot, or a dot under a highlight, changes by a factor
/// that has nothing to do with fade and would dominate the sum. Not at a touch-up (`keep_all`):
/// there re-inked and faded dots are two honest groups, and the smaller would look like outliers.
pub fn ink_retained(pairs: &[(f64, f64)], keep_all: bool) -> Option<f64> {
    let logs: Vec<f64> = pairs.iter().map(|&(then, now)| (now.max(1e-12) / then.max(1e-12)).ln()).collect();
    if logs.is_empty() {
        return None;
    }
    let centre = crate::stats::quantile(&mut logs.clone(), 0.5);
    let mut dev: Vec<f64> = logs.iter().map(|l| (l - centre).abs()).collect();
    let fence = (OUTLIER_SIGMAS * 1.4826 * crate::stats::quantile(&mut dev, 0.5)).max(MIN_FENCE);
    let (then, now) = pairs
        .iter()
        .zip(&logs)
        .filter(|(_, l)| keep_all || (**l - centre).abs() <= fence)
        .fold((0.0, 0.0), |(a, b), (&(then, now), _)| (a + then, b + now));
    (then > 0.0).then(|| now / then)
}

/// The colours of matched dots then and now: the median colour then, and that plus the median
/// per-dot change. Pairing cancels the variety between dots, so a small shift common to the
/// dots stands out of the noise better than in the difference of two medians.
pub struct ColourChange {
    /// Median colour of the dots at the baseline, CIELAB.
    pub then: [f64; 3],
    /// `then` plus the median per-dot change, CIELAB.
    pub now: [f64; 3],
    /// 95 % interval of now - then in b*: the median's sampling error over the pairs and the
    /// measurement's systematic error ([`B_SYSTEMATIC`], [`B_SYSTEMATIC_SHARE`]).
    pub b_interval: [f64; 2],
}

/// Error of a visit's delta b* common to all its dots, b*: white balance on a skin that is not
/// quite the one under the dots, and a JPEG's quantised chroma. Without it and
/// [`B_SYSTEMATIC_SHARE`] the 95 % interval is far too narrow (docs/decisions.md#colour-interval).
pub const B_SYSTEMATIC: f64 = 0.4;
/// The part of that error that grows with the shift, as a share of it: JPEG quantisation
/// flattens the chroma of small dots, more so at low quality, so a strong shift seen through
/// two qualities is under-read (docs/decisions.md#colour-interval).
pub const B_SYSTEMATIC_SHARE: f64 = 0.15;

/// The paired colour change of matched dots, from `(then, now)` CIELAB pairs (both in the same
/// light); None without pairs.
pub fn colour_then_now(pairs: &[([f64; 3], [f64; 3])]) -> Option<ColourChange> {
    let then = median_lab(pairs.iter().map(|p| p.0))?;
    let change = median_lab(pairs.iter().map(|(a, b)| std::array::from_fn(|c| b[c] - a[c])))?;
    let db = change[2];
    let half =
        median_half_width(pairs.iter().map(|(a, b)| b[2] - a[2]), db, B_SYSTEMATIC.hypot(B_SYSTEMATIC_SHARE * db));
    Some(ColourChange { then, now: std::array::from_fn(|c| then[c] + change[c]), b_interval: [db - half, db + half] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_of_light_cancels_in_white_balance() {
        let (dot, skin) = ([0.10, 0.11, 0.14], [0.45, 0.35, 0.28]);
        // Warmer, dimmer light at the later visit.
        let light = [0.9, 0.75, 0.6];
        let lit = |c: [f64; 3]| linear_rgb_to_lab(std::array::from_fn(|i| c[i] * light[i]));
        let balanced = white_balance(lit(dot), lit(skin), linear_rgb_to_lab(skin));
        let de = delta_e_2000(balanced, linear_rgb_to_lab(dot));
        assert!(de < 1e-3, "{de}");
    }

    #[test]
    fn a_stray_pair_does_not_move_the_ink_ratio() {
        let mut pairs: Vec<(f64, f64)> =
            (0..40).map(|i| (10.0 + i as f64 * 0.1, 7.0 + i as f64 * 0.07 + (i % 3) as f64 * 0.1)).collect();
        let clean = ink_retained(&pairs, false).unwrap();
        // A large pore taken for a dot at the first visit, much fainter at the second.
        pairs.push((200.0, 30.0));
        assert!((ink_retained(&pairs, false).unwrap() - clean).abs() < 1e-9);
        assert!(ink_retained(&pairs, true).unwrap() < clean - 0.05);
    }

    #[test]
    fn at_a_touch_up_both_groups_count() {
        // 30 dots re-inked to full, 10 left at a third: the honest ratio is 10 / 12.
        let pairs: Vec<(f64, f64)> = (0..40).map(|i| if i < 30 { (1.0, 1.0) } else { (1.0, 1.0 / 3.0) }).collect();
        assert!((ink_retained(&pairs, true).unwrap() - (30.0 + 10.0 / 3.0) / 40.0).abs() < 1e-12);
    }

    #[test]
    fn paired_colour_change_is_the_common_shift() {
        let pairs: Vec<([f64; 3], [f64; 3])> = (0..21)
            .map(|i| {
                let then = [30.0 + i as f64, 5.0, 10.0 - 0.3 * i as f64];
                (then, [then[0] + 2.0, then[1], then[2] - 0.7])
            })
            .collect();
        let ColourChange { then, now, b_interval } = colour_then_now(&pairs).unwrap();
        assert!((now[2] - then[2] + 0.7).abs() < 1e-9 && (now[0] - then[0] - 2.0).abs() < 1e-9);
        // No scatter: only the systematic error is left.
        let half = crate::stats::t95(20) * B_SYSTEMATIC.hypot(0.7 * B_SYSTEMATIC_SHARE);
        assert!((b_interval[0] + 0.7 + half).abs() < 1e-9 && (b_interval[1] + 0.7 - half).abs() < 1e-9);
    }
}
