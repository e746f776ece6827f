//! The radial profile of the dot model: a unit disc of radius R convolved with a normalised
//! 2D Gaussian of sigma s. At distance r from the centre it is the probability that a 2D
//! Gaussian centred r away falls within R: F(u, v) = 1 - Q1(u, v) with u = r/s, v = R/s
//! (Q1 is Marcum's Q function). Tabulated once; its partial derivatives are closed-form.

use std::sync::OnceLock;

const STEP: f64 = 0.05;
const V_MAX: f64 = 30.0;
const U_MAX: f64 = V_MAX + 10.0;
const NV: usize = (V_MAX / STEP) as usize + 1;
const NU: usize = (U_MAX / STEP) as usize + 1;

/// Exponentially scaled modified Bessel function exp(-x) I0(x), x >= 0 (Abramowitz & Stegun
/// 9.8.1-2, relative error < 2e-7).
pub fn i0e(x: f64) -> f64 {
    if x < 3.75 {
        let t = (x / 3.75).powi(2);
        (1.0 + t
            * (3.515_622_9
                + t * (3.089_942_4 + t * (1.206_749_2 + t * (0.265_973_2 + t * (0.036_076_8 + t * 0.004_581_3))))))
            * (-x).exp()
    } else {
        let t = 3.75 / x;
        (0.398_942_28
            + t * (0.013_285_92
                + t * (0.002_253_19
                    + t * (-0.001_575_65
                        + t * (0.009_162_81
                            + t * (-0.020_577_06 + t * (0.026_355_37 + t * (-0.016_476_33 + t * 0.003_923_77))))))))
            / x.sqrt()
    }
}

/// Exponentially scaled modified Bessel function exp(-x) I1(x), x >= 0 (A&S 9.8.3-4).
pub fn i1e(x: f64) -> f64 {
    if x < 3.75 {
        let t = (x / 3.75).powi(2);
        x * (0.5
            + t * (0.878_905_94
                + t * (0.514_988_69 + t * (0.150_849_34 + t * (0.026_587_33 + t * (0.003_015_32 + t * 0.000_324_11))))))
            * (-x).exp()
    } else {
        let t = 3.75 / x;
        (0.398_942_28
            + t * (-0.039_880_24
                + t * (-0.003_620_18
                    + t * (0.001_638_01
                        + t * (-0.010_315_55
                            + t * (0.022_829_67 + t * (-0.028_953_12 + t * (0.017_876_54 - t * 0.004_200_59))))))))
            / x.sqrt()
    }
}

/// F and its two partial derivatives on the (u, v) grid, interleaved, stored by v then u: a
/// dot's v is the same at every pixel of its window while u varies, so that its lookups stay
/// within a few kB of the 5.8 MB table.
fn table() -> &'static [[f32; 3]] {
    static T: OnceLock<Vec<[f32; 3]>> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = vec![[0f32; 3]; NU * NV];
        for iu in 0..NU {
            let u = iu as f64 * STEP;
            // F(u, v) = integral over v of dF/dv (closed-form), by Simpson's rule per cell.
            let mut acc = 0.0;
            for iv in 0..NV {
                let v = iv as f64 * STEP;
                if iv > 0 {
                    let dv = |v: f64| gradient(u, v).1;
                    acc += STEP / 6.0 * (dv(v - STEP) + 4.0 * dv(v - 0.5 * STEP) + dv(v));
                }
                let (fu, fv) = gradient(u, v);
                t[iv * NU + iu] = [acc.min(1.0) as f32, fu as f32, fv as f32];
            }
        }
        t
    })
}

/// Standard normal CDF (via erfc, A&S 7.1.26-quality rational approximation refined).
fn phi(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    // Numerical Recipes erfcc: fractional error < 1.2e-7.
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// F(u, v): the disc-Gaussian profile at u = r/s for v = R/s, in 0..1.
#[inline]
pub fn value(u: f64, v: f64) -> f64 {
    value_and_gradient(u, v).0
}

/// F(u, v) with its partial derivatives (dF/du, dF/dv), interpolated from the table.
#[inline]
pub fn value_and_gradient(u: f64, v: f64) -> (f64, f64, f64) {
    let u = u.max(0.0);
    let v = v.max(0.0);
    if v >= V_MAX - STEP {
        // A disc far wider than its blur: the edge is locally straight.
        let g = (-(v - u) * (v - u) / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        return (phi(v - u), -g, g);
    }
    if u >= U_MAX - STEP {
        return (0.0, 0.0, 0.0);
    }
    let t = table();
    let (fu, fv) = (u / STEP, v / STEP);
    let (iu, iv) = (fu as usize, fv as usize);
    let (du, dv) = ((fu - iu as f64) as f32, (fv - iv as f64) as f32);
    let (a, b, c, d) = (t[iv * NU + iu], t[(iv + 1) * NU + iu], t[iv * NU + iu + 1], t[(iv + 1) * NU + iu + 1]);
    let lerp = |k: usize| ((1.0 - du) * ((1.0 - dv) * a[k] + dv * b[k]) + du * ((1.0 - dv) * c[k] + dv * d[k])) as f64;
    (lerp(0), lerp(1), lerp(2))
}

/// Partial derivatives (dF/du, dF/dv) at (u, v), closed-form.
pub fn gradient(u: f64, v: f64) -> (f64, f64) {
    let u = u.max(0.0);
    let v = v.max(0.0);
    let e = v * (-(u - v) * (u - v) / 2.0).exp();
    (-e * i1e(u * v), e * i0e(u * v))
}

/// Value at the centre, F(0, v) = 1 - exp(-v^2 / 2).
pub fn centre(v: f64) -> f64 {
    1.0 - (-v * v / 2.0).exp()
}

/// Full width at half maximum of the profile of a disc of radius `radius` blurred by `sigma`
/// (same length unit as the inputs).
pub fn fwhm(radius: f64, sigma: f64) -> f64 {
    if sigma <= 1e-9 * radius.max(1e-12) {
        return 2.0 * radius;
    }
    let v = radius / sigma;
    let half = 0.5 * centre(v);
    let (mut lo, mut hi) = (0.0, v + 10.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if value(mid, v) > half { lo = mid } else { hi = mid }
    }
    2.0 * sigma * 0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_and_limits() {
        for v in [0.3, 1.0, 2.5, 7.0, 20.0] {
            assert!((value(0.0, v) - centre(v)).abs() < 2e-4, "v={v}");
        }
        // A sharp disc: 1 inside, 1/2 on the edge, 0 outside.
        assert!((value(5.0, 29.0) - 1.0).abs() < 1e-4);
        assert!((value(20.0, 20.0) - 0.5).abs() < 0.02);
        // Small disc: a Gaussian of area pi v^2 (per unit s): F ~ v^2/2 exp(-u^2/2).
        let v: f64 = 0.2;
        assert!((value(1.0, v) - v * v / 2.0 * (-0.5f64).exp()).abs() < 1e-3);
    }

    #[test]
    fn integral_is_the_disc_area() {
        // Integral over the plane of F(r/s, R/s) is pi R^2 (s = 1 here).
        for v in [0.5, 2.0, 6.0] {
            let dr = 0.01;
            let area: f64 = (0..5000)
                .map(|i| (i as f64 + 0.5) * dr)
                .map(|r| 2.0 * std::f64::consts::PI * r * value(r, v) * dr)
                .sum();
            let want = std::f64::consts::PI * v * v;
            assert!((area / want - 1.0).abs() < 2e-3, "v={v}: {area} vs {want}");
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for (u, v) in [(0.7, 1.3), (2.0, 2.5), (4.0, 3.0), (1.0, 8.0)] {
            let (gu, gv) = gradient(u, v);
            let h = 1e-3;
            let nu = (value(u + h, v) - value(u - h, v)) / (2.0 * h);
            let nv = (value(u, v + h) - value(u, v - h)) / (2.0 * h);
            assert!((gu - nu).abs() < 5e-3 && (gv - nv).abs() < 5e-3, "({u},{v}): {gu} {nu} {gv} {nv}");
        }
    }

    #[test]
    fn fwhm_of_limits() {
        assert!((fwhm(5.0, 0.0) - 10.0).abs() < 1e-9);
        // Tiny disc: a Gaussian, FWHM = 2.3548 sigma.
        assert!((fwhm(0.05, 1.0) - 2.3548).abs() < 0.01);
    }
}
