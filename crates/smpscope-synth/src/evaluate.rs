//! Evaluation of an analysis against the exact ground truth of a synthetic photo, and the
//! accuracy table by condition that the `accuracy` command prints and the tests assert on.

use std::collections::BTreeMap;

use smpscope::colour::delta_e_2000;
use smpscope::stats::finite_mean as mean;
use smpscope::{Analysis, Dot, Params};

use crate::{SceneSpec, Truth, encode, render};

/// Errors of one photo's analysis against its truth.
#[derive(Debug, Clone, Default)]
pub struct PhotoScore {
    pub truth_dots: usize,
    pub detected: usize,
    pub matched: usize,
    /// Relative error of the density, |measured / true - 1|.
    pub density_rel_err: f64,
    /// Per matched dot: |error| of diameter, spread, fwhm (um), relative ink error, colour dE.
    pub diameter_err_um: Vec<f64>,
    pub spread_err_um: Vec<f64>,
    pub fwhm_err_um: Vec<f64>,
    pub ink_rel_err: Vec<f64>,
    pub colour_de: Vec<f64>,
}

/// Pairs (truth index, detection index): closest first, within half the true diameter (at
/// least 1.5 px), each at most once, among the truth dots `candidates`.
pub fn pair_detections(truth: &Truth, dots: &[Dot], candidates: &[usize]) -> Vec<(usize, usize)> {
    let px_mm = truth.px_per_mm;
    let mut pairs = Vec::new();
    for (j, d) in dots.iter().enumerate() {
        for &i in candidates {
            let t = &truth.dots[i];
            let tol = (0.5 * t.diameter_um / 1000.0 * px_mm).max(1.5);
            let dist = (d.x - t.x).hypot(d.y - t.y);
            if dist <= tol {
                pairs.push((dist, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_t = vec![false; truth.dots.len()];
    let mut used_d = vec![false; dots.len()];
    let mut out = Vec::new();
    for (_, i, j) in pairs {
        if !used_t[i] && !used_d[j] {
            used_t[i] = true;
            used_d[j] = true;
            out.push((i, j));
        }
    }
    out
}

/// Matches detections to truth dots ([`pair_detections`]) and scores every measure. Truth dots whose disc is cut by the frame's edge,
/// and detections there, are left out: half a dot cannot be measured.
pub fn score(truth: &Truth, analysis: &Analysis) -> PhotoScore {
    let px_mm = truth.px_per_mm;
    let (w, h) = (truth.width as f64, truth.height as f64);
    let margin = |x: f64, y: f64, r: f64| x >= r - 0.5 && y >= r - 0.5 && x <= w - 0.5 - r && y <= h - 0.5 - r;
    let truth_ok: Vec<usize> = (0..truth.dots.len())
        .filter(|&i| {
            let t = &truth.dots[i];
            margin(t.x, t.y, t.diameter_um / 2000.0 * px_mm + 1.0)
        })
        .collect();
    let mut used_d = vec![false; analysis.dots.len()];
    let mut s = PhotoScore { truth_dots: truth_ok.len(), ..Default::default() };
    for (i, j) in pair_detections(truth, &analysis.dots, &truth_ok) {
        used_d[j] = true;
        s.matched += 1;
        let (t, d) = (&truth.dots[i], &analysis.dots[j]);
        if let (Some(dd), Some(sp), Some(fw), Some(ink)) = (d.diameter_um, d.spread_um, d.fwhm_um, d.ink) {
            s.diameter_err_um.push((dd - t.diameter_um).abs());
            s.spread_err_um.push((sp - t.spread_um).abs());
            s.fwhm_err_um.push((fw - t.fwhm_um).abs());
            s.ink_rel_err.push((ink / t.ink - 1.0).abs());
        }
        s.colour_de.push(delta_e_2000(d.lab, t.lab));
    }
    // Detections in the edge band that matched nothing are not counted either way.
    s.detected =
        analysis.dots.iter().enumerate().filter(|(j, d)| used_d[*j] || margin(d.x, d.y, 0.06 * px_mm + 1.0)).count();
    s.density_rel_err = match analysis.summary.density_per_cm2 {
        Some(m) if truth.density_per_cm2 > 0.0 => (m / truth.density_per_cm2 - 1.0).abs(),
        _ => f64::NAN,
    };
    s
}

/// The analysis parameters the evaluation uses: the scale and the camera blur known, as a
/// calibrated device profile would give them.
pub fn params_for(truth: &Truth) -> Params {
    Params { px_per_mm: Some(truth.px_per_mm), camera_blur_um: Some(truth.camera_blur_um), ..Default::default() }
}

/// A random scene whose frame covers `frame_mm` (width, height) at the scene's own scale, as a
/// camera at a fixed distance would, within `max_px` on the long side.
pub fn random_scene(seed: u64, frame_mm: (f64, f64), max_px: u32) -> SceneSpec {
    let probe = SceneSpec::random(seed, 1000, 750);
    let scale = (max_px as f64 / (frame_mm.0 * probe.px_per_mm)).min(1.0);
    let (w, h) =
        ((frame_mm.0 * probe.px_per_mm * scale).round() as u32, (frame_mm.1 * probe.px_per_mm * scale).round() as u32);
    SceneSpec::random(seed, w.max(64), h.max(48))
}

/// Renders, encodes and analyses one random scene covering `frame_mm`; returns its truth and
/// score.
pub fn run_one(
    seed: u64,
    frame_mm: (f64, f64),
    max_px: u32,
) -> Result<(SceneSpec, Truth, PhotoScore), smpscope::Error> {
    run_spec(seed, random_scene(seed, frame_mm, max_px))
}

/// Renders, encodes, analyses and scores one given scene.
pub fn run_spec(seed: u64, spec: SceneSpec) -> Result<(SceneSpec, Truth, PhotoScore), smpscope::Error> {
    let scene = render(&spec);
    let photo = encode(&scene, &spec);
    let analysis =
        smpscope::analyze_bytes(&photo.bytes, &format!("seed-{seed}.{}", photo.extension), &params_for(&scene.truth))?;
    let s = score(&scene.truth, &analysis);
    Ok((spec, scene.truth, s))
}

/// Pooled figures of a set of photos.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub photos: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub density_err: f64,
    pub diameter_mae_um: f64,
    pub spread_mae_um: f64,
    pub fwhm_mae_um: f64,
    pub ink_err: f64,
    pub colour_de: f64,
}

impl Figures {
    /// Pools photo scores: counts are summed for precision and recall, dots pooled for the
    /// per-dot errors, photos averaged for density.
    pub fn of(scores: &[&PhotoScore]) -> Figures {
        let matched: usize = scores.iter().map(|s| s.matched).sum();
        let detected: usize = scores.iter().map(|s| s.detected).sum();
        let truth: usize = scores.iter().map(|s| s.truth_dots).sum();
        let precision = if detected == 0 { 1.0 } else { matched as f64 / detected as f64 };
        let recall = if truth == 0 { 1.0 } else { matched as f64 / truth as f64 };
        let pooled = |f: fn(&PhotoScore) -> &Vec<f64>| mean(scores.iter().flat_map(|s| f(s).iter().copied()));
        Figures {
            photos: scores.len(),
            precision,
            recall,
            f1: if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 },
            density_err: mean(scores.iter().map(|s| s.density_rel_err)),
            diameter_mae_um: pooled(|s| &s.diameter_err_um),
            spread_mae_um: pooled(|s| &s.spread_err_um),
            fwhm_mae_um: pooled(|s| &s.fwhm_err_um),
            ink_err: pooled(|s| &s.ink_rel_err),
            colour_de: pooled(|s| &s.colour_de),
        }
    }
}

/// The condition bands a photo falls in, as (condition, band) pairs.
pub fn bands(truth: &Truth) -> Vec<(&'static str, String)> {
    let c = &truth.conditions;
    let band = |v: f64, edges: &[f64], names: &[&str]| names[edges.iter().filter(|&&e| v >= e).count()].to_string();
    vec![
        ("skin type", ["I", "II", "III", "IV", "V", "VI"][(c.skin_type.clamp(1, 6) - 1) as usize].to_string()),
        ("scale px/mm", band(c.px_per_mm, &[30.0, 60.0], &["15-30", "30-60", "60-120"])),
        ("blur px", band(c.camera_blur_px, &[0.7, 1.1], &["<0.7", "0.7-1.1", ">1.1"])),
        ("fade", band(c.fade, &[0.2, 0.4], &["0-20%", "20-40%", "40-60%"])),
        (
            "file",
            match (c.jpeg_quality, c.jpeg_chroma_420) {
                (None, _) => "png".into(),
                (Some(_), false) => "jpeg".into(),
                (Some(_), true) => "jpeg 4:2:0".into(),
            },
        ),
        ("distractors", if c.distractors { "yes".into() } else { "no".into() }),
        ("shine", band(c.shine_peak, &[1e-9, 0.15], &["none", "<0.15", ">=0.15"])),
    ]
}

/// The accuracy table: overall and per condition band.
pub fn table(results: &[(Truth, PhotoScore)]) -> (Figures, Vec<(String, String, Figures)>) {
    let all: Vec<&PhotoScore> = results.iter().map(|(_, s)| s).collect();
    let mut by: BTreeMap<(String, String), Vec<&PhotoScore>> = BTreeMap::new();
    for (t, s) in results {
        for (cond, band) in bands(t) {
            by.entry((cond.to_string(), band)).or_default().push(s);
        }
    }
    (Figures::of(&all), by.into_iter().map(|((c, b), v)| (c, b, Figures::of(&v))).collect())
}

/// The table as text.
pub fn format_table(overall: &Figures, rows: &[(String, String, Figures)]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<12} {:<8} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7} {:>6}\n",
        "condition",
        "band",
        "photos",
        "prec",
        "recall",
        "F1",
        "dens_err",
        "diam_um",
        "sprd_um",
        "fwhm_um",
        "ink_err",
        "dE"
    ));
    let line = |c: &str, b: &str, f: &Figures| {
        format!(
            "{:<12} {:<8} {:>6} {:>6.3} {:>6.3} {:>6.3} {:>7.1}% {:>8.1} {:>8.1} {:>8.1} {:>6.1}% {:>6.2}\n",
            c,
            b,
            f.photos,
            f.precision,
            f.recall,
            f.f1,
            100.0 * f.density_err,
            f.diameter_mae_um,
            f.spread_mae_um,
            f.fwhm_mae_um,
            100.0 * f.ink_err,
            f.colour_de
        )
    };
    out.push_str(&line("overall", "", overall));
    for (c, b, f) in rows {
        out.push_str(&line(c, b, f));
    }
    out
}

/// How well smpscope's background finds a photo's shine, against the true shine, sampled every
/// quarter millimetre.
#[derive(Clone, Debug)]
pub struct ShineScore {
    /// Mean absolute error of the shine, linear light.
    pub mean_error: f64,
    /// Share of the frame given shine (over 0.02) where there is none (under 0.01).
    pub false_share: f64,
    /// Share of the frame with shine (over 0.03) of which less than half is found.
    pub missed_share: f64,
}

/// Scores the shine that smpscope's background finds in `photo` (the encoded `scene` of `spec`).
pub fn shine_score(spec: &SceneSpec, scene: &crate::Scene, photo: &[u8]) -> Result<ShineScore, smpscope::Error> {
    let p = smpscope::photo::load_bytes(photo, "shine.jpg")?;
    let ppm = scene.truth.px_per_mm;
    let bg = smpscope::background::Background::estimate(&p, (1.2 * ppm).round() as usize);
    let skin = crate::skin::Skin::new(spec);
    let step = ((0.25 * ppm) as usize).max(1);
    let (mut err, mut false_shine, mut missed, mut n) = (0.0, 0usize, 0usize, 0usize);
    for y in (0..p.height()).step_by(step) {
        for x in (0..p.width()).step_by(step) {
            let (t, e) = (skin.shine(x as f64, y as f64), bg.shine_at(x as f32, y as f32) as f64);
            err += (t - e).abs();
            false_shine += (t < 0.01 && e > 0.02) as usize;
            missed += (t > 0.03 && e < 0.5 * t) as usize;
            n += 1;
        }
    }
    let n = n.max(1) as f64;
    Ok(ShineScore { mean_error: err / n, false_share: false_shine as f64 / n, missed_share: missed as f64 / n })
}
