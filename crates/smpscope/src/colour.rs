//! Colour: sRGB <-> linear light, linear sRGB -> XYZ -> CIELAB (D65), and CIEDE2000.
//!
//! Everything smpscope measures about colour goes through here, so that a dot's colour, the
//! skin's colour and the difference between them all mean the same thing everywhere.

/// Rec. 709 / sRGB luminance weights of linear R, G, B. The optical density smpscope measures
/// is the luminance-weighted mean of the per-channel densities (see `background`).
pub const LUMA: [f32; 3] = [0.2126, 0.7152, 0.0722];

/// sRGB-encoded value in 0..1 to linear light in 0..1.
pub fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.040_45 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
}

/// Linear light in 0..1 to sRGB-encoded value in 0..1 (clamped).
pub fn linear_to_srgb(v: f64) -> f64 {
    let v = v.clamp(0.0, 1.0);
    if v <= 0.003_130_8 { v * 12.92 } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 }
}

/// d(linear) / d(encoded) of [`srgb_to_linear`] at the sRGB-encoded value `v`.
pub fn srgb_to_linear_slope(v: f64) -> f64 {
    if v <= 0.040_45 { 1.0 / 12.92 } else { 2.4 / 1.055 * ((v + 0.055) / 1.055).powf(1.4) }
}

/// d(encoded) / d(linear) of [`linear_to_srgb`] at the linear level `v` (inside 0..1).
pub fn linear_to_srgb_slope(v: f64) -> f64 {
    if v <= 0.003_130_8 { 12.92 } else { 1.055 / 2.4 * v.powf(1.0 / 2.4 - 1.0) }
}

/// CIE XYZ of the D65 white that sRGB is defined on (Y = 1).
const WHITE_D65: [f64; 3] = [0.950_47, 1.0, 1.088_83];

/// Linear sRGB (0..1, D65) to CIELAB (D65): L* in 0..100, a*, b* unbounded.
pub fn linear_rgb_to_lab(rgb: [f64; 3]) -> [f64; 3] {
    let [r, g, b] = rgb;
    let x = 0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175_0 * b;
    let z = 0.019_333_9 * r + 0.119_192_0 * g + 0.950_304_1 * b;
    xyz_to_lab([x, y, z])
}

/// CIE XYZ (D65 white, Y of white = 1) to CIELAB.
pub fn xyz_to_lab(xyz: [f64; 3]) -> [f64; 3] {
    fn f(t: f64) -> f64 {
        const D: f64 = 6.0 / 29.0;
        if t > D * D * D { t.cbrt() } else { t / (3.0 * D * D) + 4.0 / 29.0 }
    }
    let fx = f(xyz[0] / WHITE_D65[0]);
    let fy = f(xyz[1] / WHITE_D65[1]);
    let fz = f(xyz[2] / WHITE_D65[2]);
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIELAB (D65) back to linear sRGB, the inverse of [`linear_rgb_to_lab`] (not clamped), so
/// that a colour can be corrected in linear light, e.g. for white balance.
pub fn lab_to_linear_rgb(lab: [f64; 3]) -> [f64; 3] {
    fn finv(t: f64) -> f64 {
        const D: f64 = 6.0 / 29.0;
        if t > D { t * t * t } else { 3.0 * D * D * (t - 4.0 / 29.0) }
    }
    let fy = (lab[0] + 16.0) / 116.0;
    let (x, y, z) =
        (WHITE_D65[0] * finv(fy + lab[1] / 500.0), WHITE_D65[1] * finv(fy), WHITE_D65[2] * finv(fy - lab[2] / 200.0));
    [
        3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z,
        -0.969_266_0 * x + 1.876_010_8 * y + 0.041_556_0 * z,
        0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z,
    ]
}

/// 8-bit sRGB to CIELAB, for callers that hold encoded pixels.
pub fn srgb8_to_lab(rgb: [u8; 3]) -> [f64; 3] {
    linear_rgb_to_lab(rgb.map(|c| srgb_to_linear(c as f64 / 255.0)))
}

/// CIEDE2000 colour difference (kL = kC = kH = 1), after Sharma, Wu and Dalal (2005).
///
/// ```
/// use smpscope::colour::{delta_e_2000, srgb8_to_lab};
/// // The first reference pair of Sharma, Wu and Dalal (2005).
/// let de = delta_e_2000([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485]);
/// assert!((de - 2.0425).abs() < 1e-4);
/// // A dark grey dot on light skin stands out; the skin against itself does not.
/// let (dot, skin) = (srgb8_to_lab([90, 85, 90]), srgb8_to_lab([200, 160, 140]));
/// assert!(delta_e_2000(dot, skin) > 20.0 && delta_e_2000(skin, skin) == 0.0);
/// ```
pub fn delta_e_2000(lab1: [f64; 3], lab2: [f64; 3]) -> f64 {
    use std::f64::consts::PI;
    let [l1, a1, b1] = lab1;
    let [l2, a2, b2] = lab2;
    let c1 = a1.hypot(b1);
    let c2 = a2.hypot(b2);
    let c_bar = 0.5 * (c1 + c2);
    let c_bar7 = c_bar.powi(7);
    let g = 0.5 * (1.0 - (c_bar7 / (c_bar7 + 25f64.powi(7))).sqrt());
    let a1p = (1.0 + g) * a1;
    let a2p = (1.0 + g) * a2;
    let c1p = a1p.hypot(b1);
    let c2p = a2p.hypot(b2);
    let hue = |b: f64, a: f64| {
        if a == 0.0 && b == 0.0 {
            0.0
        } else {
            let h = b.atan2(a);
            if h < 0.0 { h + 2.0 * PI } else { h }
        }
    };
    let h1p = hue(b1, a1p);
    let h2p = hue(b2, a2p);
    let dl = l2 - l1;
    let dc = c2p - c1p;
    let dh = if c1p * c2p == 0.0 {
        0.0
    } else {
        let d = h2p - h1p;
        if d > PI {
            d - 2.0 * PI
        } else if d < -PI {
            d + 2.0 * PI
        } else {
            d
        }
    };
    let d_big_h = 2.0 * (c1p * c2p).sqrt() * (dh / 2.0).sin();
    let l_bar = 0.5 * (l1 + l2);
    let cp_bar = 0.5 * (c1p + c2p);
    let hp_bar = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= PI {
        0.5 * (h1p + h2p)
    } else if h1p + h2p < 2.0 * PI {
        0.5 * (h1p + h2p + 2.0 * PI)
    } else {
        0.5 * (h1p + h2p - 2.0 * PI)
    };
    let deg = PI / 180.0;
    let t = 1.0 - 0.17 * (hp_bar - 30.0 * deg).cos()
        + 0.24 * (2.0 * hp_bar).cos()
        + 0.32 * (3.0 * hp_bar + 6.0 * deg).cos()
        - 0.20 * (4.0 * hp_bar - 63.0 * deg).cos();
    let d_theta = 30.0 * deg * (-((hp_bar / deg - 275.0) / 25.0).powi(2)).exp();
    let cp_bar7 = cp_bar.powi(7);
    let r_c = 2.0 * (cp_bar7 / (cp_bar7 + 25f64.powi(7))).sqrt();
    let l50 = (l_bar - 50.0).powi(2);
    let s_l = 1.0 + 0.015 * l50 / (20.0 + l50).sqrt();
    let s_c = 1.0 + 0.045 * cp_bar;
    let s_h = 1.0 + 0.015 * cp_bar * t;
    let r_t = -(2.0 * d_theta).sin() * r_c;
    let tl = dl / s_l;
    let tc = dc / s_c;
    let th = d_big_h / s_h;
    (tl * tl + tc * tc + th * th + r_t * tc * th).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 34 reference pairs of Sharma, Wu and Dalal (2005), Table 1.
    const SHARMA: [([f64; 3], [f64; 3], f64); 34] = [
        ([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485], 2.0425),
        ([50.0, 3.1571, -77.2803], [50.0, 0.0, -82.7485], 2.8615),
        ([50.0, 2.8361, -74.0200], [50.0, 0.0, -82.7485], 3.4412),
        ([50.0, -1.3802, -84.2814], [50.0, 0.0, -82.7485], 1.0),
        ([50.0, -1.1848, -84.8006], [50.0, 0.0, -82.7485], 1.0),
        ([50.0, -0.9009, -85.5211], [50.0, 0.0, -82.7485], 1.0),
        ([50.0, 0.0, 0.0], [50.0, -1.0, 2.0], 2.3669),
        ([50.0, -1.0, 2.0], [50.0, 0.0, 0.0], 2.3669),
        ([50.0, 2.49, -0.001], [50.0, -2.49, 0.0009], 7.1792),
        ([50.0, 2.49, -0.001], [50.0, -2.49, 0.0010], 7.1792),
        ([50.0, 2.49, -0.001], [50.0, -2.49, 0.0011], 7.2195),
        ([50.0, 2.49, -0.001], [50.0, -2.49, 0.0012], 7.2195),
        ([50.0, -0.001, 2.49], [50.0, 0.0009, -2.49], 4.8045),
        ([50.0, -0.001, 2.49], [50.0, 0.0010, -2.49], 4.8045),
        ([50.0, -0.001, 2.49], [50.0, 0.0011, -2.49], 4.7461),
        ([50.0, 2.5, 0.0], [50.0, 0.0, -2.5], 4.3065),
        ([50.0, 2.5, 0.0], [73.0, 25.0, -18.0], 27.1492),
        ([50.0, 2.5, 0.0], [61.0, -5.0, 29.0], 22.8977),
        ([50.0, 2.5, 0.0], [56.0, -27.0, -3.0], 31.9030),
        ([50.0, 2.5, 0.0], [58.0, 24.0, 15.0], 19.4535),
        ([50.0, 2.5, 0.0], [50.0, 3.1736, 0.5854], 1.0),
        ([50.0, 2.5, 0.0], [50.0, 3.2972, 0.0], 1.0),
        ([50.0, 2.5, 0.0], [50.0, 1.8634, 0.5757], 1.0),
        ([50.0, 2.5, 0.0], [50.0, 3.2592, 0.3350], 1.0),
        ([60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644),
        ([63.0109, -31.0961, -5.8663], [62.8187, -29.7946, -4.0864], 1.2630),
        ([61.2901, 3.7196, -5.3901], [61.4292, 2.2480, -4.9620], 1.8731),
        ([35.0831, -44.1164, 3.7933], [35.0232, -40.0716, 1.5901], 1.8645),
        ([22.7233, 20.0904, -46.6940], [23.0331, 14.9730, -42.5619], 2.0373),
        ([36.4612, 47.8580, 18.3852], [36.2715, 50.5065, 21.2231], 1.4146),
        ([90.8027, -2.0831, 1.4410], [91.1528, -1.6435, 0.0447], 1.4441),
        ([90.9257, -0.5406, -0.9208], [88.6381, -0.8985, -0.7239], 1.5381),
        ([6.7747, -0.2908, -2.4247], [5.8714, -0.0985, -2.2286], 0.6377),
        ([2.0776, 0.0795, -1.1350], [0.9033, -0.0636, -0.5514], 0.9082),
    ];

    #[test]
    fn ciede2000_matches_sharma_reference_pairs() {
        for (a, b, want) in SHARMA {
            let got = delta_e_2000(a, b);
            assert!((got - want).abs() < 1e-4, "{a:?} {b:?}: {got} != {want}");
            assert!((delta_e_2000(b, a) - want).abs() < 1e-4, "not symmetric for {a:?}");
        }
    }

    #[test]
    fn srgb_slopes_are_the_derivatives() {
        for v in [0.001, 0.02, 0.1, 0.4, 0.9] {
            let h = 1e-6;
            let num = |f: fn(f64) -> f64| (f(v + h) - f(v - h)) / (2.0 * h);
            assert!((srgb_to_linear_slope(v) / num(srgb_to_linear) - 1.0).abs() < 1e-5, "{v}");
            assert!((linear_to_srgb_slope(v) / num(linear_to_srgb) - 1.0).abs() < 1e-5, "{v}");
        }
    }

    #[test]
    fn srgb_round_trip_and_white_point() {
        for i in 0..=255 {
            let v = i as f64 / 255.0;
            assert!((linear_to_srgb(srgb_to_linear(v)) - v).abs() < 1e-9);
        }
        let white = srgb8_to_lab([255, 255, 255]);
        assert!((white[0] - 100.0).abs() < 1e-3 && white[1].abs() < 1e-2 && white[2].abs() < 1e-2);
        let red = srgb8_to_lab([255, 0, 0]);
        // Published sRGB red in CIELAB (D65).
        assert!((red[0] - 53.24).abs() < 0.05 && (red[1] - 80.09).abs() < 0.1 && (red[2] - 67.20).abs() < 0.1);
    }

    #[test]
    fn lab_round_trips_to_linear_rgb() {
        for rgb in [[0.2, 0.5, 0.9], [0.8, 0.6, 0.4], [0.01, 0.02, 0.005], [1.0, 1.0, 1.0]] {
            let back = lab_to_linear_rgb(linear_rgb_to_lab(rgb));
            for c in 0..3 {
                assert!((back[c] - rgb[c]).abs() < 1e-6, "{rgb:?} -> {back:?}");
            }
        }
    }
}
