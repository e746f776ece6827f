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

use rayon::prelude::*;

use crate::colour::LUMA;
use crate::photo::Photo;
use crate::plane::{Plane, median};

/// The local skin level on a coarse grid of cells, in log10 linear light.
#[derive(Debug, Clone)]
pub struct Background {
    /// Cell side in pixels.
    pub cell: usize,
    cols: usize,
    rows: usize,
    /// Per cell: luminance-weighted log level, then log levels of R, G, B.
    levels: Vec<[f32; 4]>,
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
        Background { cell, cols, rows, levels }
    }

    /// Bilinear interpolation between cell centres of component `k` at pixel (x, y).
    fn interpolate(&self, x: f32, y: f32) -> [f32; 4] {
        let fx = ((x + 0.5) / self.cell as f32 - 0.5).clamp(0.0, (self.cols - 1) as f32);
        let fy = ((y + 0.5) / self.cell as f32 - 0.5).clamp(0.0, (self.rows - 1) as f32);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.cols - 1), (y0 + 1).min(self.rows - 1));
        let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
        let g = |cx: usize, cy: usize| self.levels[cy * self.cols + cx];
        let (a, b, c, d) = (g(x0, y0), g(x1, y0), g(x0, y1), g(x1, y1));
        std::array::from_fn(|k| {
            (1.0 - ty) * ((1.0 - tx) * a[k] + tx * b[k]) + ty * ((1.0 - tx) * c[k] + tx * d[k])
        })
    }

    /// Skin level (log10 linear luminance-weighted) at pixel (x, y).
    pub fn log_luma_at(&self, x: f32, y: f32) -> f32 {
        self.interpolate(x, y)[0]
    }

    /// Skin level per channel (log10 linear light) at pixel (x, y).
    pub fn log_rgb_at(&self, x: f32, y: f32) -> [f32; 3] {
        let v = self.interpolate(x, y);
        [v[1], v[2], v[3]]
    }

    /// The optical density plane of the photo relative to this background.
    pub fn optical_density(&self, photo: &Photo) -> Plane {
        let mut od = Plane::new(photo.width(), photo.height());
        let w = od.width;
        od.data.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            photo.log_luma_row(y, row);
            // The background varies slowly: interpolate it exactly at cell-centre columns'
            // spacing and linearly in between, which is what bilinear interpolation is.
            for (x, v) in row.iter_mut().enumerate() {
                *v = self.log_luma_at(x as f32, y as f32) - *v;
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
