//! Tracking: the same dots across visits, and how the treatment fades, spreads and shifts
//! colour; the `smpscope.track/1` document.
//!
//! Visits are ordered by date; each later visit is registered onto the first from the dot
//! patterns ([`register`](mod@register)); its dots continue identities or start new ones ([`identity`]); a
//! visit that adds many dots or ink is a touch-up and becomes the baseline of the visits after
//! it; each visit is compared with its baseline dot by dot ([`change`]), and ink_retained over
//! time gives the fade and the touch-up forecast ([`trend`]).

pub mod change;
pub mod identity;
pub mod register;
mod report;
mod series;
mod similarity;
mod touch_up;
pub mod trend;
pub mod visits;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::warning::{self, Warning, WarningCode};
use change::DotChange;
use register::Similarity;
use series::Series;
pub use trend::Trend;

/// Median deposit diameter, px, of the dots found at two visits or more, below which a JPEG
/// keeps too little of their colour to follow a shift of one unit of b*
/// (docs/decisions.md#colour-resolution). A visit compared with such a photo has its colour
/// figures left null, with a warning, as lengths are without a scale.
pub const MIN_COLOUR_DIAMETER_PX: f64 = 4.0;

/// The same where the JPEG stores colour at half resolution (4:2:0, 4:2:2), which blurs colour
/// over twice the pixels (docs/decisions.md#colour-resolution).
pub const MIN_COLOUR_DIAMETER_SUBSAMPLED_PX: f64 = 8.0;

/// Share of a visit's dots found at no other visit (where another visit shows their place)
/// above which its detections are called into doubt. Dots lost for good or added at a touch-up
/// are one-offs too, but few (docs/decisions.md#stray-share).
const STRAY_SHARE: f64 = 0.3;

/// Share of a baseline's dots found again below which a visit is warned of: dots are rarely
/// lost for good (a few per cent a year), so most of those missing have faded or blurred out
/// of sight, and the ones found are the most visible (docs/decisions.md#few-dots-found).
const FEW_FOUND: f64 = 0.5;

/// The schema name of a tracking document.
pub const TRACK_SCHEMA: &str = "smpscope.track/1";

/// What a caller can set for tracking; every field has a sensible default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackParams {
    /// ink_retained below which a touch-up is due. Half the ink gone is when the dots have
    /// visibly lost contrast against the skin.
    pub touch_up_threshold: f64,
    /// Share of a visit's dots (in the view shared with the visits before) never seen before,
    /// from which the visit counts as a touch-up on that evidence alone.
    pub touch_up_new_dots: f64,
    /// Rise of the ink of dots seen at the previous visit, over what the fade since then would
    /// have left, from which the visit counts as a touch-up (re-inking) on that evidence alone.
    /// Short of both, the two add up: a visit is a touch-up when its share of new dots and its
    /// log rise, each as a fraction of its own threshold, sum to 1 or more.
    pub touch_up_ink_rise: f64,
}

impl Default for TrackParams {
    /// The ink rise: each visit's ink errs by up to about 10 % (highlights, exposure), so the
    /// ratio of two visits by up to about 20 %, and alone only a rise of 1.4 tells re-inking
    /// (docs/decisions.md#touch-up-ink-rise).
    fn default() -> Self {
        TrackParams { touch_up_threshold: 0.5, touch_up_new_dots: 0.12, touch_up_ink_rise: 1.4 }
    }
}

impl TrackParams {
    /// Checks every number is in its domain: the threshold and new-dot share in 0..1 (open),
    /// the ink rise a finite ratio above 1.
    pub fn validate(&self) -> Result<()> {
        let range = |name, min, max, typical| crate::check::Range { name, min, max, unit: "", typical };
        range("touch_up_threshold", 0.01, 0.99, "0.5").check(self.touch_up_threshold)?;
        range("touch_up_new_dots", 0.01, 0.99, "0.12").check(self.touch_up_new_dots)?;
        range("touch_up_ink_rise", 1.01, 10.0, "1.4").check(self.touch_up_ink_rise)?;
        Ok(())
    }
}

/// One visit to track: its analysis and, optionally, its date (else the EXIF capture date).
#[derive(Debug, Clone)]
pub struct Visit {
    /// The visit's analysis (from [`crate::analyze_path`] or read back from its JSON).
    pub analysis: Analysis,
    /// The visit's date; None to take it from the analysis' EXIF capture date.
    pub date: Option<NaiveDate>,
}

/// How a visit lies on the first one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationReport {
    /// Carries this visit's px onto the first visit's px: x' = a x - b y + tx, y' = b x + a y + ty.
    pub transform: Similarity,
    /// Rotation onto the first visit, degrees, counter-clockwise in image coordinates (y down).
    pub rotation_deg: f64,
    /// Length factor onto the first visit (> 1: this visit was taken from farther away).
    pub scale: f64,
    /// Root-mean-square distance of lined-up dots, px of the first visit.
    pub residual_px: f64,
    /// The same in um (None without a scale).
    pub residual_um: Option<f64>,
    /// Dots lined up within the registration's final tolerance.
    pub matched_dots: usize,
    /// Dots expected in the shared field of view (the fewer of the two visits').
    pub shared_dots: usize,
}

/// One visit's figures, relative to its baseline (the first visit or the last touch-up before
/// it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitReport {
    /// The visit's photo, as its analysis names it (`image.source`).
    pub source: String,
    /// Its index among the visits given (they are tracked in date order); absent from documents
    /// written before it existed.
    #[serde(default)]
    pub input: Option<usize>,
    /// The visit's date (given, or its EXIF capture date).
    pub date: NaiveDate,
    /// Months since the first visit.
    pub months: f64,
    /// Index of the visit this one is compared with.
    pub baseline: usize,
    /// Whether this visit added dots or ink (it is the baseline of the visits after it).
    pub touch_up: bool,
    /// None for the first visit.
    pub registration: Option<RegistrationReport>,
    /// All dots of the visit's analysis (the whole frame, not only the shared view).
    pub dot_count: usize,
    /// The visit's own density in its treated region, dots per cm^2; null without a scale.
    pub density_per_cm2: Option<f64>,
    /// Baseline dots in the field of view both visits share.
    pub shared_dots: usize,
    /// Of those, found again at this visit.
    pub matched: usize,
    /// Of those, not found at this visit.
    pub lost: usize,
    /// Dots of this visit in that view first seen after the baseline.
    pub new: usize,
    /// Dots now / dots at the baseline, in the shared view.
    pub density_retained: Option<f64>,
    /// Ink of the matched dots now / at the baseline (fade), stray pairs left out
    /// ([`change::ink_retained`]).
    pub ink_retained: Option<f64>,
    /// Median growth of the spread sigma of matched dots, um.
    pub spread_growth_um: Option<f64>,
    /// Median change of the deposit diameter of matched dots, um.
    pub diameter_change_um: Option<f64>,
    /// CIEDE2000 between the median colour of the matched dots at the baseline and that changed
    /// by their common change (white-balanced on the skin; [`change::colour_then_now`]).
    pub colour_shift_de: Option<f64>,
    /// b* now minus at the baseline, of the same colours: negative = bluer. Both colour figures
    /// are None where either photo is a JPEG whose dots are too small to keep their colour
    /// ([`MIN_COLOUR_DIAMETER_PX`]; a warning says so).
    pub delta_b: Option<f64>,
    /// 95 % interval of delta_b, from the scatter of the dots' changes and the measurement's
    /// systematic error ([`change::colour_then_now`]): where it holds 0, the photos do not tell
    /// bluer from yellower.
    pub delta_b_interval: Option<[f64; 2]>,
    /// Change of the pigment's own hue, median over the matched dots of ln(OD blue / OD red)
    /// now minus at the baseline ([`change::pigment_hue`]): negative = bluer. Unlike delta_b it
    /// does not move as a dot fades. None where delta_b is, or with fewer than 5 dots to read.
    #[serde(default)]
    pub pigment_shift: Option<f64>,
    /// 95 % interval of pigment_shift ([`change::pigment_change`]).
    #[serde(default)]
    pub pigment_shift_interval: Option<[f64; 2]>,
}

/// One dot followed across visits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedDot {
    /// Its identity: its index in the track's `matches`.
    pub id: usize,
    /// Where it was first seen: column, px of the first visit.
    pub x: f64,
    /// Where it was first seen: row, px of the first visit.
    pub y: f64,
    /// Index (in `visits`) of the visit it was first seen at.
    pub first_visit: usize,
    /// Its index in each visit's dots, null where not found.
    pub dots: Vec<Option<usize>>,
    /// Its change at each visit relative to that visit's baseline, where seen at both.
    pub changes: Vec<Option<DotChange>>,
}

/// A visit left out of the tracking because it cannot be registered onto the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftOut {
    /// The visit's photo, as its analysis names it (`image.source`).
    pub source: String,
    /// Its index among the visits given; absent from documents written before it existed.
    #[serde(default)]
    pub input: Option<usize>,
    /// The visit's date.
    pub date: NaiveDate,
    /// Why, as the registration error reads.
    pub reason: String,
}

impl LeftOut {
    /// The warning that says so.
    pub fn warning(&self) -> Warning {
        Warning::new(WarningCode::VisitLeftOut, format!("{}; this visit is left out", self.reason))
    }
}

/// The `smpscope.track/1` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// Always [`TRACK_SCHEMA`], `smpscope.track/1`.
    pub schema: String,
    /// The parameters the series was tracked with.
    pub params: TrackParams,
    /// The visits tracked, by date; the first is the reference of every registration.
    pub visits: Vec<VisitReport>,
    /// Visits that could not be registered onto the first, not in `visits` (a warning says so).
    #[serde(default)]
    pub left_out: Vec<LeftOut>,
    /// Every dot identity of the series, each with its dot at every visit where found.
    pub matches: Vec<TrackedDot>,
    /// The fitted fade (half-life, months) and the touch-up forecast.
    pub trend: Trend,
    /// What the caller should know about the figures; empty when none.
    pub warnings: Vec<String>,
    /// The same warnings with their stable codes (`[{"code", "message"}]`).
    #[serde(default)]
    pub warning_codes: Vec<Warning>,
}

impl Track {
    /// The JSON document, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a track always serialises")
    }
}

/// Follows the dots of `visits` (any order; sorted by date here) and measures the change. Needs
/// at least two visits; a later visit that cannot be registered onto the first is left out with
/// a warning, and the series is refused only when none can be.
///
/// ```
/// use smpscope::{Params, TrackParams, Visit, analyze_path, track};
/// // The demo patient's first two visits, 8 months apart (dates from their EXIF).
/// let params = Params { px_per_mm: Some(40.0), ..Default::default() };
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/patient");
/// let visit = |n: u32| -> smpscope::Result<Visit> {
///     Ok(Visit { analysis: analyze_path(format!("{dir}/visit-{n}.jpg").as_ref(), &params)?, date: None })
/// };
/// let t = track(vec![visit(1)?, visit(2)?], &TrackParams::default())?;
/// // The truth: a half-life of 30 months, 0.83 of the ink left after 8.
/// let ink = t.visits[1].ink_retained.unwrap();
/// assert!((0.75..0.92).contains(&ink), "{ink}");
/// # Ok::<(), smpscope::Error>(())
/// ```
pub fn track(visits: Vec<Visit>, params: &TrackParams) -> Result<Track> {
    params.validate()?;
    if visits.len() < 2 {
        return Err(Error::parameter("visits", format!("tracking needs at least two visits, not {}", visits.len())));
    }
    let (ordered, left_out, mut warnings) = visits::order_and_register(visits)?;
    let series = Series::identify(ordered);
    let views = series.views();
    let touch_up_at = touch_up::find(&series, &views, params);
    let colour_short = series.colour_short();
    let reports = report::visit_reports(&series, &views, &touch_up_at, &colour_short);
    warnings.extend(left_out.iter().map(LeftOut::warning));
    warnings.extend(reports.warnings);
    warnings.extend(report::photo_warnings(&series, &colour_short));
    let trend = trend::of_visits(&reports.visits, reports.baseline, params.touch_up_threshold);
    let matches = (series.ids.into_iter().zip(reports.changes).enumerate())
        .map(|(i, (id, changes))| TrackedDot {
            id: i,
            x: id.position[0],
            y: id.position[1],
            first_visit: id.first_visit,
            dots: id.dots,
            changes,
        })
        .collect();
    Ok(Track {
        schema: TRACK_SCHEMA.into(),
        params: params.clone(),
        visits: reports.visits,
        left_out,
        matches,
        trend,
        warnings: warning::messages(&warnings),
        warning_codes: warnings,
    })
}
