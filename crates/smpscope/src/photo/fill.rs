//! A copy of a photo with a convex polygon painted over by the skin around it: each pixel
//! inside takes the pixel mirrored across the polygon's nearest side (that lies in the frame and
//! off the polygon), so the painted area keeps the skin's level, texture and noise. Used to take
//! the calibration marker's card out of the stages that read the skin (background, shine, dark
//! patches, noise), which would otherwise take its white paper and black print for skin.

use rayon::prelude::*;

use super::{Photo, Pixels};

impl Photo {
    /// The photo with the convex `polygon` (px, upright) painted over from around it. A polygon
    /// with fewer than 3 finite vertices leaves the photo as it is.
    pub fn with_polygon_filled(&self, polygon: &[[f64; 2]]) -> Photo {
        let mut out = self.clone();
        if polygon.len() < 3 || polygon.iter().flatten().any(|v| !v.is_finite()) {
            return out;
        }
        let (w, h) = (self.width(), self.height());
        let source = source_map(polygon, w, h);
        match &mut out.pixels {
            Pixels::U8(p) => copy(p, 3, &source),
            Pixels::U16(p) => copy(p, 3, &source),
            Pixels::F32(p) => copy(p, 3, &source),
        }
        if let Some(l) = &mut out.resampled_luma {
            copy(l, 1, &source);
        }
        out
    }
}

/// For every pixel inside the polygon, (its index, the index of the pixel it takes).
fn source_map(polygon: &[[f64; 2]], w: usize, h: usize) -> Vec<(usize, usize)> {
    let (x0, x1) = polygon.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p[0]), a.1.max(p[0])));
    let (y0, y1) = polygon.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p[1]), a.1.max(p[1])));
    let xs = (x0.max(0.0).floor() as usize)..((x1.max(0.0).ceil() as usize + 1).min(w));
    let ys = (y0.max(0.0).floor() as usize)..((y1.max(0.0).ceil() as usize + 1).min(h));
    let inside = |x: f64, y: f64| crate::marker::layout::inside(&[polygon.to_vec()], x, y);
    ys.into_par_iter()
        .flat_map_iter(|y| {
            let xs = xs.clone();
            xs.filter_map(move |x| {
                let (xf, yf) = (x as f64, y as f64);
                if !inside(xf, yf) {
                    return None;
                }
                let mut sides: Vec<(f64, [f64; 2])> = (0..polygon.len())
                    .filter_map(|i| {
                        let (a, b) = (polygon[i], polygon[(i + 1) % polygon.len()]);
                        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
                        let len = dx.hypot(dy);
                        (len > 0.0).then(|| {
                            let n = [dy / len, -dx / len];
                            let d = (xf - a[0]) * n[0] + (yf - a[1]) * n[1];
                            (d.abs(), [xf - 2.0 * d * n[0], yf - 2.0 * d * n[1]])
                        })
                    })
                    .collect();
                sides.sort_by(|a, b| a.0.total_cmp(&b.0));
                let from = sides.iter().map(|s| s.1).find(|q| {
                    let (qx, qy) = (q[0].round(), q[1].round());
                    qx >= 0.0 && qy >= 0.0 && qx < w as f64 && qy < h as f64 && !inside(qx, qy)
                })?;
                Some((y * w + x, from[1].round() as usize * w + from[0].round() as usize))
            })
        })
        .collect()
}

/// Copies each source pixel's `stride` values onto its target (sources lie off the polygon,
/// so no target is read after it was written).
fn copy<T: Copy>(data: &mut [T], stride: usize, source: &[(usize, usize)]) {
    for &(to, from) in source {
        for c in 0..stride {
            data[to * stride + c] = data[from * stride + c];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_is_painted_from_around_it() {
        // Left half dark (50), right half light (200), a white square straddling the line.
        let (w, h) = (40, 30);
        let data: Vec<u8> = (0..w * h).flat_map(|i| [if i % w < 20 { 50u8 } else { 200 }; 3]).collect();
        let mut p = Photo::from_pixels("t.png", w, h, 3, Pixels::U8(data)).unwrap();
        if let Pixels::U8(d) = &mut p.pixels {
            for y in 10..20 {
                for x in 15..25 {
                    d[3 * (y * w + x)..3 * (y * w + x) + 3].copy_from_slice(&[255; 3]);
                }
            }
        }
        let f = p.with_polygon_filled(&[[14.5, 9.5], [24.5, 9.5], [24.5, 19.5], [14.5, 19.5]]);
        let Pixels::U8(d) = &f.pixels else { unreachable!() };
        for y in 10..20 {
            for x in 15..25 {
                let want = if x < 20 { 50 } else { 200 };
                assert_eq!(d[3 * (y * w + x)], want, "({x}, {y})");
            }
        }
        assert_eq!(p.with_polygon_filled(&[[f64::NAN, 0.0], [1.0, 1.0], [2.0, 0.0]]).to_rgb8(), p.to_rgb8());
    }
}
