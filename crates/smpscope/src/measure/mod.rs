//! Measure: fit the dot model (a disc of diameter D blurred by a Gaussian, with a plateau OD)
//! to every candidate, jointly where dots touch; derive the physical quantities; measure
//! colour per channel with the fitted shape; and drop what is not a pigment dot (pores: faint
//! and small; hairs: elongated; freckles and moles: brown or too large).

mod accept;
mod blur;
mod colour;
pub mod fit;
mod flags;
mod group;
mod members;
mod model;
mod overlap;
pub mod profile;
mod radial;
mod render;
mod shape;
mod skin;
mod spread;
mod uncertainty;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::background::Background;
use crate::detect::Candidate;
use crate::photo::Photo;
use crate::plane::Plane;
use group::group_touching;
use members::measure_group;
use skin::set_aside_skin;
use spread::{needs_shared_spread, shared_spread};

pub use flags::{DotFlag, UNRESOLVED_DIAMETER_PX};
pub use uncertainty::Intervals;

/// Parameters that decide what counts as a pigment dot after its fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeasureParams {
    /// Smallest observed peak optical density of a dot (pores and noise are fainter).
    pub min_peak_od: f64,
    /// Smallest signal-to-noise ratio (observed peak OD over the OD noise per pixel).
    pub min_snr: f64,
    /// Smallest ink of a dot, OD*mm^2 (a dot of 80 um with a plateau OD of 0.12 has 6e-4;
    /// the largest pores come close).
    pub min_ink: f64,
    /// Largest eccentricity of a dot; hairs and stubble are more elongated.
    pub max_eccentricity: f64,
    /// Largest share of the dot's peak that unmodelled density may reach in any direction
    /// just outside the dot: a hair through a dot, or a dot that is the end of a hair, leaves
    /// its shaft there.
    pub max_attached: f64,
    /// Largest ratio of blue to red optical density: melanin (freckles, moles, hair)
    /// absorbs blue far more than red (about 2.7 times); SMP inks are near neutral. Where the
    /// photo's dots read browner than this as a body (small dots in a JPEG take on the skin's
    /// hue; see `brown_limit`), the limit rises with them.
    pub max_blue_red_ratio: f64,
    /// Largest eccentricity of a dot that reads browner than the photo's ink: hair and
    /// stubble fragments are elongated and brown, where small true dots are often one or the
    /// other but seldom both.
    pub max_brown_eccentricity: f64,
}

impl Default for MeasureParams {
    fn default() -> Self {
        MeasureParams {
            min_peak_od: 0.06,
            min_snr: 3.0,
            min_ink: 6e-4,
            max_eccentricity: 0.9,
            max_attached: 0.35,
            max_blue_red_ratio: 1.6,
            max_brown_eccentricity: 0.7,
        }
    }
}

/// One measured pigment dot. Lengths in um and ink in OD*mm^2 are null without a scale;
/// their pixel twins are always given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dot {
    /// Sub-pixel centre, column, px (upright photo; centre of the top-left pixel is (0, 0)).
    pub x: f64,
    /// Sub-pixel centre, row, px.
    pub y: f64,
    /// Deposit diameter D, um.
    pub diameter_um: Option<f64>,
    /// Pigment spread (Gaussian sigma), um; the camera's blur removed where known.
    pub spread_um: Option<f64>,
    /// Full width at half maximum of the pigment's OD profile, um.
    pub fwhm_um: Option<f64>,
    /// Peak optical density of the pigment profile (luminance-weighted).
    pub peak_od: f64,
    /// Integrated optical density, OD*mm^2: the amount of pigment.
    pub ink: Option<f64>,
    /// 0 for round, towards 1 for elongated.
    pub eccentricity: f64,
    /// Direction of the long axis, degrees from the x axis towards y, 0..180.
    pub angle_deg: f64,
    /// CIELAB (D65) of the dot's core.
    pub lab: [f64; 3],
    /// CIELAB of the skin around the dot.
    pub skin_lab: [f64; 3],
    /// CIEDE2000 between dot and skin: how visible the dot is.
    pub delta_e: f64,
    /// Detection confidence, 0..1.
    pub score: f64,
    /// Deposit diameter, px.
    pub diameter_px: f64,
    /// Pigment spread, px.
    pub spread_px: f64,
    /// FWHM of the pigment profile, px.
    pub fwhm_px: f64,
    /// Integrated optical density, OD*px^2.
    pub ink_px: f64,
    /// Plateau optical density per channel (R, G, B): the ink's colour as absorption.
    pub od_rgb: [f64; 3],
    /// Observed peak OD over the OD noise per pixel.
    pub snr: f64,
    /// Observed Gaussian sigma of the dot in the photo (pigment, camera and pixel), px.
    pub blur_px: f64,
    /// 95 % intervals of the measures (None when the fit's window could not give them).
    #[serde(default)]
    pub ci95: Option<Intervals>,
    /// What to keep in mind about the numbers.
    #[serde(default)]
    pub flags: Vec<DotFlag>,
}

/// What the measurement knows about lengths.
#[derive(Debug, Clone, Copy)]
pub struct PixelScale {
    /// Pixels per mm when known.
    pub px_per_mm: Option<f64>,
    /// Pixels per mm used to judge sizes (known, or estimated from the dots themselves).
    pub working_px_per_mm: f64,
    /// Camera blur sigma in px, when known.
    pub camera_blur_px: Option<f64>,
}

/// Why candidates were dropped, for the summary's bookkeeping.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rejections {
    /// Dots on or at the edge of a mole crowded with them: the noise of its dark skin
    /// ([`crate::background::DarkPatches`]).
    #[serde(default)]
    pub dark_patch: usize,
    /// Too faint: peak OD, signal-to-noise ratio or ink below the [`MeasureParams`] minima
    /// (pores, noise).
    pub faint: usize,
    /// Too elongated, attached to a hair, or elongated and browner than the ink (hair, stubble).
    pub elongated: usize,
    /// Browner than the photo's ink (blue/red OD above the limit): freckles, moles.
    pub brown: usize,
    /// Apparent size outside the detector's diameter range, um.
    pub out_of_size_range: usize,
    /// The model fit gave no finite, positive dot.
    pub failed_fit: usize,
    /// Of all the above, those set aside before any fit (far too faint to pass): the rest were
    /// fitted.
    #[serde(default)]
    pub unfitted: usize,
}

/// Everything a measurement needs to read from earlier stages.
pub struct Inputs<'a> {
    /// The decoded photo (for per-channel colour).
    pub photo: &'a Photo,
    /// The photo's optical density, OD, relative to the skin ([`Background::optical_density`]).
    pub od: &'a Plane,
    /// The local skin level the density and colour are read against.
    pub background: &'a Background,
    /// OD noise per pixel (robust standard deviation).
    pub noise: f64,
    /// What is known about lengths: px per mm and camera blur.
    pub scale: PixelScale,
    /// Smallest dot sought, apparent diameter in um (as in [`crate::detect::DetectParams`]).
    pub min_diameter_um: f64,
    /// Largest dot sought, apparent diameter in um.
    pub max_diameter_um: f64,
}

/// Why a candidate is not a pigment dot: each counts under one of [`Rejections`].
enum Reject {
    DarkPatch,
    Faint,
    /// Far too faint to be worth a fit.
    FaintUnfitted,
    Elongated,
    Brown,
    Size,
    Fit,
}

/// Fits and measures every candidate; returns the accepted dots in a stable order (by y, then x)
/// and the count of those dropped, by reason.
///
/// ```
/// use smpscope::{background::Background, detect, measure};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/photos/demo-1.jpg");
/// let photo = smpscope::photo::load_path(std::path::Path::new(path))?;
/// // The demo camera: 40 px/mm, blur 15 um (0.6 px); skin cells of 1.2 mm.
/// let background = Background::estimate(&photo, 48);
/// let od = background.optical_density(&photo);
/// let candidates = detect::find_candidates(&od, 40.0, &detect::DetectParams::default());
/// let inputs = measure::Inputs {
///     photo: &photo,
///     od: &od,
///     background: &background,
///     noise: 0.006, // OD per pixel, as the analysis measures it on this photo
///     scale: measure::PixelScale { px_per_mm: Some(40.0), working_px_per_mm: 40.0, camera_blur_px: Some(0.6) },
///     min_diameter_um: 40.0,
///     max_diameter_um: 400.0,
/// };
/// let (dots, _rejected) = measure::measure_dots(&inputs, &candidates, &measure::MeasureParams::default());
/// // 211 dots of 90-150 um were drawn.
/// assert!((190..=230).contains(&dots.len()), "{}", dots.len());
/// assert!(dots.iter().all(|d| d.diameter_um.is_some_and(|um| (60.0..200.0).contains(&um))));
/// # Ok::<(), smpscope::Error>(())
/// ```
pub fn measure_dots(inp: &Inputs, candidates: &[Candidate], p: &MeasureParams) -> (Vec<Dot>, Rejections) {
    // 1. Fit each group of touching candidates with every dot's shape free, and set aside
    //    what the skin passed off as dots.
    let groups = group_touching(candidates);
    let mut results: Vec<Vec<Result<Dot, Reject>>> =
        groups.par_iter().map(|g| measure_group(inp, candidates, g, p, None)).collect();
    set_aside_skin(&mut results, inp, p);
    // 2. Where the dots are too small for each to tell its diameter from its spread, find the
    //    spread they share and measure them all again with it held.
    if needs_shared_spread(inp, &results) {
        let spread = shared_spread(inp, candidates, &groups, &results);
        results = groups.par_iter().map(|g| measure_group(inp, candidates, g, p, Some(spread))).collect();
        set_aside_skin(&mut results, inp, p);
    }
    // 3. Keep the dots, count the rest by reason.
    let mut dots = Vec::new();
    let mut rej = Rejections::default();
    for r in results.into_iter().flatten() {
        match r {
            Ok(d) => dots.push(d),
            Err(Reject::DarkPatch) => rej.dark_patch += 1,
            Err(Reject::Faint) => rej.faint += 1,
            Err(Reject::FaintUnfitted) => {
                rej.faint += 1;
                rej.unfitted += 1;
            }
            Err(Reject::Elongated) => rej.elongated += 1,
            Err(Reject::Brown) => rej.brown += 1,
            Err(Reject::Size) => rej.out_of_size_range += 1,
            Err(Reject::Fit) => rej.failed_fit += 1,
        }
    }
    dots.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    (dots, rej)
}
