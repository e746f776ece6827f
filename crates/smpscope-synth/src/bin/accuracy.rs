//! Prints the accuracy table: fresh random synthetic photos, each analysed and scored against
//! its exact ground truth, overall and by condition band.
//!
//! `cargo run --release -p smpscope-synth --bin accuracy -- [--count 120] [--seed S] [--size 1000x750]`

use clap::Parser;
use rayon::prelude::*;
use smpscope_synth::SceneSpec;
use smpscope_synth::evaluate::{format_table, random_scene, run_spec, table};

#[derive(Parser)]
#[command(about = "Accuracy of smpscope against synthetic ground truth, by condition")]
struct Args {
    /// Number of photos.
    #[arg(long, default_value_t = 120)]
    count: u64,
    /// First seed (default: fresh, from the clock; printed so a run can be repeated).
    #[arg(long)]
    seed: Option<u64>,
    /// Print one line per photo too.
    #[arg(long)]
    verbose: bool,
    /// Area each photo covers, WxH in mm (the pixel size follows from each photo's scale).
    #[arg(long, default_value = "24x18", value_parser = smpscope_synth::args::parse_frame_mm)]
    frame_mm: (f64, f64),
    /// Longest side of a photo in px (a photo is cropped to it).
    #[arg(long, default_value_t = 2000)]
    max_px: u32,
    /// Store every JPEG's colour at 4:2:0, as most cameras do (default: 4:4:4).
    #[arg(long)]
    chroma_420: bool,
}

fn main() {
    let args = Args::parse();
    let (w, h) = args.frame_mm;
    let first = smpscope_synth::args::first_seed(args.seed);
    println!(
        "smpscope accuracy: {} photos of {w}x{h} mm (at most {} px wide), seeds {first}..{}",
        args.count,
        args.max_px,
        first + args.count - 1
    );
    let results: Vec<_> = (first..first + args.count)
        .into_par_iter()
        .filter_map(|seed| match run_spec(seed, SceneSpec { jpeg_chroma_420: args.chroma_420, ..random_scene(seed, (w, h), args.max_px) }) {
            Ok((_, truth, score)) => {
                if args.verbose {
                    let c = &truth.conditions;
                    eprintln!(
                        "seed {seed}: skin {} {:.0}px/mm blur {:.2} fade {:.2} jpeg {:?} distr {} | truth {} det {} matched {} dens_err {:.3}",
                        c.skin_type, c.px_per_mm, c.camera_blur_px, c.fade, c.jpeg_quality, c.distractors, score.truth_dots, score.detected, score.matched, score.density_rel_err
                    );
                }
                Some((truth, score))
            }
            Err(e) => {
                eprintln!("seed {seed}: {e}");
                None
            }
        })
        .collect();
    let (overall, rows) = table(&results);
    print!("{}", format_table(&overall, &rows));
    let worst = rows.iter().map(|r| r.2.f1).fold(1.0, f64::min);
    println!("worst band F1 {worst:.3}");
}
