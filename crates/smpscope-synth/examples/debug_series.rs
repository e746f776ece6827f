//! Prints one series' tracking next to its truth, visit by visit: `cargo run --release -p
//! smpscope-synth --example debug_series -- SEED`.
use smpscope::{Analysis, Track, TrackParams};
use smpscope_synth::evaluate_series::{random_series, run_series, score_series};
use smpscope_synth::{SeriesSpec, SeriesTruth};

fn main() {
    let seed: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let mut spec = random_series(seed, (20.0, 15.0), 1200);
    // CHROMA_420=1: every JPEG with its colour at 4:2:0.
    spec.base.jpeg_chroma_420 = std::env::var_os("CHROMA_420").is_some();
    let (track, analyses, truth) = run_series(&spec, &TrackParams::default());
    println!(
        "{}x{} px {:.0} px/mm density {:.0}/cm2 skin {} half-life {:.1} touch-up {:?}",
        spec.base.width,
        spec.base.height,
        spec.base.px_per_mm,
        spec.base.density_per_cm2,
        spec.base.skin_type,
        spec.half_life_months,
        spec.touch_up
    );
    print_visits(&spec, &analyses, &truth);
    match &track {
        Ok(t) => print_track(t),
        Err(e) => println!("  refused: {e}"),
    }
    if let Ok(t) = &track {
        ink_pairs(t, &analyses, &truth);
        new_dots(t, &analyses, &truth);
    }
    let s = score_series(&spec, &track, &analyses, &truth);
    println!("{s:?}");
}

/// Median of `v` (the upper one of an even count; NaN if empty).
fn med(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Each visit's conditions, median spread and diameter (px, true and measured) and detection score.
fn print_visits(spec: &SeriesSpec, analyses: &[Analysis], truth: &SeriesTruth) {
    for (v, vt) in truth.visits.iter().enumerate() {
        let sc = smpscope_synth::evaluate::score(&vt.truth, &analyses[v]);
        let k = vt.px_per_mm / 1000.0;
        let c = &vt.truth.conditions;
        println!(
            "  shine {:.2} jpeg {:?} blur {:.2} px noise {:.2} fade {:.2} blue {:.2}",
            c.shine_peak, c.jpeg_quality, c.camera_blur_px, c.noise_gain, c.fade, c.blue_shift
        );
        println!(
            "  spread px: truth {:.2} measured {:.2}; diameter px: truth {:.2} measured {:.2}",
            med(vt.truth.dots.iter().map(|d| d.spread_um * k).collect()),
            med(analyses[v].dots.iter().map(|d| d.spread_px).collect()),
            med(vt.truth.dots.iter().map(|d| d.diameter_um * k).collect()),
            med(analyses[v].dots.iter().map(|d| d.diameter_px).collect())
        );
        println!(
            "visit {v}: months {:.1} pose {:?} truth dots {} detected {} (scored: truth {} det {} matched {}) touch_up {} rejected {:?}",
            vt.months,
            spec.poses[v],
            vt.truth.dots.len(),
            analyses[v].dots.len(),
            sc.truth_dots,
            sc.detected,
            sc.matched,
            vt.touch_up,
            analyses[v].summary.rejected
        );
    }
}

/// The tracker's figures per visit, its trend and its warnings.
fn print_track(t: &Track) {
    for r in &t.visits {
        println!(
            "  {} base {} touch {} shared {} matched {} lost {} new {} dens {:.3?} ink {:.3?} sprd {:.2?} de {:.2?} db {:.2?} reg {:?}",
            r.source,
            r.baseline,
            r.touch_up,
            r.shared_dots,
            r.matched,
            r.lost,
            r.new,
            r.density_retained,
            r.ink_retained,
            r.spread_growth_um,
            r.colour_shift_de,
            r.delta_b,
            r.registration.as_ref().map(|g| (g.rotation_deg, g.scale, g.residual_px, g.matched_dots, g.shared_dots))
        );
    }
    println!("  trend {:?}", t.trend);
    for w in &t.warnings {
        println!("  warning: {w}");
    }
}

/// Per-dot ink ratios, measured and true, for the pairs (baseline, visit) of the tracking.
#[allow(dead_code)]
pub fn ink_pairs(track: &smpscope::Track, analyses: &[smpscope::Analysis], truth: &smpscope_synth::SeriesTruth) {
    use smpscope_synth::evaluate::pair_detections;
    let ident: Vec<Vec<Option<usize>>> = (0..analyses.len())
        .map(|v| {
            let vt = &truth.visits[v];
            let mut out = vec![None; analyses[v].dots.len()];
            let all: Vec<usize> = (0..vt.truth.dots.len()).collect();
            for (i, j) in pair_detections(&vt.truth, &analyses[v].dots, &all) {
                out[j] = Some(i);
            }
            out
        })
        .collect();
    for (t, r) in track.visits.iter().enumerate().skip(1) {
        let b = r.baseline;
        let (mut m, mut tr, mut mb, mut tb_) = (0.0, 0.0, 0.0, 0.0);
        for d in &track.matches {
            if let (Some(p), Some(q)) = (d.dots[b], d.dots[t])
                && let (Some(i), Some(j)) = (ident[b][p], ident[t][q])
            {
                let (ab, at) = (&analyses[b].dots[p], &analyses[t].dots[q]);
                let (xb, xt) = (&truth.visits[b].truth.dots[i], &truth.visits[t].truth.dots[j]);
                mb += ab.ink.unwrap();
                m += at.ink.unwrap();
                tb_ += xb.ink;
                tr += xt.ink;
            }
        }
        println!(
            "visit {t} vs {b}: measured ink sums {mb:.4} -> {m:.4} ({:.3}); truth {tb_:.4} -> {tr:.4} ({:.3}); measured/true at base {:.3}, at visit {:.3}",
            m / mb,
            tr / tb_,
            mb / tb_,
            m / tr
        );
    }
}

/// The dots each later visit saw for the first time: ink, eccentricity, diameter and whether a
/// true dot lies there (identity) and was born at a touch-up.
pub fn new_dots(track: &smpscope::Track, analyses: &[smpscope::Analysis], truth: &smpscope_synth::SeriesTruth) {
    let ident = smpscope_synth::evaluate_series::true_identities(truth, analyses);
    for t in 1..analyses.len() {
        let line: Vec<String> = track
            .matches
            .iter()
            .filter(|m| m.first_visit == t)
            .filter_map(|m| m.dots[t])
            .map(|q| {
                let d = &analyses[t].dots[q];
                let tag = match ident[t][q] {
                    None => "false".to_string(),
                    Some(id) if id >= truth.original_dots => format!("born{id}"),
                    Some(id) => format!("old{id}"),
                };
                format!("({:.2} e{:.2} d{:.1} {tag})", d.ink_px, d.eccentricity, d.diameter_px)
            })
            .collect();
        println!("visit {t} new dots: {}", line.join(" "));
    }
}
