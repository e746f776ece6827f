//! Per-dot flags: what to keep in mind about one dot's numbers, as stable codes.

use serde::{Deserialize, Serialize};

use super::fit::{DotModel, GroupFit};
use super::{Dot, Inputs};

/// A dot's deposit diameter under which its diameter and spread are not told apart, px.
pub const UNRESOLVED_DIAMETER_PX: f64 = 4.0;
/// A dot's signal-to-noise ratio under which its numbers are noisy.
const LOW_SNR: f64 = 10.0;
/// Residual density attached to a dot, as a share of its observed peak, above which a hair is
/// taken to cross it (candidates above `MeasureParams::max_attached` are rejected).
const HAIR_CROSSED: f64 = 0.1;

/// What to keep in mind about one dot's numbers. Serialised as its snake_case code; a code from
/// a later version reads as `other`.
///
/// ```
/// let f: smpscope::DotFlag = serde_json::from_str("\"hair_crossed\"").unwrap();
/// assert_eq!(f, smpscope::DotFlag::HairCrossed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DotFlag {
    /// Fitted jointly with touching dots: its share of their ink is less certain.
    Crowded,
    /// A hair or stubble runs into it: some of its density may be the hair's.
    HairCrossed,
    /// Its blurred profile reaches the photo's edge.
    NearEdge,
    /// Signal-to-noise ratio under 10.
    LowSnr,
    /// Diameter and spread are not told apart: deposit under 4 px, the photo's shared spread
    /// held, or a diameter interval wider than the diameter.
    Unresolved,
    /// A pixel of its deposit is clipped in the photo (black or white in a channel).
    Saturated,
    /// A flag of a later version.
    #[serde(other)]
    Other,
}

/// The flags of dot `i` of `fit` (described as `dot`), whose residual attached density is
/// `attached_share` of its observed peak; `blur_var` is the photo's blur variance, px^2.
pub(super) fn flags(
    inp: &Inputs,
    fit: &GroupFit,
    i: usize,
    dot: &Dot,
    attached_share: f64,
    blur_var: f64,
) -> Vec<DotFlag> {
    let d = &fit.dots[i];
    let diameter_wide =
        dot.ci95.as_ref().is_none_or(|c| c.diameter_px.is_none_or(|[lo, hi]| hi - lo > dot.diameter_px));
    let mut out = Vec::new();
    let mut flag = |on: bool, f: DotFlag| {
        if on {
            out.push(f);
        }
    };
    flag(fit.dots.len() > 1, DotFlag::Crowded);
    flag(attached_share > HAIR_CROSSED, DotFlag::HairCrossed);
    flag(reaches_edge(inp, d, blur_var), DotFlag::NearEdge);
    flag(dot.snr < LOW_SNR, DotFlag::LowSnr);
    flag(dot.diameter_px < UNRESOLVED_DIAMETER_PX || fit.spread_held || diameter_wide, DotFlag::Unresolved);
    flag(deposit_clipped(inp, d), DotFlag::Saturated);
    out
}

/// Whether the disc and two sigmas of its blur reach past the photo's edge.
fn reaches_edge(inp: &Inputs, d: &DotModel, blur_var: f64) -> bool {
    let reach = d.radius + 2.0 * (d.sigma * d.sigma + blur_var).sqrt();
    let (w, h) = (inp.od.width as f64, inp.od.height as f64);
    d.x - reach < -0.5 || d.y - reach < -0.5 || d.x + reach > w - 0.5 || d.y + reach > h - 0.5
}

/// Whether a pixel within the deposit's disc is clipped in the photo.
fn deposit_clipped(inp: &Inputs, d: &DotModel) -> bool {
    let r = d.radius.max(0.5);
    let (w, h) = (inp.photo.width() as isize, inp.photo.height() as isize);
    let (x0, x1) = ((d.x - r).floor() as isize, (d.x + r).ceil() as isize);
    let (y0, y1) = ((d.y - r).floor() as isize, (d.y + r).ceil() as isize);
    (y0.max(0)..=y1.min(h - 1)).any(|y| {
        (x0.max(0)..=x1.min(w - 1))
            .any(|x| (x as f64 - d.x).hypot(y as f64 - d.y) <= r && inp.photo.is_clipped(x as usize, y as usize))
    })
}
