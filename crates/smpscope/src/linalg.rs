//! Shared linear algebra: the one dense solver the fits and the marker's homography use.

/// Solves `a x = b` (`n x n`, row-major; `a` is overwritten) by Gaussian elimination with
/// partial pivoting. None when a pivot's magnitude is `tiny` or less (or NaN), or a solution is
/// not finite: the caller says what counts as singular at its scale.
///
/// ```
/// let mut a = vec![2.0, 1.0, 1.0, 3.0];
/// let x = smpscope::linalg::solve(&mut a, &[3.0, 5.0], 2, 1e-12).unwrap();
/// assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
/// ```
pub fn solve(a: &mut [f64], b: &[f64], n: usize, tiny: f64) -> Option<Vec<f64>> {
    let mut x = b.to_vec();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))?;
        let p = a[piv * n + col];
        if p.is_nan() || p.abs() <= tiny {
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

    #[test]
    fn a_singular_system_has_no_solution() {
        let mut a = vec![1.0, 2.0, 2.0, 4.0];
        assert!(solve(&mut a, &[1.0, 2.0], 2, 1e-12).is_none());
        let mut a = vec![1.0, 0.0, 0.0, f64::NAN];
        assert!(solve(&mut a, &[1.0, 2.0], 2, 1e-12).is_none());
    }

    #[test]
    fn pivoting_solves_a_zero_on_the_diagonal() {
        let mut a = vec![0.0, 1.0, 1.0, 0.0];
        assert_eq!(solve(&mut a, &[2.0, 3.0], 2, 1e-12), Some(vec![3.0, 2.0]));
    }
}
