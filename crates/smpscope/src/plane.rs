//! A plane of f32 values (one channel of a photo or of a derived signal) and the few filters
//! the pipeline needs. Every filter works row by row in parallel and gives the same result
//! whatever the number of threads.

use rayon::prelude::*;

/// A row-major plane of f32, `width * height` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    /// Width in pixels (values per row).
    pub width: usize,
    /// Height in pixels (rows).
    pub height: usize,
    /// The values, row after row: (x, y) is at `y * width + x`.
    pub data: Vec<f32>,
}

impl Plane {
    /// A plane of `width x height` zeros.
    pub fn new(width: usize, height: usize) -> Self {
        Plane { width, height, data: vec![0.0; width * height] }
    }

    /// Value at (x, y); panics outside the plane.
    #[inline]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// Value at (x, y) with coordinates clamped to the plane.
    #[inline]
    pub fn at_clamped(&self, x: isize, y: isize) -> f32 {
        let x = x.clamp(0, self.width as isize - 1) as usize;
        let y = y.clamp(0, self.height as isize - 1) as usize;
        self.data[y * self.width + x]
    }

    /// Mean over `factor x factor` blocks (the last partial blocks included).
    pub fn downsample(&self, factor: usize) -> Plane {
        if factor <= 1 {
            return self.clone();
        }
        let (w, h) = (self.width.div_ceil(factor), self.height.div_ceil(factor));
        let mut out = Plane::new(w, h);
        out.data.par_chunks_mut(w).enumerate().for_each(|(by, row)| {
            let y0 = by * factor;
            let y1 = (y0 + factor).min(self.height);
            for (bx, o) in row.iter_mut().enumerate() {
                let x0 = bx * factor;
                let x1 = (x0 + factor).min(self.width);
                let mut s = 0.0;
                for y in y0..y1 {
                    s += self.data[y * self.width + x0..y * self.width + x1].iter().sum::<f32>();
                }
                *o = s / ((y1 - y0) * (x1 - x0)) as f32;
            }
        });
        out
    }

    /// Gaussian blur of standard deviation `sigma` pixels (separable, edges clamped).
    pub fn gaussian_blur(&self, sigma: f32) -> Plane {
        if sigma <= 0.0 {
            return self.clone();
        }
        let kernel = gaussian_kernel(sigma);
        let r = (kernel.len() / 2) as isize;
        let (w, h) = (self.width, self.height);
        let mut tmp = Plane::new(w, h);
        tmp.data.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            let src = &self.data[y * w..(y + 1) * w];
            for (x, o) in row.iter_mut().enumerate() {
                let mut s = 0.0;
                for (k, kv) in kernel.iter().enumerate() {
                    let xx = (x as isize + k as isize - r).clamp(0, w as isize - 1) as usize;
                    s += kv * src[xx];
                }
                *o = s;
            }
        });
        let mut out = Plane::new(w, h);
        out.data.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            for (k, kv) in kernel.iter().enumerate() {
                let yy = (y as isize + k as isize - r).clamp(0, h as isize - 1) as usize;
                let src = &tmp.data[yy * w..(yy + 1) * w];
                for (o, s) in row.iter_mut().zip(src) {
                    *o += kv * s;
                }
            }
        });
        out
    }
}

/// Normalised, sampled Gaussian kernel reaching 3.5 sigma.
pub fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let r = (3.5 * sigma).ceil().max(1.0) as isize;
    let mut k: Vec<f32> = (-r..=r).map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let s: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= s);
    k
}

/// The discrete Gaussian kernel of variance `t` px^2: e^-t I_n(t) for taps n = -N..N (I_n the
/// modified Bessel function), the kernel of diffusion on a pixel grid. Its variance is exactly
/// `t` however small; taps below 1e-5 of the centre are dropped and the rest renormalised
/// (changing the variance by well under 0.1 %).
pub fn discrete_gaussian_kernel(t: f64) -> Vec<f64> {
    let mut half: Vec<f64> = Vec::new();
    for n in 0..=(6.0 * t.sqrt() + 4.0) as usize {
        // I_n(t) = sum_m (t/2)^(2m+n) / (m! (m+n)!), with e^-t folded into the first term.
        let mut term = (-t).exp();
        for k in 1..=n {
            term *= 0.5 * t / k as f64;
        }
        let mut sum = 0.0;
        for m in 0..500 {
            sum += term;
            term *= 0.25 * t * t / ((m + 1) as f64 * (m + 1 + n) as f64);
            if term < 1e-17 * sum {
                break;
            }
        }
        if n > 0 && sum < 1e-5 * half[0] {
            break;
        }
        half.push(sum);
    }
    let mut k: Vec<f64> = half.iter().rev().chain(half.iter().skip(1)).copied().collect();
    let total: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= total);
    k
}

/// Separable convolution with edge clamping: rows into `tmp`, then columns back into `v`.
/// The clamped edges are handled apart so that the interior loops carry no bounds logic.
pub fn convolve_clamped(v: &mut [f64], w: usize, h: usize, kernel: &[f64], tmp: &mut [f64]) {
    let r = kernel.len() / 2;
    let clamp = |i: isize, n: usize| i.clamp(0, n as isize - 1) as usize;
    for (row, out) in v.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        for (x, o) in out.iter_mut().enumerate() {
            *o = if x >= r && x + r < w {
                row[x - r..=x + r].iter().zip(kernel).map(|(a, k)| a * k).sum()
            } else {
                kernel.iter().enumerate().map(|(j, k)| k * row[clamp(x as isize + j as isize - r as isize, w)]).sum()
            };
        }
    }
    for y in 0..h {
        let out = &mut v[y * w..(y + 1) * w];
        out.fill(0.0);
        for (j, k) in kernel.iter().enumerate() {
            let src = &tmp[clamp(y as isize + j as isize - r as isize, h) * w..][..w];
            for (o, a) in out.iter_mut().zip(src) {
                *o += k * a;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_keeps_sum_and_spreads_an_impulse() {
        let mut p = Plane::new(41, 41);
        p.data[20 * 41 + 20] = 1.0;
        let b = p.gaussian_blur(2.0);
        let sum: f32 = b.data.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
        let var: f32 = (0..41).map(|x| b.at(x, 20) * ((x as f32 - 20.0).powi(2))).sum::<f32>()
            / (0..41).map(|x| b.at(x, 20)).sum::<f32>();
        assert!((var - 4.0).abs() < 0.05, "{var}");
    }

    #[test]
    fn downsample_averages_blocks() {
        let p = Plane { width: 4, height: 2, data: vec![1., 3., 5., 7., 1., 3., 5., 7.] };
        assert_eq!(p.downsample(2).data, vec![2.0, 6.0]);
    }

    #[test]
    fn discrete_gaussian_has_its_variance() {
        for t in [0.05, 0.2, 0.36, 1.0, 4.0] {
            let k = discrete_gaussian_kernel(t);
            let r = (k.len() / 2) as f64;
            let var: f64 = k.iter().enumerate().map(|(i, w)| w * (i as f64 - r).powi(2)).sum();
            assert!((var - t).abs() < 1e-3 * t, "{t}: {var}");
            assert!((k.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }
}
