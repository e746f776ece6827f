//! Property tests of what a caller hands in: ROI polygons with any vertices (huge, infinite,
//! NaN) give a region whose area is finite, non-negative and at most the photo's, or an error,
//! never a panic; visit dates (given or from the photo's EXIF text) are checked into the
//! accepted years or refused.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use smpscope::photo::{Photo, Pixels};
use smpscope::region::{Region, RegionMethod, Roi};
use smpscope::track::visits::{FIRST_DATE, LAST_DATE, checked_dates};
use smpscope::{Analysis, Params, Visit};

/// Any coordinate: ordinary ones inside and around a frame, huge ones, and every special f64.
fn coordinate() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -100.0..5000.0f64,
        1 => prop::num::f64::ANY,
        1 => prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::MAX),
            Just(f64::MIN),
            Just(f64::MIN_POSITIVE),
            Just(1e300),
            Just(-1e300),
            Just(0.0),
            Just(-0.0),
        ],
    ]
}

/// 2000 cases from a fixed seed: the test suite is the same on every run (the fuzzers of
/// fuzz/ are where new inputs are sought, and what they find becomes a test).
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20261203),
        ..ProptestConfig::default()
    }
}

fn frame() -> impl Strategy<Value = (usize, usize)> {
    prop_oneof![Just((800, 600)), Just((16, 16)), (16usize..5000, 16usize..5000)]
}

fn check(region: &Region, w: usize, h: usize) {
    let frame = (w * h) as f64;
    assert!(region.area_px.is_finite() && region.area_px >= 0.0, "area {}", region.area_px);
    assert!(region.area_px <= frame * (1.0 + 1e-9), "area {} > frame {w}x{h}", region.area_px);
    assert!(region.perimeter_px.is_finite() && region.perimeter_px >= 0.0, "perimeter {}", region.perimeter_px);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_polygon_gives_a_bounded_area_or_an_error(
        vertices in prop::collection::vec([coordinate(), coordinate()], 0..24),
        (w, h) in frame(),
        probes in prop::collection::vec([coordinate(), coordinate()], 0..8),
    ) {
        let roi = Roi::Polygon(vertices.clone());
        if let Ok(region) = Region::from_roi(&roi, w, h) {
            prop_assert_eq!(region.method, RegionMethod::Polygon);
            check(&region, w, h);
            for p in probes.iter().chain(&vertices) {
                let _ = region.contains(p[0], p[1]);
            }
        }
        // The same vertices as dot centres, at a spacing from the first two.
        let points: Vec<(f64, f64)> = vertices.iter().map(|v| (v[0], v[1])).collect();
        let spacing = probes.first().map_or(10.0, |p| p[0].abs());
        let region = Region::from_dots(&points, spacing, w, h);
        check(&region, w, h);
    }

    #[test]
    fn parsed_polygons_are_finite_and_inside_the_frame_are_measured_exactly(
        x0 in 0.0..700.0f64, y0 in 0.0..500.0f64, dx in 1.0..100.0f64, dy in 1.0..100.0f64,
    ) {
        let text = format!("{{\"polygon\": [[{x0}, {y0}], [{}, {y0}], [{}, {}], [{x0}, {}]]}}", x0 + dx, x0 + dx, y0 + dy, y0 + dy);
        let roi = Roi::parse_polygon(&text, "roi.json").expect("a rectangle parses");
        let region = Region::from_roi(&roi, 800, 600).expect("a rectangle in the frame");
        check(&region, 800, 600);
        prop_assert!((region.area_px - dx * dy).abs() <= 1e-6 * dx * dy, "{} vs {}", region.area_px, dx * dy);
        prop_assert!(region.contains(x0 + dx / 2.0, y0 + dy / 2.0));
    }

    #[test]
    fn polygon_text_never_panics(text in "\\PC{0,80}", numbers in prop::collection::vec(-1e6..1e6f64, 0..10)) {
        let _ = Roi::parse_polygon(&text, "roi.json");
        let pairs: Vec<String> = numbers.chunks(2).map(|c| format!("{:?}", c)).collect();
        if let Ok(roi) = Roi::parse_polygon(&format!("[{}]", pairs.join(",")), "roi.json") {
            let Roi::Polygon(p) = &roi else { unreachable!() };
            prop_assert!(p.len() >= 3 && p.iter().flatten().all(|v| v.is_finite()));
            if let Ok(region) = Region::from_roi(&roi, 800, 600) {
                check(&region, 800, 600);
            }
        }
    }
}

/// A small analysis (no dots needed: the dates are all these tests look at).
fn analysis() -> &'static Analysis {
    static A: OnceLock<Analysis> = OnceLock::new();
    A.get_or_init(|| {
        let (w, h) = (64, 48);
        let data: Vec<u8> = (0..w * h * 3).map(|i| [200u8, 150, 120][i % 3] + ((i / 3) % 5) as u8).collect();
        let photo = Photo::from_pixels("skin.png", w, h, 3, Pixels::U8(data)).expect("a photo");
        smpscope::analyze_photo(&photo, &Params { px_per_mm: Some(40.0), ..Default::default() }).expect("an analysis")
    })
}

/// Any date chrono can hold, and more often one near the accepted years.
fn date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        (NaiveDate::MIN.num_days_from_ce()..=NaiveDate::MAX.num_days_from_ce())
            .prop_map(|d| NaiveDate::from_num_days_from_ce_opt(d).expect("in range")),
        (1980i32..2110, 1u32..=12, 1u32..=31)
            .prop_filter_map("a real day", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
    ]
}

/// What a camera may have written as the capture date, from the proper form to rubbish.
fn captured_at() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        date().prop_map(|d| Some(format!("{d}T10:30:00"))),
        date().prop_map(|d| Some(format!("{d}T23:59:59+02:00"))),
        "\\PC{0,24}".prop_map(Some),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}.{0,10}".prop_map(Some),
        Just(Some("2023-02-30T00:00:00".to_string())),
        Just(Some("2023-03-1é".to_string())),
        Just(Some("0000:00:00 00:00:00".to_string())),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn visit_dates_are_in_range_or_refused(
        visits in prop::collection::vec((prop::option::of(date()), captured_at()), 0..6),
    ) {
        let visits: Vec<Visit> = visits
            .into_iter()
            .enumerate()
            .map(|(i, (date, captured_at))| {
                let mut analysis = analysis().clone();
                analysis.image.source = format!("visit-{i}.jpg");
                analysis.image.captured_at = captured_at;
                analysis.dots.clear();
                Visit { analysis, date }
            })
            .collect();
        match checked_dates(&visits) {
            Ok((dates, _warnings)) => {
                prop_assert_eq!(dates.len(), visits.len());
                for (d, v) in dates.iter().zip(&visits) {
                    prop_assert!((FIRST_DATE..=LAST_DATE).contains(d), "{}", d);
                    if let Some(given) = v.date {
                        prop_assert_eq!(*d, given);
                    }
                }
            }
            Err(e) => {
                // Refused only for a date that is missing or out of range.
                let out = visits.iter().any(|v| v.date.is_some_and(|d| !(FIRST_DATE..=LAST_DATE).contains(&d)));
                let missing = visits.iter().any(|v| v.date.is_none());
                prop_assert!(out || missing, "{}", e);
            }
        }
    }
}

#[test]
fn an_exif_date_is_read_and_a_given_date_wins() {
    let mut analysis = analysis().clone();
    analysis.image.captured_at = Some("2023-03-14T10:30:00".into());
    let from_exif = Visit { analysis: analysis.clone(), date: None };
    let (dates, _) = checked_dates(std::slice::from_ref(&from_exif)).expect("a date");
    assert_eq!(dates[0], NaiveDate::from_ymd_opt(2023, 3, 14).unwrap());
    let given = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
    let (dates, warnings) = checked_dates(&[Visit { analysis, date: Some(given) }]).expect("a date");
    assert_eq!((dates[0], warnings.len()), (given, 1));
    assert_eq!(given.year(), 2024);
}
