//! The similarity transform (rotation, uniform scale, translation) between two visits' pixels,
//! and its least-squares fit to matched points.

use serde::{Deserialize, Serialize};

/// The similarity x' = a x - b y + tx, y' = b x + a y + ty (px to px).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Similarity {
    /// Scale times the cosine of the rotation.
    pub a: f64,
    /// Scale times the sine of the rotation.
    pub b: f64,
    /// Shift along x, px.
    pub tx: f64,
    /// Shift along y, px.
    pub ty: f64,
}

impl Similarity {
    /// The transform that leaves every point where it is.
    pub const IDENTITY: Similarity = Similarity { a: 1.0, b: 0.0, tx: 0.0, ty: 0.0 };

    /// Where the transform carries point `p` (x, y), px.
    pub fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        [self.a * p[0] - self.b * p[1] + self.tx, self.b * p[0] + self.a * p[1] + self.ty]
    }

    /// The transform that carries points back (the scale must not be 0).
    pub fn inverse(&self) -> Similarity {
        let s2 = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / s2, -self.b / s2);
        Similarity { a, b, tx: -(a * self.tx - b * self.ty), ty: -(b * self.tx + a * self.ty) }
    }

    /// Lengths are multiplied by this.
    pub fn scale(&self) -> f64 {
        self.a.hypot(self.b)
    }

    /// Largest distance, px, between where `self` and `other` carry a point of `frame` (width,
    /// height, px): at one of its corners, as the difference of two similarities is one too.
    pub fn farthest_apart(&self, other: &Similarity, frame: (f64, f64)) -> f64 {
        let (w, h) = frame;
        [[0.0, 0.0], [w, 0.0], [0.0, h], [w, h]]
            .iter()
            .map(|&p| {
                let (a, b) = (self.apply(p), other.apply(p));
                (a[0] - b[0]).hypot(a[1] - b[1])
            })
            .fold(0.0, f64::max)
    }

    /// Counter-clockwise in image coordinates (y down), degrees.
    pub fn rotation_deg(&self) -> f64 {
        self.b.atan2(self.a).to_degrees()
    }

    /// The least-squares similarity carrying each `from` point onto its `to` point
    /// (closed form; None for fewer than two distinct points).
    pub fn fit(from: &[[f64; 2]], to: &[[f64; 2]]) -> Option<Similarity> {
        let n = from.len() as f64;
        if from.len() < 2 || from.len() != to.len() {
            return None;
        }
        let mean = |v: &[[f64; 2]]| v.iter().fold([0.0, 0.0], |m, p| [m[0] + p[0] / n, m[1] + p[1] / n]);
        let (mf, mt) = (mean(from), mean(to));
        let (mut sxx, mut a, mut b) = (0.0, 0.0, 0.0);
        for (p, q) in from.iter().zip(to) {
            let (px, py, qx, qy) = (p[0] - mf[0], p[1] - mf[1], q[0] - mt[0], q[1] - mt[1]);
            sxx += px * px + py * py;
            a += px * qx + py * qy;
            b += px * qy - py * qx;
        }
        if sxx <= 1e-12 {
            return None;
        }
        let (a, b) = (a / sxx, b / sxx);
        Some(Similarity { a, b, tx: mt[0] - (a * mf[0] - b * mf[1]), ty: mt[1] - (b * mf[0] + a * mf[1]) })
    }
}
