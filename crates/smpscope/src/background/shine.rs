//! Shine: light reflected by the skin's surface, added equally to every channel.
//!
//! A cell's skin light per channel is B_c = g s_c + h: the frame's typical skin colour s (the
//! median over the plain cells of each channel relative to green) times the local light g, plus
//! the shine h. The three channels give g and h by least squares. Skin mottle and cells crowded
//! with hair scatter h around 0 as well, so only cells whose share of shine stands out of that
//! scatter count: from 2 robust sigmas (or 1 % of the light) above the frame's typical value,
//! fully from twice that, so that a highlight's soft rim is not cut off. The typical skin and
//! the scatter come from the cells that do not shine ([`Model::fit`]).

use crate::stats::quantile;

/// Below this spread of skin colour (largest channel / smallest) the channels cannot tell shine
/// from light (grey images, grey targets): no shine is estimated.
const MIN_CHROMA: f64 = 1.1;
/// Smallest scatter of the shine share taken as noise.
const MIN_SCATTER: f64 = 0.01;
/// Largest scatter of the shine share (two robust sigmas) over plain skin: beyond it the typical
/// skin colour was taken from cells that shine (docs/decisions.md#shine-scatter).
const MAX_SCATTER: f64 = 0.3;
/// Rounds of refitting the plain skin without the cells that shine.
const CLIP_ROUNDS: usize = 3;
/// What is left of a pixel's light after shine comes off, at least (a share of the light).
const FLOOR: f32 = 0.01;

/// What plain skin looks like in a frame, against which a cell's shine is told.
#[derive(Debug, Clone)]
pub struct Model {
    /// The frame's typical skin colour, relative to green.
    skin: [f64; 3],
    /// Typical share of shine in a cell's light (about 0), and the scatter of that share.
    centre: f64,
    scatter: f64,
}

impl Model {
    /// Fits the model to the cells' log10 levels `[luma, R, G, B]`; None where the frame's skin
    /// is too grey to tell shine from light. Shine only ever adds to a cell's share, so its
    /// scatter is read below the centre, and the skin colour, centre and scatter are refitted
    /// on the cells that do not shine, as shining cells grey the typical skin
    /// (docs/decisions.md#shine-plain-skin).
    pub fn fit(levels: &[[f32; 4]]) -> Option<Model> {
        if levels.len() < 4 {
            return None;
        }
        let model = Self::refit(levels, levels.iter().collect())?;
        if model.scatter <= MAX_SCATTER {
            return Some(model);
        }
        // Shine only ever greys a cell: start again from the reddest third of the cells (red over
        // blue), and keep that where the plain skin comes out tighter and is still most of the
        // frame. Brown patches (freckles, moles, mottle) are redder too: taken for the typical
        // skin, they would make the rest of the frame shine.
        let redness: Vec<f64> = levels.iter().map(|l| (l[1] - l[3]) as f64).collect();
        let reddest = quantile(&mut redness.clone(), 2.0 / 3.0);
        match Self::refit(levels, levels.iter().zip(&redness).filter(|&(_, &r)| r >= reddest).map(|(l, _)| l).collect())
        {
            Some(m)
                if m.scatter < model.scatter
                    && 2 * levels.iter().filter(|l| m.shine(l) == 0.0).count() >= levels.len() =>
            {
                Some(m)
            }
            _ => Some(model),
        }
    }

    /// Rounds of fitting the skin colour, centre and scatter to `plain` cells and choosing the
    /// plain cells again.
    fn refit<'a>(levels: &'a [[f32; 4]], mut plain: Vec<&'a [f32; 4]>) -> Option<Model> {
        let mut m = None;
        for _ in 0..CLIP_ROUNDS {
            let ratio = |c: usize| {
                let mut v: Vec<f64> = plain
                    .iter()
                    .map(|l| (10f64.powf(l[c + 1] as f64) / 10f64.powf(l[2] as f64).max(1e-9)).ln())
                    .collect();
                quantile(&mut v, 0.5).exp()
            };
            let skin = [ratio(0), 1.0, ratio(2)];
            let (lo, hi) = (skin.iter().copied().fold(f64::MAX, f64::min), skin.iter().copied().fold(0.0, f64::max));
            let chroma = hi / lo.max(1e-9);
            if chroma.is_nan() || chroma < MIN_CHROMA {
                return None;
            }
            let mut fitted = Model { skin, centre: 0.0, scatter: 0.0 };
            let mut share: Vec<f64> = plain.iter().map(|l| fitted.fitted(l).1).collect();
            fitted.centre = quantile(&mut share, 0.5);
            let mut below: Vec<f64> =
                share.iter().filter(|&&q| q <= fitted.centre).map(|q| fitted.centre - q).collect();
            fitted.scatter = (2.0 * 1.4826 * quantile(&mut below, 0.5)).max(MIN_SCATTER);
            plain = levels.iter().filter(|l| fitted.fitted(l).1 <= fitted.centre + fitted.scatter).collect();
            m = Some(fitted);
            if plain.len() < 4 {
                break;
            }
        }
        m
    }

    /// Least squares of B_c = g s_c + h over the three channels: the shine h and its share of
    /// the green light.
    fn fitted(&self, level: &[f32; 4]) -> (f64, f64) {
        let b = [1, 2, 3].map(|k| 10f64.powf(level[k] as f64));
        let s = &self.skin;
        let (sx, sxx) = (s.iter().sum::<f64>(), s.iter().map(|v| v * v).sum::<f64>());
        let (sb, sxb) = (b.iter().sum::<f64>(), b.iter().zip(s).map(|(b, s)| b * s).sum::<f64>());
        let h = (sxx * sb - sx * sxb) / (3.0 * sxx - sx * sx);
        (h, h / b[1].max(1e-9))
    }

    /// The shine of a cell with log10 levels `level`, linear light (0 where it does not stand out).
    pub fn shine(&self, level: &[f32; 4]) -> f32 {
        let (h, q) = self.fitted(level);
        (self.weight(q) * h.max(0.0)) as f32
    }

    /// How much of a cell's fitted shine is taken, from its share `q`: none within one scatter
    /// of the centre, all from two.
    fn weight(&self, q: f64) -> f64 {
        ((q - self.centre) / self.scatter - 1.0).clamp(0.0, 1.0)
    }

    /// The shine of each cell of a grid `cols` wide, `None` where a cell was not measured.
    /// A highlight's soft rim shares too little of the light to stand out of the skin's mottle
    /// on its own, so the cells joined to a highlight's core (8-neighbours, through cells whose
    /// share lies [`RIM`] scatters and [`RIM_SHARE`] above the centre) take their fitted shine
    /// whole. Elsewhere [`Model::shine`]. On dark skin the ramp alone misses most of a rim's
    /// shine (docs/decisions.md#shine-rims).
    pub fn map(&self, levels: &[Option<[f32; 4]>], cols: usize) -> Vec<Option<f32>> {
        let fits: Vec<Option<(f64, f64)>> = levels.iter().map(|l| l.as_ref().map(|l| self.fitted(l))).collect();
        let mut joined: Vec<bool> = fits.iter().map(|f| f.is_some_and(|(_, q)| self.weight(q) >= 1.0)).collect();
        let mut queue: Vec<usize> = (0..fits.len()).filter(|&i| joined[i]).collect();
        let rows = fits.len() / cols.max(1);
        while let Some(i) = queue.pop() {
            let (x, y) = ((i % cols) as isize, (i / cols) as isize);
            for (nx, ny) in (-1..=1).flat_map(|dy| (-1..=1).map(move |dx| (x + dx, y + dy))) {
                if !(0..cols as isize).contains(&nx) || !(0..rows as isize).contains(&ny) {
                    continue;
                }
                let j = ny as usize * cols + nx as usize;
                if !joined[j] && fits[j].is_some_and(|(_, q)| q >= self.centre + (RIM * self.scatter).max(RIM_SHARE)) {
                    joined[j] = true;
                    queue.push(j);
                }
            }
        }
        fits.iter()
            .zip(&joined)
            .map(|(f, &j)| f.map(|(h, q)| ((if j { 1.0 } else { self.weight(q) }) * h.max(0.0)) as f32))
            .collect()
    }
}

/// Share of the light, in scatters above the centre, through which a highlight's core extends
/// to its rim (see [`Model::map`]).
const RIM: f64 = 0.5;
/// Share of the light above the centre, at least, through which a core extends: on light skin
/// the scatter is small, and grey patches of mottle stand several scatters above the centre
/// without any shine (docs/decisions.md#rim-floor).
const RIM_SHARE: f64 = 0.1;

/// log10 of the light `log_level` (log10 linear) with shine `h` taken off.
#[inline]
pub fn without(log_level: f32, h: f32) -> f32 {
    let v = 10f32.powf(log_level);
    (v - h).max(FLOOR * v).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shine per cell, as the background takes it.
    fn estimate(levels: &[[f32; 4]]) -> Vec<f32> {
        match Model::fit(levels) {
            Some(m) => levels.iter().map(|l| m.shine(l)).collect(),
            None => vec![0.0; levels.len()],
        }
    }

    fn cell(light: [f64; 3]) -> [f32; 4] {
        let l = light.map(|v| v.log10() as f32);
        [0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2], l[0], l[1], l[2]]
    }

    /// 100 cells of `skin` with a few per cent of mottle and `shine(i)` on cell i: the shine is
    /// estimated within 0.012 on every cell.
    fn assert_shine_recovered(skin: [f64; 3], shine: impl Fn(usize) -> f64) {
        let levels: Vec<[f32; 4]> = (0..100)
            .map(|i| {
                let m = [
                    1.0 + 0.03 * ((i * 7 % 11) as f64 / 5.0 - 1.0),
                    1.0,
                    1.0 + 0.03 * ((i * 3 % 7) as f64 / 3.0 - 1.0),
                ];
                cell(std::array::from_fn(|c| skin[c] * m[c] + shine(i)))
            })
            .collect();
        for (i, h) in estimate(&levels).iter().enumerate() {
            assert!((*h as f64 - shine(i)).abs() < 0.012, "cell {i}: {h} against {}", shine(i));
        }
    }

    #[test]
    fn a_highlight_on_brown_skin_is_found_and_plain_skin_is_left_alone() {
        let skin = [0.20, 0.12, 0.08];
        let mut levels = Vec::new();
        for i in 0..100 {
            // Mottle: a few per cent per channel; lighting: a gradient.
            let g = 0.8 + 0.004 * i as f64;
            let m =
                [1.0 + 0.03 * ((i * 7 % 11) as f64 / 5.0 - 1.0), 1.0, 1.0 + 0.03 * ((i * 3 % 7) as f64 / 3.0 - 1.0)];
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
    fn highlights_over_a_quarter_of_the_frame_are_taken_off_whole() {
        let skin = [0.20, 0.12, 0.08];
        let shine =
            |i: usize| if (30..60).contains(&i) { 0.03 + 0.07 * (1.0 - ((i as f64 - 44.5) / 15.0).abs()) } else { 0.0 };
        assert_shine_recovered(skin, shine);
    }

    #[test]
    fn highlights_over_nearly_half_of_dark_skin_are_found() {
        // Skin VI, with shine over 45 % of the cells: their median colour is nearly the shiny
        // one. (Over more than half, shine cannot be told from brown patches over the rest.)
        let skin = [0.060, 0.036, 0.026];
        let shine = |i: usize| if i < 45 { 0.08 + 0.001 * i as f64 } else { 0.0 };
        assert_shine_recovered(skin, shine);
    }

    #[test]
    fn freckles_over_a_third_of_the_frame_do_not_make_the_rest_shine() {
        // Skin III with strong mottle (brighter patches greyer); cells 0..40 lie in freckles.
        let skin = [0.61, 0.35, 0.22];
        let levels: Vec<[f32; 4]> = (0..100)
            .map(|i| {
                let n = ((i * 37 % 100) as f64 / 50.0 - 1.0) * 1.5;
                let t = if i < 40 { 1.0 } else { 0.0 };
                let brown = [1.0 - 0.3 * t, 1.0 - 0.45 * t, 1.0 - 0.6 * t];
                let m = [0.8, 1.0, 1.3].map(|w: f64| (0.06 * w * n).exp());
                cell(std::array::from_fn(|c| skin[c] * m[c] * brown[c]))
            })
            .collect();
        let shiny = estimate(&levels).iter().filter(|&&h| h > 0.01).count();
        assert!(shiny <= 5, "{shiny} cells shine");
    }

    #[test]
    fn a_highlight_on_dark_skin_is_taken_off_to_its_rim() {
        // Skin VI with 8 % mottle per channel, a highlight of peak 0.2 (a cell's skin green is
        // 0.036) over a 24 x 24 grid of cells.
        let (cols, skin) = (24usize, [0.060, 0.036, 0.026]);
        let mottle = |i: usize, k: usize| 1.0 + 0.08 * (((i * k) % 13) as f64 / 6.0 - 1.0);
        let shine = |i: usize| {
            0.2 * (-(((i % cols) as f64 - 8.0).powi(2) + ((i / cols) as f64 - 10.0).powi(2)) / (2.0 * 2.5f64.powi(2)))
                .exp()
        };
        let levels: Vec<[f32; 4]> =
            (0..cols * cols).map(|i| cell([0, 1, 2].map(|c| skin[c] * mottle(i, [7, 11, 5][c]) + shine(i)))).collect();
        let model = Model::fit(&levels).expect("skin VI has colour");
        let map = model.map(&levels.iter().map(|&l| Some(l)).collect::<Vec<_>>(), cols);
        // Mean error over the rim (shine 0.01-0.06), and the largest shine far from it.
        let (mut rim, mut ramp, mut n, mut plain) = (0.0, 0.0, 0.0, 0.0f32);
        for (i, (l, h)) in levels.iter().zip(&map).enumerate() {
            let (t, h) = (shine(i), h.expect("measured"));
            if t > 0.01 && t < 0.06 {
                rim += (h as f64 - t).abs();
                ramp += (model.shine(l) as f64 - t).abs();
                n += 1.0;
            } else if t < 1e-4 {
                plain = plain.max(h);
            }
        }
        let (rim, ramp) = (rim / n, ramp / n);
        // Mottle leaves the fit 0.0024 off on average; with the ramp alone, 0.006.
        assert!(rim < 0.004 && ramp > 2.0 * rim, "the rim's shine off by {rim:.4}, by the ramp alone {ramp:.4}");
        assert!(plain < 0.002, "shine {plain} far from the highlight");
    }

    #[test]
    fn grey_images_have_no_shine() {
        let levels: Vec<[f32; 4]> = (0..50).map(|i| cell([0.3 + 0.01 * i as f64; 3])).collect();
        assert!(estimate(&levels).iter().all(|&h| h == 0.0));
    }
}
