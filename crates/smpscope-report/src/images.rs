//! The report's pictures: the photo downscaled with its dots drawn, and 1:1 crops of the same
//! registered region of every visit. Every picture is re-encoded from pixels, so no EXIF or GPS
//! data of the photo reaches the report, and embedded as a `data:` URI.

use base64::Engine as _;
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, Rgb, RgbImage};
use imageproc::drawing::draw_hollow_circle_mut;
use smpscope::Analysis;
use smpscope::track::register::Similarity;

use crate::ReportError;

/// Colour of the circles drawn around detected dots: stands out on skin.
const DOT_COLOUR: Rgb<u8> = Rgb([0, 255, 90]);

/// The photo scaled so that its longer side is at most `max_side` px, with each dot of
/// `analysis` drawn as a circle of its apparent size (at least 2 px in radius).
pub fn photo_with_dots(rgb: &RgbImage, analysis: &Analysis, max_side: u32) -> RgbImage {
    let (w, h) = rgb.dimensions();
    let factor = (f64::from(max_side) / f64::from(w.max(h))).min(1.0);
    let mut small = if factor < 1.0 {
        let (sw, sh) =
            ((f64::from(w) * factor).round().max(1.0) as u32, (f64::from(h) * factor).round().max(1.0) as u32);
        // Area averaging: fast on 12 MP photos, and free of aliasing when shrinking.
        image::imageops::thumbnail(rgb, sw, sh)
    } else {
        rgb.clone()
    };
    for d in &analysis.dots {
        let r = (0.5 * d.fwhm_px.max(d.diameter_px) * factor + 1.5).max(2.0);
        let centre = ((d.x * factor).round() as i32, (d.y * factor).round() as i32);
        draw_hollow_circle_mut(&mut small, centre, r.round() as i32, DOT_COLOUR);
    }
    small
}

/// A square of `side` px of the first visit's pixel grid centred on `centre` (px of the first
/// visit), sampled from a visit whose registration `to_first` carries its px onto the first
/// visit's (identity for the first visit). Bilinear; outside the photo is mid-grey.
pub fn registered_crop(rgb: &RgbImage, to_first: &Similarity, centre: [f64; 2], side: u32) -> RgbImage {
    let back = to_first.inverse();
    let origin = [centre[0] - f64::from(side) / 2.0, centre[1] - f64::from(side) / 2.0];
    RgbImage::from_fn(side, side, |u, v| {
        let p = back.apply([origin[0] + f64::from(u), origin[1] + f64::from(v)]);
        bilinear(rgb, p).unwrap_or(Rgb([128, 128, 128]))
    })
}

/// The colour at `p` (x, y in px, pixel centres at integers); None outside the photo.
fn bilinear(rgb: &RgbImage, p: [f64; 2]) -> Option<Rgb<u8>> {
    let (w, h) = rgb.dimensions();
    if !(p[0] >= 0.0 && p[1] >= 0.0 && p[0] <= f64::from(w - 1) && p[1] <= f64::from(h - 1)) {
        return None;
    }
    let (x0, y0) = (p[0].floor() as u32, p[1].floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (p[0] - f64::from(x0), p[1] - f64::from(y0));
    let at = |x, y, c: usize| f64::from(rgb.get_pixel(x, y)[c]);
    Some(Rgb(std::array::from_fn(|c| {
        let top = at(x0, y0, c) * (1.0 - fx) + at(x1, y0, c) * fx;
        let bottom = at(x0, y1, c) * (1.0 - fx) + at(x1, y1, c) * fx;
        (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
    })))
}

/// A `data:image/jpeg;base64,...` URI of `img` at `quality` (1-100); no metadata is written.
pub fn jpeg_data_uri(img: &RgbImage, quality: u8) -> Result<String, ReportError> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .map_err(|e| ReportError::Encode(e.to_string()))?;
    Ok(data_uri("image/jpeg", &bytes))
}

/// A `data:image/png;base64,...` URI of `img` (lossless, for the 1:1 crops); no metadata.
pub fn png_data_uri(img: &RgbImage) -> Result<String, ReportError> {
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .map_err(|e| ReportError::Encode(e.to_string()))?;
    Ok(data_uri("image/png", &bytes))
}

/// `data:` URI of `bytes` of media type `mime`.
pub fn data_uri(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_visit_crop_is_the_photo_itself() {
        let rgb = RgbImage::from_fn(40, 30, |x, y| Rgb([x as u8 * 5, y as u8 * 7, 9]));
        let crop = registered_crop(&rgb, &Similarity::IDENTITY, [20.0, 15.0], 10);
        assert_eq!(crop.get_pixel(0, 0), rgb.get_pixel(15, 10));
        assert_eq!(crop.get_pixel(9, 9), rgb.get_pixel(24, 19));
    }

    #[test]
    fn a_shifted_visit_is_sampled_where_it_lies() {
        let rgb = RgbImage::from_fn(40, 30, |x, y| Rgb([x as u8 * 5, y as u8 * 7, 9]));
        // This visit's px + (3, 2) = the first visit's px.
        let shift = Similarity { a: 1.0, b: 0.0, tx: 3.0, ty: 2.0 };
        let crop = registered_crop(&rgb, &shift, [20.0, 15.0], 10);
        assert_eq!(crop.get_pixel(0, 0), rgb.get_pixel(12, 8));
    }

    #[test]
    fn encoded_images_carry_no_exif() {
        let rgb = RgbImage::from_pixel(8, 8, Rgb([200, 150, 120]));
        for uri in [jpeg_data_uri(&rgb, 85).unwrap(), png_data_uri(&rgb).unwrap()] {
            let b64 = uri.split_once(',').unwrap().1;
            let bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
            assert!(!bytes.windows(4).any(|w| w == b"Exif"), "{}", &uri[..20]);
            assert!(!bytes.windows(4).any(|w| w == b"eXIf"));
        }
    }
}
