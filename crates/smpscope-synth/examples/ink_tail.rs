//! The dots of one series whose measured ink is far from the truth (ratio outside
//! [0.75, 1.33]), with their fit and the true dot, to see what the heavy tail of the ink ratio
//! is made of: `cargo run --release -p smpscope-synth --example ink_tail -- SEED`.
use smpscope::TrackParams;
use smpscope_synth::evaluate::pair_detections;
use smpscope_synth::evaluate_series::{random_series, run_series};

fn main() {
    let seed: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let spec = random_series(seed, (20.0, 15.0), 1200);
    let (_, analyses, truth) = run_series(&spec, &TrackParams::default());
    for (v, vt) in truth.visits.iter().enumerate() {
        let all: Vec<usize> = (0..vt.truth.dots.len()).collect();
        let k = vt.px_per_mm;
        let (mut sum_m, mut sum_t, mut n) = (0.0, 0.0, 0);
        for (i, j) in pair_detections(&vt.truth, &analyses[v].dots, &all) {
            let (t, d) = (&vt.truth.dots[i], &analyses[v].dots[j]);
            let r = d.ink_px / (t.ink * k * k);
            sum_m += d.ink_px;
            sum_t += t.ink * k * k;
            n += 1;
            let near = vt
                .truth
                .dots
                .iter()
                .enumerate()
                .filter(|(q, o)| *q != i && (o.x - t.x).hypot(o.y - t.y) < 3.0 * t.diameter_um * k / 1000.0)
                .count();
            if !(0.75..=1.33).contains(&r) {
                println!(
                    "v{v} ratio {r:.2} x {:.0} y {:.0}: diam px {:.2}/{:.2} spread px {:.2}/{:.2} peak {:.3} snr {:.1} ecc {:.2} blur {:.2} neighbours {near}",
                    t.x,
                    t.y,
                    d.diameter_px,
                    t.diameter_um * k / 1000.0,
                    d.spread_px,
                    t.spread_um * k / 1000.0,
                    d.peak_od,
                    d.snr,
                    d.eccentricity,
                    d.blur_px
                );
            }
        }
        println!("visit {v}: {n} dots, sum ratio {:.3}", sum_m / sum_t);
    }
}
