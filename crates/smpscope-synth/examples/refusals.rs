//! For each later visit of one series: whether registration onto the first visit succeeds, and
//! how many dots detected at both visits are the same true dot (what a right registration could
//! line up at best), the transform those dots give and what it lines up, and how far the
//! found transform is from it: `cargo run --release -p smpscope-synth --example refusals --
//! SEED...`. With `DUMP=DIR`, each visit's dot centres, the first visit's and the true
//! transform are written to DIR/SEED-VISIT.json (as in fixtures/registration/).
use smpscope::TrackParams;
use smpscope::track::register::{Similarity, inside, register, typical_spacing};
use smpscope_synth::evaluate_series::{random_series, run_series, true_identities};

fn main() {
    for seed in std::env::args().skip(1).filter_map(|s| s.parse::<u64>().ok()) {
        let spec = random_series(seed, (20.0, 15.0), 1200);
        let (_, analyses, truth) = run_series(&spec, &TrackParams::default());
        let ident = true_identities(&truth, &analyses);
        let id_of = |v: usize| -> Vec<usize> { ident[v].iter().flatten().copied().collect() };
        let first = id_of(0);
        let centres = |v: usize| -> Vec<[f64; 2]> { analyses[v].dots.iter().map(|d| [d.x, d.y]).collect() };
        let frame = |v: usize| (analyses[v].image.width as f64, analyses[v].image.height as f64);
        for v in 1..analyses.len() {
            let common = id_of(v).iter().filter(|i| first.contains(i)).count();
            let r = register(&centres(v), &centres(0), frame(v), frame(0));
            println!(
                "seed {seed} visit {v}: detected {} (true {}), first {} (true {}), true common {common}: {}",
                analyses[v].dots.len(),
                id_of(v).len(),
                analyses[0].dots.len(),
                first.len(),
                match &r {
                    Ok(r) => format!("ok, {} of {} lined up", r.matched, r.shared_dots),
                    Err(e) => e.clone(),
                }
            );
            // The transform the true identities give, and how far the found one is from it
            // across the frame.
            let (cv, c0) = (centres(v), centres(0));
            let (mut from, mut to) = (vec![], vec![]);
            for (j, id) in ident[v].iter().enumerate() {
                if let Some(i) = id.and_then(|id| ident[0].iter().position(|&x| x == Some(id))) {
                    from.push(cv[j]);
                    to.push(c0[i]);
                }
            }
            let Some(t) = Similarity::fit(&from, &to) else { continue };
            if let Ok(dir) = std::env::var("DUMP") {
                let round = |v: &[[f64; 2]]| {
                    v.iter()
                        .map(|p| [(p[0] * 100.0).round() / 100.0, (p[1] * 100.0).round() / 100.0])
                        .collect::<Vec<_>>()
                };
                let doc = serde_json::json!({"seed": seed, "visit": v, "moving": round(&cv), "fixed": round(&c0), "moving_frame": frame(v), "fixed_frame": frame(0), "truth": [t.a, t.b, t.tx, t.ty]});
                std::fs::write(format!("{dir}/{seed}-{v}.json"), serde_json::to_string(&doc).unwrap()).unwrap();
            }
            let spacing = typical_spacing(&c0);
            let lined_at = |tol: f64| {
                cv.iter()
                    .filter(|&&p| {
                        let q = t.apply(p);
                        c0.iter().any(|c| (c[0] - q[0]).hypot(c[1] - q[1]) <= tol)
                    })
                    .count()
            };
            let tol = 0.06 * spacing;
            println!(
                "   lined up at 0.5/1/1.5/2 px: {} {} {} {}; spacing {spacing:.1} px, of visit v {:.1}",
                lined_at(0.5),
                lined_at(1.0),
                lined_at(1.5),
                lined_at(2.0),
                typical_spacing(&cv)
            );
            let shared =
                inside(&cv, &t, frame(0), 0.5 * spacing).min(inside(&c0, &t.inverse(), frame(v), 0.5 * spacing));
            println!(
                "   the true transform lines up {} of {shared} (tolerance {tol:.1} px); rotation {:.1} deg, scale {:.3}",
                lined_at(tol),
                t.rotation_deg(),
                t.scale()
            );
            if let Ok(r) = &r {
                println!(
                    "   found transform is {:.1} px from the true one at worst",
                    t.farthest_apart(&r.transform, frame(v))
                );
            }
        }
    }
}
