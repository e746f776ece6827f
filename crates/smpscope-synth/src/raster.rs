//! Absorbers (dots, hair segments, pores, freckles, moles) and their rasterisation into
//! per-pixel optical density, integrated over each pixel's area by supersampling.
//!
//! Rendering runs in bands of rows in parallel; each pixel sums its absorbers in their global
//! order, so the result does not depend on the number of threads.

use crate::profile::{DiscGauss, ProfileTable};

/// Rows per band.
pub const BAND: usize = 32;

/// The spatial shape of an absorber, unit peak, px coordinates.
#[derive(Clone, Debug)]
pub enum Shape {
    /// Disc convolved with a Gaussian, via its lookup table.
    DiscGauss { cx: f64, cy: f64, table: ProfileTable },
    /// Normalised-peak Gaussian exp(-r^2 / (2 s^2)), s = sigma px.
    Gauss { cx: f64, cy: f64, sigma: f64 },
    /// A piece of hair shaft from `a` to `b`: cylinder profile sqrt(1 - (d / hw)^2) across it,
    /// scaled along it linearly from `wa` at `a` to `wb` at `b`. Points whose projection falls
    /// outside [0, 1) of the piece belong to the neighbouring piece (`last` pieces also own
    /// t = 1), so a polyline is drawn once.
    Segment { a: [f64; 2], b: [f64; 2], hw: f64, last: bool, wa: f64, wb: f64 },
}

/// One absorber: a shape times a per-channel OD at unit shape value.
#[derive(Clone, Debug)]
pub struct Absorber {
    /// The unit-peak shape.
    pub shape: Shape,
    /// OD per channel (linear R, G, B) where the shape is 1.
    pub od: [f32; 3],
    /// Pixel bounding box, inclusive, not clipped to the frame.
    x0: i64,
    x1: i64,
    y0: i64,
    y1: i64,
    /// Supersamples per pixel axis.
    sub: usize,
    /// Radial shapes: beyond r_out the shape is 0, within r_in it is 1 (no sampling needed).
    r_in: f64,
    r_out: f64,
}

/// Area of the disc of radius `r` centred at the origin inside [0, x] x [0, y], extended to
/// negative x or y as an odd function in each, so that the area inside any rectangle is
/// g(x1, y1) - g(x0, y1) - g(x1, y0) + g(x0, y0).
fn quadrant_area(r: f64, x: f64, y: f64) -> f64 {
    let sign = x.signum() * y.signum();
    let (x, y) = (x.abs().min(r), y.abs().min(r));
    if x * x + y * y <= r * r {
        return sign * x * y;
    }
    // Below the circle where it is lower than y: integral of sqrt(r^2 - X^2) from xc to x.
    let xc = (r * r - y * y).max(0.0).sqrt();
    let prim = |t: f64| 0.5 * (t * (r * r - t * t).max(0.0).sqrt() + r * r * (t / r).clamp(-1.0, 1.0).asin());
    sign * (xc * y + prim(x) - prim(xc))
}

/// Exact area of the hard disc (centre cx, cy, radius r) inside pixel (i, j).
fn disc_pixel_area(r: f64, cx: f64, cy: f64, i: f64, j: f64) -> f64 {
    let (x0, x1, y0, y1) = (i - 0.5 - cx, i + 0.5 - cx, j - 0.5 - cy, j + 0.5 - cy);
    quadrant_area(r, x1, y1) - quadrant_area(r, x0, y1) - quadrant_area(r, x1, y0) + quadrant_area(r, x0, y0)
}

fn bbox(cx: f64, cy: f64, reach: f64) -> [i64; 4] {
    [(cx - reach).floor() as i64, (cx + reach).ceil() as i64, (cy - reach).floor() as i64, (cy + reach).ceil() as i64]
}

impl Absorber {
    /// A disc-convolved-with-Gaussian absorber (dots, freckles, moles), profile in px.
    pub fn disc_gauss(cx: f64, cy: f64, profile: DiscGauss, od: [f64; 3]) -> Self {
        let s = profile.sigma;
        // A hard edge needs many samples to get the covered area right; a soft one is smooth
        // at the sample spacing and needs few.
        // (The hard disc's pixel coverage is computed exactly instead.)
        // Where s >= 6 px, the pixel-centre value is within 1e-3 of the pixel average.
        let sub = if s < 0.25 {
            16
        } else if s < 2.0 {
            4
        } else if s < 6.0 {
            2
        } else {
            1
        };
        let r_out = profile.outer_radius();
        let [x0, x1, y0, y1] = bbox(cx, cy, r_out + 1.0);
        Self {
            shape: Shape::DiscGauss { cx, cy, table: profile.table() },
            od: od.map(|v| v as f32),
            x0,
            x1,
            y0,
            y1,
            sub,
            r_in: profile.inner_radius(),
            r_out,
        }
    }

    /// A Gaussian absorber with peak OD `od` (pores).
    pub fn gauss(cx: f64, cy: f64, sigma: f64, od: [f64; 3]) -> Self {
        let r_out = 4.5 * sigma;
        let [x0, x1, y0, y1] = bbox(cx, cy, r_out + 1.0);
        let sub = (2.0 / sigma).ceil().clamp(4.0, 8.0) as usize;
        Self { shape: Shape::Gauss { cx, cy, sigma }, od: od.map(|v| v as f32), x0, x1, y0, y1, sub, r_in: 0.0, r_out }
    }

    /// A piece of hair shaft with half-width `hw` px and centre-line OD `od` times a weight
    /// going from `w[0]` at `a` to `w[1]` at `b`.
    pub fn segment(a: [f64; 2], b: [f64; 2], hw: f64, last: bool, w: [f64; 2], od: [f64; 3]) -> Self {
        let reach = hw + 1.0;
        let sub = (3.0 / hw).ceil().clamp(4.0, 8.0) as usize;
        Self {
            shape: Shape::Segment { a, b, hw, last, wa: w[0], wb: w[1] },
            od: od.map(|v| v as f32),
            x0: (a[0].min(b[0]) - reach).floor() as i64,
            x1: (a[0].max(b[0]) + reach).ceil() as i64,
            y0: (a[1].min(b[1]) - reach).floor() as i64,
            y1: (a[1].max(b[1]) + reach).ceil() as i64,
            sub,
            r_in: 0.0,
            r_out: f64::INFINITY,
        }
    }

    /// Inclusive pixel row range.
    pub fn rows(&self) -> (i64, i64) {
        (self.y0, self.y1)
    }

    /// Shape value at a point.
    #[inline]
    fn value(&self, x: f64, y: f64) -> f32 {
        match &self.shape {
            Shape::DiscGauss { cx, cy, table } => table.get(((x - cx).powi(2) + (y - cy).powi(2)).sqrt()),
            Shape::Gauss { cx, cy, sigma } => {
                let d2 = (x - cx).powi(2) + (y - cy).powi(2);
                (-0.5 * d2 / (sigma * sigma)).exp() as f32
            }
            Shape::Segment { a, b, hw, last, wa, wb } => {
                let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
                let len2 = dx * dx + dy * dy;
                let t = ((x - a[0]) * dx + (y - a[1]) * dy) / len2;
                if !(0.0..=1.0).contains(&t) || (t == 1.0 && !last) {
                    return 0.0;
                }
                let d = ((x - a[0]) * dy - (y - a[1]) * dx).abs() / len2.sqrt();
                if d >= *hw { 0.0 } else { ((wa + (wb - wa) * t) * (1.0 - (d / hw).powi(2)).sqrt()) as f32 }
            }
        }
    }

    /// The shape averaged over pixel (i, j)'s area.
    #[inline]
    fn coverage(&self, i: i64, j: i64) -> f32 {
        let (px, py) = (i as f64, j as f64);
        if let Shape::DiscGauss { cx, cy, .. } | Shape::Gauss { cx, cy, .. } = &self.shape {
            // Nearest and farthest points of the pixel square from the centre.
            let (ax, ay) = ((px - cx).abs(), (py - cy).abs());
            let near = (ax - 0.5).max(0.0).hypot((ay - 0.5).max(0.0));
            if near >= self.r_out {
                return 0.0;
            }
            if (ax + 0.5).hypot(ay + 0.5) <= self.r_in {
                return 1.0;
            }
        }
        if let Shape::DiscGauss { cx, cy, table } = &self.shape
            && table.profile().is_hard()
        {
            return disc_pixel_area(table.profile().radius, *cx, *cy, px, py) as f32;
        }
        let n = self.sub;
        let step = 1.0 / n as f64;
        let mut sum = 0.0f32;
        for b in 0..n {
            let y = py - 0.5 + (b as f64 + 0.5) * step;
            for a in 0..n {
                sum += self.value(px - 0.5 + (a as f64 + 0.5) * step, y);
            }
        }
        sum / (n * n) as f32
    }

    /// Adds this absorber's OD into a band buffer holding rows `band_y0..band_y0 + rows`.
    pub fn accumulate(&self, band_y0: usize, buf: &mut [[f32; 3]], width: usize) {
        let rows = buf.len() / width;
        let j0 = self.y0.max(band_y0 as i64);
        let j1 = self.y1.min((band_y0 + rows) as i64 - 1);
        let i0 = self.x0.max(0);
        let i1 = self.x1.min(width as i64 - 1);
        for j in j0..=j1 {
            let row = &mut buf[(j as usize - band_y0) * width..][..width];
            for i in i0..=i1 {
                let v = self.coverage(i, j);
                if v > 0.0 {
                    for (o, od) in row[i as usize].iter_mut().zip(self.od) {
                        *o += od * v;
                    }
                }
            }
        }
    }
}

/// For each band of `BAND` rows, the indices of the absorbers touching it, in global order.
pub fn bucket(absorbers: &[Absorber], height: usize) -> Vec<Vec<u32>> {
    let nb = height.div_ceil(BAND);
    let mut out = vec![Vec::new(); nb];
    for (k, a) in absorbers.iter().enumerate() {
        let (y0, y1) = a.rows();
        if y1 < 0 || y0 >= height as i64 {
            continue;
        }
        let b0 = y0.max(0) as usize / BAND;
        let b1 = (y1.min(height as i64 - 1) as usize) / BAND;
        for list in &mut out[b0..=b1] {
            list.push(k as u32);
        }
    }
    out
}

/// Per-pixel OD (linear R, G, B), row-major, for a whole frame.
pub fn od_map(absorbers: &[Absorber], width: usize, height: usize) -> Vec<[f32; 3]> {
    use rayon::prelude::*;
    let buckets = bucket(absorbers, height);
    let mut od = vec![[0.0f32; 3]; width * height];
    od.par_chunks_mut(BAND * width).zip(buckets.par_iter()).enumerate().for_each(|(b, (buf, list))| {
        for &k in list {
            absorbers[k as usize].accumulate(b * BAND, buf, width);
        }
    });
    od
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disc_pixel_areas_sum_to_the_disc() {
        for (r, cx, cy) in [(1.25, 0.3, -0.2), (3.7, 0.0, 0.0), (0.4, 0.5, 0.5)] {
            let n = (r + 2.0) as i64;
            let total: f64 = (-n..=n)
                .flat_map(|j| (-n..=n).map(move |i| (i, j)))
                .map(|(i, j)| disc_pixel_area(r, cx, cy, i as f64, j as f64))
                .sum();
            assert!((total / (std::f64::consts::PI * r * r) - 1.0).abs() < 1e-12, "{r}: {total}");
        }
        // A pixel fully inside, and one cut in half by a diameter-sized disc edge.
        assert!((disc_pixel_area(10.0, 0.0, 0.0, 0.0, 0.0) - 1.0).abs() < 1e-12);
        assert!((disc_pixel_area(1000.0, 0.0, -1000.0, 0.0, 0.0) - 0.5).abs() < 1e-4);
    }
}
