//! Least-squares fit of the dot model to the optical density around one dot, or jointly
//! around a few dots that touch.
//!
//! The pigment's density is a sum of discs blurred by Gaussians: S(p) = sum_i A_i F_i(p). The
//! camera and the pixels blur the light, not the density, so the model blurs the
//! transmittance: OD(p) = b - log10((G * 10^-S)(p)), with G the camera's and the pixel's blur
//! (docs/model.md#the-dot-model). Fitting in density with the blur moved into S would shrink
//! dark dots (Jensen's inequality; docs/decisions.md#blur-in-light). Levenberg-Marquardt with
//! closed-form derivatives and Huber weights, so that a hair or pore crossing the window pulls
//! less.

use super::render::{Evaluation, RADIAL_MIN_RADIUS};

pub use super::model::{Blur, DotModel, EncodedBlur, RadialBlur, Window};

/// Bounds that keep a fit physical and inside its window.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Largest radius and spread sigma, px.
    pub max_size: f64,
    /// Farthest the centre may move from its start along x and along y, px.
    pub max_shift: f64,
}

/// The result of a joint fit.
#[derive(Debug, Clone)]
pub struct GroupFit {
    /// The fitted dots, in the order of the starts.
    pub dots: Vec<DotModel>,
    /// Residual background offset of the window, OD.
    pub offset: f64,
    /// Huber weight of each window pixel at the solution (0 for unused pixels).
    pub weights: Vec<f64>,
    /// Model OD of each window pixel at the solution.
    pub model: Vec<f64>,
    /// Huber cost at the solution.
    pub cost: f64,
    /// Whether the iterations settled (no step improved, or steps became tiny); false when they
    /// stopped at the iteration limit.
    pub converged: bool,
    /// Whether the spread was held (the photo's shared spread) rather than fitted.
    pub spread_held: bool,
}

/// Parameters per dot in the fit's layout: x, y, amplitude, radius, spread.
pub(super) const PER_DOT: usize = 5;

/// What the fit may change: everything, or only the amplitudes and the offset (used to
/// measure each colour channel with the geometry fixed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Free {
    /// Every parameter of every dot, and the offset.
    All,
    /// Everything but the spread (a photo's shared spread is being applied or sought).
    AllButSpread,
    /// Only the amplitudes (plateau ODs) and the offset.
    AmplitudesOnly,
}

/// Fits `start` jointly to the window. `noise` is the OD noise per pixel (Huber scale).
pub fn fit_group(
    win: &Window,
    start: &[DotModel],
    offset: f64,
    noise: f64,
    bounds: &[Bounds],
    blur: &Blur,
    free: Free,
) -> GroupFit {
    let mut lm = Marquardt::new(win, start, offset, noise, blur, free);
    let mut converged = false;
    for _ in 0..25 {
        lm.normal_equations(win);
        match lm.step(win, start, bounds, blur) {
            Some(false) => converged = false,
            _ => {
                converged = true;
                break;
            }
        }
    }
    let (dots, offset) = unpack(&lm.p, lm.k);
    GroupFit {
        dots,
        offset,
        weights: lm.weights,
        model: lm.ev.model,
        cost: lm.cost,
        converged,
        spread_held: free == Free::AllButSpread,
    }
}

/// The state of a Levenberg-Marquardt fit: the parameters, their model and Jacobian, the Huber
/// weights and cost, the damping, and the normal equations at the current parameters.
struct Marquardt {
    k: usize,
    n: usize,
    p: Vec<f64>,
    /// The model and Jacobian at `p`.
    ev: Evaluation,
    /// The same at a trial step: swapped with `ev` when the step is taken.
    trial: Evaluation,
    frozen: Vec<bool>,
    huber: f64,
    weights: Vec<f64>,
    cost: f64,
    lambda: f64,
    h: Vec<f64>,
    g: Vec<f64>,
}

impl Marquardt {
    /// The fit's start: the model and Jacobian at `start`, and which parameters `free` holds.
    fn new(win: &Window, start: &[DotModel], offset: f64, noise: f64, blur: &Blur, free: Free) -> Self {
        let k = start.len();
        let n = k * PER_DOT + 1;
        let frozen: Vec<bool> = (0..n)
            .map(|a| {
                a < k * PER_DOT
                    && match free {
                        Free::All => false,
                        Free::AllButSpread => a % PER_DOT == 4,
                        Free::AmplitudesOnly => a % PER_DOT != 2,
                    }
            })
            .collect();
        let p = pack(start, offset);
        let radial_allowed = k == 1 && start[0].radius >= RADIAL_MIN_RADIUS;
        let mut ev = Evaluation::new(win, n, radial_allowed).holding(&frozen);
        ev.run(win, &p, k, blur, true);
        let trial = Evaluation::new(win, n, radial_allowed).holding(&frozen);
        let huber = 2.5 * noise.max(1e-4);
        let mut weights = vec![0.0; win.od.len()];
        let cost = ev.cost(win, huber, &mut weights);
        Marquardt {
            k,
            n,
            p,
            ev,
            trial,
            frozen,
            huber,
            weights,
            cost,
            lambda: 1e-3,
            h: vec![0.0; n * n],
            g: vec![0.0; n],
        }
    }

    /// The weighted normal equations H = J^T W J and g = J^T W r at the current parameters,
    /// with the frozen parameters' rows and columns set to the identity.
    fn normal_equations(&mut self, win: &Window) {
        let (n, h, g) = (self.n, &mut self.h, &mut self.g);
        h.iter_mut().for_each(|v| *v = 0.0);
        g.iter_mut().for_each(|v| *v = 0.0);
        for i in (0..win.od.len()).filter(|&i| win.used[i]) {
            let w = self.weights[i];
            let r = win.od[i] - self.ev.model[i];
            let jrow = &self.ev.jac[i * n..(i + 1) * n];
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
            if self.frozen[a] {
                for b in 0..n {
                    h[a * n + b] = 0.0;
                    h[b * n + a] = 0.0;
                }
                h[a * n + a] = 1.0;
                g[a] = 0.0;
            }
        }
    }

    /// Tries damped steps until one lowers the cost (at most 8), and takes it: Some(whether
    /// the fit has now settled), or None when no step helps or none would gain enough to try.
    fn step(&mut self, win: &Window, start: &[DotModel], bounds: &[Bounds], blur: &Blur) -> Option<bool> {
        let n = self.n;
        for attempt in 0..8 {
            let mut damped = self.h.clone();
            for a in 0..n {
                damped[a * n + a] += self.lambda * self.h[a * n + a].max(1e-12);
            }
            let Some(step) = crate::linalg::solve(&mut damped, &self.g, n, SINGULAR) else {
                self.lambda *= 10.0;
                continue;
            };
            // Settled when the step the local model proposes would gain next to nothing: no
            // trial evaluation is spent finding that out.
            if attempt == 0 && predicted_gain(&self.h, &self.g, &step) < SETTLED * self.cost {
                return None;
            }
            let mut trial = self.p.clone();
            for a in 0..n {
                trial[a] += step[a];
            }
            clamp(&mut trial, start, bounds);
            // With its Jacobian: most trials are taken, and then it is the next iteration's.
            self.trial.run(win, &trial, self.k, blur, true);
            let mut trial_w = self.weights.clone();
            let c = self.trial.cost(win, self.huber, &mut trial_w);
            if c < self.cost {
                let rel = (self.cost - c) / self.cost.max(1e-30);
                let moved = step.iter().take(self.k * PER_DOT).fold(0.0f64, |m, d| m.max(d.abs()));
                self.p = trial;
                std::mem::swap(&mut self.ev, &mut self.trial);
                self.cost = c;
                self.weights = trial_w;
                self.lambda = (self.lambda / 3.0).max(1e-9);
                return Some(rel < SETTLED || moved < 1e-3);
            }
            self.lambda *= 4.0;
            if self.lambda > 1e8 {
                return None;
            }
        }
        None
    }
}

/// The Jacobian of the model at `fit` (window pixels by parameters: x, y, amplitude, radius and
/// spread of each dot, then the offset, row after row), every parameter free, and the number
/// of parameters: what the fit's uncertainty is read from.
pub fn jacobian_at(win: &Window, fit: &GroupFit, blur: &Blur) -> (Vec<f64>, usize) {
    let k = fit.dots.len();
    let n = k * PER_DOT + 1;
    let radial_allowed = k == 1 && fit.dots[0].radius >= RADIAL_MIN_RADIUS;
    let mut ev = Evaluation::new(win, n, radial_allowed);
    ev.run(win, &pack(&fit.dots, fit.offset), k, blur, true);
    (ev.jac, n)
}

/// Pivot magnitude at or below which the normal equations count as singular.
pub(super) const SINGULAR: f64 = 1e-300;

/// Cost decrease, relative, below which a fit has settled.
const SETTLED: f64 = 1e-5;

/// The cost decrease the Gauss-Newton model predicts for `step`: g.step - step.H.step / 2.
fn predicted_gain(h: &[f64], g: &[f64], step: &[f64]) -> f64 {
    let n = g.len();
    let quad: f64 = (0..n).map(|a| step[a] * (0..n).map(|b| h[a * n + b] * step[b]).sum::<f64>()).sum();
    g.iter().zip(step).map(|(g, s)| g * s).sum::<f64>() - 0.5 * quad
}

pub(super) fn pack(dots: &[DotModel], offset: f64) -> Vec<f64> {
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
        q[2] = q[2].clamp(-2.0, 8.0);
        q[3] = q[3].clamp(0.02, b.max_size);
        q[4] = q[4].clamp(0.0, b.max_size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders dots the way a camera does: density, then blur of the light, plus a little
    /// deterministic noise.
    fn window(dots: &[DotModel], offset: f64, size: usize, blur: &Blur) -> Window {
        let mut win = Window {
            x0: 0,
            y0: 0,
            width: size,
            height: size,
            od: vec![0.0; size * size],
            used: vec![true; size * size],
        };
        let p = pack(dots, offset);
        let radial_allowed = dots.len() == 1 && dots[0].radius >= RADIAL_MIN_RADIUS;
        let mut ev = Evaluation::new(&win, 0, radial_allowed);
        ev.run(&win, &p, dots.len(), blur, false);
        for (i, v) in win.od.iter_mut().enumerate() {
            *v = ev.model[i] + 0.004 * ((((i * 13 + i / size * 7) % 11) as f64) / 11.0 - 0.5);
        }
        win
    }

    fn bounds() -> Bounds {
        Bounds { max_size: 20.0, max_shift: 3.0 }
    }

    #[test]
    fn recovers_a_single_dot_through_the_light_blur() {
        let blur = Blur::new(1.0 / 12.0, 0.8f64.powi(2));
        let truth = DotModel { x: 15.3, y: 14.6, amplitude: 0.9, radius: 4.2, sigma: 0.7 };
        let win = window(&[truth], 0.01, 31, &blur);
        let start = DotModel { x: 15.0, y: 15.0, amplitude: 0.5, radius: 3.0, sigma: 1.5 };
        let f = fit_group(&win, &[start], 0.0, 0.003, &[bounds()], &blur, Free::All);
        let d = f.dots[0];
        assert!((d.x - truth.x).abs() < 0.02 && (d.y - truth.y).abs() < 0.02, "{d:?}");
        assert!((d.radius - truth.radius).abs() < 0.05 && (d.sigma - truth.sigma).abs() < 0.1, "{d:?}");
        assert!((d.amplitude - truth.amplitude).abs() < 0.02 && (f.offset - 0.01).abs() < 0.003, "{d:?}");
    }

    #[test]
    fn separates_two_overlapping_dots() {
        let blur = Blur::new(1.0 / 12.0, 0.42);
        let a = DotModel { x: 12.0, y: 15.0, amplitude: 0.6, radius: 3.5, sigma: 0.8 };
        let b = DotModel { x: 18.5, y: 15.5, amplitude: 0.8, radius: 3.0, sigma: 0.8 };
        let win = window(&[a, b], 0.0, 31, &blur);
        let starts = [
            DotModel { x: 11.0, y: 15.0, amplitude: 0.5, radius: 3.0, sigma: 1.0 },
            DotModel { x: 19.0, y: 15.0, amplitude: 0.5, radius: 3.0, sigma: 1.0 },
        ];
        let f = fit_group(&win, &starts, 0.0, 0.003, &[bounds(), bounds()], &blur, Free::All);
        for (got, want) in f.dots.iter().zip([a, b]) {
            let ink = |d: &DotModel| d.amplitude * d.radius * d.radius;
            assert!((ink(got) / ink(&want) - 1.0).abs() < 0.02, "{got:?} vs {want:?}");
            assert!((got.x - want.x).abs() < 0.05, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn amplitudes_only_keeps_the_geometry() {
        let blur = Blur::new(1.0 / 12.0, 0.32);
        let truth = DotModel { x: 10.0, y: 10.0, amplitude: 0.5, radius: 3.0, sigma: 0.5 };
        let win = window(&[truth], 0.0, 21, &blur);
        let start = DotModel { amplitude: 0.2, ..truth };
        let f = fit_group(&win, &[start], 0.0, 0.003, &[bounds()], &blur, Free::AmplitudesOnly);
        assert_eq!((f.dots[0].x, f.dots[0].radius, f.dots[0].sigma), (truth.x, truth.radius, truth.sigma));
        assert!((f.dots[0].amplitude - 0.5).abs() < 0.01);
    }

    #[test]
    fn a_blur_of_encoded_values_is_fitted_as_such() {
        // A dark 2.5 px dot on a channel whose skin sits at 0.4 of full scale, with chroma's
        // 1 px^2 blur on the sRGB-encoded values after the optics.
        let blur = Blur::new(1.0 / 12.0, 0.5).then_encoded(1.0, 0.4);
        let truth = DotModel { x: 10.2, y: 9.7, amplitude: 0.8, radius: 2.5, sigma: 0.4 };
        let win = window(&[truth], 0.0, 21, &blur);
        let start = DotModel { amplitude: 0.3, ..truth };
        let amplitude =
            |b: &Blur| fit_group(&win, &[start], 0.0, 0.003, &[bounds()], b, Free::AmplitudesOnly).dots[0].amplitude;
        assert!((amplitude(&blur) - 0.8).abs() < 0.01, "{}", amplitude(&blur));
        // Taken for a blur of light, the same blur reads a different density.
        let as_light = Blur::new(1.0 / 12.0, 1.5);
        assert!((amplitude(&as_light) - 0.8).abs() > 0.03, "{}", amplitude(&as_light));
    }
}
