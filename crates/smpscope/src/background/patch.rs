//! Dark patches: moles, whose skin is far darker than the skin around them.
//!
//! A mole 2-5 mm across spans several cells, so the skin level follows it and the density
//! inside it is noise about 0. But the density is a logarithm of the light, and in a mole on
//! dark skin a few code values of noise are tenths of OD, which the detector takes for dots.
//! Where a dark patch holds far more dots than the skin around it, its dots are set aside.
//! Elsewhere a mole's dots are measured as well as any, as true dots lie on moles too
//! (docs/decisions.md#crowded-dark-patches).

use crate::stats::median;

/// How much darker than the skin around it (OD, the median over 7x7 cells) a cell must be to
/// be a mole: moles are 0.3-1 OD over the skin; freckles, which dots may cover and still be
/// measured, up to about 0.3 at their centre; vignetting changes the skin by a few hundredths
/// of OD over a few cells.
pub const PATCH_OD: f32 = 0.3;

/// How many times as many dots as the other cells hold on average a dark cell must hold for its
/// dots to be taken for noise, and the fewest. A 1.2 mm cell of skin holds one or two dots at
/// the densest layouts, and so does a mole whose dots are found as they are elsewhere, where a
/// noisy mole holds tens (docs/decisions.md#crowded-dark-patches).
pub const CROWD: f64 = 4.0;
const CROWD_MIN: usize = 4;

/// Cells either side of a cell that make up the skin around it.
const REACH: usize = 3;

/// Which cells are dark patches.
#[derive(Debug, Clone)]
pub struct DarkPatches {
    cell: usize,
    cols: usize,
    rows: usize,
    patch: Vec<bool>,
}

impl DarkPatches {
    /// From the skin's luminance log level per cell (`cols` x `rows` cells of `cell` px).
    pub fn new(log_levels: &[f32], cell: usize, cols: usize, rows: usize) -> DarkPatches {
        let patch = (0..rows * cols)
            .map(|i| {
                let (cx, cy) = (i % cols, i / cols);
                let mut around: Vec<f32> = (cy.saturating_sub(REACH)..(cy + REACH + 1).min(rows))
                    .flat_map(|y| {
                        (cx.saturating_sub(REACH)..(cx + REACH + 1).min(cols)).map(move |x| log_levels[y * cols + x])
                    })
                    .collect();
                median(&mut around) - log_levels[i]
            })
            .map(|d| d > PATCH_OD)
            .collect();
        DarkPatches { cell, cols, rows, patch }
    }

    /// The same, but only the dark cells that hold [`CROWD`] times as many of `dots` (their
    /// centres, px) as the other cells do on average, and at least `CROWD_MIN` (4).
    pub fn crowded(&self, dots: &[[f64; 2]]) -> DarkPatches {
        let mut out = self.clone();
        if !self.patch.contains(&true) {
            return out;
        }
        let mut count = vec![0usize; self.patch.len()];
        for p in dots {
            count[self.cell_of(p[0], p[1])] += 1;
        }
        let plain = self.patch.iter().filter(|&&p| !p).count().max(1);
        let typical =
            count.iter().zip(&self.patch).filter(|(_, p)| !**p).map(|(c, _)| *c).sum::<usize>() as f64 / plain as f64;
        let least = (CROWD * typical).max(CROWD_MIN as f64);
        for (p, &c) in out.patch.iter_mut().zip(&count) {
            *p = *p && c as f64 >= least;
        }
        out
    }

    fn cell_of(&self, x: f64, y: f64) -> usize {
        let cell = |v: f64, n: usize| ((v.max(0.0) as usize) / self.cell).min(n - 1);
        cell(y, self.rows) * self.cols + cell(x, self.cols)
    }

    /// Whether pixel (x, y) lies on a dark patch or within a cell of one: the darkest of the
    /// four cells around it, so that the rim of a mole, where the skin level is half-way
    /// between the mole's and the skin's, counts too.
    pub fn covers(&self, x: f64, y: f64) -> bool {
        let span = |v: f64, n: usize| {
            let f = ((v + 0.5) / self.cell as f64 - 0.5).clamp(0.0, (n - 1) as f64);
            [f.floor() as usize, (f.floor() as usize + 1).min(n - 1)]
        };
        let (xs, ys) = (span(x, self.cols), span(y, self.rows));
        ys.iter().any(|&cy| xs.iter().any(|&cx| self.patch[cy * self.cols + cx]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mole_crowded_with_dots_is_a_patch_and_a_lighting_gradient_or_a_plain_mole_is_not() {
        // 20 x 12 cells of 10 px; the skin darkens by 0.2 OD from left to right; moles of
        // 0.5 OD over cells 8..10 x 4..6 (crowded with noise "dots") and 14..16 x 4..6 (one dot
        // per cell, as everywhere).
        let (cols, rows, cell) = (20, 12, 10);
        let mole = |x: usize, y: usize| (4..6).contains(&y) && ((8..10).contains(&x) || (14..16).contains(&x));
        let levels: Vec<f32> = (0..rows * cols)
            .map(|i| -0.3 - 0.01 * (i % cols) as f32 - if mole(i % cols, i / cols) { 0.5 } else { 0.0 })
            .collect();
        let mut dots: Vec<[f64; 2]> =
            (0..rows * cols).map(|i| [(i % cols * cell) as f64 + 5.0, (i / cols * cell) as f64 + 5.0]).collect();
        for k in 0..40 {
            dots.push([80.0 + (k % 20) as f64, 40.0 + (k / 2) as f64]);
        }
        let dark = DarkPatches::new(&levels, cell, cols, rows);
        assert!(dark.covers(90.0, 50.0) && dark.covers(150.0, 50.0));
        let p = dark.crowded(&dots);
        assert!(p.covers(90.0, 50.0));
        // The rim: half a cell outside the mole's cells.
        assert!(p.covers(75.0, 50.0));
        for (x, y) in [(5.0, 5.0), (195.0, 115.0), (150.0, 50.0), (90.0, 100.0)] {
            assert!(!p.covers(x, y), "({x}, {y})");
        }
    }
}
