//! Shared inputs of the benchmarks.

use std::path::Path;

use smpscope::Params;
use smpscope_synth::{SceneSpec, encode, render};

// As in the command and the Python module.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps freed memory for reuse, as the command does (docs/decisions.md#freed-memory-kept): call
/// first in every benchmark.
pub fn keep_freed_memory() {
    // mi_option_purge_delay is 15 in mimalloc 2's and 3's mi_option_e; -1: never purge.
    // SAFETY: sets one option of the allocator; any value is valid and it is read atomically.
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
}

/// A synthetic JPEG scalp photo of `w x h` px at 60 px/mm, 80 dots/cm^2, quality 90, and the
/// parameters (scale and camera blur known) to analyse it with.
pub fn photo_jpeg(w: u32, h: u32) -> (Vec<u8>, Params) {
    let spec = SceneSpec {
        width: w,
        height: h,
        px_per_mm: 60.0,
        density_per_cm2: 80.0,
        jpeg_quality: Some(90),
        ..Default::default()
    };
    let scene = render(&spec);
    let params = Params {
        px_per_mm: Some(scene.truth.px_per_mm),
        camera_blur_um: Some(scene.truth.camera_blur_um),
        ..Default::default()
    };
    (encode(&scene, &spec).bytes, params)
}

/// The demo patient's series (`SeriesSpec::default()`) taken with a 12 MP camera: five visits
/// of 4000 x 3000 px at 60 px/mm over 46 months, a touch-up before the fourth, as the JPEGs a
/// clinic would bring, with their names, and the analysis parameters: the scale from the device
/// profile matched on EXIF, as in the README's demo.
pub fn patient_jpegs() -> (Vec<(String, Vec<u8>)>, Params) {
    let mut spec = smpscope_synth::SeriesSpec::default();
    (spec.base.width, spec.base.height, spec.base.px_per_mm) = (4000, 3000, 60.0);
    spec.visit_months.push(46.0);
    spec.poses.push(smpscope_synth::Pose { rotation_deg: -12.0, scale: 0.94, shift: [-0.06, 0.04] });
    spec.shots.push(spec.shots[1].clone());
    let series = smpscope_synth::render_series(&spec);
    let photos = series
        .visits
        .iter()
        .enumerate()
        .map(|(v, visit)| (format!("visit-{}.jpg", v + 1), encode(&visit.scene, &visit.spec).bytes))
        .collect();
    let profiles =
        smpscope::DeviceProfiles::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/devices.toml"))
            .expect("fixtures/devices.toml");
    (photos, Params { device_profiles: Some(profiles), ..Default::default() })
}
