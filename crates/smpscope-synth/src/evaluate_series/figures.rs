//! Pooled figures of a set of scored series, and the table by condition band that
//! `track-accuracy` prints.

use std::collections::BTreeMap;

use super::{SeriesScore, median};

/// Pooled figures of a set of series.
#[derive(Debug, Clone, Default)]
pub struct SeriesFigures {
    pub series: usize,
    pub refused: usize,
    /// Visits left out of the series tracked.
    pub left_out: usize,
    pub registration_um: f64,
    pub match_precision: f64,
    pub match_recall: f64,
    pub match_f1: f64,
    pub density_err_pts: f64,
    pub ink_err_pts: f64,
    pub spread_err_um: f64,
    pub colour_err_de: f64,
    pub delta_b_err: f64,
    pub delta_b_sign_ok: f64,
    /// Share of visits with colour whose 95 % interval of delta b* holds the truth; that tell
    /// a sign; and of those, with the true sign.
    pub delta_b_covered: f64,
    pub delta_b_claimed: f64,
    pub delta_b_claim_ok: f64,
    /// Share of later visits whose colour figures were reported.
    pub colour_reported: f64,
    /// Pigment shift: mean absolute error; interval coverage; share of visits claiming a sign,
    /// and of those with the right one; share of visits with a detectable true shift that claim
    /// its sign.
    pub pigment_err: f64,
    pub pigment_covered: f64,
    pub pigment_claimed: f64,
    pub pigment_claim_ok: f64,
    pub pigment_shift_claimed: f64,
    /// Median |estimated / true - 1| of the half-life, and the share within 15 %.
    pub half_life_err: f64,
    pub half_life_within_15: f64,
    pub touch_up_right: f64,
}

fn mean<'a>(v: impl Iterator<Item = &'a f64>) -> f64 {
    smpscope::stats::finite_mean(v.copied())
}

impl SeriesFigures {
    /// Pools: pair counts summed, per-visit errors averaged over visits, half-life over series.
    pub fn of(scores: &[&SeriesScore]) -> SeriesFigures {
        let sum = |f: fn(&SeriesScore) -> usize| scores.iter().map(|s| f(s)).sum::<usize>() as f64;
        let pooled = |f: fn(&SeriesScore) -> &Vec<f64>| mean(scores.iter().flat_map(|s| f(s).iter()));
        let (p, r) = (
            sum(|s| s.pairs_correct) / sum(|s| s.pairs_declared).max(1.0),
            sum(|s| s.pairs_correct) / sum(|s| s.pairs_true).max(1.0),
        );
        let share = |v: Vec<bool>| {
            if v.is_empty() { f64::NAN } else { v.iter().filter(|&&b| b).count() as f64 / v.len() as f64 }
        };
        let flat =
            |f: fn(&SeriesScore) -> &Vec<bool>| share(scores.iter().flat_map(|s| f(s).iter().copied()).collect());
        let hl: Vec<f64> = scores.iter().filter_map(|s| s.half_life_err).collect();
        SeriesFigures {
            series: scores.len(),
            refused: scores.iter().filter(|s| s.refused.is_some()).count(),
            left_out: scores.iter().map(|s| s.left_out).sum(),
            registration_um: pooled(|s| &s.registration_um),
            match_precision: p,
            match_recall: r,
            match_f1: if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 },
            density_err_pts: pooled(|s| &s.density_err_pts),
            ink_err_pts: pooled(|s| &s.ink_err_pts),
            spread_err_um: pooled(|s| &s.spread_err_um),
            colour_err_de: pooled(|s| &s.colour_err_de),
            delta_b_err: pooled(|s| &s.delta_b_err),
            delta_b_sign_ok: flat(|s| &s.delta_b_sign_ok),
            delta_b_covered: flat(|s| &s.delta_b_covered),
            delta_b_claimed: flat(|s| &s.delta_b_claimed),
            delta_b_claim_ok: flat(|s| &s.delta_b_claim_ok),
            colour_reported: flat(|s| &s.colour_reported),
            pigment_err: pooled(|s| &s.pigment_err),
            pigment_covered: flat(|s| &s.pigment_covered),
            pigment_claimed: flat(|s| &s.pigment_claimed),
            pigment_claim_ok: flat(|s| &s.pigment_claim_ok),
            pigment_shift_claimed: flat(|s| &s.pigment_shift_claimed),
            half_life_err: median(hl.clone()),
            half_life_within_15: share(hl.iter().map(|&e| e <= 0.15).collect()),
            touch_up_right: sum(|s| s.touch_up_right) / sum(|s| s.touch_up_visits).max(1.0),
        }
    }
}

/// The table: overall and by condition band.
pub fn series_table(scores: &[SeriesScore]) -> String {
    let mut by: BTreeMap<(&str, String), Vec<&SeriesScore>> = BTreeMap::new();
    for s in scores {
        for (c, b) in &s.bands {
            by.entry((c, b.clone())).or_default().push(s);
        }
    }
    let mut out = format!(
        "{:<13} {:<9} {:>6} {:>4} {:>4} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>6} {:>6}\n",
        "condition",
        "band",
        "series",
        "ref",
        "out",
        "reg_um",
        "m_prec",
        "m_rec",
        "m_F1",
        "dens_pt",
        "ink_pt",
        "sprd_um",
        "colour",
        "dE",
        "db",
        "db_sgn",
        "db_cov",
        "claims",
        "clm_ok",
        "pg_err",
        "pg_cov",
        "pg_clm",
        "pg_ok",
        "hl_err",
        "hl15",
        "touch"
    );
    let line = |c: &str, b: &str, f: &SeriesFigures| {
        format!(
            "{:<13} {:<9} {:>6} {:>4} {:>4} {:>6.1} {:>6.3} {:>6.3} {:>6.3} {:>7.2} {:>7.2} {:>7.2} {:>5.0}% {:>6.2} {:>6.2} {:>5.0}% {:>5.0}% {:>5.0}% {:>5.0}% {:>6.3} {:>5.0}% {:>5.0}% {:>5.0}% {:>6.1}% {:>5.0}% {:>5.0}%\n",
            c,
            b,
            f.series,
            f.refused,
            f.left_out,
            f.registration_um,
            f.match_precision,
            f.match_recall,
            f.match_f1,
            f.density_err_pts,
            f.ink_err_pts,
            f.spread_err_um,
            100.0 * f.colour_reported,
            f.colour_err_de,
            f.delta_b_err,
            100.0 * f.delta_b_sign_ok,
            100.0 * f.delta_b_covered,
            100.0 * f.delta_b_claimed,
            100.0 * f.delta_b_claim_ok,
            f.pigment_err,
            100.0 * f.pigment_covered,
            100.0 * f.pigment_shift_claimed,
            100.0 * f.pigment_claim_ok,
            100.0 * f.half_life_err,
            100.0 * f.half_life_within_15,
            100.0 * f.touch_up_right
        )
    };
    out.push_str(&line("overall", "", &SeriesFigures::of(&scores.iter().collect::<Vec<_>>())));
    for ((c, b), v) in by {
        out.push_str(&line(c, &b, &SeriesFigures::of(&v)));
    }
    out
}
