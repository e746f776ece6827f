//! Shared inputs of the benchmarks.

use smpscope::Params;
use smpscope_synth::{SceneSpec, encode, render};

/// A synthetic JPEG scalp photo of `w x h` px at 60 px/mm, 80 dots/cm^2, quality 90, and the
/// parameters (scale and camera blur known) to analyse it with.
pub fn photo_jpeg(w: u32, h: u32) -> (Vec<u8>, Params) {
    let spec = SceneSpec { width: w, height: h, px_per_mm: 60.0, density_per_cm2: 80.0, jpeg_quality: Some(90), ..Default::default() };
    let scene = render(&spec);
    let params = Params { px_per_mm: Some(scene.truth.px_per_mm), camera_blur_um: Some(scene.truth.camera_blur_um), ..Default::default() };
    (encode(&scene, &spec).bytes, params)
}
