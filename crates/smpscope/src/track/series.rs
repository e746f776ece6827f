//! Phase 2: the registered visits of a series and the dot identities they share, with what
//! each photo shows of them: its field of view on the first visit, the size of its real dots,
//! its stray detections, whether it keeps its dots' colour, and its light.

use chrono::NaiveDate;

use super::change::{View, light_onto};
use super::identity::{Catalogue, Identity};
use super::register::{self, Registration, Similarity};
use super::visits::{Ordered, centres, frame};
use super::{MIN_COLOUR_DIAMETER_PX, MIN_COLOUR_DIAMETER_SUBSAMPLED_PX, trend};
use crate::analysis::Analysis;
use crate::stats::median_of;

/// A photo whose dots are too small for their colour to be followed.
pub(super) struct ColourShort {
    /// The dots' size, px ([`Series::real_size`]).
    pub size: f64,
    /// The size colour needs in this kind of photo, px.
    pub needed: f64,
    /// What kind of photo it is (which limits colour detail).
    pub kind: String,
}

/// The visits tracked (in date order) and the identities of their dots.
pub(super) struct Series {
    /// Each visit's index among the visits given.
    pub inputs: Vec<usize>,
    /// Each visit's date.
    pub dates: Vec<NaiveDate>,
    /// Months since the first visit.
    pub months: Vec<f64>,
    /// Each visit's analysis.
    pub analyses: Vec<Analysis>,
    /// How each visit lies on the first; None for the first.
    pub registrations: Vec<Option<Registration>>,
    /// Carries each visit's px onto the first visit's.
    pub to_first: Vec<Similarity>,
    /// Each visit's median dot diameter, px: how far in from its edges a dot is in view.
    pub margins: Vec<f64>,
    /// Every dot identity of the series.
    pub ids: Vec<Identity>,
}

impl Series {
    /// The identities of the dots: a dot continues one within a typical dot diameter (farther
    /// when registration is loose, never more than 0.45 of the spacing, so that a neighbour is
    /// never taken).
    pub fn identify(o: Ordered) -> Series {
        let to_first: Vec<Similarity> =
            o.registrations.iter().map(|r| r.map_or(Similarity::IDENTITY, |r| r.transform)).collect();
        let diameter_px = |a: &Analysis| median_of(a.dots.iter().map(|d| d.diameter_px).collect()).unwrap_or(3.0);
        let margins: Vec<f64> = o.analyses.iter().map(diameter_px).collect();
        let first_centres = centres(&o.analyses[0]);
        let spacing = register::typical_spacing(&first_centres);
        let mut catalogue = Catalogue::new(&first_centres, o.analyses.len());
        for (v, a) in o.analyses.iter().enumerate().skip(1) {
            let residual = o.registrations[v].map_or(0.0, |r| r.residual_px);
            let tolerance = margins[0].max(4.0 * residual).min(0.45 * spacing);
            let carried: Vec<[f64; 2]> = centres(a).iter().map(|&p| to_first[v].apply(p)).collect();
            catalogue.add_visit(v, &carried, tolerance);
        }
        let months = o.dates.iter().map(|d| (*d - o.dates[0]).num_days() as f64 / trend::MONTH_DAYS).collect();
        Series {
            inputs: o.inputs,
            dates: o.dates,
            months,
            analyses: o.analyses,
            registrations: o.registrations,
            to_first,
            margins,
            ids: catalogue.identities,
        }
    }

    /// How many visits are tracked.
    pub fn len(&self) -> usize {
        self.analyses.len()
    }

    /// um per px of the first visit, when it has a scale.
    pub fn um_per_px(&self) -> Option<f64> {
        self.analyses[0].scale.px_per_mm.map(|s| 1000.0 / s)
    }

    /// Whether a place (px of the first visit) lies in visit `v`'s field of view, a dot diameter
    /// in from the edges.
    pub fn in_view(&self, pos: [f64; 2], v: usize) -> bool {
        register::inside(&[pos], &self.to_first[v].inverse(), frame(&self.analyses[v]), self.margins[v]) == 1
    }

    /// The identities (with their index) in the view visits `b` and `t` share.
    pub fn shared(&self, b: usize, t: usize) -> impl Iterator<Item = (usize, &Identity)> {
        self.ids.iter().enumerate().filter(move |(_, id)| self.in_view(id.position, b) && self.in_view(id.position, t))
    }

    /// Visit `v`'s median dot diameter, px, over the dots found at another visit too: the stray
    /// detections that come and go are mostly small fragments of hair, and drag a plain median
    /// down.
    pub fn real_size(&self, v: usize) -> f64 {
        let sizes = self.ids.iter().filter(|id| id.sightings() >= 2).filter_map(|id| id.dots[v]);
        median_of(sizes.map(|d| self.analyses[v].dots[d].diameter_px).collect()).unwrap_or(self.margins[v])
    }

    /// Of visit `v`'s dots whose place another visit shows, the share found nowhere else.
    pub fn stray_share(&self, v: usize) -> f64 {
        let checkable: Vec<&Identity> = (self.ids.iter())
            .filter(|id| id.dots[v].is_some() && (0..self.len()).any(|u| u != v && self.in_view(id.position, u)))
            .collect();
        checkable.iter().filter(|id| id.sightings() == 1).count() as f64 / checkable.len().max(1) as f64
    }

    /// Per photo, where its dots are too small for their colour to be followed: the size they
    /// are ([`Series::real_size`]), the size it would need (px) and what kind of photo it is.
    pub fn colour_short(&self) -> Vec<Option<ColourShort>> {
        (0..self.len())
            .map(|v| {
                let size = self.real_size(v);
                colour_needs(&self.analyses[v]).filter(|(px, _)| size < *px).map(|(needed, kind)| ColourShort {
                    size,
                    needed,
                    kind,
                })
            })
            .collect()
    }

    /// Each visit's dots as the first visit's px and light show them; the light from the skin
    /// around the dots both visits show.
    pub fn views(&self) -> Vec<View<'_>> {
        (0..self.len())
            .map(|v| {
                let skins: Vec<([f64; 3], [f64; 3])> = (self.ids.iter())
                    .filter_map(|id| {
                        Some((self.analyses[0].dots[id.dots[0]?].skin_lab, self.analyses[v].dots[id.dots[v]?].skin_lab))
                    })
                    .collect();
                View { dots: &self.analyses[v].dots, scale: self.to_first[v].scale(), light: light_onto(&skins) }
            })
            .collect()
    }
}

/// The median dot size, px, a photo needs for its dots' colour to be followed, and what kind of
/// photo it is; None for lossless files, which keep the colour of every pixel.
fn colour_needs(a: &Analysis) -> Option<(f64, String)> {
    (a.image.format == "jpeg").then(|| match &a.image.chroma_subsampling {
        Some(s) => (MIN_COLOUR_DIAMETER_SUBSAMPLED_PX, format!("a JPEG with its colour at {s}")),
        None => (MIN_COLOUR_DIAMETER_PX, "a JPEG".to_string()),
    })
}
