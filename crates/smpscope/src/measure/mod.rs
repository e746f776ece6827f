//! Measure: fit the dot model (a disc of diameter D blurred by a Gaussian, with a plateau OD)
//! to every candidate, jointly where dots touch; derive the physical quantities; measure
//! colour per channel with the fitted shape; and drop what is not a pigment dot (pores: faint
//! and small; hairs: elongated; freckles and moles: brown or too large).

pub mod fit;
pub mod profile;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::background::Background;
use crate::colour::{delta_e_2000, linear_rgb_to_lab};
use crate::detect::Candidate;
use crate::photo::Photo;
use crate::plane::Plane;
use fit::{Bounds, DotModel, Sample, fit_group};

/// Parameters that decide what counts as a pigment dot after its fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MeasureParams {
    /// Smallest observed peak optical density of a dot (pores and noise are fainter).
    pub min_peak_od: f64,
    /// Smallest signal-to-noise ratio (observed peak OD over the OD noise per pixel).
    pub min_snr: f64,
    /// Smallest ink of a dot, OD*mm^2 (a 0.2-OD dot 50 um across has about 4e-4).
    pub min_ink: f64,
    /// Largest eccentricity of a dot; hairs and stubble are more elongated.
    pub max_eccentricity: f64,
    /// Largest ratio of blue to red optical density: melanin (freckles, moles, hair)
    /// absorbs blue far more than red; SMP inks are near neutral.
    pub max_blue_red_ratio: f64,
}

impl Default for MeasureParams {
    fn default() -> Self {
        MeasureParams { min_peak_od: 0.1, min_snr: 6.0, min_ink: 4e-4, max_eccentricity: 0.9, max_blue_red_ratio: 1.6 }
    }
}

/// One measured pigment dot. Lengths in um and ink in OD*mm^2 are null without a scale;
/// their pixel twins are always given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dot {
    /// Sub-pixel centre, px (upright photo; centre of the top-left pixel is (0, 0)).
    pub x: f64,
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
    pub faint: usize,
    pub elongated: usize,
    pub brown: usize,
    pub out_of_size_range: usize,
    pub failed_fit: usize,
}

/// Everything a measurement needs to read from earlier stages.
pub struct Inputs<'a> {
    pub photo: &'a Photo,
    pub od: &'a Plane,
    pub background: &'a Background,
    /// OD noise per pixel (robust standard deviation).
    pub noise: f64,
    pub scale: PixelScale,
    pub min_diameter_um: f64,
    pub max_diameter_um: f64,
}

/// Variance a pixel's area adds to a blur (a box of 1 px has variance 1/12 px^2).
const PIXEL_VARIANCE: f64 = 1.0 / 12.0;
/// Largest group fitted jointly; bigger clusters are fitted dot by dot.
const MAX_GROUP: usize = 4;

/// Fits and measures every candidate; returns the accepted dots in a stable order.
pub fn measure_dots(inp: &Inputs, candidates: &[Candidate], p: &MeasureParams) -> (Vec<Dot>, Rejections) {
    let groups = group_touching(candidates);
    let results: Vec<Vec<Result<Dot, Reject>>> = groups.par_iter().map(|g| measure_group(inp, candidates, g, p)).collect();
    let mut dots = Vec::new();
    let mut rej = Rejections::default();
    for r in results.into_iter().flatten() {
        match r {
            Ok(d) => dots.push(d),
            Err(Reject::Faint) => rej.faint += 1,
            Err(Reject::Elongated) => rej.elongated += 1,
            Err(Reject::Brown) => rej.brown += 1,
            Err(Reject::Size) => rej.out_of_size_range += 1,
            Err(Reject::Fit) => rej.failed_fit += 1,
        }
    }
    dots.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    (dots, rej)
}

enum Reject {
    Faint,
    Elongated,
    Brown,
    Size,
    Fit,
}

/// Reach of a candidate's fit window: its apparent radius, the blur's tail and a margin of
/// skin for the residual background.
fn window_radius(c: &Candidate) -> f64 {
    1.7 * c.radius_px + 2.5
}

/// Groups candidates whose fit windows overlap enough for their tails to meet.
fn group_touching(c: &[Candidate]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..c.len()).collect();
    fn find(p: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while p[r] != r {
            r = p[r];
        }
        let mut j = i;
        while p[j] != r {
            let n = p[j];
            p[j] = r;
            j = n;
        }
        r
    }
    let cell = c.iter().map(|d| 1.3 * d.radius_px + 1.0).fold(4.0, f64::max) * 2.0;
    let mut grid: std::collections::HashMap<(i64, i64), Vec<usize>> = Default::default();
    for (i, d) in c.iter().enumerate() {
        grid.entry(((d.x / cell).floor() as i64, (d.y / cell).floor() as i64)).or_default().push(i);
    }
    for (i, a) in c.iter().enumerate() {
        let (gx, gy) = ((a.x / cell).floor() as i64, (a.y / cell).floor() as i64);
        for dy in -1..=1 {
            for dx in -1..=1 {
                for &j in grid.get(&(gx + dx, gy + dy)).map(Vec::as_slice).unwrap_or(&[]) {
                    let b = &c[j];
                    if j > i && (a.x - b.x).hypot(a.y - b.y) < 1.3 * (a.radius_px + b.radius_px) + 1.0 {
                        let (ra, rb) = (find(&mut parent, i), find(&mut parent, j));
                        parent[ra.max(rb)] = ra.min(rb);
                    }
                }
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..c.len() {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    groups.into_values().flat_map(|g| if g.len() > MAX_GROUP { g.into_iter().map(|i| vec![i]).collect() } else { vec![g] }).collect()
}

/// The pixels of the union of the members' windows.
fn window_samples(inp: &Inputs, members: &[&Candidate]) -> Vec<(usize, usize)> {
    let (w, h) = (inp.od.width as f64, inp.od.height as f64);
    let x0 = members.iter().map(|c| c.x - window_radius(c)).fold(f64::MAX, f64::min).floor().max(0.0) as usize;
    let x1 = members.iter().map(|c| c.x + window_radius(c)).fold(f64::MIN, f64::max).ceil().min(w - 1.0) as usize;
    let y0 = members.iter().map(|c| c.y - window_radius(c)).fold(f64::MAX, f64::min).floor().max(0.0) as usize;
    let y1 = members.iter().map(|c| c.y + window_radius(c)).fold(f64::MIN, f64::max).ceil().min(h - 1.0) as usize;
    let mut out = Vec::new();
    for y in y0..=y1 {
        for x in x0..=x1 {
            if members.iter().any(|c| (x as f64 - c.x).hypot(y as f64 - c.y) <= window_radius(c)) {
                out.push((x, y));
            }
        }
    }
    out
}

/// Highest optical density within a pixel of the candidate's centre.
fn local_peak(od: &Plane, c: &Candidate) -> f64 {
    let (x, y) = (c.x.round() as isize, c.y.round() as isize);
    (-1..=1).flat_map(|dy| (-1..=1).map(move |dx| (dx, dy))).map(|(dx, dy)| od.at_clamped(x + dx, y + dy) as f64).fold(f64::MIN, f64::max)
}

fn measure_group(inp: &Inputs, all: &[Candidate], group: &[usize], p: &MeasureParams) -> Vec<Result<Dot, Reject>> {
    // Candidates far too faint to pass are not worth a fit (noise maxima, pores).
    let (faint, group): (Vec<usize>, Vec<usize>) = group.iter().partition(|&&i| local_peak(inp.od, &all[i]) < 0.5 * p.min_peak_od);
    let mut out: Vec<Result<Dot, Reject>> = faint.iter().map(|_| Err(Reject::Faint)).collect();
    if group.is_empty() {
        return out;
    }
    let members: Vec<&Candidate> = group.iter().map(|&i| &all[i]).collect();
    let pixels = window_samples(inp, &members);
    let samples: Vec<Sample> = pixels.iter().map(|&(x, y)| Sample { x: x as f64, y: y as f64, od: inp.od.at(x, y) as f64 }).collect();
    // Residual background: the median of the window beyond every member's core.
    let mut ring: Vec<f32> = samples
        .iter()
        .filter(|s| members.iter().all(|c| (s.x - c.x).hypot(s.y - c.y) > 1.6 * c.radius_px + 1.0))
        .map(|s| s.od as f32)
        .collect();
    let offset = if ring.len() >= 8 { crate::plane::median(&mut ring) as f64 } else { 0.0 };
    let min_sigma = (PIXEL_VARIANCE + inp.scale.camera_blur_px.unwrap_or(0.0).powi(2)).sqrt();
    let starts: Vec<DotModel> = members
        .iter()
        .map(|c| {
            let (cx, cy) = (c.x.round().clamp(0.0, inp.od.width as f64 - 1.0) as usize, c.y.round().clamp(0.0, inp.od.height as f64 - 1.0) as usize);
            let peak = inp.od.at(cx, cy) as f64 - offset;
            let radius = 0.8 * c.radius_px;
            let sigma = (0.35 * c.radius_px).max(min_sigma * 1.2);
            DotModel { x: c.x, y: c.y, amplitude: (peak / profile::centre(radius / sigma)).max(0.02), radius, sigma }
        })
        .collect();
    let bounds: Vec<Bounds> =
        members.iter().map(|c| Bounds { min_sigma, max_size: 3.0 * c.radius_px + 5.0, max_shift: c.radius_px + 2.0 }).collect();
    let fit = fit_group(&samples, &starts, offset, inp.noise, &bounds);
    let colour = channel_amplitudes(inp, &pixels, &samples, &fit);
    out.extend(fit.dots.iter().enumerate().map(|(i, d)| describe(inp, &samples, &fit, i, colour[i], d, p)));
    out
}

/// Per-channel plateau OD of each dot: with the fitted shapes fixed, the channel densities
/// are linear in the amplitudes, so a weighted linear least-squares fit gives them.
fn channel_amplitudes(inp: &Inputs, pixels: &[(usize, usize)], samples: &[Sample], fit: &fit::GroupFit) -> Vec<[f64; 3]> {
    let k = fit.dots.len();
    let n = k + 1;
    let mut out = vec![[0.0; 3]; k];
    let shapes: Vec<Vec<f64>> = samples.iter().map(|s| fit.dots.iter().map(|d| d.shape(s.x, s.y)).collect()).collect();
    for c in 0..3 {
        let mut a = vec![0.0; n * n];
        let mut b = vec![0.0; n];
        for ((&(x, y), sh), &w) in pixels.iter().zip(&shapes).zip(&fit.weights) {
            let od_c = (inp.background.log_rgb_at(x as f32, y as f32)[c] - inp.photo.log_rgb(x, y)[c]) as f64;
            let row: Vec<f64> = sh.iter().copied().chain(std::iter::once(1.0)).collect();
            for i in 0..n {
                b[i] += w * row[i] * od_c;
                for j in 0..n {
                    a[i * n + j] += w * row[i] * row[j];
                }
            }
        }
        if let Some(sol) = fit::solve(&mut a, &b, n) {
            for i in 0..k {
                out[i][c] = sol[i];
            }
        }
    }
    out
}

fn describe(inp: &Inputs, samples: &[Sample], fit: &fit::GroupFit, i: usize, od_rgb: [f64; 3], d: &DotModel, p: &MeasureParams) -> Result<Dot, Reject> {
    if !(d.amplitude.is_finite() && d.radius.is_finite() && d.sigma.is_finite()) {
        return Err(Reject::Fit);
    }
    let observed_peak = d.amplitude * profile::centre(d.radius / d.sigma);
    let snr = observed_peak / inp.noise.max(1e-6);
    let sigma_pig = (d.sigma.powi(2) - PIXEL_VARIANCE - inp.scale.camera_blur_px.unwrap_or(0.0).powi(2)).max(0.0).sqrt();
    let peak_od = if sigma_pig > 0.0 { d.amplitude * profile::centre(d.radius / sigma_pig) } else { d.amplitude };
    let ink_px = d.amplitude * std::f64::consts::PI * d.radius * d.radius;
    let fwhm_px = profile::fwhm(d.radius, sigma_pig);
    let um = 1000.0 / inp.scale.working_px_per_mm;
    let apparent_um = profile::fwhm(d.radius, d.sigma) * um;
    if observed_peak < p.min_peak_od || snr < p.min_snr || ink_px / inp.scale.working_px_per_mm.powi(2) < p.min_ink {
        return Err(Reject::Faint);
    }
    if apparent_um < 0.5 * inp.min_diameter_um || apparent_um > inp.max_diameter_um {
        return Err(Reject::Size);
    }
    let (eccentricity, angle_deg) = shape_moments(samples, fit, i);
    if eccentricity > p.max_eccentricity {
        return Err(Reject::Elongated);
    }
    if od_rgb[0] > 0.0 && od_rgb[2] / od_rgb[0] > p.max_blue_red_ratio {
        return Err(Reject::Brown);
    }
    let skin_log = inp.background.log_rgb_at(d.x as f32, d.y as f32);
    let skin: [f64; 3] = skin_log.map(|l| 10f64.powf(l as f64));
    let centre_share = if sigma_pig > 0.0 { profile::centre(d.radius / sigma_pig) } else { 1.0 };
    let core: [f64; 3] = std::array::from_fn(|c| skin[c] * 10f64.powf(-od_rgb[c] * centre_share));
    let lab = linear_rgb_to_lab(core);
    let skin_lab = linear_rgb_to_lab(skin);
    let mm = inp.scale.px_per_mm.map(|s| 1.0 / s);
    let score = (1.0 - (-snr / 10.0).exp()) * (1.0 - 0.5 * eccentricity * eccentricity);
    Ok(Dot {
        x: d.x,
        y: d.y,
        diameter_um: mm.map(|m| 2.0 * d.radius * m * 1000.0),
        spread_um: mm.map(|m| sigma_pig * m * 1000.0),
        fwhm_um: mm.map(|m| fwhm_px * m * 1000.0),
        peak_od,
        ink: mm.map(|m| ink_px * m * m),
        eccentricity,
        angle_deg,
        lab,
        skin_lab,
        delta_e: delta_e_2000(lab, skin_lab),
        score,
        diameter_px: 2.0 * d.radius,
        spread_px: sigma_pig,
        fwhm_px,
        ink_px,
        od_rgb,
        snr,
        blur_px: d.sigma,
    })
}

/// Eccentricity and long-axis angle from the second moments of dot `i`'s own density (the
/// data minus the background and the other dots' models) within its apparent extent.
fn shape_moments(samples: &[Sample], fit: &fit::GroupFit, i: usize) -> (f64, f64) {
    let d = &fit.dots[i];
    let reach = d.radius + 1.5 * d.sigma + 0.5;
    let (mut m0, mut mxx, mut myy, mut mxy) = (0.0, 0.0, 0.0, 0.0);
    for s in samples {
        let (dx, dy) = (s.x - d.x, s.y - d.y);
        if dx.hypot(dy) > reach {
            continue;
        }
        let others: f64 = fit.dots.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, o)| o.amplitude * o.shape(s.x, s.y)).sum();
        let v = (s.od - fit.offset - others).max(0.0);
        m0 += v;
        mxx += v * dx * dx;
        myy += v * dy * dy;
        mxy += v * dx * dy;
    }
    if m0 <= 0.0 {
        return (0.0, 0.0);
    }
    let (a, b, c) = (mxx / m0, myy / m0, mxy / m0);
    let disc = ((a - b).powi(2) + 4.0 * c * c).sqrt();
    let (l1, l2) = (0.5 * (a + b + disc), 0.5 * (a + b - disc));
    let ecc = if l1 > 0.0 { (1.0 - (l2 / l1).max(0.0)).sqrt() } else { 0.0 };
    let mut angle = 0.5 * (2.0 * c).atan2(a - b).to_degrees();
    if angle < 0.0 {
        angle += 180.0;
    }
    (ecc, angle)
}
