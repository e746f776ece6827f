//! What can go wrong while a report is made; the command and the Python package map these at
//! their edges.

use thiserror::Error;

/// An error of the report crate.
#[derive(Debug, Error)]
pub enum ReportError {
    /// Nothing to report: no visit was given.
    #[error("no visit to report: give at least one photo or analysis")]
    NoVisits,
    /// A report parameter is outside its range.
    #[error("report parameter {name}: {reason}")]
    Parameter {
        /// The parameter's name.
        name: &'static str,
        /// Why it is refused, with the range.
        reason: String,
    },
    /// The track document does not belong to the visits given (a visit it names is missing).
    #[error("the track document names the visit {source_name:?}, which is not among the visits given")]
    TrackMismatch {
        /// The visit's `image.source` as the track document names it.
        source_name: String,
    },
    /// An input file could not be read (for its SHA-256).
    #[error("{source_name}: cannot be read: {reason}")]
    Read {
        /// The file.
        source_name: String,
        /// The system's reason.
        reason: String,
    },
    /// An image could not be encoded for embedding.
    #[error("cannot encode an image for the report: {0}")]
    Encode(String),
    /// A plot could not be drawn.
    #[error("cannot draw the plot {plot}: {reason}")]
    Plot {
        /// Which plot.
        plot: &'static str,
        /// The plotting library's reason.
        reason: String,
    },
    /// The template could not be rendered (a bug: the template ships with the crate).
    #[error("cannot render the report template: {0}")]
    Template(String),
}
