//! Fitting a group's members: the window around them, their starting models, the joint fit,
//! and the measurement of each dot it gives.

use super::accept::describe;
use super::blur::{apparent, blur_variance, photo_blur};
use super::colour::channel_amplitudes;
use super::fit::{Bounds, DotModel, Free, GroupFit, Window, fit_group};
use super::uncertainty::covariance;
use super::{Dot, Inputs, MeasureParams, Reject, overlap, profile};
use crate::detect::Candidate;
use crate::plane::Plane;

/// Reach of a candidate's fit window: its apparent radius, the blur's tail and a margin of
/// skin for the residual background.
fn window_radius(c: &Candidate) -> f64 {
    1.7 * c.radius_px + 2.5
}

/// The rectangle around the members' windows, with the pixels inside some window marked used.
fn window(inp: &Inputs, members: &[&Candidate]) -> Window {
    let (w, h) = (inp.od.width as f64, inp.od.height as f64);
    let x0 = members.iter().map(|c| c.x - window_radius(c)).fold(f64::MAX, f64::min).floor().max(0.0) as usize;
    let x1 = members.iter().map(|c| c.x + window_radius(c)).fold(f64::MIN, f64::max).ceil().min(w - 1.0).max(x0 as f64)
        as usize;
    let y0 = members.iter().map(|c| c.y - window_radius(c)).fold(f64::MAX, f64::min).floor().max(0.0) as usize;
    let y1 = members.iter().map(|c| c.y + window_radius(c)).fold(f64::MIN, f64::max).ceil().min(h - 1.0).max(y0 as f64)
        as usize;
    let (width, height) = (x1 - x0 + 1, y1 - y0 + 1);
    let mut win = Window {
        x0,
        y0,
        width,
        height,
        od: Vec::with_capacity(width * height),
        used: Vec::with_capacity(width * height),
    };
    for y in y0..=y1 {
        for x in x0..=x1 {
            win.od.push(inp.od.at(x, y) as f64);
            win.used.push(members.iter().any(|c| (x as f64 - c.x).hypot(y as f64 - c.y) <= window_radius(c)));
        }
    }
    win
}

/// Highest optical density within a pixel of the candidate's centre.
fn local_peak(od: &Plane, c: &Candidate) -> f64 {
    let (x, y) = (c.x.round() as isize, c.y.round() as isize);
    (-1..=1)
        .flat_map(|dy| (-1..=1).map(move |dx| (dx, dy)))
        .map(|(dx, dy)| od.at_clamped(x + dx, y + dy) as f64)
        .fold(f64::MIN, f64::max)
}

/// Fits the members of a group jointly; with `spread` the pigment spread is held at it.
pub(super) fn fit_members(
    inp: &Inputs,
    all: &[Candidate],
    group: &[usize],
    spread: Option<f64>,
) -> (Window, GroupFit, Vec<Bounds>) {
    let members: Vec<&Candidate> = group.iter().map(|&i| &all[i]).collect();
    let win = window(inp, &members);
    // Residual background: the median of the window beyond every member's core.
    let mut ring: Vec<f32> = (0..win.od.len())
        .filter(|&i| {
            let (x, y) = ((win.x0 + i % win.width) as f64, (win.y0 + i / win.width) as f64);
            win.used[i] && members.iter().all(|c| (x - c.x).hypot(y - c.y) > 1.6 * c.radius_px + 1.0)
        })
        .map(|i| win.od[i] as f32)
        .collect();
    let offset = if ring.len() >= 8 { crate::stats::median(&mut ring) as f64 } else { 0.0 };
    let starts = starts(inp, &members, offset, spread);
    let bounds: Vec<Bounds> =
        members.iter().map(|c| Bounds { max_size: 3.0 * c.radius_px + 5.0, max_shift: c.radius_px + 2.0 }).collect();
    let fit = fit_shapes(inp, &win, &starts, offset, &bounds, spread);
    (win, fit, bounds)
}

/// Starting models from the candidates: their detected size and the peak density above the
/// window's `offset`.
fn starts(inp: &Inputs, members: &[&Candidate], offset: f64, spread: Option<f64>) -> Vec<DotModel> {
    members
        .iter()
        .map(|c| {
            let peak = local_peak(inp.od, c) - offset;
            let radius = 0.8 * c.radius_px;
            let sigma = spread.unwrap_or(0.3 * c.radius_px);
            let seen = apparent(&DotModel { x: c.x, y: c.y, amplitude: 1.0, radius, sigma }, blur_variance(inp));
            DotModel {
                x: c.x,
                y: c.y,
                amplitude: (peak / profile::centre(seen.radius / seen.sigma)).clamp(0.02, 4.0),
                radius,
                sigma,
            }
        })
        .collect()
}

/// Fits `starts` jointly in `win`, their whole shape free, or all of it but the spread where
/// the photo's shared `spread` is held.
pub(super) fn fit_shapes(
    inp: &Inputs,
    win: &Window,
    starts: &[DotModel],
    offset: f64,
    bounds: &[Bounds],
    spread: Option<f64>,
) -> GroupFit {
    let free = if spread.is_some() { Free::AllButSpread } else { Free::All };
    fit_group(win, starts, offset, inp.noise, bounds, &photo_blur(inp), free)
}

/// Measures one group of candidates (indices into `all`): those far too faint are rejected
/// unfitted, the rest fitted jointly (the spread held at `spread` where given), a lone
/// elongated one tried as two overlapping dots, and every fitted dot described. One result per
/// dot, the unfitted first.
pub(super) fn measure_group(
    inp: &Inputs,
    all: &[Candidate],
    group: &[usize],
    p: &MeasureParams,
    spread: Option<f64>,
) -> Vec<Result<Dot, Reject>> {
    // Candidates far too faint to pass are not worth a fit (noise maxima, pores).
    let (faint, group): (Vec<usize>, Vec<usize>) =
        group.iter().partition(|&&i| local_peak(inp.od, &all[i]) < 0.5 * p.min_peak_od);
    let mut out: Vec<Result<Dot, Reject>> = faint.iter().map(|_| Err(Reject::FaintUnfitted)).collect();
    if group.is_empty() {
        return out;
    }
    let (win, fit, bounds) = fit_members(inp, all, &group, spread);
    let (fit, bounds) = match group.as_slice() {
        [c] if all[*c].radius_px >= overlap::SPLIT_MIN_RADIUS => {
            overlap::split(inp, &win, &fit, &bounds, spread).unwrap_or((fit, bounds))
        }
        _ => (fit, bounds),
    };
    // Colour is fitted only once a member has passed the tests that need no colour: most
    // candidates of a photo without SMP (skin texture, hair) fail those, and are cheap then.
    let colour = std::cell::OnceCell::new();
    let od_rgb = |i: usize| colour.get_or_init(|| channel_amplitudes(inp, &win, &fit, &bounds))[i];
    let cov = std::cell::OnceCell::new();
    let covariance =
        || cov.get_or_init(|| covariance(&win, &fit, &photo_blur(inp))).as_ref().map(|(c, n)| (c.as_slice(), *n));
    out.extend((0..fit.dots.len()).map(|i| describe(inp, &win, &fit, i, &od_rgb, &covariance, p)));
    out
}
