//! JPEG chroma subsampling. Most cameras store colour at half the resolution of brightness
//! (4:2:0 or 4:2:2), and the decoder interpolates it back: colour differences are blurred over
//! about 2 px while brightness stays sharp. A dot's colour fitted with its sharp geometry is then
//! pulled towards the skin by an amount that depends on the dot's size in px and the file, a bias
//! that differs from visit to visit. So colour is fitted on a copy of the photo whose brightness
//! has been through the same path as its chroma (block averages, then libjpeg's interpolation),
//! so that every channel has the same, known blur ([`CHROMA_BLUR_VARIANCE`]).

/// Variance, px^2 per subsampled axis, of chroma's path: a 2-px block average followed by
/// libjpeg's "fancy" interpolation (3/4 of the nearer sample, 1/4 of the farther) has weights
/// 1/8, 1/8, 3/8, 3/8 at offsets -2..1 around each pixel (or mirrored): variance 1 px^2.
pub const CHROMA_BLUR_VARIANCE: f64 = 1.0;

/// The usual name of chroma subsampling by `factors` (horizontal, vertical): "4:2:0" for (2, 2).
pub fn name(factors: (usize, usize)) -> String {
    match factors {
        (2, 2) => "4:2:0".into(),
        (2, 1) => "4:2:2".into(),
        (1, 2) => "4:4:0".into(),
        (4, 1) => "4:1:1".into(),
        (h, v) => format!("{h}x{v}"),
    }
}

/// The frame header (SOFn) of a JPEG: precision, height (2), width (2), number of components,
/// then 3 bytes per component; None when not found before the first scan.
fn frame_header(b: &[u8]) -> Option<&[u8]> {
    let mut i = 2;
    while i + 3 < b.len() && b[i] == 0xFF {
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        if matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) {
            return b.get(i + 4..i + 2 + len);
        }
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        i += 2 + len;
    }
    None
}

/// The number of colour components of a JPEG (1 grey, 3 YCbCr or RGB, 4 CMYK), from its frame
/// header.
pub fn components(b: &[u8]) -> Option<u8> {
    frame_header(b)?.get(5).copied()
}

/// The factors (horizontal, vertical) by which a JPEG's chroma is coarser than its luma, from the
/// frame header; None when not subsampled, not a 3-component YCbCr-like JPEG, or not found.
pub fn subsampling(b: &[u8]) -> Option<(usize, usize)> {
    let seg = frame_header(b)?;
    if seg.len() < 6 + 9 || seg[5] != 3 {
        return None;
    }
    let factors: Vec<(usize, usize)> =
        (0..3).map(|k| ((seg[7 + 3 * k] >> 4) as usize, (seg[7 + 3 * k] & 15) as usize)).collect();
    let (luma, cb, cr) = (factors[0], factors[1], factors[2]);
    let coarse = (luma.0 / cb.0.max(1), luma.1 / cb.1.max(1));
    (cb == cr && cb == (1, 1) && coarse != (1, 1) && coarse.0 <= 2 && coarse.1 <= 2).then_some(coarse)
}

/// JPEG's luma (BT.601 on the encoded values) of an 8-bit sRGB pixel.
#[inline]
pub fn jpeg_luma(p: &[u8]) -> f32 {
    0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
}

/// One axis of chroma's path: averages of `f` neighbours (1 or 2), then interpolated back with
/// the triangle filter. `plane` is `width` x `height`, row-major; `along_x` picks the axis.
fn resample_axis(plane: &[f32], width: usize, height: usize, along_x: bool) -> Vec<f32> {
    let (n, lines) = if along_x { (width, height) } else { (height, width) };
    let at = |line: usize, k: usize| if along_x { line * width + k } else { k * width + line };
    let m = n.div_ceil(2);
    let mut out = vec![0.0; plane.len()];
    let mut coarse = vec![0.0f32; m];
    for line in 0..lines {
        for (j, c) in coarse.iter_mut().enumerate() {
            let (a, b) = (plane[at(line, 2 * j)], plane[at(line, (2 * j + 1).min(n - 1))]);
            *c = 0.5 * (a + b);
        }
        for k in 0..n {
            let j = k / 2;
            let other = if k % 2 == 0 { j.saturating_sub(1) } else { (j + 1).min(m - 1) };
            out[at(line, k)] = 0.75 * coarse[j] + 0.25 * coarse[other];
        }
    }
    out
}

/// `plane` through chroma's path with factors `f` (see [`subsampling`]).
pub fn through_chroma_path(plane: &[f32], width: usize, height: usize, f: (usize, usize)) -> Vec<f32> {
    let mut p = plane.to_vec();
    if f.0 == 2 {
        p = resample_axis(&p, width, height, true);
    }
    if f.1 == 2 {
        p = resample_axis(&p, width, height, false);
    }
    p
}

/// The luma of 8-bit RGB pixels after chroma's path, rounded to 8 bits.
pub fn resampled_luma(rgb: &[u8], width: usize, height: usize, f: (usize, usize)) -> Vec<u8> {
    let luma: Vec<f32> = rgb.chunks_exact(3).map(jpeg_luma).collect();
    through_chroma_path(&luma, width, height, f).into_iter().map(|v| v.round().clamp(0.0, 255.0) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factors_of(name: &str) -> Option<(usize, usize)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/real/camera/");
        subsampling(&std::fs::read(format!("{path}{name}")).unwrap())
    }

    #[test]
    fn camera_files_tell_their_subsampling() {
        assert_eq!(factors_of("exifpy__Fujifilm_FinePix_E500.jpg"), Some((2, 2)));
        assert_eq!(factors_of("exifpy__Fujifilm_FinePix6900ZOOM.jpg"), Some((2, 1)));
        assert_eq!(factors_of("exifpy__Canon_40D.jpg"), None);
        assert_eq!((name((2, 2)), name((2, 1))), ("4:2:0".to_string(), "4:2:2".to_string()));
    }

    #[test]
    fn a_step_goes_through_chroma_path_like_libjpeg() {
        // A step between columns 3 and 4 of an 8 x 1 row: blocks (0,1) (2,3) (4,5) (6,7).
        let row = [0.0, 0.0, 0.0, 0.0, 8.0, 8.0, 8.0, 8.0];
        let out = through_chroma_path(&row, 8, 1, (2, 1));
        assert_eq!(out, vec![0.0, 0.0, 0.0, 2.0, 6.0, 8.0, 8.0, 8.0]);
        // Vertical subsampling leaves a row alone; a uniform plane stays uniform.
        assert_eq!(through_chroma_path(&row, 8, 1, (1, 2)), row.to_vec());
        assert!(through_chroma_path(&[5.0; 35], 7, 5, (2, 2)).iter().all(|&v| (v - 5.0).abs() < 1e-6));
    }

    #[test]
    fn not_subsampled_or_not_a_jpeg() {
        assert_eq!(subsampling(b"\x89PNG\r\n"), None);
        assert_eq!(subsampling(&[0xFF, 0xD8, 0xFF]), None);
        let grey = image::GrayImage::from_fn(32, 32, |x, _| image::Luma([(x * 8) as u8]));
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&grey).unwrap();
        assert_eq!(subsampling(&bytes), None);
    }
}
