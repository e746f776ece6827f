//! Rendering a series: each visit is the scalp seen through that visit's pose and light, drawn
//! by the single-photo renderer from an explicit layout, with the series truth alongside.

use std::io;
use std::path::{Path, PathBuf};

use smpscope::colour::linear_rgb_to_lab;

use super::field::{self, Field};
use super::truth::{SERIES_TRUTH_SCHEMA, SeriesDot, SeriesTruth, VisitTruth};
use super::{SeriesSpec, map_point};
use crate::dots::{self, DotInstance};
use crate::encode::encode;
use crate::hair;
use crate::profile::DiscGauss;
use crate::raster::{Absorber, Shape};
use crate::render::{Layout, Scene, render_layout};
use crate::scene::SceneSpec;
use crate::skin::{Skin, SkinField};
use crate::truth::TruthDistractor;

/// One rendered visit: its scene spec (see [`SeriesSpec::visit_spec`]) and its photo.
#[derive(Clone, Debug)]
pub struct VisitScene {
    /// What to pass to `encode` (quality, orientation, capture time) and the visit's conditions.
    pub spec: SceneSpec,
    /// The upright photo and its per-photo truth (also in `Series::truth.visits[v].truth`).
    pub scene: Scene,
}

/// A rendered series.
#[derive(Clone, Debug)]
pub struct Series {
    /// The visits in date order.
    pub visits: Vec<VisitScene>,
    /// The series truth.
    pub truth: SeriesTruth,
}

/// Pores, freckles and moles: drawn once in scalp px, as absorbers and their truth.
struct Marks {
    absorbers: Vec<Absorber>,
    truth: Vec<TruthDistractor>,
}

/// The scalp's own marks over the field box: the distractors of a frame the size of the box
/// with stubble and hairs switched off (those are per visit), freckles and moles scaled with
/// the area so that a frame holds as many as the spec says.
fn scalp_marks(spec: &SeriesSpec, f: &Field) -> Marks {
    let b = &spec.base;
    let ratio = f.size[0] * f.size[1] / (b.width as f64 * b.height as f64);
    let box_spec = SceneSpec {
        width: f.size[0] as u32,
        height: f.size[1] as u32,
        stubble_per_cm2: 0.0,
        long_hairs: 0,
        freckles: (b.freckles as f64 * ratio).round() as u32,
        moles: (b.moles as f64 * ratio).round() as u32,
        ..b.clone()
    };
    let (absorbers, truth) = hair::distractors(&box_spec);
    let off = f.origin.map(|o| o + 0.5);
    let shift = [1.0, 0.0, off[0], off[1]];
    Marks {
        absorbers: absorbers.iter().filter_map(|a| moved(a, shift, 1.0)).collect(),
        truth: truth.into_iter().map(|d| TruthDistractor { x: d.x + off[0], y: d.y + off[1], ..d }).collect(),
    }
}

/// A round absorber moved by the similarity `t` whose scale is `s` (None for hair segments).
fn moved(a: &Absorber, t: [f64; 4], s: f64) -> Option<Absorber> {
    let od = a.od.map(f64::from);
    match &a.shape {
        Shape::Gauss { cx, cy, sigma } => {
            let [x, y] = map_point(t, [*cx, *cy]);
            Some(Absorber::gauss(x, y, sigma * s, od))
        }
        Shape::DiscGauss { cx, cy, table } => {
            let [x, y] = map_point(t, [*cx, *cy]);
            let p = table.profile();
            Some(Absorber::disc_gauss(x, y, DiscGauss::new(p.radius * s, p.sigma * s), od))
        }
        Shape::Segment { .. } => None,
    }
}

/// Renders every visit of `spec` and its truth. Deterministic: the same spec gives the same
/// bytes, whatever the number of threads.
///
/// # Panics
/// If `spec.validate()` fails.
pub fn render_series(spec: &SeriesSpec) -> Series {
    if let Err(e) = spec.validate() {
        panic!("invalid SeriesSpec: {e}");
    }
    let f = field::build(spec);
    let skin = SkinField::new(&spec.base, [f.origin[0], f.origin[1]], f.size[0], f.size[1]);
    let marks = scalp_marks(spec, &f);
    // The first visit's light is the reference light of every visit's colours.
    let reference = Skin::in_field(&spec.visit_spec(0), skin.clone(), [1.0, 0.0, 0.0, 0.0]);
    let (visits, truths): (Vec<_>, Vec<_>) =
        (0..spec.visits()).map(|v| render_visit(spec, &f, &skin, &marks, &reference, v)).unzip();
    let last = spec.months_at(spec.visits() - 1);
    let mut seen = vec![false; f.dots.len()];
    for t in &truths {
        for &i in &t.identity {
            seen[i] = true;
        }
    }
    let dots = (0..f.dots.len())
        .filter(|&i| seen[i])
        .map(|i| {
            let d = &f.dots[i];
            SeriesDot {
                identity: i,
                x: d.dot.x,
                y: d.dot.y,
                diameter_um: d.dot.diameter_um,
                spread_um: d.dot.spread_um,
                amplitude: d.dot.amplitude,
                half_life_months: d.half_life_months,
                born_months: d.born_months,
                reinked_months: d.reinked_months,
                lost_months: (d.lost_months <= last).then_some(d.lost_months),
            }
        })
        .collect();
    let truth = SeriesTruth {
        schema: SERIES_TRUTH_SCHEMA.into(),
        seed: spec.base.seed,
        first_date: spec.first_date.clone(),
        half_life_months: spec.half_life_months,
        spread_growth_um_per_year: spec.spread_growth_um_per_year,
        blueing_per_year: spec.blueing_per_year,
        loss_per_year: spec.loss_per_year,
        touch_up: spec.touch_up.clone(),
        original_dots: f.original,
        dots,
        visits: truths,
    };
    Series { visits, truth }
}

fn render_visit(
    spec: &SeriesSpec,
    f: &Field,
    skin: &SkinField,
    marks: &Marks,
    reference: &Skin,
    v: usize,
) -> (VisitScene, VisitTruth) {
    let vs = spec.visit_spec(v);
    let t = spec.months_at(v);
    let pose = spec.pose(v);
    let (to_first, to_visit) = (pose.to_first(vs.width, vs.height), pose.to_visit(vs.width, vs.height));
    let (w, h) = (vs.width as f64, vs.height as f64);

    // The living dots that can reach this frame, in identity order.
    let margin = dots::margin_px(&SceneSpec { spread_um: field::spread_bound_um(spec), ..vs.clone() });
    let reach = |x: f64, y: f64| x > -0.5 - margin && y > -0.5 - margin && x < w - 0.5 + margin && y < h - 0.5 + margin;
    let (mut placed, mut dot_k, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    for (i, d) in f.dots.iter().enumerate().filter(|(_, d)| d.alive(t)) {
        let [x, y] = map_point(to_visit, [d.dot.x, d.dot.y]);
        if !reach(x, y) {
            continue;
        }
        let st = field::state(spec, d, t);
        placed.push(DotInstance {
            x,
            y,
            diameter_um: d.dot.diameter_um,
            spread_um: st.spread_um,
            amplitude: st.amplitude,
            overlaps: d.dot.overlaps,
        });
        dot_k.push(st.k);
        ids.push(i);
    }

    // Stubble and hairs grow anew for each visit (the visit's seed); the scalp's marks follow it.
    let hairs_only = SceneSpec { pores_per_cm2: 0.0, freckles: 0, moles: 0, ..vs.clone() };
    let (mut absorbers, mut distractors) = hair::distractors(&hairs_only);
    absorbers.extend(marks.absorbers.iter().filter_map(|a| moved(a, to_visit, pose.scale)));
    distractors.extend(marks.truth.iter().filter_map(|d| {
        let [x, y] = map_point(to_visit, [d.x, d.y]);
        let inside = x >= -0.5 && y >= -0.5 && x < w - 0.5 && y < h - 0.5;
        inside.then(|| TruthDistractor { x, y, ..d.clone() })
    }));

    let region = f.region.as_ref().map(|p| p.iter().map(|&q| map_point(to_visit, q)).collect());
    let frame_skin = Skin::in_field(&vs, skin.clone(), to_first);
    let layout = Layout::new(&vs, frame_skin, region, placed, dot_k, (absorbers, distractors));
    let (scene, idx) = render_layout(&vs, &layout);

    let identity: Vec<usize> = idx.iter().map(|&k| ids[k]).collect();
    let (lab_ref, skin_lab_ref) = identity
        .iter()
        .zip(&scene.truth.dots)
        .map(|(&i, td)| {
            let p = &f.dots[i].dot;
            let light = reference.reference_lighting(p.x, p.y);
            let s = reference.field_reflectance(p.x, p.y);
            let skin: [f64; 3] = std::array::from_fn(|c| light[c] * s[c]);
            let dot: [f64; 3] = std::array::from_fn(|c| skin[c] * 10f64.powf(-td.k[c] * td.peak_od));
            (linear_rgb_to_lab(dot), linear_rgb_to_lab(skin))
        })
        .unzip();
    let truth = VisitTruth {
        date: spec.visit_date(v),
        months: t,
        to_first,
        px_per_mm: vs.px_per_mm,
        touch_up: spec.touch_up.as_ref().is_some_and(|tu| tu.visit == v),
        truth: scene.truth.clone(),
        identity,
        lab_ref,
        skin_lab_ref,
    };
    (VisitScene { spec: vs, scene }, truth)
}

/// Renders `spec` and writes `<dir>/visit-1.jpg` .. `visit-N.jpg` (stored with each visit's
/// EXIF orientation and date, as [`encode`] does) and `<dir>/series.truth.json`. Returns the
/// paths, photos first.
///
/// # Panics
/// If `spec.validate()` fails.
pub fn write_series(spec: &SeriesSpec, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let series = render_series(spec);
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::new();
    for (v, visit) in series.visits.iter().enumerate() {
        let photo = encode(&visit.scene, &visit.spec);
        let path = dir.join(format!("visit-{}.{}", v + 1, photo.extension));
        std::fs::write(&path, &photo.bytes)?;
        paths.push(path);
    }
    let path = dir.join("series.truth.json");
    std::fs::write(&path, serde_json::to_vec(&series.truth).map_err(io::Error::other)?)?;
    paths.push(path);
    Ok(paths)
}
