//! The calibration marker against the generator's truth (issue 24), on a small set; the
//! `marker_accuracy` example prints the same figures on a larger one.

use smpscope::{Params, WarningCode, analyze_photo};
use smpscope_synth::marker_eval::{self, Case, abs_quantile, blur_ok};

/// Eight scales over 10-120 px/mm, tilts up to 30 degrees, skin types I-VI, JPEG 60-95.
fn scale_set() -> Vec<Case> {
    [10.0, 14.0, 20.0, 28.0, 40.0, 60.0, 85.0, 120.0]
        .iter()
        .enumerate()
        .map(|(i, &ppm)| marker_eval::case(100 + i as u64, ppm, [0.0, 5.0, 12.0, 20.0, 30.0][i % 5]))
        .collect()
}

#[test]
fn scale_tilt_blur_and_white_balance_meet_their_targets() {
    let scores: Vec<_> = scale_set().iter().map(marker_eval::score).collect();
    for s in &scores {
        eprintln!("{s:?}");
        assert!(s.found, "marker not found: {s:?}");
    }
    let errs: Vec<f64> = scores.iter().map(|s| s.scale_err).collect();
    assert!(abs_quantile(&errs, 0.5) <= 0.005 && abs_quantile(&errs, 1.0) <= 0.015, "{errs:?}");
    for s in &scores {
        let b = s.blur_err_px.expect("blur read");
        assert!(blur_ok(b, s.blur_px), "blur {b} of {}: {s:?}", s.blur_px);
        assert!(s.neutral_de.expect("white balance read") <= 1.0, "{s:?}");
    }
    // Tilt: 10 degrees at 20 px/mm and more.
    for (i, ppm) in [20.0, 45.0, 100.0].into_iter().enumerate() {
        let s = marker_eval::score(&marker_eval::case(200 + i as u64, ppm, 10.0));
        assert!(s.found && s.tilt_err.abs() <= 1.0, "{s:?}");
    }
}

#[test]
fn density_with_the_markers_scale_is_density_with_the_true_scale() {
    let mut diffs = Vec::new();
    for (i, ppm) in [15.0, 30.0, 50.0].into_iter().enumerate() {
        let (by_marker, by_truth, a) = marker_eval::densities(&marker_eval::case(300 + i as u64, ppm, 8.0)).unwrap();
        assert_eq!(a.scale.source, smpscope::scale::ScaleSource::Marker);
        let m = a.marker.as_ref().unwrap();
        assert!(a.dots.iter().all(|d| !smpscope::marker::on_card(m, d.x, d.y)), "a dot on the card was counted");
        diffs.push(by_marker / by_truth - 1.0);
    }
    assert!(abs_quantile(&diffs, 0.5) <= 0.01, "{diffs:?}");
}

fn codes(a: &smpscope::Analysis) -> Vec<WarningCode> {
    a.warning_codes.iter().map(|w| w.code).collect()
}

#[test]
fn absent_cut_off_and_covered_markers_are_warned_of_and_give_no_scale() {
    let expect = Params {
        marker: smpscope::marker::MarkerParams { expected: true, ..Default::default() },
        ..Default::default()
    };
    // Absent: the scene alone.
    let base = marker_eval::case(400, 25.0, 0.0);
    let (scene, _) = (smpscope_synth::render(&base.spec), ());
    let file = smpscope_synth::encode(&scene, &base.spec);
    let photo = smpscope::photo::load_bytes(&file.bytes, "absent").unwrap();
    let a = analyze_photo(&photo, &expect).unwrap();
    assert!(a.marker.is_none() && a.scale.px_per_mm.is_none() && codes(&a).contains(&WarningCode::MarkerNotFound));
    // Half out of frame: the card's centre on the right-hand edge.
    let mut cut = base.clone();
    cut.marker.x = 1.0;
    cut.marker.y = 0.5;
    let a = analyze_photo(&marker_eval::photo(&cut).0, &expect).unwrap();
    assert!(a.marker.is_none() && a.scale.px_per_mm.is_none(), "{:?}", a.marker);
    assert!(codes(&a).contains(&WarningCode::MarkerCutOff), "{:?}", a.warnings);
    // Covered by hair: a lock along the frame's left side and over its top-left corner.
    let mut covered = base.clone();
    covered.marker.x = 0.5;
    covered.marker.hairs = (0..24).map(|k| [-0.5 + 0.15 * k as f64, -1.0, 0.5 + 0.15 * k as f64, 11.0, 0.15]).collect();
    let a = analyze_photo(&marker_eval::photo(&covered).0, &expect).unwrap();
    assert!(a.marker.is_none() && a.scale.px_per_mm.is_none(), "{:?}", a.marker);
    assert!(codes(&a).contains(&WarningCode::MarkerCovered), "{:?}", a.warnings);
}

#[test]
fn a_marker_printed_at_the_wrong_size_disagrees_with_the_callers_scale() {
    let mut c = marker_eval::case(500, 30.0, 0.0);
    c.marker.print_scale = 0.95;
    let photo = marker_eval::photo(&c).0;
    let a = analyze_photo(&photo, &Params { px_per_mm: Some(30.0), ..Default::default() }).unwrap();
    assert_eq!((a.scale.px_per_mm, a.scale.source), (Some(30.0), smpscope::scale::ScaleSource::Caller));
    let m = a.marker.as_ref().expect("marker found");
    assert!((m.px_per_mm / 28.5 - 1.0).abs() < 0.005, "{}", m.px_per_mm);
    assert!(codes(&a).contains(&WarningCode::ScaleDisagrees), "{:?}", a.warnings);
    // Printed right, the two agree and nothing is said.
    c.marker.print_scale = 1.0;
    let a = analyze_photo(&marker_eval::photo(&c).0, &Params { px_per_mm: Some(30.0), ..Default::default() }).unwrap();
    assert!(!codes(&a).contains(&WarningCode::ScaleDisagrees), "{:?}", a.warnings);
}

#[test]
fn a_single_hair_across_the_card_is_read_through() {
    let mut c = marker_eval::case(600, 25.0, 0.0);
    c.marker.hairs = vec![[-1.0, 3.0, 17.0, 12.0, 0.08]];
    let s = marker_eval::score(&c);
    assert!(s.found && s.scale_err.abs() < 0.002, "{s:?}");
}
