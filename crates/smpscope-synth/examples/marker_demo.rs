//! Writes the fixture photo with a calibration marker from its spec:
//!
//! ```text
//! cargo run --release -p smpscope-synth --example marker_demo -- fixtures/specs/marker-demo.json fixtures/photos
//! ```
//!
//! The spec is `{"scene": SceneSpec, "marker": MarkerSpec}`; the output `marker-demo.jpg`, its
//! truth `marker-demo.truth.json` (dots under the card left out, the card's area off the
//! region) and the marker's truth `marker-demo.marker.json` (homography, scale, tilt, blur,
//! white-balance gains).

use std::path::PathBuf;

use serde::Deserialize;
use smpscope_synth::marker::{MarkerSpec, render_with_marker};
use smpscope_synth::{SceneSpec, encode};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoSpec {
    scene: SceneSpec,
    marker: MarkerSpec,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let spec_path = args.first().map_or("fixtures/specs/marker-demo.json", String::as_str);
    let out: PathBuf = args.get(1).map_or("fixtures/photos", String::as_str).into();
    let demo: DemoSpec = serde_json::from_str(&std::fs::read_to_string(spec_path)?)?;
    let (scene, marker, spec) = render_with_marker(&demo.scene, &demo.marker);
    let photo = encode(&scene, &spec);
    let stem = "marker-demo";
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join(format!("{stem}.{}", photo.extension)), &photo.bytes)?;
    std::fs::write(out.join(format!("{stem}.truth.json")), serde_json::to_string_pretty(&scene.truth)? + "\n")?;
    std::fs::write(out.join(format!("{stem}.marker.json")), serde_json::to_string_pretty(&marker)? + "\n")?;
    println!(
        "{}: {} dots, {:.1} per cm^2, marker at {:.2} px/mm",
        out.join(stem).display(),
        scene.truth.dots.len(),
        scene.truth.density_per_cm2,
        marker.px_per_mm
    );
    Ok(())
}
