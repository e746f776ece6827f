//! The calibration marker rendered into a synthetic photo: the printed card of
//! `smpscope::marker::layout` seen by a pinhole camera at a known scale, rotation and tilt (a
//! homography), under the scene's light and white balance, then blurred, noised and encoded
//! with the rest of the photo. The truth says where it lies and what it should read.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smpscope::marker::homography::{self, Homography};
use smpscope::marker::layout::{self, CARD_MM};

use crate::region;
use crate::render::{self, Scene};
use crate::scene::SceneSpec;
use crate::skin::Skin;

/// How the marker lies in the photo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarkerSpec {
    /// Centre of the card as a fraction of the frame's width (0 left edge, 1 right edge).
    pub x: f64,
    /// Centre of the card as a fraction of the frame's height.
    pub y: f64,
    /// Turn of the card in its own plane, degrees (positive from +x towards +y).
    pub rotation_deg: f64,
    /// Angle between the card's normal and the optical axis, degrees.
    pub tilt_deg: f64,
    /// Direction in the card's plane of the axis it is tilted about, degrees.
    pub tilt_axis_deg: f64,
    /// Focal length as a multiple of the frame's diagonal (1 = a 43 mm lens in 35 mm terms).
    pub focal: f64,
    /// Printed size over the nominal size (1 = printed at 100 %).
    pub print_scale: f64,
    /// Reflectance of the paper, linear.
    pub paper: f64,
    /// Hairs lying over the card: [x0, y0, x1, y1, width] in card mm.
    pub hairs: Vec<[f64; 5]>,
}

impl Default for MarkerSpec {
    /// A card at the right-hand side of the frame, turned 12 degrees, seen head-on.
    fn default() -> Self {
        MarkerSpec {
            x: 0.8,
            y: 0.5,
            rotation_deg: 12.0,
            tilt_deg: 0.0,
            tilt_axis_deg: 30.0,
            focal: 1.5,
            print_scale: 1.0,
            paper: 0.85,
            hairs: Vec::new(),
        }
    }
}

/// What the marker in a photo should read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkerTruth {
    /// Card mm -> upright px.
    pub homography: Homography,
    /// px per mm at the card's centre as printed at 100 % (the scalp's scale, `px_per_mm`).
    pub px_per_mm: f64,
    /// px per mm at the card's centre as actually printed (differs with `print_scale`).
    pub printed_px_per_mm: f64,
    /// Angle between the card's normal and the optical axis, degrees.
    pub tilt_deg: f64,
    /// Focal length, px.
    pub focal_px: f64,
    /// The camera's blur, Gaussian sigma, px and um at the card.
    pub camera_blur_px: f64,
    /// The same in um at the card's scale as printed at 100 %.
    pub camera_blur_um: f64,
    /// White-balance gains (green 1) that make a neutral neutral again.
    pub gains: [f64; 3],
    /// The card's corners in px (its outline, top-left first, clockwise on screen).
    pub card_px: [[f64; 2]; 4],
}

/// The homography of the card for `spec` and `m`; the card's centre lands at (x, y) of the frame
/// and, printed at 100 %, has the scene's px_per_mm there.
pub fn card_homography(spec: &SceneSpec, m: &MarkerSpec) -> Homography {
    let (w, h) = (spec.width as f64, spec.height as f64);
    let f = m.focal * w.hypot(h);
    let c = [0.5 * (w - 1.0), 0.5 * (h - 1.0)];
    let at = [m.x * w - 0.5, m.y * h - 0.5];
    let (sr, cr) = m.rotation_deg.to_radians().sin_cos();
    let (st, ct) = m.tilt_deg.to_radians().sin_cos();
    let (sa, ca) = m.tilt_axis_deg.to_radians().sin_cos();
    // Rodrigues: turn by the tilt about the in-plane axis (ca, sa, 0), after the in-plane turn.
    let tilt = |p: [f64; 3]| -> [f64; 3] {
        let k = [ca, sa, 0.0];
        let kxp = [k[1] * p[2] - k[2] * p[1], k[2] * p[0] - k[0] * p[2], k[0] * p[1] - k[1] * p[0]];
        let kdp = k[0] * p[0] + k[1] * p[1];
        std::array::from_fn(|i| p[i] * ct + kxp[i] * st + k[i] * kdp * (1.0 - ct))
    };
    let (r1, r2) = (tilt([cr, sr, 0.0]), tilt([-sr, cr, 0.0]));
    let build = |z: f64, s: f64| -> Homography {
        let t = [z * (at[0] - c[0]) / f, z * (at[1] - c[1]) / f, z];
        let o = std::array::from_fn::<f64, 3, _>(|i| t[i] - 0.5 * CARD_MM * s * (r1[i] + r2[i]));
        let k = |p: [f64; 3]| [f * p[0] + c[0] * p[2], f * p[1] + c[1] * p[2], p[2]];
        let (c1, c2, c3) = (k(r1.map(|v| v * s)), k(r2.map(|v| v * s)), k(o));
        let hm: Homography = std::array::from_fn(|i| [c1[i], c2[i], c3[i]]);
        hm.map(|row| row.map(|v| v / hm[2][2]))
    };
    let unit = homography::px_per_mm_at(&build(1.0, 1.0), 0.5 * CARD_MM, 0.5 * CARD_MM).unwrap_or(1.0);
    build(unit / spec.px_per_mm, m.print_scale)
}

/// Lowers the spec's exposure until the paper, lit at the card, stays under 0.95 of the range
/// (the capture protocol: expose for the card's white).
pub fn exposed_for_card(spec: &SceneSpec, m: &MarkerSpec, h: &Homography) -> SceneSpec {
    let mut s = spec.clone();
    for _ in 0..6 {
        let skin = Skin::new(&s);
        let top = [[0.0, 0.0], [CARD_MM, 0.0], [CARD_MM, CARD_MM], [0.0, CARD_MM], [8.0, 8.0]]
            .iter()
            .filter_map(|p| homography::apply(h, p[0], p[1]))
            .map(|[x, y]| skin.lighting(x, y).into_iter().fold(0.0, f64::max))
            .fold(0.0, f64::max);
        if m.paper * top <= 0.95 {
            break;
        }
        s.exposure *= 0.95 / (m.paper * top) * 0.98;
    }
    s
}

/// Renders the scene with the marker on it: the photo, its truth (dots under the card left
/// out, the card's area taken off the region), and the marker's truth. The spec's exposure is
/// lowered where the card's white would clip ([`exposed_for_card`]).
pub fn render_with_marker(spec: &SceneSpec, m: &MarkerSpec) -> (Scene, MarkerTruth, SceneSpec) {
    let h = card_homography(spec, m);
    let spec = exposed_for_card(spec, m, &h);
    let l = render::layout(&spec);
    let mut linear = render::compose(&spec, &l);
    paint(&spec, m, &h, &l.skin, &mut linear);
    let upright = render::camera(&spec, linear);
    let (mut truth, _) = render::truth(&spec, &l);
    let card: [[f64; 2]; 4] = [[0.0, 0.0], [CARD_MM, 0.0], [CARD_MM, CARD_MM], [0.0, CARD_MM]]
        .map(|[u, v]| homography::apply(&h, u, v).unwrap());
    truth.dots.retain(|d| !region::contains(&card, d.x, d.y));
    for (i, d) in truth.dots.iter_mut().enumerate() {
        d.id = i;
    }
    let card_area = card_overlap(&card, truth.region.as_deref(), spec.width, spec.height);
    let ppm2 = spec.px_per_mm * spec.px_per_mm;
    truth.region_area_cm2 = (truth.region_area_cm2 - card_area / ppm2 / 100.0).max(0.0);
    let counted = truth.dots.iter().filter(|d| d.in_region).count();
    truth.density_per_cm2 = if truth.region_area_cm2 > 0.0 { counted as f64 / truth.region_area_cm2 } else { 0.0 };
    let wb = spec.white_balance;
    let f = m.focal * (spec.width as f64).hypot(spec.height as f64);
    let mt = MarkerTruth {
        homography: h,
        px_per_mm: spec.px_per_mm,
        printed_px_per_mm: homography::px_per_mm_at(&h, 8.0, 8.0).unwrap_or(f64::NAN),
        tilt_deg: m.tilt_deg,
        focal_px: f,
        camera_blur_px: spec.camera_blur_px,
        camera_blur_um: spec.camera_blur_px / spec.px_per_mm * 1000.0,
        gains: [wb[1] / wb[0], 1.0, wb[1] / wb[2]],
        card_px: card,
    };
    (Scene { upright, truth }, mt, spec)
}

/// Area of the card inside the frame and the treated region, px^2 (on a 0.5 px grid).
fn card_overlap(card: &[[f64; 2]; 4], region: Option<&[[f64; 2]]>, width: u32, height: u32) -> f64 {
    let (x0, x1) = card.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p[0]), a.1.max(p[0])));
    let (y0, y1) = card.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p[1]), a.1.max(p[1])));
    let (x0, x1) = (x0.max(-0.5), x1.min(width as f64 - 0.5));
    let (y0, y1) = (y0.max(-0.5), y1.min(height as f64 - 0.5));
    let step = 0.5;
    let mut n = 0usize;
    let mut y = y0 + 0.5 * step;
    while y < y1 {
        let mut x = x0 + 0.5 * step;
        while x < x1 {
            n += usize::from(region::contains(card, x, y) && region.is_none_or(|r| region::contains(r, x, y)));
            x += step;
        }
        y += step;
    }
    n as f64 * step * step
}

/// Paints the card over the linear image: each pixel's area averaged (8 x 8 points where the
/// print or the card's edge crosses it), lit by the scene's light at the pixel.
fn paint(spec: &SceneSpec, m: &MarkerSpec, h: &Homography, skin: &Skin, img: &mut [[f32; 3]]) {
    let Some(inv) = homography::invert(h) else { return };
    let els = layout::elements();
    let (w, ht) = (spec.width as usize, spec.height as usize);
    let card =
        [[0.0, 0.0], [CARD_MM, 0.0], [CARD_MM, CARD_MM], [0.0, CARD_MM]].map(|[u, v]| homography::apply(h, u, v));
    let Some(card) = card.into_iter().collect::<Option<Vec<_>>>() else { return };
    let x0 = card.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min).floor().max(0.0) as usize;
    let x1 = (card.iter().map(|p| p[0]).fold(f64::NEG_INFINITY, f64::max).ceil() as usize + 1).min(w);
    let y0 = card.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min).floor().max(0.0) as usize;
    let y1 = (card.iter().map(|p| p[1]).fold(f64::NEG_INFINITY, f64::max).ceil() as usize + 1).min(ht);
    let at = |x: f64, y: f64| -> Option<[f64; 3]> {
        let [u, v] = homography::apply(&inv, x, y)?;
        if m.hairs.iter().any(|hr| on_hair(hr, u, v)) {
            return Some([0.05, 0.04, 0.03]);
        }
        layout::reflectance_at(&els, u, v).map(|r| r.map(|c| c * m.paper))
    };
    img[y0 * w..y1 * w].par_chunks_mut(w).enumerate().for_each(|(j, row)| {
        let y = (y0 + j) as f64;
        for (x, o) in row.iter_mut().enumerate().take(x1).skip(x0) {
            let Some((r, inside)) = pixel_area(&at, x as f64, y) else { continue };
            let light = skin.lighting(x as f64, y);
            for c in 0..3 {
                o[c] = (inside * light[c] * r[c] + (1.0 - inside) * o[c] as f64) as f32;
            }
        }
    });
}

/// Mean reflectance over the pixel (x, y) and the share of it on the card: its corners when
/// they agree, else 8 x 8 points; None off the card.
fn pixel_area(at: &impl Fn(f64, f64) -> Option<[f64; 3]>, x: f64, y: f64) -> Option<([f64; 3], f64)> {
    let corners = [at(x - 0.5, y - 0.5), at(x + 0.5, y - 0.5), at(x - 0.5, y + 0.5), at(x + 0.5, y + 0.5)];
    if corners.iter().all(|c| *c == corners[0]) {
        return corners[0].map(|r| (r, 1.0));
    }
    let mut sum = [0.0; 3];
    let mut n = 0usize;
    for k in 0..64 {
        let (dx, dy) = (((k % 8) as f64 + 0.5) / 8.0 - 0.5, ((k / 8) as f64 + 0.5) / 8.0 - 0.5);
        if let Some(r) = at(x + dx, y + dy) {
            for c in 0..3 {
                sum[c] += r[c];
            }
            n += 1;
        }
    }
    (n > 0).then(|| (sum.map(|s| s / n as f64), n as f64 / 64.0))
}

fn on_hair(h: &[f64; 5], u: f64, v: f64) -> bool {
    let (dx, dy) = (h[2] - h[0], h[3] - h[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((u - h[0]) * dx + (v - h[1]) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    (u - h[0] - t * dx).hypot(v - h[1] - t * dy) <= 0.5 * h[4]
}
