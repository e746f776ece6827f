//! Skin reflectance S_c(x) = base_c * mottle_c(x) * texture(x), lighting L_c(x) and shine(x).
//!
//! Mottle and texture are defined as bilinear interpolations of coarse grids: that is both fast
//! and exact for the truth, which evaluates the very same functions at a dot's centre.
//!
//! The reflectance ([`SkinField`]) and the light are separate so that a patient series can keep
//! one skin fixed on the scalp while the camera and the light change from visit to visit.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use smpscope::colour::{LUMA, srgb_to_linear};

use crate::scene::{SceneSpec, rng, stream};

/// Fitzpatrick I..VI base skin colours, 8-bit sRGB.
const FITZPATRICK: [[u8; 3]; 6] =
    [[241, 214, 196], [229, 190, 165], [205, 160, 130], [170, 120, 90], [120, 80, 58], [75, 50, 38]];

/// How strongly each channel follows the mottle: darker patches are slightly browner.
const MOTTLE_WEIGHT: [f64; 3] = [0.8, 1.0, 1.3];

/// Mottle wavelengths, mm.
const MOTTLE_WAVELENGTH_MM: (f64, f64) = (3.0, 15.0);

/// Luminance the automatic exposure aims skin towards (type III is left as is), and how much of
/// the way it goes (0 = none, 1 = all skin equally bright): real cameras compensate partly.
const AUTO_TARGET_Y: f64 = 0.4;
const AUTO_STRENGTH: f64 = 0.3;

/// Linear-light ceiling for the brightest plausible skin pixel.
const SKIN_CEILING: f64 = 0.97;

/// Linear RGB base reflectance of a Fitzpatrick type (1..=6, clamped).
pub fn fitzpatrick_linear(skin_type: u8) -> [f64; 3] {
    FITZPATRICK[(skin_type.clamp(1, 6) - 1) as usize].map(|c| srgb_to_linear(c as f64 / 255.0))
}

/// Luminance of a linear RGB triple.
pub fn luminance(c: [f64; 3]) -> f64 {
    (0..3).map(|i| LUMA[i] as f64 * c[i]).sum()
}

/// A regular grid of values with bilinear interpolation; node (i, j) is at
/// (x0 + i step, y0 + j step) in px.
#[derive(Clone, Debug)]
struct Grid<T> {
    x0: f64,
    y0: f64,
    inv_step: f64,
    nx: usize,
    ny: usize,
    values: Vec<T>,
}

impl<T: Copy + Send> Grid<T> {
    /// A grid covering the box [ox, ox + width] x [oy, oy + height] px (plus one node beyond each
    /// side), filled row by row by `f(j, y, row)`; a frame is the box at (-0.5, -0.5).
    fn over_box(
        origin: [f64; 2],
        width: f64,
        height: f64,
        step: f64,
        f: impl Fn(usize, f64, &mut [T]) + Sync,
        init: T,
    ) -> Self
    where
        T: Sync,
    {
        let x0 = origin[0] - step;
        let y0 = origin[1] - step;
        let nx = ((width + 2.0 * step) / step).ceil() as usize + 2;
        let ny = ((height + 2.0 * step) / step).ceil() as usize + 2;
        let mut values = vec![init; nx * ny];
        values.par_chunks_mut(nx).enumerate().for_each(|(j, row)| f(j, y0 + j as f64 * step, row));
        Self { x0, y0, inv_step: 1.0 / step, nx, ny, values }
    }

    /// Bilinear weights and the index of the top-left node for point (x, y).
    #[inline]
    fn locate(&self, x: f64, y: f64) -> (usize, f64, f64) {
        let u = ((x - self.x0) * self.inv_step).clamp(0.0, (self.nx - 1) as f64 - 1e-9);
        let v = ((y - self.y0) * self.inv_step).clamp(0.0, (self.ny - 1) as f64 - 1e-9);
        let (i, j) = (u as usize, v as usize);
        (j * self.nx + i, u - i as f64, v - j as f64)
    }
}

impl<T: Copy + Send> Grid<T> {
    /// The two node rows around `y` and the vertical weight, for row-wise evaluation.
    #[inline]
    fn rows_at(&self, y: f64) -> (&[T], &[T], f64) {
        let v = ((y - self.y0) * self.inv_step).clamp(0.0, (self.ny - 1) as f64 - 1e-9);
        let j = v as usize;
        (&self.values[j * self.nx..][..self.nx], &self.values[(j + 1) * self.nx..][..self.nx], v - j as f64)
    }

    /// Horizontal node index and weight for `x`.
    #[inline]
    fn col_at(&self, x: f64) -> (usize, f64) {
        let u = ((x - self.x0) * self.inv_step).clamp(0.0, (self.nx - 1) as f64 - 1e-9);
        (u as usize, u - (u as usize) as f64)
    }
}

impl Grid<f32> {
    #[inline]
    fn at(&self, x: f64, y: f64) -> f64 {
        let (k, fu, fv) = self.locate(x, y);
        let v = &self.values;
        let top = v[k] as f64 + fu * (v[k + 1] as f64 - v[k] as f64);
        let bot = v[k + self.nx] as f64 + fu * (v[k + self.nx + 1] as f64 - v[k + self.nx] as f64);
        top + fv * (bot - top)
    }
}

impl Grid<[f32; 3]> {
    #[inline]
    fn at(&self, x: f64, y: f64) -> [f64; 3] {
        let (k, fu, fv) = self.locate(x, y);
        let v = &self.values;
        let n = self.nx;
        std::array::from_fn(|c| {
            let top = v[k][c] as f64 + fu * (v[k + 1][c] as f64 - v[k][c] as f64);
            let bot = v[k + n][c] as f64 + fu * (v[k + n + 1][c] as f64 - v[k + n][c] as f64);
            top + fv * (bot - top)
        })
    }
}

/// One Gaussian highlight in px.
#[derive(Clone, Copy, Debug)]
struct Shine {
    x: f64,
    y: f64,
    inv_2s2: f64,
    reach2: f64,
    peak: f64,
}

/// Skin reflectance without the light: base colour, mottle and fine texture over a box of px
/// ("field" coordinates: the frame itself for a single photo, the scalp for a series).
#[derive(Clone, Debug)]
pub struct SkinField {
    base: [f64; 3],
    mottle: Grid<[f32; 3]>,
    texture: Grid<f32>,
}

impl SkinField {
    /// Draws the mottle and texture of `spec`'s skin over the box at `origin` (px) of
    /// `width` x `height` px, with `spec.px_per_mm` as the field's scale.
    pub fn new(spec: &SceneSpec, origin: [f64; 2], width: f64, height: f64) -> Self {
        let ppm = spec.px_per_mm;
        let mut r = rng(spec.seed, stream::SKIN);
        let base: [f64; 3] = std::array::from_fn(|c| fitzpatrick_linear(spec.skin_type)[c] * spec.skin_tint[c]);

        // Mottle: 8 random plane waves, unit rms, on a grid of 1/16 of the shortest wavelength.
        let waves: Vec<[f64; 4]> = (0..8)
            .map(|_| {
                let wl = r.random_range(MOTTLE_WAVELENGTH_MM.0..=MOTTLE_WAVELENGTH_MM.1) * ppm;
                let th: f64 = r.random_range(0.0..std::f64::consts::TAU);
                let k = std::f64::consts::TAU / wl;
                [k * th.cos(), k * th.sin(), r.random_range(0.0..std::f64::consts::TAU), 0.0]
            })
            .collect();
        let norm = (2.0 / waves.len() as f64).sqrt();
        let half_a = 0.5 * spec.mottle_amplitude;
        let mstep = (MOTTLE_WAVELENGTH_MM.0 * ppm / 16.0).max(2.0);
        let mottle = Grid::over_box(
            origin,
            width,
            height,
            mstep,
            |_, y, row: &mut [[f32; 3]]| {
                for (i, out) in row.iter_mut().enumerate() {
                    let x = origin[0] - mstep + i as f64 * mstep;
                    let n: f64 = waves.iter().map(|w| (w[0] * x + w[1] * y + w[2]).cos()).sum::<f64>() * norm;
                    *out = MOTTLE_WEIGHT.map(|wc| (half_a * wc * n).exp() as f32);
                }
            },
            [1.0; 3],
        );

        // Texture: white noise at the correlation length (never finer than a pixel: below that
        // it would be invisible anyway), bilinear. Bilinear interpolation of iid values keeps
        // 2/3 of their sigma on average, hence the 1.5.
        let tstep = (spec.texture_corr_um * 1e-3 * ppm).max(1.0);
        let tsd = 1.5 * spec.texture_rms;
        let seed = spec.seed;
        let texture = Grid::over_box(
            origin,
            width,
            height,
            tstep,
            |j, _, row: &mut [f32]| {
                let mut tr = rng(seed, stream::TEXTURE + j as u64);
                for out in row.iter_mut() {
                    let z: f64 = StandardNormal.sample(&mut tr);
                    *out = (1.0 + tsd * z).max(0.3) as f32;
                }
            },
            1.0,
        );
        Self { base, mottle, texture }
    }
}

/// The skin and light of one scene.
#[derive(Clone, Debug)]
pub struct Skin {
    base: [f64; 3],
    mottle: Grid<[f32; 3]>,
    texture: Grid<f32>,
    /// Similarity (a, b, tx, ty) from frame px to field px, None when they coincide.
    to_field: Option<[f64; 4]>,
    /// exposure * white balance, per channel.
    gain: [f64; 3],
    centre: (f64, f64),
    gradient: (f64, f64),
    /// |gradient| at the frame edge (relative).
    light_gradient: f64,
    vignetting: f64,
    inv_corner2: f64,
    shines: Vec<Shine>,
}

impl Skin {
    /// Draws the mottle and texture fields and fixes the exposure.
    pub fn new(spec: &SceneSpec) -> Self {
        let field = SkinField::new(spec, [-0.5, -0.5], spec.width as f64, spec.height as f64);
        Self::lit(spec, field, None)
    }

    /// The skin `field` seen through a camera: frame px p shows field point
    /// (a x - b y + tx, b x + a y + ty) for `to_field` = (a, b, tx, ty); the light, exposure and
    /// frame come from `spec` (the field's own scale and seed are not used here).
    pub fn in_field(spec: &SceneSpec, field: SkinField, to_field: [f64; 4]) -> Self {
        Self::lit(spec, field, Some(to_field))
    }

    fn lit(spec: &SceneSpec, field: SkinField, to_field: Option<[f64; 4]>) -> Self {
        let ppm = spec.px_per_mm;
        let SkinField { base, mottle, texture } = field;
        // Exposure: partial auto-exposure, capped so the brightest skin stays below the ceiling.
        let auto = (AUTO_TARGET_Y / luminance(base)).powf(AUTO_STRENGTH);
        let mottle_max: [f64; 3] =
            std::array::from_fn(|c| mottle.values.iter().map(|m| m[c] as f64).fold(0.0, f64::max));
        let bound = (0..3).map(|c| spec.white_balance[c] * base[c] * mottle_max[c]).fold(0.0, f64::max)
            * (1.0 + spec.light_gradient)
            * (1.0 + 3.0 * spec.texture_rms);
        let exposure = (spec.exposure * auto).min(SKIN_CEILING / bound);

        let (w, h) = (spec.width as f64, spec.height as f64);
        let th = spec.light_angle_deg.to_radians();
        // Half the frame's extent along the gradient direction, so the edge sees +-gradient.
        let half_extent = 0.5 * (w * th.cos().abs() + h * th.sin().abs());
        let shines = spec
            .highlights
            .iter()
            .map(|hl| {
                let s = hl.width_mm * ppm / (2.0 * (2.0 * 2f64.ln()).sqrt());
                Shine {
                    x: hl.x * w - 0.5,
                    y: hl.y * h - 0.5,
                    inv_2s2: 0.5 / (s * s),
                    reach2: (5.0 * s).powi(2),
                    peak: hl.peak,
                }
            })
            .collect();
        Self {
            base,
            mottle,
            texture,
            to_field,
            gain: std::array::from_fn(|c| exposure * spec.white_balance[c]),
            centre: (0.5 * (w - 1.0), 0.5 * (h - 1.0)),
            gradient: (spec.light_gradient * th.cos() / half_extent, spec.light_gradient * th.sin() / half_extent),
            light_gradient: spec.light_gradient.abs(),
            vignetting: spec.vignetting,
            inv_corner2: 4.0 / (w * w + h * h),
            shines,
        }
    }

    /// Lighting L_c(x): exposure * white balance * gradient * vignetting (linear gain).
    #[inline]
    pub fn lighting(&self, x: f64, y: f64) -> [f64; 3] {
        let (dx, dy) = (x - self.centre.0, y - self.centre.1);
        let g = 1.0 + self.gradient.0 * dx + self.gradient.1 * dy;
        let v = 1.0 - self.vignetting * (dx * dx + dy * dy) * self.inv_corner2;
        self.gain.map(|k| k * g * v)
    }

    /// Lighting of the frame extended beyond it by holding the gradient and the vignetting at
    /// their frame-edge extremes (inside the frame it equals [`Skin::lighting`] up to rounding):
    /// the reference light of a series, which must stay positive at scalp points far outside
    /// the first frame, where the quadratic vignetting would go negative.
    pub fn reference_lighting(&self, x: f64, y: f64) -> [f64; 3] {
        let (dx, dy) = (x - self.centre.0, y - self.centre.1);
        let g = (1.0 + self.gradient.0 * dx + self.gradient.1 * dy)
            .clamp(1.0 - self.light_gradient, 1.0 + self.light_gradient);
        let edge = 1.0 - self.vignetting;
        let v = (1.0 - self.vignetting * (dx * dx + dy * dy) * self.inv_corner2).clamp(edge.min(1.0), edge.max(1.0));
        self.gain.map(|k| k * g * v)
    }

    /// Frame px to field px.
    #[inline]
    fn field_point(&self, x: f64, y: f64) -> (f64, f64) {
        match self.to_field {
            None => (x, y),
            Some([a, b, tx, ty]) => (a * x - b * y + tx, b * x + a * y + ty),
        }
    }

    /// Skin reflectance without the fine texture, S'_c(x) = base_c * mottle_c(x).
    #[inline]
    pub fn smooth_reflectance(&self, x: f64, y: f64) -> [f64; 3] {
        let (x, y) = self.field_point(x, y);
        let m = self.mottle.at(x, y);
        std::array::from_fn(|c| self.base[c] * m[c])
    }

    /// [`Skin::smooth_reflectance`] at a point given in field px.
    pub fn field_reflectance(&self, x: f64, y: f64) -> [f64; 3] {
        let m = self.mottle.at(x, y);
        std::array::from_fn(|c| self.base[c] * m[c])
    }

    /// Fine multiplicative texture, mean 1.
    #[inline]
    pub fn texture(&self, x: f64, y: f64) -> f64 {
        let (x, y) = self.field_point(x, y);
        self.texture.at(x, y)
    }

    /// L_c * S_c (texture included) for pixels (0..out.len(), y): the same values as the
    /// point functions, evaluated a row at a time (vertical interpolation once per grid node).
    pub fn lit_row(&self, y: f64, out: &mut [[f32; 3]]) {
        if self.to_field.is_some() {
            // Seen through a camera the grid rows are not frame rows: evaluate point by point.
            for (i, o) in out.iter_mut().enumerate() {
                let x = i as f64;
                let (l, s, t) = (self.lighting(x, y), self.smooth_reflectance(x, y), self.texture(x, y));
                *o = std::array::from_fn(|c| (l[c] * s[c] * t) as f32);
            }
            return;
        }
        let (m0, m1, mv) = self.mottle.rows_at(y);
        let mrow: Vec<[f64; 3]> = m0
            .iter()
            .zip(m1)
            .map(|(a, b)| std::array::from_fn(|c| a[c] as f64 + mv * (b[c] as f64 - a[c] as f64)))
            .collect();
        let (t0, t1, tv) = self.texture.rows_at(y);
        let trow: Vec<f64> = t0.iter().zip(t1).map(|(&a, &b)| a as f64 + tv * (b as f64 - a as f64)).collect();
        let dy = y - self.centre.1;
        for (i, o) in out.iter_mut().enumerate() {
            let x = i as f64;
            let dx = x - self.centre.0;
            let g = 1.0 + self.gradient.0 * dx + self.gradient.1 * dy;
            let v = 1.0 - self.vignetting * (dx * dx + dy * dy) * self.inv_corner2;
            let (mi, mu) = self.mottle.col_at(x);
            let (ti, tu) = self.texture.col_at(x);
            let t = trow[ti] + tu * (trow[ti + 1] - trow[ti]);
            let common = g * v * t;
            for c in 0..3 {
                let m = mrow[mi][c] + mu * (mrow[mi + 1][c] - mrow[mi][c]);
                o[c] = (self.gain[c] * self.base[c] * m * common) as f32;
            }
        }
    }

    /// Whether any highlight reaches row `y`.
    pub fn shine_reaches_row(&self, y: f64) -> bool {
        self.shines.iter().any(|s| (y - s.y).powi(2) < s.reach2)
    }

    /// Additive specular shine, linear light.
    #[inline]
    pub fn shine(&self, x: f64, y: f64) -> f64 {
        self.shines
            .iter()
            .map(|s| {
                let d2 = (x - s.x).powi(2) + (y - s.y).powi(2);
                if d2 < s.reach2 { s.peak * (-d2 * s.inv_2s2).exp() } else { 0.0 }
            })
            .sum()
    }

    /// L_c * S'_c at the frame centre: the typical lit skin colour.
    pub fn lit_skin_at_centre(&self) -> [f64; 3] {
        let (x, y) = self.centre;
        let l = self.lighting(x, y);
        std::array::from_fn(|c| l[c] * self.base[c])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_evaluation_matches_the_point_functions() {
        let spec = SceneSpec {
            width: 120,
            height: 40,
            light_gradient: 0.2,
            vignetting: 0.3,
            white_balance: [1.1, 1.0, 0.9],
            ..Default::default()
        };
        let skin = Skin::new(&spec);
        let mut row = vec![[0.0f32; 3]; 120];
        for y in [0.0, 17.0, 39.0] {
            skin.lit_row(y, &mut row);
            for (x, got) in row.iter().enumerate() {
                let (l, s, t) =
                    (skin.lighting(x as f64, y), skin.smooth_reflectance(x as f64, y), skin.texture(x as f64, y));
                for c in 0..3 {
                    let want = l[c] * s[c] * t;
                    assert!((got[c] as f64 / want - 1.0).abs() < 1e-5, "({x}, {y}) channel {c}");
                }
            }
        }
    }

    #[test]
    fn darker_skin_types_are_darker() {
        let y: Vec<f64> = (1..=6).map(|t| luminance(fitzpatrick_linear(t))).collect();
        assert!(y.windows(2).all(|w| w[0] > w[1]));
    }
}
