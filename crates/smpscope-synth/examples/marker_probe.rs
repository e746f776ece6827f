//! Quick probe: one synthetic photo with a marker, detected.
use smpscope_synth::marker::{MarkerSpec, render_with_marker};
use smpscope_synth::{SceneSpec, encode};

fn main() {
    let args: Vec<f64> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    let (ppm, tilt, blur) = (
        args.first().copied().unwrap_or(30.0),
        args.get(1).copied().unwrap_or(0.0),
        args.get(2).copied().unwrap_or(0.8),
    );
    let spec = SceneSpec {
        width: 1200,
        height: 900,
        px_per_mm: ppm,
        camera_blur_px: blur,
        white_balance: [1.08, 1.0, 0.92],
        ..Default::default()
    };
    let m = MarkerSpec { x: 0.6, y: 0.5, tilt_deg: tilt, ..Default::default() };
    let t0 = std::time::Instant::now();
    let (scene, mt, spec) = render_with_marker(&spec, &m);
    eprintln!("render {:?}", t0.elapsed());
    let photo = encode(&scene, &spec);
    std::fs::write(format!("/tmp/mk/probe.{}", photo.extension), &photo.bytes).unwrap();
    let p = smpscope::photo::load_bytes(&photo.bytes, "probe").unwrap();
    let mut w = Vec::new();
    let t0 = std::time::Instant::now();
    let found = smpscope::marker::find::search(&p);
    eprintln!(
        "search {:?}: {} markers, cut {}, partial {}",
        t0.elapsed(),
        found.markers.len(),
        found.cut_off,
        found.partial
    );
    let m = smpscope::marker::detect(&p, &Default::default(), &mut w);
    eprintln!("detect {:?}", t0.elapsed());
    println!(
        "truth ppm {:.4} tilt {:.2} blur {:.3} gains {:?}",
        mt.px_per_mm, mt.tilt_deg, mt.camera_blur_px, mt.gains
    );
    println!("{}", serde_json::to_string_pretty(&m).unwrap());
    println!("{w:?}");
}
