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
pub mod trend;
pub mod visits;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::warning::{self, Warning, WarningCode};
use change::{DotChange, View, colour_then_now, compare, ink_retained, light_onto, pigment_change};
use identity::Catalogue;
use register::{Similarity, register};
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

fn centres(a: &Analysis) -> Vec<[f64; 2]> {
    a.dots.iter().map(|d| [d.x, d.y]).collect()
}

fn quantile(mut v: Vec<f64>, q: f64) -> Option<f64> {
    (!v.is_empty()).then(|| crate::plane::quantile(&mut v, q))
}

fn median(v: Vec<f64>) -> Option<f64> {
    quantile(v, 0.5)
}

/// The median of `(value, weight)` pairs: the value where the weights below and above balance,
/// halfway between two values where they balance exactly (so equal weights give the median).
fn weighted_median(mut v: Vec<(f64, f64)>) -> Option<f64> {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = 0.5 * v.iter().map(|x| x.1).sum::<f64>();
    let mut below = 0.0;
    for (i, &(x, w)) in v.iter().enumerate() {
        below += w;
        if (below - half).abs() <= 1e-9 * half {
            return Some(0.5 * (x + v.get(i + 1).map_or(x, |n| n.0)));
        }
        if below > half {
            return Some(x);
        }
    }
    None
}

/// What visit `t` shows against visit `t - 1`, on the identities in the view they share (see
/// [`Step`]): the ink of the dots seen at both (stray pairs left out as in [`ink_retained`]: one
/// hair fragment merged with a dot would otherwise pass for re-inking), and the share of the
/// never-seen dots that look like fresh dots of the same treatment, counted only where the dots
/// are more numerous by at least half the `touch_up_new_dots` share (some of a touch-up's new
/// dots are offset by dots missed this time). Fresh: ink at least 0.8 of the median continuing
/// dot's, and no more elongated than nine in ten continuing dots (the stray detections that come
/// and go are mostly hair and stubble fragments). A never-seen dot counts only if `stays` (it is
/// found again at the next visit that shows its place): strays come and go, and a touch-up's
/// dots stay.
fn step<'a>(
    shared: impl Iterator<Item = &'a identity::Identity>,
    stays: impl Fn(&identity::Identity) -> bool,
    views: &[View],
    t: usize,
    params: &TrackParams,
) -> Step {
    let (mut pairs, mut before, mut continuing, mut new) = (Vec::new(), 0usize, Vec::new(), Vec::new());
    let ink_shape = |q: usize| (views[t].ink(q), views[t].dots[q].eccentricity);
    for id in shared {
        before += id.dots[t - 1].is_some() as usize;
        match (id.dots[t - 1], id.dots[t]) {
            (_, Some(q)) if id.first_visit == t && stays(id) => new.push(ink_shape(q)),
            (_, Some(_)) if id.first_visit == t => {}
            (Some(p), Some(q)) => {
                pairs.push((views[t - 1].ink(p), views[t].ink(q)));
                continuing.push(ink_shape(q));
            }
            (None, Some(q)) => continuing.push(ink_shape(q)),
            _ => {}
        }
    }
    let after = continuing.len() + new.len();
    let typical = median(continuing.iter().map(|c| c.0).collect()).unwrap_or(0.0);
    let elongated = quantile(continuing.iter().map(|c| c.1).collect(), 0.9).unwrap_or(1.0);
    let fresh = new.iter().filter(|&&(ink, ecc)| ink >= 0.8 * typical && ecc <= elongated).count() as f64;
    let more_dots = after as f64 >= (1.0 + 0.5 * params.touch_up_new_dots) * before as f64;
    Step { ink: ink_retained(&pairs, false).unwrap_or(1.0), fresh: if more_dots { fresh / after as f64 } else { 0.0 } }
}

/// One visit against the one before: what a touch-up would show.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    /// Ink now / ink then of the dots seen at both.
    ink: f64,
    /// Share of the dots now that are fresh dots never seen before (0 unless the dots are more
    /// numerous).
    fresh: f64,
}

impl Step {
    const FIRST: Step = Step { ink: 1.0, fresh: 0.0 };

    /// How far the step goes towards a touch-up: its fresh-dot share and its ink's log rise over
    /// `expected` (what the fade would have left), each as a fraction of its threshold; a
    /// touch-up from 1.
    fn touch_up_evidence(&self, expected: f64, params: &TrackParams) -> f64 {
        let rise = (self.ink / expected).ln().max(0.0) / params.touch_up_ink_rise.ln();
        rise + self.fresh / params.touch_up_new_dots
    }
}

/// Which visits are touch-ups, from each visit's step from the one before and the visits'
/// months (see [`Step::touch_up_evidence`]). The fade expected over a step comes from the steps
/// that are plainly not touch-ups (neither their fresh dots nor their ink rise would count
/// alone): the median of their log2 ink lost per month, which a touch-up among them does not
/// drag. Re-inking after a year of fade may only bring the ink back to where it was, which is no
/// rise at all but far above the fade. The median is weighted by the square of each step's
/// months: a step's ink ratio errs by about as much whatever its length, so its rate per month
/// errs inversely to it (docs/decisions.md#fade-rate-weights).
fn touch_ups(steps: &[Step], months: &[f64], params: &TrackParams) -> Vec<bool> {
    let interval = |t: usize| months[t] - months[t - 1];
    let plain = |s: &Step| s.fresh < params.touch_up_new_dots && s.ink > 0.0 && s.ink < params.touch_up_ink_rise;
    let rates: Vec<(f64, f64)> = steps
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(t, s)| plain(s) && interval(*t) > 0.0)
        .map(|(t, s)| (-s.ink.log2() / interval(t), interval(t).powi(2)))
        .collect();
    let rate = weighted_median(rates).unwrap_or(0.0).max(0.0);
    steps
        .iter()
        .enumerate()
        .map(|(t, s)| t > 0 && s.touch_up_evidence((-rate * interval(t)).exp2(), params) >= 1.0)
        .collect()
}

/// The median dot size, px, a photo needs for its dots' colour to be followed, and what kind of
/// photo it is; None for lossless files, which keep the colour of every pixel.
fn colour_needs(a: &Analysis) -> Option<(f64, String)> {
    (a.image.format == "jpeg").then(|| match &a.image.chroma_subsampling {
        Some(s) => (MIN_COLOUR_DIAMETER_SUBSAMPLED_PX, format!("a JPEG with its colour at {s}")),
        None => (MIN_COLOUR_DIAMETER_PX, "a JPEG".to_string()),
    })
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
    let (visit_dates, date_warnings) = visits::checked_dates(&visits)?;
    let mut dated: Vec<(NaiveDate, Analysis)> =
        visit_dates.into_iter().zip(visits.into_iter().map(|v| v.analysis)).collect();
    dated.sort_by_key(|(d, _)| *d);
    let frame = |a: &Analysis| (a.image.width as f64, a.image.height as f64);
    let first_centres = centres(&dated[0].1);
    let registered: Vec<Result<register::Registration>> = dated[1..]
        .par_iter()
        .map(|(_, a)| {
            register(&centres(a), &first_centres, frame(a), frame(&dated[0].1))
                .map_err(|reason| Error::Registration { source_name: a.image.source.clone(), reason })
        })
        .collect();
    // A later visit that cannot be registered (most often one whose dots have faded out of
    // sight) is left out, and the others are tracked; only when none can be is the series
    // refused.
    if registered.iter().all(Result::is_err) {
        return Err(registered.into_iter().find_map(Result::err).expect("two visits or more"));
    }
    let (mut dates, mut analyses, mut registrations, mut left_out) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((date, a), r) in dated.into_iter().zip(std::iter::once(None).chain(registered.into_iter().map(Some))) {
        match r.transpose() {
            Ok(r) => {
                registrations.push(r);
                dates.push(date);
                analyses.push(a);
            }
            Err(e) => left_out.push(LeftOut { source: a.image.source.clone(), date, reason: e.to_string() }),
        }
    }
    let first = &analyses[0];
    let to_first: Vec<Similarity> =
        registrations.iter().map(|r| r.map_or(Similarity::IDENTITY, |r| r.transform)).collect();

    // Identities: a dot continues one within a typical dot diameter (farther when registration
    // is loose, never more than 0.45 of the spacing, so that a neighbour is never taken).
    let diameter_px = |a: &Analysis| median(a.dots.iter().map(|d| d.diameter_px).collect()).unwrap_or(3.0);
    let margins: Vec<f64> = analyses.iter().map(diameter_px).collect();
    let spacing = register::typical_spacing(&first_centres);
    let mut catalogue = Catalogue::new(&first_centres, analyses.len());
    for (v, a) in analyses.iter().enumerate().skip(1) {
        let residual = registrations[v].map_or(0.0, |r| r.residual_px);
        let tolerance = margins[0].max(4.0 * residual).min(0.45 * spacing);
        let carried: Vec<[f64; 2]> = centres(a).iter().map(|&p| to_first[v].apply(p)).collect();
        catalogue.add_visit(v, &carried, tolerance);
    }
    // Whether an identity lies in visit v's field of view, a dot diameter in from the edges.
    let in_view = |pos: [f64; 2], v: usize| {
        register::inside(&[pos], &to_first[v].inverse(), frame(&analyses[v]), margins[v]) == 1
    };

    // Whether each photo keeps its dots' colour, from the size of the dots found at another visit
    // too: the stray detections that come and go are mostly small fragments of hair, and drag
    // a plain median down.
    let ids = &catalogue.identities;
    let real_size: Vec<f64> = (0..analyses.len())
        .map(|v| {
            median(
                ids.iter()
                    .filter(|id| id.sightings() >= 2)
                    .filter_map(|id| id.dots[v])
                    .map(|d| analyses[v].dots[d].diameter_px)
                    .collect(),
            )
            .unwrap_or(margins[v])
        })
        .collect();
    // Of the dots whose place another visit shows, the share found nowhere else.
    let stray_share: Vec<f64> = (0..analyses.len())
        .map(|v| {
            let checkable: Vec<_> = ids
                .iter()
                .filter(|id| id.dots[v].is_some() && (0..analyses.len()).any(|u| u != v && in_view(id.position, u)))
                .collect();
            checkable.iter().filter(|id| id.sightings() == 1).count() as f64 / checkable.len().max(1) as f64
        })
        .collect();
    // Per photo, what it would need for its dots' colour where its dots fall short of that.
    let colour_short: Vec<Option<(f64, String)>> =
        analyses.iter().zip(&real_size).map(|(a, d)| colour_needs(a).filter(|(px, _)| d < px)).collect();
    let um_per_px = first.scale.px_per_mm.map(|s| 1000.0 / s);
    // Each visit's light onto the first's, from the skin around the dots both show.
    let light: Vec<[f64; 3]> = (0..analyses.len())
        .map(|v| {
            light_onto(
                &ids.iter()
                    .filter_map(|id| {
                        Some((analyses[0].dots[id.dots[0]?].skin_lab, analyses[v].dots[id.dots[v]?].skin_lab))
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let views: Vec<View> = analyses
        .iter()
        .zip(&to_first)
        .zip(light)
        .map(|((a, t), light)| View { dots: &a.dots, scale: t.scale(), light })
        .collect();
    let months: Vec<f64> = dates.iter().map(|d| (*d - dates[0]).num_days() as f64 / trend::MONTH_DAYS).collect();

    let shared = |b: usize, t: usize| {
        ids.iter().enumerate().filter(move |(_, id)| in_view(id.position, b) && in_view(id.position, t))
    };
    let steps: Vec<Step> = (0..analyses.len())
        .map(|t| {
            if t == 0 {
                return Step::FIRST;
            }
            let stays = |id: &identity::Identity| {
                t + 1 >= analyses.len() || !in_view(id.position, t + 1) || id.dots[t + 1].is_some()
            };
            step(shared(t - 1, t).map(|(_, id)| id), stays, &views, t, params)
        })
        .collect();
    let touch_up_at = touch_ups(&steps, &months, params);

    let mut reports = Vec::with_capacity(analyses.len());
    let mut changes: Vec<Vec<Option<DotChange>>> = vec![vec![None; analyses.len()]; ids.len()];
    let mut baseline = 0;
    let mut warnings: Vec<Warning> = date_warnings;
    warnings.extend(left_out.iter().map(LeftOut::warning));
    for (t, a) in analyses.iter().enumerate() {
        let touch_up = touch_up_at[t];
        let b = baseline;
        let mut pairs = Vec::new();
        let (mut at_base, mut at_now, mut new) = (0, 0, 0);
        for (i, id) in shared(b, t) {
            at_base += id.dots[b].is_some() as usize;
            at_now += id.dots[t].is_some() as usize;
            new += (id.dots[t].is_some() && id.first_visit > b) as usize;
            if let (Some(p), Some(q)) = (id.dots[b], id.dots[t]) {
                let mut c = compare(&views[b], p, &views[t], q, um_per_px);
                if colour_short[b].is_some() || colour_short[t].is_some() {
                    c.pigment_shift = None;
                }
                pairs.push((p, c.clone()));
                if t != b {
                    changes[i][t] = Some(c);
                }
            }
        }
        let ink = ink_retained(
            &pairs.iter().map(|(p, c)| (views[b].ink(*p), c.ink_retained * views[b].ink(*p))).collect::<Vec<_>>(),
            touch_up,
        );
        let colour = colour_then_now(
            &pairs
                .iter()
                .map(|(p, c)| (views[b].in_first_light(views[b].dots[*p].lab), c.lab_balanced))
                .collect::<Vec<_>>(),
        )
        .filter(|_| colour_short[b].is_none() && colour_short[t].is_none());
        let pigment = pigment_change(&pairs.iter().filter_map(|(_, c)| c.pigment_shift).collect::<Vec<_>>());
        let registration = registrations[t].map(|r| RegistrationReport {
            transform: r.transform,
            rotation_deg: r.transform.rotation_deg(),
            scale: r.transform.scale(),
            residual_px: r.residual_px,
            residual_um: um_per_px.map(|k| k * r.residual_px),
            matched_dots: r.matched,
            shared_dots: r.shared_dots,
        });
        if t != b && (at_now as f64) < FEW_FOUND * at_base as f64 {
            warnings.push(Warning::new(
                WarningCode::FewDotsFound,
                format!(
                    "{}: only {at_now} of the {at_base} dots of its baseline visit in the view they share were found: the others are most likely too faint or blurred to detect here, and the figures of the dots found lean towards the most visible",
                    a.image.source
                ),
            ));
        }
        if at_base < 20 {
            warnings.push(Warning::new(
                WarningCode::FewSharedDots,
                format!(
                    "{}: only {at_base} dots shared with the baseline visit; its figures are uncertain",
                    a.image.source
                ),
            ));
        }
        reports.push(VisitReport {
            source: a.image.source.clone(),
            date: dates[t],
            months: months[t],
            baseline: b,
            touch_up,
            registration,
            dot_count: a.dots.len(),
            density_per_cm2: a.summary.density_per_cm2,
            shared_dots: at_base,
            matched: pairs.len(),
            lost: at_base - pairs.len(),
            new,
            density_retained: (at_base > 0).then(|| at_now as f64 / at_base as f64),
            ink_retained: ink,
            spread_growth_um: median(pairs.iter().filter_map(|(_, c)| c.spread_growth_um).collect()),
            diameter_change_um: median(pairs.iter().filter_map(|(_, c)| c.diameter_change_um).collect()),
            colour_shift_de: colour.as_ref().map(|c| crate::colour::delta_e_2000(c.then, c.now)),
            delta_b: colour.as_ref().map(|c| c.now[2] - c.then[2]),
            delta_b_interval: colour.as_ref().map(|c| c.b_interval),
            pigment_shift: pigment.map(|p| p.0),
            pigment_shift_interval: pigment.map(|p| p.1),
        });
        if touch_up {
            baseline = t;
        }
    }
    for ((a, d), short) in analyses.iter().zip(&real_size).zip(&colour_short) {
        if let Some((px, kind)) = short {
            warnings.push(Warning::new(
                WarningCode::ColourUnresolved,
                format!(
                    "{}: dots are {d:.1} px across; {kind} keeps too little colour detail at that size (a shift of 1 b* can come out with the wrong sign), so colour_shift_de, delta_b and pigment_shift are null for the visits compared with it; photograph at {px} px or more per dot",
                    a.image.source
                ),
            ));
        }
    }
    for (a, share) in analyses.iter().zip(&stray_share) {
        if *share > STRAY_SHARE {
            warnings.push(Warning::new(
                WarningCode::StrayDetections,
                format!(
                    "{}: {:.0} % of its dots are found at no other visit that shows their place: stray detections (stubble, hair, skin texture) or a poor photo; density_retained and the figures compared with it are uncertain",
                    a.image.source,
                    100.0 * share
                ),
            ));
        }
    }
    if um_per_px.is_none() {
        warnings.push(Warning::new(
            WarningCode::NoScale,
            "the first visit has no scale: spread, diameter and residual in um are null",
        ));
    }
    // Each baseline is a visit of its own segment reading 1 (see [`trend`]).
    let points: Vec<(usize, f64, f64)> = reports
        .iter()
        .enumerate()
        .filter_map(|(t, r)| {
            if t == 0 || r.touch_up {
                Some((t, 0.0, 1.0))
            } else {
                r.ink_retained.map(|ink| (r.baseline, r.months - months[r.baseline], ink))
            }
        })
        .collect();
    let trend = trend::fit(&points, (dates[baseline], baseline), params.touch_up_threshold);
    let matches = ids
        .iter()
        .zip(changes)
        .enumerate()
        .map(|(i, (id, changes))| TrackedDot {
            id: i,
            x: id.position[0],
            y: id.position[1],
            first_visit: id.first_visit,
            dots: id.dots.clone(),
            changes,
        })
        .collect();
    Ok(Track {
        schema: TRACK_SCHEMA.into(),
        params: params.clone(),
        visits: reports,
        left_out,
        matches,
        trend,
        warnings: warning::messages(&warnings),
        warning_codes: warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_inking_after_a_fade_is_a_touch_up_even_without_a_rise() {
        let months = [0.0, 12.0, 24.0, 36.0, 48.0];
        let p = TrackParams::default();
        let ink = |inks: [f64; 5]| inks.map(|ink| Step { ink, fresh: 0.0 });
        // A year takes 30 %: 0.7 per step; at visit 3 the ink is brought back to where it was a
        // year before (no rise), far above the 0.7 the fade would leave.
        let steps = ink([1.0, 0.7, 0.71, 1.0, 0.69]);
        assert_eq!(touch_ups(&steps, &months, &p), vec![false, false, false, true, false]);
        // Steady fade, the light alone changing, or one visit's ink misread by 15 %: none.
        for inks in [[1.0, 0.7, 0.68, 0.73, 0.7], [1.0, 1.04, 0.97, 1.01, 0.99], [1.0, 0.8, 0.92, 0.7, 0.8]] {
            assert!(touch_ups(&ink(inks), &months, &p).iter().all(|t| !t), "{inks:?}");
        }
        // More dots with fresh ink is a touch-up whatever the ink did.
        let mut added = ink([1.0, 0.8, 0.8, 0.8, 0.8]);
        added[2].fresh = 0.15;
        assert_eq!(touch_ups(&added, &months, &p), vec![false, false, true, false, false]);
    }

    #[test]
    fn the_fade_rate_leans_on_the_longer_steps() {
        assert_eq!(weighted_median(vec![(3.0, 1.0), (1.0, 1.0), (2.0, 1.0)]), Some(2.0));
        assert_eq!(weighted_median(vec![(1.0, 1.0), (2.0, 1.0), (4.0, 1.0), (3.0, 1.0)]), Some(2.5));
        assert_eq!(weighted_median(vec![(1.0, 1.0), (2.0, 5.0)]), Some(2.0));
        assert_eq!(weighted_median(vec![]), None);
        // Seed 8004: a step of 5 months misread (ink 0.71 against a true 0.88), then a plain step
        // of 11 months reading 0.88 with a few new dots: no touch-up.
        let months = [0.0, 4.9, 15.5];
        let steps = [Step::FIRST, Step { ink: 0.712, fresh: 0.0 }, Step { ink: 0.88, fresh: 0.05 }];
        assert_eq!(touch_ups(&steps, &months, &TrackParams::default()), vec![false, false, false]);
    }

    #[test]
    fn a_modest_rise_and_a_few_fresh_dots_add_up_to_a_touch_up() {
        let months = [0.0, 12.0, 24.0, 36.0];
        let p = TrackParams::default();
        let with = |ink: f64, fresh: f64| {
            [Step::FIRST, Step { ink: 0.8, fresh: 0.0 }, Step { ink: 0.8, fresh: 0.0 }, Step { ink, fresh }]
        };
        // 1.15 times the fade's 0.8 is 0.42 of the way to a touch-up, 9 % fresh dots 0.75.
        assert!(!touch_ups(&with(0.92, 0.0), &months, &p)[3]);
        assert!(!touch_ups(&with(0.8, 0.09), &months, &p)[3]);
        assert!(touch_ups(&with(0.92, 0.09), &months, &p)[3]);
    }

    #[test]
    fn hair_fragments_are_no_touch_up_and_round_fresh_dots_are() {
        use crate::measure::Dot;
        let p = TrackParams::default();
        let dot = |ink: f64, eccentricity: f64| Dot { ink_px: ink, eccentricity, ..Default::default() };
        let then: Vec<Dot> = (0..40).map(|i| dot(1.0, 0.2 + 0.01 * i as f64)).collect();
        let mut now: Vec<Dot> = (0..40).map(|i| dot(0.8, 0.2 + 0.01 * i as f64)).collect();
        // One dot merged with a hair, and eight hair fragments, dark and elongated.
        now[0].ink_px = 6.0;
        now.extend((0..8).map(|_| dot(3.0, 0.85)));
        let ids: Vec<identity::Identity> = (0..48)
            .map(|i| identity::Identity {
                position: [0.0; 2],
                first_visit: (i >= 40) as usize,
                dots: vec![(i < 40).then_some(i), Some(i)],
            })
            .collect();
        let run = |now: &[Dot]| {
            step(
                ids.iter(),
                |_| true,
                &[View { dots: &then, scale: 1.0, light: [1.0; 3] }, View { dots: now, scale: 1.0, light: [1.0; 3] }],
                1,
                &p,
            )
        };
        let hair = run(&now);
        assert!((hair.ink - 0.8).abs() < 1e-9 && hair.fresh == 0.0, "{hair:?}");
        // Round dots as dark: a touch-up's new dots, 8 of 48.
        now[40..].iter_mut().for_each(|d| d.eccentricity = 0.3);
        assert!((run(&now).fresh - 8.0 / 48.0).abs() < 1e-9);
    }
}
