//! Reads the marker of photo files and prints what was found (a diagnostic).
//!
//! ```text
//! cargo run --release -p smpscope-synth --example marker_probe -- PHOTO...
//! ```

fn main() {
    for path in std::env::args().skip(1) {
        let photo = match smpscope::photo::load_path(path.as_ref()) {
            Ok(p) => p,
            Err(e) => {
                println!("{path}: {e}");
                continue;
            }
        };
        let t = std::time::Instant::now();
        let found = smpscope::marker::find::search(&photo);
        let mut warnings = Vec::new();
        let m = smpscope::marker::detect(&photo, &Default::default(), &mut warnings);
        println!(
            "{path}: {} candidates (scores {:?}), cut off {}, partial {}, {:.2} s",
            found.markers.len(),
            found.markers.iter().map(|c| c.1).collect::<Vec<_>>(),
            found.cut_off,
            found.partial,
            t.elapsed().as_secs_f64()
        );
        println!("{}", serde_json::to_string(&m).unwrap());
        for w in warnings {
            println!("  {}", w.message);
        }
    }
}
