"""smpscope.report: the clinician's HTML report, checked as a file and in a real headless
Chromium (offline, no console error, no request leaving the file, the print to A4 PDF and a
screenshot)."""

import json
import pathlib
import re
import shutil
import tempfile

import browser
import numpy as np
import pytest
from conftest import PHOTOS, PROFILES

import smpscope


@pytest.fixture(scope="module")
def patient_report(patient_visits, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "patient.html"
    path = smpscope.report(patient_visits, profiles=PROFILES, label="Demo patient", out=out)
    return path, len(patient_visits)


def test_the_report_is_written_and_returned(patient_report):
    path, visits = patient_report
    assert isinstance(path, pathlib.Path) and path.is_file()
    html = path.read_text()
    assert html.count('<section class="page visit"') == visits
    assert 'id="fade-plot"' in html and "Demo patient" in html
    assert html.count("data:image/jpeg;base64,") == visits


def test_one_photo_has_no_fade_curve(tmp_path):
    path = smpscope.report(PHOTOS / "demo-1.jpg", px_per_mm=40.0, out=tmp_path / "one.html")
    html = path.read_text()
    assert html.count('<section class="page visit"') == 1
    assert 'id="fade-plot"' not in html


def test_a_photo_is_never_overwritten(tmp_path):
    photo = tmp_path / "visit.jpg"
    shutil.copy(PHOTOS / "demo-1.jpg", photo)
    before = photo.read_bytes()
    with pytest.raises(smpscope.ParameterError, match="never written to"):
        smpscope.report([photo], px_per_mm=40.0, out=photo)
    assert photo.read_bytes() == before
    with pytest.raises(smpscope.ParameterError, match="does not exist"):
        smpscope.report([photo], px_per_mm=40.0, out=tmp_path / "no" / "such" / "r.html")
    with pytest.raises(smpscope.ParameterError):
        smpscope.report([photo], dates=["2024-01-01", "2024-02-01"], out=tmp_path / "r.html")


def _chromium_or_skip():
    if not browser.find():
        pytest.skip("chromium is not installed and scripts/test.sh could not install it (apt-get install chromium)")


def test_the_browser_harness_sees_console_errors_and_requests(tmp_path):
    """The checks below would catch a page that fails: a console error and a request out."""
    _chromium_or_skip()
    bad = tmp_path / "bad.html"
    bad.write_text('<p>x</p><img src="http://example.invalid/x.png"><script>console.error("boom")</script>')
    _, console, requests = browser.run(bad, "--dump-dom")
    assert any("boom" in m for m in console), console
    assert requests == ["http://example.invalid/x.png"]


def test_the_report_loads_offline_in_chromium(patient_report):
    _chromium_or_skip()
    path, visits = patient_report
    dom, console, requests = browser.run(path, "--dump-dom")
    assert console == []
    assert requests == []
    assert dom.count('class="page visit"') == visits
    assert "<svg" in dom.split('id="fade-plot"', 1)[1].split("</div>", 1)[0]


def test_the_report_prints_to_a4_with_a_page_per_visit(patient_report):
    _chromium_or_skip()
    path, visits = patient_report
    with tempfile.TemporaryDirectory() as tmp:
        pdf = pathlib.Path(tmp) / "report.pdf"
        browser.run(path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
        data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    # A4 is 595 x 842 points.
    boxes = [[float(x) for x in m.split()] for m in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)]
    assert boxes and all(abs(b[2] - 595) < 1 and abs(b[3] - 842) < 1 for b in boxes), boxes
    assert browser.pdf_pages(data) >= 1 + visits


def test_a_screenshot_shows_the_fade_plot(patient_report):
    _chromium_or_skip()
    from PIL import Image  # Pillow comes with matplotlib, a test dependency

    path, _ = patient_report
    with tempfile.TemporaryDirectory() as tmp:
        shot = pathlib.Path(tmp) / "shot.png"
        browser.run(path, f"--screenshot={shot}", "--window-size=1200,1400")
        img = Image.open(shot).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 100, "the screenshot is blank"
    # The fade plot's visit marks (31, 78, 140) and forecast curve (200, 90, 20).
    pixels = np.asarray(img).astype(int)
    marks = int((np.abs(pixels - [31, 78, 140]).sum(axis=2) < 12).sum())
    curve = int((np.abs(pixels - [200, 90, 20]).sum(axis=2) < 12).sum())
    assert marks > 50 and curve > 50, (marks, curve)


def test_ink_per_cm2_is_the_ink_in_the_region_over_its_area(demo_photos):
    a = smpscope.analyze(demo_photos[0], profiles=PROFILES)
    s = a.summary
    # The demo photos' region is the whole frame: every dot is inside it.
    assert s["region"]["method"] == "whole_frame"
    total = sum(d["ink"] for d in json.loads(a.to_json())["dots"])
    assert s["ink_per_cm2"] == pytest.approx(total / s["region"]["area_cm2"], rel=1e-9)
    assert s["ink_per_cm2"] > 0
    assert smpscope.summaries([a])["ink_per_cm2"][0] == s["ink_per_cm2"]
    assert smpscope.analyze(demo_photos[0]).summary["ink_per_cm2"] is None
