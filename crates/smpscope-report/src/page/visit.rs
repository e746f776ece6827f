//! One section (one printed page) per visit: the photo with its dots drawn, its figures, and
//! the distributions of its dots.

use image::RgbImage;
use rayon::prelude::*;
use serde::Serialize;
use smpscope::{Analysis, Dot};

use super::Placed;
use super::summary::scale_words;
use crate::format::{num, percent, quantile, signed, spread};
use crate::images::{jpeg_data_uri, photo_with_dots};
use crate::plots::histogram_svg;
use crate::{ReportError, ReportParams};

/// One visit's section.
#[derive(Debug, Serialize)]
pub struct VisitSection {
    /// "Visit 2 · 2024-03-14".
    pub title: String,
    /// The photo's file name.
    pub file_name: String,
    /// Baseline, touch-up or left out, in words; empty for an ordinary visit.
    pub role: String,
    /// The photo, downscaled, with the detected dots drawn (a `data:` URI); None without photo.
    pub photo_uri: Option<String>,
    /// What the picture shows, or why there is none.
    pub photo_note: String,
    /// The visit's figures: label and value.
    pub facts: Vec<(String, String)>,
    /// Its histograms.
    pub histograms: Vec<Histogram>,
}

/// One histogram of a visit.
#[derive(Debug, Serialize)]
pub struct Histogram {
    /// The measure.
    pub title: String,
    /// The plot (SVG); None when the measure is null (no scale).
    pub svg: Option<String>,
    /// Why there is no plot.
    pub note: Option<String>,
}

/// One measure of the dots, for the histograms: name, axis label, value of a dot.
struct Measure {
    title: &'static str,
    axis: &'static str,
    value: fn(&Dot) -> Option<f64>,
}

const MEASURES: [Measure; 3] = [
    Measure { title: "Deposit diameter", axis: "diameter, µm", value: |d| d.diameter_um },
    Measure { title: "Spread (sigma)", axis: "spread, µm", value: |d| d.spread_um },
    Measure { title: "Peak optical density", axis: "peak OD", value: |d| Some(d.peak_od) },
];

/// The sections of all visits; histograms of a measure share their bins across visits.
pub fn assemble(
    placed: &[Placed],
    rgb: &[Option<RgbImage>],
    params: &ReportParams,
    single: bool,
) -> Result<Vec<VisitSection>, ReportError> {
    let ranges: Vec<Option<(f64, f64)>> =
        MEASURES.iter().map(|m| common_range(placed.iter().map(|p| &p.visit.analysis), m.value)).collect();
    placed
        .par_iter()
        .zip(rgb)
        .map(|(p, rgb)| {
            let a = &p.visit.analysis;
            let (photo_uri, photo_note) = match rgb {
                Some(rgb) => (
                    Some(jpeg_data_uri(&photo_with_dots(rgb, a, params.photo_max_side_px), params.jpeg_quality)?),
                    format!(
                        "{} dots detected, circled in green (the whole photo, {} × {} px, shown downscaled).",
                        a.dots.len(),
                        a.image.width,
                        a.image.height
                    ),
                ),
                None => {
                    (None, "The photo was not at hand (the analysis was read from its document): figures only.".into())
                }
            };
            let histograms = MEASURES
                .iter()
                .zip(&ranges)
                .map(|(m, range)| histogram(a, m, *range, params.histogram_bins))
                .collect::<Result<_, _>>()?;
            Ok(VisitSection {
                title: p.title(single),
                file_name: p.file_name(),
                role: role(p),
                photo_uri,
                photo_note,
                facts: facts(p),
                histograms,
            })
        })
        .collect()
}

fn role(p: &Placed) -> String {
    match (p.tracked, p.left_out) {
        (_, Some(l)) => format!("Left out of the tracking: {}", l.reason),
        (Some(t), _) if t.touch_up => "Touch-up: the baseline of the visits after it".into(),
        (Some(_), _) if p.number == 1 => "Baseline: the first visit".into(),
        _ => String::new(),
    }
}

/// The range of a measure over all visits' dots, from the lowest 1st percentile to the highest
/// 99th; None when no visit has the measure.
fn common_range<'a>(
    analyses: impl Iterator<Item = &'a Analysis>,
    value: fn(&Dot) -> Option<f64>,
) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for a in analyses {
        let v: Vec<f64> = a.dots.iter().filter_map(value).collect();
        if let (Some(l), Some(h)) = (quantile(v.clone(), 0.01), quantile(v, 0.99)) {
            lo = lo.min(l);
            hi = hi.max(h);
        }
    }
    if !lo.is_finite() {
        return None;
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 * lo.abs().max(1.0) };
    Some(((lo - pad).max(0.0), hi + pad))
}

fn histogram(a: &Analysis, m: &Measure, range: Option<(f64, f64)>, bins: usize) -> Result<Histogram, ReportError> {
    let values: Vec<f64> = a.dots.iter().filter_map(m.value).collect();
    let title = format!("{} ({} dots)", m.title, values.len());
    match range {
        Some(range) if !values.is_empty() => {
            Ok(Histogram { title, svg: Some(histogram_svg(&values, range, bins, m.axis)?), note: None })
        }
        _ => Ok(Histogram { title, svg: None, note: Some("not measured (no scale, or no dots)".into()) }),
    }
}

fn facts(p: &Placed) -> Vec<(String, String)> {
    let a = &p.visit.analysis;
    let s = &a.summary;
    let d = &s.distributions;
    let mut f = vec![
        ("Dots in the treated region".to_string(), s.dot_count.to_string()),
        ("Density".into(), format!("{} per cm²", num(s.density_per_cm2, 1))),
        ("Ink per area of the region".into(), format!("{} OD·mm² per cm²", num(s.ink_per_cm2, 3))),
        ("Treated region".into(), format!("{} cm² ({})", num(s.region.area_cm2, 2), region_words(a))),
        ("Deposit diameter, median (10th–90th %)".into(), spread(d.diameter_um.as_ref(), 0, "µm")),
        ("Spread (sigma)".into(), spread(d.spread_um.as_ref(), 0, "µm")),
        ("Apparent width (FWHM)".into(), spread(d.fwhm_um.as_ref(), 0, "µm")),
        ("Peak optical density".into(), spread(d.peak_od.as_ref(), 3, "OD")),
        ("Ink per dot".into(), spread(d.ink.as_ref(), 5, "OD·mm²")),
        ("Contrast against the skin (ΔE2000)".into(), spread(d.delta_e.as_ref(), 1, "")),
        (
            "Spacing to the nearest dot".into(),
            match s.spacing.nn_median_mm {
                Some(m) => {
                    format!("{} mm ({}–{})", num(Some(m), 2), num(s.spacing.nn_p10_mm, 2), num(s.spacing.nn_p90_mm, 2))
                }
                None => "–".into(),
            },
        ),
        ("Regularity (Clark-Evans: 1 random, above 1 regular)".into(), num(s.spacing.clark_evans, 2)),
        ("Coverage of the region by pigment".into(), num(s.coverage.map(|c| 100.0 * c), 1) + " %"),
        ("Focus (blur of the sharpest dots)".into(), format!("{} µm", num(s.quality.focus_blur_um, 0))),
        ("Scale".into(), scale_words(a)),
    ];
    if let Some(t) = p.tracked {
        if let Some(r) = &t.registration {
            f.push((
                "Lined up with visit 1".into(),
                format!(
                    "rotated {}°, scale {}, residual {} µm, {} dots lined up",
                    num(Some(r.rotation_deg), 1),
                    num(Some(r.scale), 3),
                    num(r.residual_um, 0),
                    r.matched_dots
                ),
            ));
        }
        if p.number > 1 {
            f.push((
                format!("Against visit {} (its baseline)", t.baseline + 1),
                format!(
                    "{} of {} shared dots found again, {} lost, {} new; ink retained {}, spread {} µm, diameter {} µm",
                    t.matched,
                    t.shared_dots,
                    t.lost,
                    t.new,
                    percent(t.ink_retained),
                    signed(t.spread_growth_um, 1),
                    signed(t.diameter_change_um, 1)
                ),
            ));
        }
    }
    f
}

fn region_words(a: &Analysis) -> &'static str {
    use smpscope::region::RegionMethod;
    match a.summary.region.method {
        RegionMethod::Polygon => "the polygon given",
        RegionMethod::Mask => "the mask given",
        RegionMethod::Dots => "found from the dots",
        RegionMethod::WholeFrame => "the whole frame",
    }
}
