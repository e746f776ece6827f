//! The visits checked, ordered and registered before they are tracked: each has a date within
//! the years SMP photos can have, no photo is given twice, and what is odd but possible (a date
//! given far from the one the camera wrote, two visits on one day) is said in a warning; the
//! visits in date order, each later one registered onto the first or left out.

use chrono::NaiveDate;
use rayon::prelude::*;

use super::register::{self, Registration};
use super::{LeftOut, Visit};
use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::warning::{Warning, WarningCode};

/// The visits that are tracked, in date order, the first being the reference.
pub(super) struct Ordered {
    /// Each visit's index among the visits given.
    pub inputs: Vec<usize>,
    /// Each visit's date.
    pub dates: Vec<NaiveDate>,
    /// Each visit's analysis.
    pub analyses: Vec<Analysis>,
    /// How each visit lies on the first; None for the first.
    pub registrations: Vec<Option<Registration>>,
}

/// Phase 1: the visits' dates checked ([`checked_dates`]), the visits sorted by date (stably),
/// and each later one registered onto the first. A later visit that cannot be registered (most
/// often one whose dots have faded out of sight) is left out, and the others are tracked; only
/// when none can be is the series refused.
pub(super) fn order_and_register(visits: Vec<Visit>) -> Result<(Ordered, Vec<LeftOut>, Vec<Warning>)> {
    let (dates, warnings) = checked_dates(&visits)?;
    let mut dated: Vec<(usize, NaiveDate, Analysis)> =
        dates.into_iter().zip(visits).enumerate().map(|(i, (d, v))| (i, d, v.analysis)).collect();
    dated.sort_by_key(|(_, d, _)| *d);
    let first = &dated[0].2;
    let first_centres = centres(first);
    let registered: Vec<Result<Registration>> = dated[1..]
        .par_iter()
        .map(|(_, _, a)| {
            register::register(&centres(a), &first_centres, frame(a), frame(first))
                .map_err(|reason| Error::Registration { source_name: a.image.source.clone(), reason })
        })
        .collect();
    if registered.iter().all(Result::is_err) {
        return Err(registered.into_iter().find_map(Result::err).expect("two visits or more"));
    }
    let mut ordered =
        Ordered { inputs: Vec::new(), dates: Vec::new(), analyses: Vec::new(), registrations: Vec::new() };
    let mut left_out = Vec::new();
    for ((input, date, a), r) in dated.into_iter().zip(std::iter::once(None).chain(registered.into_iter().map(Some))) {
        match r.transpose() {
            Ok(r) => {
                ordered.inputs.push(input);
                ordered.registrations.push(r);
                ordered.dates.push(date);
                ordered.analyses.push(a);
            }
            Err(e) => left_out.push(LeftOut {
                source: a.image.source.clone(),
                input: Some(input),
                date,
                reason: e.to_string(),
            }),
        }
    }
    Ok((ordered, left_out, warnings))
}

/// The centres of a visit's dots, px.
pub(super) fn centres(a: &Analysis) -> Vec<[f64; 2]> {
    a.dots.iter().map(|d| [d.x, d.y]).collect()
}

/// A visit's frame, px: width and height.
pub(super) fn frame(a: &Analysis) -> (f64, f64) {
    (a.image.width as f64, a.image.height as f64)
}

/// Earliest visit date accepted: before SMP was practised.
pub const FIRST_DATE: NaiveDate = NaiveDate::from_ymd_opt(1990, 1, 1).expect("a valid date");
/// Latest visit date accepted.
pub const LAST_DATE: NaiveDate = NaiveDate::from_ymd_opt(2100, 12, 31).expect("a valid date");
/// Days by which a given date may differ from the photo's own capture date without a warning.
const DATE_MISMATCH_DAYS: i64 = 31;

/// The date of each visit (given, else the EXIF capture date) and the warnings about them;
/// an error for a visit without a date, a date out of range, or a photo given twice.
pub fn checked_dates(visits: &[Visit]) -> Result<(Vec<NaiveDate>, Vec<Warning>)> {
    let mut warnings = Vec::new();
    let mut dates = Vec::with_capacity(visits.len());
    for v in visits {
        let source = &v.analysis.image.source;
        let captured = capture_date(v);
        let date = match v.date {
            Some(d) => {
                if let Some(c) = captured
                    && (d - c).num_days().abs() > DATE_MISMATCH_DAYS
                {
                    warnings.push(Warning::new(
                        WarningCode::DateMismatch,
                        format!("{source}: the date given, {d}, is {} days from the date the camera wrote, {c}; the date given is used", (d - c).num_days().abs()),
                    ));
                }
                d
            }
            None => captured.ok_or_else(|| Error::MissingDate { source_name: source.clone() })?,
        };
        if !(FIRST_DATE..=LAST_DATE).contains(&date) {
            return Err(Error::parameter(
                "dates",
                format!("{source}: the visit date {date} is outside {FIRST_DATE} to {LAST_DATE}"),
            ));
        }
        dates.push(date);
    }
    for (j, b) in visits.iter().enumerate() {
        if let Some(i) = visits[..j].iter().position(|a| same_photo(a, b)) {
            return Err(Error::parameter(
                "visits",
                format!(
                    "{} is given twice (visits {} and {}): each visit must be a photo of its own",
                    b.analysis.image.source,
                    i + 1,
                    j + 1
                ),
            ));
        }
    }
    let mut by_date: Vec<(NaiveDate, &str)> =
        dates.iter().zip(visits).map(|(d, v)| (*d, v.analysis.image.source.as_str())).collect();
    by_date.sort();
    for pair in by_date.windows(2) {
        if pair[0].0 == pair[1].0 {
            warnings.push(Warning::new(
                WarningCode::SameDate,
                format!(
                    "{} and {} have the same date, {}: what changes between them is the photo, not fade over time",
                    pair[0].1, pair[1].1, pair[0].0
                ),
            ));
        }
    }
    Ok((dates, warnings))
}

/// The capture date the camera wrote, when it reads as a date.
fn capture_date(v: &Visit) -> Option<NaiveDate> {
    let text = v.analysis.image.captured_at.as_deref()?;
    NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d").ok()
}

/// Whether two visits are the same photo: the same file, or the same pixels found the same dots.
fn same_photo(a: &Visit, b: &Visit) -> bool {
    let (a, b) = (&a.analysis, &b.analysis);
    let same_file = a.image.source == b.image.source && !a.image.source.starts_with('<');
    let same_dots = !a.dots.is_empty()
        && (a.image.width, a.image.height) == (b.image.width, b.image.height)
        && a.dots.len() == b.dots.len()
        && a.dots.iter().zip(&b.dots).all(|(p, q)| p.x == q.x && p.y == q.y && p.peak_od == q.peak_od);
    same_file || same_dots
}
