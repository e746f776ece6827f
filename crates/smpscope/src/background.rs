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
//! as skin less saturated than the frame's typical skin; see [`shine`]. The skin level and the
//! pixels are taken with it subtracted.

use rayon::prelude::*;

use crate::colour::LUMA;
use crate::photo::Photo;
use crate::plane::{Plane, median};

mod shine;

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
}

impl Background {
    /// Estimates the skin level with cells of `cell` pixels.
    pub fn estimate(photo: &Photo, cell: usize) -> Background {
        let cell = cell.clamp(4, photo.width().min(photo.height()).max(4));
        let cols = photo.width().div_ceil(cell);
        let rows = photo.height().div_ceil(cell);
        // About 24x24 samples per cell are plenty for a median and keep this pass cheap.
        let stride = (cell / 24).max(1);
        let levels: Vec<[f32; 4]> = (0..rows * cols)
            .into_par_iter()
            .map(|i| {
                let (cx, cy) = (i % cols, i / cols);
                let x1 = ((cx + 1) * cell).min(photo.width());
                let y1 = ((cy + 1) * cell).min(photo.height());
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
            })
            .collect();
        let shine = shine::estimate(&levels);
        Background { cell, cols, rows, levels, shine }
    }

    /// Share of the frame under noticeable shine (at least 5 % of the skin's light).
    pub fn shine_share(&self) -> f64 {
        let shiny = self.levels.iter().zip(&self.shine).filter(|(l, h)| **h > 0.05 * 10f32.powf(l[0])).count();
        shiny as f64 / self.levels.len().max(1) as f64
    }

    /// Additive shine at pixel (x, y), linear light.
    pub fn shine_at(&self, x: f32, y: f32) -> f32 {
        let (x0, y0, x1, y1, tx, ty) = self.corners(x, y);
        let g = |cx: usize, cy: usize| self.shine[cy * self.cols + cx];
        (1.0 - ty) * ((1.0 - tx) * g(x0, y0) + tx * g(x1, y0)) + ty * ((1.0 - tx) * g(x0, y1) + tx * g(x1, y1))
    }

    /// The four cells around pixel (x, y) and the weights between them.
    fn corners(&self, x: f32, y: f32) -> (usize, usize, usize, usize, f32, f32) {
        let fx = ((x + 0.5) / self.cell as f32 - 0.5).clamp(0.0, (self.cols - 1) as f32);
        let fy = ((y + 0.5) / self.cell as f32 - 0.5).clamp(0.0, (self.rows - 1) as f32);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.cols - 1), (y0 + 1).min(self.rows - 1));
        (x0, y0, x1, y1, fx - x0 as f32, fy - y0 as f32)
    }

    /// Bilinear interpolation between cell centres of the levels at pixel (x, y).
    fn interpolate(&self, x: f32, y: f32) -> [f32; 4] {
        let (x0, y0, x1, y1, tx, ty) = self.corners(x, y);
        let g = |cx: usize, cy: usize| self.levels[cy * self.cols + cx];
        let (a, b, c, d) = (g(x0, y0), g(x1, y0), g(x0, y1), g(x1, y1));
        std::array::from_fn(|k| {
            (1.0 - ty) * ((1.0 - tx) * a[k] + tx * b[k]) + ty * ((1.0 - tx) * c[k] + tx * d[k])
        })
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
        let v = self.interpolate(x, y);
        let h = self.shine_at(x, y);
        std::array::from_fn(|c| if h > 0.0 { shine::without(v[c + 1], h) - shine::without(log_rgb[c], h) } else { v[c + 1] - log_rgb[c] })
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
                let (fx, fy) = (x as f32, y as f32);
                *v = if shiny && self.shine_at(fx, fy) > 0.0 {
                    let d = self.density_rgb(photo.log_rgb(x, y), fx, fy);
                    (0..3).map(|c| LUMA[c] * d[c]).sum()
                } else {
                    self.interpolate(fx, fy)[0] - *v
                };
            }
        });
        od
    }
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
}
