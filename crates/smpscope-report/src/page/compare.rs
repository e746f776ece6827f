//! The visits side by side: a 1:1 crop of the same registered region of every visit, a
//! before/after slider of the first and the last, and the apparent colour of the dots.

use image::RgbImage;
use serde::Serialize;
use smpscope::Track;
use smpscope::track::register::Similarity;

use super::Placed;
use crate::format::{median, num, signed};
use crate::images::{png_data_uri, registered_crop};
use crate::{ReportError, ReportParams};

/// The comparison section.
#[derive(Debug, Serialize)]
pub struct Compare {
    /// Side of each crop, px.
    pub side: u32,
    /// Where the crops lie, in words.
    pub crop_note: String,
    /// One crop per visit with a photo.
    pub crops: Vec<Crop>,
    /// The first and the last crop for the slider, when there are two.
    pub slider: Option<(Crop, Crop)>,
    /// The column names of the colour table.
    pub colour_columns: Vec<String>,
    /// One row per visit.
    pub colour_rows: Vec<Vec<String>>,
}

/// One visit's crop.
#[derive(Debug, Clone, Serialize)]
pub struct Crop {
    /// "Visit 2 · 2024-03-14".
    pub title: String,
    /// The crop as a lossless PNG `data:` URI.
    pub uri: String,
}

/// Assembles the comparison.
pub fn assemble(
    track: Option<&Track>,
    placed: &[Placed],
    rgb: &[Option<RgbImage>],
    params: &ReportParams,
    single: bool,
) -> Result<Compare, ReportError> {
    let first = &placed[0].visit.analysis.image;
    let side = params.crop_side_px.min(first.width).min(first.height);
    let centre = crop_centre(track, placed);
    let mut crops = Vec::new();
    for (p, rgb) in placed.iter().zip(rgb) {
        // Visits left out of the tracking have no registration: they cannot show the same region.
        let to_first = match (p.tracked.map(|t| &t.registration), p.number) {
            (Some(Some(r)), _) => r.transform,
            (_, 1) => Similarity::IDENTITY,
            _ => continue,
        };
        if let Some(rgb) = rgb {
            let uri = png_data_uri(&registered_crop(rgb, &to_first, centre, side))?;
            crops.push(Crop { title: p.title(single), uri });
        }
    }
    let slider = match crops.as_slice() {
        [first, .., last] => Some((first.clone(), last.clone())),
        _ => None,
    };
    let crop_note = format!(
        "{side} × {side} px around ({}, {}) px of the first photo, each visit resampled onto the first visit's pixels \
         through its registration (rotation, scale and shift), one photo pixel per screen pixel.",
        centre[0].round(),
        centre[1].round()
    );
    Ok(Compare {
        side,
        crop_note,
        crops,
        slider,
        colour_columns: colour_columns(single),
        colour_rows: placed.iter().map(|p| colour_row(p, single)).collect(),
    })
}

/// The centre of the crops, px of the first visit: the median place of the dots found at every
/// tracked visit (else of every tracked dot, else of the first photo's dots), else the middle
/// of the first photo.
fn crop_centre(track: Option<&Track>, placed: &[Placed]) -> [f64; 2] {
    let mid = |pts: Vec<[f64; 2]>| {
        Some([median(pts.iter().map(|p| p[0]).collect())?, median(pts.iter().map(|p| p[1]).collect())?])
    };
    let tracked = track.and_then(|t| {
        let everywhere: Vec<[f64; 2]> =
            t.matches.iter().filter(|m| m.dots.iter().all(Option::is_some)).map(|m| [m.x, m.y]).collect();
        mid(everywhere).or_else(|| mid(t.matches.iter().map(|m| [m.x, m.y]).collect()))
    });
    let first = &placed[0].visit.analysis;
    tracked
        .or_else(|| mid(first.dots.iter().map(|d| [d.x, d.y]).collect()))
        .unwrap_or([f64::from(first.image.width) / 2.0, f64::from(first.image.height) / 2.0])
}

fn colour_columns(single: bool) -> Vec<String> {
    let mut c = vec!["", "Dots L* a* b* (median)", "Skin L* a* b* (median)", "Contrast ΔE2000 (median)"];
    if !single {
        c.extend([
            "Apparent change ΔE2000",
            "Apparent Δb* (negative = bluer), 95 %",
            "Pigment shift (negative = bluer), 95 %",
        ]);
    }
    c.into_iter().map(String::from).collect()
}

fn lab(v: Vec<[f64; 3]>) -> String {
    let m = |i: usize| median(v.iter().map(|c| c[i]).collect());
    match (m(0), m(1), m(2)) {
        (Some(l), Some(a), Some(b)) => format!("{l:.1}  {a:.1}  {b:.1}"),
        _ => "–".into(),
    }
}

/// A signed value with its 95 % interval, to `digits` decimals.
fn with_interval(value: Option<f64>, interval: Option<[f64; 2]>, digits: usize) -> String {
    match (value, interval) {
        (Some(v), Some([lo, hi])) => {
            format!("{} ({} to {})", signed(Some(v), digits), signed(Some(lo), digits), signed(Some(hi), digits))
        }
        (v, _) => signed(v, digits),
    }
}

fn colour_row(p: &Placed, single: bool) -> Vec<String> {
    let a = &p.visit.analysis;
    let mut r = vec![
        if single { "Photo".into() } else { format!("Visit {}", p.number) },
        lab(a.dots.iter().map(|d| d.lab).collect()),
        lab(a.dots.iter().map(|d| d.skin_lab).collect()),
        num(a.summary.distributions.delta_e.map(|d| d.median), 1),
    ];
    if !single {
        match p.tracked {
            Some(t) if p.number > 1 => r.extend([
                num(t.colour_shift_de, 2),
                with_interval(t.delta_b, t.delta_b_interval, 2),
                with_interval(t.pigment_shift, t.pigment_shift_interval, 3),
            ]),
            _ => r.extend(["–".into(), "–".into(), "–".into()]),
        }
    }
    r
}
