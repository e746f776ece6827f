#![warn(missing_docs)]

//! The clinician's report of smpscope: analysis documents ([`smpscope::Analysis`]), an optional
//! track document ([`smpscope::Track`]) and the photos into one self-contained HTML file. No
//! network: the pictures are re-encoded without EXIF or GPS and embedded as `data:` URIs, the
//! plots are inline SVG drawn by plotters, the page comes from a minijinja template shipped in
//! the crate, and a print stylesheet lays it out on A4 (a summary page, then a page per visit).
//!
//! The core never depends on this crate; the command and the Python package call it.
//!
//! ```no_run
//! use smpscope_report::{Report, ReportParams, ReportVisit, render};
//! let params = smpscope::Params { px_per_mm: Some(40.0), ..Default::default() };
//! let photo = smpscope::photo::load_path("scalp.jpg".as_ref())?;
//! let analysis = smpscope::analyze_photo(&photo, &params)?;
//! let sha256 = Some(smpscope_report::sha256_file("scalp.jpg".as_ref())?);
//! let visit = ReportVisit { analysis, photo: Some(photo), sha256 };
//! let report = Report { label: None, visits: vec![visit], track: None, params: None };
//! std::fs::write("report.html", render(&report, &ReportParams::default())?)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod advice;
mod error;
mod format;
mod images;
mod page;
mod params;
mod plots;
mod provenance;
mod template;

use smpscope::{Analysis, Photo, Track};

pub use error::ReportError;
pub use params::ReportParams;
pub use provenance::{VERSION, sha256_bytes, sha256_file};

/// One visit of a report (or the one photo of a single-photo report).
#[derive(Debug, Clone)]
pub struct ReportVisit {
    /// The visit's analysis document.
    pub analysis: Analysis,
    /// The decoded photo; None when only the analysis is at hand (the report then shows its
    /// figures without pictures, and says so).
    pub photo: Option<Photo>,
    /// SHA-256 of the input file (photo or analysis document), 64 hex digits; None when unknown
    /// (an in-memory array).
    pub sha256: Option<String>,
}

/// Everything a report is made from.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The patient's label as the clinic gives it (shown in the header); None for none.
    pub label: Option<String>,
    /// The visits, in any order: with a track document they are shown in its (date) order.
    pub visits: Vec<ReportVisit>,
    /// The track document of the visits; None for a single photo or an untracked set.
    pub track: Option<Track>,
    /// The analysis parameters the visits were analysed with (as JSON), for the provenance
    /// footer; None when not known (analysis documents read back).
    pub params: Option<serde_json::Value>,
}

/// Renders `report` to one self-contained HTML document.
pub fn render(report: &Report, params: &ReportParams) -> Result<String, ReportError> {
    params.validate()?;
    if report.visits.is_empty() {
        return Err(ReportError::NoVisits);
    }
    let page = page::assemble(report, params)?;
    template::render(&page)
}
