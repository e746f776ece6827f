//! Prints the tracking accuracy table: fresh random synthetic patient series, each analysed and
//! tracked, scored against the series' exact truth, overall and by condition band.
//!
//! `cargo run --release -p smpscope-synth --bin track-accuracy -- [--count 24] [--seed S]`

use clap::Parser;
use rayon::prelude::*;
use smpscope::TrackParams;
use smpscope_synth::evaluate_series::{random_series, run_series, score_series, series_table};

#[derive(Parser)]
#[command(about = "Tracking accuracy of smpscope against synthetic patient series, by condition")]
struct Args {
    /// Number of series (patients).
    #[arg(long, default_value_t = 24)]
    count: u64,
    /// First seed (default: fresh, from the clock; printed so a run can be repeated).
    #[arg(long)]
    seed: Option<u64>,
    /// Area each photo covers, WxH in mm.
    #[arg(long, default_value = "20x15", value_parser = smpscope_synth::args::parse_frame_mm)]
    frame_mm: (f64, f64),
    /// Longest side of a photo in px.
    #[arg(long, default_value_t = 1200)]
    max_px: u32,
    /// Print one line per series too.
    #[arg(long)]
    verbose: bool,
    /// Store every JPEG's colour at 4:2:0, as most cameras do (default: 4:4:4).
    #[arg(long)]
    chroma_420: bool,
}

fn main() {
    let args = Args::parse();
    let (w, h) = args.frame_mm;
    let first = smpscope_synth::args::first_seed(args.seed);
    println!(
        "smpscope track accuracy: {} series of {w}x{h} mm (at most {} px), seeds {first}..{}",
        args.count,
        args.max_px,
        first + args.count - 1
    );
    let scores: Vec<_> = (first..first + args.count)
        .into_par_iter()
        .map(|seed| {
            let mut spec = random_series(seed, (w, h), args.max_px);
            spec.base.jpeg_chroma_420 = args.chroma_420;
            let (track, analyses, truth) = run_series(&spec, &TrackParams::default());
            let s = score_series(&spec, &track, &analyses, &truth);
            if args.verbose {
                eprintln!(
                    "seed {seed}: {} visits, refused {:?}, reg {:.1?} um, density err {:.1?} pts, ink err {:.1?} pts, touch-up {}/{}, half-life err {:?}",
                    spec.visits(), s.refused, s.registration_um, s.density_err_pts, s.ink_err_pts, s.touch_up_right, s.touch_up_visits, s.half_life_err
                );
            }
            s
        })
        .collect();
    print!("{}", series_table(&scores));
}
