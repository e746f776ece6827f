//! The `smpscope` command: a thin layer over the core that reads arguments, runs the photos in
//! parallel, writes the JSON documents and maps failures to exit codes (0 all measured,
//! 1 some photo failed, 2 bad arguments).

mod analyze;
mod output;
mod report;
mod track;

// Analysing a 12 MP photo allocates and frees full-frame planes, about 1.2 GB in all: the system
// allocator hands each back to the kernel and faults the next one in afresh, where mimalloc
// reuses them (see `keep_freed_memory` and the README's Speed).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tells mimalloc to keep the memory it frees for the next allocation instead of handing it back
/// to the kernel after 10 ms: each plane of the next stage or photo then reuses pages already
/// cleared, where the kernel would clear them again (a third of the CPU time on a 3 MP photo;
/// docs/decisions.md#freed-memory-kept). Peak memory barely moves (89 to 95 MB on that photo):
/// only what was in use at once is held.
fn keep_freed_memory() {
    // mi_option_purge_delay is 15 in mimalloc 2's and 3's mi_option_e; -1: never purge.
    // SAFETY: sets one option of the allocator; any value is valid and it is read atomically.
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
}

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use smpscope::{DeviceProfiles, Error, Params, Roi};

#[derive(Parser)]
#[command(name = "smpscope", version, about = "Measure scalp micropigmentation dots in scalp photos")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find and measure every pigment dot in each photo; one JSON document per photo.
    Analyze(analyze::AnalyzeArgs),
    /// Follow the same dots across visits: fade, spread, colour shift and a touch-up forecast.
    Track(track::TrackArgs),
    /// The clinician's report: one self-contained HTML file of a photo or a series of visits.
    Report(report::ReportArgs),
}

/// How photos are analysed: shared by every subcommand.
#[derive(Args)]
pub struct AnalysisArgs {
    /// Pixels per millimetre (overrides device profiles).
    #[arg(long)]
    px_per_mm: Option<f64>,
    /// The camera's own blur (Gaussian sigma) in um, removed from the spread.
    #[arg(long)]
    camera_blur_um: Option<f64>,
    /// Device profiles (TOML or JSON) mapping EXIF make/model to px_per_mm.
    #[arg(long)]
    profiles: Option<PathBuf>,
    /// Treated region: a polygon JSON ([[x, y], ...] in px) or a mask image.
    #[arg(long)]
    roi: Option<PathBuf>,
    /// Parameters file (JSON or TOML) with any fields of the analysis parameters.
    #[arg(long)]
    params: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    keep_freed_memory();
    let result = match Cli::parse().command {
        Command::Analyze(args) => analyze::run(args),
        Command::Track(args) => track::run(args),
        Command::Report(args) => report::run(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("smpscope: {e}");
        ExitCode::from(2)
    })
}

/// Reads a JSON or TOML file into `T`, naming the file in any error.
fn read_config<T: serde::de::DeserializeOwned>(p: &Path, what: &str) -> Result<T, Error> {
    let name = p.display().to_string();
    let text =
        std::fs::read_to_string(p).map_err(|e| Error::Io { source_name: name.clone(), reason: e.to_string() })?;
    let parsed = if p.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| smpscope::check::explain_serde(&e.to_string()))
    } else {
        toml::from_str(&text).map_err(|e| smpscope::check::explain_serde(&e.to_string()))
    };
    parsed.map_err(|reason| Error::BadInputFile { source_name: name, reason: format!("not valid {what}: {reason}") })
}

impl AnalysisArgs {
    fn params(&self) -> Result<Params, Error> {
        let mut params: Params = match &self.params {
            Some(p) => read_config(p, "parameters")?,
            None => Params::default(),
        };
        params.px_per_mm = self.px_per_mm.or(params.px_per_mm);
        params.camera_blur_um = self.camera_blur_um.or(params.camera_blur_um);
        if let Some(p) = &self.profiles {
            params.device_profiles = Some(DeviceProfiles::load(p)?);
        }
        if let Some(r) = &self.roi {
            params.roi = Some(Roi::load(r)?);
        }
        params.validate()?;
        Ok(params)
    }

    fn pool(&self) -> Result<rayon::ThreadPool, Error> {
        if let Some(n) = self.threads {
            smpscope::check::THREADS.check(n as f64)?;
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads.unwrap_or(0))
            .build()
            .map_err(|e| Error::InvalidParameter { name: "threads".into(), reason: e.to_string() })
    }

    fn progress(&self, photos: usize) -> ProgressBar {
        let bar = if self.quiet { ProgressBar::hidden() } else { ProgressBar::new(photos as u64) };
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} photos {elapsed} {msg}").expect("valid template"),
        );
        bar
    }

    /// Loads every visit with `load` on the worker pool, behind a progress bar: all the
    /// documents in the order given, or the first visit (in that order) that failed, with its
    /// error.
    fn load_visits<T: Send>(
        &self,
        paths: &[PathBuf],
        load: impl Fn(&Path) -> Result<Vec<T>, Error> + Sync,
    ) -> Result<Loaded<T>, Error> {
        use rayon::prelude::*;
        let bar = self.progress(paths.len());
        let loaded: Vec<Result<Vec<T>, Error>> = self.pool()?.install(|| {
            paths
                .par_iter()
                .map(|p| {
                    let r = load(p);
                    bar.inc(1);
                    r
                })
                .collect()
        });
        bar.finish_and_clear();
        let mut all = Vec::new();
        for (r, path) in loaded.into_iter().zip(paths) {
            match r {
                Ok(docs) => all.extend(docs),
                Err(e) => return Ok(Err((path.clone(), e))),
            }
        }
        Ok(Ok(all))
    }
}

/// The documents of every visit, or the first visit that failed and its error.
type Loaded<T> = Result<Vec<T>, (PathBuf, Error)>;

/// The error record of a photo that failed.
fn error_record(path: &Path, e: &Error) -> Value {
    json!({
        "schema": "smpscope.error/1",
        "source": path.display().to_string(),
        "error": {"kind": e.kind(), "message": e.to_string()},
    })
}

fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "photo".into())
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON values serialise")
}
