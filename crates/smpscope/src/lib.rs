#![warn(missing_docs)]

//! smpscope: measure scalp micropigmentation (SMP) pigment dots in standardised scalp photos.
//!
//! The pipeline runs one way, one module per stage: [`photo`] (decode, EXIF, orientation) ->
//! [`scale`] -> [`colour`] -> [`background`] (local skin level, optical density) -> [`detect`]
//! (candidates) -> [`measure`] (per-dot model fit) -> [`region`] and [`summary`] -> [`track`](mod@track)
//! (visits of the same area). [`analysis`] strings the stages together for one photo.
//!
//! ```no_run
//! let params = smpscope::Params { px_per_mm: Some(40.0), ..Default::default() };
//! let a = smpscope::analyze_path(std::path::Path::new("scalp.jpg"), &params)?;
//! println!("{} dots, {:?} per cm^2", a.summary.dot_count, a.summary.density_per_cm2);
//! # Ok::<(), smpscope::Error>(())
//! ```

pub mod analysis;
pub mod background;
pub mod check;
pub mod colour;
pub mod detect;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod linalg;
pub mod marker;
pub mod measure;
pub mod overlay;
pub mod photo;
pub mod plane;
pub mod region;
pub mod scale;
pub mod stats;
pub mod summary;
pub mod track;
pub mod warning;

pub use analysis::{ANALYSIS_SCHEMA, Analysis, Params, analyze_bytes, analyze_path, analyze_photo};
pub use error::{Error, Result};
pub use measure::{Dot, DotFlag, Intervals};
pub use photo::{Photo, Pixels};
pub use region::Roi;
pub use scale::DeviceProfiles;
pub use summary::Summary;
pub use track::{TRACK_SCHEMA, Track, TrackParams, Visit, track};
pub use warning::{Warning, WarningCode};
