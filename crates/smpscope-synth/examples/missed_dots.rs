//! Where true dots are lost (never a candidate, or rejected after the fit), as a table for
//! offline study, with each photo's rejection counts on stderr:
//! `cargo run --release -p smpscope-synth --example missed_dots -- FIRST COUNT > missed.tsv`
//! (the photos of `accuracy`: 24x18 mm, at most 2000 px wide). One row per true dot: its fate
//! (accepted, rejected after the fit, never a candidate), contrast, size and surroundings.
use rayon::prelude::*;
use smpscope::background::Background;
use smpscope_synth::evaluate::{pair_detections, params_for, random_scene};
use smpscope_synth::{encode, render};

fn main() {
    let a: Vec<u64> = std::env::args().skip(1).filter_map(|s| s.parse().ok()).collect();
    let (first, count) = (a.first().copied().unwrap_or(5000), a.get(1).copied().unwrap_or(60));
    let rows: Vec<String> = (first..first + count)
        .into_par_iter()
        .flat_map_iter(|seed| {
            let spec = random_scene(seed, (24.0, 18.0), 2000);
            let scene = render(&spec);
            let photo = encode(&scene, &spec);
            let t = &scene.truth;
            let params = params_for(t);
            let Ok(analysis) = smpscope::analyze_bytes(&photo.bytes, "x.jpg", &params) else { return Vec::new() };
            // The detector's candidates, as the analysis finds them.
            let p = smpscope::photo::load_bytes(&photo.bytes, "x.jpg").unwrap();
            let bg = Background::estimate(&p, (1.2 * t.px_per_mm).round() as usize);
            let od = bg.optical_density(&p);
            let cands = smpscope::detect::find_candidates(&od, t.px_per_mm, &params.detect);
            eprintln!("{seed}: {} px/mm skin {} jpeg {:?}: {} candidates, {} dots, rejected {:?}", t.px_per_mm, t.conditions.skin_type, t.conditions.jpeg_quality, cands.len(), analysis.dots.len(), analysis.summary.rejected);
            let all: Vec<usize> = (0..t.dots.len()).collect();
            let accepted: std::collections::HashSet<usize> = pair_detections(t, &analysis.dots, &all).into_iter().map(|(i, _)| i).collect();
            let c = &t.conditions;
            t.dots
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let r_px = 0.5 * d.diameter_um / 1000.0 * t.px_per_mm;
                    let tol = r_px.max(1.5);
                    let near = |x: f64, y: f64| (x - d.x).hypot(y - d.y);
                    let cand = cands.iter().map(|k| near(k.x, k.y)).fold(f64::INFINITY, f64::min);
                    let fate = if accepted.contains(&i) { "accepted" } else if cand <= tol { "rejected" } else { "missed" };
                    let neighbour = t.dots.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, e)| near(e.x, e.y)).fold(f64::INFINITY, f64::min);
                    let distractor = t.distractors.iter().map(|e| match &e.path {
                        Some(path) => path.iter().map(|q| near(q[0], q[1])).fold(f64::INFINITY, f64::min),
                        None => near(e.x, e.y),
                    }).fold(f64::INFINITY, f64::min);
                    format!(
                        "{seed}\t{:.1}\t{:.1}\t{fate}\t{:.1}\t{}\t{:?}\t{:.2}\t{:.2}\t{:.3}\t{:.2}\t{:.2}\t{:.2}\t{:.2}\t{}",
                        d.x, d.y, t.px_per_mm, c.skin_type, c.jpeg_quality, c.fade, c.camera_blur_px, d.peak_od, 2.0 * r_px, cand / r_px, neighbour / r_px, distractor / r_px, d.overlaps
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    println!(
        "seed\tx\ty\tfate\tpx_per_mm\tskin\tjpeg\tfade\tblur_px\tpeak_od\tdiameter_px\tcandidate_radii\tneighbour_radii\tdistractor_radii\toverlaps"
    );
    for r in rows {
        println!("{r}");
    }
}
