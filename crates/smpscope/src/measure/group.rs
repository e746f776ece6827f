//! Grouping: which candidates are fitted jointly, because their windows' tails meet.

use imageproc::union_find::DisjointSetForest;

use crate::detect::Candidate;

/// Largest group fitted jointly; bigger clusters are fitted dot by dot.
const MAX_GROUP: usize = 4;

/// Groups candidates whose fit windows overlap enough for their tails to meet: indices into
/// `c`, each group ascending and the groups in order of their smallest index (the shared-spread
/// search samples them in that order). A cluster of more than [`MAX_GROUP`] is split into
/// single candidates.
pub(super) fn group_touching(c: &[Candidate]) -> Vec<Vec<usize>> {
    let mut forest = DisjointSetForest::new(c.len());
    let cell = c.iter().map(|d| 1.3 * d.radius_px + 1.0).fold(4.0, f64::max) * 2.0;
    let mut grid: std::collections::HashMap<(i64, i64), Vec<usize>> = Default::default();
    for (i, d) in c.iter().enumerate() {
        grid.entry(((d.x / cell).floor() as i64, (d.y / cell).floor() as i64)).or_default().push(i);
    }
    for (i, a) in c.iter().enumerate() {
        let (gx, gy) = ((a.x / cell).floor() as i64, (a.y / cell).floor() as i64);
        for dy in -1..=1 {
            for dx in -1..=1 {
                for &j in grid.get(&(gx + dx, gy + dy)).map(Vec::as_slice).unwrap_or(&[]) {
                    let b = &c[j];
                    if j > i && (a.x - b.x).hypot(a.y - b.y) < 1.3 * (a.radius_px + b.radius_px) + 1.0 {
                        forest.union(i, j);
                    }
                }
            }
        }
    }
    // `trees` lists the sets in order of their smallest element, each ascending.
    forest
        .trees()
        .into_iter()
        .flat_map(|g| if g.len() > MAX_GROUP { g.into_iter().map(|i| vec![i]).collect() } else { vec![g] })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Candidates of radius 2 px along the x axis (4 px apart touch, 8 px apart do not).
    fn along_x(xs: &[f64]) -> Vec<Candidate> {
        xs.iter().map(|&x| Candidate { x, y: 0.0, radius_px: 2.0, strength: 10.0, response: 0.1 }).collect()
    }

    #[test]
    fn groups_come_in_order_of_their_smallest_index_and_large_clusters_are_split() {
        let mut xs = vec![0.0, 100.0, 4.0, 200.0, 104.0, 8.0];
        // A chain of 5, more than MAX_GROUP, then one of 4.
        xs.extend((0..5).map(|k| 300.0 + 4.0 * k as f64));
        xs.extend((0..4).map(|k| 400.0 + 4.0 * k as f64));
        let groups = group_touching(&along_x(&xs));
        let mut expected: Vec<Vec<usize>> = vec![vec![0, 2, 5], vec![1, 4], vec![3]];
        expected.extend((6..=10).map(|i| vec![i]));
        expected.push(vec![11, 12, 13, 14]);
        assert_eq!(groups, expected);
        assert!(group_touching(&[]).is_empty());
    }
}
