//! The treated region: a wavy "hairline" crossing the frame, as a polygon in upright px.
//!
//! The polygon extends `margin` px past the frame so that dots just outside the frame are drawn
//! consistently; its area is always reported clipped to the frame.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A polygon, vertices in order (either winding).
pub type Polygon = Vec<[f64; 2]>;

/// Even-odd point-in-polygon test.
pub fn contains(poly: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut inside = false;
    let n = poly.len();
    for i in 0..n {
        let [x1, y1] = poly[i];
        let [x2, y2] = poly[(i + n - 1) % n];
        if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
            inside = !inside;
        }
    }
    inside
}

/// Shoelace area (absolute).
pub fn area(poly: &[[f64; 2]]) -> f64 {
    let n = poly.len();
    let twice: f64 = (0..n)
        .map(|i| {
            let [x1, y1] = poly[i];
            let [x2, y2] = poly[(i + 1) % n];
            x1 * y2 - x2 * y1
        })
        .sum();
    0.5 * twice.abs()
}

/// Sutherland-Hodgman clip of a polygon to the axis-aligned box [x0, x1] x [y0, y1].
pub fn clip_to_box(poly: &[[f64; 2]], x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon {
    // Each edge: inside test and intersection along one axis.
    type Edge = (usize, f64, bool); // (axis, bound, keep >= bound)
    let edges: [Edge; 4] = [(0, x0, true), (0, x1, false), (1, y0, true), (1, y1, false)];
    let mut out: Polygon = poly.to_vec();
    for (axis, bound, keep_ge) in edges {
        let inp = std::mem::take(&mut out);
        if inp.is_empty() {
            break;
        }
        let inside = |p: &[f64; 2]| if keep_ge { p[axis] >= bound } else { p[axis] <= bound };
        let cross = |a: &[f64; 2], b: &[f64; 2]| {
            let t = (bound - a[axis]) / (b[axis] - a[axis]);
            [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]
        };
        for i in 0..inp.len() {
            let cur = &inp[i];
            let prev = &inp[(i + inp.len() - 1) % inp.len()];
            match (inside(prev), inside(cur)) {
                (true, true) => out.push(*cur),
                (true, false) => out.push(cross(prev, cur)),
                (false, true) => {
                    out.push(cross(prev, cur));
                    out.push(*cur);
                }
                (false, false) => {}
            }
        }
    }
    out
}

/// The frame as a box in px: pixel (i, j) covers [i - 0.5, i + 0.5) x [j - 0.5, j + 0.5).
pub fn frame_box(width: u32, height: u32) -> [f64; 4] {
    [-0.5, -0.5, width as f64 - 0.5, height as f64 - 0.5]
}

/// Area of `poly` inside the frame, px^2.
pub fn area_in_frame(poly: &[[f64; 2]], width: u32, height: u32) -> f64 {
    let [x0, y0, x1, y1] = frame_box(width, height);
    area(&clip_to_box(poly, x0, y0, x1, y1))
}

/// A wavy hairline crossing the frame from one side to the other, the treated side covering
/// `coverage` of the frame area (found by bisection on the line's offset).
pub fn hairline(r: &mut ChaCha8Rng, width: u32, height: u32, margin: f64, coverage: f64) -> Polygon {
    let side = r.random_range(0..4u8);
    // Work in (u along the line, v across it); v grows into the treated side.
    let (lu, lv) = if side < 2 { (width as f64, height as f64) } else { (height as f64, width as f64) };
    let waves: Vec<(f64, f64, f64)> = (0..3)
        .map(|i| {
            let wavelength = lu * r.random_range(0.25..=1.2);
            let amp = lv * r.random_range(0.01..=0.06) / (i as f64 + 1.0);
            (amp, wavelength, r.random_range(0.0..std::f64::consts::TAU))
        })
        .collect();
    let n = 96;
    let build = |offset: f64| -> Polygon {
        let mut pts: Polygon = (0..=n)
            .map(|i| {
                let u = -0.5 - margin + (lu + 2.0 * margin) * i as f64 / n as f64;
                let wave: f64 = waves.iter().map(|&(a, wl, ph)| a * (std::f64::consts::TAU * u / wl + ph).sin()).sum();
                [u, offset + wave]
            })
            .collect();
        // Close on the far side, past the frame.
        let far = lv - 0.5 + margin;
        pts.push([lu - 0.5 + margin, far]);
        pts.push([-0.5 - margin, far]);
        pts.into_iter()
            .map(|[u, v]| match side {
                0 => [u, v],
                1 => [u, lv - 1.0 - v],
                2 => [v, u],
                _ => [lv - 1.0 - v, u],
            })
            .collect()
    };
    let frame_area = width as f64 * height as f64;
    let (mut lo, mut hi) = (-lv, 2.0 * lv);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        // A larger offset moves the line into the frame: less treated area.
        if area_in_frame(&build(mid), width, height) / frame_area > coverage { lo = mid } else { hi = mid }
    }
    build(0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_area_and_containment() {
        let square = vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        assert_eq!(area(&square), 100.0);
        assert!((area(&clip_to_box(&square, 5.0, -1.0, 20.0, 20.0)) - 50.0).abs() < 1e-12);
        assert!(contains(&square, 5.0, 5.0) && !contains(&square, 11.0, 5.0));
    }

    #[test]
    fn hairline_covers_the_requested_share() {
        for seed in 0..8 {
            let mut r = crate::scene::rng(seed, 9);
            let poly = hairline(&mut r, 300, 200, 40.0, 0.7);
            let share = area_in_frame(&poly, 300, 200) / 60_000.0;
            assert!((share - 0.7).abs() < 1e-6, "seed {seed}: {share}");
        }
    }
}
