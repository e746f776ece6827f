//! `synth`: write synthetic scalp photos with their ground truth.
//!
//! ```text
//! synth --seed 7 --count 10 --size 1200x900 --out fixtures/synth
//! synth --seed 7 --spec spec.json --out /tmp/one
//! ```
//! Each photo is `<out>/synth-<seed>.<jpg|png>` with `<out>/synth-<seed>.truth.json`. Photo k of
//! a run uses seed + k. With `--spec`, the spec file is used as is (its seed, size and knobs),
//! except that the seed is replaced by seed + k.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
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
    #[arg(long)]
    spec: Option<PathBuf>,
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
            None => SceneSpec::random(seed, args.size.0, args.size.1),
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
