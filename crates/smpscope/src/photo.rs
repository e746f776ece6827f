//! Photo: decoding (JPEG, PNG, TIFF; 8/16-bit/float; grey, RGB, RGBA), EXIF metadata and
//! orientation, or pixels handed over in memory. After loading, coordinates refer to the
//! upright photo and every pixel is an sRGB-encoded RGB triple.

use std::io::{Cursor, Read};
use std::path::Path;
use std::sync::OnceLock;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use serde::{Deserialize, Serialize};

use crate::colour::{LUMA, srgb_to_linear};
use crate::error::{Error, Result};
use crate::warning::{Warning, WarningCode};

mod chroma;
pub use chroma::CHROMA_BLUR_VARIANCE;

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
        let i = 3 * (y * self.width() + x);
        match &self.pixels {
            Pixels::U8(p) => {
                let lut = log_lut_u8();
                [lut[p[i] as usize], lut[p[i + 1] as usize], lut[p[i + 2] as usize]]
            }
            Pixels::U16(p) => {
                let lut = log_lut_u16();
                [lut[p[i] as usize], lut[p[i + 1] as usize], lut[p[i + 2] as usize]]
            }
            Pixels::F32(p) => [log_linear(p[i]), log_linear(p[i + 1]), log_linear(p[i + 2])],
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

/// Reads and decodes a photo file. The file is only read, never written.
///
/// ```
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/photos/demo-1.jpg");
/// let photo = smpscope::photo::load_path(std::path::Path::new(path))?;
/// assert_eq!((photo.width(), photo.height()), (800, 600));
/// assert_eq!(photo.info.camera_model.as_deref(), Some("virtual-dermatoscope"));
/// # Ok::<(), smpscope::Error>(())
/// ```
pub fn load_path(path: &Path) -> Result<Photo> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| Error::Io { source_name: name.clone(), reason: e.to_string() };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        // A FIFO would block for ever and a device (/dev/zero) never ends.
        let what = if meta.is_dir() { "a folder" } else { "not a regular file (a FIFO, socket or device)" };
        return Err(Error::Io { source_name: name, reason: format!("{what}: only photo files are read") });
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(&name, meta.len()));
    }
    // Read at most one byte past the limit, in case the file grows while it is read.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)).map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(&name, bytes.len() as u64));
    }
    load_bytes(&bytes, &name)
}

/// Largest photo file read, bytes: a 100 MP 16-bit RGB TIFF is 600 MB.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

fn too_large(source: &str, bytes: u64) -> Error {
    Error::unusable(
        source,
        format!("the file is {} MB; photo files up to {} MB are read", bytes >> 20, MAX_FILE_BYTES >> 20),
    )
}

/// Decodes a photo from the bytes of a JPEG, PNG or TIFF file.
pub fn load_bytes(bytes: &[u8], source: &str) -> Result<Photo> {
    if bytes.is_empty() {
        return Err(Error::unreadable(source, "the file is empty (0 bytes)"));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::unreadable(source, e.to_string()))?;
    let format = match reader.format() {
        Some(image::ImageFormat::Jpeg) => "jpeg",
        Some(image::ImageFormat::Png) => "png",
        Some(image::ImageFormat::Tiff) => "tiff",
        Some(other) => {
            return Err(Error::unreadable(
                source,
                format!("{other:?} photos are not supported; use JPEG, PNG or TIFF"),
            ));
        }
        None => {
            let what = unsupported_kind(bytes)
                .map(str::to_string)
                .unwrap_or_else(|| format!("not a JPEG, PNG or TIFF file (it starts with {})", describe_start(bytes)));
            return Err(Error::unreadable(source, what));
        }
    };
    if format == "jpeg" && !jpeg_is_complete(bytes) {
        return Err(Error::unreadable(
            source,
            "the JPEG is truncated (its image data ends before the end-of-image marker)",
        ));
    }
    let mut warnings = Vec::new();
    let mut reader = reader;
    let mut limits = Limits::default();
    limits.max_alloc = Some(2 * 1024 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| Error::unreadable(source, decode_error(&e, format)))?;
    let (w, h) = decoder.dimensions();
    check_size(source, w as u64, h as u64)?;
    let exif_bytes = match decoder.exif_metadata() {
        Ok(b) => b,
        Err(e) => {
            warnings.push(Warning::new(
                WarningCode::ExifUnreadable,
                format!("EXIF could not be read ({e}); capture date, camera and orientation unknown"),
            ));
            None
        }
    };
    // image does not hand over a TIFF's tags, but a TIFF file is itself the structure EXIF is
    // stored in: its first directory holds orientation, make, model and date.
    let exif_bytes = match exif_bytes {
        None if format == "tiff" => Some(bytes.to_vec()),
        other => other,
    };
    let meta = exif_bytes.map(|b| read_exif(b, &mut warnings)).unwrap_or_default();
    let colour_type = decoder.color_type();
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| Error::unreadable(source, decode_error(&e, format)))?;
    // On the stored image: chroma's blocks are aligned with its corner, not the upright one.
    let subsampling = (format == "jpeg").then(|| chroma::subsampling(bytes)).flatten();
    let mut resampled_luma = match subsampling {
        Some(f) if matches!(img, DynamicImage::ImageRgb8(_)) => {
            let (w, h) = (img.width(), img.height());
            let luma = chroma::resampled_luma(img.as_bytes(), w as usize, h as usize, f);
            image::GrayImage::from_raw(w, h, luma).map(DynamicImage::ImageLuma8)
        }
        _ => None,
    };
    let orientation = meta.orientation.unwrap_or(1);
    if let Some(o) = image::metadata::Orientation::from_exif(orientation) {
        img.apply_orientation(o);
        if let Some(l) = resampled_luma.as_mut() {
            l.apply_orientation(o);
        }
    }
    if colour_type.has_alpha() {
        let transparent = transparent_share(&img);
        if transparent > MAX_TRANSPARENT {
            return Err(Error::unusable(
                source,
                format!(
                    "{:.0} % of the photo is fully transparent (alpha 0): there is no scalp to measure there",
                    100.0 * transparent
                ),
            ));
        }
        warnings.push(Warning::new(
            WarningCode::AlphaIgnored,
            format!(
                "the photo has an alpha channel ({:.1} % fully transparent); it is ignored and every pixel measured as stored",
                100.0 * transparent
            ),
        ));
    }
    if format == "jpeg" && chroma::components(bytes) == Some(4) {
        warnings.push(Warning::new(
            WarningCode::CmykConverted,
            "a CMYK JPEG (a print file, not a camera's): converted to RGB without its colour profile, so colours and densities are approximate",
        ));
    }
    let (bit_depth, pixels) = match &img {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => (8, Pixels::U8(img.to_rgb8().into_raw())),
        DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_)
        | DynamicImage::ImageRgb16(_)
        | DynamicImage::ImageRgba16(_) => (16, Pixels::U16(img.to_rgb16().into_raw())),
        _ => {
            let f = img.to_rgb32f().into_raw();
            if f.iter().any(|v| !v.is_finite()) {
                return Err(Error::unusable(source, "the photo holds NaN or infinite float pixels"));
            }
            (32, Pixels::F32(f.into_iter().map(|v| v.clamp(0.0, 1.0)).collect()))
        }
    };
    Ok(Photo {
        info: ImageInfo {
            source: source.to_string(),
            format: format.into(),
            width: img.width(),
            height: img.height(),
            bit_depth,
            colour_type: format!("{colour_type:?}").to_lowercase(),
            orientation: if (1..=8).contains(&orientation) { orientation } else { 1 },
            captured_at: meta.captured_at,
            camera_make: meta.make,
            camera_model: meta.model,
            chroma_subsampling: subsampling.map(chroma::name),
        },
        pixels,
        resampled_luma: resampled_luma.map(|l| l.into_bytes()),
        warnings,
    })
}

/// Share of fully transparent pixels above which a photo is refused: less than half of it shows
/// anything.
const MAX_TRANSPARENT: f64 = 0.5;

/// Share of the pixels whose alpha is 0.
fn transparent_share(img: &DynamicImage) -> f64 {
    let n = (img.width() as u64 * img.height() as u64).max(1) as f64;
    let zero = match img {
        DynamicImage::ImageLumaA8(i) => i.pixels().filter(|p| p.0[1] == 0).count(),
        DynamicImage::ImageRgba8(i) => i.pixels().filter(|p| p.0[3] == 0).count(),
        DynamicImage::ImageLumaA16(i) => i.pixels().filter(|p| p.0[1] == 0).count(),
        DynamicImage::ImageRgba16(i) => i.pixels().filter(|p| p.0[3] == 0).count(),
        DynamicImage::ImageRgba32F(i) => i.pixels().filter(|p| p.0[3] <= 0.0).count(),
        _ => 0,
    };
    zero as f64 / n
}

/// What a file the decoder cannot read is, by its first bytes, in words that say what to do.
fn unsupported_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"II+\0") || bytes.starts_with(b"MM\0+") {
        return Some("a BigTIFF file, which is not read: save the photo as a standard TIFF, PNG or JPEG");
    }
    if bytes.get(4..8) == Some(b"ftyp") {
        let brand = bytes.get(8..12).unwrap_or_default();
        if [&b"heic"[..], b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"].contains(&brand) {
            return Some(
                "a HEIC/HEIF photo (what phones save by default), which this build of smpscope does not read: export it as JPEG (on an iPhone: Settings > Camera > Formats > Most Compatible)",
            );
        }
        if brand == b"avif" || brand == b"avis" {
            return Some("an AVIF image, which is not read: export it as JPEG or PNG");
        }
    }
    None
}

/// A decoder's failure in words: what is wrong with the file, not the decoder's internals.
fn decode_error(e: &image::ImageError, format: &str) -> String {
    use image::ImageError as E;
    let format = format.to_uppercase();
    match e {
        E::Limits(_) => "decoding it would take more than 2 GB of memory (a damaged or hostile file)".into(),
        E::Unsupported(_) => format!(
            "it uses a {format} variant (colour type, bit depth or compression) that is not read: save it as an 8- or 16-bit RGB {format}, PNG or JPEG"
        ),
        E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            format!("the {format} file ends too early (truncated)")
        }
        E::IoError(_) => format!("the {format} file cannot be read to its end (truncated or damaged)"),
        _ => format!("the {format} data is damaged (corrupt or truncated); the decoder could not read it"),
    }
}

fn describe_start(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(8)];
    if head.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("the text {:?}", String::from_utf8_lossy(head))
    } else {
        head.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
    }
}

/// Whether a JPEG's marker stream reaches its end-of-image marker. image 0.25 decodes a
/// truncated JPEG without complaint (padding the rest grey), so truncation is checked here:
/// walk the segments, skip each scan's entropy-coded data, and require an EOI.
pub fn jpeg_is_complete(b: &[u8]) -> bool {
    if b.len() < 4 || b[0] != 0xFF || b[1] != 0xD8 {
        return false;
    }
    let mut i = 2;
    while i + 1 < b.len() {
        if b[i] != 0xFF {
            return false;
        }
        let marker = b[i + 1];
        match marker {
            0xD9 => return true,
            0xFF => i += 1, // fill byte
            0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                if i + 3 >= b.len() {
                    return false;
                }
                let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
                i += 2 + len;
                if marker == 0xDA {
                    // Entropy-coded data: 0xFF is stuffed as FF 00; RSTn may appear.
                    while i + 1 < b.len() {
                        if b[i] == 0xFF && b[i + 1] != 0x00 && !(0xD0..=0xD7).contains(&b[i + 1]) {
                            break;
                        }
                        i += 1;
                    }
                    if i + 1 >= b.len() {
                        return false;
                    }
                }
            }
        }
    }
    false
}

#[derive(Default)]
struct ExifMeta {
    orientation: Option<u8>,
    captured_at: Option<String>,
    make: Option<String>,
    model: Option<String>,
}

/// Salvages what it can from EXIF; damage becomes a warning, never an error.
fn read_exif(mut raw: Vec<u8>, warnings: &mut Vec<Warning>) -> ExifMeta {
    if raw.starts_with(b"Exif\0\0") {
        raw.drain(..6);
    }
    let exif = match exif::Reader::new().continue_on_error(true).read_raw(raw) {
        Ok(e) => e,
        Err(e) => match e.distill_partial_result(|errs| {
            warnings.push(Warning::new(
                WarningCode::ExifDamaged,
                format!(
                    "EXIF is damaged ({} problems, e.g. {}); using what could be read",
                    errs.len(),
                    errs.first().map(|e| e.to_string()).unwrap_or_default()
                ),
            ))
        }) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(Warning::new(
                    WarningCode::ExifUnreadable,
                    format!("EXIF could not be read ({e}); capture date, camera and orientation unknown"),
                ));
                return ExifMeta::default();
            }
        },
    };
    let text = |tag| {
        exif.get_field(tag, exif::In::PRIMARY)
            .and_then(|f| match &f.value {
                exif::Value::Ascii(v) => v.first().map(|s| {
                    String::from_utf8_lossy(s).trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string()
                }),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    let orientation = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| match v {
            1..=8 => Some(v as u8),
            _ => {
                warnings.push(Warning::new(
                    WarningCode::ExifOrientation,
                    format!("EXIF orientation {v} is not 1..8; the photo is used as stored"),
                ));
                None
            }
        });
    let captured_at =
        [exif::Tag::DateTimeOriginal, exif::Tag::DateTimeDigitized, exif::Tag::DateTime].into_iter().find_map(|tag| {
            let s = text(tag)?;
            match iso_datetime(&s, text(exif::Tag::OffsetTimeOriginal).as_deref()) {
                Some(d) => Some(d),
                None => {
                    warnings.push(Warning::new(
                        WarningCode::ExifDate,
                        format!("EXIF date {s:?} is not a valid date; capture date unknown"),
                    ));
                    None
                }
            }
        });
    ExifMeta { orientation, captured_at, make: text(exif::Tag::Make), model: text(exif::Tag::Model) }
}

/// EXIF "YYYY:MM:DD HH:MM:SS" (+ optional "+HH:MM" offset) to ISO 8601; None if it is not a real date.
fn iso_datetime(s: &str, offset: Option<&str>) -> Option<String> {
    let dt = exif::DateTime::from_ascii(s.as_bytes()).ok()?;
    let valid = (1900..=2200).contains(&dt.year)
        && (1..=12).contains(&dt.month)
        && (1..=31).contains(&dt.day)
        && dt.hour < 24
        && dt.minute < 60
        && dt.second < 61;
    if !valid {
        return None;
    }
    let mut out =
        format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second);
    if let Some(o) =
        offset.filter(|o| o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && o.as_bytes()[3] == b':')
    {
        out.push_str(o);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 128]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
        out
    }

    #[test]
    fn complete_and_truncated_jpegs_are_told_apart() {
        let full = jpeg(64, 48);
        assert!(jpeg_is_complete(&full));
        for cut in [full.len() - 2, full.len() / 2, 200, 3] {
            assert!(!jpeg_is_complete(&full[..cut]), "cut at {cut}");
            let err = load_bytes(&full[..cut], "cut.jpg").unwrap_err();
            assert!(err.to_string().starts_with("cut.jpg: "), "{err}");
        }
        let mut trailing = full.clone();
        trailing.extend_from_slice(b"trailing junk");
        assert!(jpeg_is_complete(&trailing));
    }

    #[test]
    fn bad_bytes_give_named_errors() {
        let e = load_bytes(&[], "empty.jpg").unwrap_err().to_string();
        assert!(e.contains("empty.jpg") && e.contains("empty"), "{e}");
        let e = load_bytes(b"hello, this is text", "text.jpg").unwrap_err().to_string();
        assert!(e.contains("text.jpg") && e.contains("not a JPEG"), "{e}");
        let e = load_bytes(&jpeg(1, 1), "one.jpg").unwrap_err().to_string();
        assert!(e.contains("too small"), "{e}");
    }

    #[test]
    fn exif_dates_become_iso() {
        assert_eq!(iso_datetime("2024:03:05 14:02:09", None).as_deref(), Some("2024-03-05T14:02:09"));
        assert_eq!(iso_datetime("2024:03:05 14:02:09", Some("+02:00")).as_deref(), Some("2024-03-05T14:02:09+02:00"));
        assert_eq!(iso_datetime("0000:00:00 00:00:00", None), None);
        assert_eq!(iso_datetime("garbage", None), None);
    }

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
