//! The dot model: one dot's parameters and profile, the blurs between the pigment and the
//! photo's values (of the density, the light, the encoded values) and the window a fit sees.
//! See docs/model.md#the-dot-model.

use std::sync::Arc;

use super::profile;
use super::radial::RadialKernel;

/// The model parameters of one dot, in pixels and OD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DotModel {
    /// Centre, column, px.
    pub x: f64,
    /// Centre, row, px.
    pub y: f64,
    /// Plateau optical density of the deposit.
    pub amplitude: f64,
    /// Deposit radius R, px.
    pub radius: f64,
    /// Gaussian sigma of the pigment's spread, px.
    pub sigma: f64,
}

impl DotModel {
    /// The pigment's unit profile at (x, y), with `extra` px of blur added in density (used
    /// only to keep the sampled profile smooth; see `Blur`).
    #[inline]
    pub fn shape(&self, x: f64, y: f64, extra: f64) -> f64 {
        let s = (self.sigma * self.sigma + extra * extra).sqrt();
        let r = ((x - self.x).powi(2) + (y - self.y).powi(2)).sqrt();
        profile::value(r / s, self.radius / s)
    }
}

/// How the photo blurs: a little in density (the pixel's area, and so that a hard-edged dot
/// sampled at pixel centres does not alias), the rest in light (the camera's optics), and, for
/// colour read from a JPEG with subsampled chroma, a last blur of the sRGB-encoded values. Two
/// renderings of the same model: on the window's grid (any number of dots) and radial (a lone
/// dot, whose blurred profile is one-dimensional).
#[derive(Debug, Clone)]
pub struct Blur {
    /// Sigma added in density, px.
    pub density_sigma: f64,
    /// Separable kernel applied to the transmittance on the grid (empty: none).
    pub light_kernel: Vec<f64>,
    /// The radial rendering.
    pub radial: RadialBlur,
    /// Blur of the encoded values, after the light's.
    pub encoded: Option<EncodedBlur>,
}

/// The radial rendering of a [`Blur`].
#[derive(Debug, Clone)]
pub struct RadialBlur {
    /// Grid step of the pigment's profile, px: a third of its smallest blur, at most 0.1.
    pub step_in: f64,
    /// Grid step of the blurred profiles, px: a third of the whole blur's sigma.
    pub step_out: f64,
    /// The blur of the light (None: none).
    pub light: Option<Arc<RadialKernel>>,
}

/// A blur that acts on sRGB-encoded values, as JPEG's chroma path does: block means and
/// interpolation of gamma-encoded colour differences. On a dark dot it darkens the edges more
/// than a blur of light would.
#[derive(Debug, Clone)]
pub struct EncodedBlur {
    /// The skin's linear level in the channel fitted (0..1): transmittance 1 is encoded from it.
    pub skin: f64,
    /// Separable kernel applied to the encoded values.
    pub kernel: Vec<f64>,
    /// The same blur as a radial kernel, for lone dots.
    pub radial: Arc<RadialKernel>,
}

impl Blur {
    /// A blur of `density_variance` px^2 acting on the optical density (the pixel's area, over
    /// which the sensor averages) and `light_variance` px^2 acting on the light (the camera's
    /// optics). The grid's light kernel is the discrete Gaussian, whose variance is exact even
    /// for a fraction of a pixel, where a sampled Gaussian would be far off.
    pub fn new(density_variance: f64, light_variance: f64) -> Blur {
        let (density_variance, light_variance) = (density_variance.max(0.0), light_variance.max(0.0));
        let blurred = light_variance > 1e-4;
        let light_kernel = if blurred { crate::plane::discrete_gaussian_kernel(light_variance) } else { Vec::new() };
        let step_out = (0.3 * (density_variance + light_variance).sqrt()).clamp(0.02, 1.0);
        let step_in = if blurred { (0.3 * density_variance.sqrt()).clamp(0.02, step_out.min(0.1)) } else { step_out };
        let light = blurred.then(|| RadialKernel::shared(light_variance, step_in, step_out));
        Blur {
            density_sigma: density_variance.sqrt(),
            light_kernel,
            radial: RadialBlur { step_in, step_out, light },
            encoded: None,
        }
    }

    /// This blur followed by one of `variance` px^2 on sRGB-encoded values, for a channel whose
    /// skin has the linear level `skin`.
    pub fn then_encoded(self, variance: f64, skin: f64) -> Blur {
        let encoded = (variance > 1e-4 && skin > 0.0).then(|| EncodedBlur {
            skin: skin.min(1.0),
            kernel: crate::plane::discrete_gaussian_kernel(variance),
            radial: RadialKernel::shared(variance, self.radial.step_out, self.radial.step_out),
        });
        Blur { encoded, ..self }
    }
}

/// A rectangular window of the photo's optical density; `used` marks the pixels the fit
/// weighs (the rest only carry the blur across the window's edge).
#[derive(Debug, Clone)]
pub struct Window {
    /// Column of the window's left edge in the photo, px.
    pub x0: usize,
    /// Row of the window's top edge in the photo, px.
    pub y0: usize,
    /// Width, px.
    pub width: usize,
    /// Height, px.
    pub height: usize,
    /// Optical density of each window pixel, OD, row after row.
    pub od: Vec<f64>,
    /// Whether the fit weighs each window pixel, row after row.
    pub used: Vec<bool>,
}

impl Window {
    pub(super) fn xy(&self, i: usize) -> (f64, f64) {
        ((self.x0 + i % self.width) as f64, (self.y0 + i / self.width) as f64)
    }
}
