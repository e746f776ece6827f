//! Dot identities across visits: once a later visit is registered onto the first, each of its
//! dots either continues an identity already seen (the nearest one within a tolerance, each
//! identity taken at most once) or starts a new one (a touch-up or layered session adds dots).

use rstar::RTree;
use rstar::primitives::GeomWithData;

/// One pigment dot followed across visits.
#[derive(Clone, Debug)]
pub struct Identity {
    /// Where it was first seen, px of the first visit.
    pub position: [f64; 2],
    /// The visit it was first seen at.
    pub first_visit: usize,
    /// Its dot index in each visit's analysis, or None where not found.
    pub dots: Vec<Option<usize>>,
}

impl Identity {
    /// How many visits the dot was found at.
    pub fn sightings(&self) -> usize {
        self.dots.iter().flatten().count()
    }
}

/// All identities of a series.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    /// The identities: first the first visit's dots in their order, then new ones as they appear.
    pub identities: Vec<Identity>,
}

impl Catalogue {
    /// Identities for the first visit's dots, with room for `visits` visits.
    pub fn new(first: &[[f64; 2]], visits: usize) -> Self {
        let identities = first
            .iter()
            .enumerate()
            .map(|(i, &position)| {
                let mut dots = vec![None; visits];
                dots[0] = Some(i);
                Identity { position, first_visit: 0, dots }
            })
            .collect();
        Catalogue { identities }
    }

    /// Records visit `visit`, whose dot centres (carried into the first visit's px) are
    /// `positions`: closest pairs within `tolerance` px first, the rest become new identities.
    pub fn add_visit(&mut self, visit: usize, positions: &[[f64; 2]], tolerance: f64) {
        let index: RTree<GeomWithData<[f64; 2], usize>> = RTree::bulk_load(
            self.identities.iter().enumerate().map(|(i, id)| GeomWithData::new(id.position, i)).collect(),
        );
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for (dot, p) in positions.iter().enumerate() {
            for n in index.locate_within_distance(*p, tolerance * tolerance) {
                pairs.push(((n.geom()[0] - p[0]).hypot(n.geom()[1] - p[1]), dot, n.data));
            }
        }
        pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        let mut taken = vec![false; positions.len()];
        for (_, dot, id) in pairs {
            if !taken[dot] && self.identities[id].dots[visit].is_none() {
                taken[dot] = true;
                self.identities[id].dots[visit] = Some(dot);
            }
        }
        let visits = self.identities.first().map_or(visit + 1, |i| i.dots.len());
        for (dot, &p) in positions.iter().enumerate().filter(|(d, _)| !taken[*d]) {
            let mut dots = vec![None; visits];
            dots[visit] = Some(dot);
            self.identities.push(Identity { position: p, first_visit: visit, dots });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_within_tolerance_continues_the_rest_start_new() {
        let mut c = Catalogue::new(&[[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]], 2);
        // Two dots compete for the first identity: the closer one wins, the other is new.
        c.add_visit(1, &[[0.4, 0.0], [0.9, 0.0], [20.5, 0.5], [40.0, 0.0]], 2.0);
        let at1: Vec<Option<usize>> = c.identities.iter().map(|i| i.dots[1]).collect();
        assert_eq!(at1, vec![Some(0), None, Some(2), Some(1), Some(3)]);
        assert_eq!(c.identities[3].first_visit, 1);
    }
}
