//! `report`: photos in, the clinician's HTML report out (through the smpscope-report crate),
//! the GIL released. The report file is written atomically and is never one of the photos.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use pyo3::prelude::*;
use rayon::prelude::*;
use smpscope::{Analysis, Params, TrackParams, Visit};
use smpscope_report::{Report, ReportError, ReportParams, ReportVisit};

use crate::errors::{Failure, err, guarded};
use crate::params::{params, parse_dates, pool, run, track_params};

/// Analyses the photos (in parallel), tracks them when there are two or more, and writes the
/// report to `out`. Returns `out`.
#[pyfunction]
#[pyo3(signature = (photos, out, dates=None, params_json="{}", track_params_json="{}", roi=None, profiles=None, label=None, threads=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn report<'py>(
    py: Python<'py>,
    photos: Vec<PathBuf>,
    out: PathBuf,
    dates: Option<Vec<Option<String>>>,
    params_json: &str,
    track_params_json: &str,
    roi: Option<&Bound<'py, PyAny>>,
    profiles: Option<PathBuf>,
    label: Option<String>,
    threads: Option<usize>,
) -> PyResult<PathBuf> {
    if photos.is_empty() {
        return Err(err(Failure::parameter("report needs at least one photo")));
    }
    let tp = track_params(track_params_json)?;
    let dates = parse_dates(dates, photos.len())?;
    check_out(&out, &photos).map_err(err)?;
    let p = params(py, params_json, roi, profiles)?;
    let pool = pool(threads)?;
    let result = py.detach(|| {
        run(pool.as_ref(), || {
            guarded("report", || {
                let html = build(&photos, &dates, &p, &tp, label)?;
                write_atomic(&out, html.as_bytes())
            })
        })
    });
    result.map_err(err)?;
    Ok(out)
}

/// The report of the photos as HTML.
fn build(
    photos: &[PathBuf],
    dates: &[Option<NaiveDate>],
    p: &Params,
    tp: &TrackParams,
    label: Option<String>,
) -> Result<String, Failure> {
    let visits: Vec<ReportVisit> = photos.par_iter().map(|path| load(path, p)).collect::<Result<_, _>>()?;
    let track = if visits.len() > 1 {
        let tracked: Vec<Visit> =
            visits.iter().zip(dates).map(|(v, date)| Visit { analysis: v.analysis.clone(), date: *date }).collect();
        Some(smpscope::track(tracked, tp)?)
    } else {
        None
    };
    let report = Report { label, visits, track, params: Some(serde_json::to_value(p).expect("parameters serialise")) };
    smpscope_report::render(&report, &ReportParams::default()).map_err(report_failure)
}

/// A photo read, analysed and hashed.
fn load(path: &Path, p: &Params) -> Result<ReportVisit, Failure> {
    let photo = smpscope::photo::load_path(path)?;
    let analysis: Analysis = smpscope::analyze_photo(&photo, p)?;
    let sha256 = smpscope_report::sha256_file(path).map_err(report_failure)?;
    Ok(ReportVisit { analysis, photo: Some(photo), sha256: Some(sha256) })
}

fn report_failure(e: ReportError) -> Failure {
    let kind = match e {
        ReportError::Parameter { .. } | ReportError::NoVisits | ReportError::TrackMismatch { .. } => {
            "invalid_parameter"
        }
        ReportError::Read { .. } => "io",
        _ => "internal",
    };
    Failure { kind, message: e.to_string(), source: None }
}

fn write_failure(out: &Path, reason: impl std::fmt::Display) -> Failure {
    Failure {
        kind: "invalid_parameter",
        message: format!("{}: cannot write the report: {reason}", out.display()),
        source: None,
    }
}

/// The report's path is a file in an existing folder and none of the photos.
fn check_out(out: &Path, photos: &[PathBuf]) -> Result<(), Failure> {
    if out.is_dir() {
        return Err(write_failure(out, "it is a folder; give a file name"));
    }
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    if let Some(o) = canonical(out)
        && let Some(photo) = photos.iter().find(|p| canonical(p).as_ref() == Some(&o))
    {
        return Err(write_failure(out, format!("it is the photo {} (photos are never written to)", photo.display())));
    }
    let dir = folder(out);
    if !dir.is_dir() {
        return Err(write_failure(out, format!("the folder {} does not exist", dir.display())));
    }
    Ok(())
}

fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to a temporary file beside `out`, then renames it over `out`.
fn write_atomic(out: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut tmp = tempfile::NamedTempFile::new_in(folder(out)).map_err(|e| write_failure(out, e))?;
    tmp.write_all(bytes).map_err(|e| write_failure(out, e))?;
    tmp.persist(out).map(drop).map_err(|e| write_failure(out, e.error))
}
