//! Camera pose of a visit and the similarity between its upright px and scalp px.

use serde::{Deserialize, Serialize};

/// The camera pose of one visit relative to the first.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    /// Camera rotation, degrees (|.| <= 15 in random series): the visit's +x axis points along
    /// scalp direction (cos, sin) of this angle.
    pub rotation_deg: f64,
    /// Magnification: this visit's px_per_mm = base.px_per_mm * scale (0.9 ..= 1.1).
    pub scale: f64,
    /// Where this frame's centre lies on the scalp relative to the first frame's centre, as
    /// fractions of the frame width and height (|.| <= 1/3 in each axis).
    pub shift: [f64; 2],
}

impl Pose {
    /// The first visit's pose.
    pub const IDENTITY: Pose = Pose { rotation_deg: 0.0, scale: 1.0, shift: [0.0, 0.0] };

    /// (a, b, tx, ty) of the similarity x0 = a x - b y + tx, y0 = b x + a y + ty from this
    /// visit's upright px to scalp px (the first visit's), for a frame of width x height px.
    pub fn to_first(&self, width: u32, height: u32) -> [f64; 4] {
        let (c, f) = centre_and_shift(self, width, height);
        let th = self.rotation_deg.to_radians();
        let (a, b) = (th.cos() / self.scale, th.sin() / self.scale);
        [a, b, c[0] + f[0] - a * c[0] + b * c[1], c[1] + f[1] - b * c[0] - a * c[1]]
    }

    /// The inverse of [`Pose::to_first`]: scalp px to this visit's upright px. Exact (no
    /// rounding at all) for the identity.
    pub fn to_visit(&self, width: u32, height: u32) -> [f64; 4] {
        let (c, f) = centre_and_shift(self, width, height);
        let th = self.rotation_deg.to_radians();
        let (a, b) = (self.scale * th.cos(), -self.scale * th.sin());
        let (sx, sy) = (c[0] + f[0], c[1] + f[1]);
        [a, b, c[0] - a * sx + b * sy, c[1] - b * sx - a * sy]
    }
}

fn centre_and_shift(p: &Pose, width: u32, height: u32) -> ([f64; 2], [f64; 2]) {
    let (w, h) = (width as f64, height as f64);
    ([0.5 * (w - 1.0), 0.5 * (h - 1.0)], [p.shift[0] * w, p.shift[1] * h])
}

/// Applies a similarity (a, b, tx, ty): (a x - b y + tx, b x + a y + ty).
pub fn map_point(t: [f64; 4], p: [f64; 2]) -> [f64; 2] {
    let [a, b, tx, ty] = t;
    [a * p[0] - b * p[1] + tx, b * p[0] + a * p[1] + ty]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_visit_inverts_to_first() {
        let p = Pose { rotation_deg: 11.0, scale: 0.93, shift: [0.2, -0.3] };
        let q = map_point(p.to_visit(640, 480), map_point(p.to_first(640, 480), [17.5, 301.25]));
        assert!((q[0] - 17.5).abs() < 1e-9 && (q[1] - 301.25).abs() < 1e-9);
        assert_eq!(Pose::IDENTITY.to_first(640, 480), [1.0, 0.0, 0.0, 0.0]);
        assert_eq!(map_point(Pose::IDENTITY.to_visit(640, 480), [3.25, -7.5]), [3.25, -7.5]);
    }
}
