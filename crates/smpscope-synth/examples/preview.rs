//! Preview a scene as a viewer would see it: encode it, decode it, apply the EXIF orientation,
//! and write the upright PNG plus a 3x nearest-neighbour zoom of its centre.
//!
//! `cargo run --release -p smpscope-synth --example preview -- SEED WIDTHxHEIGHT OUT_STEM [spec.json]`

use image::{DynamicImage, ImageDecoder, imageops};
use smpscope_synth::{SceneSpec, encode, render};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: preview SEED WIDTHxHEIGHT OUT_STEM [spec.json]");
        std::process::exit(2);
    }
    let seed: u64 = args[1].parse().expect("seed");
    let (w, h) = args[2].split_once('x').expect("WxH");
    let (w, h): (u32, u32) = (w.parse().expect("width"), h.parse().expect("height"));
    let spec = match args.get(4) {
        Some(p) => SceneSpec { seed, ..serde_json::from_slice(&std::fs::read(p).expect("spec")).expect("spec json") },
        None => SceneSpec::random(seed, w, h),
    };
    let t0 = std::time::Instant::now();
    let scene = render(&spec);
    let dt = t0.elapsed();
    let photo = encode(&scene, &spec);
    let img = if photo.extension == "jpg" {
        let mut dec = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&photo.bytes)).expect("jpeg");
        let o = dec.orientation().expect("orientation");
        let mut img = DynamicImage::from_decoder(dec).expect("decode");
        img.apply_orientation(o);
        img.to_rgb8()
    } else {
        scene.upright.clone()
    };
    let stem = &args[3];
    img.save(format!("{stem}.png")).expect("save");
    let (cw, ch) = ((img.width() / 3).min(400), (img.height() / 3).min(300));
    let crop = imageops::crop_imm(&img, (img.width() - cw) / 2, (img.height() - ch) / 2, cw, ch).to_image();
    imageops::resize(&crop, cw * 3, ch * 3, imageops::FilterType::Nearest)
        .save(format!("{stem}-zoom.png"))
        .expect("save");
    println!(
        "rendered in {dt:?}: {} dots, {} distractors, {:?}",
        scene.truth.dots.len(),
        scene.truth.distractors.len(),
        scene.truth.conditions
    );
}
