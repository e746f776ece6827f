//! The patient's dots on the scalp, drawn once with their fates (half-life, loss, re-inking,
//! touch-up births), and the state of each dot at a given age.

use std::collections::HashMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{SeriesSpec, map_point, stream};
use crate::dots::{self, DotInstance};
use crate::region::{self, Polygon};
use crate::scene::{self, SceneSpec, rng};

/// Candidates tried per new touch-up dot; the one with the widest gap wins (best-candidate
/// sampling), which puts the new dots in the gaps the way an artist fills them.
const CANDIDATES: usize = 12;
/// Rounds of candidates before a new dot is given up (only in a saturated field).
const ROUNDS: usize = 4;

/// One dot of the patient, in scalp px. Its identity is its index in [`Field::dots`].
#[derive(Clone, Debug)]
pub(crate) struct FieldDot {
    /// Centre (scalp px), diameter, and spread and amount at the start of its life (um, OD).
    pub dot: DotInstance,
    /// This dot's half-life, months.
    pub half_life_months: f64,
    /// When it was inked: 0, or the touch-up's visit months.
    pub born_months: f64,
    /// When it was re-inked at a touch-up, if it was.
    pub reinked_months: Option<f64>,
    /// When it is lost, months (infinite: never).
    pub lost_months: f64,
}

impl FieldDot {
    /// Whether the dot is on the scalp at time `t` months.
    pub fn alive(&self, t: f64) -> bool {
        t >= self.born_months && t < self.lost_months
    }

    /// Months since the ink was last deposited.
    pub fn age(&self, t: f64) -> f64 {
        match self.reinked_months {
            Some(r) if t >= r => t - r,
            _ => t - self.born_months,
        }
    }
}

/// The state of a dot at some time.
pub(crate) struct DotState {
    /// Plateau amount A, luminance OD.
    pub amplitude: f64,
    /// Spread sigma, um.
    pub spread_um: f64,
    /// Normalised ink absorption.
    pub k: [f64; 3],
}

/// Blue shift of ink aged `tau` months (see the module docs of `series`).
pub(crate) fn blue_shift_at(spec: &SeriesSpec, tau: f64) -> f64 {
    let b0 = spec.base.blue_shift.clamp(0.0, 1.0);
    // exp_m1 keeps beta(0) = beta0 exactly.
    b0 - (1.0 - b0) * (-spec.blueing_per_year * tau / 12.0).exp_m1()
}

/// The exact state of dot `d` at `t` months.
pub(crate) fn state(spec: &SeriesSpec, d: &FieldDot, t: f64) -> DotState {
    let tau = d.age(t);
    DotState {
        amplitude: d.dot.amplitude * 0.5f64.powf(tau / d.half_life_months),
        spread_um: d.dot.spread_um.hypot(spec.spread_growth_um_per_year * tau / 12.0),
        k: dots::blue_shifted_k(spec.base.ink_k, blue_shift_at(spec, tau)),
    }
}

/// All the patient's dots and the scalp box they cover.
pub(crate) struct Field {
    /// Originals first (identities 0..original), then touch-up dots.
    pub dots: Vec<FieldDot>,
    /// Number of original dots.
    pub original: usize,
    /// Treated region in scalp px (None: everywhere).
    pub region: Option<Polygon>,
    /// Top-left corner of the scalp box, px (the box edge, not a pixel centre).
    pub origin: [f64; 2],
    /// Box width and height, px.
    pub size: [f64; 2],
}

/// The largest spread any dot can reach in the series, as a mean spread for `dots::margin_px`.
pub(crate) fn spread_bound_um(spec: &SeriesSpec) -> f64 {
    let t = spec.months_at(spec.visits() - 1);
    spec.base.spread_um + spec.spread_growth_um_per_year * t / 12.0
}

/// Draws the field: the lattice over the union of all frames (plus the reach of a dot),
/// every dot's fate, and the touch-up.
pub(crate) fn build(spec: &SeriesSpec) -> Field {
    let b = &spec.base;
    let (w, h) = (b.width as f64, b.height as f64);
    let margin = dots::margin_px(&SceneSpec { spread_um: spread_bound_um(spec), ..b.clone() });
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for v in 0..spec.visits() {
        let t = spec.pose(v).to_first(b.width, b.height);
        for corner in [[-0.5, -0.5], [w - 0.5, -0.5], [-0.5, h - 0.5], [w - 0.5, h - 0.5]] {
            let p = map_point(t, corner);
            for c in 0..2 {
                lo[c] = lo[c].min(p[c] - margin);
                hi[c] = hi[c].max(p[c] + margin);
            }
        }
    }
    let origin = lo.map(f64::floor);
    let size = [(hi[0] - origin[0]).ceil(), (hi[1] - origin[1]).ceil()];
    // `dots::place` works in a frame whose edge is at -0.5: shift by the box origin.
    let off = origin.map(|o| o + 0.5);
    let region = b.partial_region.then(|| {
        // The hairline of the first frame, continued over the whole box.
        let reach = (-0.5 - origin[0])
            .max(-0.5 - origin[1])
            .max(origin[0] + size[0] - w + 0.5)
            .max(origin[1] + size[1] - h + 0.5);
        region::hairline(
            &mut rng(b.seed, scene::stream::REGION),
            b.width,
            b.height,
            reach.max(0.0) + 1.0,
            b.region_coverage,
        )
    });
    let big = SceneSpec { width: size[0] as u32, height: size[1] as u32, ..b.clone() };
    let local: Option<Polygon> = region.as_ref().map(|p| p.iter().map(|q| [q[0] - off[0], q[1] - off[1]]).collect());
    let mut placed = dots::place(&big, local.as_deref(), 0.0);
    for d in &mut placed {
        d.x += off[0];
        d.y += off[1];
    }
    let fate = &mut rng(b.seed, stream::FATE);
    let mut dots: Vec<FieldDot> = placed.into_iter().map(|d| with_fate(spec, fate, d, 0.0)).collect();
    let original = dots.len();
    if let Some(tu) = &spec.touch_up {
        let t = spec.months_at(tu.visit);
        for d in &mut dots {
            // One draw per dot, re-inked or not, so the decision does not reshuffle later ones.
            let u: f64 = fate.random();
            if d.alive(t) && u < tu.reink_fraction {
                d.reinked_months = Some(t);
            }
        }
        let count = (tu.new_fraction * original as f64).round() as usize;
        add_new_dots(spec, &mut dots, count, t, origin, size, region.as_deref());
    }
    Field { dots, original, region, origin, size }
}

/// A dot's half-life and loss time, drawn from `r` (always two draws).
fn with_fate(spec: &SeriesSpec, r: &mut ChaCha8Rng, dot: DotInstance, born_months: f64) -> FieldDot {
    let u_h: f64 = r.random_range(-1.0..=1.0);
    let u_loss = 1.0 - r.random::<f64>(); // in (0, 1]
    let hazard = -(1.0 - spec.loss_per_year).ln(); // per year
    let lost_months = if hazard > 0.0 { born_months - 12.0 * u_loss.ln() / hazard } else { f64::INFINITY };
    FieldDot {
        dot,
        half_life_months: spec.half_life_months * (1.0 + spec.half_life_variation * u_h),
        born_months,
        reinked_months: None,
        lost_months,
    }
}

/// Touch-up: `count` new dots born at `t`, each at the best of a few random candidates, and only
/// where its edge is at least one mean diameter from every earlier dot (lost ones included, so
/// that a new dot is never mistaken for a lost one by position).
fn add_new_dots(
    spec: &SeriesSpec,
    dots: &mut Vec<FieldDot>,
    count: usize,
    t: f64,
    origin: [f64; 2],
    size: [f64; 2],
    region: Option<&[[f64; 2]]>,
) {
    let b = &spec.base;
    let um = b.px_per_mm / 1000.0;
    let gap = b.diameter_um * um;
    // Cells at least as wide as any clearance, so the 3 x 3 neighbourhood holds every conflict.
    let cell = dots::hex_spacing_px(b.density_per_cm2.max(1e-3), b.px_per_mm).max(8.0 * gap);
    let key = |x: f64, y: f64| ((x / cell).floor() as i64, (y / cell).floor() as i64);
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, d) in dots.iter().enumerate() {
        grid.entry(key(d.dot.x, d.dot.y)).or_default().push(i);
    }
    // Edge-to-edge gap from a dot of diameter `dd` px at (x, y) to its nearest neighbour.
    let clearance = |dots: &[FieldDot], grid: &HashMap<(i64, i64), Vec<usize>>, x: f64, y: f64, dd: f64| {
        let (ci, cj) = key(x, y);
        let mut best = cell;
        for j in cj - 1..=cj + 1 {
            for i in ci - 1..=ci + 1 {
                for &k in grid.get(&(i, j)).map_or(&[][..], |v| v.as_slice()) {
                    let o = &dots[k].dot;
                    let g = (o.x - x).hypot(o.y - y) - 0.5 * (dd + o.diameter_um * um);
                    best = best.min(g);
                }
            }
        }
        best
    };
    let r = &mut rng(b.seed, stream::TOUCH_UP);
    for _ in 0..count {
        // Size and amount first (fixed number of draws), then the place.
        let mut dot = dots::draw(b, r, 0.0, 0.0, false);
        let dd = dot.diameter_um * um;
        let mut chosen = None;
        for _ in 0..ROUNDS {
            let mut best: Option<(f64, f64, f64)> = None;
            for _ in 0..CANDIDATES {
                let x = origin[0] + r.random::<f64>() * size[0];
                let y = origin[1] + r.random::<f64>() * size[1];
                if region.is_some_and(|p| !region::contains(p, x, y)) {
                    continue;
                }
                let g = clearance(dots, &grid, x, y, dd);
                if best.is_none_or(|b| g > b.0) {
                    best = Some((g, x, y));
                }
            }
            if let Some((g, x, y)) = best
                && g >= gap
            {
                chosen = Some((x, y));
                break;
            }
        }
        let Some((x, y)) = chosen else { continue };
        (dot.x, dot.y) = (x, y);
        let fd = with_fate(spec, r, dot, t);
        grid.entry(key(x, y)).or_default().push(dots.len());
        dots.push(fd);
    }
}
