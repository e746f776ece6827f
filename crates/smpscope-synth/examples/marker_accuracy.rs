//! The calibration marker's accuracy on a larger set than the tests (issue 24): scales
//! log-uniform over 10-120 px/mm, tilts 0-30 degrees, skin types I-VI, JPEG 60-95 (15 % PNG),
//! blur 0.3-1.5 px, random light and white balance; then a tilt set (10 degrees at 20 px/mm and
//! more) and a density set (the marker's scale against the true scale).
//!
//! ```text
//! cargo run --release -p smpscope-synth --example marker_accuracy -- [PHOTOS] [SEED]
//! ```
//! PHOTOS (default 36) for the main set; the tilt and density sets take a third of it each.

use rand::Rng;
use rand::SeedableRng;
use smpscope_synth::marker_eval::{self, Score, abs_quantile, blur_ok};

fn row(s: &Score, secs: f64) {
    println!(
        "{:>6} {:>6.1} {:>5.1} {:>4.2} {:>4} {:>5} {:>5} {:>+8.3} {:>5} {:>+6.2} {:>+7.3} {:>6.2} {:>5.1}",
        s.seed,
        s.px_per_mm,
        s.tilt_deg,
        s.blur_px,
        s.skin_type,
        s.jpeg.map_or("png".into(), |q| q.to_string()),
        s.found,
        100.0 * s.scale_err,
        s.scale_covered,
        s.tilt_err,
        s.blur_err_px.unwrap_or(f64::NAN),
        s.neutral_de.unwrap_or(f64::NAN),
        secs
    );
}

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (n, seed0) = (args.first().copied().unwrap_or(36), args.get(1).copied().unwrap_or(10_000));
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed0);
    let density_only = std::env::var("MARKER_DENSITY_ONLY").is_ok();
    main_set(&mut r, n, seed0, density_only);
    tilt_set(&mut r, n, seed0, density_only);
    density_set(&mut r, n, seed0);
}

/// The main set: `n` photos at 10-120 px/mm, tilt 0-30 degrees; a row each and the summary.
fn main_set(r: &mut rand_chacha::ChaCha8Rng, n: u64, seed0: u64, density_only: bool) {
    println!("  seed    px/mm  tilt blur skin  jpeg found  scale%   in95  tilt°  blurpx  wb dE  secs");
    let mut main_set = Vec::new();
    for k in 0..n {
        let ppm = (r.random_range(10f64.ln()..=120f64.ln())).exp();
        let tilt = r.random_range(0.0..=30.0);
        if density_only {
            continue;
        }
        let t = std::time::Instant::now();
        let s = marker_eval::score(&marker_eval::case(seed0 + k, ppm, tilt));
        row(&s, t.elapsed().as_secs_f64());
        main_set.push(s);
    }
    let found: Vec<&Score> = main_set.iter().filter(|s| s.found).collect();
    println!("\nmain set: {} photos, marker found in {}", main_set.len(), found.len());
    print_main_figures(&found);
}

/// Scale, blur, white balance and tilt figures of the photos where the marker was found.
fn print_main_figures(found: &[&Score]) {
    let scale: Vec<f64> = found.iter().map(|s| s.scale_err).collect();
    let covered = found.iter().filter(|s| s.scale_covered).count();
    let blur_pass = found.iter().filter(|s| s.blur_err_px.is_some_and(|b| blur_ok(b, s.blur_px))).count();
    let blur_rel: Vec<f64> = found.iter().filter_map(|s| s.blur_err_px.map(|b| b / s.blur_px)).collect();
    let de: Vec<f64> = found.iter().filter_map(|s| s.neutral_de).collect();
    println!(
        "  scale error: median {:.3} %, worst {:.3} % (target 0.5 / 1.5); true scale in the 95 % interval: {covered}/{}",
        100.0 * abs_quantile(&scale, 0.5),
        100.0 * abs_quantile(&scale, 1.0),
        found.len()
    );
    println!(
        "  blur: within max(10 %, 0.15 px) in {blur_pass}/{} (read in {}); relative error median {:.1} %, worst {:.1} %",
        found.len(),
        blur_rel.len(),
        100.0 * abs_quantile(&blur_rel, 0.5),
        100.0 * abs_quantile(&blur_rel, 1.0)
    );
    println!(
        "  white balance: neutral dE median {:.2}, worst {:.2} (target 1; read in {})",
        abs_quantile(&de, 0.5),
        abs_quantile(&de, 1.0),
        de.len()
    );
    let tilt_all: Vec<f64> = found.iter().filter(|s| s.px_per_mm >= 20.0).map(|s| s.tilt_err).collect();
    println!(
        "  tilt error (0-30 degrees, >= 20 px/mm): median {:.2}, worst {:.2} degrees",
        abs_quantile(&tilt_all, 0.5),
        abs_quantile(&tilt_all, 1.0)
    );
}

/// The tilt set: 10 degrees at 20-120 px/mm.
fn tilt_set(r: &mut rand_chacha::ChaCha8Rng, n: u64, seed0: u64, density_only: bool) {
    let mut tilt = Vec::new();
    for k in 0..(n / 3).max(3) {
        let ppm = (r.random_range(20f64.ln()..=120f64.ln())).exp();
        if density_only {
            continue;
        }
        let s = marker_eval::score(&marker_eval::case(seed0 + 1000 + k, ppm, 10.0));
        tilt.push(if s.found { s.tilt_err } else { f64::INFINITY });
    }
    println!(
        "\ntilt set: 10 degrees, 20-120 px/mm, {} photos: error median {:.2}, worst {:.2} degrees (target 1)",
        tilt.len(),
        abs_quantile(&tilt, 0.5),
        abs_quantile(&tilt, 1.0)
    );
}

/// The density set: density with the marker's scale against with the true scale, 10-60 px/mm.
fn density_set(r: &mut rand_chacha::ChaCha8Rng, n: u64, seed0: u64) {
    let mut diffs = Vec::new();
    for k in 0..(n / 3).max(3) {
        let ppm = (r.random_range(10f64.ln()..=60f64.ln())).exp();
        let tilt = r.random_range(0.0..=15.0);
        if let Some((m, t, a)) = marker_eval::densities(&marker_eval::case(seed0 + 2000 + k, ppm, tilt)) {
            println!(
                "  density seed {} at {ppm:.1} px/mm, tilt {tilt:.1}: {m:.2} with the marker, {t:.2} with the true scale ({} dots, region {:?})",
                seed0 + 2000 + k,
                a.summary.dot_count,
                a.summary.region.area_cm2
            );
            diffs.push(m / t - 1.0);
        }
    }
    println!(
        "density set: 10-60 px/mm, tilt 0-15, {} photos: |marker / true-scale density - 1| median {:.3} %, worst {:.3} % (target median 1 %)",
        diffs.len(),
        100.0 * abs_quantile(&diffs, 0.5),
        100.0 * abs_quantile(&diffs, 1.0)
    );
}
