//! Per visit of one series: how the measured ink, spread and colour of truth-paired dots compare
//! with the truth (true scale), to tell measurement bias from tracking error; per pair of
//! visits, where delta b* goes wrong (the dots' colours or the skins that balance them);
//! `DOTS=1` lists each paired dot's colour errors with the true shine over it, `DRY=1` each pair
//! without shine; `Q=QUALITY` (every visit's JPEG), `NOISE=0` and `CLEAN=1` (no distractors)
//! take one source of error away:
//! `cargo run --release -p smpscope-synth --example ink_visits -- SEED [small]`.
use smpscope::TrackParams;
use smpscope::colour::delta_e_2000;
use smpscope::track::change::white_balance;
use smpscope_synth::evaluate::pair_detections;
use smpscope_synth::evaluate_series::{random_series, run_series, true_identities};
use smpscope_synth::skin::Skin;

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
    let mut spec = if small { random_series(seed, (16.0, 12.0), 800) } else { random_series(seed, (20.0, 15.0), 1200) };
    // Knobs to tell the sources of colour error apart: Q=quality for every visit, NOISE=0, CLEAN=1
    // (no distractors).
    if let Some(q) = std::env::var("Q").ok().and_then(|q| q.parse().ok()) {
        spec.shots.iter_mut().for_each(|s| s.jpeg_quality = q);
    }
    if std::env::var("NOISE").is_ok_and(|v| v == "0") {
        (spec.base.noise_gain, spec.base.read_noise) = (0.0, 0.0);
    }
    if std::env::var("CLEAN").is_ok_and(|v| v == "1") {
        spec.base.distractors = false;
    }
    let (track, analyses, truth) = run_series(&spec, &TrackParams::default());
    println!(
        "seed {seed} {:.0} px/mm skin {} distractors {}",
        spec.base.px_per_mm, spec.base.skin_type, spec.base.distractors
    );
    // Each visit's skin, for the true shine over a dot.
    let skins: Vec<Skin> = (0..truth.visits.len()).map(|v| Skin::new(&spec.visit_spec(v))).collect();
    for (v, vt) in truth.visits.iter().enumerate() {
        let all: Vec<usize> = (0..vt.truth.dots.len()).collect();
        let (mut ink, mut amp, mut db, mut de, mut sb, mut sl) = (vec![], vec![], vec![], vec![], vec![], vec![]);
        let k = vt.px_per_mm;
        for (i, j) in pair_detections(&vt.truth, &analyses[v].dots, &all) {
            let (t, d) = (&vt.truth.dots[i], &analyses[v].dots[j]);
            ink.push(d.ink_px / (t.ink * k * k));
            amp.push(d.spread_px * 1000.0 / k - t.spread_um);
            db.push(d.lab[2] - t.lab[2]);
            de.push(delta_e_2000(d.lab, t.lab));
            sb.push(d.skin_lab[2] - t.skin_lab[2]);
            sl.push(d.skin_lab[0] - t.skin_lab[0]);
        }
        if std::env::var_os("DOTS").is_some() {
            let skin = &skins[v];
            for (i, j) in pair_detections(&vt.truth, &analyses[v].dots, &all) {
                let (t, d) = (&vt.truth.dots[i], &analyses[v].dots[j]);
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
    let Ok(track) = track else { return };
    let ident = true_identities(&truth, &analyses);
    for (t, r) in track.visits.iter().enumerate().skip(1) {
        let b = r.baseline;
        // [true-true same id, true-true other id, involving a non-dot]: (count, ink then, ink now)
        let mut acc = [(0usize, 0.0, 0.0); 3];
        let index = |v: usize| -> std::collections::HashMap<usize, usize> {
            truth.visits[v].identity.iter().enumerate().map(|(i, &id)| (id, i)).collect()
        };
        let (ib, it) = (index(b), index(t));
        // Per same-dot pair: (true delta b* under the reference light, measured delta b*).
        let mut dbs: Vec<(f64, f64, f64, f64, f64)> = vec![];
        let mut errs: Vec<(f64, f64)> = vec![];
        // Measured delta b* of the pairs with no true shine over the dot at either visit.
        let mut dry: Vec<f64> = vec![];
        for m in &track.matches {
            let (Some(c), Some(p)) = (m.changes[t].as_ref(), m.dots[b]) else { continue };
            let then = analyses[b].dots[p].ink_px;
            let now = c.ink_retained * then;
            let k = match (ident[b][p], ident[t][c.dot]) {
                (Some(x), Some(y)) if x == y => 0,
                (Some(_), Some(_)) => 1,
                _ => 2,
            };
            acc[k].0 += 1;
            acc[k].1 += then;
            acc[k].2 += now;
            if let (0, Some(x)) = (k, ident[b][p]) {
                let (i, j) = (ib[&x], it[&x]);
                let (xt, xb) = (&truth.visits[t].truth.dots[j], &truth.visits[b].truth.dots[i]);
                let (mt, mb) = (&analyses[t].dots[c.dot], &analyses[b].dots[p]);
                let ideal = white_balance(xt.lab, xt.skin_lab, xb.skin_lab)[2] - xb.lab[2];
                // Measured dots with true skins; true dots with measured skins.
                let dots_only = white_balance(mt.lab, xt.skin_lab, xb.skin_lab)[2] - mb.lab[2];
                let skins_only = white_balance(xt.lab, mt.skin_lab, mb.skin_lab)[2] - xb.lab[2];
                errs.push((mb.lab[2] - xb.lab[2], mt.lab[2] - xt.lab[2]));
                if skins[b].shine(xb.x, xb.y) < 0.005 && skins[t].shine(xt.x, xt.y) < 0.005 {
                    dry.push(c.delta_b);
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
                dbs.push((
                    truth.visits[t].lab_ref[j][2] - truth.visits[b].lab_ref[i][2],
                    c.delta_b,
                    ideal,
                    dots_only,
                    skins_only,
                ));
            }
        }
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
}
