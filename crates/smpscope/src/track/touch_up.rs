//! Phase 3: which visits are touch-ups. Each visit is read against the one before ([`Step`]):
//! the ink of the dots seen at both, and the share of fresh dots never seen before; the fade
//! expected between them comes from the steps that are plainly not touch-ups.

use super::TrackParams;
use super::change::{View, ink_retained};
use super::identity::Identity;
use super::series::Series;
use crate::stats::{median_of, quantile_of, weighted_median};

/// Whether each visit of `series` is a touch-up (the first never is).
pub(super) fn find(series: &Series, views: &[View], params: &TrackParams) -> Vec<bool> {
    let steps: Vec<Step> = (0..series.len())
        .map(|t| {
            if t == 0 {
                return Step::FIRST;
            }
            // A never-seen dot stays if the next visit that shows its place finds it too.
            let stays = |id: &Identity| {
                t + 1 >= series.len() || !series.in_view(id.position, t + 1) || id.dots[t + 1].is_some()
            };
            step(series.shared(t - 1, t).map(|(_, id)| id), stays, views, t, params)
        })
        .collect();
    touch_ups(&steps, &series.months, params)
}

/// What visit `t` shows against visit `t - 1`, on the identities in the view they share (see
/// [`Step`]): the ink of the dots seen at both (stray pairs left out as in [`ink_retained`]: one
/// hair fragment merged with a dot would otherwise pass for re-inking), and the share of the
/// never-seen dots that look like fresh dots of the same treatment, counted only where the dots
/// are more numerous by at least half the `touch_up_new_dots` share (some of a touch-up's new
/// dots are offset by dots missed this time). Fresh: ink at least 0.8 of the median continuing
/// dot's, and no more elongated than nine in ten continuing dots (the stray detections that come
/// and go are mostly hair and stubble fragments). A never-seen dot counts only if `stays` (it is
/// found again at the next visit that shows its place): strays come and go, and a touch-up's
/// dots stay.
fn step<'a>(
    shared: impl Iterator<Item = &'a Identity>,
    stays: impl Fn(&Identity) -> bool,
    views: &[View],
    t: usize,
    params: &TrackParams,
) -> Step {
    let (mut pairs, mut before, mut continuing, mut new) = (Vec::new(), 0usize, Vec::new(), Vec::new());
    let ink_shape = |q: usize| (views[t].ink(q), views[t].dots[q].eccentricity);
    for id in shared {
        before += id.dots[t - 1].is_some() as usize;
        match (id.dots[t - 1], id.dots[t]) {
            (_, Some(q)) if id.first_visit == t && stays(id) => new.push(ink_shape(q)),
            (_, Some(_)) if id.first_visit == t => {}
            (Some(p), Some(q)) => {
                pairs.push((views[t - 1].ink(p), views[t].ink(q)));
                continuing.push(ink_shape(q));
            }
            (None, Some(q)) => continuing.push(ink_shape(q)),
            _ => {}
        }
    }
    let after = continuing.len() + new.len();
    let typical = median_of(continuing.iter().map(|c| c.0).collect()).unwrap_or(0.0);
    let elongated = quantile_of(continuing.iter().map(|c| c.1).collect(), 0.9).unwrap_or(1.0);
    let fresh = new.iter().filter(|&&(ink, ecc)| ink >= 0.8 * typical && ecc <= elongated).count() as f64;
    let more_dots = after as f64 >= (1.0 + 0.5 * params.touch_up_new_dots) * before as f64;
    Step { ink: ink_retained(&pairs, false).unwrap_or(1.0), fresh: if more_dots { fresh / after as f64 } else { 0.0 } }
}

/// One visit against the one before: what a touch-up would show.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    /// Ink now / ink then of the dots seen at both.
    ink: f64,
    /// Share of the dots now that are fresh dots never seen before (0 unless the dots are more
    /// numerous).
    fresh: f64,
}

impl Step {
    const FIRST: Step = Step { ink: 1.0, fresh: 0.0 };

    /// How far the step goes towards a touch-up: its fresh-dot share and its ink's log rise over
    /// `expected` (what the fade would have left), each as a fraction of its threshold; a
    /// touch-up from 1.
    fn touch_up_evidence(&self, expected: f64, params: &TrackParams) -> f64 {
        let rise = (self.ink / expected).ln().max(0.0) / params.touch_up_ink_rise.ln();
        rise + self.fresh / params.touch_up_new_dots
    }
}

/// Which visits are touch-ups, from each visit's step from the one before and the visits'
/// months (see [`Step::touch_up_evidence`]). The fade expected over a step comes from the steps
/// that are plainly not touch-ups (neither their fresh dots nor their ink rise would count
/// alone): the median of their log2 ink lost per month, which a touch-up among them does not
/// drag. Re-inking after a year of fade may only bring the ink back to where it was, which is no
/// rise at all but far above the fade. The median is weighted by the square of each step's
/// months: a step's ink ratio errs by about as much whatever its length, so its rate per month
/// errs inversely to it (docs/decisions.md#fade-rate-weights).
fn touch_ups(steps: &[Step], months: &[f64], params: &TrackParams) -> Vec<bool> {
    let interval = |t: usize| months[t] - months[t - 1];
    let plain = |s: &Step| s.fresh < params.touch_up_new_dots && s.ink > 0.0 && s.ink < params.touch_up_ink_rise;
    let rates: Vec<(f64, f64)> = steps
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(t, s)| plain(s) && interval(*t) > 0.0)
        .map(|(t, s)| (-s.ink.log2() / interval(t), interval(t).powi(2)))
        .collect();
    let rate = weighted_median(rates).unwrap_or(0.0).max(0.0);
    steps
        .iter()
        .enumerate()
        .map(|(t, s)| t > 0 && s.touch_up_evidence((-rate * interval(t)).exp2(), params) >= 1.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_inking_after_a_fade_is_a_touch_up_even_without_a_rise() {
        let months = [0.0, 12.0, 24.0, 36.0, 48.0];
        let p = TrackParams::default();
        let ink = |inks: [f64; 5]| inks.map(|ink| Step { ink, fresh: 0.0 });
        // A year takes 30 %: 0.7 per step; at visit 3 the ink is brought back to where it was a
        // year before (no rise), far above the 0.7 the fade would leave.
        let steps = ink([1.0, 0.7, 0.71, 1.0, 0.69]);
        assert_eq!(touch_ups(&steps, &months, &p), vec![false, false, false, true, false]);
        // Steady fade, the light alone changing, or one visit's ink misread by 15 %: none.
        for inks in [[1.0, 0.7, 0.68, 0.73, 0.7], [1.0, 1.04, 0.97, 1.01, 0.99], [1.0, 0.8, 0.92, 0.7, 0.8]] {
            assert!(touch_ups(&ink(inks), &months, &p).iter().all(|t| !t), "{inks:?}");
        }
        // More dots with fresh ink is a touch-up whatever the ink did.
        let mut added = ink([1.0, 0.8, 0.8, 0.8, 0.8]);
        added[2].fresh = 0.15;
        assert_eq!(touch_ups(&added, &months, &p), vec![false, false, true, false, false]);
    }

    #[test]
    fn the_fade_rate_leans_on_the_longer_steps() {
        // Seed 8004: a step of 5 months misread (ink 0.71 against a true 0.88), then a plain step
        // of 11 months reading 0.88 with a few new dots: no touch-up.
        let months = [0.0, 4.9, 15.5];
        let steps = [Step::FIRST, Step { ink: 0.712, fresh: 0.0 }, Step { ink: 0.88, fresh: 0.05 }];
        assert_eq!(touch_ups(&steps, &months, &TrackParams::default()), vec![false, false, false]);
    }

    #[test]
    fn a_modest_rise_and_a_few_fresh_dots_add_up_to_a_touch_up() {
        let months = [0.0, 12.0, 24.0, 36.0];
        let p = TrackParams::default();
        let with = |ink: f64, fresh: f64| {
            [Step::FIRST, Step { ink: 0.8, fresh: 0.0 }, Step { ink: 0.8, fresh: 0.0 }, Step { ink, fresh }]
        };
        // 1.15 times the fade's 0.8 is 0.42 of the way to a touch-up, 9 % fresh dots 0.75.
        assert!(!touch_ups(&with(0.92, 0.0), &months, &p)[3]);
        assert!(!touch_ups(&with(0.8, 0.09), &months, &p)[3]);
        assert!(touch_ups(&with(0.92, 0.09), &months, &p)[3]);
    }

    #[test]
    fn hair_fragments_are_no_touch_up_and_round_fresh_dots_are() {
        use crate::measure::Dot;
        let p = TrackParams::default();
        let dot = |ink: f64, eccentricity: f64| Dot { ink_px: ink, eccentricity, ..Default::default() };
        let then: Vec<Dot> = (0..40).map(|i| dot(1.0, 0.2 + 0.01 * i as f64)).collect();
        let mut now: Vec<Dot> = (0..40).map(|i| dot(0.8, 0.2 + 0.01 * i as f64)).collect();
        // One dot merged with a hair, and eight hair fragments, dark and elongated.
        now[0].ink_px = 6.0;
        now.extend((0..8).map(|_| dot(3.0, 0.85)));
        let ids: Vec<Identity> = (0..48)
            .map(|i| Identity {
                position: [0.0; 2],
                first_visit: (i >= 40) as usize,
                dots: vec![(i < 40).then_some(i), Some(i)],
            })
            .collect();
        let run = |now: &[Dot]| {
            step(
                ids.iter(),
                |_| true,
                &[View { dots: &then, scale: 1.0, light: [1.0; 3] }, View { dots: now, scale: 1.0, light: [1.0; 3] }],
                1,
                &p,
            )
        };
        let hair = run(&now);
        assert!((hair.ink - 0.8).abs() < 1e-9 && hair.fresh == 0.0, "{hair:?}");
        // Round dots as dark: a touch-up's new dots, 8 of 48.
        now[40..].iter_mut().for_each(|d| d.eccentricity = 0.3);
        assert!((run(&now).fresh - 8.0 / 48.0).abs() < 1e-9);
    }
}
