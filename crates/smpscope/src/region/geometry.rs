//! Plane geometry of the treated region: polygons (inside test, area, clipping to the frame)
//! and the holes of a grid of cells.

/// Marks unmarked cells that cannot be reached from the frame's border without crossing
/// marked cells.
pub(super) fn fill_holes(marked: &mut [bool], cols: usize, rows: usize) {
    let mut outside = vec![false; cols * rows];
    let mut stack: Vec<usize> = (0..cols * rows)
        .filter(|&i| {
            let (x, y) = (i % cols, i / cols);
            (x == 0 || y == 0 || x == cols - 1 || y == rows - 1) && !marked[i]
        })
        .collect();
    for &i in &stack {
        outside[i] = true;
    }
    while let Some(i) = stack.pop() {
        let (x, y) = (i % cols, i / cols);
        let mut visit = |j: usize| {
            if !marked[j] && !outside[j] {
                outside[j] = true;
                stack.push(j);
            }
        };
        if x > 0 {
            visit(i - 1)
        }
        if x + 1 < cols {
            visit(i + 1)
        }
        if y > 0 {
            visit(i - cols)
        }
        if y + 1 < rows {
            visit(i + cols)
        }
    }
    for i in 0..marked.len() {
        if !outside[i] {
            marked[i] = true;
        }
    }
}

/// Whether (x, y) lies inside the polygon (even-odd rule).
pub(super) fn point_in_polygon(p: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut inside = false;
    let mut j = p.len() - 1;
    for i in 0..p.len() {
        let (xi, yi, xj, yj) = (p[i][0], p[i][1], p[j][0], p[j][1]);
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// The polygon's signed area (shoelace formula), px^2.
pub(super) fn shoelace(p: &[[f64; 2]]) -> f64 {
    if p.len() < 3 {
        return 0.0;
    }
    0.5 * p.iter().zip(p.iter().cycle().skip(1)).map(|(a, b)| a[0] * b[1] - b[0] * a[1]).sum::<f64>()
}

/// Sutherland-Hodgman clip of a polygon to the frame [-0.5, w-0.5] x [-0.5, h-0.5].
pub(super) fn clip_to_frame(p: &[[f64; 2]], w: f64, h: f64) -> Vec<[f64; 2]> {
    let edges: [(usize, f64, bool); 4] = [(0, -0.5, true), (0, w - 0.5, false), (1, -0.5, true), (1, h - 0.5, false)];
    let mut poly = p.to_vec();
    for (axis, bound, keep_above) in edges {
        if poly.is_empty() {
            break;
        }
        let inside = |q: &[f64; 2]| if keep_above { q[axis] >= bound } else { q[axis] <= bound };
        let mut out = Vec::new();
        for i in 0..poly.len() {
            let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
            let (ia, ib) = (inside(&a), inside(&b));
            if ia {
                out.push(a);
            }
            if ia != ib {
                let t = (bound - a[axis]) / (b[axis] - a[axis]);
                out.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
            }
        }
        poly = out;
    }
    poly
}
