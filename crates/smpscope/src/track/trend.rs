//! The fade trend: ink_retained over time, and when a touch-up will be due.
//!
//! Model: exponential fade, ink_retained(t) = 2^(-t / half_life), t in months since the
//! baseline (the first visit, or the last touch-up). Pigment cleared by the skin's macrophages
//! at a rate proportional to what is left gives exactly this; it has one parameter, so it can be
//! fitted from as few as two later visits. Every segment between touch-ups shares the patient's
//! fade rate, so all segments are fitted together: log2 ink_retained = level - t / half_life,
//! least squares with one level per segment, its baseline counted as a visit reading 1. The
//! baseline's ink is measured like any visit's and divides every later one: a fit forced
//! through 1 there would take the baseline's error for fade, where a free level weighs it as
//! one visit among the rest (docs/decisions.md#free-segment-levels).
//! The touch-up threshold is relative to the baseline's true ink, which the level estimates, so
//! the forecast depends on the rate alone. The interval combines the scatter about the fit with
//! a floor of the measurement's own error (3 points of ink_retained), so that visits that
//! happen to agree still get an honest interval.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Phase 5: the trend of a series from its visits' reports (in date order) and the baseline
/// after the last visit. Each baseline is a visit of its own segment reading 1.
pub(super) fn of_visits(visits: &[super::VisitReport], baseline: usize, threshold: f64) -> Trend {
    let points: Vec<(usize, f64, f64)> = (visits.iter().enumerate())
        .filter_map(|(t, r)| {
            if t == 0 || r.touch_up {
                Some((t, 0.0, 1.0))
            } else {
                r.ink_retained.map(|ink| (r.baseline, r.months - visits[r.baseline].months, ink))
            }
        })
        .collect();
    fit(&points, (visits[baseline].date, baseline), threshold)
}

/// The fitted fade and the forecast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Always "exponential" in this schema.
    pub model: String,
    /// ink_retained below which a touch-up is due.
    pub threshold: f64,
    /// Visits (excluding baselines) the fit used.
    pub fitted_visits: usize,
    /// Months for the ink to halve; None when no fade is measurable or too few visits.
    pub half_life_months: Option<f64>,
    /// 95 % interval of the half-life, months; the upper end None when the fade could be zero.
    pub half_life_interval_months: [Option<f64>; 2],
    /// Share of the ink lost per year, 0..1.
    pub fade_per_year: Option<f64>,
    /// The baseline the forecast runs from (visit index).
    pub baseline_visit: usize,
    /// Predicted date when ink_retained falls below the threshold.
    pub touch_up_due: Option<NaiveDate>,
    /// 95 % interval of that date; the late end None when it may never be reached.
    pub touch_up_due_interval: [Option<NaiveDate>; 2],
    /// Why there is no forecast, when there is none.
    pub note: Option<String>,
}

/// Error of one visit's ink_retained, as a share, that no scatter can undercut.
const MEASUREMENT_ERROR: f64 = 0.03;
/// Average month, days.
pub const MONTH_DAYS: f64 = 365.2425 / 12.0;

fn add_months(d: NaiveDate, months: f64) -> Option<NaiveDate> {
    if !months.is_finite() || months.abs() > 12.0 * 200.0 {
        return None;
    }
    d.checked_add_signed(chrono::TimeDelta::days((months * MONTH_DAYS).round() as i64))
}

/// Fits the fade from `points` (baseline visit, months since it, ink_retained; each baseline
/// itself as (b, 0, 1)) and forecasts from `baseline` (its date and index) when ink_retained
/// crosses `threshold`.
pub fn fit(points: &[(usize, f64, f64)], baseline: (NaiveDate, usize), threshold: f64) -> Trend {
    let mut trend = Trend {
        model: "exponential".into(),
        threshold,
        fitted_visits: 0,
        half_life_months: None,
        half_life_interval_months: [None, None],
        fade_per_year: None,
        baseline_visit: baseline.1,
        touch_up_due: None,
        touch_up_due_interval: [None, None],
        note: None,
    };
    // Segments with a baseline and at least one later visit: (months, log2 ink_retained) each.
    let mut segments: std::collections::BTreeMap<usize, Vec<(f64, f64)>> = std::collections::BTreeMap::new();
    for &(b, t, r) in points.iter().filter(|&&(_, t, r)| t >= 0.0 && t.is_finite() && r > 0.0 && r.is_finite()) {
        segments.entry(b).or_default().push((t, r.log2()));
    }
    segments.retain(|_, s| s.iter().any(|p| p.0 == 0.0) && s.iter().any(|p| p.0 > 0.0));
    let later = segments.values().flatten().filter(|p| p.0 > 0.0).count();
    trend.fitted_visits = later;
    if later < 2 {
        trend.note = Some(format!(
            "too few visits to forecast: {later} after a baseline, at least 2 needed (3 visits without a touch-up)"
        ));
        return trend;
    }
    // rate = fade in log2 units per month: log2 r = level - rate t, within each segment.
    let centred: Vec<(f64, f64)> = segments
        .values()
        .flat_map(|s| {
            let n = s.len() as f64;
            let (mt, my) = (s.iter().map(|p| p.0).sum::<f64>() / n, s.iter().map(|p| p.1).sum::<f64>() / n);
            s.iter().map(move |p| (p.0 - mt, p.1 - my))
        })
        .collect();
    let stt: f64 = centred.iter().map(|p| p.0 * p.0).sum();
    let rate = -centred.iter().map(|p| p.0 * p.1).sum::<f64>() / stt;
    let df = centred.len() - segments.len() - 1;
    let scatter = centred.iter().map(|p| (p.1 + rate * p.0).powi(2)).sum::<f64>() / df as f64;
    let floor = (MEASUREMENT_ERROR / std::f64::consts::LN_2).powi(2);
    let q = if scatter > floor { crate::stats::t95(df) } else { 1.96 };
    let se = (scatter.max(floor) / stt).sqrt();
    let (fast, slow) = (rate + q * se, rate - q * se);
    trend.fade_per_year = Some(1.0 - (-rate * 12.0).exp2());
    if rate <= 0.0 {
        trend.note = Some("no measurable fade: ink_retained does not fall over the visits".into());
        return trend;
    }
    trend.half_life_months = Some(1.0 / rate);
    trend.half_life_interval_months = [Some(1.0 / fast), (slow > 0.0).then(|| 1.0 / slow)];
    // Months from the baseline until 2^(-rate t) = threshold.
    let to_threshold = |r: f64| -threshold.log2() / r;
    trend.touch_up_due = add_months(baseline.0, to_threshold(rate));
    trend.touch_up_due_interval = [
        add_months(baseline.0, to_threshold(fast)),
        if slow > 0.0 { add_months(baseline.0, to_threshold(slow)) } else { None },
    ];
    trend
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_half_life_and_forecasts_its_crossing() {
        let h: f64 = 30.0;
        let points: Vec<(usize, f64, f64)> = [0.0, 6.0, 14.0, 25.0].iter().map(|&t| (0, t, (-t / h).exp2())).collect();
        let d0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let t = fit(&points, (d0, 0), 0.5);
        assert!((t.half_life_months.unwrap() - h).abs() < 1e-9);
        // Half the ink is gone after one half-life.
        let due = t.touch_up_due.unwrap();
        assert!(((due - d0).num_days() as f64 - h * MONTH_DAYS).abs() <= 1.0);
        let [lo, hi] = t.half_life_interval_months;
        assert!(lo.unwrap() < h && hi.unwrap() > h);
    }

    #[test]
    fn too_few_visits_or_no_fade_give_no_forecast() {
        let d0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let one = fit(&[(0, 0.0, 1.0), (0, 12.0, 0.8)], (d0, 0), 0.5);
        assert!(one.touch_up_due.is_none() && one.note.unwrap().contains("too few"));
        // A touch-up at visit 2: one later visit in each segment, which together give a rate.
        let split = fit(&[(0, 0.0, 1.0), (0, 12.0, 0.8), (2, 0.0, 1.0), (2, 10.0, 0.85)], (d0, 2), 0.5);
        assert_eq!(split.fitted_visits, 2);
        assert!(split.half_life_months.is_some());
        let flat = fit(&[(0, 0.0, 1.0), (0, 6.0, 1.01), (0, 12.0, 1.0)], (d0, 0), 0.5);
        assert!(flat.half_life_months.is_none() && flat.touch_up_due.is_none());
    }
}
