//! Overlay: the photo with every measured dot drawn, for a person to check the detection.

use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_cross_mut, draw_hollow_circle_mut};

use crate::analysis::Analysis;
use crate::photo::Photo;

/// Draws each dot as a circle of its apparent size (FWHM, at least 3 px) with a cross at its
/// centre, in a colour that stands out on skin.
pub fn draw(photo: &Photo, analysis: &Analysis) -> RgbImage {
    let mut img = photo.to_rgb8();
    let inside = Rgb([0, 255, 90]);
    for d in &analysis.dots {
        let r = (0.5 * d.fwhm_px.max(d.diameter_px)).max(1.5) + 1.5;
        let (x, y) = (d.x.round() as i32, d.y.round() as i32);
        draw_hollow_circle_mut(&mut img, (x, y), r.round() as i32, inside);
        if r > 5.0 {
            draw_cross_mut(&mut img, inside, x, y);
        }
    }
    img
}
