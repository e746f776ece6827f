//! The plane-to-photo homography (card mm -> photo px), the scale it gives at a point, and the
//! tilt of the card to the camera under a pinhole model.

/// A 3x3 homography, row-major: (x, y, w) = H (u, v, 1), photo px = (x / w, y / w).
pub type Homography = [[f64; 3]; 3];

/// Maps the card point (u, v) mm to photo px; None where the point maps to infinity.
pub fn apply(h: &Homography, u: f64, v: f64) -> Option<[f64; 2]> {
    let w = h[2][0] * u + h[2][1] * v + h[2][2];
    if w.is_nan() || w.abs() <= 1e-12 {
        return None;
    }
    Some([(h[0][0] * u + h[0][1] * v + h[0][2]) / w, (h[1][0] * u + h[1][1] * v + h[1][2]) / w])
}

/// The Jacobian d(x, y)/d(u, v) at (u, v): px per mm along each card axis.
pub fn jacobian(h: &Homography, u: f64, v: f64) -> Option<[[f64; 2]; 2]> {
    let w = h[2][0] * u + h[2][1] * v + h[2][2];
    if w.is_nan() || w.abs() <= 1e-12 {
        return None;
    }
    let [x, y] = apply(h, u, v)?;
    Some([
        [(h[0][0] - x * h[2][0]) / w, (h[0][1] - x * h[2][1]) / w],
        [(h[1][0] - y * h[2][0]) / w, (h[1][1] - y * h[2][1]) / w],
    ])
}

/// px per mm at the card point (u, v): the square root of the Jacobian's determinant, so that
/// areas (hence densities) scale exactly; None when degenerate.
pub fn px_per_mm_at(h: &Homography, u: f64, v: f64) -> Option<f64> {
    let j = jacobian(h, u, v)?;
    let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
    (det.is_finite() && det > 0.0).then(|| det.sqrt())
}

/// Hartley normalisation of points: (centroid, scale) so that the mean distance is sqrt(2).
fn normaliser(p: &[[f64; 2]]) -> [[f64; 3]; 3] {
    let n = p.len() as f64;
    let (cx, cy) = (p.iter().map(|q| q[0]).sum::<f64>() / n, p.iter().map(|q| q[1]).sum::<f64>() / n);
    let d = p.iter().map(|q| (q[0] - cx).hypot(q[1] - cy)).sum::<f64>() / n;
    let s = if d > 0.0 { std::f64::consts::SQRT_2 / d } else { 1.0 };
    [[s, 0.0, -s * cx], [0.0, s, -s * cy], [0.0, 0.0, 1.0]]
}

fn mul(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}

/// Inverse of a 3x3 matrix; None when singular.
pub fn invert(m: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let c = |i: usize, j: usize| {
        let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
        let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
        m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]
    };
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2);
    if !det.is_finite() || det.abs() <= 1e-300 {
        return None;
    }
    Some(std::array::from_fn(|i| std::array::from_fn(|j| c(j, i) / det)))
}

/// The homography from card points `mm` to photo points `px` (at least 4 pairs) by the
/// normalised direct linear transform: least squares over the 8 unknowns with h33 = 1 in
/// normalised coordinates (the card is never seen edge-on). None when degenerate.
pub fn dlt(mm: &[[f64; 2]], px: &[[f64; 2]]) -> Option<Homography> {
    if mm.len() != px.len() || mm.len() < 4 {
        return None;
    }
    let (ta, tb) = (normaliser(mm), normaliser(px));
    let norm = |t: &[[f64; 3]; 3], p: [f64; 2]| [t[0][0] * p[0] + t[0][2], t[1][1] * p[1] + t[1][2]];
    // Normal equations of the 2n x 8 system A h = b.
    let mut ata = [[0.0f64; 8]; 8];
    let mut atb = [0.0f64; 8];
    for (a, b) in mm.iter().zip(px) {
        let ([u, v], [x, y]) = (norm(&ta, *a), norm(&tb, *b));
        let rows = [([u, v, 1.0, 0.0, 0.0, 0.0, -u * x, -v * x], x), ([0.0, 0.0, 0.0, u, v, 1.0, -u * y, -v * y], y)];
        for (r, rhs) in rows {
            for i in 0..8 {
                atb[i] += r[i] * rhs;
                for j in 0..8 {
                    ata[i][j] += r[i] * r[j];
                }
            }
        }
    }
    let mut flat: Vec<f64> = ata.iter().flatten().copied().collect();
    let h = crate::linalg::solve(&mut flat, &atb, 8, 1e-12)?;
    let hn = [[h[0], h[1], h[2]], [h[3], h[4], h[5]], [h[6], h[7], 1.0]];
    let out = mul(&mul(&invert(&tb)?, &hn), &ta);
    let s = out[2][2];
    (s.abs() > 1e-300 && out.iter().flatten().all(|v| v.is_finite())).then(|| out.map(|r| r.map(|v| v / s)))
}

/// The focal length in px implied by the homography, principal point `centre` (px), square
/// pixels: the least-squares solution of the two constraints that the card's axes are
/// orthogonal and equally long in space. None when the view is too close to head-on for the
/// perspective to tell (any focal length fits), or the solution is not positive.
pub fn focal_from(h: &Homography, centre: [f64; 2]) -> Option<f64> {
    let hc = shifted(h, centre);
    let (h1, h2) = ([hc[0][0], hc[1][0], hc[2][0]], [hc[0][1], hc[1][1], hc[2][1]]);
    // w (x1 x2 + y1 y2) + z1 z2 = 0 and w (|xy1|^2 - |xy2|^2) + z1^2 - z2^2 = 0, w = 1 / f^2.
    let a = [h1[0] * h2[0] + h1[1] * h2[1], h1[0] * h1[0] + h1[1] * h1[1] - h2[0] * h2[0] - h2[1] * h2[1]];
    let b = [h1[2] * h2[2], h1[2] * h1[2] - h2[2] * h2[2]];
    let scale = h1[0].hypot(h1[1]) * h2[0].hypot(h2[1]);
    let aa = a[0] * a[0] + a[1] * a[1];
    // Below this the card's image is a similarity to 1e-5: no perspective to read f from.
    if aa.is_nan() || aa.sqrt() <= 1e-5 * scale {
        return None;
    }
    let w = -(a[0] * b[0] + a[1] * b[1]) / aa;
    (w > 0.0 && w.is_finite()).then(|| 1.0 / w.sqrt())
}

/// The homography with the principal point moved to the origin.
fn shifted(h: &Homography, centre: [f64; 2]) -> Homography {
    let t = [[1.0, 0.0, -centre[0]], [0.0, 1.0, -centre[1]], [0.0, 0.0, 1.0]];
    mul(&t, h)
}

/// The angle between the card's normal and the camera's optical axis, degrees, for a pinhole
/// camera of focal length `focal_px` with its principal point at `centre` (px).
pub fn tilt_deg(h: &Homography, centre: [f64; 2], focal_px: f64) -> Option<f64> {
    let hc = shifted(h, centre);
    let col = |j: usize| [hc[0][j] / focal_px, hc[1][j] / focal_px, hc[2][j]];
    let (r1, r2) = (col(0), col(1));
    let n = [r1[1] * r2[2] - r1[2] * r2[1], r1[2] * r2[0] - r1[0] * r2[2], r1[0] * r2[1] - r1[1] * r2[0]];
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    (len > 0.0 && len.is_finite()).then(|| (n[2].abs() / len).clamp(0.0, 1.0).acos().to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pinhole view of the card: tilt about the x axis, card centre at `at` px.
    fn view(tilt: f64, f: f64, at: [f64; 2], centre: [f64; 2], ppm: f64) -> Homography {
        let (s, c) = tilt.to_radians().sin_cos();
        let z = f / ppm;
        let t = [(at[0] - centre[0]) * z / f, (at[1] - centre[1]) * z / f, z];
        // Columns: K [r1 r2 t], r1 = (1, 0, 0), r2 = (0, c, s), card centred at (8, 8).
        let k = |p: [f64; 3]| [f * p[0] + centre[0] * p[2], f * p[1] + centre[1] * p[2], p[2]];
        let (c1, c2) = (k([1.0, 0.0, 0.0]), k([0.0, c, s]));
        let c3 = k([t[0] - 8.0 * 1.0, t[1] - 8.0 * c, t[2] - 8.0 * s]);
        std::array::from_fn(|i| [c1[i], c2[i], c3[i]])
    }

    #[test]
    fn dlt_recovers_a_homography_and_its_tilt() {
        let h = view(10.0, 3000.0, [900.0, 700.0], [1000.0, 750.0], 40.0);
        let mm = [[0.8, 0.8], [15.2, 0.8], [15.2, 15.2], [0.8, 15.2], [2.0, 2.0], [14.0, 2.0], [14.0, 14.0]];
        let px: Vec<[f64; 2]> = mm.iter().map(|p| apply(&h, p[0], p[1]).unwrap()).collect();
        let g = dlt(&mm, &px).unwrap();
        for p in &mm {
            let (a, b) = (apply(&h, p[0], p[1]).unwrap(), apply(&g, p[0], p[1]).unwrap());
            assert!((a[0] - b[0]).abs() < 1e-6 && (a[1] - b[1]).abs() < 1e-6);
        }
        let f = focal_from(&g, [1000.0, 750.0]).unwrap();
        assert!((f / 3000.0 - 1.0).abs() < 1e-3, "{f}");
        let t = tilt_deg(&g, [1000.0, 750.0], f).unwrap();
        assert!((t - 10.0).abs() < 1e-3, "{t}");
        let s = px_per_mm_at(&g, 8.0, 8.0).unwrap();
        assert!((s / 40.0 - 1.0).abs() < 0.01, "{s}");
        assert!(dlt(&mm[..3], &px[..3]).is_none());
        let head_on = view(0.0, 3000.0, [900.0, 700.0], [1000.0, 750.0], 40.0);
        assert!(focal_from(&head_on, [1000.0, 750.0]).is_none());
    }
}
