//! The calibration marker's geometry, in mm on the printed card: the one definition that the
//! detector, the synthetic generator and the files in `fixtures/calibration/` all read.
//!
//! Card coordinates: origin at the card's top-left corner, x to the right, y down, in mm.
//! The card is [`CARD_MM`] square, white (the paper). On it: a black square frame, an
//! orientation mark in one inner corner, a square turned by [`SLANT_DEG`] whose edges give the
//! camera's blur, three colour patches, a 10 mm ruler and four neutral grey patches.

use serde::Serialize;

/// Side of the square card, mm.
pub const CARD_MM: f64 = 16.0;
/// The frame's outer square, from this to `CARD_MM - FRAME_OUT` on both axes, mm.
pub const FRAME_OUT: f64 = 0.8;
/// The frame's inner square (the white interior), from this to `CARD_MM - FRAME_IN`, mm.
pub const FRAME_IN: f64 = 2.0;
/// Angle of the slanted square's edges to the card's axes, degrees (ISO 12233 uses about 5).
pub const SLANT_DEG: f64 = 5.0;
/// Centre of the slanted square, mm.
pub const SLANT_CENTRE: [f64; 2] = [10.2, 5.0];
/// Side of the slanted square, mm.
pub const SLANT_SIDE: f64 = 4.0;
/// Reflectance of the black ink relative to the paper, linear (toner on office paper).
pub const BLACK_REFLECTANCE: f64 = 0.04;

/// What an element is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The black square frame: its outer and inner edges give the corners and the homography.
    Frame,
    /// The black square in the top-left inner corner: which way up the marker lies.
    Orientation,
    /// The square turned by [`SLANT_DEG`]: its edges give the camera's blur.
    SlantedEdge,
    /// A colour patch (for a visual check of the colour).
    Colour,
    /// A neutral grey patch: white balance and exposure.
    Grey,
    /// The 10 mm ruler with 1 mm ticks: to check the print with a ruler or a loupe.
    Ruler,
}

/// One printed element: filled polygons (even-odd rule) in one colour.
#[derive(Debug, Clone, Serialize)]
pub struct Element {
    /// A short name, unique on the card (e.g. `grey_2`).
    pub name: &'static str,
    /// What the element is for.
    pub role: Role,
    /// The sRGB colour to print, 0-255 per channel.
    pub srgb: [u8; 3],
    /// Nominal linear reflectance per channel relative to the paper (1 = paper white); black
    /// ink is [`BLACK_REFLECTANCE`], not 0.
    pub reflectance: [f64; 3],
    /// Closed polygons, vertices in mm; a point is inside when it is inside an odd number.
    pub polygons: Vec<Vec<[f64; 2]>>,
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
    vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
}

/// Linear reflectance of an sRGB print colour, black ink floored at [`BLACK_REFLECTANCE`].
fn reflectance(srgb: [u8; 3]) -> [f64; 3] {
    srgb.map(|c| crate::colour::srgb_to_linear(c as f64 / 255.0).max(BLACK_REFLECTANCE))
}

fn element(name: &'static str, role: Role, srgb: [u8; 3], polygons: Vec<Vec<[f64; 2]>>) -> Element {
    Element { name, role, srgb, reflectance: reflectance(srgb), polygons }
}

/// The four corners of the slanted square, mm, clockwise from its top-left.
pub fn slanted_square() -> [[f64; 2]; 4] {
    let (s, c) = SLANT_DEG.to_radians().sin_cos();
    let h = 0.5 * SLANT_SIDE;
    [[-h, -h], [h, -h], [h, h], [-h, h]]
        .map(|[u, v]| [SLANT_CENTRE[0] + c * u - s * v, SLANT_CENTRE[1] + s * u + c * v])
}

/// The grey patches: (name, sRGB grey level, rectangle [x0, y0, x1, y1] in mm), light to dark.
pub const GREYS: [(&str, u8, [f64; 4]); 4] = [
    ("grey_1", 200, [2.8, 9.6, 5.1, 12.6]),
    ("grey_2", 150, [5.5, 9.6, 7.8, 12.6]),
    ("grey_3", 100, [8.2, 9.6, 10.5, 12.6]),
    ("grey_4", 60, [10.9, 9.6, 13.2, 12.6]),
];

/// The orientation mark's rectangle [x0, y0, x1, y1], mm.
pub const ORIENTATION: [f64; 4] = [2.8, 2.8, 4.4, 4.4];

/// Every element of the card, in paint order (later ones on top), the paper not included.
pub fn elements() -> Vec<Element> {
    let (o, i) = (FRAME_OUT, FRAME_IN);
    let (e, f) = (CARD_MM - o, CARD_MM - i);
    let mut out = vec![
        element("frame", Role::Frame, [0, 0, 0], vec![rect(o, o, e, e), rect(i, i, f, f)]),
        element(
            "orientation",
            Role::Orientation,
            [0, 0, 0],
            vec![rect(ORIENTATION[0], ORIENTATION[1], ORIENTATION[2], ORIENTATION[3])],
        ),
        element("red", Role::Colour, [200, 40, 40], vec![rect(5.0, 2.8, 6.6, 4.4)]),
        element("green", Role::Colour, [40, 160, 60], vec![rect(2.8, 5.0, 4.4, 6.6)]),
        element("blue", Role::Colour, [40, 60, 190], vec![rect(5.0, 5.0, 6.6, 6.6)]),
        element("slanted_edge", Role::SlantedEdge, [0, 0, 0], vec![slanted_square().to_vec()]),
    ];
    // The ruler: a 10 mm line 0.12 mm wide at y = 8.6, ticks every mm (0.7 mm at 0, 5, 10).
    let (x0, y, w) = (3.0, 8.6, 0.12);
    let mut ruler = vec![rect(x0 - 0.5 * w, y - 0.5 * w, x0 + 10.0 + 0.5 * w, y + 0.5 * w)];
    for k in 0..=10 {
        let x = x0 + k as f64;
        let len = if k % 5 == 0 { 0.7 } else { 0.4 };
        ruler.push(rect(x - 0.5 * w, y - len, x + 0.5 * w, y - 0.5 * w));
    }
    out.push(element("ruler", Role::Ruler, [0, 0, 0], ruler));
    for (name, level, [x0, y0, x1, y1]) in GREYS {
        out.push(element(name, Role::Grey, [level; 3], vec![rect(x0, y0, x1, y1)]));
    }
    out
}

/// Whether the point (x, y) in mm lies inside the polygons by the even-odd rule.
pub fn inside(polygons: &[Vec<[f64; 2]>], x: f64, y: f64) -> bool {
    let mut odd = false;
    for p in polygons {
        let mut j = p.len() - 1;
        for k in 0..p.len() {
            let ([xi, yi], [xj, yj]) = (p[k], p[j]);
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                odd = !odd;
            }
            j = k;
        }
    }
    odd
}

/// Nominal linear reflectance (R, G, B, relative to the paper) of the card at (x, y) mm; the
/// paper (1, 1, 1) between elements; None outside the card.
pub fn reflectance_at(elements: &[Element], x: f64, y: f64) -> Option<[f64; 3]> {
    if !(0.0..=CARD_MM).contains(&x) || !(0.0..=CARD_MM).contains(&y) {
        return None;
    }
    let hit = elements.iter().rev().find(|e| inside(&e.polygons, x, y));
    Some(hit.map_or([1.0; 3], |e| e.reflectance))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_lie_inside_the_frame_and_apart() {
        let els = elements();
        let (i, f) = (FRAME_IN, CARD_MM - FRAME_IN);
        for e in els.iter().filter(|e| e.role != Role::Frame) {
            for p in e.polygons.iter().flatten() {
                assert!(p[0] > i + 0.5 && p[0] < f - 0.5 && p[1] > i + 0.5 && p[1] < f - 0.5, "{} {p:?}", e.name);
            }
        }
        assert_eq!(reflectance_at(&els, 0.4, 8.0), Some([1.0; 3]));
        assert_eq!(reflectance_at(&els, 1.4, 8.0), Some([BLACK_REFLECTANCE; 3]));
        assert_eq!(reflectance_at(&els, 7.5, 9.2), Some([1.0; 3]));
        assert_eq!(reflectance_at(&els, 8.0, 8.2), Some([BLACK_REFLECTANCE; 3]));
        assert_eq!(reflectance_at(&els, 10.2, 5.0), Some([BLACK_REFLECTANCE; 3]));
        assert_eq!(reflectance_at(&els, 17.0, 8.0), None);
    }
}
