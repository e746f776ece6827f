//! The renderer: I_c(x) = L_c(x) S_c(x) 10^(-OD_c(x)) + shine(x) in linear light, then camera
//! blur, Poisson-Gaussian noise, sRGB encoding and 8-bit quantisation; and the truth.
//!
//! Everything runs in parallel over bands or rows with one RNG stream per row, so the output is
//! identical whatever the number of threads.

use image::RgbImage;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use smpscope::colour::{delta_e_2000, linear_rgb_to_lab, srgb_to_linear};

use crate::dots::{self, DotInstance};
use crate::hair;
use crate::profile::DiscGauss;
use crate::raster::{self, Absorber, BAND};
use crate::region::{self, Polygon};
use crate::scene::{SceneSpec, rng, stream};
use crate::skin::{Skin, luminance};
use crate::truth::{Conditions, TRUTH_SCHEMA, Truth, TruthDistractor, TruthDot};

/// A rendered scene: the upright 8-bit sRGB image and its truth.
#[derive(Clone, Debug)]
pub struct Scene {
    /// The photo as it should look once its EXIF orientation is applied.
    pub upright: RgbImage,
    /// Exact ground truth in upright coordinates.
    pub truth: Truth,
}

/// Everything drawn for a frame before any pixel is computed, in that frame's upright px.
pub(crate) struct Layout {
    pub skin: Skin,
    pub region: Option<Polygon>,
    pub dots: Vec<DotInstance>,
    /// Ink absorption of each dot, parallel to `dots`.
    pub dot_k: Vec<[f64; 3]>,
    /// The dots' absorbers first, in the order of `dots`, then the distractors'.
    pub absorbers: Vec<Absorber>,
    pub distractors: Vec<TruthDistractor>,
}

impl Layout {
    /// A layout from explicit parts; the dots' absorbers are built here at `spec.px_per_mm`.
    pub fn new(
        spec: &SceneSpec,
        skin: Skin,
        region: Option<Polygon>,
        dots: Vec<DotInstance>,
        dot_k: Vec<[f64; 3]>,
        (extra, distractors): (Vec<Absorber>, Vec<TruthDistractor>),
    ) -> Self {
        assert_eq!(dots.len(), dot_k.len(), "one ink per dot");
        let um = spec.px_per_mm / 1000.0;
        let mut absorbers: Vec<Absorber> = dots
            .par_iter()
            .zip(dot_k.par_iter())
            .map(|(d, k)| {
                let profile = DiscGauss::new(0.5 * d.diameter_um * um, d.spread_um * um);
                Absorber::disc_gauss(d.x, d.y, profile, k.map(|c| c * d.amplitude))
            })
            .collect();
        absorbers.extend(extra);
        Layout { skin, region, dots, dot_k, absorbers, distractors }
    }
}

fn check(spec: &SceneSpec) {
    assert!(spec.width > 0 && spec.height > 0 && spec.px_per_mm > 0.0, "empty frame or scale in SceneSpec");
}

/// The spec's skin, region and distractors, with `dots` (None: the spec's own lattice).
fn layout_with(spec: &SceneSpec, dots: Option<&[DotInstance]>) -> Layout {
    check(spec);
    let skin = Skin::new(spec);
    let margin = dots::margin_px(spec);
    let region = spec.partial_region.then(|| {
        region::hairline(&mut rng(spec.seed, stream::REGION), spec.width, spec.height, margin, spec.region_coverage)
    });
    let dots = match dots {
        Some(d) => d.to_vec(),
        None => dots::place(spec, region.as_deref(), margin),
    };
    let k = dots::ink_k(spec);
    let dot_k = vec![k; dots.len()];
    Layout::new(spec, skin, region, dots, dot_k, hair::distractors(spec))
}

pub(crate) fn layout(spec: &SceneSpec) -> Layout {
    layout_with(spec, None)
}

/// Per-pixel optical density (linear R, G, B) of every absorber (dots and distractors),
/// integrated over each pixel's area, before blur and noise; row-major, width x height.
/// For tests and diagnostics: sum it times the pixel area to get ink.
pub fn od_map(spec: &SceneSpec) -> Vec<[f32; 3]> {
    let l = layout(spec);
    raster::od_map(&l.absorbers, spec.width as usize, spec.height as usize)
}

/// Linear-light image before camera blur and noise, row-major.
pub fn render_linear(spec: &SceneSpec) -> Vec<[f32; 3]> {
    compose(spec, &layout(spec))
}

pub(crate) fn compose(spec: &SceneSpec, l: &Layout) -> Vec<[f32; 3]> {
    let (w, h) = (spec.width as usize, spec.height as usize);
    let buckets = raster::bucket(&l.absorbers, h);
    let mut img = vec![[0.0f32; 3]; w * h];
    img.par_chunks_mut(BAND * w).zip(buckets.par_iter()).enumerate().for_each(|(b, (out, list))| {
        let mut od = vec![[0.0f32; 3]; out.len()];
        for &k in list {
            l.absorbers[k as usize].accumulate(b * BAND, &mut od, w);
        }
        for (r, (orow, drow)) in out.chunks_mut(w).zip(od.chunks(w)).enumerate() {
            let y = (b * BAND + r) as f64;
            l.skin.lit_row(y, orow);
            let shiny = l.skin.shine_reaches_row(y);
            for (i, (o, d)) in orow.iter_mut().zip(drow).enumerate() {
                for c in 0..3 {
                    if d[c] > 0.0 {
                        o[c] *= (-d[c] * std::f32::consts::LN_10).exp();
                    }
                }
                if shiny {
                    let sh = l.skin.shine(i as f64, y) as f32;
                    for v in o.iter_mut() {
                        *v += sh;
                    }
                }
            }
        }
    });
    img
}

/// The discrete analogue of the Gaussian (Lindeberg): T(n) = exp(-t) I_n(t), t = sigma^2.
/// Unlike a sampled Gaussian its variance is exactly sigma^2 even for sigma below a pixel,
/// so the blur in the truth is the blur in the image.
pub fn blur_kernel(sigma: f64) -> Vec<f32> {
    let t = sigma * sigma;
    let mut half: Vec<f64> = Vec::new();
    for n in 0..=(6.0 * sigma + 4.0) as usize {
        // exp(-t) sum_m (t/2)^(2m+n) / (m! (m+n)!)
        let mut term = (-t).exp();
        for k in 1..=n {
            term *= 0.5 * t / k as f64;
        }
        let mut sum = 0.0;
        for m in 0..200 {
            sum += term;
            term *= (0.25 * t * t) / ((m + 1) as f64 * (m + 1 + n) as f64);
            if term < 1e-17 * sum {
                break;
            }
        }
        // Taps below 1e-6 of the centre cannot change an 8-bit value.
        if n > 0 && sum < 1e-6 * half[0] {
            break;
        }
        half.push(sum);
    }
    let total: f64 = half[0] + 2.0 * half[1..].iter().sum::<f64>();
    let mut k: Vec<f32> = half[1..].iter().rev().map(|v| (v / total) as f32).collect();
    k.extend(half.iter().map(|v| (v / total) as f32));
    k
}

/// Linear light to 8-bit sRGB with exact rounding: code k + 1 starts at the linear value of
/// sRGB (k + 0.5) / 255. A coarse lookup finds the code to within a step, the thresholds settle it.
struct Quantiser {
    thresholds: [f32; 255],
    coarse: Vec<u8>,
}

const COARSE: usize = 1 << 14;

impl Quantiser {
    fn new() -> Self {
        let thresholds: [f32; 255] = std::array::from_fn(|k| srgb_to_linear((k as f64 + 0.5) / 255.0) as f32);
        let coarse =
            (0..=COARSE).map(|i| thresholds.partition_point(|&t| t <= i as f32 / COARSE as f32) as u8).collect();
        Self { thresholds, coarse }
    }

    #[inline]
    fn code(&self, v: f32) -> u8 {
        let v = v.clamp(0.0, 1.0);
        let mut k = self.coarse[(v * COARSE as f32) as usize] as usize;
        while k < 255 && v >= self.thresholds[k] {
            k += 1;
        }
        while k > 0 && v < self.thresholds[k - 1] {
            k -= 1;
        }
        k as u8
    }
}

/// Camera blur (separable, edge-replicating), noise and quantisation into an 8-bit image.
pub(crate) fn camera(spec: &SceneSpec, mut img: Vec<[f32; 3]>) -> RgbImage {
    let (w, h) = (spec.width as usize, spec.height as usize);
    let blur = spec.camera_blur_px > 1e-6;
    let kernel = if blur { blur_kernel(spec.camera_blur_px) } else { vec![1.0] };
    let rad = (kernel.len() / 2) as isize;
    if blur {
        img.par_chunks_mut(w).for_each(|row| {
            let src = row.to_vec();
            for (x, o) in row.iter_mut().enumerate() {
                let mut acc = [0.0f32; 3];
                for (k, wk) in kernel.iter().enumerate() {
                    let xi = (x as isize + k as isize - rad).clamp(0, w as isize - 1) as usize;
                    for c in 0..3 {
                        acc[c] += wk * src[xi][c];
                    }
                }
                *o = acc;
            }
        });
    }
    let quantiser = Quantiser::new();
    let (g, r2) = (spec.noise_gain.max(0.0) as f32, (spec.read_noise * spec.read_noise) as f32);
    let noisy = g > 0.0 || r2 > 0.0;
    let mut out = RgbImage::new(spec.width, spec.height);
    out.par_chunks_mut(3 * w).enumerate().for_each(|(y, row)| {
        let mut nr = rng(spec.seed, stream::NOISE + y as u64);
        for x in 0..w {
            let mut acc = [0.0f32; 3];
            for (k, wk) in kernel.iter().enumerate() {
                let yi = (y as isize + k as isize - rad).clamp(0, h as isize - 1) as usize;
                let p = img[yi * w + x];
                for c in 0..3 {
                    acc[c] += wk * p[c];
                }
            }
            for c in 0..3 {
                let mut v = acc[c];
                if noisy {
                    let z: f32 = StandardNormal.sample(&mut nr);
                    v += (g * v.max(0.0) + r2).sqrt() * z;
                }
                row[3 * x + c] = quantiser.code(v);
            }
        }
    });
    out
}

/// Renders a scene: deterministic, the same spec gives the same bytes.
///
/// # Panics
/// If the frame is empty or `px_per_mm` is not positive.
pub fn render(spec: &SceneSpec) -> Scene {
    render_layout(spec, &layout(spec)).0
}

/// Renders the spec's skin, light, region and distractors with an explicit list of dots
/// (centres in upright px, sizes in um, the spec's ink colour) instead of the spec's lattice.
///
/// # Panics
/// As [`render`].
pub fn render_dots(spec: &SceneSpec, dots: &[DotInstance]) -> Scene {
    render_layout(spec, &layout_with(spec, Some(dots))).0
}

/// Renders a layout; also returns, for each truth dot, its index in `l.dots`.
pub(crate) fn render_layout(spec: &SceneSpec, l: &Layout) -> (Scene, Vec<usize>) {
    check(spec);
    let linear = compose(spec, l);
    let upright = camera(spec, linear);
    let (truth, idx) = truth(spec, l);
    (Scene { upright, truth }, idx)
}

/// The truth of a layout: every dot whose centre is in the frame (ids in order), the region's area
/// and density, and the conditions; also returns, for each truth dot, its index in `l.dots`.
pub(crate) fn truth(spec: &SceneSpec, l: &Layout) -> (Truth, Vec<usize>) {
    let ppm = spec.px_per_mm;
    let (w, h) = (spec.width, spec.height);
    let idx = dots_in_frame(spec, l);
    let dots: Vec<TruthDot> = idx.par_iter().enumerate().map(|(id, &i)| truth_dot(ppm, l, id, i)).collect();
    let region_area_cm2 = region_area_cm2(spec, l);
    let counted = dots.iter().filter(|d| d.in_region).count();
    let truth = Truth {
        schema: TRUTH_SCHEMA.into(),
        seed: spec.seed,
        width: w,
        height: h,
        px_per_mm: ppm,
        camera_blur_px: spec.camera_blur_px,
        camera_blur_um: spec.camera_blur_px / ppm * 1000.0,
        region: l.region.clone(),
        region_area_cm2,
        density_per_cm2: if region_area_cm2 > 0.0 { counted as f64 / region_area_cm2 } else { 0.0 },
        dots,
        distractors: l.distractors.clone(),
        conditions: conditions(spec, l),
    };
    (truth, idx)
}

/// Indices into `l.dots` of the dots whose centres fall inside the frame (pixel centres at
/// integers, so the frame spans -0.5 to width - 0.5 px), in order.
fn dots_in_frame(spec: &SceneSpec, l: &Layout) -> Vec<usize> {
    let (w, h) = (spec.width, spec.height);
    let in_frame = |d: &DotInstance| d.x >= -0.5 && d.y >= -0.5 && d.x < w as f64 - 0.5 && d.y < h as f64 - 0.5;
    (0..l.dots.len()).filter(|&i| in_frame(&l.dots[i])).collect()
}

/// The truth of dot `l.dots[i]` under truth id `id` at `ppm` px per mm: its size (um), ink
/// (OD mm^2), peak OD, FWHM (um), colours (CIELAB) against the smooth lit skin under it.
fn truth_dot(ppm: f64, l: &Layout, id: usize, i: usize) -> TruthDot {
    let d = &l.dots[i];
    let r_mm = 0.5 * d.diameter_um / 1000.0;
    let profile = DiscGauss::new(0.5 * d.diameter_um, d.spread_um);
    let peak_od = d.amplitude * profile.peak();
    // The renderer's px table has the same shape; its half-max search is the cheap one.
    let fwhm_um = match &l.absorbers[i].shape {
        raster::Shape::DiscGauss { table, .. } => 2.0 * table.half_max_radius() / ppm * 1000.0,
        _ => profile.fwhm(),
    };
    let light = l.skin.lighting(d.x, d.y);
    let s = l.skin.smooth_reflectance(d.x, d.y);
    let skin: [f64; 3] = std::array::from_fn(|c| light[c] * s[c]);
    let k = l.dot_k[i];
    let dot: [f64; 3] = std::array::from_fn(|c| skin[c] * 10f64.powf(-k[c] * peak_od));
    let (lab, skin_lab) = (linear_rgb_to_lab(dot), linear_rgb_to_lab(skin));
    TruthDot {
        id,
        x: d.x,
        y: d.y,
        diameter_um: d.diameter_um,
        spread_um: d.spread_um,
        amplitude: d.amplitude,
        k,
        peak_od,
        ink: d.amplitude * std::f64::consts::PI * r_mm * r_mm,
        fwhm_um,
        lab,
        skin_lab,
        delta_e: delta_e_2000(lab, skin_lab),
        overlaps: d.overlaps,
        in_region: l.region.as_deref().is_none_or(|p| region::contains(p, d.x, d.y)),
    }
}

/// Area in cm^2 of the tattooed region within the frame (the whole frame if there is no region).
fn region_area_cm2(spec: &SceneSpec, l: &Layout) -> f64 {
    let ppm = spec.px_per_mm;
    let (w, h) = (spec.width, spec.height);
    let area_px = match &l.region {
        Some(p) => region::area_in_frame(p, w, h),
        None => w as f64 * h as f64,
    };
    area_px / (ppm * ppm) / 100.0
}

/// The conditions the frame was made under, as the spec asked for them, with the noise SD (in
/// linear light, absolute and relative) of the lit skin at the frame's centre.
fn conditions(spec: &SceneSpec, l: &Layout) -> Conditions {
    let lit = l.skin.lit_skin_at_centre();
    let y = luminance(lit);
    let noise_sd = (spec.noise_gain * y + spec.read_noise * spec.read_noise).sqrt();
    let jpeg = spec.jpeg_quality.is_some();
    Conditions {
        skin_type: spec.skin_type.clamp(1, 6),
        px_per_mm: spec.px_per_mm,
        camera_blur_px: spec.camera_blur_px,
        diameter_um: spec.diameter_um,
        spread_um: spec.spread_um,
        amplitude: spec.amplitude,
        fade: spec.fade,
        blue_shift: spec.blue_shift,
        density_per_cm2: spec.density_per_cm2,
        jpeg_quality: spec.jpeg_quality,
        jpeg_chroma_420: spec.jpeg_chroma_420 && spec.jpeg_quality.is_some(),
        distractors: spec.distractors,
        shine_peak: spec.highlights.iter().map(|h| h.peak).fold(0.0, f64::max),
        noise_gain: spec.noise_gain,
        read_noise: spec.read_noise,
        noise_sd,
        noise_rel: noise_sd / y,
        orientation: if jpeg { spec.orientation.clamp(1, 8) } else { 1 },
        overlap_fraction: spec.overlap_fraction,
        partial_region: spec.partial_region,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiser_rounds_like_the_srgb_formula() {
        let q = Quantiser::new();
        for i in 0..=200_000 {
            let v = i as f32 / 200_000.0;
            let want = (smpscope::colour::linear_to_srgb(v as f64) * 255.0).round() as u8;
            let got = q.code(v);
            assert!(got.abs_diff(want) <= 1, "{v}: {got} vs {want}");
        }
        assert_eq!((q.code(-1.0), q.code(0.0), q.code(1.0), q.code(2.0)), (0, 0, 255, 255));
    }

    #[test]
    fn blur_kernel_has_the_requested_variance() {
        for sigma in [0.3, 0.6, 1.5] {
            let k = blur_kernel(sigma);
            let r = (k.len() / 2) as f64;
            let sum: f64 = k.iter().map(|&v| v as f64).sum();
            let var: f64 = k.iter().enumerate().map(|(i, &v)| v as f64 * (i as f64 - r).powi(2)).sum();
            assert!((sum - 1.0).abs() < 1e-6 && (var / (sigma * sigma) - 1.0).abs() < 1e-4, "{sigma}: {var}");
        }
    }
}
