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

use std::sync::Arc;

use super::profile;
use super::radial::{self, RadialKernel};

/// The model parameters of one dot, in pixels and OD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DotModel {
    /// Centre, column, px.
    pub x: f64,
    /// Centre, row, px.
    pub y: f64,
    /// Plateau optical density of the deposit.
    pub amplitude: f64,
    /// Deposit radius R, px.
    pub radius: f64,
    /// Gaussian sigma of the pigment's spread, px.
    pub sigma: f64,
}

impl DotModel {
    /// The pigment's unit profile at (x, y), with `extra` px of blur added in density (used
    /// only to keep the sampled profile smooth; see `Blur`).
    #[inline]
    pub fn shape(&self, x: f64, y: f64, extra: f64) -> f64 {
        let s = (self.sigma * self.sigma + extra * extra).sqrt();
        let r = ((x - self.x).powi(2) + (y - self.y).powi(2)).sqrt();
        profile::value(r / s, self.radius / s)
    }
}

/// How the photo blurs: a little in density (the pixel's area, and so that a hard-edged dot
/// sampled at pixel centres does not alias), the rest in light (the camera's optics), and, for
/// colour read from a JPEG with subsampled chroma, a last blur of the sRGB-encoded values. Two
/// renderings of the same model: on the window's grid (any number of dots) and radial (a lone
/// dot, whose blurred profile is one-dimensional).
#[derive(Debug, Clone)]
pub struct Blur {
    /// Sigma added in density, px.
    pub density_sigma: f64,
    /// Separable kernel applied to the transmittance on the grid (empty: none).
    pub light_kernel: Vec<f64>,
    /// The radial rendering.
    pub radial: RadialBlur,
    /// Blur of the encoded values, after the light's.
    pub encoded: Option<EncodedBlur>,
}

/// The radial rendering of a [`Blur`].
#[derive(Debug, Clone)]
pub struct RadialBlur {
    /// Grid step of the pigment's profile, px: a third of its smallest blur, at most 0.1.
    pub step_in: f64,
    /// Grid step of the blurred profiles, px: a third of the whole blur's sigma.
    pub step_out: f64,
    /// The blur of the light (None: none).
    pub light: Option<Arc<RadialKernel>>,
}

/// A blur that acts on sRGB-encoded values, as JPEG's chroma path does: block means and
/// interpolation of gamma-encoded colour differences. On a dark dot it darkens the edges more
/// than a blur of light would.
#[derive(Debug, Clone)]
pub struct EncodedBlur {
    /// The skin's linear level in the channel fitted (0..1): transmittance 1 is encoded from it.
    pub skin: f64,
    /// Separable kernel applied to the encoded values.
    pub kernel: Vec<f64>,
    /// The same blur as a radial kernel, for lone dots.
    pub radial: Arc<RadialKernel>,
}

impl Blur {
    /// A blur of `density_variance` px^2 acting on the optical density (the pixel's area, over
    /// which the sensor averages) and `light_variance` px^2 acting on the light (the camera's
    /// optics). The grid's light kernel is the discrete Gaussian, whose variance is exact even
    /// for a fraction of a pixel, where a sampled Gaussian would be far off.
    pub fn new(density_variance: f64, light_variance: f64) -> Blur {
        let (density_variance, light_variance) = (density_variance.max(0.0), light_variance.max(0.0));
        let blurred = light_variance > 1e-4;
        let light_kernel = if blurred { crate::plane::discrete_gaussian_kernel(light_variance) } else { Vec::new() };
        let step_out = (0.3 * (density_variance + light_variance).sqrt()).clamp(0.02, 1.0);
        let step_in = if blurred { (0.3 * density_variance.sqrt()).clamp(0.02, step_out.min(0.1)) } else { step_out };
        let light = blurred.then(|| RadialKernel::shared(light_variance, step_in, step_out));
        Blur {
            density_sigma: density_variance.sqrt(),
            light_kernel,
            radial: RadialBlur { step_in, step_out, light },
            encoded: None,
        }
    }

    /// This blur followed by one of `variance` px^2 on sRGB-encoded values, for a channel whose
    /// skin has the linear level `skin`.
    pub fn then_encoded(self, variance: f64, skin: f64) -> Blur {
        let encoded = (variance > 1e-4 && skin > 0.0).then(|| EncodedBlur {
            skin: skin.min(1.0),
            kernel: crate::plane::discrete_gaussian_kernel(variance),
            radial: RadialKernel::shared(variance, self.radial.step_out, self.radial.step_out),
        });
        Blur { encoded, ..self }
    }
}

/// A rectangular window of the photo's optical density; `used` marks the pixels the fit
/// weighs (the rest only carry the blur across the window's edge).
#[derive(Debug, Clone)]
pub struct Window {
    /// Column of the window's left edge in the photo, px.
    pub x0: usize,
    /// Row of the window's top edge in the photo, px.
    pub y0: usize,
    /// Width, px.
    pub width: usize,
    /// Height, px.
    pub height: usize,
    /// Optical density of each window pixel, OD, row after row.
    pub od: Vec<f64>,
    /// Whether the fit weighs each window pixel, row after row.
    pub used: Vec<bool>,
}

impl Window {
    fn xy(&self, i: usize) -> (f64, f64) {
        ((self.x0 + i % self.width) as f64, (self.y0 + i / self.width) as f64)
    }
}

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
const LN10: f64 = std::f64::consts::LN_10;

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
    let k = start.len();
    let n = k * PER_DOT + 1;
    let frozen = |a: usize| {
        a < k * PER_DOT
            && match free {
                Free::All => false,
                Free::AllButSpread => a % PER_DOT == 4,
                Free::AmplitudesOnly => a % PER_DOT != 2,
            }
    };
    let mut p = pack(start, offset);
    let huber = 2.5 * noise.max(1e-4);
    let radial_allowed = k == 1 && start[0].radius >= RADIAL_MIN_RADIUS;
    let mut ev = Evaluation { radial_allowed, ..Evaluation::new(win, n) };
    ev.run(win, &p, k, blur, true);
    let mut weights = vec![0.0; win.od.len()];
    let mut cost = ev.cost(win, huber, &mut weights);
    let mut lambda = 1e-3;
    let mut converged = false;
    let mut h = vec![0.0; n * n];
    let mut g = vec![0.0; n];
    for _ in 0..25 {
        h.iter_mut().for_each(|v| *v = 0.0);
        g.iter_mut().for_each(|v| *v = 0.0);
        for i in (0..win.od.len()).filter(|&i| win.used[i]) {
            let w = weights[i];
            let r = win.od[i] - ev.model[i];
            let jrow = &ev.jac[i * n..(i + 1) * n];
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
            if frozen(a) {
                for b in 0..n {
                    h[a * n + b] = 0.0;
                    h[b * n + a] = 0.0;
                }
                h[a * n + a] = 1.0;
                g[a] = 0.0;
            }
        }
        let mut improved = false;
        let mut trial_ev = Evaluation { radial_allowed, ..Evaluation::new(win, 0) };
        for attempt in 0..8 {
            let mut damped = h.clone();
            for a in 0..n {
                damped[a * n + a] += lambda * h[a * n + a].max(1e-12);
            }
            let Some(step) = solve(&mut damped, &g, n) else {
                lambda *= 10.0;
                continue;
            };
            // Settled when the step the local model proposes would gain next to nothing: no
            // trial evaluation is spent finding that out.
            if attempt == 0 && predicted_gain(&h, &g, &step) < SETTLED * cost {
                break;
            }
            let mut trial = p.clone();
            for a in 0..n {
                trial[a] += step[a];
            }
            clamp(&mut trial, start, bounds);
            trial_ev.run(win, &trial, k, blur, false);
            let mut trial_w = weights.clone();
            let c = trial_ev.cost(win, huber, &mut trial_w);
            if c < cost {
                let rel = (cost - c) / cost.max(1e-30);
                let moved = step.iter().take(k * PER_DOT).fold(0.0f64, |m, d| m.max(d.abs()));
                p = trial;
                cost = c;
                weights = trial_w;
                lambda = (lambda / 3.0).max(1e-9);
                improved = true;
                converged = rel < SETTLED || moved < 1e-3;
                break;
            }
            lambda *= 4.0;
            if lambda > 1e8 {
                break;
            }
        }
        if !improved || converged {
            converged = true;
            break;
        }
        ev.run(win, &p, k, blur, true);
    }
    ev.run(win, &p, k, blur, false);
    let (dots, offset) = unpack(&p, k);
    GroupFit { dots, offset, weights, model: ev.model, cost, converged, spread_held: free == Free::AllButSpread }
}

/// The Jacobian of the model at `fit` (window pixels by parameters: x, y, amplitude, radius and
/// spread of each dot, then the offset, row after row), every parameter free, and the number
/// of parameters: what the fit's uncertainty is read from.
pub fn jacobian_at(win: &Window, fit: &GroupFit, blur: &Blur) -> (Vec<f64>, usize) {
    let k = fit.dots.len();
    let n = k * PER_DOT + 1;
    let radial_allowed = k == 1 && fit.dots[0].radius >= RADIAL_MIN_RADIUS;
    let mut ev = Evaluation { radial_allowed, ..Evaluation::new(win, n) };
    ev.run(win, &pack(&fit.dots, fit.offset), k, blur, true);
    (ev.jac, n)
}

/// The model over a window and, on request, its Jacobian.
struct Evaluation {
    model: Vec<f64>,
    jac: Vec<f64>,
    trans: Vec<f64>,
    scratch: Vec<f64>,
    /// A lone dot's radial profiles on the kernel's grid: transmittance minus 1 and its
    /// derivatives by amplitude, radius and spread, before and after each blur.
    radial: [Vec<f64>; 4],
    blurred: [Vec<f64>; 4],
    /// Whether a lone dot may go the radial way (decided once per fit, from its start).
    radial_allowed: bool,
}

/// Smallest deposit radius, px, measured through the radial profile: below it the grid's and
/// the radial rendering of a dot differ by more than a tenth in its ink, as the profile is
/// sharper than the pixels that sample it (docs/decisions.md#radial-blur).
const RADIAL_MIN_RADIUS: f64 = 2.0;

/// Derivatives carried through the radial path: amplitude, radius, spread.
const RADIAL_PARAMS: [usize; 3] = [2, 3, 4];

impl Evaluation {
    fn new(win: &Window, n: usize) -> Self {
        let m = win.od.len();
        Evaluation {
            model: vec![0.0; m],
            jac: vec![0.0; m * n],
            trans: vec![0.0; m],
            scratch: vec![0.0; m],
            radial: Default::default(),
            blurred: Default::default(),
            radial_allowed: false,
        }
    }

    /// The model (and Jacobian) at `p`: a lone dot that started at [`RADIAL_MIN_RADIUS`] or more in a
    /// blurred photo through its radial profile, anything else on the window's grid. Both
    /// compute the same model, up to how each samples a profile sharper than a pixel.
    fn run(&mut self, win: &Window, p: &[f64], k: usize, blur: &Blur, jacobian: bool) {
        let blurred = blur.radial.light.is_some() || blur.encoded.is_some();
        if !(k == 1 && blurred && self.radial_allowed && self.run_radial(win, p, blur, jacobian)) {
            self.run_grid(win, p, k, blur, jacobian);
        }
    }

    /// A lone dot: its profile on a grid of radii, blurred by the radial kernels, then read at
    /// each pixel's distance by a spline. False, with nothing done, when the window is too
    /// large for the kernels' grid.
    fn run_radial(&mut self, win: &Window, p: &[f64], blur: &Blur, jacobian: bool) -> bool {
        const N: usize = PER_DOT + 1;
        let (x0, y0, a, radius, sigma) = (p[0], p[1], p[2], p[3], p[4]);
        let (h_in, h) = (blur.radial.step_in, blur.radial.step_out);
        let corner = |x: f64, y: f64| (x - x0).hypot(y - y0);
        let (xa, ya) = (win.x0 as f64, win.y0 as f64);
        let (xb, yb) = (xa + win.width as f64 - 1.0, ya + win.height as f64 - 1.0);
        let r_max = corner(xa, ya).max(corner(xb, ya)).max(corner(xa, yb)).max(corner(xb, yb));
        let n_out = (r_max / h).ceil() as usize + 3;
        let n_mid = blur.encoded.as_ref().map_or(n_out, |e| e.radial.inputs_for(n_out));
        let n_in = blur.radial.light.as_ref().map_or(n_mid, |k| k.inputs_for(n_mid));
        if n_mid > radial::MAX_NODES {
            return false;
        }
        // The pigment's transmittance minus 1 at each node, and its derivatives.
        let s = (sigma * sigma + blur.density_sigma * blur.density_sigma).sqrt();
        let v = radius / s;
        let nd = if jacobian { 4 } else { 1 };
        for b in &mut self.radial[..nd] {
            b.clear();
            b.resize(n_in, 0.0);
        }
        for j in 0..n_in {
            let u = j as f64 * h_in / s;
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
        // Blur of the light, then of the encoded values (chain rule at each step).
        for d in 0..nd {
            let out = &mut self.blurred[d];
            out.clear();
            out.resize(n_mid, 0.0);
            match &blur.radial.light {
                Some(k) => k.apply(&self.radial[d][..n_in], out),
                None => out.copy_from_slice(&self.radial[d][..n_mid]),
            }
        }
        if let Some(e) = &blur.encoded {
            let far = crate::colour::linear_to_srgb(e.skin);
            for j in 0..n_mid {
                let l = (e.skin * (1.0 + self.blurred[0][j])).clamp(0.0, 1.0);
                let slope = e.skin * crate::colour::linear_to_srgb_slope(l.max(1e-9));
                self.radial[0][j] = crate::colour::linear_to_srgb(l) - far;
                for d in 1..nd {
                    self.radial[d][j] = slope * self.blurred[d][j];
                }
            }
            for d in 0..nd {
                self.blurred[d].truncate(n_out);
                e.radial.apply(&self.radial[d][..n_mid], &mut self.blurred[d]);
            }
            for j in 0..n_out {
                let enc = (self.blurred[0][j] + far).clamp(0.0, 1.0);
                let slope = crate::colour::srgb_to_linear_slope(enc) / e.skin;
                self.blurred[0][j] = crate::colour::srgb_to_linear(enc) / e.skin - 1.0;
                for d in 1..nd {
                    self.blurred[d][j] *= slope;
                }
            }
        }
        // Each pixel from the profiles at its distance.
        let offset = p[PER_DOT];
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
                    row[q] = scale * at(&self.blurred[d + 1], &wv);
                }
                row[PER_DOT] = 1.0;
            }
        }
        true
    }

    /// Any number of dots on the window's own grid, blurs as separable 2D convolutions.
    fn run_grid(&mut self, win: &Window, p: &[f64], k: usize, blur: &Blur, jacobian: bool) {
        let n = k * PER_DOT + 1;
        let m = win.od.len();
        if jacobian && self.jac.len() != m * n {
            self.jac = vec![0.0; m * n];
        }
        let extra2 = blur.density_sigma * blur.density_sigma;
        // Per dot, what does not depend on the pixel: its blurred sigma and v = R / sigma.
        let sigmas: Vec<(f64, f64)> = (0..k)
            .map(|d| {
                let q = &p[d * PER_DOT..(d + 1) * PER_DOT];
                let sig = (q[4] * q[4] + extra2).sqrt();
                (sig, q[3] / sig)
            })
            .collect();
        // Pigment density S, transmittance T = 10^-S and dT/dtheta at every window pixel.
        for i in 0..m {
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
        if !blur.light_kernel.is_empty() {
            self.blur_with(win, &blur.light_kernel, k * PER_DOT, n, jacobian);
        }
        if let Some(e) = &blur.encoded {
            // To encoded values, blurred there, and back to transmittance (chain rule on the
            // Jacobian at each step).
            for i in 0..m {
                let l = (e.skin * self.trans[i]).clamp(0.0, 1.0);
                if jacobian {
                    let slope = e.skin * crate::colour::linear_to_srgb_slope(l.max(1e-9));
                    self.jac[i * n..i * n + k * PER_DOT].iter_mut().for_each(|j| *j *= slope);
                }
                self.trans[i] = crate::colour::linear_to_srgb(l);
            }
            self.blur_with(win, &e.kernel, k * PER_DOT, n, jacobian);
            for i in 0..m {
                let v = self.trans[i];
                if jacobian {
                    let slope = crate::colour::srgb_to_linear_slope(v) / e.skin;
                    self.jac[i * n..i * n + k * PER_DOT].iter_mut().for_each(|j| *j *= slope);
                }
                self.trans[i] = crate::colour::srgb_to_linear(v) / e.skin;
            }
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

    /// Convolves the transmittance with `kernel`, and the first `free` columns of the Jacobian
    /// (of `n`) when asked.
    fn blur_with(&mut self, win: &Window, kernel: &[f64], free: usize, n: usize, jacobian: bool) {
        let m = win.od.len();
        convolve(&mut self.trans, win.width, win.height, kernel, &mut self.scratch);
        if jacobian {
            let mut col = vec![0.0; m];
            for a in 0..free {
                for (i, c) in col.iter_mut().enumerate() {
                    *c = self.jac[i * n + a];
                }
                convolve(&mut col, win.width, win.height, kernel, &mut self.scratch);
                for (i, &c) in col.iter().enumerate() {
                    self.jac[i * n + a] = c;
                }
            }
        }
    }

    /// Huber cost over the used pixels; refreshes the weights.
    fn cost(&self, win: &Window, huber: f64, weights: &mut [f64]) -> f64 {
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

/// Cost decrease, relative, below which a fit has settled.
const SETTLED: f64 = 1e-5;

/// The cost decrease the Gauss-Newton model predicts for `step`: g.step - step.H.step / 2.
fn predicted_gain(h: &[f64], g: &[f64], step: &[f64]) -> f64 {
    let n = g.len();
    let quad: f64 = (0..n).map(|a| step[a] * (0..n).map(|b| h[a * n + b] * step[b]).sum::<f64>()).sum();
    g.iter().zip(step).map(|(g, s)| g * s).sum::<f64>() - 0.5 * quad
}

/// Separable convolution in place with edges clamped.
/// Separable convolution with edge clamping: rows into `tmp`, then columns back into `v`.
/// The clamped edges are handled apart so that the interior loops carry no bounds logic.
fn convolve(v: &mut [f64], w: usize, h: usize, kernel: &[f64], tmp: &mut [f64]) {
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
        q[2] = q[2].clamp(-2.0, 8.0);
        q[3] = q[3].clamp(0.02, b.max_size);
        q[4] = q[4].clamp(0.0, b.max_size);
    }
}

/// Solves `a x = b` (n x n, row-major) by Gaussian elimination with partial pivoting; None
/// when singular.
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
        let mut ev = Evaluation { radial_allowed, ..Evaluation::new(&win, 0) };
        ev.run(&win, &p, dots.len(), blur, false);
        for (i, v) in win.od.iter_mut().enumerate() {
            *v = ev.model[i] + 0.004 * ((((i * 13 + i / size * 7) % 11) as f64) / 11.0 - 0.5);
        }
        win
    }

    fn bounds() -> Bounds {
        Bounds { max_size: 20.0, max_shift: 3.0 }
    }

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
        convolve(&mut t, n, n, &kernel, &mut tmp);
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
            let mut ev = Evaluation::new(win, 6);
            assert!(ev.run_radial(win, &q, blur, false));
            ev.model
        };
        let (up, down) = (at(0.01), at(-0.01));
        up.iter().zip(&down).map(|(u, d)| (u - d) / 0.02).collect()
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
            let (mut grid, mut radial) = (Evaluation::new(&win, 6), Evaluation::new(&win, 6));
            grid.run_grid(&win, &p, 1, &blur, false);
            assert!(radial.run_radial(&win, &p, &blur, true));
            let worst = |m: &[f64]| m.iter().zip(&truth).map(|(a, b)| (a - b).abs()).fold(0.0f64, f64::max);
            let (r, g) = (worst(&radial.model), worst(&grid.model));
            assert!(r < tolerance * peak && r <= g, "{dot:?}: {r} of {peak} (grid {g})");
            for a in 0..6 {
                let numeric = central_difference(&win, &p, a, &blur);
                let norm = (0..441).map(|i| radial.jac[i * 6 + a].abs()).fold(0.0f64, f64::max);
                for (i, numeric) in numeric.into_iter().enumerate() {
                    assert!(
                        (numeric - radial.jac[i * 6 + a]).abs() < 0.02 * norm.max(1e-9),
                        "{dot:?} param {a}: {numeric} vs {} of {norm}",
                        radial.jac[i * 6 + a]
                    );
                }
            }
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
        let (mut grid, mut radial) = (Evaluation::new(&win, 6), Evaluation::new(&win, 6));
        grid.run_grid(&win, &p, 1, &blur, false);
        assert!(radial.run_radial(&win, &p, &blur, true));
        let peak = grid.model.iter().fold(0.0f64, |m, &v| m.max(v));
        assert!(grid.model.iter().zip(&radial.model).all(|(g, r)| (g - r).abs() < 0.1 * peak));
        for a in 0..6 {
            let numeric = central_difference(&win, &p, a, &blur);
            let norm = (0..441).map(|i| radial.jac[i * 6 + a].abs()).fold(0.0f64, f64::max);
            for (i, numeric) in numeric.into_iter().enumerate() {
                assert!(
                    (numeric - radial.jac[i * 6 + a]).abs() < 0.02 * norm.max(1e-9),
                    "param {a}: {numeric} vs {} of {norm}",
                    radial.jac[i * 6 + a]
                );
            }
        }
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
