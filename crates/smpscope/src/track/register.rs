//! Registration: the similarity transform (rotation, scale, translation) that carries a later
//! visit's dots onto the first visit's, found from the dot patterns alone.
//!
//! SMP dots are laid out almost regularly, so single dots say nothing about where they are;
//! small triangles of neighbouring dots do. Each dot's triangles with its nearest neighbours
//! are described by their shape (side ratios, invariant to the transform); triangles of the
//! two visits with the same shape propose a transform each; proposals vote in a coarse grid of
//! transforms, and the best-voted cells are refined on all dots (iterated closest points with a
//! shrinking tolerance) and judged by how many dots they line up. Lighting and white balance do
//! not enter: only positions do.

use std::collections::HashMap;

use rstar::RTree;
use rstar::primitives::GeomWithData;

pub use super::similarity::Similarity;

/// A registration of one visit onto the first.
#[derive(Clone, Copy, Debug)]
pub struct Registration {
    /// Carries the visit's px onto the first visit's px.
    pub transform: Similarity,
    /// Dots lined up within the final tolerance.
    pub matched: usize,
    /// Root-mean-square distance between lined-up dots, px of the first visit.
    pub residual_px: f64,
    /// Dots expected in the shared field of view (the fewer of the two visits').
    pub shared_dots: usize,
}

type Indexed = GeomWithData<[f64; 2], usize>;

fn tree(points: &[[f64; 2]]) -> RTree<Indexed> {
    RTree::bulk_load(points.iter().enumerate().map(|(i, &p)| Indexed::new(p, i)).collect())
}

/// A triangle of neighbouring dots: vertices ordered by the length of the opposite side, and its
/// shape as (shortest / longest, middle / longest).
struct Triangle {
    vertices: [usize; 3],
    shape: [f64; 2],
}

/// Neighbours per dot that form its triangles.
const NEIGHBOURS: usize = 5;
/// How many times the other's dots one visit must show for the search to run again with its
/// neighbourhoods widened, and the most neighbours they are widened to.
const DENSER: f64 = 1.5;
const MAX_NEIGHBOURS: usize = 24;

/// Triangles of each of `centres` with pairs of its `neighbours` nearest dots.
fn triangles(
    points: &[[f64; 2]],
    index: &RTree<Indexed>,
    centres: impl Iterator<Item = usize>,
    neighbours: usize,
) -> Vec<Triangle> {
    let mut out = Vec::new();
    for i in centres {
        let near: Vec<usize> =
            index.nearest_neighbor_iter(&points[i]).map(|n| n.data).filter(|&j| j != i).take(neighbours).collect();
        for (k, &j) in near.iter().enumerate() {
            for &l in &near[k + 1..] {
                let d = |u: usize, w: usize| (points[u][0] - points[w][0]).hypot(points[u][1] - points[w][1]);
                // Side opposite each vertex.
                let mut sides = [(d(j, l), i), (d(i, l), j), (d(i, j), l)];
                sides.sort_by(|x, y| x.0.total_cmp(&y.0));
                let longest = sides[2].0;
                // Nearly equal sides leave the vertex order to noise: such triangles mislead.
                if longest <= 0.0
                    || (sides[1].0 - sides[0].0) < 0.03 * longest
                    || (sides[2].0 - sides[1].0) < 0.03 * longest
                {
                    continue;
                }
                out.push(Triangle {
                    vertices: [sides[0].1, sides[1].1, sides[2].1],
                    shape: [sides[0].0 / longest, sides[1].0 / longest],
                });
            }
        }
    }
    out
}

/// Median distance from each point to its nearest neighbour, px.
pub fn typical_spacing(points: &[[f64; 2]]) -> f64 {
    let index = tree(points);
    let mut d: Vec<f64> = points
        .iter()
        .filter_map(|p| index.nearest_neighbor_iter(p).nth(1).map(|q| (q.geom()[0] - p[0]).hypot(q.geom()[1] - p[1])))
        .collect();
    if d.is_empty() {
        return f64::NAN;
    }
    crate::stats::quantile(&mut d, 0.5)
}

/// Pairs (moving index, fixed index) of moving points that land within `tol` of a fixed point.
fn line_up(t: &Similarity, moving: &[[f64; 2]], fixed_index: &RTree<Indexed>, tol: f64) -> Vec<(usize, usize, f64)> {
    moving
        .iter()
        .enumerate()
        .filter_map(|(i, &p)| {
            let q = t.apply(p);
            let n = fixed_index.nearest_neighbor(&q)?;
            let d = (n.geom()[0] - q[0]).hypot(n.geom()[1] - q[1]);
            (d <= tol).then_some((i, n.data, d))
        })
        .collect()
}

/// Whether `t` is a pose change [`register`] searches.
fn plausible(t: &Similarity) -> bool {
    (1.0 / MAX_SCALE..=MAX_SCALE).contains(&t.scale()) && t.rotation_deg().abs() <= MAX_ROTATION_DEG
}

/// Iterated closest points from a proposal, tolerance shrinking from a third of the spacing.
/// A fit drawn out of the poses searched lines up nothing: from a wrong proposal, the closest
/// points can shrink the scale towards 0, every dot onto one (docs/decisions.md#registration-collapse).
fn refine(
    start: Similarity,
    moving: &[[f64; 2]],
    fixed: &[[f64; 2]],
    fixed_index: &RTree<Indexed>,
    spacing: f64,
) -> (Similarity, Vec<(usize, usize, f64)>) {
    let mut t = start;
    let mut pairs = Vec::new();
    for tol in [0.35, 0.25, 0.15, 0.08, 0.06, 0.06] {
        pairs = line_up(&t, moving, fixed_index, tol * spacing);
        let (from, to): (Vec<_>, Vec<_>) = pairs.iter().map(|&(i, j, _)| (moving[i], fixed[j])).unzip();
        match Similarity::fit(&from, &to) {
            // Drawn out of the poses searched: a wrong proposal, with nothing lined up.
            Some(f) if !plausible(&f) => return (t, Vec::new()),
            Some(f) if pairs.len() >= 3 => t = f,
            _ => break,
        }
    }
    (t, pairs)
}

/// Points of `points` whose image under `t` falls inside `frame` (width, height, px) by at
/// least `margin` px.
pub fn inside(points: &[[f64; 2]], t: &Similarity, frame: (f64, f64), margin: f64) -> usize {
    points
        .iter()
        .filter(|&&p| {
            let q = t.apply(p);
            q[0] >= margin - 0.5
                && q[1] >= margin - 0.5
                && q[0] <= frame.0 - 0.5 - margin
                && q[1] <= frame.1 - 0.5 - margin
        })
        .count()
}

/// The widest pose change searched: the same area photographed at another visit is a little
/// turned and nearer or farther, not upside down (EXIF orientation is already applied).
pub const MAX_ROTATION_DEG: f64 = 45.0;
/// The largest length factor searched either way (from 1 / MAX_SCALE to MAX_SCALE).
pub const MAX_SCALE: f64 = 1.5;
/// Dots a registration must share, and the share of them that must line up: enough that sparse
/// dots among as many stray detections (hair, pores) do not line up at a wrong pose
/// (docs/decisions.md#lined-up-share).
const MIN_SHARED: usize = 12;
const MIN_LINED_UP: f64 = 0.25;
/// Fewest dots of each visit to register, and fewest to line up.
const MIN_DOTS: usize = 8;

/// Registers `moving` (a later visit's dot centres, in a frame of `moving_frame` px) onto
/// `fixed` (the first visit's, in `fixed_frame`). Err with a reason when the two do not show
/// the same scalp area (too few dots line up) or there are too few dots to tell.
///
/// Triangles are formed with each dot's nearest few neighbours. Where one visit shows far more
/// dots than the other (its dots faded out of sight at the other, or stray detections doubled
/// them), a dot's nearest neighbours at one visit are not those at the other. There the search
/// runs again with the denser visit's neighbourhoods widened in proportion, and the pose that
/// lines up more dots is kept (docs/decisions.md#widened-neighbourhoods).
pub fn register(
    moving: &[[f64; 2]],
    fixed: &[[f64; 2]],
    moving_frame: (f64, f64),
    fixed_frame: (f64, f64),
) -> Result<Registration, String> {
    if moving.len() < MIN_DOTS || fixed.len() < MIN_DOTS {
        return Err(format!(
            "too few dots to register ({} and {}; at least {MIN_DOTS} each)",
            moving.len(),
            fixed.len()
        ));
    }
    let search = Search::new(moving, fixed, moving_frame, fixed_frame);
    let plain = search.run(NEIGHBOURS, NEIGHBOURS);
    let ratio = moving.len() as f64 / fixed.len() as f64;
    if (1.0 / DENSER..=DENSER).contains(&ratio) {
        return plain;
    }
    let widened = |r: f64| ((NEIGHBOURS as f64 * r).ceil() as usize).min(MAX_NEIGHBOURS);
    match (plain, search.run(widened(ratio), widened(1.0 / ratio))) {
        (Ok(p), Ok(w)) => Ok(if w.matched > p.matched { w } else { p }),
        (Err(_), Ok(w)) => Ok(w),
        (p, _) => p,
    }
}

/// The two visits' dots, indexed for a search.
struct Search<'a> {
    moving: &'a [[f64; 2]],
    fixed: &'a [[f64; 2]],
    moving_frame: (f64, f64),
    fixed_frame: (f64, f64),
    moving_index: RTree<Indexed>,
    fixed_index: RTree<Indexed>,
    spacing: f64,
}

impl<'a> Search<'a> {
    fn new(moving: &'a [[f64; 2]], fixed: &'a [[f64; 2]], moving_frame: (f64, f64), fixed_frame: (f64, f64)) -> Self {
        Search {
            moving,
            fixed,
            moving_frame,
            fixed_frame,
            moving_index: tree(moving),
            fixed_index: tree(fixed),
            spacing: typical_spacing(fixed),
        }
    }

    /// The best transform from triangles of each moving dot with `k_moving` neighbours and each
    /// fixed dot with `k_fixed`, judged by the dots it lines up.
    fn run(&self, k_moving: usize, k_fixed: usize) -> Result<Registration, String> {
        let (moving, fixed, spacing) = (self.moving, self.fixed, self.spacing);
        let fixed_triangles = triangles(fixed, &self.fixed_index, 0..fixed.len(), k_fixed);
        // A few hundred dots of the later visit carry enough triangles to find the transform.
        let stride = moving.len().div_ceil(500);
        let moving_triangles = triangles(moving, &self.moving_index, (0..moving.len()).step_by(stride), k_moving);
        let shapes: RTree<Indexed> =
            RTree::bulk_load(fixed_triangles.iter().enumerate().map(|(i, t)| Indexed::new(t.shape, i)).collect());

        // Votes in cells of (log scale, rotation, where the moving frame's centre lands).
        let centre = [self.moving_frame.0 / 2.0, self.moving_frame.1 / 2.0];
        let mut votes: HashMap<[i64; 4], (u32, Similarity)> = HashMap::new();
        const SHAPE_TOLERANCE: f64 = 0.02;
        for m in &moving_triangles {
            let from = m.vertices.map(|v| moving[v]);
            for f in shapes.locate_within_distance(m.shape, SHAPE_TOLERANCE * SHAPE_TOLERANCE) {
                let to = fixed_triangles[f.data].vertices.map(|v| fixed[v]);
                let Some(t) = Similarity::fit(&from, &to) else { continue };
                let s = t.scale();
                if !plausible(&t) {
                    continue;
                }
                let c = t.apply(centre);
                let key = [
                    (s.ln() / 0.04).round() as i64,
                    (t.rotation_deg() / 3.0).round() as i64,
                    (c[0] / (0.5 * spacing)).floor() as i64,
                    (c[1] / (0.5 * spacing)).floor() as i64,
                ];
                let e = votes.entry(key).or_insert((0, t));
                e.0 += 1;
            }
        }
        let mut ranked: Vec<([i64; 4], u32, Similarity)> = votes.into_iter().map(|(k, (n, t))| (k, n, t)).collect();
        // Ties broken by the cell, so that the result never depends on hashing order.
        ranked.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        let (transform, pairs) = ranked
            .iter()
            .take(24)
            .map(|&(_, _, t)| refine(t, moving, fixed, &self.fixed_index, spacing))
            .max_by(|x, y| x.1.len().cmp(&y.1.len()).then(y.0.tx.total_cmp(&x.0.tx)))
            .ok_or_else(|| {
                "no triangle of dots has a counterpart: the photos show different dot patterns".to_string()
            })?;
        let residual_px = (pairs.iter().map(|p| p.2 * p.2).sum::<f64>() / pairs.len().max(1) as f64).sqrt();
        // Dots either visit should see in the shared field of view, half a spacing in from the edges.
        let margin = 0.5 * spacing;
        let shared = inside(moving, &transform, self.fixed_frame, margin).min(inside(
            fixed,
            &transform.inverse(),
            self.moving_frame,
            margin,
        ));
        if shared < MIN_SHARED {
            return Err(format!(
                "the photos share too little of the scalp: {shared} dots in the shared field of view, at least {MIN_SHARED} needed"
            ));
        }
        let needed = ((MIN_LINED_UP * shared as f64).ceil() as usize).max(MIN_DOTS);
        if pairs.len() < needed {
            return Err(format!(
                "only {} of the {} dots in the best shared field of view line up (at least {needed} needed): the photos seem to show different scalp areas, or too few dots are visible",
                pairs.len(),
                shared
            ));
        }
        Ok(Registration { transform, matched: pairs.len(), residual_px, shared_dots: shared })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A jittered hexagonal lattice like an SMP layout, `n` x `n` dots 40 px apart.
    fn layout(seed: u64, n: usize) -> Vec<[f64; 2]> {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut v = Vec::new();
        for i in 0..n {
            for j in 0..n {
                let x = 40.0 * j as f64 + if i % 2 == 1 { 20.0 } else { 0.0 };
                v.push([x + r.random_range(-8.0..8.0), 35.0 * i as f64 + r.random_range(-8.0..8.0)]);
            }
        }
        v
    }

    #[test]
    fn similarity_fit_inverts_and_composes() {
        let t = Similarity { a: 1.05 * 0.2f64.cos(), b: 1.05 * 0.2f64.sin(), tx: 30.0, ty: -12.0 };
        let p = [[0.0, 0.0], [10.0, 3.0], [-4.0, 8.0]];
        let q: Vec<_> = p.iter().map(|&x| t.apply(x)).collect();
        let f = Similarity::fit(&p, &q).unwrap();
        assert!((f.a - t.a).abs() < 1e-12 && (f.b - t.b).abs() < 1e-12 && (f.tx - t.tx).abs() < 1e-9);
        let back = t.inverse().apply(t.apply([5.0, 7.0]));
        assert!((back[0] - 5.0).abs() < 1e-9 && (back[1] - 7.0).abs() < 1e-9);
    }

    #[test]
    fn finds_a_rotated_scaled_shifted_visit_with_dots_lost_and_added() {
        let fixed = layout(1, 30);
        let truth = Similarity {
            a: 1.08 * 12f64.to_radians().cos(),
            b: 1.08 * 12f64.to_radians().sin(),
            tx: 250.0,
            ty: -140.0,
        };
        let inv = truth.inverse();
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        // The later visit: 30 % of the dots lost, 30 % new ones, positions measured to 0.3 px.
        let mut moving: Vec<[f64; 2]> =
            fixed.iter().filter(|_| r.random::<f64>() > 0.3).map(|&p| inv.apply(p)).collect();
        for p in &mut moving {
            *p = [p[0] + r.random_range(-0.3..0.3), p[1] + r.random_range(-0.3..0.3)];
        }
        for _ in 0..(0.3 * fixed.len() as f64) as usize {
            moving.push([r.random_range(-300.0..1000.0), r.random_range(-300.0..1000.0)]);
        }
        let frame = (1200.0, 1050.0);
        let reg = register(&moving, &fixed, frame, frame).unwrap();
        for p in [[0.0, 0.0], [600.0, 500.0], [1200.0, 1000.0]] {
            let (a, b) = (reg.transform.apply(p), truth.apply(p));
            assert!((a[0] - b[0]).hypot(a[1] - b[1]) < 0.5, "{a:?} vs {b:?}");
        }
        assert!(reg.residual_px < 0.5);
    }

    #[test]
    fn finds_a_visit_whose_dots_mostly_faded_among_as_many_strays() {
        // Dot centres of synthetic series 2015: its third visit found 92 dots, 46 of them real
        // (a fifth of the first visit's), and the first visit 242; the truth's transform from
        // the dots both found.
        let f = Fixture::read(include_str!("../../../../fixtures/registration/faded-visit-with-strays.json"));
        // A dot's nearest neighbours at the sparse visit are not those at the first: the plain
        // search alone lines up 16 dots at a pose 380 px off.
        let plain = Search::new(&f.moving, &f.fixed, f.moving_frame, f.fixed_frame).run(NEIGHBOURS, NEIGHBOURS);
        assert!(!plain.is_ok_and(|r| f.error(&r.transform) < 10.0));
        let reg = f.register().unwrap();
        assert!(f.error(&reg.transform) < 0.5);
        assert!(reg.matched >= 30, "{}", reg.matched);
    }

    /// Dot centres of one later visit and the first, their frames and the true transform, as
    /// the files of fixtures/registration/ hold them (written by the synth crate's `refusals`
    /// example).
    #[derive(serde::Deserialize)]
    struct Fixture {
        moving: Vec<[f64; 2]>,
        fixed: Vec<[f64; 2]>,
        moving_frame: (f64, f64),
        fixed_frame: (f64, f64),
        truth: [f64; 4],
    }

    impl Fixture {
        fn read(doc: &str) -> Fixture {
            serde_json::from_str(doc).unwrap()
        }

        fn truth(&self) -> Similarity {
            let [a, b, tx, ty] = self.truth;
            Similarity { a, b, tx, ty }
        }

        fn register(&self) -> Result<Registration, String> {
            register(&self.moving, &self.fixed, self.moving_frame, self.fixed_frame)
        }

        /// Largest distance, px, between where `found` and the truth carry a point of the visit.
        fn error(&self, found: &Similarity) -> f64 {
            found.farthest_apart(&self.truth(), self.moving_frame)
        }
    }

    #[test]
    fn a_wrong_proposal_does_not_collapse_onto_one_dot() {
        // Synthetic series 2000, fifth visit: 76 dots found (55 real, 37 of them also found at
        // the first visit, which found 99 with its strays). Refined freely, one wrong proposal
        // shrank to a scale of 0 that put all 76 dots on one dot of the first visit, more than
        // the 37 the true pose lines up, and the visit was refused.
        let f = Fixture::read(include_str!("../../../../fixtures/registration/collapsing-visit.json"));
        let reg = f.register().unwrap();
        assert!(f.error(&reg.transform) < 1.0);
        assert!(reg.matched >= 30 && reg.matched <= 40, "{}", reg.matched);
    }

    #[test]
    fn refuses_another_scalp_area() {
        let (a, b) = (layout(1, 20), layout(2, 20));
        let frame = (800.0, 700.0);
        let err = register(&b, &a, frame, frame).unwrap_err();
        assert!(err.contains("different scalp areas"), "{err}");
    }
}
