//! `smpscope track`: analyse the visits (or read their analysis documents), follow the dots and
//! write the `smpscope.track/1` document and a CSV of per-visit figures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;
use rayon::prelude::*;
use smpscope::{Analysis, Error, Track, TrackParams, Visit};

use crate::analyze::analyze_one;
use crate::{AnalysisArgs, error_record, pretty, read_config, write_text};

#[derive(Args)]
pub struct TrackArgs {
    /// The visits: photos, or analysis documents (.json) written by `smpscope analyze`.
    #[arg(required = true, num_args = 2..)]
    visits: Vec<PathBuf>,
    #[command(flatten)]
    analysis: AnalysisArgs,
    /// Visit dates YYYY-MM-DD, one per visit in the order given (default: EXIF capture dates).
    #[arg(long, value_delimiter = ',')]
    dates: Vec<NaiveDate>,
    /// ink_retained below which a touch-up is due.
    #[arg(long)]
    threshold: Option<f64>,
    /// Tracking parameters file (JSON or TOML) with any fields of the tracking parameters.
    #[arg(long)]
    track_params: Option<PathBuf>,
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
    let mut track_params: TrackParams = match &a.track_params {
        Some(p) => read_config(p, "tracking parameters")?,
        None => TrackParams::default(),
    };
    track_params.touch_up_threshold = a.threshold.unwrap_or(track_params.touch_up_threshold);
    track_params.validate()?;
    if !a.dates.is_empty() && a.dates.len() != a.visits.len() {
        return Err(Error::InvalidParameter {
            name: "dates".into(),
            reason: format!("{} dates for {} visits", a.dates.len(), a.visits.len()),
        });
    }
    if let Some(dir) = &a.overlay {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Io { source_name: dir.display().to_string(), reason: e.to_string() })?;
    }
    let bar = a.analysis.progress(a.visits.len());
    let analyses: Vec<Result<Analysis, Error>> = a.analysis.pool()?.install(|| {
        a.visits
            .par_iter()
            .map(|p| {
                let r = if p.extension().is_some_and(|e| e == "json") {
                    read_config(p, "analysis document")
                } else {
                    analyze_one(p, &params, a.overlay.as_deref())
                };
                bar.inc(1);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut visits = Vec::new();
    for (i, (r, path)) in analyses.into_iter().zip(&a.visits).enumerate() {
        match r {
            Ok(analysis) => visits.push(Visit { analysis, date: a.dates.get(i).copied() }),
            Err(e) => return Ok(fail(path, &e)),
        }
    }
    let track = match smpscope::track(visits, &track_params) {
        Ok(t) => t,
        Err(e) => match e.source_name() {
            Some(source) => return Ok(fail(Path::new(source), &e)),
            None => return Err(e),
        },
    };
    // A visit left out changes what the figures cover: say so where it is seen at once.
    for l in &track.left_out {
        eprintln!("smpscope: {}", l.warning());
    }
    write_text(&a.out, &track.to_json())?;
    if let Some(p) = &a.csv {
        write_csv(&track, p)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A visit that cannot be used stops the tracking: its error record goes to standard output.
fn fail(path: &Path, e: &Error) -> ExitCode {
    eprintln!("smpscope: {e}");
    println!("{}", pretty(&error_record(path, e)));
    ExitCode::from(1)
}

fn write_csv(track: &Track, path: &Path) -> Result<(), Error> {
    let io = |e: csv::Error| Error::Io { source_name: path.display().to_string(), reason: e.to_string() };
    let mut w = csv::Writer::from_path(path).map_err(io)?;
    w.write_record([
        "visit",
        "source",
        "date",
        "months",
        "baseline",
        "touch_up",
        "dot_count",
        "density_per_cm2",
        "shared_dots",
        "matched",
        "lost",
        "new",
        "density_retained",
        "ink_retained",
        "spread_growth_um",
        "diameter_change_um",
        "colour_shift_de",
        "delta_b",
        "delta_b_low",
        "delta_b_high",
        "rotation_deg",
        "scale",
        "residual_um",
    ])
    .map_err(io)?;
    let num = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    for (i, v) in track.visits.iter().enumerate() {
        let r = v.registration.as_ref();
        w.write_record([
            i.to_string(),
            v.source.clone(),
            v.date.to_string(),
            format!("{:.3}", v.months),
            v.baseline.to_string(),
            v.touch_up.to_string(),
            v.dot_count.to_string(),
            num(v.density_per_cm2),
            v.shared_dots.to_string(),
            v.matched.to_string(),
            v.lost.to_string(),
            v.new.to_string(),
            num(v.density_retained),
            num(v.ink_retained),
            num(v.spread_growth_um),
            num(v.diameter_change_um),
            num(v.colour_shift_de),
            num(v.delta_b),
            num(v.delta_b_interval.map(|i| i[0])),
            num(v.delta_b_interval.map(|i| i[1])),
            num(r.map(|r| r.rotation_deg)),
            num(r.map(|r| r.scale)),
            num(r.and_then(|r| r.residual_um)),
        ])
        .map_err(io)?;
    }
    w.flush().map_err(|e| Error::Io { source_name: path.display().to_string(), reason: e.to_string() })
}
