//! `synth-series`: write one synthetic patient series (3 to 6 visits over up to 5 years) with
//! its ground truth.
//!
//! ```text
//! synth-series --seed 7 --size 800x600 --out /tmp/patient
//! synth-series --spec fixtures/patient/series.spec.json --out fixtures/patient
//! ```
//! Writes `<out>/visit-1.jpg` .. `visit-N.jpg`, `<out>/series.truth.json` and the spec that made
//! them, `<out>/series.spec.json`. With `--spec`, the file is used as is (missing fields take
//! their defaults: the demo patient) except that `--seed`, if given, replaces `base.seed`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use smpscope_synth::{SeriesSpec, write_series};

#[derive(Parser, Debug)]
#[command(
    name = "synth-series",
    about = "A synthetic patient series of scalp micropigmentation photos with exact ground truth"
)]
struct Args {
    /// Seed of the series (required without --spec).
    #[arg(long, required_unless_present = "spec")]
    seed: Option<u64>,
    /// Upright frame size, WIDTHxHEIGHT in px (random specs only).
    #[arg(long, default_value = "800x600", value_parser = smpscope_synth::args::parse_size)]
    size: (u32, u32),
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// A SeriesSpec as JSON instead of a random one.
    #[arg(long)]
    spec: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let spec = match (&args.spec, args.seed) {
        (None, Some(seed)) => SeriesSpec::random(seed, args.size.0, args.size.1),
        (None, None) => unreachable!("clap requires --seed without --spec"),
        (Some(path), seed) => {
            let read = std::fs::read(path).map_err(|e| e.to_string());
            match read.and_then(|b| serde_json::from_slice::<SeriesSpec>(&b).map_err(|e| e.to_string())) {
                Ok(mut spec) => {
                    if let Some(seed) = seed {
                        spec.base.seed = seed;
                    }
                    spec
                }
                Err(e) => {
                    eprintln!("synth-series: cannot read spec {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    if let Err(e) = spec.validate() {
        eprintln!("synth-series: invalid spec: {e}");
        return ExitCode::FAILURE;
    }
    let written = write_series(&spec, &args.out).and_then(|paths| {
        let path = args.out.join("series.spec.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&spec).map_err(std::io::Error::other)?)?;
        Ok(paths.into_iter().chain([path]).collect::<Vec<_>>())
    });
    match written {
        Ok(paths) => {
            for p in paths {
                println!("{}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("synth-series: writing into {}: {e}", args.out.display());
            ExitCode::FAILURE
        }
    }
}
