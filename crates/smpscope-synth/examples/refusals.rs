//! For each later visit of one series: whether registration onto the first visit succeeds, and
//! how many dots detected at both visits are the same true dot (what a right registration could
//! line up at best): `cargo run --release -p smpscope-synth --example refusals -- SEED...`.
use smpscope::TrackParams;
use smpscope::track::register::register;
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
            println!("seed {seed} visit {v}: detected {} (true {}), first {} (true {}), true common {common}: {}", analyses[v].dots.len(), id_of(v).len(), analyses[0].dots.len(), first.len(),
                match r { Ok(r) => format!("ok, {} of {} lined up", r.matched, r.shared_dots), Err(e) => e });
        }
    }
}
