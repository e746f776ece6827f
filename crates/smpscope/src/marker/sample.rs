//! Reading the photo's linear light at pixels and between them, for the marker's stages.

use rayon::prelude::*;

use crate::colour::LUMA;
use crate::photo::Photo;
use crate::plane::Plane;

/// log10 of the linear value from which a channel counts as clipped at the top (0.99).
const TOP_LOG: f32 = -0.004_364_805;

/// Linear R, G, B at pixel (x, y).
#[inline]
pub fn rgb(photo: &Photo, x: usize, y: usize) -> [f64; 3] {
    photo.linear_rgb(x, y)
}

/// Linear luminance at pixel (x, y).
#[inline]
pub fn lum(photo: &Photo, x: usize, y: usize) -> f64 {
    let c = rgb(photo, x, y);
    (0..3).map(|i| LUMA[i] as f64 * c[i]).sum()
}

/// Whether a channel of pixel (x, y) is at the top of its range (over-exposed).
#[inline]
pub fn top_clipped(photo: &Photo, x: usize, y: usize) -> bool {
    photo.log_rgb(x, y).iter().any(|&l| l >= TOP_LOG)
}

/// Linear luminance at (x, y) px between pixel centres (bilinear); None outside the photo.
pub fn lum_at(photo: &Photo, x: f64, y: f64) -> Option<f64> {
    let (w, h) = (photo.width() as f64, photo.height() as f64);
    if !(x >= 0.0 && y >= 0.0 && x <= w - 1.0 && y <= h - 1.0) {
        return None;
    }
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(photo.width() - 1), (y0 + 1).min(photo.height() - 1));
    let (tx, ty) = (x - x0 as f64, y - y0 as f64);
    let top = lum(photo, x0, y0) * (1.0 - tx) + lum(photo, x1, y0) * tx;
    let bottom = lum(photo, x0, y1) * (1.0 - tx) + lum(photo, x1, y1) * tx;
    Some(top * (1.0 - ty) + bottom * ty)
}

/// Mean linear luminance over `factor x factor` blocks: the plane the search runs on.
pub fn luminance_plane(photo: &Photo, factor: usize) -> Plane {
    let (w, h) = (photo.width().div_ceil(factor), photo.height().div_ceil(factor));
    let mut plane = Plane::new(w, h);
    plane.data.par_chunks_mut(w).enumerate().for_each(|(by, row)| {
        let ys = by * factor..((by + 1) * factor).min(photo.height());
        for (bx, out) in row.iter_mut().enumerate() {
            let xs = bx * factor..((bx + 1) * factor).min(photo.width());
            let (mut sum, mut n) = (0.0, 0usize);
            for y in ys.clone() {
                for x in xs.clone() {
                    sum += lum(photo, x, y);
                    n += 1;
                }
            }
            *out = (sum / n.max(1) as f64) as f32;
        }
    });
    plane
}
