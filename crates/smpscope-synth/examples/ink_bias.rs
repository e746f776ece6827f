//! Median measured / true ink of one scene under different blur, spread, fade, scale and noise:
//! a photo-wide bias here would read as fade when tracking. `cargo run --release -p
//! smpscope-synth --example ink_bias`.
use smpscope_synth::evaluate::{pair_detections, params_for};
use smpscope_synth::{SceneSpec, encode, render};

fn main() {
    let base = SceneSpec { width: 600, height: 450, distractors: false, jpeg_quality: Some(90), ..Default::default() };
    let base = SceneSpec { jpeg_quality: None, ..base };
    let variants: Vec<(&str, SceneSpec)> = vec![
        ("base png", base.clone()),
        ("blur 0", SceneSpec { camera_blur_px: 0.0, ..base.clone() }),
        ("blur 1.0", SceneSpec { camera_blur_px: 1.0, ..base.clone() }),
        ("spread 0", SceneSpec { spread_um: 0.0, ..base.clone() }),
        ("spread 30", SceneSpec { spread_um: 30.0, ..base.clone() }),
        ("fade 0.5", SceneSpec { fade: 0.5, ..base.clone() }),
        ("80 px/mm", SceneSpec { px_per_mm: 80.0, ..base.clone() }),
        ("20 px/mm", SceneSpec { px_per_mm: 20.0, ..base.clone() }),
        ("noise 0", SceneSpec { noise_gain: 0.0, read_noise: 0.0, ..base.clone() }),
    ];
    for (name, spec) in variants {
        let scene = render(&spec);
        let photo = encode(&scene, &spec);
        let params = params_for(&scene.truth);

        let a = smpscope::analyze_bytes(&photo.bytes, "x", &params).unwrap();
        let all: Vec<usize> = (0..scene.truth.dots.len()).collect();
        let mut r: Vec<f64> = pair_detections(&scene.truth, &a.dots, &all)
            .iter()
            .map(|&(i, j)| a.dots[j].ink.unwrap() / scene.truth.dots[i].ink)
            .collect();
        r.sort_by(f64::total_cmp);
        println!("{name:<20} n {:>4} median measured/true ink {:.3}", r.len(), r[r.len() / 2]);
    }
}
