//! Ground truth: what the scene contains, exactly, from the model (never measured).
//!
//! Coordinates are pixels of the UPRIGHT photo (after EXIF orientation), the centre of the
//! top-left pixel at (0, 0). The definitions here are the contract the measuring core is tested
//! against; see the field docs.

use serde::{Deserialize, Serialize};

/// One pigment dot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthDot {
    /// Index among the truth dots of the scene.
    pub id: usize,
    /// Centre, upright px.
    pub x: f64,
    /// Centre, upright px.
    pub y: f64,
    /// Deposit diameter D = 2R, um.
    pub diameter_um: f64,
    /// Pigment spread sigma s, um (0 = hard disc).
    pub spread_um: f64,
    /// Plateau amount A after fade, luminance-weighted OD.
    pub amplitude: f64,
    /// Ink colour: per-channel absorption (linear R, G, B), with sum_c LUMA_c k_c = 1.
    pub k: [f64; 3],
    /// A (1 - exp(-R^2 / (2 s^2))): luminance OD at the centre of the pigment profile
    /// (camera blur not included).
    pub peak_od: f64,
    /// A pi R^2 with R in mm: integrated luminance OD, OD mm^2.
    pub ink: f64,
    /// Full width at half maximum of A P(r), um (camera blur not included).
    pub fwhm_um: f64,
    /// CIELAB of L(x0) S'(x0) 10^(-k peak_od): lighting with white balance, skin without its
    /// fine texture, no shine, blur or noise.
    pub lab: [f64; 3],
    /// CIELAB of L(x0) S'(x0): the skin under the dot.
    pub skin_lab: [f64; 3],
    /// CIEDE2000 between `lab` and `skin_lab`.
    pub delta_e: f64,
    /// Whether the dot is one of an overlapping pair (layered sessions).
    pub overlaps: bool,
    /// Whether the centre is inside the treated region (always true without a partial region).
    pub in_region: bool,
}

/// Kinds of non-pigment structures that look a little like dots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistractorKind {
    /// Short shaved hair, 0.2 .. 1.5 mm.
    Stubble,
    /// Long hair, several mm to frame-crossing.
    Hair,
    /// Pore: small soft Gaussian darkening.
    Pore,
    /// Freckle: soft brown patch 1 .. 3 mm.
    Freckle,
    /// Mole: dark brown patch 2 .. 5 mm.
    Mole,
}

/// One distractor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthDistractor {
    /// What it is.
    pub kind: DistractorKind,
    /// Centre (blobs) or mid-point along the shaft (hairs), upright px.
    pub x: f64,
    /// See `x`.
    pub y: f64,
    /// Diameter (blobs: FWHM for pores, deposit diameter for freckles and moles) or shaft width
    /// (hairs), um.
    pub size_um: f64,
    /// Shaft length for hairs, um.
    pub length_um: Option<f64>,
    /// Peak luminance OD.
    pub peak_od: f64,
    /// Shaft centre line for hairs, upright px.
    pub path: Option<Vec<[f64; 2]>>,
}

/// The conditions a scene was made under, flat, for accuracy tables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conditions {
    /// Fitzpatrick skin type 1..=6.
    pub skin_type: u8,
    /// Scale, px per mm.
    pub px_per_mm: f64,
    /// Camera blur sigma, px.
    pub camera_blur_px: f64,
    /// Mean deposit diameter of the spec, um.
    pub diameter_um: f64,
    /// Mean spread of the spec, um.
    pub spread_um: f64,
    /// Mean plateau amount before fade (luminance OD).
    pub amplitude: f64,
    /// Ink loss fraction.
    pub fade: f64,
    /// Blue shift 0..1.
    pub blue_shift: f64,
    /// Nominal dot density of the spec, per cm^2.
    pub density_per_cm2: f64,
    /// JPEG quality, None for PNG.
    pub jpeg_quality: Option<u8>,
    /// Whether the JPEG's colour was stored at 4:2:0.
    #[serde(default)]
    pub jpeg_chroma_420: bool,
    /// Whether distractors were drawn.
    pub distractors: bool,
    /// Peak of the strongest specular highlight, linear light (0: none).
    #[serde(default)]
    pub shine_peak: f64,
    /// Noise gain g (variance g I), linear light.
    pub noise_gain: f64,
    /// Read noise sigma r, linear light.
    pub read_noise: f64,
    /// Noise sigma at the mean skin luminance, linear light: sqrt(g Y + r^2).
    pub noise_sd: f64,
    /// Noise sigma at the mean skin level relative to that level (1 / SNR).
    pub noise_rel: f64,
    /// EXIF orientation 1..=8 of the file.
    pub orientation: u8,
    /// Fraction of dots given an overlapping partner.
    pub overlap_fraction: f64,
    /// Whether only part of the frame is treated.
    pub partial_region: bool,
}

/// Everything true about one scene.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Schema tag of this document.
    pub schema: String,
    /// Seed of the scene.
    pub seed: u64,
    /// Upright width, px.
    pub width: u32,
    /// Upright height, px.
    pub height: u32,
    /// Scale, px per mm.
    pub px_per_mm: f64,
    /// Camera blur sigma, px.
    pub camera_blur_px: f64,
    /// Camera blur sigma, um.
    pub camera_blur_um: f64,
    /// Treated region polygon in upright px (may extend past the frame); None = whole frame.
    pub region: Option<Vec<[f64; 2]>>,
    /// Area of the treated region inside the frame, cm^2.
    pub region_area_cm2: f64,
    /// Truth dots with centre in the region and the frame, per cm^2 of `region_area_cm2`.
    pub density_per_cm2: f64,
    /// Every dot whose centre is inside the frame.
    pub dots: Vec<TruthDot>,
    /// Every distractor that touches the frame.
    pub distractors: Vec<TruthDistractor>,
    /// The conditions, flat.
    pub conditions: Conditions,
}

/// The `schema` value of [`Truth`].
pub const TRUTH_SCHEMA: &str = "smpscope-synth.truth/1";
