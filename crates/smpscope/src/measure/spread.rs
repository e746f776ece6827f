//! The shared spread: where dots are too small for each to tell its diameter from its spread,
//! the one spread the photo's dots share, found from all of them together.

use rayon::prelude::*;

use super::blur::blur_variance;
use super::members::fit_members;
use super::{Dot, Inputs, Reject};
use crate::detect::Candidate;

/// Dots whose deposit radius is under this many times their total blur cannot have their
/// diameter told from their spread one by one: in such photos the spread is fitted once for
/// all dots (see `shared_spread`).
const RESOLVED_RATIO: f64 = 2.2;

/// Share of the accepted single dots, the roundest, that the shared spread is sought from.
const ROUNDEST_SHARE: f64 = 0.75;
/// Fewest single dots from which the most elongated are left out of the shared spread.
const SPREAD_SAMPLE_MIN: usize = 20;

/// Whether the photo's dots are too small for each to tell its diameter from its spread: 10
/// accepted dots or more, whose median deposit radius is under [`RESOLVED_RATIO`] times its
/// total blur (pigment, camera and pixel).
pub(super) fn needs_shared_spread(inp: &Inputs, results: &[Vec<Result<Dot, Reject>>]) -> bool {
    let blur_var = blur_variance(inp);
    let mut ratios: Vec<f64> = results
        .iter()
        .flatten()
        .flatten()
        .map(|d| 0.5 * d.diameter_px / (d.spread_px.powi(2) + blur_var).sqrt())
        .collect();
    ratios.len() >= 10 && crate::stats::quantile(&mut ratios, 0.5) < RESOLVED_RATIO
}

/// The pigment spread (px) shared by the photo's dots, by profile likelihood: the value that
/// minimises the summed fit cost of up to 400 accepted single dots with only the spread held
/// common. Each dot alone cannot separate diameter from spread when both are near the blur;
/// hundreds of dots together can. The most elongated quarter is left out: in photos of 2-4 px
/// dots, stubble fragments and hair ends pass for dots, and a round model fitted to a line wants
/// a narrower spread (docs/decisions.md#shared-spread).
pub(super) fn shared_spread(
    inp: &Inputs,
    all: &[Candidate],
    groups: &[Vec<usize>],
    first: &[Vec<Result<Dot, Reject>>],
) -> f64 {
    let singles: Vec<(&Vec<usize>, f64)> = groups
        .iter()
        .zip(first)
        .filter_map(|(g, r)| match r.as_slice() {
            [Ok(d)] if g.len() == 1 => Some((g, d.eccentricity)),
            _ => None,
        })
        .collect();
    let mut ecc: Vec<f64> = singles.iter().map(|s| s.1).collect();
    let roundest =
        if ecc.len() >= SPREAD_SAMPLE_MIN { crate::stats::quantile(&mut ecc, ROUNDEST_SHARE) } else { f64::INFINITY };
    let singles: Vec<&Vec<usize>> = singles.into_iter().filter(|s| s.1 <= roundest).map(|s| s.0).collect();
    let step = singles.len().div_ceil(400).max(1);
    let sample: Vec<&Vec<usize>> = singles.into_iter().step_by(step).collect();
    // Costs are collected in order and summed serially: a parallel float sum would depend on
    // how the work was split, and so on the number of threads.
    let total = |s: f64| -> f64 {
        sample.par_iter().map(|g| fit_members(inp, all, g, Some(s)).1.cost).collect::<Vec<f64>>().iter().sum()
    };
    // The best of a coarse grid, then a golden-section search within a grid step of it: the cost
    // can have a second minimum (a broad model whose wings the offset absorbs)
    // (docs/decisions.md#spread-search).
    const GRID: f64 = 0.25;
    let coarse = (0..=12)
        .map(|i| GRID * i as f64)
        .map(|s| (s, total(s)))
        .fold((0.0, f64::INFINITY), |best, (s, c)| if c < best.1 { (s, c) } else { best });
    let (mut a, mut b) = ((coarse.0 - GRID).max(0.0), coarse.0 + GRID);
    let g = 0.618_033_988_75;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (total(c), total(d));
    for _ in 0..8 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = total(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = total(d);
        }
    }
    let best = 0.5 * (a + b);
    if total(best) < coarse.1 { best } else { coarse.0 }
}
