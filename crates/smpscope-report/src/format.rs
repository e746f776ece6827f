//! Numbers in words for the report: fixed decimals, percentages and a dash for what is not
//! measured (null in the documents), so that no figure is shown that a document does not hold.

/// What is shown where a document holds null.
pub const NOT_MEASURED: &str = "–";

/// `v` with `decimals` decimals, or a dash.
pub fn num(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite()).map_or_else(|| NOT_MEASURED.into(), |x| format!("{x:.decimals$}"))
}

/// `v` (a share, 1 = all) as a whole percentage, or a dash.
pub fn percent(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map_or_else(|| NOT_MEASURED.into(), |x| format!("{:.0} %", 100.0 * x))
}

/// `v` with a sign and `decimals` decimals, or a dash.
pub fn signed(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite()).map_or_else(|| NOT_MEASURED.into(), |x| format!("{x:+.decimals$}"))
}

/// A median with its 10th-90th percentile range and unit, e.g. `120 um (100-140)`.
pub fn spread(d: Option<&smpscope::summary::Distribution>, decimals: usize, unit: &str) -> String {
    match d {
        Some(d) => format!("{:.decimals$} {unit} ({:.decimals$}–{:.decimals$})", d.median, d.p10, d.p90),
        None => NOT_MEASURED.into(),
    }
}

pub use smpscope::stats::{finite_median as median, finite_quantile as quantile};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_is_a_dash_and_numbers_are_rounded() {
        assert_eq!(num(None, 1), NOT_MEASURED);
        assert_eq!(num(Some(f64::NAN), 1), NOT_MEASURED);
        assert_eq!(num(Some(2.345), 1), "2.3");
        assert_eq!(percent(Some(0.724)), "72 %");
        assert_eq!(signed(Some(-0.51), 1), "-0.5");
        assert_eq!(median(vec![3.0, 1.0, 2.0, 10.0]), Some(2.5));
        assert_eq!(quantile(vec![1.0, 2.0, 3.0, 4.0, 5.0], 0.0), Some(1.0));
    }
}
