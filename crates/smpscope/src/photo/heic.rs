//! HEIC/HEIF photos (what phones save by default), decoded by libheif: the optional `heic`
//! feature. libheif applies the file's own rotation and mirroring, so the photo comes upright
//! and its EXIF orientation is not applied again.

use libheif_rs::{ColorSpace, HeifContext, HeifError, ImageHandle, ItemId, LibHeif, RgbChroma};

use super::exif::{ExifMeta, read_exif};
use super::{ImageInfo, Photo, Pixels, check_size};
use crate::error::{Error, Result};
use crate::warning::{Warning, WarningCode};

/// Decodes the primary image of a HEIC/HEIF file to 8-bit RGB, with its EXIF date and camera.
pub(super) fn decode(bytes: &[u8], source: &str) -> Result<Photo> {
    let bad = |e: HeifError| Error::unreadable(source, format!("the HEIC/HEIF data cannot be decoded ({})", e.message));
    let ctx = HeifContext::read_from_bytes(bytes).map_err(bad)?;
    let handle = ctx.primary_image_handle().map_err(bad)?;
    check_size(source, handle.width() as u64, handle.height() as u64)?;
    let mut warnings = Vec::new();
    let meta = exif_of(&handle, &mut warnings);
    let image = LibHeif::new().decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), None).map_err(bad)?;
    let planes = image.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| Error::unreadable(source, "libheif gave no interleaved RGB plane for the HEIC image"))?;
    let (w, h) = (plane.width as usize, plane.height as usize);
    if plane.stride < 3 * w || plane.data.len() < plane.stride * h.saturating_sub(1) + 3 * w {
        return Err(Error::unreadable(source, "libheif gave an RGB plane smaller than the image"));
    }
    let data: Vec<u8> = (0..h).flat_map(|y| &plane.data[y * plane.stride..y * plane.stride + 3 * w]).copied().collect();
    if handle.has_alpha_channel() {
        warnings.push(Warning::new(
            WarningCode::AlphaIgnored,
            "the photo has an alpha channel; it is ignored and every pixel measured as stored",
        ));
    }
    Ok(Photo {
        info: ImageInfo {
            source: source.to_string(),
            format: "heic".into(),
            width: w as u32,
            height: h as u32,
            bit_depth: 8,
            colour_type: "rgb8".into(),
            orientation: 1,
            captured_at: meta.captured_at,
            camera_make: meta.make,
            camera_model: meta.model,
            chroma_subsampling: None,
        },
        pixels: Pixels::U8(data),
        resampled_luma: None,
        warnings,
    })
}

/// The EXIF of the image, when it has one: a HEIF Exif block starts with the 4-byte offset of
/// the TIFF header within it.
fn exif_of(handle: &ImageHandle, warnings: &mut Vec<Warning>) -> ExifMeta {
    let mut ids: [ItemId; 1] = [0];
    if handle.metadata_block_ids(&mut ids, b"Exif") == 0 {
        return ExifMeta::default();
    }
    let Ok(block) = handle.metadata(ids[0]) else {
        return ExifMeta::default();
    };
    let offset = block.get(..4).map_or(usize::MAX, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    match block.get(4usize.saturating_add(offset)..) {
        Some(tiff) if !tiff.is_empty() => read_exif(tiff.to_vec(), warnings),
        _ => {
            warnings.push(Warning::new(
                WarningCode::ExifUnreadable,
                "the HEIC file's EXIF block is damaged; capture date and camera unknown",
            ));
            ExifMeta::default()
        }
    }
}
