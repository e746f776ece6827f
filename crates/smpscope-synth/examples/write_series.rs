//! Writes the photos of the evaluator's series SEED (as `track-accuracy` renders them) to DIR:
//! `cargo run --release -p smpscope-synth --example write_series -- SEED DIR`.
use smpscope_synth::evaluate_series::random_series;
use smpscope_synth::{encode, render_series};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (seed, dir): (u64, &str) = (args[1].parse().expect("seed"), &args[2]);
    let spec = random_series(seed, (20.0, 15.0), 1200);
    std::fs::create_dir_all(dir).expect("dir");
    for (v, vs) in render_series(&spec).visits.iter().enumerate() {
        let photo = encode(&vs.scene, &vs.spec);
        std::fs::write(format!("{dir}/visit-{}.{}", v + 1, photo.extension), &photo.bytes).expect("write");
    }
    std::fs::write(format!("{dir}/spec.json"), serde_json::to_string_pretty(&spec).expect("json")).expect("write");
}
