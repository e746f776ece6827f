//! The photo's blur: what the pixel's area and, when known, the camera add to a dot's spread.

use super::Inputs;
use super::fit::{Blur, DotModel};

/// Variance a pixel's area adds to a blur (a box of 1 px has variance 1/12 px^2).
const PIXEL_VARIANCE: f64 = 1.0 / 12.0;

/// Variance of the blur that the camera (when known) and the pixel area add, px^2.
pub(super) fn blur_variance(inp: &Inputs) -> f64 {
    PIXEL_VARIANCE + camera_blur_variance(inp)
}

/// Variance of the camera's blur (0 when unknown), px^2.
fn camera_blur_variance(inp: &Inputs) -> f64 {
    inp.scale.camera_blur_px.unwrap_or(0.0).powi(2)
}

/// The dot as it appears in the photo, with every blur added to its spread (for apparent
/// sizes and shape tests, where the difference between blurring light and density is small).
pub(super) fn apparent(d: &DotModel, blur_var: f64) -> DotModel {
    DotModel { sigma: (d.sigma * d.sigma + blur_var).sqrt(), ..*d }
}

/// How the photo blurs a dot: over the pixel's area and, when known, by the camera.
pub(super) fn photo_blur(inp: &Inputs) -> Blur {
    Blur::new(PIXEL_VARIANCE, camera_blur_variance(inp))
}
