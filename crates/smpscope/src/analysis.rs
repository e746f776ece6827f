//! The single-photo pipeline: photo -> scale -> background -> detect -> measure -> summary,
//! and the `smpscope.analysis/1` document it produces.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::background::{self, Background};
use crate::check::{self, Range};
use crate::detect::{self, DetectParams};
use crate::error::{Error, Result, Verdict};
use crate::measure::{self, Dot, MeasureParams, PixelScale};
use crate::photo::{self, ImageInfo, Photo};
use crate::plane::Plane;
use crate::region::{Region, Roi};
use crate::scale::{self, DeviceProfiles, Scale};
use crate::summary::{self, PhotoFigures, Summary};
use crate::warning::{self, Warning, WarningCode};

/// The schema name of an analysis document.
pub const ANALYSIS_SCHEMA: &str = "smpscope.analysis/1";

/// Everything a caller can set for an analysis; every field has a sensible default.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Pixels per mm; overrides any device profile.
    pub px_per_mm: Option<f64>,
    /// The camera's own blur as a Gaussian sigma in um; removed from the spread.
    pub camera_blur_um: Option<f64>,
    /// Device profiles to find the scale from the EXIF camera make and model.
    pub device_profiles: Option<DeviceProfiles>,
    /// The treated region; found from the dots when absent.
    #[serde(skip)]
    pub roi: Option<Roi>,
    /// What the detector seeks (dot sizes, threshold, roundness).
    pub detect: DetectParams,
    /// What counts as a pigment dot after its fit (faintness, shape, colour).
    pub measure: MeasureParams,
    /// Whether to look for the calibration marker, and whether it is expected.
    pub marker: crate::marker::MarkerParams,
}

/// The scale a caller may give, px per mm (also a device profile's).
pub const PX_PER_MM: Range = Range { name: "px_per_mm", min: 1.0, max: 5000.0, unit: "px/mm", typical: "15-120" };
/// The camera blur a caller may give, Gaussian sigma in um (also a device profile's): a soft
/// photo at 20 px/mm blurs by 60-70 um, and beyond 150 um a 100 um dot is a smudge.
pub const CAMERA_BLUR_UM: Range = Range { name: "camera_blur_um", min: 0.0, max: 150.0, unit: "um", typical: "5-40" };

impl Params {
    /// Checks every number is within its [`Range`] (and the detected sizes in order).
    pub fn validate(&self) -> Result<()> {
        let range = |name, min, max, unit, typical| Range { name, min, max, unit, typical };
        if let Some(s) = self.px_per_mm {
            PX_PER_MM.check(s)?;
        }
        if let Some(b) = self.camera_blur_um {
            CAMERA_BLUR_UM.check(b)?;
        }
        let d = &self.detect;
        range("detect.min_diameter_um", 5.0, 1000.0, "um", "40").check(d.min_diameter_um)?;
        range("detect.max_diameter_um", 20.0, 2000.0, "um", "400").check(d.max_diameter_um)?;
        if d.max_diameter_um <= d.min_diameter_um {
            return Err(Error::parameter(
                "detect.max_diameter_um",
                format!(
                    "{} um must be larger than detect.min_diameter_um ({} um)",
                    check::short(d.max_diameter_um),
                    check::short(d.min_diameter_um)
                ),
            ));
        }
        range("detect.threshold_sigma", 1.0, 100.0, "", "5").check(d.threshold_sigma)?;
        range("detect.min_roundness", 0.0, 1.0, "", "0.3").check(d.min_roundness)?;
        self.marker.validate()?;
        let m = &self.measure;
        range("measure.min_peak_od", 0.0, 3.0, "OD", "0.06").check(m.min_peak_od)?;
        range("measure.min_snr", 0.0, 1000.0, "", "3").check(m.min_snr)?;
        range("measure.min_ink", 0.0, 1.0, "OD mm^2", "0.0006").check(m.min_ink)?;
        range("measure.max_eccentricity", 0.0, 1.0, "", "0.9").check(m.max_eccentricity)?;
        range("measure.max_attached", 0.0, 10.0, "", "0.35").check(m.max_attached)?;
        range("measure.max_blue_red_ratio", 0.1, 10.0, "", "1.6").check(m.max_blue_red_ratio)?;
        range("measure.max_brown_eccentricity", 0.0, 1.0, "", "0.7").check(m.max_brown_eccentricity)?;
        Ok(())
    }
}

/// The analysis of one photo: the `smpscope.analysis/1` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Always [`ANALYSIS_SCHEMA`], `smpscope.analysis/1`.
    pub schema: String,
    /// The photo: source, format, upright size, EXIF date and camera.
    pub image: ImageInfo,
    /// px per mm and where it came from; null px per mm when unknown.
    pub scale: Scale,
    /// The calibration marker found in the photo, with its own scale, tilt, blur and white
    /// balance; null when none was found (and in documents written before markers existed).
    #[serde(default)]
    pub marker: Option<crate::marker::Marker>,
    /// Count, density, distributions, spacing and quality of the dots in the treated region.
    pub summary: Summary,
    /// Every accepted dot of the photo (inside the region or not), sorted by y then x.
    pub dots: Vec<Dot>,
    /// What the caller should know about the figures (no scale, shine, blur, ...); empty when none.
    pub warnings: Vec<String>,
    /// The same warnings with their stable codes (`[{"code", "message"}]`, see
    /// [`WarningCode`]); empty in documents written before codes existed.
    #[serde(default)]
    pub warning_codes: Vec<Warning>,
}

impl Analysis {
    /// The JSON document, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an analysis always serialises")
    }
}

/// Reads and analyses a photo file.
///
/// ```
/// use smpscope::{DeviceProfiles, Params, analyze_path};
/// // The scale from the device profile matched on the photo's EXIF camera make and model.
/// let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");
/// let profiles = DeviceProfiles::load(format!("{fixtures}/devices.toml").as_ref())?;
/// let params = Params { device_profiles: Some(profiles), ..Default::default() };
/// let a = analyze_path(format!("{fixtures}/photos/demo-1.jpg").as_ref(), &params)?;
/// assert_eq!(a.scale.px_per_mm, Some(40.0));
/// // The truth: 211 dots on 3 cm^2, 70.3 per cm^2.
/// let density = a.summary.density_per_cm2.unwrap();
/// assert!((density / 70.3 - 1.0).abs() < 0.05, "{density}");
/// # Ok::<(), smpscope::Error>(())
/// ```
pub fn analyze_path(path: &Path, params: &Params) -> Result<Analysis> {
    params.validate()?;
    analyze_photo(&photo::load_path(path)?, params)
}

/// Analyses a photo held in memory as encoded file bytes; `source` names it in the document
/// and in errors.
///
/// ```
/// use smpscope::{Params, analyze_bytes};
/// let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/photos/demo-1.jpg"))?;
/// // No scale given and no device profile: the dots are counted, lengths and density are null.
/// let a = analyze_bytes(&bytes, "demo-1.jpg", &Params::default())?;
/// assert!(a.summary.dot_count > 190 && a.summary.density_per_cm2.is_none());
/// assert!(a.dots.iter().all(|d| d.diameter_um.is_none() && d.peak_od > 0.0));
/// assert!(a.warnings.iter().any(|w| w.starts_with("no scale")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn analyze_bytes(bytes: &[u8], source: &str, params: &Params) -> Result<Analysis> {
    params.validate()?;
    analyze_photo(&photo::load_bytes(bytes, source)?, params)
}

/// Analyses a decoded photo: the stages in turn, each a call.
pub fn analyze_photo(photo: &Photo, params: &Params) -> Result<Analysis> {
    params.validate()?;
    let clipped = photo.clipped_fraction();
    if clipped > MAX_CLIPPED {
        return Err(refused(
            photo,
            Verdict::Clipped,
            format!(
                "{:.0} % of the frame is clipped (pure white or black; at most {:.0} % can be measured around): re-expose the photo",
                100.0 * clipped,
                100.0 * MAX_CLIPPED
            ),
        ));
    }
    let mut warnings = photo.warnings.clone();
    let marker = crate::marker::detect(photo, &params.marker, &mut warnings);
    let scale = scale::resolve_with_marker(
        &photo.info,
        params.px_per_mm,
        params.camera_blur_um,
        marker.as_ref(),
        params.device_profiles.as_ref(),
        &mut warnings,
    );
    // The card is painted over from the skin around it: its paper and print are not skin.
    let filled = marker.as_ref().map(|m| photo.with_polygon_filled(&m.card_px));
    let photo = filled.as_ref().unwrap_or(photo);
    let region_from_roi =
        params.roi.as_ref().map(|r| Region::from_roi(r, photo.width(), photo.height())).transpose()?;
    let working = scale.px_per_mm.unwrap_or_else(|| detect::working_scale(photo));
    let (background, od, noise) = skin_and_density(photo, working, &mut warnings)?;
    let candidates = detect::find_candidates(&od, working, &params.detect);
    let inputs = measure::Inputs {
        photo,
        od: &od,
        background: &background,
        noise,
        scale: PixelScale {
            px_per_mm: scale.px_per_mm,
            working_px_per_mm: working,
            camera_blur_px: scale.camera_blur_um.zip(scale.px_per_mm).map(|(b, s)| b * s / 1000.0),
        },
        min_diameter_um: params.detect.min_diameter_um,
        max_diameter_um: params.detect.max_diameter_um,
    };
    let (dots, rejected) = measure::measure_dots(&inputs, &candidates, &params.measure);
    let dots = crate::marker::off_card(dots, marker.as_ref());
    warnings.extend(dark_patch_warning(rejected.dark_patch));
    let region = region_from_roi.unwrap_or_else(|| region_of_dots(&dots, photo, marker.as_ref()));
    let region = crate::marker::exclude_card(region, marker.as_ref(), photo.width(), photo.height());
    let figures = PhotoFigures {
        noise_od: noise,
        clipped_fraction: clipped,
        dot_blur_px: dots.iter().map(|d| d.blur_px).collect(),
    };
    let summary = summary::summarise(&dots, &region, scale.px_per_mm, figures, rejected, &mut warnings);
    Ok(Analysis {
        schema: ANALYSIS_SCHEMA.into(),
        image: photo.info.clone(),
        scale,
        marker,
        summary,
        dots,
        warnings: warning::messages(&warnings),
        warning_codes: warnings,
    })
}

/// The skin's level ([`Background`], in cells about 1.2 mm wide: several dot spacings of skin,
/// well inside the lighting's scale), the optical density over it and its noise per pixel; a
/// refusal when the photo is sensor noise, and a warning for skin shine.
fn skin_and_density(photo: &Photo, working: f64, warnings: &mut Vec<Warning>) -> Result<(Background, Plane, f64)> {
    let cell = (1.2 * working).round().clamp(8.0, 4096.0) as usize;
    let background = Background::estimate(photo, cell);
    let shine = background.shine_share();
    if shine >= 0.02 {
        warnings.push(Warning::new(
            WarningCode::Shine,
            format!(
                "skin shine over {:.0} % of the frame: taken off the skin and the dots there, but their figures are less certain (cross-polarised light avoids shine)",
                100.0 * shine
            ),
        ));
    }
    let od = background.optical_density(photo);
    let noise = background::od_noise(&od);
    if noise > PURE_NOISE_OD {
        return Err(refused(
            photo,
            Verdict::PureNoise,
            format!(
                "the pixel-to-pixel noise is {noise:.2} OD (a measurable photo has under {PURE_NOISE_OD}; a faint dot is 0.1-0.3 OD): sensor noise, not a photo of a scalp"
            ),
        ));
    }
    Ok((background, od, noise))
}

/// The warning for dots set aside on moles, if any were.
fn dark_patch_warning(dark_patch: usize) -> Option<Warning> {
    (dark_patch > 0).then(|| {
        Warning::new(
            WarningCode::DarkPatch,
            format!(
                "{dark_patch} dots on or at the edge of a mole (skin over {} OD darker than around it, with {} times as many dots as the rest of the skin: the noise of its dark skin) were set aside",
                crate::background::PATCH_OD,
                crate::background::CROWD
            ),
        )
    })
}

/// The treated region found from the dots, at their median nearest-neighbour spacing.
fn region_of_dots(dots: &[Dot], photo: &Photo, marker: Option<&crate::marker::Marker>) -> Region {
    let points: Vec<(f64, f64)> = dots.iter().map(|d| (d.x, d.y)).collect();
    let mut nn = summary::nearest_neighbour_px(&points);
    let spacing = if nn.is_empty() { f64::NAN } else { crate::stats::quantile(&mut nn, 0.5) };
    let points = crate::marker::dotted_card(points, marker, spacing);
    Region::from_dots(&points, spacing, photo.width(), photo.height())
}

/// Share of the frame clipped (pure white or black) above which a photo is refused.
const MAX_CLIPPED: f64 = 0.75;
/// Pixel-to-pixel optical-density noise above which a photo is refused as sensor noise: 0.12 OD
/// is about 30 % noise per pixel, where the noisiest synthetic scalp photos of both generators
/// read under 0.05 and uniform random pixels 0.4.
const PURE_NOISE_OD: f64 = 0.12;

fn refused(photo: &Photo, verdict: Verdict, reason: String) -> Error {
    Error::Refused { source_name: photo.info.source.clone(), verdict, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::Pixels;

    fn photo(width: usize, height: usize, pixel: impl Fn(usize) -> u8) -> Photo {
        let data: Vec<u8> = (0..width * height * 3).map(pixel).collect();
        Photo::from_pixels("test.png", width, height, 3, Pixels::U8(data)).unwrap()
    }

    fn verdict(p: &Photo) -> Option<&'static str> {
        let params = Params { px_per_mm: Some(40.0), ..Default::default() };
        match analyze_photo(p, &params) {
            Err(e @ Error::Refused { .. }) => Some(e.kind()),
            Err(e) => panic!("{e}"),
            Ok(_) => None,
        }
    }

    #[test]
    fn sensor_noise_is_refused_as_pure_noise() {
        // A xorshift stream: uniform random pixels, as a 6 MP JPEG of noise decodes to.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..600 * 400 * 3)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 56) as u8
            })
            .collect();
        let p = Photo::from_pixels("noise.png", 600, 400, 3, Pixels::U8(noise)).unwrap();
        assert_eq!(verdict(&p), Some("pure_noise"));
    }

    #[test]
    fn clipped_frames_are_refused_and_plain_skin_is_not() {
        assert_eq!(verdict(&photo(400, 300, |_| 255)), Some("clipped"));
        assert_eq!(verdict(&photo(400, 300, |_| 0)), Some("clipped"));
        // Plain skin with a faint ripple is measured (no dots, but no refusal).
        let skin = [200u8, 150, 120];
        let plain = photo(400, 300, |i| skin[i % 3].saturating_add(((i / 3) % 7) as u8));
        assert_eq!(verdict(&plain), None);
        // No dots: coverage and ink are 0, not the -0 of an empty sum.
        let json = analyze_photo(&plain, &Params { px_per_mm: Some(40.0), ..Default::default() }).unwrap().to_json();
        assert!(!json.contains("-0.0"), "{json}");
    }
}
