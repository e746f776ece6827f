//! The scene specification: every knob of the physical model, its default (a clean, typical
//! photo) and random sampling over the ranges the test matrix covers.
//!
//! A spec fixes the parameters; the individual instances (where each dot lands, its exact size,
//! the skin's mottle, the noise) are drawn from `seed` at render time, one RNG stream per purpose,
//! so changing one knob does not reshuffle everything else.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// RNG stream numbers, one per purpose (see [`rng`]).
pub(crate) mod stream {
    pub const SPEC: u64 = 0;
    pub const SKIN: u64 = 1;
    pub const DOTS: u64 = 2;
    pub const HAIR: u64 = 3;
    pub const REGION: u64 = 4;
    pub const TEXTURE: u64 = 1 << 32;
    pub const NOISE: u64 = 2 << 32;
}

/// A ChaCha8 generator for one purpose of one scene: same seed and stream, same numbers.
pub(crate) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// One soft specular highlight (additive, neutral, Gaussian).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Highlight {
    /// Centre as a fraction of the frame width (0 = left edge, 1 = right edge).
    pub x: f64,
    /// Centre as a fraction of the frame height.
    pub y: f64,
    /// Full width at half maximum, mm.
    pub width_mm: f64,
    /// Peak added linear-light value (0.05 .. 0.25 in random scenes).
    pub peak: f64,
}

/// Every parameter of a synthetic scene. Lengths in um or mm as named, densities per cm^2,
/// optical densities (OD) as log10 units, linear-light values in 0..1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SceneSpec {
    /// Seed of every random draw at render time.
    pub seed: u64,
    /// Upright frame width, px.
    pub width: u32,
    /// Upright frame height, px.
    pub height: u32,
    /// Scale, px per mm (15 .. 120).
    pub px_per_mm: f64,

    /// Fitzpatrick skin type 1..=6 (base colour of the skin).
    pub skin_type: u8,
    /// Per-channel multiplicative jitter of the base skin colour (linear light), ~1 +- 0.05.
    pub skin_tint: [f64; 3],
    /// Mottle strength: typical (2 sigma) relative variation of the skin, 0.05 .. 0.12.
    /// Wavelengths 3 .. 15 mm; darker patches are slightly browner.
    pub mottle_amplitude: f64,
    /// RMS of the fine multiplicative skin texture (0.02 .. 0.05).
    pub texture_rms: f64,
    /// Correlation length of the fine skin texture, um (20 .. 60).
    pub texture_corr_um: f64,

    /// Exposure relative to the automatic exposure (1 = auto; 0.8 .. 1.2). The result is capped
    /// so that skin does not clip.
    pub exposure: f64,
    /// White-balance gains on linear R, G, B (each within about +-10 %).
    pub white_balance: [f64; 3],
    /// Lighting gradient: relative change from the frame centre to its edge, 0 .. 0.2.
    pub light_gradient: f64,
    /// Direction of the lighting gradient (towards brighter), degrees from +x towards +y.
    pub light_angle_deg: f64,
    /// Vignetting: relative light loss at the frame corners, 0 .. 0.35.
    pub vignetting: f64,
    /// Specular highlights (0 .. 3).
    pub highlights: Vec<Highlight>,

    /// Nominal dot density per cm^2 (20 .. 120), overlap partners included.
    pub density_per_cm2: f64,
    /// Jitter of the hexagonal lattice, sigma as a fraction of the spacing (~0.15).
    pub lattice_jitter: f64,
    /// Rotation of the lattice, degrees.
    pub lattice_angle_deg: f64,
    /// Mean deposit diameter D, um (80 .. 160).
    pub diameter_um: f64,
    /// Per-dot coefficient of variation of the diameter (~0.08).
    pub diameter_cv: f64,
    /// Mean pigment spread sigma, um (0 .. 40).
    pub spread_um: f64,
    /// Per-dot coefficient of variation of the spread.
    pub spread_cv: f64,
    /// Mean plateau amount A before fade, luminance OD (dots are clamped to 0.4 .. 1.2).
    pub amplitude: f64,
    /// Per-dot coefficient of variation of A.
    pub amplitude_cv: f64,
    /// Ink loss fraction, 0 .. 0.6: A is multiplied by 1 - fade.
    pub fade: f64,
    /// Per-dot coefficient of variation of the fade fraction.
    pub fade_cv: f64,
    /// Ink absorption per channel before blue shift (normalised at render time so that the
    /// luminance-weighted sum is 1): (1,1,1) carbon black .. (0.95,1,1.15) warm/brown.
    pub ink_k: [f64; 3],
    /// UV-aging blue shift 0 .. 1: blue absorption down by up to 30 %, red up by up to 15 %.
    pub blue_shift: f64,
    /// Fraction of dots (0 .. 0.08) that get an overlapping partner (layered sessions).
    pub overlap_fraction: f64,

    /// Whether only part of the frame is treated (a wavy hairline crosses it).
    pub partial_region: bool,
    /// Share of the frame that is treated when `partial_region` (0.5 .. 0.9).
    pub region_coverage: f64,

    /// Whether distractors (stubble, hairs, pores, freckles, moles) are drawn at all.
    pub distractors: bool,
    /// Stubble per cm^2 (0 .. 40).
    pub stubble_per_cm2: f64,
    /// Number of long hairs (0 .. 5).
    pub long_hairs: u32,
    /// Mean hair OD at the shaft centre (per hair 0.4 .. 1.5).
    pub hair_od: f64,
    /// Hair absorption per channel (melanin absorbs blue more), normalised at render time.
    pub hair_k: [f64; 3],
    /// Main hair direction, degrees (stubble and hairs scatter around it).
    pub hair_angle_deg: f64,
    /// Pores per cm^2 (20 .. 80).
    pub pores_per_cm2: f64,
    /// Number of freckles (0 .. 5).
    pub freckles: u32,
    /// Number of moles (0 .. 1).
    pub moles: u32,

    /// Camera blur: Gaussian PSF sigma, px (0.3 .. 1.1 in random scenes; 0 = none).
    pub camera_blur_px: f64,
    /// Signal-dependent noise: variance g * I in linear light (0.0002 .. 0.002; 0 = none).
    pub noise_gain: f64,
    /// Signal-independent noise sigma r in linear light (0.001 .. 0.006; 0 = none).
    pub read_noise: f64,

    /// JPEG quality (70 .. 95), or None for a lossless PNG.
    pub jpeg_quality: Option<u8>,
    /// Whether the JPEG stores its colour at half the resolution both ways (4:2:0, block
    /// means), as most cameras do; false: full resolution (4:4:4).
    pub jpeg_chroma_420: bool,
    /// EXIF orientation 1..=8 written to the JPEG; the stored pixels are transformed so that
    /// applying it restores the upright frame. Ignored (1) for PNG.
    pub orientation: u8,
    /// EXIF DateTimeOriginal, "YYYY:MM:DD HH:MM:SS".
    pub capture_time: String,
}

impl Default for SceneSpec {
    /// A clean, typical scene: skin type III, 40 px/mm, no distractors, no fade or blue shift,
    /// blur 0.6 px, low noise, PNG, 800 x 600.
    fn default() -> Self {
        Self {
            seed: 1,
            width: 800,
            height: 600,
            px_per_mm: 40.0,
            skin_type: 3,
            skin_tint: [1.0; 3],
            mottle_amplitude: 0.06,
            texture_rms: 0.03,
            texture_corr_um: 40.0,
            exposure: 1.0,
            white_balance: [1.0; 3],
            light_gradient: 0.05,
            light_angle_deg: 30.0,
            vignetting: 0.1,
            highlights: Vec::new(),
            density_per_cm2: 60.0,
            lattice_jitter: 0.15,
            lattice_angle_deg: 17.0,
            diameter_um: 120.0,
            diameter_cv: 0.08,
            spread_um: 15.0,
            spread_cv: 0.2,
            amplitude: 0.8,
            amplitude_cv: 0.08,
            fade: 0.0,
            fade_cv: 0.1,
            ink_k: [1.0; 3],
            blue_shift: 0.0,
            overlap_fraction: 0.02,
            partial_region: false,
            region_coverage: 0.7,
            distractors: false,
            stubble_per_cm2: 15.0,
            long_hairs: 2,
            hair_od: 0.9,
            hair_k: [0.8, 1.0, 1.35],
            hair_angle_deg: 100.0,
            pores_per_cm2: 40.0,
            freckles: 1,
            moles: 1,
            camera_blur_px: 0.6,
            noise_gain: 0.0003,
            read_noise: 0.0015,
            jpeg_quality: None,
            jpeg_chroma_420: false,
            orientation: 1,
            capture_time: "2024:01:15 10:30:00".into(),
        }
    }
}

/// log-uniform draw in [lo, hi].
fn log_uniform(r: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    (r.random_range(lo.ln()..=hi.ln())).exp()
}

impl SceneSpec {
    /// A scene with every knob drawn from the ranges of the model (deterministic in `seed`).
    pub fn random(seed: u64, width: u32, height: u32) -> SceneSpec {
        let mut r = rng(seed, stream::SPEC);
        let r = &mut r;
        let skin_tint = [0; 3].map(|_| 1.0 + r.random_range(-0.05..=0.05));
        let white_balance = [0; 3].map(|_| r.random_range(0.9..=1.1));
        let n_highlights = if r.random_bool(0.5) { r.random_range(1..=3) } else { 0 };
        let highlights = (0..n_highlights)
            .map(|_| Highlight {
                x: r.random_range(0.1..=0.9),
                y: r.random_range(0.1..=0.9),
                width_mm: r.random_range(1.0..=4.0),
                peak: r.random_range(0.05..=0.25),
            })
            .collect();
        let warmth: f64 = r.random_range(0.0..=1.0);
        let hair_jitter = r.random_range(-0.05..=0.05);
        let jpeg = r.random_bool(0.7);
        let jpeg_quality = if jpeg { Some(r.random_range(70..=95)) } else { None };
        let orientation = if jpeg { r.random_range(1..=8) } else { 1 };
        let capture_time = format!(
            "{:04}:{:02}:{:02} {:02}:{:02}:{:02}",
            r.random_range(2020..=2025),
            r.random_range(1..=12),
            r.random_range(1..=28),
            r.random_range(8..=19),
            r.random_range(0..=59),
            r.random_range(0..=59)
        );
        SceneSpec {
            seed,
            width,
            height,
            px_per_mm: log_uniform(r, 15.0, 120.0),
            skin_type: r.random_range(1..=6),
            skin_tint,
            mottle_amplitude: r.random_range(0.05..=0.12),
            texture_rms: r.random_range(0.02..=0.05),
            texture_corr_um: r.random_range(20.0..=60.0),
            exposure: r.random_range(0.8..=1.2),
            white_balance,
            light_gradient: r.random_range(0.0..=0.2),
            light_angle_deg: r.random_range(0.0..360.0),
            vignetting: r.random_range(0.0..=0.35),
            highlights,
            density_per_cm2: r.random_range(20.0..=120.0),
            lattice_jitter: r.random_range(0.1..=0.2),
            lattice_angle_deg: r.random_range(0.0..60.0),
            diameter_um: r.random_range(80.0..=160.0),
            diameter_cv: r.random_range(0.05..=0.12),
            spread_um: r.random_range(0.0..=40.0),
            spread_cv: r.random_range(0.1..=0.3),
            amplitude: r.random_range(0.5..=1.1),
            amplitude_cv: r.random_range(0.05..=0.15),
            fade: r.random_range(0.0..=0.6),
            fade_cv: r.random_range(0.05..=0.2),
            ink_k: [1.0 - 0.05 * warmth, 1.0, 1.0 + 0.15 * warmth],
            blue_shift: r.random_range(0.0..=1.0),
            overlap_fraction: r.random_range(0.0..=0.08),
            partial_region: r.random_bool(0.3),
            region_coverage: r.random_range(0.5..=0.9),
            distractors: r.random_bool(0.6),
            stubble_per_cm2: r.random_range(0.0..=40.0),
            long_hairs: r.random_range(0..=5),
            hair_od: r.random_range(0.6..=1.2),
            hair_k: [0.8 - hair_jitter, 1.0, 1.35 + 2.0 * hair_jitter],
            hair_angle_deg: r.random_range(0.0..360.0),
            pores_per_cm2: r.random_range(20.0..=80.0),
            freckles: r.random_range(0..=5),
            moles: u32::from(r.random_bool(0.3)),
            camera_blur_px: r.random_range(0.3..=1.1),
            noise_gain: log_uniform(r, 0.0002, 0.002),
            read_noise: r.random_range(0.001..=0.006),
            jpeg_quality,
            jpeg_chroma_420: false,
            orientation,
            capture_time,
        }
    }

    /// The file extension `encode` will produce: "jpg" or "png".
    pub fn extension(&self) -> &'static str {
        if self.jpeg_quality.is_some() { "jpg" } else { "png" }
    }

    /// Frame width and height in mm.
    pub fn frame_mm(&self) -> (f64, f64) {
        (self.width as f64 / self.px_per_mm, self.height as f64 / self.px_per_mm)
    }
}
