//! Phase 4: each visit's figures against its baseline (the first visit, or the last touch-up
//! before it), dot by dot on the identities both show, and the warnings about each photo.

use super::change::{DotChange, View, colour_then_now, compare, ink_retained, pigment_change};
use super::series::{ColourShort, Series};
use super::{FEW_FOUND, RegistrationReport, STRAY_SHARE, VisitReport};
use crate::stats::median_of;
use crate::warning::{Warning, WarningCode};

/// Every visit's report, every identity's change at every visit, the last baseline, and the
/// warnings about the visits.
pub(super) struct Reports {
    /// One per visit tracked, in date order.
    pub visits: Vec<VisitReport>,
    /// Per identity, its change at each visit relative to that visit's baseline.
    pub changes: Vec<Vec<Option<DotChange>>>,
    /// The baseline of the visits after the last one: its last touch-up, else the first.
    pub baseline: usize,
    /// What each visit's figures rest on, when it is thin.
    pub warnings: Vec<Warning>,
}

/// One visit against its baseline, on the identities in the view they share.
struct Comparison {
    /// (baseline dot, its change) of each dot found at both.
    pairs: Vec<(usize, DotChange)>,
    /// Identities found at the baseline, at this visit, and first seen after the baseline.
    at_base: usize,
    at_now: usize,
    new: usize,
}

/// Each visit compared with its baseline; a touch-up becomes the baseline of the visits after it.
pub(super) fn visit_reports(
    series: &Series,
    views: &[View],
    touch_up_at: &[bool],
    colour_short: &[Option<ColourShort>],
) -> Reports {
    let mut out = Reports {
        visits: Vec::new(),
        changes: vec![vec![None; series.len()]; series.ids.len()],
        baseline: 0,
        warnings: Vec::new(),
    };
    for t in 0..series.len() {
        let b = out.baseline;
        let colour_ok = colour_short[b].is_none() && colour_short[t].is_none();
        let c = compare_with_baseline(series, views, b, t, colour_ok, &mut out.changes);
        out.warnings.extend(thin_evidence(&series.analyses[t].image.source, &c, t != b));
        out.visits.push(visit_report(series, views, t, b, touch_up_at[t], colour_ok, &c));
        if touch_up_at[t] {
            out.baseline = t;
        }
    }
    out
}

/// Visit `t` against baseline `b`, dot by dot; each dot's change is also written into
/// `changes` (per identity, per visit). Without the colour to follow (`colour_ok` false) the
/// pigment's shift is withheld.
fn compare_with_baseline(
    series: &Series,
    views: &[View],
    b: usize,
    t: usize,
    colour_ok: bool,
    changes: &mut [Vec<Option<DotChange>>],
) -> Comparison {
    let mut c = Comparison { pairs: Vec::new(), at_base: 0, at_now: 0, new: 0 };
    for (i, id) in series.shared(b, t) {
        c.at_base += id.dots[b].is_some() as usize;
        c.at_now += id.dots[t].is_some() as usize;
        c.new += (id.dots[t].is_some() && id.first_visit > b) as usize;
        if let (Some(p), Some(q)) = (id.dots[b], id.dots[t]) {
            let mut change = compare(&views[b], p, &views[t], q, series.um_per_px());
            if !colour_ok {
                change.pigment_shift = None;
            }
            if t != b {
                changes[i][t] = Some(change.clone());
            }
            c.pairs.push((p, change));
        }
    }
    c
}

/// One visit's figures from its comparison with its baseline.
fn visit_report(
    series: &Series,
    views: &[View],
    t: usize,
    b: usize,
    touch_up: bool,
    colour_ok: bool,
    c: &Comparison,
) -> VisitReport {
    let (a, um_per_px, pairs) = (&series.analyses[t], series.um_per_px(), &c.pairs);
    let ink_pairs: Vec<(f64, f64)> =
        pairs.iter().map(|(p, d)| (views[b].ink(*p), d.ink_retained * views[b].ink(*p))).collect();
    let lab_pairs: Vec<([f64; 3], [f64; 3])> =
        pairs.iter().map(|(p, d)| (views[b].in_first_light(views[b].dots[*p].lab), d.lab_balanced)).collect();
    let colour = colour_then_now(&lab_pairs).filter(|_| colour_ok);
    let pigment = pigment_change(&pairs.iter().filter_map(|(_, d)| d.pigment_shift).collect::<Vec<_>>());
    let registration = series.registrations[t].map(|r| RegistrationReport {
        transform: r.transform,
        rotation_deg: r.transform.rotation_deg(),
        scale: r.transform.scale(),
        residual_px: r.residual_px,
        residual_um: um_per_px.map(|k| k * r.residual_px),
        matched_dots: r.matched,
        shared_dots: r.shared_dots,
    });
    VisitReport {
        source: a.image.source.clone(),
        input: Some(series.inputs[t]),
        date: series.dates[t],
        months: series.months[t],
        baseline: b,
        touch_up,
        registration,
        dot_count: a.dots.len(),
        density_per_cm2: a.summary.density_per_cm2,
        shared_dots: c.at_base,
        matched: pairs.len(),
        lost: c.at_base - pairs.len(),
        new: c.new,
        density_retained: (c.at_base > 0).then(|| c.at_now as f64 / c.at_base as f64),
        ink_retained: ink_retained(&ink_pairs, touch_up),
        spread_growth_um: median_of(pairs.iter().filter_map(|(_, d)| d.spread_growth_um).collect()),
        diameter_change_um: median_of(pairs.iter().filter_map(|(_, d)| d.diameter_change_um).collect()),
        colour_shift_de: colour.as_ref().map(|c| crate::colour::delta_e_2000(c.then, c.now)),
        delta_b: colour.as_ref().map(|c| c.now[2] - c.then[2]),
        delta_b_interval: colour.as_ref().map(|c| c.b_interval),
        pigment_shift: pigment.map(|p| p.0),
        pigment_shift_interval: pigment.map(|p| p.1),
    }
}

/// Warnings for a visit whose figures rest on few dots: most of its baseline's dots not found
/// again (`compared`: it is not its own baseline), or under 20 dots shared.
fn thin_evidence(source: &str, c: &Comparison, compared: bool) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if compared && (c.at_now as f64) < FEW_FOUND * c.at_base as f64 {
        warnings.push(Warning::new(
            WarningCode::FewDotsFound,
            format!(
                "{source}: only {} of the {} dots of its baseline visit in the view they share were found: the others are most likely too faint or blurred to detect here, and the figures of the dots found lean towards the most visible",
                c.at_now, c.at_base
            ),
        ));
    }
    if c.at_base < 20 {
        warnings.push(Warning::new(
            WarningCode::FewSharedDots,
            format!("{source}: only {} dots shared with the baseline visit; its figures are uncertain", c.at_base),
        ));
    }
    warnings
}

/// Warnings about the photos themselves: dots too small for their colour, many stray
/// detections, no scale.
pub(super) fn photo_warnings(series: &Series, colour_short: &[Option<ColourShort>]) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for (v, short) in colour_short.iter().enumerate() {
        if let Some(ColourShort { size, needed: px, kind }) = short {
            warnings.push(Warning::new(
                WarningCode::ColourUnresolved,
                format!(
                    "{}: dots are {:.1} px across; {kind} keeps too little colour detail at that size (a shift of 1 b* can come out with the wrong sign), so colour_shift_de, delta_b and pigment_shift are null for the visits compared with it; photograph at {px} px or more per dot",
                    series.analyses[v].image.source,
                    size
                ),
            ));
        }
    }
    for (v, a) in series.analyses.iter().enumerate() {
        let share = series.stray_share(v);
        if share > STRAY_SHARE {
            warnings.push(Warning::new(
                WarningCode::StrayDetections,
                format!(
                    "{}: {:.0} % of its dots are found at no other visit that shows their place: stray detections (stubble, hair, skin texture) or a poor photo; density_retained and the figures compared with it are uncertain",
                    a.image.source,
                    100.0 * share
                ),
            ));
        }
    }
    if series.um_per_px().is_none() {
        warnings.push(Warning::new(
            WarningCode::NoScale,
            "the first visit has no scale: spread, diameter and residual in um are null",
        ));
    }
    warnings
}
