//! The marker's accuracy against the generator's truth: random cases (scale, tilt, blur, light,
//! skin type, JPEG), each rendered, encoded, decoded and read, and the figures of issue 24
//! (scale, tilt, blur, white balance, density) over a set of them.

use rand::Rng;
use smpscope::colour::{delta_e_2000, linear_rgb_to_lab};
use smpscope::{Analysis, Params};

use crate::marker::{MarkerSpec, MarkerTruth, render_with_marker};
use crate::scene::{SceneSpec, rng};
use crate::{Scene, encode};

/// One photo with a marker: the scene and how the card lies in it.
#[derive(Debug, Clone)]
pub struct Case {
    /// The scene (its px_per_mm is the true scale at the card's centre).
    pub spec: SceneSpec,
    /// The card.
    pub marker: MarkerSpec,
}

/// Half the card's diagonal plus 1.5 mm, mm: how far the card's centre stays from the edges.
const CARD_REACH_MM: f64 = 0.5 * 16.0 * std::f64::consts::SQRT_2 + 1.5;

/// A random case at `px_per_mm` with the card tilted by `tilt_deg`: the frame is as small as
/// holds the card with scalp beside it (at least 33 mm by 25 mm, 640 px wide), every other knob
/// drawn from `seed` (skin type, light, white balance, noise, JPEG quality 60-95, rotation,
/// tilt axis, focal length 0.8-3 diagonals, where the card lies).
pub fn case(seed: u64, px_per_mm: f64, tilt_deg: f64) -> Case {
    let r = &mut rng(seed, 7 << 32);
    let width = ((33.0 * px_per_mm).round() as u32).max(640);
    let height = ((25.0 * px_per_mm).round() as u32).max(480);
    let mut spec = SceneSpec::random(seed, width, height);
    spec.px_per_mm = px_per_mm;
    spec.skin_type = (seed % 6) as u8 + 1;
    spec.jpeg_quality = r.random_bool(0.85).then(|| r.random_range(60..=95));
    spec.jpeg_chroma_420 = r.random_bool(0.5);
    spec.camera_blur_px = r.random_range(0.3..=1.5);
    spec.highlights.clear();
    let (fw, fh) = spec.frame_mm();
    let mut span = |frame: f64| {
        let m = (CARD_REACH_MM / frame).min(0.5);
        r.random_range(m..=(1.0 - m).max(m))
    };
    let marker = MarkerSpec {
        x: span(fw),
        y: span(fh),
        rotation_deg: r.random_range(0.0..360.0),
        tilt_deg,
        tilt_axis_deg: r.random_range(0.0..360.0),
        focal: r.random_range(0.8..=3.0),
        ..Default::default()
    };
    Case { spec, marker }
}

/// What one case read against its truth.
#[derive(Debug, Clone, Default)]
pub struct Score {
    /// The case's seed, true scale (px/mm), tilt (degrees), blur (px), skin type and JPEG quality.
    pub seed: u64,
    /// True px per mm.
    pub px_per_mm: f64,
    /// True tilt, degrees.
    pub tilt_deg: f64,
    /// True blur sigma, px.
    pub blur_px: f64,
    /// Fitzpatrick type.
    pub skin_type: u8,
    /// JPEG quality, or None for PNG.
    pub jpeg: Option<u8>,
    /// Whether the marker was found.
    pub found: bool,
    /// Relative scale error, measured / true - 1.
    pub scale_err: f64,
    /// Whether the true scale lies in the reported 95 % interval.
    pub scale_covered: bool,
    /// Tilt error, degrees.
    pub tilt_err: f64,
    /// Blur error, px (None when no blur was read).
    pub blur_err_px: Option<f64>,
    /// Colour left on a neutral grey after the marker's white balance, CIEDE2000 (None when no
    /// white balance was read).
    pub neutral_de: Option<f64>,
}

/// Renders, encodes and decodes a case; also returns the marker's truth.
pub fn photo(case: &Case) -> (smpscope::Photo, Scene, MarkerTruth, SceneSpec) {
    let (scene, truth, spec) = render_with_marker(&case.spec, &case.marker);
    let file = encode(&scene, &spec);
    let photo = smpscope::photo::load_bytes(&file.bytes, &format!("marker-{}.{}", spec.seed, file.extension))
        .expect("a synthetic photo decodes");
    (photo, scene, truth, spec)
}

/// Reads the marker of one case.
pub fn score(case: &Case) -> Score {
    let (photo, _, truth, spec) = photo(case);
    let mut warnings = Vec::new();
    let found = smpscope::marker::detect(&photo, &Default::default(), &mut warnings);
    let mut s = Score {
        seed: spec.seed,
        px_per_mm: truth.px_per_mm,
        tilt_deg: truth.tilt_deg,
        blur_px: truth.camera_blur_px,
        skin_type: spec.skin_type,
        jpeg: spec.jpeg_quality,
        ..Default::default()
    };
    let Some(m) = found else { return s };
    s.found = true;
    s.scale_err = m.px_per_mm / truth.printed_px_per_mm - 1.0;
    s.scale_covered = (m.px_per_mm_interval[0]..=m.px_per_mm_interval[1]).contains(&truth.printed_px_per_mm);
    s.tilt_err = m.tilt_deg - truth.tilt_deg;
    s.blur_err_px = m.camera_blur_px.map(|b| b - truth.camera_blur_px);
    s.neutral_de = m.white_balance.map(|wb| {
        // A neutral grey as the camera recorded it (the scene's white balance), then balanced.
        let v: [f64; 3] = std::array::from_fn(|c| wb.gains[c] * spec.white_balance[c] / spec.white_balance[1] * 0.18);
        let y = 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
        delta_e_2000(linear_rgb_to_lab(v), linear_rgb_to_lab([y; 3]))
    });
    s
}

/// Densities per cm^2 of one case analysed with the marker's scale and with the true scale
/// given by the caller (both leave the card out); None where one has no density.
pub fn densities(case: &Case) -> Option<(f64, f64, Analysis)> {
    let (photo, _, truth, _) = photo(case);
    let by_marker = smpscope::analyze_photo(&photo, &Params::default()).ok()?;
    let given = Params { px_per_mm: Some(truth.px_per_mm), ..Default::default() };
    let by_caller = smpscope::analyze_photo(&photo, &given).ok()?;
    Some((by_marker.summary.density_per_cm2?, by_caller.summary.density_per_cm2?, by_marker))
}

/// The q-quantile of |v| (nearest rank); NaN when empty.
pub fn abs_quantile(v: &[f64], q: f64) -> f64 {
    let mut a: Vec<f64> = v.iter().map(|x| x.abs()).collect();
    if a.is_empty() {
        return f64::NAN;
    }
    a.sort_by(f64::total_cmp);
    a[((q * a.len() as f64).ceil() as usize).clamp(1, a.len()) - 1]
}

/// Whether a blur error meets the target: at most 10 % of the blur or 0.15 px.
pub fn blur_ok(err_px: f64, blur_px: f64) -> bool {
    err_px.abs() <= (0.1 * blur_px).max(0.15)
}
