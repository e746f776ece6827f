//! Colour: the ink's density per channel, fitted with each dot's shape held.

use super::Inputs;
use super::blur::photo_blur;
use super::fit::{Bounds, Free, GroupFit, Window, fit_group};

/// Per-channel plateau OD of each dot: the same model fitted to each channel's density with
/// the geometry fixed, on the photo's colour reading
/// ([`Photo::colour_log_rgb`](crate::photo::Photo::colour_log_rgb): where a JPEG's chroma was
/// subsampled, every channel carries chroma's blur, and so does the model, on sRGB-encoded
/// values as the JPEG applies it, from the skin's level in that channel).
pub(super) fn channel_amplitudes(inp: &Inputs, win: &Window, fit: &GroupFit, bounds: &[Bounds]) -> Vec<[f64; 3]> {
    let blur = photo_blur(inp);
    let (cx, cy) = ((win.x0 + win.width / 2) as f32, (win.y0 + win.height / 2) as f32);
    let skin = inp.background.log_rgb_at(cx, cy).map(|l| 10f64.powf(l as f64));
    let density: Vec<[f32; 3]> = (0..win.od.len())
        .map(|i| {
            let (x, y) = (win.x0 + i % win.width, win.y0 + i / win.width);
            inp.background.density_rgb(inp.photo.colour_log_rgb(x, y), x as f32, y as f32)
        })
        .collect();
    let mut out = vec![[0.0; 3]; fit.dots.len()];
    for c in 0..3 {
        let mut wc = win.clone();
        for (v, d) in wc.od.iter_mut().zip(&density) {
            *v = d[c] as f64;
        }
        let blur = blur.clone().then_encoded(inp.photo.colour_blur_variance(), skin[c]);
        let f = fit_group(&wc, &fit.dots, 0.0, inp.noise, bounds, &blur, Free::AmplitudesOnly);
        for (o, d) in out.iter_mut().zip(&f.dots) {
            o[c] = d.amplitude;
        }
    }
    out
}
