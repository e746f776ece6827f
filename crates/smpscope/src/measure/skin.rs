//! What the skin passes off as dots: melanin (freckles, moles, hair and stubble, browner than
//! the photo's ink) and the crowds of dots on noisy dark patches.

use super::{Dot, Inputs, MeasureParams, Reject};

/// Sets aside what the skin passed off as dots: brown melanin, then the crowds on dark patches.
/// Melanin first: the brown fragments of a mole's rim would crowd its cells and take the real
/// dots on it along (docs/decisions.md#melanin-before-patches).
pub(super) fn set_aside_skin(results: &mut [Vec<Result<Dot, Reject>>], inp: &Inputs, p: &MeasureParams) {
    reject_melanin(results, p);
    set_aside_crowded_patches(results, inp);
}

/// Sets aside the dots of dark patches that hold far more dots than the skin: the noise of a
/// mole on dark skin (see [`crate::background::DarkPatches`]).
fn set_aside_crowded_patches(results: &mut [Vec<Result<Dot, Reject>>], inp: &Inputs) {
    let centres: Vec<[f64; 2]> = results.iter().flatten().flatten().map(|d| [d.x, d.y]).collect();
    let crowded = inp.background.patches.crowded(&centres);
    for r in results.iter_mut().flatten() {
        if r.as_ref().is_ok_and(|d| crowded.covers(d.x, d.y)) {
            *r = Err(Reject::DarkPatch);
        }
    }
}

/// Blue over red optical density of a dot (0 when it has no red density).
fn blue_red_ratio(d: &Dot) -> f64 {
    if d.od_rgb[0] > 0.0 { d.od_rgb[2] / d.od_rgb[0] } else { 0.0 }
}

/// How far above the lower quartile of a photo's blue/red ratios a dot may read and still be
/// ink: neutral ink sits at the low end, and the melanin features that pass for dots only add
/// to the top, so the quartile follows the ink even where they are many
/// (docs/decisions.md#brown-limit).
const BROWN_OVER_QUARTILE: f64 = 1.3;
/// ... or this many standard deviations of the ink's own scatter above its centre, if more.
const BROWN_OVER_SCATTER: f64 = 3.0;
/// The limit never rises above this: melanin reads about 2.7.
const BROWN_CEILING: f64 = 2.2;
/// Fewest dots whose ratios may raise the limit.
const BROWN_SAMPLE: usize = 20;
/// Standard normal quantiles at 25 % and 5 %.
const Z_QUARTILE: f64 = 0.674;
const Z_TWENTIETH: f64 = 1.645;

/// A photo's ink colour as blue/red ratios.
#[derive(Debug, Clone, Copy)]
struct InkColour {
    /// Lower quartile of the dots' ratios.
    quartile: f64,
    /// Scatter of true dots' ratios: the standard deviation of ln(ratio), read from the lower
    /// tail (5 % to 25 %), which the browner false dots do not reach.
    log_sigma: f64,
}

impl InkColour {
    /// The ratio `sigmas` standard deviations above the ink's centre.
    fn above(&self, sigmas: f64) -> f64 {
        (self.quartile.ln() + (Z_QUARTILE + sigmas) * self.log_sigma).exp()
    }
}

/// A photo's ink colour, or None with too few dots (with a red density) to tell.
fn ink_blue_red(dots: &[&Dot]) -> Option<InkColour> {
    let mut logs: Vec<f64> = dots.iter().map(|d| blue_red_ratio(d)).filter(|&r| r > 0.0).map(f64::ln).collect();
    if logs.len() < BROWN_SAMPLE {
        return None;
    }
    let (q05, q25) = (crate::stats::quantile(&mut logs, 0.05), crate::stats::quantile(&mut logs, 0.25));
    Some(InkColour { quartile: q25.exp(), log_sigma: (q25 - q05) / (Z_TWENTIETH - Z_QUARTILE) })
}

/// The blue/red ratio above which a dot is melanin: `max_blue_red_ratio`, or higher where the
/// photo's dots as a body read browner, or scatter more widely. A JPEG keeps colour coarser
/// than light, so a dot of a few pixels darkens all channels by about the same amount in
/// gamma-encoded values: on skin, whose blue is the dimmest channel, that is the largest
/// density in blue, and neutral ink reads browner and scatters widely
/// (docs/decisions.md#brown-limit).
fn brown_limit(ink: Option<InkColour>, p: &MeasureParams) -> f64 {
    ink.map_or(p.max_blue_red_ratio, |c| {
        p.max_blue_red_ratio.max((BROWN_OVER_QUARTILE * c.quartile).max(c.above(BROWN_OVER_SCATTER)).min(BROWN_CEILING))
    })
}

/// How much browner than the photo's ink (blue/red over [`ink_blue_red`]) an elongated dot
/// may read before it counts as hair: stubble fragments, the commonest false dots on dark skin
/// at low magnification, read well above it, and true dots near 1 (docs/decisions.md#hair-colour).
const HAIR_BROWN_OVER_INK: f64 = 1.2;

/// Turns melanin into rejections: dots browner than [`brown_limit`] (freckles, moles), and
/// elongated dots browner than the ink (hair and stubble fragments).
fn reject_melanin(results: &mut [Vec<Result<Dot, Reject>>], p: &MeasureParams) {
    let ink = ink_blue_red(&results.iter().flatten().flatten().collect::<Vec<_>>());
    let limit = brown_limit(ink, p);
    let hair = ink.map_or(f64::INFINITY, |c| HAIR_BROWN_OVER_INK * c.quartile);
    for r in results.iter_mut().flatten() {
        let Ok(d) = r else { continue };
        let br = blue_red_ratio(d);
        if br > limit {
            *r = Err(Reject::Brown);
        } else if br > hair && d.eccentricity > p.max_brown_eccentricity {
            *r = Err(Reject::Elongated);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept_shaped(dots: &[(f64, f64)]) -> Vec<bool> {
        let mut results: Vec<Vec<Result<Dot, Reject>>> = dots
            .iter()
            .map(|&(r, ecc)| vec![Ok(Dot { od_rgb: [0.2, 0.2, 0.2 * r], eccentricity: ecc, ..Default::default() })])
            .collect();
        reject_melanin(&mut results, &MeasureParams::default());
        results.iter().flatten().map(Result::is_ok).collect()
    }

    fn kept(ratios: &[f64]) -> Vec<bool> {
        kept_shaped(&ratios.iter().map(|&r| (r, 0.3)).collect::<Vec<_>>())
    }

    #[test]
    fn elongated_dots_browner_than_the_ink_are_hair() {
        // Neutral ink (1.0), round or elongated, and stubble fragments: 1.4 and elongated.
        let mut dots: Vec<(f64, f64)> =
            (0..40).map(|i| (1.0 + 0.005 * i as f64, if i % 4 == 0 { 0.85 } else { 0.35 })).collect();
        dots.extend([(1.4, 0.85); 10]);
        // A round dot as brown as the stubble stays: shape alone or colour alone is not enough.
        dots.push((1.4, 0.4));
        let k = kept_shaped(&dots);
        assert!(k[..40].iter().all(|&x| x), "{k:?}");
        assert!(k[40..50].iter().all(|&x| !x), "{k:?}");
        assert!(k[50]);
    }

    #[test]
    fn the_brown_limit_follows_a_photos_ink_but_never_lets_melanin_in() {
        // Tiny dots in a JPEG: neutral ink reads 1.4-1.7, freckle spots 2.7.
        let mut ratios: Vec<f64> = (0..60).map(|i| 1.4 + 0.005 * i as f64).collect();
        ratios.extend([2.7; 10]);
        let k = kept(&ratios);
        assert!(k[..60].iter().all(|&x| x) && k[60..].iter().all(|&x| !x));
        // Melanin the majority: the limit stays with the ink.
        let mut ratios = vec![1.0; 20];
        ratios.extend([2.7; 40]);
        assert_eq!(kept(&ratios).iter().filter(|&&x| x).count(), 20);
        // Few dots: the fixed limit.
        assert_eq!(kept(&[1.7; 10]), vec![false; 10]);
    }

    #[test]
    fn dots_whose_colour_scatters_widely_keep_their_tail() {
        // 2 px dots in a JPEG: ln(blue/red) of true dots normal about 0 with sigma 0.3 (ratios
        // 0.68 to 1.47 from the 10th to the 90th percentile), and a few freckle spots at 2.7.
        // Normal quantiles of 200 evenly spaced probabilities, by the logistic approximation.
        let z = |i: usize| {
            let p = (i as f64 + 0.5) / 200.0;
            (p / (1.0 - p)).ln() / 1.702
        };
        let mut ratios: Vec<f64> = (0..200).map(|i| (0.3 * z(i)).exp()).collect();
        ratios.extend([2.7; 10]);
        let k = kept(&ratios);
        // 1.3 times the quartile (0.82) is below the fixed 1.6, which alone cut 13 true dots.
        let true_cut = k[..200].iter().filter(|&&x| !x).count();
        assert!(true_cut <= 2, "{true_cut} true dots cut");
        assert!(k[200..].iter().all(|&x| !x));
    }
}
