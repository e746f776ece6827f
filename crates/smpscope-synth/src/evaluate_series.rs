//! Evaluation of tracking against the exact truth of a synthetic patient series, and the table
//! by condition that the `track-accuracy` command prints and the tests assert on.
//!
//! Each visit is analysed like a clinic would: one nominal scale for every visit (the device
//! profile's), the visits' true scales differing by the camera's pose. The truth of each
//! per-visit figure is computed from the series truth with the tracker's own definitions (the
//! view both visits share, the dots present at both) and the tracker's baselines.

use std::collections::{BTreeMap, HashMap};

use smpscope::colour::delta_e_2000;
use smpscope::track::change::median_lab;
use smpscope::track::register::{Similarity, inside};
use smpscope::{Analysis, Params, Track, TrackParams, Visit};

use crate::evaluate::pair_detections;
use crate::{SeriesSpec, SeriesTruth, encode, render_series};

/// Errors of one series' tracking against its truth.
#[derive(Debug, Clone, Default)]
pub struct SeriesScore {
    /// Condition bands this series falls in.
    pub bands: Vec<(&'static str, String)>,
    /// Why tracking refused the series, if it did.
    pub refused: Option<String>,
    /// Visits left out of the tracking (they could not be registered).
    pub left_out: usize,
    /// Per later visit: RMS distance between the estimated and the true registration over the
    /// visit's dots, um.
    pub registration_um: Vec<f64>,
    /// Dot pairs across visits: declared by the tracker, true (both dots detected), both.
    pub pairs_declared: usize,
    pub pairs_true: usize,
    pub pairs_correct: usize,
    /// Per later visit, absolute errors: points of percentage, um, dE.
    pub density_err_pts: Vec<f64>,
    pub ink_err_pts: Vec<f64>,
    pub spread_err_um: Vec<f64>,
    pub colour_err_de: Vec<f64>,
    pub delta_b_err: Vec<f64>,
    /// Whether the sign of delta b* was right, where it was reported and the true shift is at
    /// least 0.5.
    pub delta_b_sign_ok: Vec<bool>,
    /// Per visit with colour: whether the true delta b* lies in the reported 95 % interval;
    /// whether that interval leaves out 0 (the tracker tells the sign); and where it does,
    /// whether that sign is the true one.
    pub delta_b_covered: Vec<bool>,
    pub delta_b_claimed: Vec<bool>,
    pub delta_b_claim_ok: Vec<bool>,
    /// Per later visit: whether its colour figures were reported (they are withheld where the
    /// dots are too small in px for a JPEG's colour).
    pub colour_reported: Vec<bool>,
    /// Per visit with a pigment shift: its absolute error (ln OD blue / OD red); whether its
    /// 95 % interval holds the truth; whether it leaves out 0 (a sign claimed); and where it
    /// does, whether the sign is the true one.
    pub pigment_err: Vec<f64>,
    pub pigment_covered: Vec<bool>,
    pub pigment_claimed: Vec<bool>,
    pub pigment_claim_ok: Vec<bool>,
    /// Per later visit whose true pigment shift is at least [`PIGMENT_DETECTABLE`]: whether a
    /// sign was claimed.
    pub pigment_shift_claimed: Vec<bool>,
    /// |estimated / true - 1| of the half-life, for series of >= 3 visits over >= 12 months with
    /// at least two fade visits (infinite when the tracker gave none).
    pub half_life_err: Option<f64>,
    /// Visits whose touch-up flag was right / all later visits.
    pub touch_up_right: usize,
    pub touch_up_visits: usize,
}

/// The analysis parameters of every visit: the device's nominal scale and blur.
fn params_for(spec: &SeriesSpec) -> Params {
    let b = &spec.base;
    Params {
        px_per_mm: Some(b.px_per_mm),
        camera_blur_um: Some(b.camera_blur_px * 1000.0 / b.px_per_mm),
        ..Default::default()
    }
}

/// A random series whose frame covers `frame_mm` at its own scale, within `max_px`.
pub fn random_series(seed: u64, frame_mm: (f64, f64), max_px: u32) -> SeriesSpec {
    let probe = SeriesSpec::random(seed, 1000, 750).base.px_per_mm;
    let k = (max_px as f64 / (frame_mm.0 * probe)).min(1.0);
    SeriesSpec::random(
        seed,
        ((frame_mm.0 * probe * k).round() as u32).max(64),
        ((frame_mm.1 * probe * k).round() as u32).max(48),
    )
}

/// Renders, encodes, analyses and tracks a series; returns the tracking and the truth.
pub fn run_series(
    spec: &SeriesSpec,
    params: &TrackParams,
) -> (Result<Track, smpscope::Error>, Vec<Analysis>, SeriesTruth) {
    let series = render_series(spec);
    let p = params_for(spec);
    let analyses: Vec<Analysis> = series
        .visits
        .iter()
        .enumerate()
        .map(|(v, vs)| {
            let photo = encode(&vs.scene, &vs.spec);
            smpscope::analyze_bytes(&photo.bytes, &format!("visit-{}.{}", v + 1, photo.extension), &p)
                .expect("synthetic photos are analysable")
        })
        .collect();
    let visits = analyses.iter().map(|a| Visit { analysis: a.clone(), date: None }).collect();
    (smpscope::track(visits, params), analyses, series.truth)
}

fn similarity(t: [f64; 4]) -> Similarity {
    Similarity { a: t[0], b: t[1], tx: t[2], ty: t[3] }
}

fn median(mut v: Vec<f64>) -> f64 {
    smpscope::stats::quantile(&mut v, 0.5)
}

/// The patient-level identity of each detected dot of each visit (None: no true dot there).
pub fn true_identities(truth: &SeriesTruth, analyses: &[Analysis]) -> Vec<Vec<Option<usize>>> {
    truth
        .visits
        .iter()
        .zip(analyses)
        .map(|(vt, a)| {
            let mut out = vec![None; a.dots.len()];
            let all: Vec<usize> = (0..vt.truth.dots.len()).collect();
            for (i, j) in pair_detections(&vt.truth, &a.dots, &all) {
                out[j] = Some(vt.identity[i]);
            }
            out
        })
        .collect()
}

/// Scores a tracking against the series truth.
pub fn score_series(
    spec: &SeriesSpec,
    track: &Result<Track, smpscope::Error>,
    analyses: &[Analysis],
    truth: &SeriesTruth,
) -> SeriesScore {
    let mut s = SeriesScore { bands: series_bands(spec), ..Default::default() };
    let track = match track {
        Ok(t) => t,
        Err(e) => {
            s.refused = Some(e.to_string());
            return s;
        }
    };
    let um0 = 1000.0 / spec.base.px_per_mm;
    let n = truth.visits.len();
    // The series' index of each tracked visit (those that could not be registered are left out).
    let at: Vec<usize> = track
        .visits
        .iter()
        .map(|r| {
            analyses.iter().position(|a| a.image.source == r.source).expect("a tracked visit is one of the series'")
        })
        .collect();
    s.left_out = track.left_out.len();
    let true_t: Vec<Similarity> = truth.visits.iter().map(|v| similarity(v.to_first)).collect();
    // Registration: the visit's true dot centres carried both ways.
    for (v, r) in track.visits.iter().enumerate().skip(1) {
        let est = r.registration.as_ref().map(|r| r.transform).unwrap_or(Similarity::IDENTITY);
        let d2: Vec<f64> = truth.visits[at[v]]
            .truth
            .dots
            .iter()
            .map(|d| {
                let (a, b) = (est.apply([d.x, d.y]), true_t[at[v]].apply([d.x, d.y]));
                (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
            })
            .collect();
        s.registration_um.push(um0 * (d2.iter().sum::<f64>() / d2.len().max(1) as f64).sqrt());
    }
    // Truth identity of each detected dot, per visit.
    let ident = true_identities(truth, analyses);
    for u in 0..at.len() {
        for t in u + 1..at.len() {
            let at_u: HashMap<usize, usize> =
                ident[at[u]].iter().enumerate().filter_map(|(j, id)| Some(((*id)?, j))).collect();
            s.pairs_true += ident[at[t]].iter().filter(|id| id.is_some_and(|id| at_u.contains_key(&id))).count();
            for m in &track.matches {
                if let (Some(a), Some(b)) = (m.dots[u], m.dots[t])
                    && let (Some(x), Some(y)) = (ident[at[u]][a], ident[at[t]][b])
                {
                    s.pairs_declared += 1;
                    s.pairs_correct += (x == y) as usize;
                }
            }
        }
    }
    // Per-visit figures against the truth under the tracker's definitions and baselines.
    let index: Vec<HashMap<usize, usize>> =
        truth.visits.iter().map(|v| v.identity.iter().enumerate().map(|(i, &id)| (id, i)).collect()).collect();
    let margin = |v: usize| spec.base.diameter_um / 1000.0 * truth.visits[v].px_per_mm;
    let frame = (spec.base.width as f64, spec.base.height as f64);
    let in_view = |p: [f64; 2], v: usize| inside(&[p], &true_t[v].inverse(), frame, margin(v)) == 1;
    for (t, r) in track.visits.iter().enumerate().skip(1) {
        // A touch-up at a visit left out shows at the next tracked visit.
        let touched = truth.visits[at[t - 1] + 1..=at[t]].iter().any(|v| v.touch_up);
        let (b, t) = (at[r.baseline], at[t]);
        s.touch_up_visits += 1;
        s.touch_up_right += (r.touch_up == touched) as usize;
        let shared: Vec<usize> = truth
            .dots
            .iter()
            .filter(|d| in_view([d.x, d.y], b) && in_view([d.x, d.y], t))
            .map(|d| d.identity)
            .collect();
        let (nb, nt) = (
            shared.iter().filter(|id| index[b].contains_key(id)).count(),
            shared.iter().filter(|id| index[t].contains_key(id)).count(),
        );
        let both: Vec<(usize, usize)> =
            shared.iter().filter_map(|id| Some((index[b].get(id).copied()?, index[t].get(id).copied()?))).collect();
        let (tb, tt) = (&truth.visits[b], &truth.visits[t]);
        let ink = both.iter().map(|&(_, j)| tt.truth.dots[j].ink).sum::<f64>()
            / both.iter().map(|&(i, _)| tb.truth.dots[i].ink).sum::<f64>();
        let spread =
            median(both.iter().map(|&(i, j)| tt.truth.dots[j].spread_um - tb.truth.dots[i].spread_um).collect());
        let colour = median_lab(both.iter().map(|&(i, _)| tb.lab_ref[i]))
            .zip(median_lab(both.iter().map(|&(_, j)| tt.lab_ref[j])));
        let err = |est: Option<f64>, truth: f64| est.map_or(f64::NAN, |e| (e - truth).abs());
        s.density_err_pts.push(100.0 * err(r.density_retained, nt as f64 / nb.max(1) as f64));
        s.ink_err_pts.push(100.0 * err(r.ink_retained, ink));
        s.spread_err_um.push(err(r.spread_growth_um, spread));
        let hue = |k: [f64; 3]| (k[2] / k[0]).ln();
        let pigment = median(both.iter().map(|&(i, j)| hue(tt.truth.dots[j].k) - hue(tb.truth.dots[i].k)).collect());
        if let (Some(e), Some([lo, hi])) = (r.pigment_shift, r.pigment_shift_interval) {
            s.pigment_err.push((e - pigment).abs());
            s.pigment_covered.push(lo <= pigment && pigment <= hi);
            let claimed = lo > 0.0 || hi < 0.0;
            s.pigment_claimed.push(claimed);
            if claimed {
                // A sign claimed where the pigment did not change is wrong whatever it is.
                s.pigment_claim_ok.push(pigment.abs() >= 0.02 && e.signum() == pigment.signum());
            }
        }
        if pigment.abs() >= PIGMENT_DETECTABLE {
            s.pigment_shift_claimed.push(r.pigment_shift_interval.is_some_and(|[lo, hi]| lo > 0.0 || hi < 0.0));
        }
        if let Some((lb, lt)) = colour {
            let db = lt[2] - lb[2];
            s.colour_err_de.push(err(r.colour_shift_de, delta_e_2000(lb, lt)));
            s.delta_b_err.push(err(r.delta_b, db));
            s.colour_reported.push(r.delta_b.is_some());
            if let Some(e) = r.delta_b.filter(|_| db.abs() >= 0.5) {
                s.delta_b_sign_ok.push(e.signum() == db.signum());
            }
            if let (Some(e), Some([lo, hi])) = (r.delta_b, r.delta_b_interval) {
                s.delta_b_covered.push(lo <= db && db <= hi);
                let claimed = lo > 0.0 || hi < 0.0;
                s.delta_b_claimed.push(claimed);
                if claimed {
                    s.delta_b_claim_ok.push(e.signum() == db.signum());
                }
            }
        }
    }
    // The half-life is judged where the truth allows a fit: at least two visits after a
    // baseline that are not touch-ups, over at least 12 months.
    let span = truth.visits.last().map_or(0.0, |v| v.months);
    let fade_visits = truth.visits.iter().skip(1).filter(|v| !v.touch_up).count();
    if n >= 3 && span >= 12.0 && fade_visits >= 2 {
        s.half_life_err =
            Some(track.trend.half_life_months.map_or(f64::INFINITY, |h| (h / truth.half_life_months - 1.0).abs()));
    }
    s
}

/// The condition bands a series falls in.
pub fn series_bands(spec: &SeriesSpec) -> Vec<(&'static str, String)> {
    let b = &spec.base;
    let span = spec.visit_months.last().copied().unwrap_or(0.0);
    let rot = spec.poses.iter().map(|p| p.rotation_deg.abs()).fold(0.0, f64::max);
    let band = |v: f64, edges: &[f64], names: &[&str]| names[edges.iter().filter(|&&e| v >= e).count()].to_string();
    vec![
        ("skin type", ["I", "II", "III", "IV", "V", "VI"][(b.skin_type.clamp(1, 6) - 1) as usize].to_string()),
        ("scale px/mm", band(b.px_per_mm, &[30.0, 60.0], &["15-30", "30-60", "60-120"])),
        ("dot px", {
            let limit = smpscope::track::MIN_COLOUR_DIAMETER_PX;
            if b.diameter_um / 1000.0 * b.px_per_mm < limit { format!("<{limit}") } else { format!(">={limit}") }
        }),
        ("visits", band(spec.visit_months.len() as f64, &[4.0], &["3", "4-6"])),
        ("span months", band(span, &[12.0, 36.0], &["<12", "12-36", ">=36"])),
        ("max rotation", band(rot, &[8.0], &["<8 deg", "8-15 deg"])),
        ("touch-up", if spec.touch_up.is_some() { "yes".into() } else { "no".into() }),
        ("distractors", if b.distractors { "yes".into() } else { "no".into() }),
        ("shine", if spec.shots.iter().any(|s| !s.highlights.is_empty()) { "yes".into() } else { "no".into() }),
    ]
}

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

/// Smallest true pigment shift (ln OD blue / OD red) whose sign the tracker is asked to claim.
pub const PIGMENT_DETECTABLE: f64 = 0.1;

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
