//! Photo: decoding (JPEG, PNG, TIFF; 8/16-bit/float; grey, RGB, RGBA; in decode.rs), EXIF
//! metadata and orientation (exif.rs), or pixels handed over in memory. After loading,
//! coordinates refer to the upright photo and every pixel is an sRGB-encoded RGB triple.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::colour::{LUMA, srgb_to_linear};
use crate::error::{Error, Result};
use crate::warning::Warning;

mod chroma;
mod decode;
mod exif;
mod fill;
#[cfg(feature = "heic")]
mod heic;
pub use chroma::CHROMA_BLUR_VARIANCE;
pub use decode::{MAX_FILE_BYTES, jpeg_is_complete, load_bytes, load_path};

/// The largest photo accepted, in pixels (a decompression bomb guard; 100 MP).
pub const MAX_PIXELS: u64 = 100_000_000;
/// The smallest side accepted, in pixels: below this no dot can be told from its skin.
pub const MIN_SIDE: u32 = 16;

/// What is known about a photo besides its pixels.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageInfo {
    /// File path or a label for in-memory pixels.
    pub source: String,
    /// "jpeg", "png", "tiff" or "array".
    pub format: String,
    /// Upright width in pixels (after the EXIF orientation is applied).
    pub width: u32,
    /// Upright height in pixels.
    pub height: u32,
    /// Bits per channel of the source (8, 16 or 32 for float).
    pub bit_depth: u8,
    /// Colour type of the source, e.g. "rgb8", "l16", "rgba8".
    pub colour_type: String,
    /// EXIF orientation (1..=8) that was applied; 1 when absent.
    pub orientation: u8,
    /// EXIF capture date and time, ISO 8601 (with offset when the EXIF gives one).
    pub captured_at: Option<String>,
    /// EXIF camera make.
    pub camera_make: Option<String>,
    /// EXIF camera model.
    pub camera_model: Option<String>,
    /// How a JPEG stores its colour when coarser than its brightness ("4:2:0", "4:2:2", ...);
    /// null for full resolution and for other formats.
    #[serde(default)]
    pub chroma_subsampling: Option<String>,
}

/// sRGB-encoded pixels, three interleaved channels, row-major, upright.
#[derive(Debug, Clone)]
pub enum Pixels {
    /// 8-bit encoded values, 0..=255.
    U8(Vec<u8>),
    /// 16-bit encoded values, 0..=65535.
    U16(Vec<u16>),
    /// Encoded values in 0..1.
    F32(Vec<f32>),
}

/// A decoded, upright photo.
#[derive(Debug, Clone)]
pub struct Photo {
    /// Source, format, upright size, EXIF orientation, date and camera.
    pub info: ImageInfo,
    pixels: Pixels,
    /// For a JPEG with subsampled chroma: its luma after chroma's path (8-bit, upright), so that
    /// colour can be read with every channel equally blurred ([`Photo::colour_log_rgb`]).
    resampled_luma: Option<Vec<u8>>,
    /// Problems found while loading that did not stop it (e.g. damaged EXIF).
    pub warnings: Vec<Warning>,
}

/// The darkest linear value kept: half an 8-bit code. Keeps log10 finite for black pixels.
const LINEAR_FLOOR: f32 = 0.5 / 255.0 / 12.92;

fn log_lut_u8() -> &'static [f32; 256] {
    static LUT: OnceLock<[f32; 256]> = OnceLock::new();
    LUT.get_or_init(|| std::array::from_fn(|i| log_linear(i as f32 / 255.0)))
}

fn log_lut_u16() -> &'static [f32] {
    static LUT: OnceLock<Vec<f32>> = OnceLock::new();
    LUT.get_or_init(|| (0..65536).map(|i| log_linear(i as f32 / 65535.0)).collect())
}

/// The linear light of each code, as 10 to the power of its log LUT entry (so that both readings
/// agree exactly): the marker reads linear light over the whole frame.
fn linear_lut_u8() -> &'static [f64; 256] {
    static LUT: OnceLock<[f64; 256]> = OnceLock::new();
    LUT.get_or_init(|| log_lut_u8().map(|l| 10f64.powf(l as f64)))
}

fn linear_lut_u16() -> &'static [f64] {
    static LUT: OnceLock<Vec<f64>> = OnceLock::new();
    LUT.get_or_init(|| log_lut_u16().iter().map(|&l| 10f64.powf(l as f64)).collect())
}

/// log10 of the linear light of an sRGB-encoded value in 0..1.
fn log_linear(encoded: f32) -> f32 {
    let v = if encoded.is_finite() { encoded.clamp(0.0, 1.0) } else { 0.0 };
    (srgb_to_linear(v as f64) as f32).max(LINEAR_FLOOR).log10()
}

impl Photo {
    /// Upright width in pixels.
    pub fn width(&self) -> usize {
        self.info.width as usize
    }
    /// Upright height in pixels.
    pub fn height(&self) -> usize {
        self.info.height as usize
    }

    /// log10 of the linear light of each channel at pixel (x, y).
    #[inline]
    pub fn log_rgb(&self, x: usize, y: usize) -> [f32; 3] {
        self.read(x, y, log_lut_u8(), log_lut_u16(), log_linear)
    }

    /// The linear light of each channel at pixel (x, y), 0..1: 10 to the power of
    /// [`Photo::log_rgb`], read from a table.
    #[inline]
    pub fn linear_rgb(&self, x: usize, y: usize) -> [f64; 3] {
        self.read(x, y, linear_lut_u8(), linear_lut_u16(), |v| 10f64.powf(log_linear(v) as f64))
    }

    /// Pixel (x, y)'s three codes through the table of their depth (`u8` or `u16`), or a float
    /// photo's values through `float`.
    #[inline]
    fn read<T: Copy>(&self, x: usize, y: usize, u8: &[T], u16: &[T], float: impl Fn(f32) -> T) -> [T; 3] {
        let i = 3 * (y * self.width() + x);
        match &self.pixels {
            Pixels::U8(p) => std::array::from_fn(|c| u8[p[i + c] as usize]),
            Pixels::U16(p) => std::array::from_fn(|c| u16[p[i + c] as usize]),
            Pixels::F32(p) => std::array::from_fn(|c| float(p[i + c])),
        }
    }

    /// Extra blur variance, px^2, of the channels [`Photo::colour_log_rgb`] reads beyond those of
    /// [`Photo::log_rgb`]: that of JPEG's subsampled chroma (0 when chroma is full resolution).
    pub fn colour_blur_variance(&self) -> f64 {
        if self.resampled_luma.is_some() { CHROMA_BLUR_VARIANCE } else { 0.0 }
    }

    /// Like [`Photo::log_rgb`], for measuring colour: where the JPEG's chroma was subsampled,
    /// the pixel with its luma replaced by the luma after chroma's path, so that brightness and
    /// colour differences carry the same blur.
    #[inline]
    pub fn colour_log_rgb(&self, x: usize, y: usize) -> [f32; 3] {
        match (&self.resampled_luma, &self.pixels) {
            (Some(l), Pixels::U8(p)) => {
                let i = y * self.width() + x;
                let px = &p[3 * i..3 * i + 3];
                let shift = l[i] as f32 - chroma::jpeg_luma(px);
                let lut = log_lut_u8();
                std::array::from_fn(|c| {
                    let v = (px[c] as f32 + shift).clamp(0.0, 255.0);
                    // Interpolated between codes: the shift is fractional.
                    let (lo, t) = (v.floor() as usize, v.fract());
                    lut[lo] + t * (lut[(lo + 1).min(255)] - lut[lo])
                })
            }
            _ => self.log_rgb(x, y),
        }
    }

    /// Luminance-weighted log10 linear light of one row: sum_c LUMA_c log10(linear_c).
    /// Optical density is a difference of this quantity (see `background`).
    pub fn log_luma_row(&self, y: usize, out: &mut [f32]) {
        for (x, o) in out.iter_mut().enumerate().take(self.width()) {
            let l = self.log_rgb(x, y);
            *o = LUMA[0] * l[0] + LUMA[1] * l[1] + LUMA[2] * l[2];
        }
    }

    /// Whether any channel of pixel (x, y) is at the bottom or top of its range.
    pub fn is_clipped(&self, x: usize, y: usize) -> bool {
        let i = 3 * (y * self.width() + x);
        match &self.pixels {
            Pixels::U8(p) => p[i..i + 3].iter().any(|&v| v == 0 || v == 255),
            Pixels::U16(p) => p[i..i + 3].iter().any(|&v| v == 0 || v == 65535),
            Pixels::F32(p) => p[i..i + 3].iter().any(|&v| v <= 0.0 || v >= 1.0),
        }
    }

    /// Share of the frame that is clipped (pure white or black in a channel; [`Self::is_clipped`]),
    /// from every third pixel of every third row.
    pub fn clipped_fraction(&self) -> f64 {
        use rayon::prelude::*;
        let step = 3;
        let (clipped, total) = (0..self.height())
            .into_par_iter()
            .step_by(step)
            .map(|y| {
                let c = (0..self.width()).step_by(step).filter(|&x| self.is_clipped(x, y)).count();
                (c, self.width().div_ceil(step))
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        clipped as f64 / total.max(1) as f64
    }

    /// The photo as 8-bit sRGB (for overlays and thumbnails).
    pub fn to_rgb8(&self) -> image::RgbImage {
        let (w, h) = (self.info.width, self.info.height);
        let data: Vec<u8> = match &self.pixels {
            Pixels::U8(p) => p.clone(),
            Pixels::U16(p) => p.iter().map(|&v| ((v as u32 + 128) / 257) as u8).collect(),
            Pixels::F32(p) => p.iter().map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8).collect(),
        };
        image::RgbImage::from_raw(w, h, data).expect("buffer size matches the dimensions")
    }

    /// Pixels handed over in memory: `channels` (1 grey, 3 RGB, 4 RGBA, alpha ignored)
    /// interleaved sRGB-encoded values, row-major. Floats must be finite and in 0..1.
    pub fn from_pixels(source: &str, width: usize, height: usize, channels: usize, data: Pixels) -> Result<Photo> {
        if !matches!(channels, 1 | 3 | 4) {
            return Err(Error::unusable(
                source,
                format!("{channels} channels per pixel; expected 1 (grey), 3 (RGB) or 4 (RGBA)"),
            ));
        }
        let len = match &data {
            Pixels::U8(v) => v.len(),
            Pixels::U16(v) => v.len(),
            Pixels::F32(v) => v.len(),
        };
        if width.checked_mul(height).and_then(|n| n.checked_mul(channels)) != Some(len) {
            return Err(Error::unusable(
                source,
                format!("{len} values do not make a {width}x{height}x{channels} image"),
            ));
        }
        check_size(source, width as u64, height as u64)?;
        if let Pixels::F32(v) = &data
            && let Some(bad) = v.iter().find(|x| !x.is_finite() || **x < 0.0 || **x > 1.0)
        {
            return Err(Error::unusable(
                source,
                format!("float pixels must be finite and in 0..1 (found {bad}); scale them or pass integers"),
            ));
        }
        let (bit_depth, depth_name) = match &data {
            Pixels::U8(_) => (8, "8"),
            Pixels::U16(_) => (16, "16"),
            Pixels::F32(_) => (32, "32f"),
        };
        let kind = match channels {
            1 => "l",
            3 => "rgb",
            _ => "rgba",
        };
        let pixels = match data {
            Pixels::U8(v) => Pixels::U8(to_rgb(v, channels)),
            Pixels::U16(v) => Pixels::U16(to_rgb(v, channels)),
            Pixels::F32(v) => Pixels::F32(to_rgb(v, channels)),
        };
        Ok(Photo {
            info: ImageInfo {
                source: source.to_string(),
                format: "array".into(),
                width: width as u32,
                height: height as u32,
                bit_depth,
                colour_type: format!("{kind}{depth_name}"),
                orientation: 1,
                captured_at: None,
                camera_make: None,
                camera_model: None,
                chroma_subsampling: None,
            },
            pixels,
            resampled_luma: None,
            warnings: Vec::new(),
        })
    }
}

/// Interleaved RGB from 1, 3 or 4 channels (RGB is handed over as it is, without a copy).
fn to_rgb<T: Copy>(v: Vec<T>, channels: usize) -> Vec<T> {
    match channels {
        3 => v,
        1 => v.iter().flat_map(|&g| [g, g, g]).collect(),
        _ => v.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
    }
}

fn check_size(source: &str, width: u64, height: u64) -> Result<()> {
    if width * height > MAX_PIXELS {
        return Err(Error::unusable(
            source,
            format!(
                "{width}x{height} px is {:.0} MP; photos up to {} MP are accepted",
                (width * height) as f64 / 1e6,
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    if width < MIN_SIDE as u64 || height < MIN_SIDE as u64 {
        return Err(Error::unusable(
            source,
            format!("{width}x{height} px is too small to measure (each side must be at least {MIN_SIDE} px)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_of_every_layout_load() {
        let grey = Photo::from_pixels("a", 20, 20, 1, Pixels::U8(vec![100; 400])).unwrap();
        assert_eq!(grey.log_rgb(3, 4)[0], grey.log_rgb(3, 4)[2]);
        let rgba = Photo::from_pixels("b", 20, 20, 4, Pixels::U16(vec![30000; 1600])).unwrap();
        assert_eq!(rgba.info.colour_type, "rgba16");
        let e = Photo::from_pixels("c", 20, 20, 3, Pixels::F32(vec![f32::NAN; 1200])).unwrap_err();
        assert!(e.to_string().contains("finite"));
        assert!(Photo::from_pixels("d", 20, 20, 3, Pixels::U8(vec![0; 10])).is_err());
        assert!(Photo::from_pixels("e", 20, 20, 2, Pixels::U8(vec![0; 800])).is_err());
    }
}
