//! Radial blur: a radially symmetric profile convolved with an isotropic 2D Gaussian is again
//! radially symmetric, (G * f)(r) = integral of f(rho) rho / c^2 exp(-(r^2 + rho^2) / (2 c^2))
//! I0(r rho / c^2) over rho. On a grid of radii that is a banded matrix, computed once per blur:
//! a lone dot's blurred light then costs a short matrix product per evaluation instead of a 2D
//! convolution of every Jacobian column (docs/decisions.md#radial-blur).

use std::sync::{Arc, Mutex, OnceLock};

use super::profile::i0e;

/// Rows of the matrix computed together, on first use.
const CHUNK: usize = 32;
/// Most output nodes a kernel serves; beyond, fits fall back to the 2D convolution.
pub const MAX_NODES: usize = 4096;
/// Reach of the Gaussian, in sigmas: the weight beyond is under 1e-6.
const REACH_SIGMAS: f64 = 5.0;
/// Sub-samples per input cell when integrating the weights.
const SUBSAMPLES: usize = 4;

/// One row of the matrix: the weights of input nodes `first..first + weights.len()`.
#[derive(Debug)]
struct Row {
    first: usize,
    weights: Vec<f64>,
}

/// The matrix K with (G * f)(j h_out) = sum_k K[j][k] f(k h_in), for f linear between the
/// input nodes: a fine input grid carries a sharp profile, a coarser output grid its blurred
/// image, which is smooth on the scale of the blur.
#[derive(Debug)]
pub struct RadialKernel {
    /// Input grid step, px.
    pub step_in: f64,
    /// Output grid step, px.
    pub step_out: f64,
    /// How far beyond an output radius its inputs reach, px.
    pub reach: f64,
    variance: f64,
    chunks: Vec<OnceLock<Vec<Row>>>,
}

impl RadialKernel {
    fn new(variance: f64, step_in: f64, step_out: f64) -> Self {
        RadialKernel {
            step_in,
            step_out,
            reach: REACH_SIGMAS * variance.sqrt() + step_in,
            variance,
            chunks: (0..MAX_NODES.div_ceil(CHUNK)).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The kernel of a Gaussian of `variance` px^2 between grids of `step_in` and `step_out`
    /// px, shared: every dot of a photo asks for the same, and a batch holds a few photos at a
    /// time.
    pub fn shared(variance: f64, step_in: f64, step_out: f64) -> Arc<RadialKernel> {
        static CACHE: Mutex<Vec<Arc<RadialKernel>>> = Mutex::new(Vec::new());
        const KEEP: usize = 16;
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        let same = |k: &&Arc<RadialKernel>| k.variance == variance && k.step_in == step_in && k.step_out == step_out;
        if let Some(k) = cache.iter().find(same) {
            return k.clone();
        }
        let k = Arc::new(RadialKernel::new(variance, step_in, step_out));
        if cache.len() >= KEEP {
            cache.remove(0);
        }
        cache.push(k.clone());
        k
    }

    /// Input nodes needed for `n_out` output nodes.
    pub fn inputs_for(&self, n_out: usize) -> usize {
        (((n_out as f64 - 1.0) * self.step_out + self.reach) / self.step_in).ceil() as usize + 2
    }

    fn row(&self, j: usize) -> &Row {
        let chunk = self.chunks[j / CHUNK].get_or_init(|| {
            let first = j / CHUNK * CHUNK;
            (first..first + CHUNK).map(|r| self.weights(r)).collect()
        });
        &chunk[j % CHUNK]
    }

    /// Row `j` integrated from the kernel by the midpoint rule on sub-cells, each sample shared
    /// between its two input nodes as linear interpolation of f does; normalised to sum to 1.
    fn weights(&self, j: usize) -> Row {
        let (h, c2) = (self.step_in, self.variance);
        let r = j as f64 * self.step_out;
        let first = ((r - self.reach).max(0.0) / h).floor() as usize;
        let last = ((r + self.reach) / h).ceil() as usize;
        let mut w = vec![0.0; last - first + 2];
        for k in first..=last {
            for s in 0..SUBSAMPLES {
                let t = (s as f64 + 0.5) / SUBSAMPLES as f64;
                let rho = (k as f64 + t) * h;
                let g = rho / c2 * (-(r - rho) * (r - rho) / (2.0 * c2)).exp() * i0e(r * rho / c2);
                w[k - first] += g * (1.0 - t);
                w[k + 1 - first] += g * t;
            }
        }
        let total: f64 = w.iter().sum();
        if total > 0.0 {
            w.iter_mut().for_each(|v| *v /= total);
        }
        Row { first, weights: w }
    }

    /// `out[j] = (G * f)(j h_out)` for `j < out.len()`, with f zero beyond `f.len()` nodes.
    pub fn apply(&self, f: &[f64], out: &mut [f64]) {
        for (j, o) in out.iter_mut().enumerate() {
            let row = self.row(j);
            let hi = (row.first + row.weights.len()).min(f.len());
            *o = if row.first < hi { row.weights.iter().zip(&f[row.first..hi]).map(|(a, b)| a * b).sum() } else { 0.0 };
        }
    }
}

/// Catmull-Rom weights for the value and the derivative (per px) at `r` on a grid of `step`
/// px: the first node index j - 1 (mirrored at 0: a radial profile is even) and the 4 weights
/// of nodes j - 1 ..= j + 2.
#[inline]
pub fn spline(r: f64, step: f64) -> ([usize; 4], [f64; 4], [f64; 4]) {
    let x = r / step;
    let j = x.floor() as usize;
    let t = x - j as f64;
    let (t2, t3) = (t * t, t * t * t);
    let value = [
        0.5 * (-t + 2.0 * t2 - t3),
        0.5 * (2.0 - 5.0 * t2 + 3.0 * t3),
        0.5 * (t + 4.0 * t2 - 3.0 * t3),
        0.5 * (-t2 + t3),
    ];
    let slope = [
        0.5 * (-1.0 + 4.0 * t - 3.0 * t2) / step,
        0.5 * (-10.0 * t + 9.0 * t2) / step,
        0.5 * (1.0 + 8.0 * t - 9.0 * t2) / step,
        0.5 * (-2.0 * t + 3.0 * t2) / step,
    ];
    let first = if j == 0 { 1 } else { j - 1 };
    ([first, j, j + 1, j + 2], value, slope)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force 2D convolution of a radial profile, sampled at (r, 0).
    fn brute(f: impl Fn(f64) -> f64, c: f64, r: f64) -> f64 {
        let d = 0.02;
        let n = (6.0 * c / d) as i64;
        let mut acc = 0.0;
        for i in -n..=n {
            for k in -n..=n {
                let (dx, dy) = (i as f64 * d, k as f64 * d);
                let g = (-(dx * dx + dy * dy) / (2.0 * c * c)).exp() / (2.0 * std::f64::consts::PI * c * c);
                acc += g * f((r - dx).hypot(dy)) * d * d;
            }
        }
        acc
    }

    #[test]
    fn matches_a_two_dimensional_convolution() {
        let f = |r: f64| 1.0 / (1.0 + ((r - 3.0) / 0.3).exp());
        for (c, step_in, step_out) in [(0.6, 0.1, 0.2), (2.0, 0.1, 0.6)] {
            let k = RadialKernel::new(c * c, step_in, step_out);
            let nodes: Vec<f64> = (0..k.inputs_for(20)).map(|j| f(j as f64 * step_in)).collect();
            let mut out = vec![0.0; 20];
            k.apply(&nodes, &mut out);
            for j in [0, 2, 5, 7, 10, 15] {
                let want = brute(f, c, j as f64 * step_out);
                assert!((out[j] - want).abs() < 2e-3, "c {c} r {}: {} vs {want}", j as f64 * step_out, out[j]);
            }
        }
    }

    #[test]
    fn the_spline_is_exact_on_even_quadratics() {
        let step = 0.25;
        let y = |r: f64| 1.0 + 0.5 * r * r;
        let nodes: Vec<f64> = (0..20).map(|j| y(j as f64 * step)).collect();
        for r in [0.0, 0.1, 0.6, 1.13, 2.9] {
            let (idx, v, s) = spline(r, step);
            let got: f64 = idx.iter().zip(v).map(|(&i, w)| w * nodes[i]).sum();
            let slope: f64 = idx.iter().zip(s).map(|(&i, w)| w * nodes[i]).sum();
            assert!((got - y(r)).abs() < 1e-9, "{r}");
            assert!((slope - r).abs() < 1e-9, "{r}");
        }
    }
}
