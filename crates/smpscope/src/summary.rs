//! Summary of one photo: count and density in the treated region, distributions of every
//! per-dot measure, nearest-neighbour spacing with the Clark-Evans ratio, coverage and the
//! photo's quality.

use serde::{Deserialize, Serialize};

use crate::measure::{Dot, Rejections};
use crate::region::{Region, RegionMethod};
use crate::stats::quantile;
use crate::warning::{Warning, WarningCode};

/// Median and 10th/90th percentiles of one measure over the dots of the region.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Median, in the measure's own unit.
    pub median: f64,
    /// 10th percentile (nearest rank).
    pub p10: f64,
    /// 90th percentile (nearest rank).
    pub p90: f64,
}

impl Distribution {
    /// The distribution of the finite values of `v`; None when there are none.
    pub fn of(mut v: Vec<f64>) -> Option<Distribution> {
        v.retain(|x| x.is_finite());
        if v.is_empty() {
            return None;
        }
        Some(Distribution { median: quantile(&mut v, 0.5), p10: quantile(&mut v, 0.1), p90: quantile(&mut v, 0.9) })
    }
}

/// Distributions of the per-dot measures (null where there is no scale or no dot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distributions {
    /// Deposit diameter, um.
    pub diameter_um: Option<Distribution>,
    /// Pigment spread (Gaussian sigma), um.
    pub spread_um: Option<Distribution>,
    /// Full width at half maximum of the OD profile, um.
    pub fwhm_um: Option<Distribution>,
    /// Peak optical density, OD (null only without dots).
    pub peak_od: Option<Distribution>,
    /// Integrated optical density, OD*mm^2.
    pub ink: Option<Distribution>,
    /// CIEDE2000 between dot and skin (null only without dots).
    pub delta_e: Option<Distribution>,
}

/// The treated region the density refers to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionSummary {
    /// How the region was found (polygon, mask, dots, whole frame).
    pub method: RegionMethod,
    /// Area, cm^2; null without a scale.
    pub area_cm2: Option<f64>,
    /// Area, px^2.
    pub area_px: f64,
}

/// Nearest-neighbour spacing of the dots in the region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spacing {
    /// Median nearest-neighbour distance, mm; null without a scale or with fewer than 2 dots.
    pub nn_median_mm: Option<f64>,
    /// 10th percentile of the nearest-neighbour distance, mm; null as the median.
    pub nn_p10_mm: Option<f64>,
    /// 90th percentile of the nearest-neighbour distance, mm; null as the median.
    pub nn_p90_mm: Option<f64>,
    /// Median nearest-neighbour distance, px; null with fewer than 2 dots.
    pub nn_median_px: Option<f64>,
    /// Mean NN distance over its expectation for a random pattern of the same density, with
    /// Donnelly's edge correction: 1 random, above 1 regular, below 1 clustered; null with
    /// fewer than 10 dots.
    pub clark_evans: Option<f64>,
}

/// How good the photo is for measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Robust standard deviation of the OD of skin pixels (sensor noise plus skin texture).
    pub noise_od: f64,
    /// Share of pixels with a channel at the bottom or top of its range.
    pub clipped_fraction: f64,
    /// Blur of the sharpest dots (10th percentile of the observed Gaussian sigma, px): an
    /// upper bound of the camera's blur. Large values mean the photo is out of focus.
    pub focus_blur_px: Option<f64>,
    /// The same in um.
    pub focus_blur_um: Option<f64>,
    /// Median signal-to-noise ratio of the dots.
    pub snr_median: Option<f64>,
}

/// Summary of one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Dots inside the treated region.
    pub dot_count: usize,
    /// Dots per cm^2 inside the treated region (null without a scale).
    pub density_per_cm2: Option<f64>,
    /// Ink of the dots inside the treated region over its area, OD*mm^2 per cm^2: how much
    /// pigment is there, in one number (null without a scale; absent from documents written
    /// before it existed).
    #[serde(default)]
    pub ink_per_cm2: Option<f64>,
    /// The treated region the count and density refer to.
    pub region: RegionSummary,
    /// Distributions of the per-dot measures over the dots in the region.
    pub distributions: Distributions,
    /// Nearest-neighbour spacing of the dots in the region.
    pub spacing: Spacing,
    /// Share of the region under the dots' deposits (sum of disc areas over region area).
    pub coverage: Option<f64>,
    /// How good the photo is for measurement: noise, clipping, focus, SNR.
    pub quality: Quality,
    /// Candidates that were not counted as dots, by reason.
    pub rejected: Rejections,
}

/// Figures about the photo that the summary passes through.
pub struct PhotoFigures {
    /// Robust standard deviation of the OD per pixel, OD.
    pub noise_od: f64,
    /// Share of pixels with a channel at the bottom or top of its range, 0..1.
    pub clipped_fraction: f64,
    /// Observed blur sigma of each dot, px (same order as the dots).
    pub dot_blur_px: Vec<f64>,
}

/// Summarises the dots of a photo within `region`; `px_per_mm` None means no physical units
/// (every length, area and density is then None). Warnings are appended to `warnings`.
///
/// ```
/// use smpscope::measure::{Dot, Rejections};
/// use smpscope::region::Region;
/// use smpscope::summary::{PhotoFigures, summarise};
/// // 10 x 10 dots 1 mm apart (40 px at 40 px/mm) over a frame of 10 x 10 mm.
/// let (col, row) = (|i: usize| (i % 10) as f64, |i: usize| (i / 10) as f64);
/// let dot = |i: usize| Dot { x: 20.0 + 40.0 * col(i), y: 20.0 + 40.0 * row(i), ..Default::default() };
/// let dots: Vec<Dot> = (0..100).map(dot).collect();
/// let figures = PhotoFigures { noise_od: 0.005, clipped_fraction: 0.0, dot_blur_px: vec![1.0; 100] };
/// let region = Region::whole_frame(400, 400);
/// let mut warnings = Vec::new();
/// let s = summarise(&dots, &region, Some(40.0), figures, Rejections::default(), &mut warnings);
/// assert_eq!(s.dot_count, 100);
/// assert!((s.density_per_cm2.unwrap() - 100.0).abs() < 1e-9);
/// assert!((s.spacing.nn_median_mm.unwrap() - 1.0).abs() < 1e-9);
/// ```
pub fn summarise(
    dots: &[Dot],
    region: &Region,
    px_per_mm: Option<f64>,
    figures: PhotoFigures,
    rejected: Rejections,
    warnings: &mut Vec<Warning>,
) -> Summary {
    let inside: Vec<&Dot> = dots.iter().filter(|d| region.contains(d.x, d.y)).collect();
    let mm_per_px = px_per_mm.map(|s| 1.0 / s);
    let area_cm2 = mm_per_px.map(|m| region.area_px * m * m / 100.0);
    let dist = |f: &dyn Fn(&Dot) -> Option<f64>| Distribution::of(inside.iter().filter_map(|d| f(d)).collect());
    let spacing = spacing_of(&inside, region, mm_per_px);
    // A sum of no f64 is -0.0; adding 0.0 makes it the 0 a reader expects.
    let coverage = (region.area_px > 0.0).then(|| {
        inside.iter().map(|d| std::f64::consts::PI * (d.diameter_px / 2.0).powi(2)).sum::<f64>() / region.area_px + 0.0
    });
    let mut blur = figures.dot_blur_px.clone();
    let focus_blur_px = (!blur.is_empty()).then(|| quantile(&mut blur, 0.1));
    let snr_median = Distribution::of(inside.iter().map(|d| d.snr).collect()).map(|d| d.median);
    warnings.extend(quality_warnings(&figures, focus_blur_px.zip(mm_per_px).map(|(b, m)| b * m * 1000.0), snr_median));
    if inside.is_empty() {
        warnings.push(Warning::new(WarningCode::NoDots, "no pigment dots were found"));
    }
    if region.method == RegionMethod::WholeFrame && !inside.is_empty() {
        warnings.push(Warning::new(
            WarningCode::RegionGuessed,
            "no treated region given: density refers to the whole frame",
        ));
    }
    Summary {
        dot_count: inside.len(),
        density_per_cm2: area_cm2.filter(|&a| a > 0.0).map(|a| inside.len() as f64 / a),
        ink_per_cm2: area_cm2.filter(|&a| a > 0.0).map(|a| inside.iter().filter_map(|d| d.ink).sum::<f64>() / a + 0.0),
        region: RegionSummary { method: region.method, area_cm2, area_px: region.area_px },
        distributions: Distributions {
            diameter_um: dist(&|d| d.diameter_um),
            spread_um: dist(&|d| d.spread_um),
            fwhm_um: dist(&|d| d.fwhm_um),
            peak_od: dist(&|d| Some(d.peak_od)),
            ink: dist(&|d| d.ink),
            delta_e: dist(&|d| Some(d.delta_e)),
        },
        spacing,
        coverage,
        quality: Quality {
            noise_od: figures.noise_od,
            clipped_fraction: figures.clipped_fraction,
            focus_blur_px,
            focus_blur_um: focus_blur_px.zip(mm_per_px).map(|(b, m)| b * m * 1000.0),
            snr_median,
        },
        rejected,
    }
}

/// Nearest-neighbour spacing of the dots inside the region, and the Clark-Evans ratio (from 10
/// dots; with the edge correction for the region's perimeter).
fn spacing_of(inside: &[&Dot], region: &Region, mm_per_px: Option<f64>) -> Spacing {
    let nn = nearest_neighbour_px(&inside.iter().map(|d| (d.x, d.y)).collect::<Vec<_>>());
    let mut nn_sorted = nn.clone();
    let mut q = |p: f64| (!nn.is_empty()).then(|| quantile(&mut nn_sorted, p));
    let (nn_median_px, nn_p10, nn_p90) = (q(0.5), q(0.1), q(0.9));
    let clark_evans = (inside.len() >= 10).then(|| {
        let n = inside.len() as f64;
        let mean = nn.iter().sum::<f64>() / n;
        let expected = 0.5 * (region.area_px / n).sqrt() + (0.0514 + 0.041 / n.sqrt()) * region.perimeter_px / n;
        mean / expected
    });
    let mm = |px: Option<f64>| px.zip(mm_per_px).map(|(n, m)| n * m);
    Spacing { nn_median_mm: mm(nn_median_px), nn_p10_mm: mm(nn_p10), nn_p90_mm: mm(nn_p90), nn_median_px, clark_evans }
}

/// Warnings on the photo's quality: clipped pixels, out of focus (sharpest dots blurred by over
/// 40 um), faint dots (median SNR under 10).
fn quality_warnings(figures: &PhotoFigures, focus_blur_um: Option<f64>, snr_median: Option<f64>) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if figures.clipped_fraction > 0.02 {
        warnings.push(Warning::new(
            WarningCode::Clipped,
            format!(
                "{:.1} % of pixels are clipped (over- or under-exposed); dots there are not measured reliably",
                100.0 * figures.clipped_fraction
            ),
        ));
    }
    if let Some(b) = focus_blur_um
        && b > 40.0
    {
        warnings.push(Warning::new(
            WarningCode::OutOfFocus,
            format!("the photo looks out of focus: even the sharpest dots are blurred by {b:.0} um"),
        ));
    }
    if snr_median.is_some_and(|s| s < 10.0) {
        warnings.push(Warning::new(
            WarningCode::LowSnr,
            "the dots are faint against the noise (median SNR below 10); measures are uncertain",
        ));
    }
    warnings
}

/// Distance from each point to its nearest other point, px (grid search).
pub fn nearest_neighbour_px(p: &[(f64, f64)]) -> Vec<f64> {
    if p.len() < 2 {
        return Vec::new();
    }
    let (minx, maxx) = p.iter().fold((f64::MAX, f64::MIN), |(a, b), q| (a.min(q.0), b.max(q.0)));
    let (miny, maxy) = p.iter().fold((f64::MAX, f64::MIN), |(a, b), q| (a.min(q.1), b.max(q.1)));
    let cell = (((maxx - minx + 1.0) * (maxy - miny + 1.0)) / p.len() as f64).sqrt().max(1.0);
    let mut grid: std::collections::HashMap<(i64, i64), Vec<usize>> = Default::default();
    let key = |q: &(f64, f64)| (((q.0 - minx) / cell) as i64, ((q.1 - miny) / cell) as i64);
    for (i, q) in p.iter().enumerate() {
        grid.entry(key(q)).or_default().push(i);
    }
    p.iter()
        .enumerate()
        .map(|(i, q)| {
            let (gx, gy) = key(q);
            let mut best = f64::MAX;
            let mut ring = 0i64;
            // Search rings of cells until the nearest found is closer than the next ring.
            loop {
                for dy in -ring..=ring {
                    for dx in -ring..=ring {
                        if dx.abs() != ring && dy.abs() != ring {
                            continue;
                        }
                        for &j in grid.get(&(gx + dx, gy + dy)).map(Vec::as_slice).unwrap_or(&[]) {
                            if j != i {
                                best = best.min((q.0 - p[j].0).hypot(q.1 - p[j].1));
                            }
                        }
                    }
                }
                if best <= ring as f64 * cell {
                    break best;
                }
                ring += 1;
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_neighbours_of_a_lattice() {
        let p: Vec<_> = (0..100).map(|i| ((i % 10) as f64 * 7.0, (i / 10) as f64 * 7.0)).collect();
        assert!(nearest_neighbour_px(&p).iter().all(|&d| (d - 7.0).abs() < 1e-9));
        let two = nearest_neighbour_px(&[(0.0, 0.0), (300.0, 400.0)]);
        assert_eq!(two, vec![500.0, 500.0]);
    }

    #[test]
    fn ink_per_cm2_is_the_ink_inside_over_the_area() {
        // 100 dots of 0.01 OD*mm^2 on 1 cm^2 (400 x 400 px at 40 px/mm).
        let dots: Vec<Dot> = (0..100)
            .map(|i| Dot {
                x: 20.0 + 40.0 * (i % 10) as f64,
                y: 20.0 + 40.0 * (i / 10) as f64,
                ink: Some(0.01),
                ..Default::default()
            })
            .collect();
        let figures = || PhotoFigures { noise_od: 0.005, clipped_fraction: 0.0, dot_blur_px: vec![1.0; 100] };
        let region = Region::whole_frame(400, 400);
        let s = summarise(&dots, &region, Some(40.0), figures(), Rejections::default(), &mut Vec::new());
        assert!((s.ink_per_cm2.unwrap() - 1.0).abs() < 1e-9, "{:?}", s.ink_per_cm2);
        let s = summarise(&dots, &region, None, figures(), Rejections::default(), &mut Vec::new());
        assert_eq!(s.ink_per_cm2, None);
    }

    #[test]
    fn distribution_percentiles() {
        let d = Distribution::of((1..=101).map(|v| v as f64).collect()).unwrap();
        assert_eq!((d.p10, d.median, d.p90), (11.0, 51.0, 91.0));
        assert!(Distribution::of(vec![f64::NAN]).is_none());
    }
}
