//! Patient series: the same scalp area photographed at 3 to 6 visits over up to 5 years, with
//! exact ground truth, for testing the tracking stage (registration, dot matching, fade, spread,
//! colour shift, half-life).
//!
//! Geometry. Scalp coordinates are the first visit's upright px. The patient's dots are drawn
//! once, in scalp coordinates, over the union of every visit's frame plus a margin, and keep their
//! identity for life. Visit t's camera has a [`Pose`]: its upright px p shows the scalp point
//! S_t(p), a similarity ([`Pose::to_first`]), at a scale of `base.px_per_mm * pose.scale`.
//!
//! Aging of a dot of age tau months (since visit 0, or since it was inked or re-inked at a
//! touch-up; months of 365.2425 / 12 days, counted between the visit dates):
//! - fade: A(tau) = A0 0.5^(tau / h_dot), h_dot = `half_life_months` (1 + u `half_life_variation`),
//!   u uniform in -1..1 per dot;
//! - spread: s(tau) = sqrt(s0^2 + (g tau / 12)^2) um, g = `spread_growth_um_per_year`: migration
//!   convolves the dot with a Gaussian whose sigma grows linearly, and sigmas add in quadrature.
//!   The deposit diameter D does not change: the ink spreads, the deposit does not grow;
//! - blueing: the ink's blue shift beta (the [`SceneSpec::blue_shift`] model: red absorption up by
//!   up to 15 %, blue down by up to 30 %, renormalised so the luminance OD, hence the ink, is
//!   unchanged) saturates towards 1: beta(tau) = beta0 + (1 - beta0)(1 - exp(-r tau / 12)),
//!   r = `blueing_per_year` (1/year), beta0 = `base.blue_shift`. The dot's b* falls with it;
//! - loss: each dot disappears at a random time with yearly hazard `loss_per_year`
//!   (P(still there after T years) = (1 - loss)^T) and is absent from every later visit.
//!
//! Fixed on the scalp: dots, skin reflectance (mottle and texture), pores, freckles, moles and
//! the treated region. Per visit: light (exposure, white balance, gradient, vignetting,
//! highlights: a [`Shot`]), stubble and long hairs (they grow back), noise, JPEG quality,
//! EXIF orientation and date.

mod date;
mod field;
mod pose;
mod truth;
mod visit;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::scene::{Highlight, SceneSpec, rng};

use date::{format_date, parse_date};
pub use pose::{Pose, map_point};
pub use truth::{SERIES_TRUTH_SCHEMA, SeriesDot, SeriesTruth, VisitTruth};
pub use visit::{Series, VisitScene, render_series, write_series};

/// RNG streams of a series (beyond those of a scene, see `scene::stream`).
mod stream {
    pub const SPEC: u64 = 16;
    pub const FATE: u64 = 17;
    pub const TOUCH_UP: u64 = 18;
}

/// Days per month: months are counted in mean Gregorian months.
pub const DAYS_PER_MONTH: f64 = 365.2425 / 12.0;

/// The light and the file of one visit (the [`SceneSpec`] fields of the same names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shot {
    /// Exposure relative to automatic (0.8 .. 1.2).
    pub exposure: f64,
    /// White-balance gains on linear R, G, B (0.9 .. 1.1).
    pub white_balance: [f64; 3],
    /// Lighting gradient, relative change centre to edge (0 .. 0.2).
    pub light_gradient: f64,
    /// Direction of the gradient, degrees.
    pub light_angle_deg: f64,
    /// Relative light loss at the corners (0 .. 0.35).
    pub vignetting: f64,
    /// Specular highlights (positions are fractions of this visit's frame).
    pub highlights: Vec<Highlight>,
    /// JPEG quality (every visit is a JPEG: the tracker orders visits by EXIF date).
    pub jpeg_quality: u8,
    /// EXIF orientation 1..=8.
    pub orientation: u8,
}

impl Shot {
    /// The light and file settings of a scene spec (quality 90 for a PNG spec).
    pub fn of(spec: &SceneSpec) -> Shot {
        Shot {
            exposure: spec.exposure,
            white_balance: spec.white_balance,
            light_gradient: spec.light_gradient,
            light_angle_deg: spec.light_angle_deg,
            vignetting: spec.vignetting,
            highlights: spec.highlights.clone(),
            jpeg_quality: spec.jpeg_quality.unwrap_or(90),
            orientation: spec.orientation,
        }
    }

    fn apply(&self, s: &mut SceneSpec) {
        s.exposure = self.exposure;
        s.white_balance = self.white_balance;
        s.light_gradient = self.light_gradient;
        s.light_angle_deg = self.light_angle_deg;
        s.vignetting = self.vignetting;
        s.highlights = self.highlights.clone();
        s.jpeg_quality = Some(self.jpeg_quality);
        s.orientation = self.orientation;
    }

    /// Light drawn over the ranges of `SceneSpec::random`; quality 75..=95; orientation 1 or 6.
    fn random(r: &mut ChaCha8Rng) -> Shot {
        let white_balance = [0; 3].map(|_| r.random_range(0.9..=1.1));
        let n = if r.random_bool(0.5) { r.random_range(1..=3) } else { 0 };
        let highlights = (0..n)
            .map(|_| Highlight {
                x: r.random_range(0.1..=0.9),
                y: r.random_range(0.1..=0.9),
                width_mm: r.random_range(1.0..=4.0),
                peak: r.random_range(0.05..=0.25),
            })
            .collect();
        Shot {
            exposure: r.random_range(0.8..=1.2),
            white_balance,
            light_gradient: r.random_range(0.0..=0.2),
            light_angle_deg: r.random_range(0.0..360.0),
            vignetting: r.random_range(0.0..=0.35),
            highlights,
            jpeg_quality: r.random_range(75..=95),
            orientation: if r.random_bool(0.3) { 6 } else { 1 },
        }
    }
}

/// A touch-up session just before visit `visit`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TouchUp {
    /// Index (0-based) of the first visit after the touch-up (>= 2 in random series).
    pub visit: usize,
    /// New dots as a fraction of the original count (0.15 .. 0.35), placed in the gaps: never
    /// closer than one mean diameter, edge to edge, to any earlier dot.
    pub new_fraction: f64,
    /// Probability that a surviving dot is re-inked (0.5 .. 1): it returns to its visit-0 state
    /// (amount, spread, colour) and its aging clock restarts.
    pub reink_fraction: f64,
}

/// Everything about a patient series. Missing fields in JSON take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeriesSpec {
    /// The first visit: frame, scale, skin, dots, distractors, camera. Its `fade` and
    /// `blue_shift` are the ink's state at visit 0 (0 in random series: a healed, fresh treatment).
    pub base: SceneSpec,
    /// Date of the first visit, "YYYY-MM-DD".
    pub first_date: String,
    /// Visit times in months after the first (0 first, increasing; each rounded to whole days).
    pub visit_months: Vec<f64>,
    /// Camera pose per visit (missing: identity); the first must be the identity.
    pub poses: Vec<Pose>,
    /// Light and file per visit (missing: those of `base`).
    pub shots: Vec<Shot>,
    /// Median ink half-life, months (12 ..= 60).
    pub half_life_months: f64,
    /// Per-dot relative variation of the half-life: uniform within +-this (0.1).
    pub half_life_variation: f64,
    /// Growth of the pigment spread, um of added sigma per year (0 ..= 8).
    pub spread_growth_um_per_year: f64,
    /// Rate of blueing, 1 / year (0 ..= 1.5).
    pub blueing_per_year: f64,
    /// Yearly hazard of losing a dot (0 ..= 0.06).
    pub loss_per_year: f64,
    /// An optional touch-up session.
    pub touch_up: Option<TouchUp>,
}

impl Default for SeriesSpec {
    /// The demo patient (fixtures/patient): 4 visits over 34 months from 2023-03-14, 800 x 600
    /// px at 40 px/mm, skin type III, a few distractors, JPEG 90, half-life 30 months, visible
    /// blueing and a touch-up before the fourth visit.
    fn default() -> Self {
        let base = SceneSpec {
            seed: 2023,
            distractors: true,
            stubble_per_cm2: 3.0,
            long_hairs: 1,
            pores_per_cm2: 20.0,
            freckles: 1,
            moles: 0,
            jpeg_quality: Some(90),
            capture_time: "2023:03:14 10:30:00".into(),
            ..SceneSpec::default()
        };
        let shot =
            |wb: [f64; 3], exposure, light_gradient, light_angle_deg, vignetting, jpeg_quality, orientation| Shot {
                exposure,
                white_balance: wb,
                light_gradient,
                light_angle_deg,
                vignetting,
                highlights: Vec::new(),
                jpeg_quality,
                orientation,
            };
        let pose = |rotation_deg, scale, shift| Pose { rotation_deg, scale, shift };
        SeriesSpec {
            first_date: "2023-03-14".into(),
            visit_months: vec![0.0, 8.0, 20.0, 34.0],
            poses: vec![
                Pose::IDENTITY,
                pose(4.0, 1.03, [0.08, -0.05]),
                pose(-6.0, 0.96, [-0.1, 0.07]),
                pose(9.0, 1.06, [0.05, 0.12]),
            ],
            shots: vec![
                Shot::of(&base),
                shot([1.06, 1.0, 0.92], 0.95, 0.1, 120.0, 0.15, 88, 6),
                shot([0.94, 1.0, 1.07], 1.08, 0.08, 250.0, 0.08, 91, 1),
                shot([1.03, 0.98, 0.95], 1.0, 0.12, 300.0, 0.2, 90, 6),
            ],
            half_life_months: 30.0,
            half_life_variation: 0.1,
            spread_growth_um_per_year: 4.0,
            blueing_per_year: 0.5,
            loss_per_year: 0.03,
            touch_up: Some(TouchUp { visit: 3, new_fraction: 0.25, reink_fraction: 0.8 }),
            base,
        }
    }
}

impl SeriesSpec {
    /// A series with every knob drawn (deterministic in `seed`); `base` is
    /// `SceneSpec::random(seed, width, height)` made a fresh JPEG baseline (no fade, no blue shift).
    pub fn random(seed: u64, width: u32, height: u32) -> SeriesSpec {
        let mut base = SceneSpec::random(seed, width, height);
        let r = &mut rng(seed, stream::SPEC);
        let n = r.random_range(3..=6usize);
        let span: f64 = r.random_range(6.0..=60.0);
        // Stratified interior visits: at least 0.2 span / (n - 1) apart, hence distinct days.
        let mut visit_months = vec![0.0];
        visit_months.extend((1..n - 1).map(|i| span * (i as f64 - 0.4 + 0.8 * r.random::<f64>()) / (n - 1) as f64));
        visit_months.push(span);
        let first_date =
            format!("{:04}-{:02}-{:02}", r.random_range(2018..=2021), r.random_range(1..=12), r.random_range(1..=28));
        let half_life_months = r.random_range(12.0..=60.0);
        let spread_growth_um_per_year = r.random_range(0.0..=8.0);
        let blueing_per_year = r.random_range(0.0..=1.5);
        let loss_per_year = r.random_range(0.0..=0.06);
        let touch_up = r.random_bool(0.4).then(|| TouchUp {
            visit: r.random_range(2..n),
            new_fraction: r.random_range(0.15..=0.35),
            reink_fraction: r.random_range(0.5..=1.0),
        });
        let mut poses = vec![Pose::IDENTITY];
        poses.extend((1..n).map(|_| Pose {
            rotation_deg: r.random_range(-15.0..=15.0),
            scale: r.random_range(0.9..=1.1),
            shift: [0; 2].map(|_| r.random_range(-1.0 / 3.0..=1.0 / 3.0)),
        }));
        let mut shots = vec![Shot {
            jpeg_quality: base.jpeg_quality.unwrap_or_else(|| r.random_range(75..=95)),
            orientation: if r.random_bool(0.3) { 6 } else { 1 },
            ..Shot::of(&base)
        }];
        shots.extend((1..n).map(|_| Shot::random(r)));
        base.fade = 0.0;
        base.blue_shift = 0.0;
        base.jpeg_quality = Some(shots[0].jpeg_quality);
        base.orientation = shots[0].orientation;
        let mut spec = SeriesSpec {
            base,
            first_date,
            visit_months,
            poses,
            shots,
            half_life_months,
            half_life_variation: 0.1,
            spread_growth_um_per_year,
            blueing_per_year,
            loss_per_year,
            touch_up,
        };
        spec.base.capture_time = format!("{} 10:30:00", spec.visit_date(0).replace('-', ":"));
        spec
    }

    /// Checks what rendering relies on; the message names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        let b = &self.base;
        let finite_pos = |v: f64| v.is_finite() && v > 0.0;
        if b.width == 0 || b.height == 0 || !finite_pos(b.px_per_mm) {
            return Err("base needs width, height > 0 and px_per_mm > 0".into());
        }
        if b.width > 20_000 || b.height > 20_000 {
            return Err("base width and height must be at most 20000 px".into());
        }
        let m = &self.visit_months;
        if m.is_empty() || m[0] != 0.0 || m.iter().any(|v| !v.is_finite()) {
            return Err("visit_months must start at 0 and be finite".into());
        }
        if (1..m.len()).any(|v| self.visit_days(v).unwrap_or(0) <= self.visit_days(v - 1).unwrap_or(0)) {
            return Err("visit_months must increase by at least a day from visit to visit".into());
        }
        parse_date(&self.first_date).ok_or_else(|| format!("first_date {:?} is not YYYY-MM-DD", self.first_date))?;
        if self.poses.len() > m.len() || self.shots.len() > m.len() {
            return Err("more poses or shots than visits".into());
        }
        if self.poses.first().is_some_and(|p| *p != Pose::IDENTITY) {
            return Err("the first pose must be the identity (it defines scalp coordinates)".into());
        }
        if self
            .poses
            .iter()
            .any(|p| !finite_pos(p.scale) || !p.rotation_deg.is_finite() || !p.shift.iter().all(|s| s.is_finite()))
        {
            return Err("poses need a finite rotation and shift and a scale > 0".into());
        }
        if !finite_pos(self.half_life_months) || !(0.0..1.0).contains(&self.half_life_variation) {
            return Err("half_life_months must be > 0 and half_life_variation in 0..1".into());
        }
        let rates = [self.spread_growth_um_per_year, self.blueing_per_year];
        if !rates.iter().all(|v| v.is_finite() && *v >= 0.0) || !(0.0..1.0).contains(&self.loss_per_year) {
            return Err("growth and blueing must be >= 0, loss_per_year in 0..1".into());
        }
        if let Some(t) = &self.touch_up
            && (t.visit == 0
                || t.visit >= m.len()
                || !(0.0..=1.0).contains(&t.new_fraction)
                || !(0.0..=1.0).contains(&t.reink_fraction))
        {
            return Err("touch_up.visit must be in 1..visits and its fractions in 0..=1".into());
        }
        Ok(())
    }

    /// Number of visits.
    pub fn visits(&self) -> usize {
        self.visit_months.len()
    }

    /// Whole days from the first visit to visit `v` (None past the last visit).
    pub fn visit_days(&self, v: usize) -> Option<i64> {
        self.visit_months.get(v).map(|m| (m * DAYS_PER_MONTH).round() as i64)
    }

    /// Months from the first visit to visit `v`, from the whole days between their dates: the
    /// time the dots have aged (panics past the last visit).
    pub fn months_at(&self, v: usize) -> f64 {
        self.visit_days(v).expect("visit index") as f64 / DAYS_PER_MONTH
    }

    /// Date of visit `v`, "YYYY-MM-DD".
    pub fn visit_date(&self, v: usize) -> String {
        let first = parse_date(&self.first_date).expect("first_date is YYYY-MM-DD");
        format_date(first + self.visit_days(v).expect("visit index"))
    }

    /// Pose of visit `v` (identity where none is given).
    pub fn pose(&self, v: usize) -> Pose {
        self.poses.get(v).copied().unwrap_or(Pose::IDENTITY)
    }

    /// The scene spec of visit `v`: `base` with this visit's seed (noise, hairs), scale, light,
    /// file settings and capture time (10:30:00). Its `fade`, `spread_um` and `blue_shift` are
    /// the nominal state of original, never re-inked ink at this visit, so that the visit's
    /// `Truth::conditions` describe it; the rendering uses each dot's exact state.
    pub fn visit_spec(&self, v: usize) -> SceneSpec {
        let mut s = self.base.clone();
        s.seed = visit_seed(self.base.seed, v);
        s.px_per_mm = self.base.px_per_mm * self.pose(v).scale;
        self.shots.get(v).cloned().unwrap_or_else(|| Shot::of(&self.base)).apply(&mut s);
        s.capture_time = format!("{} 10:30:00", self.visit_date(v).replace('-', ":"));
        let t = self.months_at(v);
        s.fade = 1.0 - (1.0 - self.base.fade) * 0.5f64.powf(t / self.half_life_months);
        s.spread_um = self.base.spread_um.hypot(self.spread_growth_um_per_year * t / 12.0);
        s.blue_shift = field::blue_shift_at(self, t);
        s
    }
}

/// Seed of visit `v`: a splitmix64 hash, so that visits neither repeat each other's noise and
/// hairs nor the scalp's own draws (which use the base seed).
fn visit_seed(seed: u64, v: usize) -> u64 {
    let mut z = seed ^ (v as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
