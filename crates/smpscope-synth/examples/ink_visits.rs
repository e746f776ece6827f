//! Per visit of one series: how the measured ink, spread and colour of truth-paired dots compare
//! with the truth (true scale), to tell measurement bias from tracking error; per pair of
//! visits, where delta b* goes wrong (the dots' colours or the skins that balance them);
//! `DOTS=1` lists each paired dot's colour errors with the true shine over it, `DRY=1` each pair
//! without shine; `Q=QUALITY` (every visit's JPEG), `NOISE=0` and `CLEAN=1` (no distractors)
//! take one source of error away:
//! `cargo run --release -p smpscope-synth --example ink_visits -- SEED [small]`.
use std::collections::HashMap;

use smpscope::colour::delta_e_2000;
use smpscope::track::change::{DotChange, white_balance};
use smpscope::track::{Track, VisitReport};
use smpscope::{Analysis, TrackParams};
use smpscope_synth::evaluate::pair_detections;
use smpscope_synth::evaluate_series::{random_series, run_series, true_identities};
use smpscope_synth::skin::Skin;
use smpscope_synth::{SeriesSpec, SeriesTruth, VisitTruth};

fn quantiles(mut v: Vec<f64>) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    format!("{:.3} [{:.3} {:.3}]", q(0.5), q(0.25), q(0.75))
}

fn main() {
    let seed: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    // `small` as a second argument: the frames of tests/tracking.rs.
    let small = std::env::args().nth(2).is_some_and(|a| a == "small");
    let spec = series_spec(seed, small);
    let (track, analyses, truth) = run_series(&spec, &TrackParams::default());
    println!(
        "seed {seed} {:.0} px/mm skin {} distractors {}",
        spec.base.px_per_mm, spec.base.skin_type, spec.base.distractors
    );
    // Each visit's skin, for the true shine over a dot.
    let skins: Vec<Skin> = (0..truth.visits.len()).map(|v| Skin::new(&spec.visit_spec(v))).collect();
    for (v, vt) in truth.visits.iter().enumerate() {
        if std::env::var_os("DOTS").is_some() {
            print_dots(v, vt, &analyses[v], &skins[v]);
        }
        print_visit(v, vt, &analyses[v]);
    }
    let Ok(track) = track else { return };
    let case = Case { analyses: &analyses, truth: &truth, skins: &skins, ident: true_identities(&truth, &analyses) };
    for (t, r) in track.visits.iter().enumerate().skip(1) {
        let tally = tally_pairs(&case, &track, t, r.baseline);
        print_pairs(t, r, &case, &tally);
    }
}

/// The series of `seed` (`small`: the frames of tests/tracking.rs) with the environment's
/// knobs to tell the sources of colour error apart: Q=quality for every visit, NOISE=0, CLEAN=1
/// (no distractors).
fn series_spec(seed: u64, small: bool) -> SeriesSpec {
    let mut spec = if small { random_series(seed, (16.0, 12.0), 800) } else { random_series(seed, (20.0, 15.0), 1200) };
    if let Some(q) = std::env::var("Q").ok().and_then(|q| q.parse().ok()) {
        spec.shots.iter_mut().for_each(|s| s.jpeg_quality = q);
    }
    if std::env::var("NOISE").is_ok_and(|v| v == "0") {
        (spec.base.noise_gain, spec.base.read_noise) = (0.0, 0.0);
    }
    if std::env::var("CLEAN").is_ok_and(|v| v == "1") {
        spec.base.distractors = false;
    }
    spec
}

/// Each truth-paired dot of visit `v`: its colour errors (CIELAB) with the true shine over it.
fn print_dots(v: usize, vt: &VisitTruth, analysis: &Analysis, skin: &Skin) {
    let all: Vec<usize> = (0..vt.truth.dots.len()).collect();
    for (i, j) in pair_detections(&vt.truth, &analysis.dots, &all) {
        let (t, d) = (&vt.truth.dots[i], &analysis.dots[j]);
        println!(
            "  v{v} shine {:.3} x {:6.1} y {:6.1} db {:+.2} skin db {:+.2} dL {:+.2} true L {:.1} skinL {:.1}",
            skin.shine(t.x, t.y),
            t.x,
            t.y,
            d.lab[2] - t.lab[2],
            d.skin_lab[2] - t.skin_lab[2],
            d.lab[0] - t.lab[0],
            t.lab[0],
            t.skin_lab[0]
        );
    }
}

/// Quantiles over the truth-paired dots of visit `v` of the measured / true ink, the spread
/// error (um), the dot's b* and dE errors and its skin's b* and L* errors.
fn print_visit(v: usize, vt: &VisitTruth, analysis: &Analysis) {
    let all: Vec<usize> = (0..vt.truth.dots.len()).collect();
    let (mut ink, mut amp, mut db, mut de, mut sb, mut sl) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    let k = vt.px_per_mm;
    for (i, j) in pair_detections(&vt.truth, &analysis.dots, &all) {
        let (t, d) = (&vt.truth.dots[i], &analysis.dots[j]);
        ink.push(d.ink_px / (t.ink * k * k));
        amp.push(d.spread_px * 1000.0 / k - t.spread_um);
        db.push(d.lab[2] - t.lab[2]);
        de.push(delta_e_2000(d.lab, t.lab));
        sb.push(d.skin_lab[2] - t.skin_lab[2]);
        sl.push(d.skin_lab[0] - t.skin_lab[0]);
    }
    println!(
        "visit {v} months {:5.1} touch {} n {:4}: ink ratio {}  spread err um {}  db {}  dE {}  skin db {} skin dL {}",
        vt.months,
        vt.touch_up,
        ink.len(),
        quantiles(ink),
        quantiles(amp),
        quantiles(db),
        quantiles(de),
        quantiles(sb),
        quantiles(sl)
    );
}

/// A tracked series with its truth.
struct Case<'a> {
    analyses: &'a [Analysis],
    truth: &'a SeriesTruth,
    /// Each visit's skin, for the true shine over a dot.
    skins: &'a [Skin],
    /// The patient-level identity of each detected dot of each visit.
    ident: Vec<Vec<Option<usize>>>,
}

impl Case<'_> {
    /// Visit `v`'s truth index of each patient-level dot identity.
    fn index(&self, v: usize) -> HashMap<usize, usize> {
        self.truth.visits[v].identity.iter().enumerate().map(|(i, &id)| (id, i)).collect()
    }
}

/// The tracker's pairs of a later visit with its baseline, by what they truly are.
#[derive(Default)]
struct PairTally {
    /// [true-true same id, true-true other id, involving a non-dot]: (count, ink then, ink now), px.
    acc: [(usize, f64, f64); 3],
    /// Per same-dot pair: (true delta b* under the reference light, measured delta b*, balanced
    /// from true colours, measured dots only, measured skins only).
    dbs: Vec<(f64, f64, f64, f64, f64)>,
    /// Per same-dot pair: the measured dot's b* error then and now.
    errs: Vec<(f64, f64)>,
    /// Measured delta b* of the same-dot pairs with no true shine over the dot at either visit.
    dry: Vec<f64>,
}

/// Tallies the tracker's pairs of visit `t` with its baseline `b` (`DRY=1`: prints each pair
/// without shine).
fn tally_pairs(case: &Case, track: &Track, t: usize, b: usize) -> PairTally {
    let mut tally = PairTally::default();
    let (ib, it) = (case.index(b), case.index(t));
    for m in &track.matches {
        let (Some(c), Some(p)) = (m.changes[t].as_ref(), m.dots[b]) else { continue };
        let then = case.analyses[b].dots[p].ink_px;
        let now = c.ink_retained * then;
        let k = match (case.ident[b][p], case.ident[t][c.dot]) {
            (Some(x), Some(y)) if x == y => 0,
            (Some(_), Some(_)) => 1,
            _ => 2,
        };
        tally.acc[k].0 += 1;
        tally.acc[k].1 += then;
        tally.acc[k].2 += now;
        if let (0, Some(x)) = (k, case.ident[b][p]) {
            add_same_dot(&mut tally, case, (b, ib[&x], p), (t, it[&x], c));
        }
    }
    tally
}

/// Adds a pair of the same true dot: at the baseline `b` truth dot `i`, detection `p`; at the
/// visit `t` truth dot `j`, the tracker's change `c`.
fn add_same_dot(
    tally: &mut PairTally,
    case: &Case,
    (b, i, p): (usize, usize, usize),
    (t, j, c): (usize, usize, &DotChange),
) {
    let truth = case.truth;
    let (xt, xb) = (&truth.visits[t].truth.dots[j], &truth.visits[b].truth.dots[i]);
    let (mt, mb) = (&case.analyses[t].dots[c.dot], &case.analyses[b].dots[p]);
    let ideal = white_balance(xt.lab, xt.skin_lab, xb.skin_lab)[2] - xb.lab[2];
    // Measured dots with true skins; true dots with measured skins.
    let dots_only = white_balance(mt.lab, xt.skin_lab, xb.skin_lab)[2] - mb.lab[2];
    let skins_only = white_balance(xt.lab, mt.skin_lab, mb.skin_lab)[2] - xb.lab[2];
    tally.errs.push((mb.lab[2] - xb.lab[2], mt.lab[2] - xt.lab[2]));
    if case.skins[b].shine(xb.x, xb.y) < 0.005 && case.skins[t].shine(xt.x, xt.y) < 0.005 {
        tally.dry.push(c.delta_b);
        if std::env::var_os("DRY").is_some() {
            println!(
                "    dry pair ({:.0},{:.0}) b* then {:+.2} (true {:.2}) now {:+.2} (true {:.2}) skin b* then {:+.2} now {:+.2} measured db {:+.2} true {:+.2}",
                xb.x,
                xb.y,
                mb.lab[2] - xb.lab[2],
                xb.lab[2],
                mt.lab[2] - xt.lab[2],
                xt.lab[2],
                mb.skin_lab[2] - xb.skin_lab[2],
                mt.skin_lab[2] - xt.skin_lab[2],
                c.delta_b,
                truth.visits[t].lab_ref[j][2] - truth.visits[b].lab_ref[i][2]
            );
        }
    }
    tally.dbs.push((
        truth.visits[t].lab_ref[j][2] - truth.visits[b].lab_ref[i][2],
        c.delta_b,
        ideal,
        dots_only,
        skins_only,
    ));
}

/// Prints visit `t`'s pairs against its baseline: delta b* as the tracker, the pairs and the
/// truth see it, then the ink ratio of each kind of pair.
fn print_pairs(t: usize, r: &VisitReport, case: &Case, tally: &PairTally) {
    let b = r.baseline;
    let (truth, (ib, it)) = (case.truth, (case.index(b), case.index(t)));
    let PairTally { acc, dbs, errs, dry } = tally;
    let all = (acc.iter().map(|a| a.1).sum::<f64>(), acc.iter().map(|a| a.2).sum::<f64>());
    let all_true: Vec<f64> = ib
        .iter()
        .filter_map(|(id, &i)| Some(truth.visits[t].lab_ref[*it.get(id)?][2] - truth.visits[b].lab_ref[i][2]))
        .collect();
    println!(
        "  db: tracker {:.2?}; seen pairs true {} measured {} balanced from true colours {} measured dots only {} measured skins only {}; all true dots in both {}",
        r.delta_b,
        quantiles(dbs.iter().map(|d| d.0).collect()),
        quantiles(dbs.iter().map(|d| d.1).collect()),
        quantiles(dbs.iter().map(|d| d.2).collect()),
        quantiles(dbs.iter().map(|d| d.3).collect()),
        quantiles(dbs.iter().map(|d| d.4).collect()),
        quantiles(all_true)
    );
    println!("  pairs without shine: {} measured delta b* {}", dry.len(), quantiles(dry.clone()));
    println!(
        "  pairs' b* error then {} now {}",
        quantiles(errs.iter().map(|d| d.0).collect()),
        quantiles(errs.iter().map(|d| d.1).collect())
    );
    println!(
        "visit {t} vs {b}: tracker ink {:.3?}; same-dot pairs {} ratio {:.3}; wrong pairs {} ratio {:.3}; non-dot pairs {} ratio {:.3}; all {:.3}",
        r.ink_retained,
        acc[0].0,
        acc[0].2 / acc[0].1,
        acc[1].0,
        acc[1].2 / acc[1].1,
        acc[2].0,
        acc[2].2 / acc[2].1,
        all.1 / all.0
    );
}
