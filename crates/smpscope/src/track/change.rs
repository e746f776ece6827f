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
    pub dots: &'a [Dot],
    /// Length factor onto the first visit's px (the registration's scale).
    pub scale: f64,
}

impl View<'_> {
    /// Ink of dot `d` in the first visit's px^2 (OD px^2).
    pub fn ink(&self, d: usize) -> f64 {
        self.dots[d].ink_px * self.scale * self.scale
    }
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
    /// CIEDE2000 between the dot's colour now (white-balanced to the baseline) and then.
    pub delta_e: f64,
    /// b* now minus then, after white balance: negative = bluer.
    pub delta_b: f64,
    /// Colour now, white-balanced onto the baseline visit's light (CIELAB).
    pub lab_balanced: [f64; 3],
}

/// The later colour `lab` under the baseline's light: scaled per channel by the ratio of the
/// skin around the dot then (`skin_then`) and now (`skin_now`).
pub fn white_balance(lab: [f64; 3], skin_now: [f64; 3], skin_then: [f64; 3]) -> [f64; 3] {
    let (now, then, skin) = (lab_to_linear_rgb(lab), lab_to_linear_rgb(skin_then), lab_to_linear_rgb(skin_now));
    linear_rgb_to_lab(std::array::from_fn(|c| now[c] * then[c] / skin[c].max(1e-6)))
}

/// Compares dot `now` of view `later` with dot `then` of view `base`; `um_per_px` is the first
/// visit's (None without a scale).
pub fn compare(base: &View, then: usize, later: &View, now: usize, um_per_px: Option<f64>) -> DotChange {
    let (a, b) = (&base.dots[then], &later.dots[now]);
    let length = |f: fn(&Dot) -> f64| um_per_px.map(|k| (f(b) * later.scale - f(a) * base.scale) * k);
    let lab_balanced = white_balance(b.lab, b.skin_lab, a.skin_lab);
    DotChange {
        dot: now,
        ink_retained: later.ink(now) / base.ink(then).max(1e-12),
        spread_growth_um: length(|d| d.spread_px),
        diameter_change_um: length(|d| d.diameter_px),
        delta_e: delta_e_2000(a.lab, lab_balanced),
        delta_b: lab_balanced[2] - a.lab[2],
        lab_balanced,
    }
}

/// Component-wise median of colours (None when empty).
pub fn median_lab(labs: impl Iterator<Item = [f64; 3]>) -> Option<[f64; 3]> {
    let all: Vec<[f64; 3]> = labs.collect();
    if all.is_empty() {
        return None;
    }
    Some(std::array::from_fn(|c| {
        let mut v: Vec<f64> = all.iter().map(|l| l[c]).collect();
        crate::plane::quantile(&mut v, 0.5)
    }))
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
}
