//! The report of the demo patient (four visits with a touch-up) and of one photo: one file that
//! loads nothing, embeds its pictures without EXIF, has a section per visit and the fade plot.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use smpscope::{DeviceProfiles, Params, TrackParams, Visit};
use smpscope_report::{Report, ReportParams, ReportVisit, render, sha256_file};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn params() -> Params {
    let profiles = DeviceProfiles::load(&fixtures().join("devices.toml")).unwrap();
    Params { device_profiles: Some(profiles), ..Default::default() }
}

fn visit(path: &Path, params: &Params) -> ReportVisit {
    let photo = smpscope::photo::load_path(path).unwrap();
    let analysis = smpscope::analyze_photo(&photo, params).unwrap();
    ReportVisit { analysis, photo: Some(photo), sha256: Some(sha256_file(path).unwrap()) }
}

fn patient() -> Report {
    let params = params();
    let visits: Vec<ReportVisit> =
        (1..=4).map(|i| visit(&fixtures().join(format!("patient/visit-{i}.jpg")), &params)).collect();
    let track = smpscope::track(
        visits.iter().map(|v| Visit { analysis: v.analysis.clone(), date: None }).collect(),
        &TrackParams::default(),
    )
    .unwrap();
    Report {
        label: Some("Demo <patient> & co".into()),
        visits,
        track: Some(track),
        params: Some(serde_json::to_value(&params).unwrap()),
    }
}

/// Every URL the page would load: src/href attributes and CSS url(...) that are not data: or
/// in-page anchors.
fn loaded_urls(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attr in ["src=\"", "href=\"", "url("] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            let end = rest.find(['"', ')']).unwrap_or(rest.len());
            let url = &rest[..end];
            if !url.starts_with("data:") && !url.starts_with('#') {
                urls.push(url.to_string());
            }
        }
    }
    urls
}

#[test]
fn the_patient_report_is_one_self_contained_file() {
    let report = patient();
    let html = render(&report, &ReportParams::default()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(loaded_urls(&html), Vec::<String>::new());
    // Only SVG namespace identifiers may name a web address; nothing is fetched from one.
    let addresses: Vec<&str> = html
        .match_indices("http")
        .map(|(i, _)| &html[i..(i + 40).min(html.len())])
        .filter(|s| !s.starts_with("http://www.w3.org/"))
        .collect();
    assert!(addresses.is_empty(), "{addresses:?}");
    // One section per visit, each with its photo; the crops of the four visits and the slider.
    assert_eq!(html.matches("<section class=\"page visit\"").count(), 4);
    assert_eq!(html.matches("src=\"data:image/jpeg;base64,").count(), 4);
    assert_eq!(html.matches("src=\"data:image/png;base64,").count(), 4 + 2);
    // The fade plot, with the touch-up and the threshold.
    let fade = &html[html.find("id=\"fade-plot\"").expect("the fade plot")..];
    assert!(fade[..fade.find("</svg>").unwrap()].contains("<svg"));
    assert!(fade.contains("touch-up threshold (50 %)"));
    // The label is escaped; the header shows the dates of the track.
    assert!(html.contains("Demo &lt;patient&gt; &amp; co"));
    for v in &report.track.as_ref().unwrap().visits {
        assert!(html.contains(&v.date.to_string()));
    }
    // The provenance footer: the hash of every input.
    for v in &report.visits {
        assert!(html.contains(v.sha256.as_deref().unwrap()));
    }
    assert!(html.contains("(APPARENT)"));
    // The pigment shift of every later visit, with its interval.
    for v in &report.track.as_ref().unwrap().visits[1..] {
        let shift = format!("{:+.3} ({:+.3} to", v.pigment_shift.unwrap(), v.pigment_shift_interval.unwrap()[0]);
        assert!(html.contains(&shift), "{shift}");
    }
}

#[test]
fn embedded_pictures_carry_no_exif() {
    let html = render(&patient(), &ReportParams::default()).unwrap();
    let mut pictures = 0;
    for (i, _) in html.match_indices("data:image/") {
        let rest = &html[i..];
        let b64 = &rest[rest.find(',').unwrap() + 1..rest.find('"').unwrap()];
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        assert!(!bytes.windows(4).any(|w| w == b"Exif"), "picture {pictures} has EXIF");
        assert!(!bytes.windows(13).any(|w| w == b"smpscope-synt"), "picture {pictures} names the camera");
        pictures += 1;
    }
    assert_eq!(pictures, 10);
}

#[test]
fn a_single_photo_has_no_fade_curve() {
    let params = params();
    let v = visit(&fixtures().join("photos/demo-1.jpg"), &params);
    let dots = v.analysis.summary.dot_count;
    let report = Report { label: None, visits: vec![v], track: None, params: None };
    let html = render(&report, &ReportParams::default()).unwrap();
    assert_eq!(html.matches("<section class=\"page visit\"").count(), 1);
    assert!(!html.contains("id=\"fade-plot\""));
    assert!(html.contains(&format!("{dots} dots in the treated region")));
    assert!(loaded_urls(&html).is_empty());
}

#[test]
fn a_report_without_photos_shows_the_figures() {
    let mut report = patient();
    for v in &mut report.visits {
        v.photo = None;
    }
    let html = render(&report, &ReportParams::default()).unwrap();
    assert!(!html.contains("data:image/"));
    assert_eq!(html.matches("The photo was not at hand").count(), 4);
}

#[test]
fn a_track_of_other_visits_is_refused() {
    let mut report = patient();
    report.visits.pop();
    let e = render(&report, &ReportParams::default()).unwrap_err();
    assert!(e.to_string().contains("visit-4.jpg"), "{e}");
    let none = Report::default();
    assert!(render(&none, &ReportParams::default()).is_err());
    let bad = ReportParams { jpeg_quality: 0, ..Default::default() };
    assert!(render(&patient(), &bad).unwrap_err().to_string().contains("jpeg_quality"));
}
