//! Evaluation of tracking against the exact truth of a synthetic patient series, and the table
//! by condition that the `track-accuracy` command prints and the tests assert on.
//!
//! Each visit is analysed like a clinic would: one nominal scale for every visit (the device
//! profile's), the visits' true scales differing by the camera's pose. The truth of each
//! per-visit figure is computed from the series truth with the tracker's own definitions (the
//! view both visits share, the dots present at both) and the tracker's baselines.

use std::collections::HashMap;

use smpscope::colour::delta_e_2000;
use smpscope::track::VisitReport;
use smpscope::track::change::median_lab;
use smpscope::track::register::{Similarity, inside};
use smpscope::{Analysis, Params, Track, TrackParams, Visit};

use crate::evaluate::pair_detections;
use crate::{SeriesSpec, SeriesTruth, encode, render_series};

mod figures;

pub use figures::{SeriesFigures, series_table};

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
    let at = tracked_visits(track, analyses);
    s.left_out = track.left_out.len();
    let true_t: Vec<Similarity> = truth.visits.iter().map(|v| similarity(v.to_first)).collect();
    score_registration(&mut s, spec, track, truth, &at, &true_t);
    score_matches(&mut s, track, truth, analyses, &at);
    score_visits(&mut s, spec, track, truth, &at, &true_t);
    s.half_life_err = half_life_err(track, truth);
    s
}

/// The series' index of each tracked visit (those that could not be registered are left out).
fn tracked_visits(track: &Track, analyses: &[Analysis]) -> Vec<usize> {
    track
        .visits
        .iter()
        .map(|r| {
            analyses.iter().position(|a| a.image.source == r.source).expect("a tracked visit is one of the series'")
        })
        .collect()
}

/// Registration: per later tracked visit, the RMS distance (um at the nominal scale) between its
/// true dot centres carried by the estimated and by the true transform to the first visit.
fn score_registration(
    s: &mut SeriesScore,
    spec: &SeriesSpec,
    track: &Track,
    truth: &SeriesTruth,
    at: &[usize],
    true_t: &[Similarity],
) {
    let um0 = 1000.0 / spec.base.px_per_mm;
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
}

/// Dot pairs over every two tracked visits: the true pairs (the same true dot detected at both),
/// those the tracker declared between true dots, and of those the correct ones.
fn score_matches(s: &mut SeriesScore, track: &Track, truth: &SeriesTruth, analyses: &[Analysis], at: &[usize]) {
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
}

/// The true change of one later visit against its baseline, under the tracker's definitions:
/// over the dots in the view both visits share.
struct TrueChange {
    /// Dots present at the visit / at the baseline, share.
    density: f64,
    /// Ink of the dots present at both, visit / baseline, share.
    ink: f64,
    /// Median growth of those dots' spread, um.
    spread: f64,
    /// Median colour (CIELAB, reference light) of those dots at the baseline and at the visit.
    colour: Option<([f64; 3], [f64; 3])>,
    /// Median change of those dots' ln(k blue / k red).
    pigment: f64,
}

/// Per later tracked visit: the touch-up flag and the errors of its figures against the truth
/// under the tracker's definitions and baselines.
fn score_visits(
    s: &mut SeriesScore,
    spec: &SeriesSpec,
    track: &Track,
    truth: &SeriesTruth,
    at: &[usize],
    true_t: &[Similarity],
) {
    // Per visit: the index in its truth of each patient-level dot identity.
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
        let change = true_change(truth, &index, &shared, b, t);
        score_amounts(s, r, &change);
        score_pigment(s, r, change.pigment);
        if let Some(colour) = change.colour {
            score_colour(s, r, colour);
        }
    }
}

/// The true change from series visit `b` to `t` over the dot identities `shared` (those in the
/// view both share); `index` maps each visit's identities to its truth's dots.
fn true_change(
    truth: &SeriesTruth,
    index: &[HashMap<usize, usize>],
    shared: &[usize],
    b: usize,
    t: usize,
) -> TrueChange {
    let (nb, nt) = (
        shared.iter().filter(|id| index[b].contains_key(id)).count(),
        shared.iter().filter(|id| index[t].contains_key(id)).count(),
    );
    let both: Vec<(usize, usize)> =
        shared.iter().filter_map(|id| Some((index[b].get(id).copied()?, index[t].get(id).copied()?))).collect();
    let (tb, tt) = (&truth.visits[b], &truth.visits[t]);
    let ink = both.iter().map(|&(_, j)| tt.truth.dots[j].ink).sum::<f64>()
        / both.iter().map(|&(i, _)| tb.truth.dots[i].ink).sum::<f64>();
    let spread = median(both.iter().map(|&(i, j)| tt.truth.dots[j].spread_um - tb.truth.dots[i].spread_um).collect());
    let colour =
        median_lab(both.iter().map(|&(i, _)| tb.lab_ref[i])).zip(median_lab(both.iter().map(|&(_, j)| tt.lab_ref[j])));
    let hue = |k: [f64; 3]| (k[2] / k[0]).ln();
    let pigment = median(both.iter().map(|&(i, j)| hue(tt.truth.dots[j].k) - hue(tb.truth.dots[i].k)).collect());
    TrueChange { density: nt as f64 / nb.max(1) as f64, ink, spread, colour, pigment }
}

/// |estimate - truth|, NaN where there is no estimate.
fn abs_err(est: Option<f64>, truth: f64) -> f64 {
    est.map_or(f64::NAN, |e| (e - truth).abs())
}

/// Errors of the visit's density and ink retained (points of percentage) and spread growth (um).
fn score_amounts(s: &mut SeriesScore, r: &VisitReport, truth: &TrueChange) {
    s.density_err_pts.push(100.0 * abs_err(r.density_retained, truth.density));
    s.ink_err_pts.push(100.0 * abs_err(r.ink_retained, truth.ink));
    s.spread_err_um.push(abs_err(r.spread_growth_um, truth.spread));
}

/// The visit's pigment shift (ln OD blue / OD red) against the true one: its error, interval and
/// sign claims.
fn score_pigment(s: &mut SeriesScore, r: &VisitReport, pigment: f64) {
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
}

/// The visit's colour figures against the true median colours (CIELAB) at the baseline and the
/// visit: dE 2000 and delta b* errors, whether reported, sign, interval and sign claims.
fn score_colour(s: &mut SeriesScore, r: &VisitReport, (lb, lt): ([f64; 3], [f64; 3])) {
    let db = lt[2] - lb[2];
    s.colour_err_de.push(abs_err(r.colour_shift_de, delta_e_2000(lb, lt)));
    s.delta_b_err.push(abs_err(r.delta_b, db));
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

/// |estimated / true - 1| of the half-life (infinite when the tracker gave none), where the
/// truth allows a fit: at least three visits, two after a baseline that are not touch-ups, over
/// at least 12 months.
fn half_life_err(track: &Track, truth: &SeriesTruth) -> Option<f64> {
    let n = truth.visits.len();
    let span = truth.visits.last().map_or(0.0, |v| v.months);
    let fade_visits = truth.visits.iter().skip(1).filter(|v| !v.touch_up).count();
    (n >= 3 && span >= 12.0 && fade_visits >= 2)
        .then(|| track.trend.half_life_months.map_or(f64::INFINITY, |h| (h / truth.half_life_months - 1.0).abs()))
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

/// Smallest true pigment shift (ln OD blue / OD red) whose sign the tracker is asked to claim.
pub const PIGMENT_DETECTABLE: f64 = 0.1;
