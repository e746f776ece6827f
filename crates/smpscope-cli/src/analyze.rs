//! `smpscope analyze`: one JSON document (or error record) per photo.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use rayon::prelude::*;
use serde_json::Value;
use smpscope::{Analysis, Error, Params};

use crate::output::{not_an_input, writable_dir, writable_file, write_atomic, write_text};
use crate::{AnalysisArgs, error_record, pretty, stem};

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Photos (JPEG, PNG or TIFF).
    #[arg(required = true)]
    photos: Vec<PathBuf>,
    #[command(flatten)]
    analysis: AnalysisArgs,
    /// Write DIR/<photo stem>.json per photo.
    #[arg(long, conflicts_with = "json")]
    out: Option<PathBuf>,
    /// Write all documents as one JSON array to FILE ("-" for standard output).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write DIR/<photo stem>.overlay.png with the detected dots drawn.
    #[arg(long)]
    overlay: Option<PathBuf>,
}

pub fn run(a: AnalyzeArgs) -> Result<ExitCode, Error> {
    let params = a.analysis.params()?;
    check_outputs(&a)?;
    let bar = a.analysis.progress(a.photos.len());
    let docs: Vec<Result<Value, Value>> = a.analysis.pool()?.install(|| {
        a.photos
            .par_iter()
            .map(|path| {
                let doc = analyze_one(path, &params, a.overlay.as_deref())
                    .map(|an| serde_json::to_value(&an).expect("an analysis serialises"))
                    .map_err(|e| error_record(path, &e));
                bar.inc(1);
                doc
            })
            .collect()
    });
    bar.finish_and_clear();
    let failed: Vec<&Value> = docs.iter().filter_map(|d| d.as_ref().err()).collect();
    for doc in &failed {
        eprintln!("smpscope: {}", doc["error"]["message"].as_str().unwrap_or("failed"));
    }
    write_documents(&a, &docs)?;
    if !failed.is_empty() {
        eprintln!("smpscope: {} of {} photos failed", failed.len(), docs.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Analyses one photo, writing its overlay when asked.
pub fn analyze_one(path: &Path, params: &Params, overlay: Option<&Path>) -> Result<Analysis, Error> {
    let photo = smpscope::photo::load_path(path)?;
    let analysis = smpscope::analyze_photo(&photo, params)?;
    if let Some(dir) = overlay {
        let out = overlay_path(dir, path);
        let mut png = std::io::Cursor::new(Vec::new());
        smpscope::overlay::draw(&photo, &analysis)
            .write_to(&mut png, image::ImageFormat::Png)
            .map_err(|e| Error::Write { source_name: out.display().to_string(), reason: e.to_string() })?;
        write_atomic(&out, png.get_ref())?;
    }
    Ok(analysis)
}

/// Where the overlay of `photo` goes in `dir`.
pub fn overlay_path(dir: &Path, photo: &Path) -> PathBuf {
    dir.join(format!("{}.overlay.png", stem(photo)))
}

/// The name of each photo's document in an --out folder: its stem, numbered from 2 where two
/// photos from different folders share one, so that none overwrites another.
fn document_names(photos: &[PathBuf]) -> Vec<String> {
    let mut used = std::collections::HashSet::new();
    photos
        .iter()
        .map(|path| {
            let mut name = stem(path);
            let mut k = 1;
            while !used.insert(name.clone()) {
                k += 1;
                name = format!("{}-{k}", stem(path));
            }
            format!("{name}.json")
        })
        .collect()
}

/// Every output is writable and none is an input, before any photo is analysed.
fn check_outputs(a: &AnalyzeArgs) -> Result<(), Error> {
    if let Some(dir) = &a.out {
        writable_dir(dir)?;
        for name in document_names(&a.photos) {
            not_an_input(&dir.join(name), &a.photos)?;
        }
    }
    if let Some(dir) = &a.overlay {
        writable_dir(dir)?;
        for photo in &a.photos {
            not_an_input(&overlay_path(dir, photo), &a.photos)?;
        }
    }
    if let Some(file) = &a.json {
        writable_file(file, &a.photos)?;
    }
    Ok(())
}

fn write_documents(a: &AnalyzeArgs, docs: &[Result<Value, Value>]) -> Result<(), Error> {
    let values: Vec<&Value> = docs.iter().map(|d| d.as_ref().unwrap_or_else(|e| e)).collect();
    if let Some(dir) = &a.out {
        for (doc, name) in values.iter().zip(document_names(&a.photos)) {
            write_text(&dir.join(name), &pretty(doc))?;
        }
        return Ok(());
    }
    match &a.json {
        Some(p) => write_text(p, &pretty(&Value::Array(values.into_iter().cloned().collect()))),
        // One photo to standard output: its document alone.
        None if values.len() == 1 => write_text(Path::new("-"), &pretty(values[0])),
        None => write_text(Path::new("-"), &pretty(&Value::Array(values.into_iter().cloned().collect()))),
    }
}
