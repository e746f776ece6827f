//! File encoding: JPEG with EXIF (capture time, make, model, orientation) or lossless PNG.
//!
//! For an EXIF orientation o, the stored pixels are the upright image transformed by the
//! inverse of o, so that a reader applying o gets the upright image (and the truth) back.

use std::io::{self, Cursor};
use std::path::{Path, PathBuf};

use exif::experimental::Writer;
use exif::{Field, In, Tag, Value};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, RgbImage, imageops};

use crate::render::{Scene, render};
use crate::scene::SceneSpec;

/// EXIF Make written to every JPEG.
pub const EXIF_MAKE: &str = "smpscope-synth";
/// EXIF Model written to every JPEG.
pub const EXIF_MODEL: &str = "virtual-dermatoscope";

/// An encoded photo file.
#[derive(Clone, Debug)]
pub struct EncodedPhoto {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// "jpg" or "png".
    pub extension: &'static str,
}

/// The stored pixels for EXIF orientation `o` (1..=8): the inverse of what a reader applies.
pub fn to_stored(upright: &RgbImage, o: u8) -> RgbImage {
    match o {
        2 => imageops::flip_horizontal(upright),
        3 => imageops::rotate180(upright),
        4 => imageops::flip_vertical(upright),
        // 5 and 7 are the transpose and anti-transpose: their own inverses.
        5 => imageops::flip_horizontal(&imageops::rotate90(upright)),
        6 => imageops::rotate270(upright),
        7 => imageops::flip_horizontal(&imageops::rotate270(upright)),
        8 => imageops::rotate90(upright),
        _ => upright.clone(),
    }
}

/// The TIFF/EXIF block for a JPEG APP1 segment (without the "Exif\0\0" header).
fn exif_block(spec: &SceneSpec, orientation: u8) -> Vec<u8> {
    let ascii = |tag, s: &str| Field { tag, ifd_num: In::PRIMARY, value: Value::Ascii(vec![s.as_bytes().to_vec()]) };
    let fields = [
        ascii(Tag::Make, EXIF_MAKE),
        ascii(Tag::Model, EXIF_MODEL),
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![orientation as u16]) },
        ascii(Tag::DateTimeOriginal, &spec.capture_time),
    ];
    let mut w = Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut out = Cursor::new(Vec::new());
    w.write(&mut out, false).expect("writing EXIF to memory cannot fail");
    out.into_inner()
}

/// Encodes a rendered scene as the spec asks: JPEG (with EXIF and the inverse orientation
/// applied to the pixels) when `jpeg_quality` is set, otherwise PNG (upright, no EXIF).
///
/// # Panics
/// If the image is wider or taller than 65535 px (the JPEG limit).
pub fn encode(scene: &Scene, spec: &SceneSpec) -> EncodedPhoto {
    let mut bytes = Vec::new();
    match spec.jpeg_quality {
        Some(q) => {
            let o = spec.orientation.clamp(1, 8);
            let stored = to_stored(&scene.upright, o);
            let exif = exif_block(spec, o);
            if spec.jpeg_chroma_420 {
                // The image crate's encoder writes 4:4:4 only.
                let mut enc = jpeg_encoder::Encoder::new(&mut bytes, q.clamp(1, 100));
                enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
                enc.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
                enc.add_exif_metadata(&exif).expect("the JPEG encoder takes EXIF");
                enc.encode(
                    stored.as_raw(),
                    stored.width() as u16,
                    stored.height() as u16,
                    jpeg_encoder::ColorType::Rgb,
                )
                .expect("JPEG encoding to memory");
            } else {
                let mut enc = JpegEncoder::new_with_quality(&mut bytes, q.clamp(1, 100));
                enc.set_exif_metadata(exif).expect("the JPEG encoder takes EXIF");
                enc.encode_image(&stored).expect("JPEG encoding to memory");
            }
            EncodedPhoto { bytes, extension: "jpg" }
        }
        None => {
            let img = &scene.upright;
            PngEncoder::new(&mut bytes)
                .write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)
                .expect("PNG encoding to memory");
            EncodedPhoto { bytes, extension: "png" }
        }
    }
}

/// Renders `spec` and writes `<dir>/<stem>.<jpg|png>` and `<dir>/<stem>.truth.json`.
/// Returns the two paths.
pub fn write_photo(spec: &SceneSpec, dir: &Path, stem: &str) -> io::Result<(PathBuf, PathBuf)> {
    let scene = render(spec);
    let photo = encode(&scene, spec);
    std::fs::create_dir_all(dir)?;
    let photo_path = dir.join(format!("{stem}.{}", photo.extension));
    let truth_path = dir.join(format!("{stem}.truth.json"));
    std::fs::write(&photo_path, &photo.bytes)?;
    let json = serde_json::to_vec_pretty(&scene.truth).map_err(io::Error::other)?;
    std::fs::write(&truth_path, json)?;
    Ok((photo_path, truth_path))
}
