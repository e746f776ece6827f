//! The `smpscope` command: a thin layer over the core that reads arguments, runs the photos in
//! parallel, writes the JSON documents and maps failures to exit codes (0 all measured,
//! 1 some photo failed, 2 bad arguments).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde_json::{Value, json};
use smpscope::{Analysis, DeviceProfiles, Error, Params, Roi};

#[derive(Parser)]
#[command(name = "smpscope", version, about = "Measure scalp micropigmentation dots in scalp photos")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find and measure every pigment dot in each photo; one JSON document per photo.
    Analyze(AnalyzeArgs),
}

#[derive(Args)]
struct AnalyzeArgs {
    /// Photos (JPEG, PNG or TIFF).
    #[arg(required = true)]
    photos: Vec<PathBuf>,
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
    /// Write DIR/<photo stem>.json per photo.
    #[arg(long, conflicts_with = "json")]
    out: Option<PathBuf>,
    /// Write all documents as one JSON array to FILE ("-" for standard output).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write DIR/<photo stem>.overlay.png with the detected dots drawn.
    #[arg(long)]
    overlay: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze(args) => match analyze(args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("smpscope: {e}");
                ExitCode::from(2)
            }
        },
    }
}

fn load_params(a: &AnalyzeArgs) -> Result<Params, Error> {
    let mut params: Params = match &a.params {
        Some(p) => {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|e| Error::Io { source_name: name.clone(), reason: e.to_string() })?;
            let parsed = if p.extension().is_some_and(|e| e == "json") {
                serde_json::from_str(&text).map_err(|e| e.to_string())
            } else {
                toml::from_str(&text).map_err(|e| e.to_string())
            };
            parsed.map_err(|reason| Error::BadInputFile { source_name: name, reason: format!("not valid parameters: {reason}") })?
        }
        None => Params::default(),
    };
    params.px_per_mm = a.px_per_mm.or(params.px_per_mm);
    params.camera_blur_um = a.camera_blur_um.or(params.camera_blur_um);
    if let Some(p) = &a.profiles {
        params.device_profiles = Some(DeviceProfiles::load(p)?);
    }
    if let Some(r) = &a.roi {
        params.roi = Some(Roi::load(r)?);
    }
    params.validate()?;
    Ok(params)
}

fn analyze(a: AnalyzeArgs) -> Result<ExitCode, Error> {
    let params = load_params(&a)?;
    for dir in [&a.out, &a.overlay].into_iter().flatten() {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io { source_name: dir.display().to_string(), reason: e.to_string() })?;
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(a.threads.unwrap_or(0)).build().map_err(|e| Error::InvalidParameter {
        name: "threads".into(),
        reason: e.to_string(),
    })?;
    let bar = if a.quiet { ProgressBar::hidden() } else { ProgressBar::new(a.photos.len() as u64) };
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} photos {elapsed} {msg}").expect("valid template"));
    let docs: Vec<(Value, bool)> = pool.install(|| {
        a.photos
            .par_iter()
            .map(|path| {
                let doc = analyze_one(path, &params, a.overlay.as_deref());
                bar.inc(1);
                doc
            })
            .collect()
    });
    bar.finish_and_clear();
    let failed = docs.iter().filter(|(_, ok)| !ok).count();
    for (doc, ok) in &docs {
        if !ok {
            eprintln!("smpscope: {}", doc["error"]["message"].as_str().unwrap_or("failed"));
        }
    }
    write_documents(&a, &docs)?;
    if failed > 0 {
        eprintln!("smpscope: {failed} of {} photos failed", docs.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The analysis document of one photo, or its error record; the bool says which.
fn analyze_one(path: &Path, params: &Params, overlay: Option<&Path>) -> (Value, bool) {
    let result = smpscope::photo::load_path(path).and_then(|photo| {
        let analysis = smpscope::analyze_photo(&photo, params)?;
        if let Some(dir) = overlay {
            let out = dir.join(format!("{}.overlay.png", stem(path)));
            smpscope::overlay::draw(&photo, &analysis)
                .save(&out)
                .map_err(|e| Error::Io { source_name: out.display().to_string(), reason: e.to_string() })?;
        }
        Ok::<Analysis, Error>(analysis)
    });
    match result {
        Ok(a) => (serde_json::to_value(&a).expect("an analysis serialises"), true),
        Err(e) => (error_record(path, &e), false),
    }
}

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

fn write_documents(a: &AnalyzeArgs, docs: &[(Value, bool)]) -> Result<(), Error> {
    let write = |path: &Path, v: &Value| {
        let text = serde_json::to_string_pretty(v).expect("JSON values serialise");
        std::fs::write(path, text + "\n").map_err(|e| Error::Io { source_name: path.display().to_string(), reason: e.to_string() })
    };
    if let Some(dir) = &a.out {
        let mut used = std::collections::HashSet::new();
        for ((doc, _), path) in docs.iter().zip(&a.photos) {
            // Two photos with the same stem from different folders must not overwrite each other.
            let mut name = stem(path);
            let mut k = 1;
            while !used.insert(name.clone()) {
                k += 1;
                name = format!("{}-{k}", stem(path));
            }
            write(&dir.join(format!("{name}.json")), doc)?;
        }
        return Ok(());
    }
    let all = if docs.len() == 1 { docs[0].0.clone() } else { Value::Array(docs.iter().map(|(d, _)| d.clone()).collect()) };
    match &a.json {
        Some(p) if p.as_os_str() != "-" => write(p, &Value::Array(docs.iter().map(|(d, _)| d.clone()).collect())),
        _ => {
            println!("{}", serde_json::to_string_pretty(&all).expect("JSON values serialise"));
            Ok(())
        }
    }
}
