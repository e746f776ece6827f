//! The dot model rendered over a fit's window, with its Jacobian on request, in one of two
//! ways that compute the same model: on the window's own grid (any number of dots, blurs as
//! separable convolutions) or, for a lone dot, through its radial profile (blurred by radial
//! kernels and read at each pixel's distance), which costs per radius instead of per pixel.

use super::fit::PER_DOT;
use super::model::{Blur, EncodedBlur, Window};
use super::profile;
use super::radial;
use crate::colour::{linear_to_srgb, linear_to_srgb_slope, srgb_to_linear, srgb_to_linear_slope};
use crate::plane::convolve_clamped;

const LN10: f64 = std::f64::consts::LN_10;

/// Smallest deposit radius, px, measured through the radial profile: below it the grid's and
/// the radial rendering of a dot differ by more than a tenth in its ink, as the profile is
/// sharper than the pixels that sample it (docs/decisions.md#radial-blur).
pub(super) const RADIAL_MIN_RADIUS: f64 = 2.0;

/// Derivatives carried through the radial path: amplitude, radius, spread.
const RADIAL_PARAMS: [usize; 3] = [2, 3, 4];

/// The model over a window and, on request, its Jacobian.
pub(super) struct Evaluation {
    /// The model OD at each window pixel.
    pub model: Vec<f64>,
    /// Its Jacobian, window pixels by parameters, row after row.
    pub jac: Vec<f64>,
    trans: Vec<f64>,
    scratch: Vec<f64>,
    /// A lone dot's radial profiles on the kernel's grid: transmittance minus 1 and its
    /// derivatives by amplitude, radius and spread, before and after each blur.
    radial: [Vec<f64>; 4],
    blurred: [Vec<f64>; 4],
    /// Whether a lone dot may go the radial way (decided once per fit, from its start).
    radial_allowed: bool,
    /// Parameters whose Jacobian column is not wanted (held by the fit): left at 0.
    held: Vec<bool>,
}

impl Evaluation {
    /// Buffers for a window and `n` parameters (0: no Jacobian); `radial_allowed` as the field.
    pub fn new(win: &Window, n: usize, radial_allowed: bool) -> Self {
        let m = win.od.len();
        Evaluation {
            model: vec![0.0; m],
            jac: vec![0.0; m * n],
            trans: vec![0.0; m],
            scratch: vec![0.0; m],
            radial: Default::default(),
            blurred: Default::default(),
            radial_allowed,
            held: vec![false; n],
        }
    }

    /// The same, with the Jacobian columns of the parameters marked in `held` left at 0: the
    /// costly part of a Jacobian (its blurs) is spent on the free ones only.
    pub fn holding(mut self, held: &[bool]) -> Self {
        self.held = held.to_vec();
        self
    }

    fn held(&self, a: usize) -> bool {
        self.held.get(a).copied().unwrap_or(false)
    }

    /// Whether radial profile `d` (0 the value, then the derivatives by [`RADIAL_PARAMS`]) is
    /// of a held parameter, and so neither blurred nor read.
    fn profile_held(&self, d: usize) -> bool {
        d > 0 && self.held(RADIAL_PARAMS[d - 1])
    }

    /// The model (and Jacobian) at `p`: a lone dot that started at [`RADIAL_MIN_RADIUS`] or
    /// more in a blurred photo through its radial profile, anything else on the window's grid.
    /// Both compute the same model, up to how each samples a profile sharper than a pixel.
    pub fn run(&mut self, win: &Window, p: &[f64], k: usize, blur: &Blur, jacobian: bool) {
        let blurred = blur.radial.light.is_some() || blur.encoded.is_some();
        if !(k == 1 && blurred && self.radial_allowed && self.run_radial(win, p, blur, jacobian)) {
            self.run_grid(win, p, k, blur, jacobian);
        }
    }

    /// A lone dot: its profile on a grid of radii, blurred by the radial kernels, then read at
    /// each pixel's distance by a spline. False, with nothing done, when the window is too
    /// large for the kernels' grid.
    pub fn run_radial(&mut self, win: &Window, p: &[f64], blur: &Blur, jacobian: bool) -> bool {
        let (x0, y0) = (p[0], p[1]);
        let corner = |x: f64, y: f64| (x - x0).hypot(y - y0);
        let (xa, ya) = (win.x0 as f64, win.y0 as f64);
        let (xb, yb) = (xa + win.width as f64 - 1.0, ya + win.height as f64 - 1.0);
        let r_max = corner(xa, ya).max(corner(xb, ya)).max(corner(xa, yb)).max(corner(xb, yb));
        let n_out = (r_max / blur.radial.step_out).ceil() as usize + 3;
        let n_mid = blur.encoded.as_ref().map_or(n_out, |e| e.radial.inputs_for(n_out));
        let n_in = blur.radial.light.as_ref().map_or(n_mid, |k| k.inputs_for(n_mid));
        if n_mid > radial::MAX_NODES {
            return false;
        }
        let nd = if jacobian { 4 } else { 1 };
        self.pigment_profile(p, blur, n_in, jacobian);
        for d in 0..nd {
            let held = self.profile_held(d);
            let out = &mut self.blurred[d];
            out.clear();
            out.resize(n_mid, 0.0);
            if held {
                continue;
            }
            match &blur.radial.light {
                Some(k) => k.apply(&self.radial[d][..n_in], out),
                None => out.copy_from_slice(&self.radial[d][..n_mid]),
            }
        }
        if let Some(e) = &blur.encoded {
            self.blur_encoded_profile(e, n_mid, n_out, nd);
        }
        self.read_profile(win, p, blur.radial.step_out, jacobian);
        true
    }

    /// The pigment's transmittance minus 1 at each of `n_in` radial nodes, and (with the
    /// Jacobian) its derivatives by amplitude, radius and spread.
    fn pigment_profile(&mut self, p: &[f64], blur: &Blur, n_in: usize, jacobian: bool) {
        let (a, radius, sigma) = (p[2], p[3], p[4]);
        let s = (sigma * sigma + blur.density_sigma * blur.density_sigma).sqrt();
        let v = radius / s;
        for b in &mut self.radial[..if jacobian { 4 } else { 1 }] {
            b.clear();
            b.resize(n_in, 0.0);
        }
        for j in 0..n_in {
            let u = j as f64 * blur.radial.step_in / s;
            if u > v + 9.0 {
                break;
            }
            let (f, fu, fv) = profile::value_and_gradient(u, v);
            let t = (-LN10 * a * f).exp();
            self.radial[0][j] = t - 1.0;
            if jacobian {
                self.radial[1][j] = -LN10 * t * f;
                self.radial[2][j] = -LN10 * t * a * fv / s;
                self.radial[3][j] = LN10 * t * a * (fu * u + fv * v) / s * (sigma / s);
            }
        }
    }

    /// The light-blurred profiles to encoded values, blurred there, and back to transmittance
    /// (chain rule on the derivatives at each step).
    fn blur_encoded_profile(&mut self, e: &EncodedBlur, n_mid: usize, n_out: usize, nd: usize) {
        let far = linear_to_srgb(e.skin);
        for j in 0..n_mid {
            let l = (e.skin * (1.0 + self.blurred[0][j])).clamp(0.0, 1.0);
            let slope = e.skin * linear_to_srgb_slope(l.max(1e-9));
            self.radial[0][j] = linear_to_srgb(l) - far;
            for d in 1..nd {
                self.radial[d][j] = slope * self.blurred[d][j];
            }
        }
        for d in 0..nd {
            self.blurred[d].truncate(n_out);
            if self.profile_held(d) {
                continue;
            }
            e.radial.apply(&self.radial[d][..n_mid], &mut self.blurred[d]);
        }
        for j in 0..n_out {
            let enc = (self.blurred[0][j] + far).clamp(0.0, 1.0);
            let slope = srgb_to_linear_slope(enc) / e.skin;
            self.blurred[0][j] = srgb_to_linear(enc) / e.skin - 1.0;
            for d in 1..nd {
                self.blurred[d][j] *= slope;
            }
        }
    }

    /// Each pixel's model (and Jacobian row) from the blurred profiles at its distance from the
    /// dot, nodes `h` px apart.
    fn read_profile(&mut self, win: &Window, p: &[f64], h: f64, jacobian: bool) {
        const N: usize = PER_DOT + 1;
        let (x0, y0, offset) = (p[0], p[1], p[PER_DOT]);
        let held: [bool; 3] = std::array::from_fn(|d| self.profile_held(d + 1));
        for i in 0..win.od.len() {
            // Pixels the fit does not weigh carry no blur across here: left out.
            if !win.used[i] {
                self.model[i] = offset;
                continue;
            }
            let (x, y) = win.xy(i);
            let (dx, dy) = (x - x0, y - y0);
            let r = (dx * dx + dy * dy).sqrt();
            let (idx, wv, ws) = radial::spline(r, h);
            let at = |b: &[f64], w: &[f64; 4]| idx.iter().zip(w).map(|(&j, w)| w * b[j]).sum::<f64>();
            let t = (1.0 + at(&self.blurred[0], &wv)).max(1e-12);
            self.model[i] = offset - t.log10();
            if jacobian {
                let row = &mut self.jac[i * N..(i + 1) * N];
                let scale = -1.0 / (LN10 * t);
                let dr = if r > 1e-9 { scale * at(&self.blurred[0], &ws) / r } else { 0.0 };
                row[0] = -dr * dx;
                row[1] = -dr * dy;
                for (d, &q) in RADIAL_PARAMS.iter().enumerate() {
                    row[q] = if held[d] { 0.0 } else { scale * at(&self.blurred[d + 1], &wv) };
                }
                row[PER_DOT] = 1.0;
            }
        }
    }

    /// Any number of dots on the window's own grid, blurs as separable 2D convolutions.
    pub fn run_grid(&mut self, win: &Window, p: &[f64], k: usize, blur: &Blur, jacobian: bool) {
        let n = k * PER_DOT + 1;
        let m = win.od.len();
        if jacobian && self.jac.len() != m * n {
            self.jac = vec![0.0; m * n];
        }
        self.grid_transmittance(win, p, k, blur, jacobian);
        if !blur.light_kernel.is_empty() {
            self.blur_with(win, &blur.light_kernel, k * PER_DOT, n, jacobian);
        }
        if let Some(e) = &blur.encoded {
            self.blur_encoded_grid(win, e, k, jacobian);
        }
        let b = p[k * PER_DOT];
        for i in 0..m {
            let t = self.trans[i].max(1e-12);
            self.model[i] = b - t.log10();
            if jacobian {
                for a in 0..k * PER_DOT {
                    self.jac[i * n + a] /= -LN10 * t;
                }
                self.jac[i * n + k * PER_DOT] = 1.0;
            }
        }
    }

    /// Pigment density S, transmittance T = 10^-S and dT/dtheta at every window pixel.
    fn grid_transmittance(&mut self, win: &Window, p: &[f64], k: usize, blur: &Blur, jacobian: bool) {
        let n = k * PER_DOT + 1;
        let extra2 = blur.density_sigma * blur.density_sigma;
        // Per dot, what does not depend on the pixel: its blurred sigma and v = R / sigma.
        let sigmas: Vec<(f64, f64)> = (0..k)
            .map(|d| {
                let q = &p[d * PER_DOT..(d + 1) * PER_DOT];
                let sig = (q[4] * q[4] + extra2).sqrt();
                (sig, q[3] / sig)
            })
            .collect();
        for i in 0..win.od.len() {
            let (x, y) = win.xy(i);
            let mut s = 0.0;
            for (d, &(sig, v)) in sigmas.iter().enumerate() {
                let q = &p[d * PER_DOT..(d + 1) * PER_DOT];
                let (dx, dy) = (x - q[0], y - q[1]);
                let r = (dx * dx + dy * dy).sqrt();
                let u = r / sig;
                let jq =
                    if jacobian { Some(&mut self.jac[i * n + d * PER_DOT..i * n + (d + 1) * PER_DOT]) } else { None };
                if u > v + 9.0 {
                    if let Some(jq) = jq {
                        jq.iter_mut().for_each(|x| *x = 0.0);
                    }
                    continue;
                }
                let (f, fu, fv) = profile::value_and_gradient(u, v);
                let a = q[2];
                s += a * f;
                if let Some(jq) = jq {
                    let dr = if r > 1e-9 { a * fu / sig / r } else { 0.0 };
                    jq[0] = -dr * dx;
                    jq[1] = -dr * dy;
                    jq[2] = f;
                    jq[3] = a * fv / sig;
                    // d sig / d sigma_pigment = sigma_pigment / sig.
                    jq[4] = -a * (fu * u + fv * v) / sig * (q[4] / sig);
                }
            }
            // exp is several times cheaper than powf, and most pixels of a window lie off
            // every dot's profile.
            let t = if s == 0.0 { 1.0 } else { (-LN10 * s).exp() };
            self.trans[i] = t;
            if jacobian {
                for a in 0..k * PER_DOT {
                    self.jac[i * n + a] *= -LN10 * t;
                }
            }
        }
    }

    /// The transmittance to encoded values, blurred there, and back (chain rule on the
    /// Jacobian at each step).
    fn blur_encoded_grid(&mut self, win: &Window, e: &EncodedBlur, k: usize, jacobian: bool) {
        let n = k * PER_DOT + 1;
        for i in 0..win.od.len() {
            let l = (e.skin * self.trans[i]).clamp(0.0, 1.0);
            if jacobian {
                let slope = e.skin * linear_to_srgb_slope(l.max(1e-9));
                self.jac[i * n..i * n + k * PER_DOT].iter_mut().for_each(|j| *j *= slope);
            }
            self.trans[i] = linear_to_srgb(l);
        }
        self.blur_with(win, &e.kernel, k * PER_DOT, n, jacobian);
        for i in 0..win.od.len() {
            let v = self.trans[i];
            if jacobian {
                let slope = srgb_to_linear_slope(v) / e.skin;
                self.jac[i * n..i * n + k * PER_DOT].iter_mut().for_each(|j| *j *= slope);
            }
            self.trans[i] = srgb_to_linear(v) / e.skin;
        }
    }

    /// Convolves the transmittance with `kernel`, and the first `free` columns of the Jacobian
    /// (of `n`) when asked.
    fn blur_with(&mut self, win: &Window, kernel: &[f64], free: usize, n: usize, jacobian: bool) {
        let m = win.od.len();
        convolve_clamped(&mut self.trans, win.width, win.height, kernel, &mut self.scratch);
        if jacobian {
            let mut col = vec![0.0; m];
            for a in 0..free {
                if self.held(a) {
                    (0..m).for_each(|i| self.jac[i * n + a] = 0.0);
                    continue;
                }
                for (i, c) in col.iter_mut().enumerate() {
                    *c = self.jac[i * n + a];
                }
                convolve_clamped(&mut col, win.width, win.height, kernel, &mut self.scratch);
                for (i, &c) in col.iter().enumerate() {
                    self.jac[i * n + a] = c;
                }
            }
        }
    }

    /// Huber cost over the used pixels; refreshes the weights.
    pub fn cost(&self, win: &Window, huber: f64, weights: &mut [f64]) -> f64 {
        let mut c = 0.0;
        for (i, w) in weights.iter_mut().enumerate().take(win.od.len()) {
            if !win.used[i] {
                *w = 0.0;
                continue;
            }
            let r = (win.od[i] - self.model[i]).abs();
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::fit::pack;
    use crate::measure::model::DotModel;

    /// A lone dot as a camera records it: the pigment's density on a fine grid, the light
    /// blurred by a Gaussian, then averaged over each pixel's area.
    fn camera(dot: &DotModel, light_variance: f64, size: usize) -> Vec<f64> {
        const SS: usize = 8;
        let n = size * SS;
        let at = |k: usize| (k as f64 + 0.5) / SS as f64 - 0.5;
        let mut t: Vec<f64> = (0..n * n)
            .map(|i| 10f64.powf(-dot.amplitude * DotModel { amplitude: 1.0, ..*dot }.shape(at(i % n), at(i / n), 1e-3)))
            .collect();
        let kernel = crate::plane::discrete_gaussian_kernel(light_variance * (SS * SS) as f64);
        let mut tmp = vec![0.0; n * n];
        convolve_clamped(&mut t, n, n, &kernel, &mut tmp);
        (0..size * size)
            .map(|p| {
                let (px, py) = (p % size, p / size);
                let sum: f64 =
                    (0..SS * SS).map(|s| t[(py * SS + s / SS) * n + px * SS + s % SS]).sum::<f64>() / (SS * SS) as f64;
                -sum.log10()
            })
            .collect()
    }

    /// d model / d p[a] at every pixel of the radial model, by central differences over a step
    /// wider than the profile table's cells (whose bilinear slopes are not its derivatives).
    fn central_difference(win: &Window, p: &[f64], a: usize, blur: &Blur) -> Vec<f64> {
        let at = |d: f64| {
            let mut q = p.to_vec();
            q[a] += d;
            let mut ev = Evaluation::new(win, 6, false);
            assert!(ev.run_radial(win, &q, blur, false));
            ev.model
        };
        let (up, down) = (at(0.01), at(-0.01));
        up.iter().zip(&down).map(|(u, d)| (u - d) / 0.02).collect()
    }

    /// The radial model's Jacobian `jac` (6 parameters) at `p` within 2 % of each column's
    /// largest value of its central differences.
    fn assert_jacobian(win: &Window, p: &[f64], blur: &Blur, jac: &[f64]) {
        for a in 0..6 {
            let numeric = central_difference(win, p, a, blur);
            let norm = (0..numeric.len()).map(|i| jac[i * 6 + a].abs()).fold(0.0f64, f64::max);
            for (i, numeric) in numeric.into_iter().enumerate() {
                assert!(
                    (numeric - jac[i * 6 + a]).abs() < 0.02 * norm.max(1e-9),
                    "{p:?} param {a}: {numeric} vs {} of {norm}",
                    jac[i * 6 + a]
                );
            }
        }
    }

    #[test]
    fn a_lone_dots_radial_profile_is_the_cameras() {
        // Small and large dots, faint and dark, sharp and soft: the radial model is as near a
        // camera's rendering as the grid's or nearer (the grid samples the sharp profile at pixel
        // centres), within 5 % of the dot's peak (1 % for a soft dot; a hard-edged 3 px dot of
        // OD 1.4 is 32 % off in both, as the model averages density over the pixel where the
        // camera averages light: docs/decisions.md#radial-blur), and its Jacobian is its own
        // derivative.
        let cases = [
            (DotModel { x: 10.3, y: 9.6, amplitude: 0.9, radius: 2.2, sigma: 0.3 }, 0.36, 0.05),
            (DotModel { x: 10.0, y: 10.4, amplitude: 0.3, radius: 4.5, sigma: 1.2 }, 2.5, 0.01),
            (DotModel { x: 9.8, y: 10.1, amplitude: 1.4, radius: 1.5, sigma: 0.0 }, 0.8, 0.35),
        ];
        for (dot, light, tolerance) in cases {
            let blur = Blur::new(1.0 / 12.0, light);
            let win = Window { x0: 0, y0: 0, width: 21, height: 21, od: vec![0.0; 441], used: vec![true; 441] };
            let truth = camera(&dot, light, 21);
            let peak = truth.iter().fold(0.0f64, |m, &v| m.max(v));
            let p = pack(&[dot], 0.0);
            let (mut grid, mut radial) = (Evaluation::new(&win, 6, false), Evaluation::new(&win, 6, false));
            grid.run_grid(&win, &p, 1, &blur, false);
            assert!(radial.run_radial(&win, &p, &blur, true));
            let worst = |m: &[f64]| m.iter().zip(&truth).map(|(a, b)| (a - b).abs()).fold(0.0f64, f64::max);
            let (r, g) = (worst(&radial.model), worst(&grid.model));
            assert!(r < tolerance * peak && r <= g, "{dot:?}: {r} of {peak} (grid {g})");
            assert_jacobian(&win, &p, &blur, &radial.jac);
        }
    }

    #[test]
    fn chromas_encoded_blur_is_carried_through_the_radial_model() {
        // The same model as the grid's up to where each puts the pixel's area; the chain rule
        // through the encoding holds.
        let dot = DotModel { x: 9.8, y: 10.1, amplitude: 1.4, radius: 2.5, sigma: 0.4 };
        let blur = Blur::new(1.0 / 12.0, 0.8).then_encoded(1.0, 0.35);
        let win = Window { x0: 0, y0: 0, width: 21, height: 21, od: vec![0.0; 441], used: vec![true; 441] };
        let p = pack(&[dot], 0.0);
        let (mut grid, mut radial) = (Evaluation::new(&win, 6, false), Evaluation::new(&win, 6, false));
        grid.run_grid(&win, &p, 1, &blur, false);
        assert!(radial.run_radial(&win, &p, &blur, true));
        let peak = grid.model.iter().fold(0.0f64, |m, &v| m.max(v));
        assert!(grid.model.iter().zip(&radial.model).all(|(g, r)| (g - r).abs() < 0.1 * peak));
        assert_jacobian(&win, &p, &blur, &radial.jac);
    }
}
