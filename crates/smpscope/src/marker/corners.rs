//! The frame's corners to sub-pixel: lines fitted to its four outer and four inner edges,
//! intersected; the homography through the eight corners; and its uncertainty by redrawing the
//! lines within their errors.

use crate::photo::Photo;

use super::edges::{self, Line, PrintedEdge};
use super::homography::{self, Homography};
use super::layout::{CARD_MM, FRAME_IN, FRAME_OUT};

/// Share of an edge's profiles that must give an inlying edge point: below it the edge is
/// covered (hair, a finger, glare) and its line is not trusted.
pub const MIN_COVERAGE: f64 = 0.5;

/// The frame's eight edges: outer (top, right, bottom, left) then inner in the same order.
fn frame_edges() -> [PrintedEdge; 8] {
    let (o, e, i, f) = (FRAME_OUT, CARD_MM - FRAME_OUT, FRAME_IN, CARD_MM - FRAME_IN);
    let reach = 0.5;
    let edge = |a, b, dark| PrintedEdge { a, b, dark, reach };
    [
        edge([o, o], [e, o], [0.0, 1.0]),
        edge([e, o], [e, e], [-1.0, 0.0]),
        edge([e, e], [o, e], [0.0, -1.0]),
        edge([o, e], [o, o], [1.0, 0.0]),
        edge([i, i], [f, i], [0.0, -1.0]),
        edge([f, i], [f, f], [1.0, 0.0]),
        edge([f, f], [i, f], [0.0, 1.0]),
        edge([i, f], [i, i], [-1.0, 0.0]),
    ]
}

/// The eight frame corners on the card, mm, in the order [`corners_of`] gives them.
pub fn card_corners() -> [[f64; 2]; 8] {
    let (o, e, i, f) = (FRAME_OUT, CARD_MM - FRAME_OUT, FRAME_IN, CARD_MM - FRAME_IN);
    [[o, o], [e, o], [e, e], [o, e], [i, i], [f, i], [f, f], [i, f]]
}

/// The refined frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Card mm -> photo px, through the eight corners.
    pub homography: Homography,
    /// The eight corners in px (outer top-left, top-right, bottom-right, bottom-left, then inner).
    pub corners: [[f64; 2]; 8],
    /// The eight lines (outer top, right, bottom, left, then inner).
    pub lines: [Line; 8],
    /// Root-mean-square distance of the eight corners from where the homography puts them, px.
    pub corner_residual: f64,
    /// Least share of an edge's profiles that gave an edge point.
    pub min_coverage: f64,
}

/// Refines a rough homography on the frame's edges (twice, each pass starting from the last).
/// None when an edge gives too few points to fit.
pub fn refine(photo: &Photo, rough: &Homography) -> Option<Frame> {
    let mut h = *rough;
    let mut frame = None;
    for _ in 0..2 {
        let lines = fit_lines(photo, &h)?;
        let corners = corners_of(&lines)?;
        h = homography::dlt(&card_corners(), &corners)?;
        let residual = (card_corners()
            .iter()
            .zip(&corners)
            .filter_map(|(m, p)| {
                homography::apply(&h, m[0], m[1]).map(|q| (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2))
            })
            .sum::<f64>()
            / 8.0)
            .sqrt();
        let min_coverage = lines.iter().map(|l| l.coverage).fold(1.0, f64::min);
        frame = Some(Frame { homography: h, corners, lines, corner_residual: residual, min_coverage });
    }
    frame
}

fn fit_lines(photo: &Photo, h: &Homography) -> Option<[Line; 8]> {
    let edges = frame_edges();
    let mut lines = Vec::with_capacity(8);
    for e in &edges {
        let (pts, tried) = edges::points(photo, h, e, 0.5);
        let mid = [0.5 * (e.a[0] + e.b[0]), 0.5 * (e.a[1] + e.b[1])];
        let p = homography::apply(h, mid[0], mid[1])?;
        let q = homography::apply(h, mid[0] + 0.1 * e.dark[0], mid[1] + 0.1 * e.dark[1])?;
        lines.push(edges::fit(&pts, tried, [q[0] - p[0], q[1] - p[1]])?);
    }
    lines.try_into().ok()
}

/// Corners where consecutive lines meet: outer lines 0-3, inner lines 4-7.
pub fn corners_of(lines: &[Line; 8]) -> Option<[[f64; 2]; 8]> {
    let mut c = [[0.0; 2]; 8];
    for ring in 0..2 {
        for k in 0..4 {
            // Corner k lies between the previous edge (k + 3) and edge k.
            c[4 * ring + k] = lines[4 * ring + (k + 3) % 4].meet(&lines[4 * ring + k])?;
        }
    }
    Some(c)
}

/// Standard deviations of `f(homography)` when every line is redrawn within its fitted error
/// (offset sd / sqrt(n), angle sd sqrt(12) / (span sqrt(n))), 64 draws from a fixed seed.
pub fn spread<const N: usize>(frame: &Frame, f: impl Fn(&Homography) -> Option<[f64; N]>) -> Option<[f64; N]> {
    let mut rng = SplitMix(0x5eed_cafe_f00d_u64);
    let mut draws: Vec<[f64; N]> = Vec::with_capacity(64);
    for _ in 0..64 {
        let mut lines = frame.lines;
        for l in lines.iter_mut() {
            let n = (l.inliers.max(2)) as f64;
            let (so, sa) = (l.sd / n.sqrt(), l.sd * 12f64.sqrt() / (l.span.max(1.0) * n.sqrt()));
            let turn = sa * rng.normal();
            let (s, c) = turn.sin_cos();
            let nn = [c * l.normal[0] - s * l.normal[1], s * l.normal[0] + c * l.normal[1]];
            // Turned about the centre of its edge points, then shifted.
            l.normal = nn;
            l.offset = nn[0] * l.centre[0] + nn[1] * l.centre[1] + so * rng.normal();
        }
        let Some(c) = corners_of(&lines) else { continue };
        if let Some(v) = homography::dlt(&card_corners(), &c).and_then(|h| f(&h)) {
            draws.push(v);
        }
    }
    if draws.len() < 32 {
        return None;
    }
    let n = draws.len() as f64;
    Some(std::array::from_fn(|k| {
        let m = draws.iter().map(|d| d[k]).sum::<f64>() / n;
        (draws.iter().map(|d| (d[k] - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    }))
}

/// A small deterministic generator (SplitMix64) for the redraws: the same photo gives the same
/// intervals on every run and every thread count.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-300), self.next());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}
