//! Background: the local skin level, and optical density relative to it.
//!
//! Skin tone, lighting gradients, vignetting and white balance all multiply the light, so in
//! log10 of linear light they add, and subtracting the local skin level cancels them. Dots,
//! hairs and pores cover a small share of any millimetre of scalp, so the median of a cell
//! about a millimetre wide is the skin's level there.
//!
//! Optical density (OD) here is the luminance-weighted mean of the per-channel densities:
//! OD = sum_c LUMA_c * (log10 skin_c - log10 pixel_c). It is linear in the amount of pigment
//! (Beer-Lambert holds per channel), which makes a dot's integrated OD its amount of ink.
//!
//! Shine is the exception: light reflected by the skin's surface (oily or sweaty scalp) adds to
//! the light, and does so over the dots too, so a dot under shine looks fainter. It adds the
//! same amount to every channel (the light's colour, neutral after white balance), so it shows
//! as skin less saturated than the frame's typical skin; see the `shine` module. The skin level and the
//! pixels are taken with it subtracted.

use rayon::prelude::*;

use crate::colour::LUMA;
use crate::photo::Photo;
use crate::plane::Plane;
use crate::stats::median;

mod patch;
mod shine;

pub use patch::{CROWD, DarkPatches, PATCH_OD};

/// The local skin level on a coarse grid of cells, in log10 linear light.
#[derive(Debug, Clone)]
pub struct Background {
    /// Cell side in pixels.
    pub cell: usize,
    cols: usize,
    rows: usize,
    /// Per cell: luminance-weighted log level, then log levels of R, G, B (shine included).
    levels: Vec<[f32; 4]>,
    /// Per cell: additive shine, linear light (0 almost everywhere).
    shine: Vec<f32>,
    /// Cells far darker than the skin around them (moles), on the coarse cells; see
    /// [`DarkPatches::crowded`] for those whose dots are set aside.
    pub patches: DarkPatches,
}

impl Background {
    /// Estimates the skin level with cells of `cell` pixels (clamped to 4 px and the photo's
    /// shorter side); [`Background::optical_density`] then reads the photo against it.
    ///
    /// ```
    /// use smpscope::background::Background;
    /// use smpscope::colour::srgb_to_linear;
    /// use smpscope::photo::{Photo, Pixels};
    /// // Plain grey skin (code 180) with a dark spot (code 90) of 6 x 6 px at (60, 45).
    /// let (w, h) = (120, 90);
    /// let spot = |i: usize| (i % w).abs_diff(60) < 3 && (i / w).abs_diff(45) < 3;
    /// let data: Vec<u8> = (0..w * h).flat_map(|i| [if spot(i) { 90 } else { 180 }; 3]).collect();
    /// let photo = Photo::from_pixels("spot", w, h, 3, Pixels::U8(data))?;
    /// let od = Background::estimate(&photo, 20).optical_density(&photo);
    /// let expected = (srgb_to_linear(180.0 / 255.0) / srgb_to_linear(90.0 / 255.0)).log10();
    /// assert!((od.at(60, 45) as f64 - expected).abs() < 1e-3 && od.at(10, 10).abs() < 1e-3);
    /// # Ok::<(), smpscope::Error>(())
    /// ```
    pub fn estimate(photo: &Photo, cell: usize) -> Background {
        let cell = cell.clamp(4, photo.width().min(photo.height()).max(4));
        let (cols, rows) = (photo.width().div_ceil(cell), photo.height().div_ceil(cell));
        let levels: Vec<[f32; 4]> =
            (0..rows * cols).into_par_iter().map(|i| cell_levels(photo, cell, i % cols, i / cols)).collect();
        let Some(model) = shine::Model::fit(&levels) else {
            let patches = DarkPatches::new(&levels.iter().map(|l| l[0]).collect::<Vec<_>>(), cell, cols, rows);
            return Background { cell, cols, rows, shine: vec![0.0; levels.len()], levels, patches };
        };
        let shine: Vec<f32> = model
            .map(&levels.iter().map(|&l| Some(l)).collect::<Vec<_>>(), cols)
            .into_iter()
            .map(|h| h.unwrap_or(0.0))
            .collect();
        // The skin's own level, shine taken off, so that the skin beside a highlight is not
        // taken for a dark patch.
        let skin: Vec<f32> = levels
            .iter()
            .zip(&shine)
            .map(|(l, &h)| (0..3).map(|c| LUMA[c] * shine::without(l[c + 1], h)).sum())
            .collect();
        let patches = DarkPatches::new(&skin, cell, cols, rows);
        let coarse = Background { cell, cols, rows, levels, shine, patches };
        let detail = (cell / MIN_DETAIL_CELL).min(SHINE_DETAIL);
        if coarse.shine.iter().all(|&h| h == 0.0) || detail < 2 {
            coarse
        } else {
            coarse.refined(photo, &model, cell / detail)
        }
    }

    /// The same background on cells of `cell` px (finer), measured afresh around shine and
    /// interpolated elsewhere: a highlight 1 mm wide peaks within one coarse cell, whose median
    /// flattens it (docs/decisions.md#shine-detail).
    fn refined(&self, photo: &Photo, model: &shine::Model, cell: usize) -> Background {
        let (cols, rows) = (photo.width().div_ceil(cell), photo.height().div_ceil(cell));
        let near_shine = |x: usize, y: usize| {
            let (cx, cy) = ((x / self.cell) as isize, (y / self.cell) as isize);
            (-1..=1).flat_map(|dy| (-1..=1).map(move |dx| (cx + dx, cy + dy))).any(|(cx, cy)| {
                (0..self.cols as isize).contains(&cx)
                    && (0..self.rows as isize).contains(&cy)
                    && self.shine[cy as usize * self.cols + cx as usize] > 0.0
            })
        };
        // Cells near shine measured afresh; the others interpolated.
        let measured: Vec<Option<[f32; 4]>> = (0..rows * cols)
            .into_par_iter()
            .map(|i| {
                let (cx, cy) = (i % cols, i / cols);
                let (x, y) =
                    ((cx * cell + cell / 2).min(photo.width() - 1), (cy * cell + cell / 2).min(photo.height() - 1));
                near_shine(x, y).then(|| cell_levels(photo, cell, cx, cy))
            })
            .collect();
        let centre =
            |i: usize| (((i % cols) as f32 + 0.5) * cell as f32 - 0.5, ((i / cols) as f32 + 0.5) * cell as f32 - 0.5);
        let (levels, shine): (Vec<[f32; 4]>, Vec<f32>) = measured
            .iter()
            .zip(model.map(&measured, cols))
            .enumerate()
            .map(|(i, (l, h))| match (l, h) {
                (Some(l), Some(h)) => (*l, h),
                _ => {
                    let (fx, fy) = centre(i);
                    (self.interpolate(fx, fy), self.shine_at(fx, fy))
                }
            })
            .unzip();
        Background { cell, cols, rows, levels, shine, patches: self.patches.clone() }
    }

    /// Share of the frame under noticeable shine (at least 5 % of the skin's light).
    pub fn shine_share(&self) -> f64 {
        let shiny = self.levels.iter().zip(&self.shine).filter(|(l, h)| **h > 0.05 * 10f32.powf(l[0])).count();
        shiny as f64 / self.levels.len().max(1) as f64
    }

    /// Additive shine at pixel (x, y), linear light.
    pub fn shine_at(&self, x: f32, y: f32) -> f32 {
        self.shine_between(&self.corners(x, y))
    }

    /// The four cells around pixel (x, y) and the weights between them.
    fn corners(&self, x: f32, y: f32) -> Corners {
        let fx = ((x + 0.5) / self.cell as f32 - 0.5).clamp(0.0, (self.cols - 1) as f32);
        let fy = ((y + 0.5) / self.cell as f32 - 0.5).clamp(0.0, (self.rows - 1) as f32);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.cols - 1), (y0 + 1).min(self.rows - 1));
        Corners { x0, y0, x1, y1, tx: fx - x0 as f32, ty: fy - y0 as f32 }
    }

    /// Bilinear interpolation between cell centres of the levels at pixel (x, y).
    fn interpolate(&self, x: f32, y: f32) -> [f32; 4] {
        self.levels_between(&self.corners(x, y))
    }

    /// Bilinear interpolation of `value` of each cell between the cells `k`.
    #[inline]
    fn between<T: Copy>(&self, cells: &[T], k: &Corners, value: impl Fn(T) -> f32) -> f32 {
        let g = |cx: usize, cy: usize| value(cells[cy * self.cols + cx]);
        let (tx, ty) = (k.tx, k.ty);
        (1.0 - ty) * ((1.0 - tx) * g(k.x0, k.y0) + tx * g(k.x1, k.y0))
            + ty * ((1.0 - tx) * g(k.x0, k.y1) + tx * g(k.x1, k.y1))
    }

    fn levels_between(&self, k: &Corners) -> [f32; 4] {
        std::array::from_fn(|c| self.between(&self.levels, k, |l| l[c]))
    }

    fn shine_between(&self, k: &Corners) -> f32 {
        self.between(&self.shine, k, |h| h)
    }

    /// Skin level per channel (log10 linear light) at pixel (x, y), shine taken off.
    pub fn log_rgb_at(&self, x: f32, y: f32) -> [f32; 3] {
        let v = self.interpolate(x, y);
        let h = self.shine_at(x, y);
        std::array::from_fn(|c| if h > 0.0 { shine::without(v[c + 1], h) } else { v[c + 1] })
    }

    /// Optical density per channel of a pixel at (x, y) whose log10 linear light is `log_rgb`:
    /// the skin level minus the pixel, shine taken off both.
    #[inline]
    pub fn density_rgb(&self, log_rgb: [f32; 3], x: f32, y: f32) -> [f32; 3] {
        let k = self.corners(x, y);
        Self::density_of(log_rgb, self.levels_between(&k), self.shine_between(&k))
    }

    /// Optical density per channel of a pixel of log10 linear light `log_rgb` over the skin
    /// levels `v` with shine `h`.
    #[inline]
    fn density_of(log_rgb: [f32; 3], v: [f32; 4], h: f32) -> [f32; 3] {
        std::array::from_fn(|c| {
            if h > 0.0 { shine::without(v[c + 1], h) - shine::without(log_rgb[c], h) } else { v[c + 1] - log_rgb[c] }
        })
    }

    /// The optical density plane of the photo relative to this background.
    pub fn optical_density(&self, photo: &Photo) -> Plane {
        let mut od = Plane::new(photo.width(), photo.height());
        let w = od.width;
        // Most photos have no shine: then no pixel needs the per-channel path.
        let shiny = self.shine.iter().any(|&h| h > 0.0);
        od.data.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            photo.log_luma_row(y, row);
            for (x, v) in row.iter_mut().enumerate() {
                let k = self.corners(x as f32, y as f32);
                let h = if shiny { self.shine_between(&k) } else { 0.0 };
                *v = if h > 0.0 {
                    let d = Self::density_of(photo.log_rgb(x, y), self.levels_between(&k), h);
                    (0..3).map(|c| LUMA[c] * d[c]).sum()
                } else {
                    self.between(&self.levels, &k, |l| l[0]) - *v
                };
            }
        });
        od
    }
}

/// The four cells around a pixel, (x0, y0) to (x1, y1), and the pixel's weights between them.
struct Corners {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
    tx: f32,
    ty: f32,
}

/// How many times finer than the skin's cells shine is followed where it is found, at most.
const SHINE_DETAIL: usize = 4;
/// Smallest cell, px, whose median is still the skin's: at 20 px/mm a cell of 6 px is half
/// covered by any dot in it.
const MIN_DETAIL_CELL: usize = 16;

/// Median log10 levels `[luma, R, G, B]` of cell (cx, cy) of side `cell` px.
fn cell_levels(photo: &Photo, cell: usize, cx: usize, cy: usize) -> [f32; 4] {
    let x1 = ((cx + 1) * cell).min(photo.width());
    let y1 = ((cy + 1) * cell).min(photo.height());
    // About 24x24 samples per cell are plenty for a median and keep this pass cheap.
    let stride = (cell / 24).max(1);
    let mut ch: [Vec<f32>; 4] = Default::default();
    for y in (cy * cell..y1).step_by(stride) {
        for x in (cx * cell..x1).step_by(stride) {
            let l = photo.log_rgb(x, y);
            ch[0].push(LUMA[0] * l[0] + LUMA[1] * l[1] + LUMA[2] * l[2]);
            for c in 0..3 {
                ch[c + 1].push(l[c]);
            }
        }
    }
    ch.map(|mut v| median(&mut v))
}

/// Robust OD noise per pixel: from differences of horizontal neighbours (every other pair, on
/// at most about 400 rows), which cancel the slowly varying skin and keep sensor noise and fine
/// texture; at least 1e-4.
pub fn od_noise(od: &Plane) -> f64 {
    let step = (od.height / 400).max(1);
    let mut d: Vec<f32> = (0..od.height)
        .step_by(step)
        .flat_map(|y| (0..od.width.saturating_sub(1)).step_by(2).map(move |x| (od.at(x + 1, y) - od.at(x, y)).abs()))
        .collect();
    (1.4826 * median(&mut d) as f64 / std::f64::consts::SQRT_2).max(1e-4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::Pixels;

    #[test]
    fn a_lighting_gradient_cancels_and_a_dark_spot_stands_out() {
        let (w, h) = (120, 90);
        let mut data = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let light = 0.5 + 0.4 * x as f64 / w as f64;
                let dark = if (x as i64 - 60).pow(2) + (y as i64 - 45).pow(2) < 9 { 0.5 } else { 1.0 };
                let v = crate::colour::linear_to_srgb(0.6 * light * dark);
                data.extend_from_slice(&[(v * 255.0).round() as u8; 3]);
            }
        }
        let photo = Photo::from_pixels("t", w, h, 3, Pixels::U8(data)).unwrap();
        let bg = Background::estimate(&photo, 20);
        let od = bg.optical_density(&photo);
        assert!(od.at(10, 10).abs() < 0.01 && od.at(110, 80).abs() < 0.01);
        assert!((od.at(60, 45) - 0.301).abs() < 0.02, "{}", od.at(60, 45));
    }

    #[test]
    fn a_dot_under_a_narrow_highlight_keeps_its_density() {
        // 60 px/mm: cells of 72 px (1.2 mm), a highlight 1 mm wide at half height, a dot that
        // lets half the light through at its peak, skin with a little mottle.
        let (w, h) = (432, 288);
        let skin = [0.20, 0.12, 0.08];
        let mut data = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let d2 = (x as f64 - 200.0).powi(2) + (y as f64 - 150.0).powi(2);
                let shine = 0.08 * (-d2 / (2.0 * 25.5f64.powi(2))).exp();
                let dark = if d2 < 9.0 { 0.5 } else { 1.0 };
                let mottle = 1.0 + 0.02 * (((x * 7 + y * 13) % 17) as f64 / 8.0 - 1.0);
                for s in skin {
                    let v = crate::colour::linear_to_srgb(s * mottle * dark + shine);
                    data.push((v * 255.0).round() as u8);
                }
            }
        }
        let photo = Photo::from_pixels("t", w, h, 3, Pixels::U8(data)).unwrap();
        let od = Background::estimate(&photo, 72).optical_density(&photo);
        // Shine two thirds of the skin's green light leaves the dot a third of its contrast, so
        // 10 % of shine missed is 15 % of density; on the coarse cells alone it read 0.
        assert!((od.at(200, 150) - 0.301).abs() < 0.06, "{}", od.at(200, 150));
        assert!(od.at(200, 110).abs() < 0.03 && od.at(20, 20).abs() < 0.02, "{} {}", od.at(200, 110), od.at(20, 20));
    }
}
