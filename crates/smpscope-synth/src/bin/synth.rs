//! `synth`: write synthetic scalp photos with their ground truth.
//!
//! ```text
//! synth --seed 7 --count 10 --size 1200x900 --out fixtures/synth
//! synth --seed 7 --spec spec.json --out /tmp/one
//! synth --seed 1000 --count 120 --frame-mm 24x18 --out /tmp/set   # the `accuracy` command's photos
//! ```
//! Each photo is `<out>/synth-<seed>.<jpg|png>` with `<out>/synth-<seed>.truth.json`. Photo k of
//! a run uses seed + k. With `--spec`, the spec file is used as is (its seed, size and knobs),
//! except that the seed is replaced by seed + k. With `--frame-mm`, each random photo covers that
//! area at its own scale within `--max-px`: exactly the scenes `accuracy` scores for those seeds.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use smpscope_synth::evaluate::random_scene;
use smpscope_synth::{SceneSpec, write_photo};

#[derive(Parser, Debug)]
#[command(name = "synth", about = "Synthetic scalp micropigmentation photos with exact ground truth")]
struct Args {
    /// Seed of the first photo.
    #[arg(long)]
    seed: u64,
    /// Upright frame size, WIDTHxHEIGHT in px (random specs only).
    #[arg(long, default_value = "1200x900", value_parser = smpscope_synth::args::parse_size)]
    size: (u32, u32),
    /// Number of photos (seeds seed, seed+1, ...).
    #[arg(long, default_value_t = 1)]
    count: u64,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// A SceneSpec as JSON (missing fields take their defaults) instead of a random spec.
    #[arg(long, conflicts_with = "frame_mm")]
    spec: Option<PathBuf>,
    /// Area each random photo covers, WxH in mm, its px size following from its scale (as the
    /// `accuracy` command draws its photos; instead of --size).
    #[arg(long, conflicts_with = "size", value_parser = smpscope_synth::args::parse_frame_mm)]
    frame_mm: Option<(f64, f64)>,
    /// Longest side of a --frame-mm photo in px.
    #[arg(long, default_value_t = 2000, requires = "frame_mm")]
    max_px: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let base: Option<SceneSpec> = match &args.spec {
        None => None,
        Some(path) => match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(spec) => Some(spec),
            Err(e) => {
                eprintln!("synth: cannot read spec {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        },
    };
    if let Some(s) = &base
        && (s.width == 0 || s.height == 0 || s.px_per_mm.is_nan() || s.px_per_mm <= 0.0)
    {
        eprintln!("synth: spec needs width, height > 0 and px_per_mm > 0");
        return ExitCode::FAILURE;
    }
    for k in 0..args.count {
        let seed = args.seed.wrapping_add(k);
        let spec = match &base {
            Some(s) => SceneSpec { seed, ..s.clone() },
            None => match args.frame_mm {
                Some(frame) => random_scene(seed, frame, args.max_px),
                None => SceneSpec::random(seed, args.size.0, args.size.1),
            },
        };
        match write_photo(&spec, &args.out, &format!("synth-{seed}")) {
            Ok((photo, truth)) => println!("{}\t{}", photo.display(), truth.display()),
            Err(e) => {
                eprintln!("synth: writing into {}: {e}", args.out.display());
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
