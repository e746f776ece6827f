//! The shine smpscope estimates against the true shine, over every visit of one series:
//! `cargo run --release -p smpscope-synth --example shine_probe -- SEED` (`SMALL=1`: the frames
//! of tests/tracking.rs).
use smpscope_synth::evaluate::shine_score;
use smpscope_synth::evaluate_series::random_series;
use smpscope_synth::{encode, render_series};

fn main() {
    let seed: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap();
    let spec = if std::env::var_os("SMALL").is_some() {
        random_series(seed, (16.0, 12.0), 800)
    } else {
        random_series(seed, (20.0, 15.0), 1200)
    };
    let series = render_series(&spec);
    for (v, vs) in series.visits.iter().enumerate() {
        let photo = encode(&vs.scene, &vs.spec);
        let p = smpscope::photo::load_bytes(&photo.bytes, "x.jpg").unwrap();
        let ppm = vs.scene.truth.px_per_mm;
        let cell = (1.2 * ppm).round() as usize;
        let bg = smpscope::background::Background::estimate(&p, cell);
        let skin = smpscope_synth::skin::Skin::new(&vs.spec);
        let truth = |x: f64, y: f64| skin.shine(x, y);
        let score = shine_score(&vs.spec, &vs.scene, &photo.bytes).unwrap();
        if std::env::var_os("DOTS").is_some() {
            let line: Vec<String> = vs
                .scene
                .truth
                .dots
                .iter()
                .filter(|d| truth(d.x, d.y) > 0.001)
                .map(|d| {
                    format!("({:.0},{:.0}) {:.3}/{:.3}", d.x, d.y, truth(d.x, d.y), bg.shine_at(d.x as f32, d.y as f32))
                })
                .collect();
            println!("  dots in shine, true/estimated: {}", line.join(" "));
        }
        if std::env::var_os("WHERE").is_some() {
            // Along a horizontal line through each highlight: true and estimated shine.
            for h in &vs.spec.highlights {
                let (hx, hy) = (h.x * p.width() as f64, h.y * p.height() as f64);
                let line: Vec<String> = (-6..=6)
                    .map(|k| hx + k as f64 * h.width_mm * ppm / 4.0)
                    .filter(|x| *x >= 0.0 && *x < p.width() as f64)
                    .map(|x| format!("{:.3}/{:.3}", truth(x, hy), bg.shine_at(x as f32, hy as f32)))
                    .collect();
                println!(
                    "  highlight at ({hx:.0}, {hy:.0}) fwhm {:.1} mm peak {:.3}: {}",
                    h.width_mm,
                    h.peak,
                    line.join(" ")
                );
            }
        }
        println!(
            "visit {v}: skin {} ppm {ppm:.0} highlights {} peak {:.2} share {:.3} mean|err| {:.4} false-shine {:.3} missed {:.3}",
            vs.spec.skin_type,
            vs.spec.highlights.len(),
            vs.spec.highlights.iter().map(|h| h.peak).fold(0.0, f64::max),
            bg.shine_share(),
            score.mean_error,
            score.false_share,
            score.missed_share
        );
    }
}
