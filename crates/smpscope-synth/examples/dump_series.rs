//! Dumps, for many series, each later visit's tracked pairs with their measurements and truth
//! identities, and the truth figures, as JSON lines (for trying estimators offline):
//! `cargo run --release -p smpscope-synth --example dump_series -- FIRST COUNT > out.jsonl`.
use rayon::prelude::*;
use serde_json::json;
use smpscope::TrackParams;
use smpscope::track::change::median_lab;
use smpscope::track::register::inside;
use smpscope_synth::evaluate_series::{random_series, run_series, series_bands, true_identities};
use std::collections::HashMap;

fn main() {
    let a: Vec<u64> = std::env::args().skip(1).filter_map(|s| s.parse().ok()).collect();
    let (first, count) = (a.first().copied().unwrap_or(2000), a.get(1).copied().unwrap_or(24));
    let lines: Vec<String> = (first..first + count).into_par_iter().flat_map_iter(|seed| {
        let spec = random_series(seed, (20.0, 15.0), 1200);
        let (track, analyses, truth) = if std::env::var_os("SERIES_PNG").is_some() { run_png(&spec) } else { run_series(&spec, &TrackParams::default()) };
        let Ok(track) = track else { return vec![json!({"seed": seed, "refused": true}).to_string()] };
        let ident = true_identities(&truth, &analyses);
        let index: Vec<HashMap<usize, usize>> = truth.visits.iter().map(|v| v.identity.iter().enumerate().map(|(i, &id)| (id, i)).collect()).collect();
        let sim = |t: [f64; 4]| smpscope::track::register::Similarity { a: t[0], b: t[1], tx: t[2], ty: t[3] };
        let frame = (spec.base.width as f64, spec.base.height as f64);
        let margin = |v: usize| spec.base.diameter_um / 1000.0 * truth.visits[v].px_per_mm;
        let in_view = |p: [f64; 2], v: usize| inside(&[p], &sim(truth.visits[v].to_first).inverse(), frame, margin(v)) == 1;
        let mut out = vec![];
        for (t, r) in track.visits.iter().enumerate().skip(1) {
            let b = r.baseline;
            let s = track.visits[t].registration.as_ref().map_or(1.0, |g| g.scale);
            let sb = track.visits[b].registration.as_ref().map_or(1.0, |g| g.scale);
            let mut pairs = vec![];
            for m in &track.matches {
                let (Some(c), Some(p)) = (m.changes[t].as_ref(), m.dots[b]) else { continue };
                let (db, dt) = (&analyses[b].dots[p], &analyses[t].dots[c.dot]);
                pairs.push(json!({"ib": ident[b][p], "it": ident[t][c.dot], "ink_b": db.ink_px * sb * sb, "ink_t": dt.ink_px * s * s,
                    "lab_b": db.lab, "lab_t": c.lab_balanced, "raw_t": dt.lab, "skin_b": db.skin_lab, "skin_t": dt.skin_lab, "score_b": db.score, "score_t": dt.score,
                    "snr_b": db.snr, "snr_t": dt.snr, "d_b": db.diameter_px * sb, "d_t": dt.diameter_px * s, "s_b": db.spread_px * sb, "s_t": dt.spread_px * s, "ecc_b": db.eccentricity, "ecc_t": dt.eccentricity}));
            }
            let shared: Vec<usize> = truth.dots.iter().filter(|d| in_view([d.x, d.y], b) && in_view([d.x, d.y], t)).map(|d| d.identity).collect();
            let both: Vec<(usize, usize)> = shared.iter().filter_map(|id| Some((index[b].get(id).copied()?, index[t].get(id).copied()?))).collect();
            let (tb, tt) = (&truth.visits[b], &truth.visits[t]);
            let ink = both.iter().map(|&(_, j)| tt.truth.dots[j].ink).sum::<f64>() / both.iter().map(|&(i, _)| tb.truth.dots[i].ink).sum::<f64>();
            let lb = median_lab(both.iter().map(|&(i, _)| tb.lab_ref[i]));
            let lt = median_lab(both.iter().map(|&(_, j)| tt.lab_ref[j]));
            out.push(json!({"seed": seed, "bands": series_bands(&spec), "t": t, "b": b, "ink_true": ink, "lab_b_true": lb, "lab_t_true": lt,
                "ink_est": r.ink_retained, "touch": r.touch_up, "months": r.months, "hl_true": truth.half_life_months, "touch_true": truth.visits[t].touch_up, "de_est": r.colour_shift_de, "db_est": r.delta_b, "pairs": pairs}).to_string());
        }
        out
    }).collect();
    for l in lines {
        println!("{l}");
    }
}

/// `run_series` with every visit saved as PNG (no JPEG loss): to tell JPEG effects apart.
fn run_png(
    spec: &smpscope_synth::SeriesSpec,
) -> (Result<smpscope::Track, smpscope::Error>, Vec<smpscope::Analysis>, smpscope_synth::SeriesTruth) {
    let series = smpscope_synth::render_series(spec);
    let b = &spec.base;
    let p = smpscope::Params {
        px_per_mm: Some(b.px_per_mm),
        camera_blur_um: Some(b.camera_blur_px * 1000.0 / b.px_per_mm),
        ..Default::default()
    };
    let analyses: Vec<smpscope::Analysis> = series
        .visits
        .iter()
        .enumerate()
        .map(|(v, vs)| {
            let mut s = vs.spec.clone();
            s.jpeg_quality = None;
            let photo = smpscope_synth::encode(&vs.scene, &s);
            smpscope::analyze_bytes(&photo.bytes, &format!("visit-{}.png", v + 1), &p).expect("analysable")
        })
        .collect();
    let visits = analyses
        .iter()
        .zip(&series.truth.visits)
        .map(|(a, t)| smpscope::Visit {
            analysis: a.clone(),
            date: chrono::NaiveDate::parse_from_str(&t.date, "%Y-%m-%d").ok(),
        })
        .collect();
    (smpscope::track(visits, &TrackParams::default()), analyses, series.truth)
}
