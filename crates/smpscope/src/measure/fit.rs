//! Least-squares fit of the dot model to the optical density around one dot, or jointly
//! around a few dots that touch: OD(p) = b + sum_i A_i F(|p - c_i| / s_i, R_i / s_i).
//! Levenberg-Marquardt with closed-form derivatives and Huber weights, so that a hair or a
//! pore crossing the window pulls less than the dot itself.

use super::profile;

/// One pixel of a fit window: position and optical density.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub x: f64,
    pub y: f64,
    pub od: f64,
}

/// The model parameters of one dot, in pixels and OD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DotModel {
    pub x: f64,
    pub y: f64,
    /// Plateau optical density of the deposit (before blur).
    pub amplitude: f64,
    /// Deposit radius R, px.
    pub radius: f64,
    /// Gaussian sigma of the observed profile (pigment, camera and pixel together), px.
    pub sigma: f64,
}

impl DotModel {
    /// The model's unit profile F at (x, y) (multiply by `amplitude` for OD).
    #[inline]
    pub fn shape(&self, x: f64, y: f64) -> f64 {
        let r = ((x - self.x).powi(2) + (y - self.y).powi(2)).sqrt();
        profile::value(r / self.sigma, self.radius / self.sigma)
    }
}

/// Bounds that keep a fit physical and inside its window.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub min_sigma: f64,
    pub max_size: f64,
    pub max_shift: f64,
}

/// The result of a joint fit.
#[derive(Debug, Clone)]
pub struct GroupFit {
    pub dots: Vec<DotModel>,
    /// Residual background offset of the window, OD.
    pub offset: f64,
    /// Huber weight of each sample at the solution (1 = fully trusted).
    pub weights: Vec<f64>,
    pub converged: bool,
}

const PER_DOT: usize = 5;

/// Fits `start` jointly to `samples`. `noise` is the OD noise per pixel (for the Huber scale).
pub fn fit_group(samples: &[Sample], start: &[DotModel], offset: f64, noise: f64, bounds: &[Bounds]) -> GroupFit {
    let k = start.len();
    let n = k * PER_DOT + 1;
    let mut p = pack(start, offset);
    let huber = 2.5 * noise.max(1e-4);
    let mut weights = vec![1.0; samples.len()];
    let mut cost = cost_of(samples, &p, k, &mut weights, huber);
    let mut lambda = 1e-3;
    let mut converged = false;
    let mut h = vec![0.0; n * n];
    let mut g = vec![0.0; n];
    let mut jrow = vec![0.0; n];
    let mut iterations = 0;
    for _ in 0..20 {
        iterations += 1;
        h.iter_mut().for_each(|v| *v = 0.0);
        g.iter_mut().for_each(|v| *v = 0.0);
        for (s, &w) in samples.iter().zip(&weights) {
            let m = model_and_jacobian(s, &p, k, &mut jrow);
            let r = s.od - m;
            for a in 0..n {
                if jrow[a] == 0.0 {
                    continue;
                }
                g[a] += w * jrow[a] * r;
                for b in a..n {
                    h[a * n + b] += w * jrow[a] * jrow[b];
                }
            }
        }
        for a in 0..n {
            for b in 0..a {
                h[a * n + b] = h[b * n + a];
            }
        }
        let mut improved = false;
        for _ in 0..8 {
            let mut damped = h.clone();
            for a in 0..n {
                damped[a * n + a] += lambda * h[a * n + a].max(1e-12);
            }
            let Some(step) = solve(&mut damped, &g, n) else {
                lambda *= 10.0;
                continue;
            };
            let mut trial = p.clone();
            for a in 0..n {
                trial[a] += step[a];
            }
            clamp(&mut trial, start, bounds);
            let mut trial_w = weights.clone();
            let c = cost_of(samples, &trial, k, &mut trial_w, huber);
            if c < cost {
                let rel = (cost - c) / cost.max(1e-30);
                p = trial;
                cost = c;
                weights = trial_w;
                lambda = (lambda / 3.0).max(1e-9);
                improved = true;
                let moved = step.iter().take(k * PER_DOT).fold(0.0f64, |m, d| m.max(d.abs()));
                if rel < 1e-5 || moved < 1e-3 {
                    converged = true;
                }
                break;
            }
            lambda *= 4.0;
            if lambda > 1e8 {
                break;
            }
        }
        if !improved {
            converged = true;
        }
        if converged {
            break;
        }
    }
    if std::env::var_os("SMPSCOPE_TRACE_FIT").is_some() { eprintln!("fit k={k} n={} it={iterations}", samples.len()); }
    let (dots, offset) = unpack(&p, k);
    GroupFit { dots, offset, weights, converged }
}

fn pack(dots: &[DotModel], offset: f64) -> Vec<f64> {
    let mut p: Vec<f64> = dots.iter().flat_map(|d| [d.x, d.y, d.amplitude, d.radius, d.sigma]).collect();
    p.push(offset);
    p
}

fn unpack(p: &[f64], k: usize) -> (Vec<DotModel>, f64) {
    let dots = (0..k)
        .map(|i| {
            let q = &p[i * PER_DOT..];
            DotModel { x: q[0], y: q[1], amplitude: q[2], radius: q[3], sigma: q[4] }
        })
        .collect();
    (dots, p[k * PER_DOT])
}

fn clamp(p: &mut [f64], start: &[DotModel], bounds: &[Bounds]) {
    for (i, (s, b)) in start.iter().zip(bounds).enumerate() {
        let q = &mut p[i * PER_DOT..(i + 1) * PER_DOT];
        q[0] = q[0].clamp(s.x - b.max_shift, s.x + b.max_shift);
        q[1] = q[1].clamp(s.y - b.max_shift, s.y + b.max_shift);
        q[2] = q[2].clamp(1e-4, 8.0);
        q[3] = q[3].clamp(0.02, b.max_size);
        q[4] = q[4].clamp(b.min_sigma, b.max_size);
    }
}

/// Model value at a sample and its derivatives with respect to every parameter.
#[inline]
fn model_and_jacobian(s: &Sample, p: &[f64], k: usize, j: &mut [f64]) -> f64 {
    let mut m = p[k * PER_DOT];
    j[k * PER_DOT] = 1.0;
    for i in 0..k {
        let q = &p[i * PER_DOT..(i + 1) * PER_DOT];
        let jq = &mut j[i * PER_DOT..(i + 1) * PER_DOT];
        let (x0, y0, a, rad, sig) = (q[0], q[1], q[2], q[3], q[4]);
        let (dx, dy) = (s.x - x0, s.y - y0);
        let r = (dx * dx + dy * dy).sqrt();
        let (u, v) = (r / sig, rad / sig);
        if u > v + 9.0 {
            jq.iter_mut().for_each(|x| *x = 0.0);
            continue;
        }
        let (f, fu, fv) = profile::value_and_gradient(u, v);
        m += a * f;
        let dr = if r > 1e-9 { a * fu / sig / r } else { 0.0 };
        jq[0] = -dr * dx;
        jq[1] = -dr * dy;
        jq[2] = f;
        jq[3] = a * fv / sig;
        jq[4] = -a * (fu * u + fv * v) / sig;
    }
    m
}

fn model(s: &Sample, p: &[f64], k: usize) -> f64 {
    let mut m = p[k * PER_DOT];
    for i in 0..k {
        let q = &p[i * PER_DOT..(i + 1) * PER_DOT];
        let r = ((s.x - q[0]).powi(2) + (s.y - q[1]).powi(2)).sqrt();
        let u = r / q[4];
        let v = q[3] / q[4];
        if u <= v + 9.0 {
            m += q[2] * profile::value(u, v);
        }
    }
    m
}

/// Huber cost; also refreshes the weights for the next iteration.
fn cost_of(samples: &[Sample], p: &[f64], k: usize, weights: &mut [f64], huber: f64) -> f64 {
    let mut c = 0.0;
    for (s, w) in samples.iter().zip(weights.iter_mut()) {
        let r = (s.od - model(s, p, k)).abs();
        if r <= huber {
            c += 0.5 * r * r;
            *w = 1.0;
        } else {
            c += huber * (r - 0.5 * huber);
            *w = huber / r;
        }
    }
    c
}

/// Solves the symmetric system `a x = b` (n x n, row-major) by Gaussian elimination with
/// partial pivoting; None when singular.
pub fn solve(a: &mut [f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut x = b.to_vec();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))?;
        if a[piv * n + col].abs() < 1e-300 {
            return None;
        }
        if piv != col {
            for c in 0..n {
                a.swap(piv * n + c, col * n + c);
            }
            x.swap(piv, col);
        }
        for row in col + 1..n {
            let f = a[row * n + col] / a[col * n + col];
            if f != 0.0 {
                for c in col..n {
                    a[row * n + c] -= f * a[col * n + c];
                }
                x[row] -= f * x[col];
            }
        }
    }
    for col in (0..n).rev() {
        let mut s = x[col];
        for c in col + 1..n {
            s -= a[col * n + c] * x[c];
        }
        x[col] = s / a[col * n + col];
        if !x[col].is_finite() {
            return None;
        }
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(dots: &[DotModel], offset: f64, size: usize) -> Vec<Sample> {
        let mut v = Vec::new();
        for y in 0..size {
            for x in 0..size {
                let (x, y) = (x as f64, y as f64);
                let od = offset + dots.iter().map(|d| d.amplitude * d.shape(x, y)).sum::<f64>();
                // Small deterministic noise.
                let n = 0.004 * ((((x * 13.0 + y * 7.0) as i64 % 11) as f64) / 11.0 - 0.5);
                v.push(Sample { x, y, od: od + n });
            }
        }
        v
    }

    fn bounds() -> Bounds {
        Bounds { min_sigma: 0.29, max_size: 20.0, max_shift: 3.0 }
    }

    #[test]
    fn recovers_a_single_dot() {
        let truth = DotModel { x: 15.3, y: 14.6, amplitude: 0.7, radius: 4.2, sigma: 1.1 };
        let s = render(&[truth], 0.01, 31);
        let start = DotModel { x: 15.0, y: 15.0, amplitude: 0.5, radius: 3.0, sigma: 1.5 };
        let f = fit_group(&s, &[start], 0.0, 0.003, &[bounds()]);
        let d = f.dots[0];
        assert!((d.x - truth.x).abs() < 0.02 && (d.y - truth.y).abs() < 0.02, "{d:?}");
        assert!((d.radius - truth.radius).abs() < 0.05 && (d.sigma - truth.sigma).abs() < 0.05, "{d:?}");
        assert!((d.amplitude - truth.amplitude).abs() < 0.01 && (f.offset - 0.01).abs() < 0.003, "{d:?}");
    }

    #[test]
    fn separates_two_overlapping_dots() {
        let a = DotModel { x: 12.0, y: 15.0, amplitude: 0.6, radius: 3.5, sigma: 0.8 };
        let b = DotModel { x: 18.5, y: 15.5, amplitude: 0.8, radius: 3.0, sigma: 0.8 };
        let s = render(&[a, b], 0.0, 31);
        let starts = [DotModel { x: 11.0, y: 15.0, amplitude: 0.5, radius: 3.0, sigma: 1.0 }, DotModel { x: 19.0, y: 15.0, amplitude: 0.5, radius: 3.0, sigma: 1.0 }];
        let f = fit_group(&s, &starts, 0.0, 0.003, &[bounds(), bounds()]);
        for (got, want) in f.dots.iter().zip([a, b]) {
            let ink = |d: &DotModel| d.amplitude * d.radius * d.radius;
            assert!((ink(got) / ink(&want) - 1.0).abs() < 0.02, "{got:?} vs {want:?}");
            assert!((got.x - want.x).abs() < 0.05, "{got:?} vs {want:?}");
        }
    }
}
