//! Per visit of one series: how the measured ink, spread and colour of truth-paired dots compare
//! with the truth (true scale), to tell measurement bias from tracking error:
//! `cargo run --release -p smpscope-synth --example ink_visits -- SEED [small]`.
use smpscope::TrackParams;
use smpscope::colour::delta_e_2000;
use smpscope_synth::evaluate::pair_detections;
use smpscope_synth::evaluate_series::{random_series, run_series, true_identities};

fn quantiles(mut v: Vec<f64>) -> String {
    if v.is_empty() { return "-".into(); }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    format!("{:.3} [{:.3} {:.3}]", q(0.5), q(0.25), q(0.75))
}

fn main() {
    let seed: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    // `small` as a second argument: the frames of tests/tracking.rs.
    let small = std::env::args().nth(2).is_some_and(|a| a == "small");
    let spec = if small { random_series(seed, (16.0, 12.0), 800) } else { random_series(seed, (20.0, 15.0), 1200) };
    let (track, analyses, truth) = run_series(&spec, &TrackParams::default());
    println!("seed {seed} {:.0} px/mm skin {} distractors {}", spec.base.px_per_mm, spec.base.skin_type, spec.base.distractors);
    for (v, vt) in truth.visits.iter().enumerate() {
        let all: Vec<usize> = (0..vt.truth.dots.len()).collect();
        let (mut ink, mut amp, mut db, mut de) = (vec![], vec![], vec![], vec![]);
        let k = vt.px_per_mm;
        for (i, j) in pair_detections(&vt.truth, &analyses[v].dots, &all) {
            let (t, d) = (&vt.truth.dots[i], &analyses[v].dots[j]);
            ink.push(d.ink_px / (t.ink * k * k));
            amp.push(d.spread_px * 1000.0 / k - t.spread_um);
            db.push(d.lab[2] - t.lab[2]);
            de.push(delta_e_2000(d.lab, t.lab));
        }
        println!("visit {v} months {:5.1} touch {} n {:4}: ink ratio {}  spread err um {}  db {}  dE {}", vt.months, vt.touch_up, ink.len(), quantiles(ink), quantiles(amp), quantiles(db), quantiles(de));
    }
    let Ok(track) = track else { return };
    let ident = true_identities(&truth, &analyses);
    for (t, r) in track.visits.iter().enumerate().skip(1) {
        let b = r.baseline;
        // [true-true same id, true-true other id, involving a non-dot]: (count, ink then, ink now)
        let mut acc = [(0usize, 0.0, 0.0); 3];
        for m in &track.matches {
            let (Some(c), Some(p)) = (m.changes[t].as_ref(), m.dots[b]) else { continue };
            let then = analyses[b].dots[p].ink_px;
            let now = c.ink_retained * then;
            let k = match (ident[b][p], ident[t][c.dot]) { (Some(x), Some(y)) if x == y => 0, (Some(_), Some(_)) => 1, _ => 2 };
            acc[k].0 += 1; acc[k].1 += then; acc[k].2 += now;
        }
        let all = (acc.iter().map(|a| a.1).sum::<f64>(), acc.iter().map(|a| a.2).sum::<f64>());
        println!("visit {t} vs {b}: tracker ink {:.3?}; same-dot pairs {} ratio {:.3}; wrong pairs {} ratio {:.3}; non-dot pairs {} ratio {:.3}; all {:.3}", r.ink_retained, acc[0].0, acc[0].2 / acc[0].1, acc[1].0, acc[1].2 / acc[1].1, acc[2].0, acc[2].2 / acc[2].1, all.1 / all.0);
    }
}
