//! `overlay` and `overlay_png`: the photo with its measured dots drawn.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use smpscope::{Analysis, Photo, Pixels};

use crate::errors::{Failure, err, guarded};
use crate::input::hold;

/// Loads a photo (path or array) and the analysis to draw on it, scaled to `max_side`.
fn overlay_image(
    py: Python<'_>,
    photo: &Bound<'_, PyAny>,
    analysis_json: &str,
    max_side: Option<u32>,
) -> PyResult<image::RgbImage> {
    let mut analysis: Analysis = py
        .detach(|| serde_json::from_str(analysis_json))
        .map_err(|e| err(Failure::parameter(format!("not an analysis document: {e}"))))?;
    if let Some(m) = max_side
        && m < 64
    {
        return Err(err(Failure::parameter(format!("max_side must be at least 64 px, not {m}"))));
    }
    let held = hold(py, photo, "<array>")?;
    let input = held.input().map_err(err)?;
    py.detach(|| {
        guarded(input.label(), || {
            let photo = input.load()?;
            if (photo.info.width, photo.info.height) != (analysis.image.width, analysis.image.height) {
                return Err(Failure::parameter(format!(
                    "the photo is {}x{} px but the analysis is of a {}x{} px photo",
                    photo.info.width, photo.info.height, analysis.image.width, analysis.image.height
                )));
            }
            let long = photo.width().max(photo.height()) as f64;
            let k = max_side.map_or(1.0, |m| (m as f64 / long).min(1.0));
            if k >= 1.0 {
                return Ok(smpscope::overlay::draw(&photo, &analysis));
            }
            // A thumbnail: shrink the photo, then draw the dots at the new size so that every
            // dot stays visible.
            let (w, h) = (
                ((photo.width() as f64 * k).round() as u32).max(16),
                ((photo.height() as f64 * k).round() as u32).max(16),
            );
            let small = image::imageops::resize(&photo.to_rgb8(), w, h, image::imageops::FilterType::Triangle);
            let small = Photo::from_pixels(input.label(), w as usize, h as usize, 3, Pixels::U8(small.into_raw()))?;
            let (kx, ky) = (w as f64 / photo.width() as f64, h as f64 / photo.height() as f64);
            for d in &mut analysis.dots {
                d.x = (d.x + 0.5) * kx - 0.5;
                d.y = (d.y + 0.5) * ky - 0.5;
                d.fwhm_px *= kx;
                d.diameter_px *= kx;
            }
            Ok(smpscope::overlay::draw(&small, &analysis))
        })
    })
    .map_err(err)
}

/// The photo with the dots of `analysis_json` drawn, as an HxWx3 uint8 array (shrunk so that
/// its longer side is at most `max_side` px, when given).
#[pyfunction]
#[pyo3(signature = (photo, analysis_json, max_side=None))]
pub(crate) fn overlay<'py>(
    py: Python<'py>,
    photo: &Bound<'py, PyAny>,
    analysis_json: &str,
    max_side: Option<u32>,
) -> PyResult<Bound<'py, PyAny>> {
    let img = overlay_image(py, photo, analysis_json, max_side)?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let flat = numpy::PyArray1::from_vec(py, img.into_raw());
    use numpy::PyArrayMethods;
    Ok(flat.reshape([h, w, 3])?.into_any())
}

/// The same as a PNG file's bytes (for notebooks).
#[pyfunction]
#[pyo3(signature = (photo, analysis_json, max_side=None))]
pub(crate) fn overlay_png<'py>(
    py: Python<'py>,
    photo: &Bound<'py, PyAny>,
    analysis_json: &str,
    max_side: Option<u32>,
) -> PyResult<Bound<'py, PyBytes>> {
    let img = overlay_image(py, photo, analysis_json, max_side)?;
    let bytes = py.detach(|| {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).map(|_| out.into_inner())
    });
    let bytes = bytes.map_err(|e| {
        err(Failure { kind: "internal", message: format!("cannot encode the overlay as PNG: {e}"), source: None })
    })?;
    Ok(PyBytes::new(py, &bytes))
}
