//! The summary page: who and when (header), what changed in words, the table of visits and the
//! fade curve with its forecast.

use chrono::NaiveDate;
use serde::Serialize;
use smpscope::Track;
use smpscope::scale::ScaleSource;
use smpscope::track::trend::MONTH_DAYS;

use super::Placed;
use crate::format::{num, percent, signed};
use crate::plots::{FadeForecast, FadePoint, fade_svg};
use crate::{Report, ReportError};

/// The summary page.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The patient's label, when given.
    pub label: Option<String>,
    /// Header lines: label and value (visits and dates, scale, device).
    pub header: Vec<(String, String)>,
    /// What the figures say, in sentences.
    pub headline: Vec<String>,
    /// The column names of the table of visits.
    pub columns: Vec<String>,
    /// One row per visit.
    pub rows: Vec<Vec<String>>,
    /// The fade plot (SVG), for a tracked series.
    pub fade_svg: Option<String>,
    /// What the fade plot leaves out, when anything.
    pub fade_note: Option<String>,
}

/// Assembles the summary page.
pub fn assemble(report: &Report, placed: &[Placed]) -> Result<Summary, ReportError> {
    let single = placed.len() == 1;
    let (fade_svg, fade_note) = match &report.track {
        Some(t) => (Some(fade_plot(t)?), Some(
            "Each visit's ink is the share of its baseline's (the first visit, or the last touch-up) in the dots found at both. \
             The per-visit interval of ink retained is not yet in the track document, so no error bars are drawn."
                .to_string(),
        )),
        None => (None, None),
    };
    Ok(Summary {
        label: report.label.clone(),
        header: header(placed),
        headline: headline(report.track.as_ref(), placed),
        columns: columns(single),
        rows: placed.iter().map(|p| row(p, single)).collect(),
        fade_svg,
        fade_note,
    })
}

/// Scale source in words, with the scale.
pub fn scale_words(a: &smpscope::Analysis) -> String {
    let px = a.scale.px_per_mm.map(|s| format!("{} px/mm", num(Some(s), 2)));
    match (a.scale.source, px) {
        (ScaleSource::Caller, Some(px)) => format!("{px}, given"),
        (ScaleSource::DeviceProfile, Some(px)) => format!("{px}, from the camera's device profile"),
        _ => "none: sizes and density not measured".into(),
    }
}

fn distinct(v: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for s in v {
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen.join("; ")
}

fn header(placed: &[Placed]) -> Vec<(String, String)> {
    let dates = placed.iter().map(|p| p.date().unwrap_or_else(|| "date unknown".into())).collect::<Vec<_>>();
    let device = distinct(placed.iter().map(|p| {
        let i = &p.visit.analysis.image;
        match (&i.camera_make, &i.camera_model) {
            (None, None) => "not recorded in the photo".into(),
            (make, model) => {
                format!("{} {}", make.as_deref().unwrap_or(""), model.as_deref().unwrap_or("")).trim().into()
            }
        }
    }));
    let mut h = vec![
        (if placed.len() == 1 { "Photo" } else { "Visits" }.into(), format!("{}: {}", placed.len(), dates.join(", "))),
        ("Scale".into(), distinct(placed.iter().map(|p| scale_words(&p.visit.analysis)))),
        ("Device".into(), device),
    ];
    let blur = distinct(placed.iter().map(|p| match p.visit.analysis.scale.camera_blur_um {
        Some(b) => format!("{} µm (removed from the spread)", num(Some(b), 1)),
        None => "unknown (the spread includes it)".into(),
    }));
    h.push(("Camera blur".into(), blur));
    h
}

/// The figures in sentences: what is there (one photo), or what changed and when a touch-up is
/// due (a series).
fn headline(track: Option<&Track>, placed: &[Placed]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(track) = track else {
        for p in placed {
            let s = &p.visit.analysis.summary;
            let area = s.region.area_cm2.map(|a| format!(" over {} cm²", num(Some(a), 2))).unwrap_or_default();
            let density = match s.density_per_cm2 {
                Some(d) => format!(", {} dots per cm²", num(Some(d), 1)),
                None => " (no scale: density not measured)".into(),
            };
            out.push(format!(
                "{}: {} dots in the treated region{area}{density}.",
                p.title(placed.len() == 1),
                s.dot_count
            ));
        }
        return out;
    };
    let visits = &track.visits;
    // The last visit that is compared with an earlier baseline and is not itself a touch-up.
    if let Some((i, last)) =
        visits.iter().enumerate().rev().find(|(i, v)| *i > 0 && !v.touch_up && v.ink_retained.is_some())
    {
        let base = &visits[last.baseline];
        out.push(format!(
            "At visit {} ({}), the dots followed from visit {} ({}) keep {} of their ink, {} months on; {} of those dots were found again.",
            i + 1,
            last.date,
            last.baseline + 1,
            base.date,
            percent(last.ink_retained),
            num(Some(last.months - base.months), 1),
            percent(last.density_retained)
        ));
    }
    let touch_ups: Vec<String> = visits
        .iter()
        .enumerate()
        .filter(|(_, v)| v.touch_up)
        .map(|(i, v)| format!("visit {} ({})", i + 1, v.date))
        .collect();
    if !touch_ups.is_empty() {
        out.push(format!("Touch-up found at {}: later visits are compared with it.", touch_ups.join(", ")));
    }
    let t = &track.trend;
    match (t.half_life_months, t.touch_up_due) {
        (Some(h), due) => {
            let [lo, hi] = t.half_life_interval_months;
            let interval = format!(
                "95 %: {} to {}",
                num(lo, 1),
                hi.map_or("no fade ruled out".into(), |h| format!("{} months", num(Some(h), 1)))
            );
            let mut s = format!("The ink halves every {} months ({interval}).", num(Some(h), 1));
            if let Some(due) = due {
                let [early, late] = t.touch_up_due_interval;
                s.push_str(&format!(
                    " It is forecast to fall below {} of the baseline's around {due} (95 %: {} to {}): a touch-up is due then.",
                    percent(Some(t.threshold)),
                    early.map_or("–".into(), |d| d.to_string()),
                    late.map_or("possibly never".into(), |d| d.to_string()),
                ));
            }
            out.push(s);
        }
        (None, _) => {
            out.push(format!("No fade forecast: {}.", t.note.as_deref().unwrap_or("too few visits after the baseline")))
        }
    }
    if !track.left_out.is_empty() {
        out.push(format!(
            "{} visit(s) could not be lined up with the first and are left out of these figures (see the warnings).",
            track.left_out.len()
        ));
    }
    out
}

fn columns(single: bool) -> Vec<String> {
    let mut c = vec!["", "Date", "Dots", "Density /cm²", "Ink OD·mm²/cm²", "Diameter µm", "Spread µm", "Peak OD"];
    if !single {
        c.extend(["Months", "Ink retained", "Dots retained", "Spread growth µm", "Touch-up"]);
    }
    c.into_iter().map(String::from).collect()
}

fn row(p: &Placed, single: bool) -> Vec<String> {
    let s = &p.visit.analysis.summary;
    let d = &s.distributions;
    let mut r = vec![
        if single { "Photo".into() } else { format!("Visit {}", p.number) },
        p.date().unwrap_or_else(|| "–".into()),
        s.dot_count.to_string(),
        num(s.density_per_cm2, 1),
        num(s.ink_per_cm2, 3),
        num(d.diameter_um.map(|x| x.median), 0),
        num(d.spread_um.map(|x| x.median), 0),
        num(d.peak_od.map(|x| x.median), 3),
    ];
    if !single {
        match (p.tracked, p.left_out) {
            (Some(t), _) => r.extend([
                num(Some(t.months), 1),
                if p.number == 1 { "baseline".into() } else { percent(t.ink_retained) },
                percent(t.density_retained),
                signed(t.spread_growth_um, 1),
                if t.touch_up { "yes".into() } else { String::new() },
            ]),
            (None, Some(_)) => r.extend(["left out".into(), "–".into(), "–".into(), "–".into(), String::new()]),
            (None, None) => r.extend(["–".into(), "–".into(), "–".into(), "–".into(), String::new()]),
        }
    }
    r
}

/// Months from `from` to `to`, as the track counts them.
fn months_between(from: NaiveDate, to: NaiveDate) -> f64 {
    (to - from).num_days() as f64 / MONTH_DAYS
}

/// The fade plot of a track: each visit's ink retained (a baseline at 1), touch-ups, and the
/// forecast from the trend.
fn fade_plot(track: &Track) -> Result<String, ReportError> {
    let points: Vec<FadePoint> = track
        .visits
        .iter()
        .enumerate()
        .flat_map(|(i, v)| {
            // The first visit is its own baseline (1); a touch-up reads against the old baseline,
            // then becomes the new one (1 again).
            let against_old = if i == 0 { Some(1.0) } else { v.ink_retained };
            let new_baseline = v.touch_up.then_some(1.0);
            [against_old, new_baseline].into_iter().flatten().map(move |ink_retained| FadePoint {
                months: v.months,
                ink_retained,
                touch_up: v.touch_up,
            })
        })
        .collect();
    let t = &track.trend;
    let first = track.visits.first().map(|v| v.date);
    let forecast = match (t.half_life_months, track.visits.get(t.baseline_visit), first) {
        (Some(h), Some(b), Some(first)) => Some(FadeForecast {
            baseline_months: b.months,
            half_life_months: h,
            due_months: t.touch_up_due.map(|d| months_between(first, d)),
            due_interval_months: t.touch_up_due_interval.map(|d| d.map(|d| months_between(first, d))),
        }),
        _ => None,
    };
    fade_svg(&points, t.threshold, forecast.as_ref())
}
