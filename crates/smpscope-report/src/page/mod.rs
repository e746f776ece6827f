//! What the template shows, assembled from the documents: one file per part of the page. Every
//! number is formatted here from a field of an analysis or track document (or a median of the
//! dots they list); the template only lays them out.

mod compare;
mod quality;
mod summary;
mod visit;

use rayon::prelude::*;
use serde::Serialize;
use smpscope::track::{LeftOut, VisitReport};

use crate::{Report, ReportError, ReportParams, ReportVisit};

/// The whole page.
#[derive(Debug, Serialize)]
pub struct Page {
    /// Title of the document.
    pub title: String,
    /// The summary page: header, headline sentences, table and fade curve.
    pub summary: summary::Summary,
    /// One section per visit, in date order (tracked visits first, then any left out).
    pub visits: Vec<visit::VisitSection>,
    /// The same region of every visit side by side, the before/after slider and the colour.
    pub compare: compare::Compare,
    /// Every warning in words, with what to do.
    pub warnings: Vec<quality::WarningView>,
    /// smpscope version, parameters, scale and blur source, input hashes.
    pub provenance: quality::Provenance,
}

/// A visit of the report with its place in the series.
pub struct Placed<'a> {
    /// The visit's analysis, photo and hash.
    pub visit: &'a ReportVisit,
    /// Its number as the report shows it (1 = first).
    pub number: usize,
    /// Its figures in the track document, when tracked.
    pub tracked: Option<&'a VisitReport>,
    /// Why it was left out of the tracking, when it was.
    pub left_out: Option<&'a LeftOut>,
}

impl Placed<'_> {
    /// The visit's date: the track's, else the EXIF capture date, else None.
    pub fn date(&self) -> Option<String> {
        match (self.tracked, self.left_out) {
            (Some(t), _) => Some(t.date.to_string()),
            (_, Some(l)) => Some(l.date.to_string()),
            _ => self.visit.analysis.image.captured_at.as_ref().map(|d| d.chars().take(10).collect()),
        }
    }

    /// "Visit 2 · 2024-03-14" (or "Photo" for a single-photo report).
    pub fn title(&self, single: bool) -> String {
        let date = self.date().unwrap_or_else(|| "date unknown".into());
        if single { format!("Photo · {date}") } else { format!("Visit {} · {date}", self.number) }
    }

    /// The photo's file name (the last part of `image.source`).
    pub fn file_name(&self) -> String {
        let source = &self.visit.analysis.image.source;
        std::path::Path::new(source).file_name().map_or_else(|| source.clone(), |n| n.to_string_lossy().into_owned())
    }
}

/// Puts the visits in the track document's order (then the visits it left out); without a
/// track, in the order given. A visit the track names that is not given is an error.
pub fn place(report: &Report) -> Result<Vec<Placed<'_>>, ReportError> {
    let Some(track) = &report.track else {
        return Ok(report
            .visits
            .iter()
            .enumerate()
            .map(|(i, visit)| Placed { visit, number: i + 1, tracked: None, left_out: None })
            .collect());
    };
    let mut used = vec![false; report.visits.len()];
    let mut take = |source: &str| -> Result<usize, ReportError> {
        let i = (0..report.visits.len())
            .find(|&i| !used[i] && report.visits[i].analysis.image.source == source)
            .ok_or_else(|| ReportError::TrackMismatch { source_name: source.to_string() })?;
        used[i] = true;
        Ok(i)
    };
    let mut placed = Vec::new();
    for t in &track.visits {
        let i = take(&t.source)?;
        placed.push(Placed { visit: &report.visits[i], number: placed.len() + 1, tracked: Some(t), left_out: None });
    }
    for l in &track.left_out {
        let i = take(&l.source)?;
        placed.push(Placed { visit: &report.visits[i], number: placed.len() + 1, tracked: None, left_out: Some(l) });
    }
    for visit in report.visits.iter().zip(&used).filter(|(_, u)| !**u).map(|(v, _)| v) {
        placed.push(Placed { visit, number: placed.len() + 1, tracked: None, left_out: None });
    }
    Ok(placed)
}

/// Assembles the page from the documents and photos.
pub fn assemble(report: &Report, params: &ReportParams) -> Result<Page, ReportError> {
    let placed = place(report)?;
    let single = placed.len() == 1;
    // Each photo is converted to 8-bit RGB once, for its picture and its crop.
    let rgb: Vec<Option<image::RgbImage>> =
        placed.par_iter().map(|p| p.visit.photo.as_ref().map(|ph| ph.to_rgb8())).collect();
    let title = match &report.label {
        Some(l) => format!("SMP report: {l}"),
        None => "SMP report".to_string(),
    };
    Ok(Page {
        title,
        summary: summary::assemble(report, &placed)?,
        visits: visit::assemble(&placed, &rgb, params, single)?,
        compare: compare::assemble(report.track.as_ref(), &placed, &rgb, params, single)?,
        warnings: quality::warnings(report.track.as_ref(), &placed, single),
        provenance: quality::provenance(report, &placed, single),
    })
}
