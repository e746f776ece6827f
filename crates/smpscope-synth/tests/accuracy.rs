//! Accuracy of the measuring core against exact ground truth, on a fixed set of random
//! synthetic photos (the same generator as the `accuracy` command, fewer and smaller photos).
//! The bounds sit a little above what the current pipeline achieves, so that a regression fails.

use smpscope_synth::evaluate::{Figures, params_for, run_one, score, table};
use smpscope_synth::{SceneSpec, encode, render};

fn check(name: &str, f: &Figures, min_f1: f64, max: [f64; 6]) {
    let [dens, diam, spread, fwhm, ink, de] = max;
    let ok = f.f1 >= min_f1
        && f.density_err <= dens
        && f.diameter_mae_um <= diam
        && f.spread_mae_um <= spread
        && f.fwhm_mae_um <= fwhm
        && f.ink_err <= ink
        && f.colour_de <= de;
    assert!(ok, "{name}: {f:?} outside F1 >= {min_f1}, [density, diameter um, spread um, fwhm um, ink, dE] <= {max:?}");
}

#[test]
fn random_photos_are_measured_within_tolerance() {
    use rayon::prelude::*;
    let results: Vec<_> = (500..524u64)
        .into_par_iter()
        .map(|seed| {
            let (_, truth, s) = run_one(seed, (12.0, 9.0), 1000).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            (truth, s)
        })
        .collect();
    let (overall, rows) = table(&results);
    check("overall", &overall, 0.89, [0.18, 22.0, 10.0, 17.0, 0.15, 7.0]);
    assert!(overall.precision >= 0.92 && overall.recall >= 0.86, "{overall:?}");
    for (cond, band, f) in &rows {
        if cond == "scale px/mm" && band != "15-30" {
            // Dots at least 3 px across: the deposit and the spread separate.
            check(&format!("{cond} {band}"), f, 0.89, [0.16, 16.0, 8.0, 12.0, 0.14, 5.0]);
        }
    }
}

/// A clean, well-resolved photo: the measurements must be close to exact.
#[test]
fn clean_photo_is_measured_closely() {
    let spec = SceneSpec { width: 480, height: 360, ..Default::default() };
    let scene = render(&spec);
    let photo = encode(&scene, &spec);
    let analysis = smpscope::analyze_bytes(&photo.bytes, "clean.png", &params_for(&scene.truth)).unwrap();
    let s = score(&scene.truth, &analysis);
    let f = Figures::of(&[&s]);
    check("clean", &f, 0.97, [0.06, 8.0, 5.0, 6.0, 0.10, 2.5]);
}

/// The same clean photo as most cameras store it, a JPEG of quality 95 with its colour at
/// 4:2:0: geometry and ink as close as from a PNG; colour within 3.2 dE (2.8 now; 1.0 for the
/// same JPEG at 4:4:4, 1.2 for 4:2:0 at quality 100: the rest is chroma's coarser quantisation,
/// which pulls 5 px dots towards the skin).
#[test]
fn clean_420_jpeg_is_measured_closely() {
    let spec =
        SceneSpec { width: 480, height: 360, jpeg_quality: Some(95), jpeg_chroma_420: true, ..Default::default() };
    let scene = render(&spec);
    let photo = encode(&scene, &spec);
    let analysis = smpscope::analyze_bytes(&photo.bytes, "clean-420.jpg", &params_for(&scene.truth)).unwrap();
    let f = Figures::of(&[&score(&scene.truth, &analysis)]);
    check("clean 4:2:0", &f, 0.97, [0.06, 8.0, 5.0, 6.0, 0.10, 3.2]);
}

/// A low-resolution photo (the spread is then fitted for all dots together) and a tracking:
/// identical with one thread and with three.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let spec = SceneSpec { width: 400, height: 300, px_per_mm: 18.0, distractors: true, ..Default::default() };
    let scene = render(&spec);
    let photo = encode(&scene, &spec);
    let run = |n: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
        pool.install(|| {
            smpscope::analyze_bytes(&photo.bytes, "low-res.png", &params_for(&scene.truth)).unwrap().to_json()
        })
    };
    assert_eq!(run(1), run(3));
}

/// Faded dots of 1.4 px at 16 px/mm (the third visit of series 2005, a year of fade): the spread
/// shared by the photo's dots is sought where the fit cost is lowest over the whole range,
/// not in a shallower second minimum near 2 px, where a golden-section search had landed
/// (spread 1.94 px against a true 0.04, ink 2.7 times the truth).
#[test]
fn faded_dots_of_one_or_two_px_keep_a_narrow_spread_and_their_ink() {
    use smpscope_synth::evaluate::pair_detections;
    let spec = smpscope_synth::evaluate_series::random_series(2005, (20.0, 15.0), 1200);
    let visit = &smpscope_synth::render_series(&spec).visits[2];
    let photo = encode(&visit.scene, &visit.spec);
    let analysis = smpscope::analyze_bytes(&photo.bytes, "faded.jpg", &params_for(&visit.scene.truth)).unwrap();
    let truth = &visit.scene.truth;
    let k = truth.px_per_mm;
    let all: Vec<usize> = (0..truth.dots.len()).collect();
    let pairs = pair_detections(truth, &analysis.dots, &all);
    let (mut spread, mut ink) = (Vec::new(), (0.0, 0.0));
    for &(i, j) in &pairs {
        let (t, d) = (&truth.dots[i], &analysis.dots[j]);
        spread.push(d.spread_px - t.spread_um * k / 1000.0);
        ink = (ink.0 + d.ink_px, ink.1 + t.ink * k * k);
    }
    spread.sort_by(f64::total_cmp);
    assert!(pairs.len() >= 20, "{} dots found", pairs.len());
    assert!(spread[spread.len() / 2].abs() < 0.5, "spread error {spread:?} px");
    assert!((ink.0 / ink.1 - 1.0).abs() < 0.2, "ink ratio {}", ink.0 / ink.1);
}

/// A mole on skin VI (the first visit of series 4015): the density's noise in the dark mole
/// passed for 338 dots, more than the photo's 234 real ones (precision 0.38, now 0.93). They
/// are set aside with a warning, and the dots around the mole are still found.
#[test]
fn a_mole_on_dark_skin_is_not_taken_for_dots() {
    use smpscope_synth::DistractorKind;
    use smpscope_synth::evaluate::pair_detections;
    let spec = smpscope_synth::evaluate_series::random_series(4015, (20.0, 15.0), 1200);
    let visit = &smpscope_synth::render_series(&spec).visits[0];
    let photo = encode(&visit.scene, &visit.spec);
    let truth = &visit.scene.truth;
    let analysis = smpscope::analyze_bytes(&photo.bytes, "mole.jpg", &params_for(truth)).unwrap();
    let moles: Vec<_> = truth.distractors.iter().filter(|d| d.kind == DistractorKind::Mole).collect();
    assert!(!moles.is_empty());
    let on_mole = analysis
        .dots
        .iter()
        .filter(|d| moles.iter().any(|m| (d.x - m.x).hypot(d.y - m.y) < m.size_um / 2000.0 * truth.px_per_mm))
        .count();
    assert_eq!(on_mole, 0);
    assert!(analysis.summary.rejected.dark_patch > 300, "{:?}", analysis.summary.rejected);
    assert!(analysis.warnings.iter().any(|w| w.contains("mole")), "{:?}", analysis.warnings);
    let all: Vec<usize> = (0..truth.dots.len()).collect();
    let found = pair_detections(truth, &analysis.dots, &all).len();
    assert!(found as f64 >= 0.9 * analysis.dots.len() as f64, "{found} of {} detections are dots", analysis.dots.len());
    assert!(found >= 215, "{found} of the {} dots found", truth.dots.len());
}

#[test]
fn shine_is_taken_off_to_the_rim_on_dark_skin_and_not_spread_over_light_skin() {
    use smpscope_synth::evaluate::shine_score;
    let visit_score = |seed: u64, v: usize| {
        let spec = smpscope_synth::evaluate_series::random_series(seed, (20.0, 15.0), 1200);
        let visit = &smpscope_synth::render_series(&spec).visits[v];
        shine_score(&visit.spec, &visit.scene, &encode(&visit.scene, &visit.spec).bytes).unwrap()
    };
    // Series 4019, first visit: skin VI with three highlights over 40 % of the frame. Taken
    // off by the ramp alone: mean error 0.0116, 13 % of the frame missed.
    let dark = visit_score(4019, 0);
    assert!(dark.mean_error < 0.007 && dark.missed_share < 0.02 && dark.false_share < 0.01, "{dark:?}");
    // Series 4017, fourth visit: skin II without highlights, with bright grey patches of
    // mottle. Rims grown through half a scatter alone: false shine on 15 % of the frame.
    let light = visit_score(4017, 3);
    assert!(light.false_share < 0.08, "{light:?}");
}

/// Per-dot 95 % intervals on random photos: they hold the truth for most matched dots (issue 19
/// asks 92-98 %; 0.90-0.91 on these 862 dots when written, 0.88-0.94 on 20 photos of the accuracy command), and a dot under 4 px
/// is always flagged unresolved.
#[test]
fn per_dot_intervals_hold_the_truth() {
    use rayon::prelude::*;
    use smpscope::DotFlag;
    use smpscope_synth::evaluate::{pair_detections, random_scene};
    let tallies: Vec<[usize; 4]> = (600..612u64)
        .into_par_iter()
        .map(|seed| {
            let spec = random_scene(seed, (12.0, 9.0), 1000);
            let scene = render(&spec);
            let photo = encode(&scene, &spec);
            let a = smpscope::analyze_bytes(&photo.bytes, "ci.jpg", &params_for(&scene.truth)).unwrap();
            let truth = &scene.truth;
            let all: Vec<usize> = (0..truth.dots.len()).collect();
            let mut t = [0usize; 4];
            for (i, j) in pair_detections(truth, &a.dots, &all) {
                let (td, d) = (&truth.dots[i], &a.dots[j]);
                if d.diameter_px < smpscope::measure::UNRESOLVED_DIAMETER_PX {
                    assert!(d.flags.contains(&DotFlag::Unresolved), "seed {seed}: {d:?}");
                }
                let Some(ci) = &d.ci95 else { continue };
                let holds = |iv: Option<[f64; 2]>, v: f64| iv.is_some_and(|[lo, hi]| lo <= v && v <= hi);
                t[0] += 1;
                t[1] += holds(ci.diameter_um, td.diameter_um) as usize;
                t[2] += holds(ci.ink, td.ink) as usize;
                t[3] += holds(ci.x, td.x) as usize;
            }
            t
        })
        .collect();
    let n = tallies.iter().map(|t| t[0]).sum::<usize>() as f64;
    let share = |k: usize| tallies.iter().map(|t| t[k]).sum::<usize>() as f64 / n;
    let (diameter, ink, x) = (share(1), share(2), share(3));
    assert!(n >= 500.0, "{n} dots with intervals");
    assert!(diameter >= 0.88 && ink >= 0.87 && x >= 0.88, "coverage: diameter {diameter}, ink {ink}, x {x}");
    assert!(diameter <= 0.995 && ink <= 0.995, "intervals too wide to say anything: {diameter}, {ink}");
}
