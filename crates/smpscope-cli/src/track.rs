//! `smpscope track`: analyse the visits (or read their analysis documents), follow the dots and
//! write the `smpscope.track/1` document and a CSV of per-visit figures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;
use smpscope::track::VisitReport;
use smpscope::{Analysis, Error, Track, TrackParams, Visit};

use crate::analyze::{analyze_one, overlay_path};
use crate::output::{not_an_input, writable_dir, writable_file, write_atomic, write_text};
use crate::{AnalysisArgs, error_record, pretty, read_config};

#[derive(Args)]
pub struct TrackArgs {
    /// The visits: photos, or analysis documents (.json) written by `smpscope analyze` (one
    /// document per file, or the array that `analyze --json FILE` writes).
    #[arg(required = true, num_args = 1..)]
    visits: Vec<PathBuf>,
    #[command(flatten)]
    analysis: AnalysisArgs,
    #[command(flatten)]
    tracking: TrackingArgs,
    /// Write the tracking document to FILE ("-" for standard output, the default).
    #[arg(long, default_value = "-")]
    out: PathBuf,
    /// Write the per-visit figures as CSV to FILE.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write the overlay of each visit to DIR/<photo stem>.overlay.png.
    #[arg(long)]
    overlay: Option<PathBuf>,
}

pub fn run(a: TrackArgs) -> Result<ExitCode, Error> {
    let params = a.analysis.params()?;
    let track_params = a.tracking.params()?;
    check_outputs(&a)?;
    let load = |p: &Path| {
        if p.extension().is_some_and(|e| e == "json") {
            read_documents(p)
        } else {
            analyze_one(p, &params, a.overlay.as_deref()).map(|an| vec![an])
        }
    };
    let analyses = match a.analysis.load_visits(&a.visits, load)? {
        Ok(analyses) => analyses,
        Err((path, e)) => return Ok(fail(&path, &e)),
    };
    if analyses.len() < 2 {
        return Err(Error::InvalidParameter {
            name: "visits".into(),
            reason: format!("{} visit given; tracking needs at least 2", analyses.len()),
        });
    }
    let visits = a.tracking.visits(analyses)?;
    let track = match smpscope::track(visits, &track_params) {
        Ok(t) => t,
        Err(e) => match e.source_name() {
            Some(source) => return Ok(fail(Path::new(source), &e)),
            None => return Err(e),
        },
    };
    // A visit left out changes what the figures cover: say so where it is seen at once.
    for l in &track.left_out {
        eprintln!("smpscope: {}", l.warning().message);
    }
    write_text(&a.out, &track.to_json())?;
    if let Some(p) = &a.csv {
        write_csv(&track, p)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// How visits are tracked, as the track and report commands take it.
#[derive(Args, Debug)]
pub struct TrackingArgs {
    /// Visit dates YYYY-MM-DD, one per visit in the order given (default: EXIF capture dates).
    #[arg(long, value_delimiter = ',', value_parser = parse_date)]
    pub dates: Vec<NaiveDate>,
    /// ink_retained below which a touch-up is due.
    #[arg(long)]
    threshold: Option<f64>,
    /// Tracking parameters file (JSON or TOML) with any fields of the tracking parameters.
    #[arg(long)]
    track_params: Option<PathBuf>,
}

impl TrackingArgs {
    /// The tracking parameters: the file given, then the threshold given, checked.
    pub fn params(&self) -> Result<TrackParams, Error> {
        let mut track_params: TrackParams = match &self.track_params {
            Some(p) => read_config(p, "tracking parameters")?,
            None => TrackParams::default(),
        };
        track_params.touch_up_threshold = self.threshold.unwrap_or(track_params.touch_up_threshold);
        track_params.validate()?;
        Ok(track_params)
    }

    /// The visits with the dates given (none: each from its EXIF capture date); as many dates
    /// as visits, or none.
    pub fn visits(&self, analyses: Vec<Analysis>) -> Result<Vec<Visit>, Error> {
        let dates = &self.dates;
        if !dates.is_empty() && dates.len() != analyses.len() {
            return Err(Error::InvalidParameter {
                name: "dates".into(),
                reason: format!("{} dates for {} visits", dates.len(), analyses.len()),
            });
        }
        Ok(analyses
            .into_iter()
            .enumerate()
            .map(|(i, analysis)| Visit { analysis, date: dates.get(i).copied() })
            .collect())
    }
}

/// A visit date as the user writes it, with a message that says the format expected.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date: write YYYY-MM-DD, e.g. 2024-03-14"))
}

/// Every output is writable and none is an input, before any visit is analysed.
fn check_outputs(a: &TrackArgs) -> Result<(), Error> {
    writable_file(&a.out, &a.visits)?;
    if let Some(csv) = &a.csv {
        writable_file(csv, &a.visits)?;
        if csv == &a.out {
            return Err(Error::Write {
                source_name: csv.display().to_string(),
                reason: "given both as --out and as --csv".into(),
            });
        }
    }
    if let Some(dir) = &a.overlay {
        writable_dir(dir)?;
        for v in &a.visits {
            not_an_input(&overlay_path(dir, v), &a.visits)?;
        }
    }
    Ok(())
}

/// Largest analysis document file read (a 12 MP photo's document is a few MB).
const MAX_DOCUMENT_BYTES: u64 = 512 << 20;

/// The analyses in a JSON file: one `smpscope.analysis/1` document, or an array of them (as
/// `analyze --json FILE` writes). Each is checked by its `schema`; fields added by later versions
/// are accepted. An error names the file and, in an array, the document.
pub fn read_documents(path: &Path) -> Result<Vec<Analysis>, Error> {
    let name = path.display().to_string();
    let bad = |reason: String| Error::BadInputFile { source_name: name.clone(), reason };
    let size = std::fs::metadata(path).map_err(|e| Error::Io { source_name: name.clone(), reason: e.to_string() })?;
    if size.len() > MAX_DOCUMENT_BYTES {
        return Err(bad(format!("{} MB is more than an analysis document can be (512 MB)", size.len() >> 20)));
    }
    let value: serde_json::Value = read_config(path, "JSON")?;
    let (docs, in_array) = match value {
        serde_json::Value::Array(docs) => (docs, true),
        doc => (vec![doc], false),
    };
    if docs.is_empty() {
        return Err(bad("an empty array: no analysis document in it".into()));
    }
    let count = docs.len();
    docs.into_iter()
        .enumerate()
        .map(|(i, doc)| {
            let which = if in_array { format!("document {} of {count}: ", i + 1) } else { String::new() };
            match doc.get("schema").and_then(|s| s.as_str()) {
                Some(smpscope::ANALYSIS_SCHEMA) => {}
                Some("smpscope.error/1") => {
                    let msg = doc["error"]["message"].as_str().unwrap_or("no message");
                    return Err(bad(format!("{which}an error record, not an analysis ({msg})")));
                }
                Some(other) => {
                    return Err(bad(format!(
                        "{which}schema \"{}\" is not {}; write it with `smpscope analyze`",
                        other.chars().take(40).collect::<String>(),
                        smpscope::ANALYSIS_SCHEMA
                    )));
                }
                None => return Err(bad(format!("{which}not an analysis document (it has no \"schema\" field)"))),
            }
            serde_json::from_value(doc)
                .map_err(|e| bad(format!("{which}not a valid {} document: {e}", smpscope::ANALYSIS_SCHEMA)))
        })
        .collect()
}

/// A visit that cannot be used stops the tracking: its error record goes to standard output.
pub fn fail(path: &Path, e: &Error) -> ExitCode {
    eprintln!("smpscope: {e}");
    println!("{}", pretty(&error_record(path, e)));
    ExitCode::from(1)
}

/// A CSV column's value for a visit, from its index and its report.
type CsvValue = fn(usize, &VisitReport) -> String;

/// The columns of the per-visit CSV: the name and the value of each visit (its index, its
/// report), one table so that the header and the rows cannot drift apart. Columns added later
/// go at the end, so that existing readers find theirs where they were.
const CSV_COLUMNS: &[(&str, CsvValue)] = &[
    ("visit", |i, _| i.to_string()),
    ("source", |_, v| v.source.clone()),
    ("date", |_, v| v.date.to_string()),
    ("months", |_, v| format!("{:.3}", v.months)),
    ("baseline", |_, v| v.baseline.to_string()),
    ("touch_up", |_, v| v.touch_up.to_string()),
    ("dot_count", |_, v| v.dot_count.to_string()),
    ("density_per_cm2", |_, v| num(v.density_per_cm2)),
    ("shared_dots", |_, v| v.shared_dots.to_string()),
    ("matched", |_, v| v.matched.to_string()),
    ("lost", |_, v| v.lost.to_string()),
    ("new", |_, v| v.new.to_string()),
    ("density_retained", |_, v| num(v.density_retained)),
    ("ink_retained", |_, v| num(v.ink_retained)),
    ("spread_growth_um", |_, v| num(v.spread_growth_um)),
    ("diameter_change_um", |_, v| num(v.diameter_change_um)),
    ("colour_shift_de", |_, v| num(v.colour_shift_de)),
    ("delta_b", |_, v| num(v.delta_b)),
    ("delta_b_low", |_, v| num(v.delta_b_interval.map(|i| i[0]))),
    ("delta_b_high", |_, v| num(v.delta_b_interval.map(|i| i[1]))),
    ("rotation_deg", |_, v| num(v.registration.as_ref().map(|r| r.rotation_deg))),
    ("scale", |_, v| num(v.registration.as_ref().map(|r| r.scale))),
    ("residual_um", |_, v| num(v.registration.as_ref().and_then(|r| r.residual_um))),
    ("pigment_shift", |_, v| num(v.pigment_shift)),
    ("pigment_shift_low", |_, v| num(v.pigment_shift_interval.map(|i| i[0]))),
    ("pigment_shift_high", |_, v| num(v.pigment_shift_interval.map(|i| i[1]))),
    ("input", |_, v| v.input.map(|i| i.to_string()).unwrap_or_default()),
];

/// A number to 6 decimals; empty when null.
fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.6}")).unwrap_or_default()
}

fn write_csv(track: &Track, path: &Path) -> Result<(), Error> {
    let io = |e: csv::Error| Error::Write { source_name: path.display().to_string(), reason: e.to_string() };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS.iter().map(|c| c.0)).map_err(io)?;
    for (i, v) in track.visits.iter().enumerate() {
        w.write_record(CSV_COLUMNS.iter().map(|c| c.1(i, v))).map_err(io)?;
    }
    let bytes =
        w.into_inner().map_err(|e| Error::Write { source_name: path.display().to_string(), reason: e.to_string() })?;
    write_atomic(path, &bytes)
}
