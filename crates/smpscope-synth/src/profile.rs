//! The radial pigment profile P(r; R, s): the unit disc of radius R convolved with a normalised
//! 2D Gaussian of sigma s, and a fast lookup table of it for rendering.
//!
//! P(r) = integral_0^R (rho / s^2) exp(-(r^2 + rho^2) / (2 s^2)) I0(r rho / s^2) d rho.
//! We write the integrand as (rho / s^2) exp(-(r - rho)^2 / (2 s^2)) I0e(r rho / s^2), with
//! I0e(x) = exp(-x) I0(x), which never overflows, and integrate it with composite
//! Gauss-Legendre over the window where it is not negligible (|rho - r| < 7 s).
//! Units are whatever the caller uses for r, R and s (the renderer uses pixels, truth uses um).

use std::sync::OnceLock;

/// Below this sigma relative to the radius (or to one unit when R is tiny) the profile is treated
/// as the hard disc: the transition is far narrower than anything that could be sampled.
const HARD_REL: f64 = 1e-4;

/// Half-width of the integration window and of the table's transition band, in sigmas.
/// The Gaussian tail beyond 6.5 sigma is below 1e-9 of the peak.
const WINDOW: f64 = 6.5;

/// Table step in sigmas: with cubic interpolation the error is below 5e-5 of the peak.
const TABLE_STEP: f64 = 1.0 / 6.0;

/// Exponentially scaled modified Bessel function of order 0: exp(-x) I0(x), x >= 0.
/// Abramowitz and Stegun 9.8.1 and 9.8.2 (relative error below 5e-7).
pub fn bessel_i0e(x: f64) -> f64 {
    let x = x.abs();
    if x <= 3.75 {
        let t = (x / 3.75).powi(2);
        let i0 = 1.0
            + t * (3.515_622_9
                + t * (3.089_942_4 + t * (1.206_749_2 + t * (0.265_973_2 + t * (0.036_076_8 + t * 0.004_581_3)))));
        i0 * (-x).exp()
    } else {
        let t = 3.75 / x;
        let p = 0.398_942_28
            + t * (0.013_285_92
                + t * (0.002_253_19
                    + t * (-0.001_575_65
                        + t * (0.009_162_81
                            + t * (-0.020_577_06 + t * (0.026_355_37 + t * (-0.016_476_33 + t * 0.003_923_77)))))));
        p / x.sqrt()
    }
}

/// Gauss-Legendre nodes and weights on [-1, 1] (Newton iteration on the Legendre polynomial).
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    use std::f64::consts::PI;
    (0..n)
        .map(|i| {
            let mut x = (PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut dp = 1.0;
            for _ in 0..100 {
                // Recurrence for P_n(x) and its derivative.
                let (mut p0, mut p1) = (1.0, x);
                for k in 2..=n {
                    let k = k as f64;
                    let p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / dp;
                x -= dx;
                if dx.abs() < 1e-15 {
                    break;
                }
            }
            (x, 2.0 / ((1.0 - x * x) * dp * dp))
        })
        .collect()
}

/// Nodes per panel; panels are at most `PANEL` sigmas wide.
const GL_ORDER: usize = 6;
const PANEL: f64 = 2.0;

fn gl_nodes() -> &'static [(f64, f64)] {
    static NODES: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    NODES.get_or_init(|| gauss_legendre(GL_ORDER))
}

/// The disc-convolved-with-Gaussian profile with disc radius `radius` and Gaussian sigma `sigma`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiscGauss {
    /// Disc radius R (> 0).
    pub radius: f64,
    /// Gaussian sigma s (>= 0; 0 is the hard disc).
    pub sigma: f64,
}

impl DiscGauss {
    /// A profile; negative inputs are clamped to 0.
    pub fn new(radius: f64, sigma: f64) -> Self {
        Self { radius: radius.max(0.0), sigma: sigma.max(0.0) }
    }

    /// Whether the Gaussian is too narrow to matter: the profile is the hard disc.
    pub fn is_hard(&self) -> bool {
        self.sigma <= HARD_REL * self.radius.max(1.0)
    }

    /// P(0) = 1 - exp(-R^2 / (2 s^2)) (1 for the hard disc).
    pub fn peak(&self) -> f64 {
        if self.is_hard() { 1.0 } else { -(-(self.radius * self.radius) / (2.0 * self.sigma * self.sigma)).exp_m1() }
    }

    /// P(r), computed by numerical integration (no table).
    pub fn eval(&self, r: f64) -> f64 {
        let (big_r, s) = (self.radius, self.sigma);
        let r = r.abs();
        if self.is_hard() {
            return if r < big_r {
                1.0
            } else if r == big_r {
                0.5
            } else {
                0.0
            };
        }
        if r == 0.0 {
            return self.peak();
        }
        let lo = (r - WINDOW * s).max(0.0);
        let hi = (r + WINDOW * s).min(big_r);
        if lo >= hi {
            return if r < big_r { 1.0 } else { 0.0 };
        }
        // Composite Gauss-Legendre: panels of at most two sigmas, so each panel sees a smooth,
        // nearly polynomial piece of the Gaussian.
        let panels = ((hi - lo) / (PANEL * s)).ceil().max(1.0) as usize;
        let width = (hi - lo) / panels as f64;
        let inv_s2 = 1.0 / (s * s);
        let mut sum = 0.0;
        for p in 0..panels {
            let mid = lo + (p as f64 + 0.5) * width;
            for &(t, w) in gl_nodes() {
                let rho = mid + 0.5 * width * t;
                let d = r - rho;
                sum += w * rho * (-0.5 * d * d * inv_s2).exp() * bessel_i0e(r * rho * inv_s2);
            }
        }
        sum * 0.5 * width * inv_s2
    }

    /// Radius beyond which P is negligible (below about 1e-9).
    pub fn outer_radius(&self) -> f64 {
        self.radius + WINDOW * self.sigma
    }

    /// Radius below which P is 1 to within about 1e-9 (0 when there is no flat core).
    pub fn inner_radius(&self) -> f64 {
        if self.is_hard() { self.radius } else { (self.radius - WINDOW * self.sigma).max(0.0) }
    }

    /// The r at which P falls to half of P(0), by bisection on the exact profile.
    pub fn half_max_radius(&self) -> f64 {
        if self.is_hard() {
            return self.radius;
        }
        let half = 0.5 * self.peak();
        let (mut lo, mut hi) = (0.0, self.outer_radius());
        for _ in 0..64 {
            let mid = 0.5 * (lo + hi);
            if self.eval(mid) > half { lo = mid } else { hi = mid }
        }
        0.5 * (lo + hi)
    }

    /// Full width at half maximum, 2 x [`half_max_radius`](Self::half_max_radius).
    pub fn fwhm(&self) -> f64 {
        2.0 * self.half_max_radius()
    }

    /// A lookup table of P for fast evaluation.
    pub fn table(&self) -> ProfileTable {
        ProfileTable::new(*self)
    }
}

/// P(r) tabulated at steps of s/6 over the transition band [R - 6.5 s, R + 6.5 s] (P = 1
/// inside it, 0 outside), interpolated with Catmull-Rom cubics: error below 5e-5 of the peak.
#[derive(Clone, Debug)]
pub struct ProfileTable {
    profile: DiscGauss,
    start: f64,
    inv_step: f64,
    /// values[i] = P(start + (i - 1) step): one guard entry before the band and two after.
    values: Vec<f32>,
}

impl ProfileTable {
    fn new(profile: DiscGauss) -> Self {
        if profile.is_hard() {
            return Self { profile, start: 0.0, inv_step: 0.0, values: Vec::new() };
        }
        let start = profile.inner_radius();
        let step = profile.sigma * TABLE_STEP;
        let n = ((profile.outer_radius() - start) / step).ceil() as usize + 1;
        // P is even in r, so the guard entry before r = 0 is P(step).
        let values = (0..n + 3).map(|i| profile.eval(start + (i as f64 - 1.0) * step) as f32).collect();
        Self { profile, start, inv_step: 1.0 / step, values }
    }

    /// The profile this table was built from.
    pub fn profile(&self) -> DiscGauss {
        self.profile
    }

    /// The r at which P falls to half of P(0): bracketed from the table, refined by bisection
    /// on the exact profile (much cheaper than [`DiscGauss::half_max_radius`]).
    pub fn half_max_radius(&self) -> f64 {
        if self.values.is_empty() {
            return self.profile.radius;
        }
        let half = 0.5 * self.profile.peak();
        let step = 1.0 / self.inv_step;
        // values[i] is P at start + (i - 1) step; P falls monotonically with r.
        let i = self.values.iter().skip(1).position(|&v| (v as f64) <= half).unwrap_or(self.values.len() - 2);
        let mut lo = (self.start + (i as f64 - 1.5) * step).max(0.0);
        let mut hi = self.start + (i as f64 + 0.5) * step;
        if self.profile.eval(lo) <= half {
            lo = 0.0;
        }
        for _ in 0..40 {
            let mid = 0.5 * (lo + hi);
            if self.profile.eval(mid) > half { lo = mid } else { hi = mid }
        }
        0.5 * (lo + hi)
    }

    /// P(r) for r >= 0.
    #[inline]
    pub fn get(&self, r: f64) -> f32 {
        if self.values.is_empty() {
            return if r < self.profile.radius { 1.0 } else { 0.0 };
        }
        let u = (r - self.start) * self.inv_step;
        if u < 0.0 {
            return 1.0;
        }
        let i = u as usize;
        if i + 3 >= self.values.len() {
            return 0.0;
        }
        let t = (u - i as f64) as f32;
        let v = &self.values[i..i + 4];
        // Catmull-Rom between v[1] and v[2].
        let a = -0.5 * v[0] + 1.5 * v[1] - 1.5 * v[2] + 0.5 * v[3];
        let b = v[0] - 2.5 * v[1] + 2.0 * v[2] - 0.5 * v[3];
        let c = 0.5 * (v[2] - v[0]);
        ((a * t + b) * t + c) * t + v[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn bessel_matches_reference_values() {
        // exp(-x) I0(x) from the power series in double precision.
        for (x, want) in [
            (0.0, 1.0),
            (1.0, 0.465_759_607_6),
            (3.75, 0.214_457_051_2),
            (10.0, 0.127_833_337_2),
            (30.0, 0.073_145_946_5),
        ] {
            let got = bessel_i0e(x);
            assert!((got - want).abs() < 5e-7 * want, "I0e({x}) = {got}, want {want}");
        }
    }

    #[test]
    fn gauss_legendre_integrates_polynomials() {
        let s: f64 = gl_nodes().iter().map(|&(x, w)| w * x.powi(10)).sum();
        assert!((s - 2.0 / 11.0).abs() < 1e-13, "{s}");
    }

    #[test]
    fn centre_value_is_closed_form() {
        for (r, s) in [(1.0, 0.3), (2.4, 1.0), (1.0, 5.0), (10.0, 0.05)] {
            let p = DiscGauss::new(r, s);
            let want = 1.0 - (-(r * r) / (2.0 * s * s)).exp();
            assert!((p.eval(0.0) - want).abs() < 1e-12);
            // Just off the centre the integral must agree with the closed form too.
            assert!((p.eval(1e-6 * r) - want).abs() < 1e-6, "R={r} s={s}: {} vs {want}", p.eval(1e-6 * r));
        }
    }

    /// 2 pi integral_0^inf r P(r) dr by the trapezoid rule on a fine grid.
    fn plane_integral(p: &DiscGauss, use_table: bool) -> f64 {
        let table = p.table();
        let end = p.outer_radius() + 1.0;
        let n = 200_000;
        let h = end / n as f64;
        (0..=n)
            .map(|i| {
                let r = i as f64 * h;
                let v = if use_table { table.get(r) as f64 } else { p.eval(r) };
                let w = if i == 0 || i == n { 0.5 } else { 1.0 };
                w * r * v
            })
            .sum::<f64>()
            * h
            * 2.0
            * PI
    }

    #[test]
    fn integral_over_the_plane_is_the_disc_area() {
        for (r, s) in [(3.0, 0.2), (2.0, 1.0), (1.0, 3.0), (6.0, 0.01), (0.3, 0.25)] {
            let p = DiscGauss::new(r, s);
            let want = PI * r * r;
            let exact = plane_integral(&p, false);
            assert!((exact / want - 1.0).abs() < 1e-5, "R={r} s={s}: {exact} vs {want}");
            let tab = plane_integral(&p, true);
            assert!((tab / want - 1.0).abs() < 1e-4, "table R={r} s={s}: {tab} vs {want}");
        }
    }

    #[test]
    fn small_sigma_tends_to_the_disc() {
        let p = DiscGauss::new(2.0, 1e-3);
        // The Bessel approximation bounds the accuracy at about 5e-7.
        assert!((p.eval(1.9) - 1.0).abs() < 1e-6);
        assert!(p.eval(2.1) < 1e-9);
        assert!((p.eval(2.0) - 0.5).abs() < 1e-3, "{}", p.eval(2.0));
        assert!((p.fwhm() - 4.0).abs() < 1e-3);
        let hard = DiscGauss::new(2.0, 0.0);
        assert!(hard.is_hard() && hard.peak() == 1.0 && hard.fwhm() == 4.0);
        assert_eq!(hard.table().get(1.99), 1.0);
        assert_eq!(hard.table().get(2.01), 0.0);
    }

    #[test]
    fn wide_sigma_tends_to_a_gaussian() {
        // R << s: P(r) ~ (R^2 / 2 s^2) exp(-r^2 / 2 s^2), FWHM ~ 2.3548 s.
        let p = DiscGauss::new(0.05, 2.0);
        let a = 0.05f64.powi(2) / 8.0;
        for r in [0.0, 1.0, 3.0] {
            let want = a * (-(r * r) / 8.0f64).exp();
            assert!((p.eval(r) / want - 1.0).abs() < 2e-3, "r={r}");
        }
        assert!((p.fwhm() / (2.0 * (2.0 * 2f64.ln()).sqrt() * 2.0) - 1.0).abs() < 2e-3);
    }

    /// Reference integral by a fine composite Simpson rule over the whole disc.
    fn simpson_reference(p: &DiscGauss, r: f64) -> f64 {
        let (big_r, s) = (p.radius, p.sigma);
        let n = 20_000;
        let h = big_r / n as f64;
        let f = |rho: f64| rho / (s * s) * (-(r - rho).powi(2) / (2.0 * s * s)).exp() * bessel_i0e(r * rho / (s * s));
        (0..=n)
            .map(|i| {
                let w = if i == 0 || i == n {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                w * f(i as f64 * h)
            })
            .sum::<f64>()
            * h
            / 3.0
    }

    #[test]
    fn quadrature_matches_fine_simpson() {
        for (big_r, s) in [(3.0, 0.2), (2.0, 1.0), (1.0, 3.0), (8.0, 0.4)] {
            let p = DiscGauss::new(big_r, s);
            for r in [0.3, 1.0, (big_r - s).abs(), big_r, big_r + 0.5 * s, big_r + 2.0 * s] {
                let (a, b) = (p.eval(r), simpson_reference(&p, r));
                assert!((a - b).abs() < 1e-6, "R={big_r} s={s} r={r}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn table_half_max_matches_bisection() {
        for (big_r, s) in [(3.0, 0.2), (2.0, 1.0), (1.0, 3.0), (8.0, 0.4), (0.05, 2.0)] {
            let p = DiscGauss::new(big_r, s);
            let (a, b) = (p.table().half_max_radius(), p.half_max_radius());
            assert!((a - b).abs() < 1e-9 * (1.0 + b), "R={big_r} s={s}: {a} vs {b}");
        }
    }

    #[test]
    fn table_matches_exact_profile() {
        let p = DiscGauss::new(4.0, 0.8);
        let t = p.table();
        for i in 0..200 {
            let r = i as f64 * 0.05;
            assert!((t.get(r) as f64 - p.eval(r)).abs() < 5e-5, "r={r}: {} vs {}", t.get(r), p.eval(r));
        }
    }
}
