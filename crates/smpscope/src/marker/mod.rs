//! The printed calibration marker (`fixtures/calibration/marker.svg`): found in the photo, it
//! gives the scale at the card (px per mm), the tilt of the card to the camera, the camera's
//! blur (from a slanted edge) and the white balance and exposure (from neutral patches), each
//! with its uncertainty. [`scale`](crate::scale) takes the scale and blur from it after the
//! caller's and before a device profile's; the card's area is left out of the treated region
//! and dots on it are never counted.
//!
//! Files: [`layout`] (the card's geometry in mm, shared with the generator and the printed
//! files), [`find`] (the search), [`edges`] and [`corners`] (sub-pixel frame), [`homography`]
//! (card -> photo, scale, tilt), [`blur`] (slanted edge), [`white`] (neutral patches).

pub mod blur;
pub mod corners;
pub mod edges;
pub mod find;
pub mod homography;
pub mod layout;
mod sample;
pub mod white;

use serde::{Deserialize, Serialize};

use crate::check::Range;
use crate::error::Result;
use crate::photo::Photo;
use crate::warning::{Warning, WarningCode};

pub use white::WhiteBalance;

/// What the caller sets about the marker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarkerParams {
    /// Whether to look for the marker at all (default true).
    pub detect: bool,
    /// Whether a marker should be in every photo (default false): then its absence is a
    /// warning, `marker_cut_off` where a black frame on paper is cut by the photo's edge and
    /// `marker_not_found` otherwise.
    pub expected: bool,
    /// Tilt of the card to the camera, degrees, above which a warning says the photo is too
    /// oblique for its figures to hold across the frame (default 20; 5-60).
    pub max_tilt_deg: f64,
}

impl Default for MarkerParams {
    fn default() -> Self {
        MarkerParams { detect: true, expected: false, max_tilt_deg: 20.0 }
    }
}

/// The accepted range of [`MarkerParams::max_tilt_deg`].
pub const MAX_TILT_DEG: Range =
    Range { name: "marker.max_tilt_deg", min: 5.0, max: 60.0, unit: "degrees", typical: "20" };

impl MarkerParams {
    /// Checks the numbers are within their ranges.
    pub fn validate(&self) -> Result<()> {
        MAX_TILT_DEG.check(self.max_tilt_deg)
    }
}

/// Where the focal length used for the tilt came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FocalSource {
    /// Read from the card's perspective (the homography's two orthogonality constraints).
    Homography,
    /// Assumed: the photo's diagonal in px (a 43 mm lens in 35 mm terms); the card was seen
    /// too nearly head-on for its perspective to tell.
    Assumed,
}

/// The marker as found in one photo: the `marker` block of an analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// px per mm on the card at its centre (the square root of the homography's Jacobian
    /// determinant: exact for areas).
    pub px_per_mm: f64,
    /// 95 % interval of `px_per_mm`: the frame's edge noise and a print tolerance of 0.2 %.
    pub px_per_mm_interval: [f64; 2],
    /// Angle between the card's normal and the camera's optical axis, degrees.
    pub tilt_deg: f64,
    /// 95 % interval of `tilt_deg`, degrees (the focal length's uncertainty included).
    pub tilt_interval_deg: [f64; 2],
    /// Focal length used for the tilt, px.
    pub focal_length_px: f64,
    /// Where the focal length came from.
    pub focal_length_source: FocalSource,
    /// The camera's blur as a Gaussian sigma, px, from the slanted edge; null when its edges
    /// could not be read (clipped, covered, or blur beyond 12 px).
    pub camera_blur_px: Option<f64>,
    /// The same in um on the card.
    pub camera_blur_um: Option<f64>,
    /// 95 % interval of `camera_blur_um`.
    pub camera_blur_interval_um: Option<[f64; 2]>,
    /// White balance and exposure from the neutral patches; null when fewer than two are
    /// readable (clipped or covered).
    pub white_balance: Option<WhiteBalance>,
    /// The frame's outer corners, px: the card's top-left, top-right, bottom-right, bottom-left
    /// as printed (the orientation mark is at the top-left).
    pub corners_px: [[f64; 2]; 4],
    /// The card's outline with 0.5 mm to spare, px: the area left out of the treated region.
    pub card_px: [[f64; 2]; 4],
    /// Card mm -> photo px homography, row-major, h33 = 1.
    pub homography: [[f64; 3]; 3],
    /// Median scatter of the frame's edge points about their lines, px.
    pub edge_residual_px: f64,
    /// Correlation of the card's interior with its printed pattern, 0..1.
    pub pattern_score: f64,
}

/// Relative standard error of a printed card's size after the print check of
/// `docs/calibration.md` (the frame measured to 0.03 mm on 14.4 mm).
pub const PRINT_SD: f64 = 0.002;

/// Looks for the marker; the warnings say when it is covered, cut off by the frame's edge, too
/// tilted, or expected and absent. None when there is no usable marker: never a guess.
pub fn detect(photo: &Photo, params: &MarkerParams, warnings: &mut Vec<Warning>) -> Option<Marker> {
    if !params.detect {
        return None;
    }
    let found = find::search(photo);
    let mut covered = found.partial;
    for (h, score) in found.markers.iter().take(3) {
        match measure(photo, h, *score) {
            Some(m) => {
                if m.tilt_deg > params.max_tilt_deg {
                    warnings.push(Warning::new(
                        WarningCode::MarkerTilted,
                        format!(
                            "the marker is tilted {:.0} degrees to the camera (over {:.0}): the scale changes across the frame and dots look foreshortened by {:.0} %; lengths are not rectified, take the photo square to the scalp",
                            m.tilt_deg,
                            params.max_tilt_deg,
                            100.0 * (1.0 - m.tilt_deg.to_radians().cos())
                        ),
                    ));
                }
                return Some(m);
            }
            None => covered = true,
        }
    }
    // Paper without its frame, where a marker is expected: covered (a lock of hair over it
    // joins its frame to dark skin), not cut off.
    if covered || (params.expected && found.paper) {
        warnings.push(Warning::new(
            WarningCode::MarkerCovered,
            "a marker was seen but its frame is partly covered or damaged (hair, a finger, glare): its scale is not used",
        ));
    } else if found.cut_off && params.expected {
        // Only where a marker is expected: black-on-white graphics cut by the edge look alike.
        warnings.push(Warning::new(
            WarningCode::MarkerCutOff,
            "a marker seems to lie at the edge of the photo, partly out of frame: its scale is not used; keep the whole card in the frame",
        ));
    } else if params.expected {
        warnings.push(Warning::new(WarningCode::MarkerNotFound, "no calibration marker found in the photo"));
    }
    None
}

/// Measures a found marker: None when its frame is covered or inconsistent.
fn measure(photo: &Photo, rough: &homography::Homography, score: f64) -> Option<Marker> {
    let frame = corners::refine(photo, rough)?;
    if frame.min_coverage < corners::MIN_COVERAGE || frame.corner_residual > 1.0 {
        return None;
    }
    let h = frame.homography;
    let c = layout::CARD_MM / 2.0;
    let px_per_mm = homography::px_per_mm_at(&h, c, c).filter(|s| (find::MIN_PX_PER_MM..=5000.0).contains(s))?;
    let centre = [0.5 * (photo.width() as f64 - 1.0), 0.5 * (photo.height() as f64 - 1.0)];
    let diagonal = (photo.width() as f64).hypot(photo.height() as f64);
    let estimated = homography::focal_from(&h, centre).filter(|f| (0.2 * diagonal..=30.0 * diagonal).contains(f));
    let focal = estimated.unwrap_or(diagonal);
    let tilt_of = |g: &homography::Homography, f: f64| homography::tilt_deg(g, centre, f);
    let tilt = tilt_of(&h, focal)?;
    let sd = corners::spread(&frame, |g| {
        let f = homography::focal_from(g, centre)
            .filter(|f| (0.2 * diagonal..=30.0 * diagonal).contains(f))
            .unwrap_or(focal);
        Some([homography::px_per_mm_at(g, c, c)?, tilt_of(g, f)?])
    })?;
    // An assumed focal length adds the tilt's change between half and twice it.
    let focal_sd = match estimated {
        Some(_) => 0.0,
        None => 0.25 * (tilt_of(&h, 0.5 * focal)? - tilt_of(&h, 2.0 * focal)?).abs(),
    };
    let scale_sd = (sd[0].powi(2) + (PRINT_SD * px_per_mm).powi(2)).sqrt();
    let tilt_sd = (sd[1].powi(2) + focal_sd.powi(2)).sqrt();
    let blur = blur::measure(photo, &h, px_per_mm);
    let um = |px: f64| px / px_per_mm * 1000.0;
    let card = [[-0.5, -0.5], [16.5, -0.5], [16.5, 16.5], [-0.5, 16.5]];
    let mut residuals: Vec<f64> = frame.lines.iter().map(|l| l.sd).collect();
    Some(Marker {
        px_per_mm,
        px_per_mm_interval: [px_per_mm - 1.96 * scale_sd, px_per_mm + 1.96 * scale_sd],
        tilt_deg: tilt,
        tilt_interval_deg: [(tilt - 1.96 * tilt_sd).max(0.0), (tilt + 1.96 * tilt_sd).min(90.0)],
        focal_length_px: focal,
        focal_length_source: if estimated.is_some() { FocalSource::Homography } else { FocalSource::Assumed },
        camera_blur_px: blur.map(|b| b.sigma_px),
        camera_blur_um: blur.map(|b| um(b.sigma_px)),
        camera_blur_interval_um: blur
            .map(|b| [um((b.sigma_px - 1.96 * b.sd_px).max(0.0)), um(b.sigma_px + 1.96 * b.sd_px)]),
        white_balance: white::measure(photo, &h),
        corners_px: std::array::from_fn(|i| frame.corners[i]),
        card_px: card.map(|[u, v]| homography::apply(&h, u, v).unwrap_or([f64::NAN; 2])),
        homography: h,
        edge_residual_px: crate::stats::quantile(&mut residuals, 0.5),
        pattern_score: score,
    })
}

/// Whether the point (x, y) px lies on the marker's card (with its margin).
pub fn on_card(marker: &Marker, x: f64, y: f64) -> bool {
    layout::inside(&[marker.card_px.to_vec()], x, y)
}

/// The dots that do not lie on the marker's card: print on the card is never a pigment dot.
pub fn off_card(dots: Vec<crate::Dot>, marker: Option<&Marker>) -> Vec<crate::Dot> {
    match marker {
        Some(m) => dots.into_iter().filter(|d| !on_card(m, d.x, d.y)).collect(),
        None => dots,
    }
}

/// The treated region without the marker's card (`width x height` px photo).
pub fn exclude_card(
    region: crate::region::Region,
    marker: Option<&Marker>,
    width: usize,
    height: usize,
) -> crate::region::Region {
    match marker {
        Some(m) => region.excluding(&m.card_px, width, height),
        None => region,
    }
}

/// The dots' positions for finding the treated region, with the card dotted at `spacing` px
/// (a hexagonal lattice) where dots surround it (7 of 10 points on a ring two spacings outside
/// the card have a dot within 1.5 spacings): a card laid on the treated area then leaves no
/// hole that would make the region's edge (it is taken off the region afterwards). A card on
/// untreated skin is left as it is.
pub fn dotted_card(mut points: Vec<(f64, f64)>, marker: Option<&Marker>, spacing: f64) -> Vec<(f64, f64)> {
    let Some(m) = marker else { return points };
    if !(spacing.is_finite() && spacing >= 2.0) || points.len() < 12 {
        return points;
    }
    let c = [0.25 * m.card_px.iter().map(|p| p[0]).sum::<f64>(), 0.25 * m.card_px.iter().map(|p| p[1]).sum::<f64>()];
    let half =
        0.5 * (m.card_px[0][0] - m.card_px[2][0]).hypot(m.card_px[0][1] - m.card_px[2][1]) / std::f64::consts::SQRT_2;
    let grow = 1.0 + 2.0 * spacing / half.max(1.0);
    let ring: Vec<[f64; 2]> = (0..40)
        .map(|k| {
            let (a, b) = (m.card_px[k / 10], m.card_px[(k / 10 + 1) % 4]);
            let t = (k % 10) as f64 / 10.0;
            let p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
            [c[0] + grow * (p[0] - c[0]), c[1] + grow * (p[1] - c[1])]
        })
        .collect();
    let near = |q: &[f64; 2]| points.iter().any(|p| (p.0 - q[0]).hypot(p.1 - q[1]) <= 1.5 * spacing);
    let (x1, y1) = points.iter().fold((0.0f64, 0.0f64), |a, p| (a.0.max(p.0), a.1.max(p.1)));
    let in_frame: Vec<&[f64; 2]> =
        ring.iter().filter(|q| q[0] >= 0.0 && q[1] >= 0.0 && q[0] <= x1 && q[1] <= y1).collect();
    if in_frame.is_empty() || (in_frame.iter().filter(|q| near(q)).count() as f64) < 0.7 * in_frame.len() as f64 {
        return points;
    }
    let (row, n) = (spacing * 3f64.sqrt() / 2.0, (2.0 * half / spacing).ceil() as i64 + 2);
    for j in -n..=n {
        for i in -n..=n {
            let (x, y) = (c[0] + (i as f64 + 0.5 * (j & 1) as f64) * spacing, c[1] + j as f64 * row);
            if on_card(m, x, y) {
                points.push((x, y));
            }
        }
    }
    points
}
