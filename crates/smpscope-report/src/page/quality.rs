//! The quality section (every warning in words, with what to do) and the provenance footer
//! (version, parameters, scale and blur source, SHA-256 of each input).

use serde::Serialize;
use smpscope::{Track, Warning, WarningCode};

use super::Placed;
use super::summary::scale_words;
use crate::Report;
use crate::advice::advice;
use crate::format::num;
use crate::provenance::VERSION;

/// One warning as the report shows it.
#[derive(Debug, Serialize)]
pub struct WarningView {
    /// Which visit (or the series) it is about.
    pub about: String,
    /// A short title.
    pub title: String,
    /// The warning's own message.
    pub message: String,
    /// What to do about it.
    pub todo: String,
    /// The stable code.
    pub code: String,
}

/// The provenance footer.
#[derive(Debug, Serialize)]
pub struct Provenance {
    /// smpscope's version.
    pub version: String,
    /// The analysis parameters as JSON, or a sentence saying they are not known.
    pub params: String,
    /// The tracking parameters as JSON, for a series.
    pub track_params: Option<String>,
    /// One row per input: visit, file, scale, camera blur, SHA-256.
    pub inputs: Vec<Vec<String>>,
}

/// The warnings of every visit's analysis, then of the track, without repeats.
pub fn warnings(track: Option<&Track>, placed: &[Placed], single: bool) -> Vec<WarningView> {
    let mut out: Vec<WarningView> = Vec::new();
    let mut push = |about: String, w: &Warning| {
        if out.iter().any(|o| o.message == w.message) {
            return;
        }
        let (title, todo) = advice(w.code);
        out.push(WarningView {
            about,
            title: title.into(),
            message: w.message.clone(),
            todo: todo.into(),
            code: w.code.as_str().into(),
        });
    };
    for p in placed {
        for w in coded(&p.visit.analysis.warning_codes, &p.visit.analysis.warnings) {
            push(p.title(single), &w);
        }
    }
    if let Some(t) = track {
        for w in coded(&t.warning_codes, &t.warnings) {
            push("The series".into(), &w);
        }
    }
    out
}

/// The coded warnings, or (documents written before codes existed) the messages as `other`.
fn coded(codes: &[Warning], messages: &[String]) -> Vec<Warning> {
    if codes.is_empty() {
        messages.iter().map(|m| Warning::new(WarningCode::Other, m.clone())).collect()
    } else {
        codes.to_vec()
    }
}

/// The provenance footer.
pub fn provenance(report: &Report, placed: &[Placed], single: bool) -> Provenance {
    let params = match &report.params {
        Some(p) => serde_json::to_string_pretty(p).expect("JSON values serialise"),
        None => "not recorded: the analyses were read from their documents".into(),
    };
    let track_params =
        report.track.as_ref().map(|t| serde_json::to_string_pretty(&t.params).expect("tracking parameters serialise"));
    let inputs = placed
        .iter()
        .map(|p| {
            let a = &p.visit.analysis;
            vec![
                if single { "Photo".into() } else { format!("Visit {}", p.number) },
                p.file_name(),
                scale_words(a),
                match a.scale.camera_blur_um {
                    Some(b) => format!("{} µm", num(Some(b), 1)),
                    None => "unknown".into(),
                },
                p.visit.sha256.clone().unwrap_or_else(|| "not computed (not a file)".into()),
            ]
        })
        .collect();
    Provenance { version: VERSION.into(), params, track_params, inputs }
}
