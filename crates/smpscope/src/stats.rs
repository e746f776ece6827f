//! The statistics every stage uses, in one home: medians and quantiles (in place, or of an
//! owned list), a weighted median, a finite mean and the Student t quantile.
//!
//! ```
//! use smpscope::stats;
//! assert_eq!(stats::median_of(vec![3.0, 1.0, 2.0]), Some(2.0));
//! assert_eq!(stats::quantile(&mut [1.0, 2.0, 3.0, 4.0, 5.0], 0.25), 2.0);
//! ```

/// Median of a slice (reorders it); the upper middle value of an even count. NaN-free input
/// assumed; empty gives NaN.
pub fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return f32::NAN;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    *m
}

/// Quantile `q` in 0..1 of a slice (reorders it; nearest rank, halves rounded up). NaN-free
/// input assumed; empty gives NaN.
pub fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    let (_, m, _) = v.select_nth_unstable_by(i, f64::total_cmp);
    *m
}

/// [`quantile`] of an owned list; None when it is empty.
pub fn quantile_of(mut v: Vec<f64>, q: f64) -> Option<f64> {
    (!v.is_empty()).then(|| quantile(&mut v, q))
}

/// The nearest-rank median of an owned list ([`quantile_of`] at 0.5); None when it is empty.
pub fn median_of(v: Vec<f64>) -> Option<f64> {
    quantile_of(v, 0.5)
}

/// The median of the finite values of `v`, the mean of the two middle ones for an even count
/// (what a reader expects of a figure shown); None when there are none.
pub fn finite_median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) })
}

/// [`quantile_of`] the finite values of `v`; None when there are none.
pub fn finite_quantile(mut v: Vec<f64>, q: f64) -> Option<f64> {
    v.retain(|x| x.is_finite());
    quantile_of(v, q)
}

/// The mean of the middle half of `v` (the lowest and the highest quarter left out): robust to
/// a few outliers at either end, smoother than the median. NaN-free input assumed; empty gives 0.
///
/// ```
/// assert_eq!(smpscope::stats::middle_half_mean(vec![9.0, 1.0, 2.0, 3.0, 100.0, 2.0, 3.0, 2.0]), 2.5);
/// ```
pub fn middle_half_mean(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let (lo, hi) = (v.len() / 4, v.len() - v.len() / 4);
    v[lo..hi].iter().sum::<f64>() / (hi - lo).max(1) as f64
}

/// The mean of the finite values; NaN when there are none.
pub fn finite_mean(v: impl IntoIterator<Item = f64>) -> f64 {
    let (s, n) = v.into_iter().filter(|x| x.is_finite()).fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { s / n as f64 }
}

/// The median of `(value, weight)` pairs: the value where the weights below and above balance,
/// halfway between two values where they balance exactly (so equal weights give the median).
pub fn weighted_median(mut v: Vec<(f64, f64)>) -> Option<f64> {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = 0.5 * v.iter().map(|x| x.1).sum::<f64>();
    let mut below = 0.0;
    for (i, &(x, w)) in v.iter().enumerate() {
        below += w;
        if (below - half).abs() <= 1e-9 * half {
            return Some(0.5 * (x + v.get(i + 1).map_or(x, |n| n.0)));
        }
        if below > half {
            return Some(x);
        }
    }
    None
}

/// Two-sided 95 % Student t quantile for `df` degrees of freedom: a table to 10, then the
/// Cornish-Fisher expansion about 1.96 (within 0.002 of the exact value).
pub fn t95(df: usize) -> f64 {
    const T: [f64; 10] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];
    const Z: f64 = 1.959964;
    match df {
        0 => f64::INFINITY,
        1..=10 => T[df - 1],
        _ => {
            let v = df as f64;
            Z + (Z.powi(3) + Z) / (4.0 * v) + (5.0 * Z.powi(5) + 16.0 * Z.powi(3) + 3.0 * Z) / (96.0 * v * v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_quantiles() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0, 10.0]), 3.0);
        assert!(median(&mut []).is_nan());
        assert_eq!(median_of(vec![]), None);
        assert_eq!(finite_median(vec![3.0, 1.0, f64::NAN, 2.0, 10.0]), Some(2.5));
        assert_eq!(finite_quantile(vec![1.0, 2.0, 3.0, 4.0, 5.0, f64::INFINITY], 0.0), Some(1.0));
        assert_eq!(finite_mean([1.0, f64::NAN, 3.0]), 2.0);
        assert!(finite_mean([]).is_nan());
    }

    #[test]
    fn weighted_median_balances_the_weights() {
        assert_eq!(weighted_median(vec![(3.0, 1.0), (1.0, 1.0), (2.0, 1.0)]), Some(2.0));
        assert_eq!(weighted_median(vec![(1.0, 1.0), (2.0, 1.0), (4.0, 1.0), (3.0, 1.0)]), Some(2.5));
        assert_eq!(weighted_median(vec![(1.0, 1.0), (2.0, 5.0)]), Some(2.0));
        assert_eq!(weighted_median(vec![]), None);
    }

    #[test]
    fn t95_meets_the_normal_quantile() {
        assert_eq!(t95(1), 12.706);
        assert!((t95(30) - 2.042).abs() < 0.002, "{}", t95(30));
        assert!((t95(100_000) - 1.96).abs() < 0.001);
    }
}
