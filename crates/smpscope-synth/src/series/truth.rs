//! Ground truth of a patient series: every dot's life on the scalp, and per visit the usual
//! photo truth plus the links between visits (transform, identities, reference colours).

use serde::{Deserialize, Serialize};

use super::TouchUp;
use crate::truth::Truth;

/// The `schema` value of [`SeriesTruth`].
pub const SERIES_TRUTH_SCHEMA: &str = "smpscope-synth.series-truth/1";

/// One dot of the patient, over its whole life. Positions are scalp px (the first visit's
/// upright px, possibly outside its frame).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesDot {
    /// Patient-level identity (the same in every visit).
    pub identity: usize,
    /// Centre, scalp px.
    pub x: f64,
    /// Centre, scalp px.
    pub y: f64,
    /// Deposit diameter D, um (constant).
    pub diameter_um: f64,
    /// Spread sigma when the ink was deposited, um.
    pub spread_um: f64,
    /// Plateau amount A0 when the ink was deposited (or at visit 0), luminance OD.
    pub amplitude: f64,
    /// This dot's half-life h_dot, months: A = A0 0.5^(age / h_dot).
    pub half_life_months: f64,
    /// Months (after the first visit) when the dot was inked: 0, or the touch-up's.
    pub born_months: f64,
    /// Months when it was re-inked (its age restarts there), if it was.
    pub reinked_months: Option<f64>,
    /// Months when it was lost, if that happened before the last visit.
    pub lost_months: Option<f64>,
}

/// One visit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitTruth {
    /// Capture date, "YYYY-MM-DD" (EXIF DateTimeOriginal is this date at 10:30:00).
    pub date: String,
    /// Months since the first visit (whole days / (365.2425 / 12)): the dots' aging time.
    pub months: f64,
    /// (a, b, tx, ty): x0 = a x - b y + tx, y0 = b x + a y + ty maps this visit's upright px to
    /// the first visit's upright px (scalp px).
    pub to_first: [f64; 4],
    /// This visit's true scale, px per mm.
    pub px_per_mm: f64,
    /// Whether a touch-up happened just before this visit.
    pub touch_up: bool,
    /// The photo's truth; its dots are those alive with centre inside this frame.
    pub truth: Truth,
    /// Patient-level identity of each of `truth.dots`.
    pub identity: Vec<usize>,
    /// CIELAB of each of `truth.dots` computed like `TruthDot::lab` (same peak OD and ink
    /// colour, skin without texture) but under the FIRST visit's light and white balance at the
    /// dot's scalp point: colour change across visits with the lighting taken out. Beyond the
    /// first frame that light is held at its frame-edge gradient and vignetting.
    pub lab_ref: Vec<[f64; 3]>,
    /// CIELAB of the skin under each dot, under the same reference light.
    pub skin_lab_ref: Vec<[f64; 3]>,
}

/// Everything true about a series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesTruth {
    /// Schema tag of this document.
    pub schema: String,
    /// Seed of the series (`base.seed`).
    pub seed: u64,
    /// Date of the first visit, "YYYY-MM-DD".
    pub first_date: String,
    /// Median ink half-life, months.
    pub half_life_months: f64,
    /// Spread growth, um of added sigma per year (s = sqrt(s0^2 + (g age / 12)^2)).
    pub spread_growth_um_per_year: f64,
    /// Blueing rate, 1 / year.
    pub blueing_per_year: f64,
    /// Yearly hazard of losing a dot.
    pub loss_per_year: f64,
    /// The touch-up, if any.
    pub touch_up: Option<TouchUp>,
    /// Number of dots drawn before any touch-up (over the whole scalp box, not one frame).
    pub original_dots: usize,
    /// Every dot that appears in at least one visit, by identity.
    pub dots: Vec<SeriesDot>,
    /// The visits in date order.
    pub visits: Vec<VisitTruth>,
}
