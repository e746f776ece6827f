//! Decoding a photo file: its format from its first bytes, limits on size and memory, EXIF,
//! orientation, alpha and CMYK, and errors that say what is wrong with the file in words.

use std::io::{Cursor, Read};
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use super::exif::{ExifMeta, read_exif};
use super::{ImageInfo, Photo, Pixels, check_size, chroma};
use crate::error::{Error, Result};
use crate::warning::{Warning, WarningCode};

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
    #[cfg(feature = "heic")]
    if is_heif(bytes) {
        return super::heic::decode(bytes, source);
    }
    let (reader, format) = sniff(bytes, source)?;
    let mut warnings = Vec::new();
    let mut reader = reader;
    let mut limits = Limits::default();
    limits.max_alloc = Some(2 * 1024 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| Error::unreadable(source, decode_error(&e, format)))?;
    let (w, h) = decoder.dimensions();
    check_size(source, w as u64, h as u64)?;
    let meta = metadata(&mut decoder, format, bytes, &mut warnings);
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
        warnings.push(check_alpha(&img, source)?);
    }
    if format == "jpeg" && chroma::components(bytes) == Some(4) {
        warnings.push(Warning::new(
            WarningCode::CmykConverted,
            "a CMYK JPEG (a print file, not a camera's): converted to RGB without its colour profile, so colours and densities are approximate",
        ));
    }
    let (bit_depth, pixels) = to_pixels(&img, source)?;
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

/// The file's format from its first bytes ("jpeg", "png" or "tiff") and a reader for it; an
/// error naming what the file is when it is none of those, or a truncated JPEG.
fn sniff<'a>(bytes: &'a [u8], source: &str) -> Result<(ImageReader<Cursor<&'a [u8]>>, &'static str)> {
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
    Ok((reader, format))
}

/// The photo's EXIF metadata, or none with a warning when it cannot be read.
fn metadata(decoder: &mut impl ImageDecoder, format: &str, bytes: &[u8], warnings: &mut Vec<Warning>) -> ExifMeta {
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
    exif_bytes.map(|b| read_exif(b, warnings)).unwrap_or_default()
}

/// The warning for a photo with an alpha channel, which is ignored; an error when most of the
/// photo is fully transparent.
fn check_alpha(img: &DynamicImage, source: &str) -> Result<Warning> {
    let transparent = transparent_share(img);
    if transparent > MAX_TRANSPARENT {
        return Err(Error::unusable(
            source,
            format!(
                "{:.0} % of the photo is fully transparent (alpha 0): there is no scalp to measure there",
                100.0 * transparent
            ),
        ));
    }
    Ok(Warning::new(
        WarningCode::AlphaIgnored,
        format!(
            "the photo has an alpha channel ({:.1} % fully transparent); it is ignored and every pixel measured as stored",
            100.0 * transparent
        ),
    ))
}

/// The decoded image as RGB samples of its own depth (8, 16 or 32 bits, float clamped to
/// 0..1); an error for NaN or infinite float pixels.
fn to_pixels(img: &DynamicImage, source: &str) -> Result<(u8, Pixels)> {
    Ok(match img {
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
    if is_heif(bytes) {
        return Some(
            "a HEIC/HEIF photo (what phones save by default), which this build of smpscope does not read (it was built without the `heic` feature, which needs libheif): export it as JPEG (on an iPhone: Settings > Camera > Formats > Most Compatible), or build smpscope with `--features heic`",
        );
    }
    if bytes.get(4..8) == Some(b"ftyp") {
        let brand = bytes.get(8..12).unwrap_or_default();
        if brand == b"avif" || brand == b"avis" {
            return Some("an AVIF image, which is not read: export it as JPEG or PNG");
        }
    }
    None
}

/// Whether the bytes are a HEIC/HEIF file: an ISO media file whose brand is one of HEIF's.
fn is_heif(bytes: &[u8]) -> bool {
    let brand = bytes.get(8..12).unwrap_or_default();
    bytes.get(4..8) == Some(b"ftyp")
        && [&b"heic"[..], b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"].contains(&brand)
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
}
