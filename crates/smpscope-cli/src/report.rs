//! `smpscope report`: the clinician's HTML report of one photo or a series of visits, from
//! photos or saved documents (`analyze` and `track` JSON, so that nothing is analysed again).
//! The report itself is made by the smpscope-report crate; this file reads the inputs and
//! writes the one output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use smpscope::{Analysis, Error, Params, Track};
use smpscope_report::{Report, ReportParams, ReportVisit};

use crate::output::{writable_file, write_atomic};
use crate::track::{TrackingArgs, fail, read_documents};
use crate::{AnalysisArgs, read_config};

#[derive(Args)]
pub struct ReportArgs {
    /// The visits: photos, or analysis documents (.json) written by `smpscope analyze` (their
    /// photos are read from `image.source` for the pictures when still there).
    #[arg(required = true, num_args = 1..)]
    visits: Vec<PathBuf>,
    #[command(flatten)]
    analysis: AnalysisArgs,
    #[command(flatten)]
    tracking: TrackingArgs,
    /// A track document of these visits written by `smpscope track --out FILE`: used as it is
    /// instead of tracking again.
    #[arg(long, conflicts_with_all = ["dates", "threshold", "track_params"])]
    track: Option<PathBuf>,
    /// The patient's label shown in the report's header (e.g. a clinic reference).
    #[arg(long)]
    label: Option<String>,
    /// Report parameters file (JSON or TOML): photo_max_side_px, crop_side_px, jpeg_quality,
    /// histogram_bins.
    #[arg(long)]
    report_params: Option<PathBuf>,
    /// Write the report (one HTML file) to FILE.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(a: ReportArgs) -> Result<ExitCode, Error> {
    let params = a.analysis.params()?;
    let track_params = a.tracking.params()?;
    let report_params: ReportParams = match &a.report_params {
        Some(p) => read_config(p, "report parameters")?,
        None => ReportParams::default(),
    };
    report_params
        .validate()
        .map_err(|e| Error::InvalidParameter { name: "report_params".into(), reason: e.to_string() })?;
    let inputs: Vec<PathBuf> = a.visits.iter().chain(&a.track).cloned().collect();
    writable_file(&a.out, &inputs)?;
    let visits = match a.analysis.load_visits(&a.visits, |p| load_visit(p, &params))? {
        Ok(visits) => visits,
        Err((path, e)) => return Ok(fail(&path, &e)),
    };
    let track = match (&a.track, visits.len()) {
        (Some(path), _) => Some(read_track(path)?),
        (None, 1) if a.tracking.dates.len() > 1 => return Err(dates_mismatch(a.tracking.dates.len())),
        (None, 1) => None,
        (None, _) => {
            let analyses: Vec<Analysis> = visits.iter().map(|v| v.analysis.clone()).collect();
            match smpscope::track(a.tracking.visits(analyses)?, &track_params) {
                Ok(t) => Some(t),
                Err(e) => match e.source_name() {
                    Some(source) => return Ok(fail(Path::new(source), &e)),
                    None => return Err(e),
                },
            }
        }
    };
    let report = Report {
        label: a.label.clone(),
        visits,
        track,
        params: Some(serde_json::to_value(&params).expect("parameters serialise")),
    };
    match smpscope_report::render(&report, &report_params) {
        Ok(html) => write_atomic(&a.out, html.as_bytes())?,
        Err(e) => {
            eprintln!("smpscope: {e}");
            return Ok(ExitCode::from(1));
        }
    }
    if !a.analysis.quiet {
        eprintln!("smpscope: report written to {}", a.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn dates_mismatch(dates: usize) -> Error {
    Error::InvalidParameter { name: "dates".into(), reason: format!("{dates} dates for 1 visit") }
}

/// A photo analysed now, or the analyses of a document (each with its photo when the file it
/// names is still there and of the same size); each with the SHA-256 of the file given.
fn load_visit(path: &Path, params: &Params) -> Result<Vec<ReportVisit>, Error> {
    let hash = |p: &Path| {
        smpscope_report::sha256_file(p)
            .map_err(|e| Error::Io { source_name: p.display().to_string(), reason: e.to_string() })
    };
    if path.extension().is_some_and(|e| e == "json") {
        let sha256 = Some(hash(path)?);
        return Ok(read_documents(path)?
            .into_iter()
            .map(|analysis| {
                let photo = photo_of(&analysis);
                ReportVisit { analysis, photo, sha256: sha256.clone() }
            })
            .collect());
    }
    let photo = smpscope::photo::load_path(path)?;
    let analysis = smpscope::analyze_photo(&photo, params)?;
    Ok(vec![ReportVisit { analysis, photo: Some(photo), sha256: Some(hash(path)?) }])
}

/// The photo an analysis document names, when it can still be read and has the analysed size.
fn photo_of(analysis: &Analysis) -> Option<smpscope::Photo> {
    let photo = smpscope::photo::load_path(Path::new(&analysis.image.source)).ok()?;
    let same = photo.width() == analysis.image.width as usize && photo.height() == analysis.image.height as usize;
    same.then_some(photo)
}

/// A track document written by `smpscope track`.
fn read_track(path: &Path) -> Result<Track, Error> {
    let name = path.display().to_string();
    let value: serde_json::Value = read_config(path, "JSON")?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(smpscope::TRACK_SCHEMA) => {}
        _ => {
            return Err(Error::BadInputFile {
                source_name: name,
                reason: format!("not a {} document; write it with `smpscope track --out FILE`", smpscope::TRACK_SCHEMA),
            });
        }
    }
    serde_json::from_value(value).map_err(|e| Error::BadInputFile {
        source_name: name,
        reason: format!("not a valid {} document: {e}", smpscope::TRACK_SCHEMA),
    })
}
