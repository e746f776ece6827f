//! Finding the marker: dark closed shapes of the frame's proportions on a reduced luminance
//! plane, then a check against the card's known pattern in each of the four ways up.

use crate::photo::Photo;
use crate::plane::Plane;

use super::homography::{self, Homography};
use super::layout::{self, CARD_MM, FRAME_IN, FRAME_OUT};
use super::sample;

/// Longest side of the plane the search runs on, px: a 16 mm card at 10 px/mm in a 2 MP photo
/// keeps a frame 6 px thick.
const SEARCH_SIDE: usize = 1024;
/// Smallest scale at which the marker is sought, px per mm (its frame is then 7 px thick).
pub const MIN_PX_PER_MM: f64 = 6.0;
/// Lowest correlation of the card's interior with its pattern that counts as the marker.
const MIN_PATTERN: f64 = 0.6;
/// How much better the best way up must match than the next: the pattern is orientation-unique.
const MIN_PATTERN_MARGIN: f64 = 0.15;

/// What the search found.
#[derive(Debug, Default)]
pub struct Found {
    /// Candidates that match the card's pattern: rough homography (card mm -> px) and the
    /// pattern's correlation, best first.
    pub markers: Vec<(Homography, f64)>,
    /// A dark frame-like shape cut by the photo's edge, on a bright card.
    pub cut_off: bool,
    /// A frame-like quadrilateral whose pattern matched only in part (covered or damaged).
    pub partial: bool,
    /// A flat white area of the size of the card's interior, away from the photo's edges: paper
    /// whose frame was not found in full.
    pub paper: bool,
}

struct Component {
    pixels: Vec<(usize, usize)>,
    touches_border: bool,
}

/// Searches the photo for the marker.
pub fn search(photo: &Photo) -> Found {
    let factor = photo.width().max(photo.height()).div_ceil(SEARCH_SIDE).max(1);
    let plane = sample::luminance_plane(photo, factor);
    let dark = opened(&dark_mask(&plane), plane.width, plane.height);
    let frame_area = (CARD_MM - 2.0 * FRAME_OUT).powi(2) - (CARD_MM - 2.0 * FRAME_IN).powi(2);
    let min_area = frame_area * (MIN_PX_PER_MM / factor as f64).powi(2);
    let mut found = Found::default();
    let mut sorted = plane.data.clone();
    let photo_median = crate::stats::median(&mut sorted) as f64;
    for c in components(&dark, plane.width, plane.height) {
        if (c.pixels.len() as f64) < min_area || c.pixels.len() * 2 > plane.data.len() {
            continue;
        }
        if c.touches_border {
            found.cut_off |= bright_inside(&plane, &c, photo_median);
            continue;
        }
        let Some(quad) = quad_of(&c.pixels) else { continue };
        // The frame covers 0.31 of its outer square; hair or a finger on it adds to that.
        let fill = c.pixels.len() as f64 / polygon_area(&quad);
        let px = quad.map(|[x, y]| [(x + 0.5) * factor as f64 - 0.5, (y + 0.5) * factor as f64 - 0.5]);
        match verify(photo, &px) {
            Some((h, score, true)) if (0.12..0.6).contains(&fill) => found.markers.push((h, score)),
            // A dark frame on paper, but not the card's shape or pattern in full: covered. (The
            // card's own filled squares, fill near 1, are not frames.)
            Some(_) if fill < 0.8 => found.partial = true,
            Some(_) => {}
            None => {}
        }
    }
    found.markers.sort_by(|a, b| b.1.total_cmp(&a.1));
    found.paper = paper_seen(&plane, factor, photo_median);
    found
}

/// Whether a flat bright area (over 1.8 times the photo's median and half the brightest light
/// nearby, quartiles within 15 %) of at least half the card's interior lies away from the edges.
fn paper_seen(plane: &Plane, factor: usize, photo_median: f64) -> bool {
    let reference = local_max(plane);
    let bright: Vec<bool> = (0..plane.data.len())
        .map(|i| {
            let v = plane.data[i] as f64;
            v > 1.8 * photo_median && v > 0.5 * reference[i] as f64
        })
        .collect();
    let interior = 0.5 * (CARD_MM - 2.0 * FRAME_IN).powi(2) * (MIN_PX_PER_MM / factor as f64).powi(2);
    components(&bright, plane.width, plane.height).iter().any(|c| {
        if c.touches_border || (c.pixels.len() as f64) < interior {
            return false;
        }
        let mut v: Vec<f64> = c.pixels.iter().map(|&(x, y)| plane.at(x, y) as f64).collect();
        crate::stats::quantile(&mut v, 0.25) > 0.85 * crate::stats::quantile(&mut v, 0.75)
    })
}

/// Dark: under 0.3 of the brightest light nearby ([`local_max`]).
fn dark_mask(plane: &Plane) -> Vec<bool> {
    let reference = local_max(plane);
    (0..plane.data.len()).map(|i| reference[i] > 0.0 && plane.data[i] < 0.3 * reference[i]).collect()
}

/// The brightest light near each pixel: the maximum over blocks of 16 px, 5 x 5 blocks around.
fn local_max(plane: &Plane) -> Vec<f32> {
    const B: usize = 16;
    let (bw, bh) = (plane.width.div_ceil(B), plane.height.div_ceil(B));
    let mut bmax = vec![0.0f32; bw * bh];
    for y in 0..plane.height {
        for x in 0..plane.width {
            let i = (y / B) * bw + x / B;
            bmax[i] = bmax[i].max(plane.at(x, y));
        }
    }
    let near = |bx: usize, by: usize| {
        let mut m = 0.0f32;
        for y in by.saturating_sub(2)..(by + 3).min(bh) {
            for x in bx.saturating_sub(2)..(bx + 3).min(bw) {
                m = m.max(bmax[y * bw + x]);
            }
        }
        m
    };
    let reference: Vec<f32> = (0..bw * bh).map(|i| near(i % bw, i / bw)).collect();
    (0..plane.data.len()).map(|i| reference[(i / plane.width / B) * bw + (i % plane.width) / B]).collect()
}

/// Morphological opening with a 3 x 3 square: takes off hairs and lines under 3 px wide.
fn opened(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let pass = |m: &[bool], keep_all: bool| -> Vec<bool> {
        (0..m.len())
            .map(|i| {
                let (x, y) = ((i % w) as isize, (i / w) as isize);
                let mut all = true;
                let mut any = false;
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        let (xx, yy) = (x + dx, y + dy);
                        let v = xx >= 0
                            && yy >= 0
                            && xx < w as isize
                            && yy < h as isize
                            && m[yy as usize * w + xx as usize];
                        all &= v;
                        any |= v;
                    }
                }
                if keep_all { all } else { any }
            })
            .collect()
    };
    pass(&pass(mask, true), false)
}

fn components(mask: &[bool], w: usize, h: usize) -> Vec<Component> {
    let mut seen = vec![false; mask.len()];
    let mut out = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        let (mut stack, mut pixels, mut border) = (vec![start], Vec::new(), false);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            pixels.push((x, y));
            border |= x == 0 || y == 0 || x == w - 1 || y == h - 1;
            let mut push = |j: usize| {
                if mask[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                push(i - 1);
            }
            if x + 1 < w {
                push(i + 1);
            }
            if y > 0 {
                push(i - w);
            }
            if y + 1 < h {
                push(i + w);
            }
        }
        out.push(Component { pixels, touches_border: border });
    }
    out
}

/// A large dark shape cut by the edge with paper in its box: thin (under 0.6 of its box),
/// and its box a fifth or more flat bright paper (over 1.8 times the photo's median, quartiles
/// within 15 %) against which the shape is black (its median under a quarter of the paper's).
fn bright_inside(plane: &Plane, c: &Component, photo_median: f64) -> bool {
    let (x0, x1) = c.pixels.iter().fold((usize::MAX, 0), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = c.pixels.iter().fold((usize::MAX, 0), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let box_area = ((x1 - x0 + 1) * (y1 - y0 + 1)) as f64;
    if c.pixels.len() as f64 > 0.6 * box_area {
        return false;
    }
    let mut bright: Vec<f64> = Vec::new();
    for y in y0..=y1 {
        for x in x0..=x1 {
            let v = plane.at(x, y) as f64;
            if v > 1.8 * photo_median {
                bright.push(v);
            }
        }
    }
    if (bright.len() as f64) < 0.2 * box_area {
        return false;
    }
    let (p25, paper, p75) = (
        crate::stats::quantile(&mut bright, 0.25),
        crate::stats::quantile(&mut bright, 0.5),
        crate::stats::quantile(&mut bright, 0.75),
    );
    let mut dark: Vec<f64> = c.pixels.iter().map(|&(x, y)| plane.at(x, y) as f64).collect();
    p25 > 0.85 * p75 && crate::stats::quantile(&mut dark, 0.5) < 0.25 * paper
}

/// Four corners of a convex dark shape, clockwise on screen: the farthest point from the
/// centroid, the farthest from it, then the farthest from their line on either side.
fn quad_of(p: &[(usize, usize)]) -> Option<[[f64; 2]; 4]> {
    let n = p.len() as f64;
    let c = [p.iter().map(|q| q.0 as f64).sum::<f64>() / n, p.iter().map(|q| q.1 as f64).sum::<f64>() / n];
    let pt = |q: &(usize, usize)| [q.0 as f64, q.1 as f64];
    let far = |from: [f64; 2]| p.iter().map(pt).max_by(|a, b| dist2(*a, from).total_cmp(&dist2(*b, from)));
    let a = far(c)?;
    let b = far(a)?;
    let side = |q: [f64; 2]| (b[0] - a[0]) * (q[1] - a[1]) - (b[1] - a[1]) * (q[0] - a[0]);
    let d = p.iter().map(pt).max_by(|x, y| side(*x).total_cmp(&side(*y)))?;
    let e = p.iter().map(pt).min_by(|x, y| side(*x).total_cmp(&side(*y)))?;
    let mut q = [a, d, b, e];
    let (cx, cy) = (q.iter().map(|v| v[0]).sum::<f64>() / 4.0, q.iter().map(|v| v[1]).sum::<f64>() / 4.0);
    q.sort_by(|u, v| (u[1] - cy).atan2(u[0] - cx).total_cmp(&(v[1] - cy).atan2(v[0] - cx)));
    let short = (0..4).map(|i| dist2(q[i], q[(i + 1) % 4]).sqrt()).fold(f64::INFINITY, f64::min);
    (short > 4.0 && side(d) > 0.0 && side(e) < 0.0).then_some(q)
}

fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// Area of a polygon (shoelace), px^2.
pub fn polygon_area(p: &[[f64; 2]]) -> f64 {
    0.5 * (0..p.len()).map(|i| p[i][0] * p[(i + 1) % p.len()][1] - p[(i + 1) % p.len()][0] * p[i][1]).sum::<f64>().abs()
}

/// The four outer corners of the frame on the card, mm, clockwise from the top-left.
pub fn outer_corners() -> [[f64; 2]; 4] {
    let (o, e) = (FRAME_OUT, CARD_MM - FRAME_OUT);
    [[o, o], [e, o], [e, e], [o, e]]
}

/// Checks a quadrilateral against the card in each of its four ways up: the rough homography
/// of the best, its correlation with the card's interior, and whether it counts as the marker
/// (dark frame, pattern matched, the best way up clearly better than the next). None when the
/// frame is not dark against the paper around it.
fn verify(photo: &Photo, quad: &[[f64; 2]; 4]) -> Option<(Homography, f64, bool)> {
    let els = layout::elements();
    const N: usize = 16;
    let grid: Vec<([f64; 2], f64)> = (0..N * N)
        .map(|k| {
            let t = |i: usize| FRAME_IN + 0.3 + (CARD_MM - 2.0 * FRAME_IN - 0.6) * (i as f64 + 0.5) / N as f64;
            let (u, v) = (t(k % N), t(k / N));
            let r = layout::reflectance_at(&els, u, v).unwrap_or([1.0; 3]);
            ([u, v], (0..3).map(|c| crate::colour::LUMA[c] as f64 * r[c]).sum())
        })
        .collect();
    let mut scores = Vec::with_capacity(4);
    for rot in 0..4 {
        let px: Vec<[f64; 2]> = (0..4).map(|i| quad[(i + rot) % 4]).collect();
        let h = homography::dlt(&outer_corners(), &px)?;
        let pairs: Vec<(f64, f64)> = grid
            .iter()
            .filter_map(|([u, v], want)| {
                homography::apply(&h, *u, *v).and_then(|[x, y]| sample::lum_at(photo, x, y)).map(|got| (*want, got))
            })
            .collect();
        scores.push((h, correlation(&pairs)));
    }
    let frame_contrast = contrast(photo, &scores[0].0)?;
    if frame_contrast > 0.4 {
        return None;
    }
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    let ok = scores[0].1 >= MIN_PATTERN && scores[0].1 - scores[1].1 >= MIN_PATTERN_MARGIN;
    let (h, s) = scores.swap_remove(0);
    Some((h, s, ok))
}

/// Mean luminance on the frame's band over that on the paper just inside and outside it.
fn contrast(photo: &Photo, h: &Homography) -> Option<f64> {
    let band = |d: f64| -> Option<f64> {
        let (lo, hi) = (d, CARD_MM - d);
        let pts: Vec<f64> = (0..40)
            .filter_map(|k| {
                let t = lo + (hi - lo) * (k as f64 + 0.5) / 40.0;
                let uv = [[t, lo], [hi, t], [t, hi], [lo, t]][k % 4];
                homography::apply(h, uv[0], uv[1]).and_then(|[x, y]| sample::lum_at(photo, x, y))
            })
            .collect();
        (pts.len() >= 20).then(|| pts.iter().sum::<f64>() / pts.len() as f64)
    };
    let frame = band(0.5 * (FRAME_OUT + FRAME_IN))?;
    let paper = 0.5 * (band(0.5 * FRAME_OUT).unwrap_or(0.0) + band(FRAME_IN + 0.35)?);
    (paper > 0.0).then(|| frame / paper)
}

/// Pearson correlation of (expected, observed) pairs; 0 when either does not vary.
pub fn correlation(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    if n < 8.0 {
        return 0.0;
    }
    let (ma, mb) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (a, b) in pairs {
        sab += (a - ma) * (b - mb);
        saa += (a - ma).powi(2);
        sbb += (b - mb).powi(2);
    }
    if saa > 0.0 && sbb > 0.0 { sab / (saa * sbb).sqrt() } else { 0.0 }
}
