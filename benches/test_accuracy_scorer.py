"""Tests of the accuracy bench's scorer on hand-made truths and analyses: CIEDE2000 against
Sharma, Wu and Dalal (2005), the matcher (evaluate.rs's rules), the photo score and the bands.
Needs numpy and pytest only (neither smpscope nor the generators):

    python -m pytest benches/test_accuracy_scorer.py
"""

from __future__ import annotations

import math
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from accuracy_lib import bands, scoring
from accuracy_lib.ciede2000 import delta_e_2000

# The 34 reference pairs of Sharma, Wu and Dalal (2005), Table 1: (Lab1, Lab2, dE00).
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0),
    ((50.0, -1.1848, -84.8006), (50.0, 0.0, -82.7485), 1.0),
    ((50.0, -0.9009, -85.5211), (50.0, 0.0, -82.7485), 1.0),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, -1.0, 2.0), (50.0, 0.0, 0.0), 2.3669),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0010), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0012), 7.2195),
    ((50.0, -0.001, 2.49), (50.0, 0.0009, -2.49), 4.8045),
    ((50.0, -0.001, 2.49), (50.0, 0.0010, -2.49), 4.8045),
    ((50.0, -0.001, 2.49), (50.0, 0.0011, -2.49), 4.7461),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
    ((50.0, 2.5, 0.0), (50.0, 3.1736, 0.5854), 1.0),
    ((50.0, 2.5, 0.0), (50.0, 3.2972, 0.0), 1.0),
    ((50.0, 2.5, 0.0), (50.0, 1.8634, 0.5757), 1.0),
    ((50.0, 2.5, 0.0), (50.0, 3.2592, 0.3350), 1.0),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


def test_ciede2000_sharma_pairs_one_by_one_and_symmetric():
    for a, b, want in SHARMA:
        assert float(delta_e_2000(a, b)) == pytest.approx(want, abs=1e-4), (a, b)
        assert float(delta_e_2000(b, a)) == pytest.approx(want, abs=1e-4), (b, a)


def test_ciede2000_vectorised_and_identity():
    a = np.array([p[0] for p in SHARMA])
    b = np.array([p[1] for p in SHARMA])
    want = np.array([p[2] for p in SHARMA])
    np.testing.assert_allclose(delta_e_2000(a, b), want, atol=1e-4)
    assert delta_e_2000(a, b).shape == (34,)
    np.testing.assert_array_equal(delta_e_2000(a, a), np.zeros(34))
    assert float(delta_e_2000((0.0, 0.0, 0.0), (0.0, 0.0, 0.0))) == 0.0


def truth_doc(dots, w=200, h=150, ppm=40.0, region=None, area=None, density=None, conditions=None, **extra):
    """A minimal truth document; dots are dicts with at least x, y, diameter_um."""
    full = []
    for n, d in enumerate(dots):
        t = {"id": n, "spread_um": 10.0, "fwhm_um": 110.0, "peak_od": 0.5, "ink": 0.004, "lab": [40.0, 5.0, 5.0]}
        t.update(d)
        full.append(t)
    area = area if area is not None else w * h / ppm**2 / 100.0
    doc = {
        "schema": "smpscope-synth.truth/1",
        "seed": 1,
        "width": w,
        "height": h,
        "px_per_mm": ppm,
        "camera_blur_um": 15.0,
        "region": region,
        "region_area_cm2": area,
        "density_per_cm2": density if density is not None else len(full) / area,
        "dots": full,
        "distractors": [],
        "conditions": conditions or {"skin_type": 3, "fade": 0.1, "jpeg_quality": 90, "distractors": False},
    }
    doc.update(extra)
    return doc


def analysis_doc(dots, density=None, region=None):
    full = []
    for d in dots:
        a = {"diameter_um": 100.0, "spread_um": 10.0, "fwhm_um": 110.0, "peak_od": 0.5, "ink": 0.004}
        a["lab"] = [40.0, 5.0, 5.0]
        a.update(d)
        full.append(a)
    summary = {"density_per_cm2": density, "region": region or {"method": "dots", "area_cm2": 1.0}}
    return {"schema": "smpscope.analysis/1", "summary": summary, "dots": full}


def test_pairs_closest_first_each_once():
    # Truth dots of 100 um at 40 px/mm: tolerance 2 px. Detection 0 sits between truth 0 and 1,
    # nearer truth 1; detection 1 sits right on truth 1.
    tx, ty, td = [50.0, 53.0], [50.0, 50.0], [100.0, 100.0]
    pairs = scoring.pair_detections(tx, ty, td, 40.0, [51.8, 53.0], [50.0, 50.0], [0, 1])
    assert sorted(pairs) == [(0, 0), (1, 1)]
    # Only one detection: it goes to the nearer truth dot.
    assert scoring.pair_detections(tx, ty, td, 40.0, [51.8], [50.0], [0, 1]) == [(1, 0)]


def test_pairs_tolerance_and_floor():
    # 100 um at 40 px/mm: 2.0 px. 30 um at 40 px/mm: 0.6 px, floored at 1.5 px.
    assert scoring.pair_detections([10.0], [10.0], [100.0], 40.0, [12.0], [10.0], [0]) == [(0, 0)]
    assert scoring.pair_detections([10.0], [10.0], [100.0], 40.0, [12.01], [10.0], [0]) == []
    assert scoring.pair_detections([10.0], [10.0], [30.0], 40.0, [11.5], [10.0], [0]) == [(0, 0)]
    assert scoring.pair_detections([10.0], [10.0], [30.0], 40.0, [11.51], [10.0], [0]) == []
    # A truth dot that is not a candidate is never paired.
    assert scoring.pair_detections([10.0], [10.0], [100.0], 40.0, [10.0], [10.0], []) == []


def test_pairs_ties_go_to_lower_truth_then_lower_detection():
    # Two truth dots at equal distance from one detection.
    assert scoring.pair_detections([10.0, 12.0], [10.0, 10.0], [100.0, 100.0], 40.0, [11.0], [10.0], [0, 1]) == [(0, 0)]
    # Two detections at equal distance from one truth dot.
    assert scoring.pair_detections([10.0], [10.0], [100.0], 40.0, [11.0, 9.0], [10.0, 10.0], [0]) == [(0, 0)]


def test_match_edge_rules():
    # 200 x 150 frame at 40 px/mm; a 100 um dot has r = 2 px + 1 px margin: centre >= 2.5.
    t = truth_doc([{"x": 2.4, "y": 50.0, "diameter_um": 100.0}, {"x": 50.0, "y": 50.0, "diameter_um": 100.0}])
    # Detections: on the cut truth dot (in the edge band, matches nothing: not counted), on the
    # whole dot, a stray one mid-frame (counted) and a stray one in the edge band (not counted;
    # the band is 0.06 mm * 40 + 1 = 3.4 px).
    m = scoring.match(t, [2.4, 50.0, 100.0, 199.0], [50.0, 50.0, 100.0, 75.0])
    assert (m.truth_dots, m.matched, m.detected) == (1, 1, 2)
    assert m.pairs == [(1, 1)]
    assert not m.snr_known and m.low_snr_dots == 0


def test_match_low_snr_dots_scored_apart():
    dots = [
        {"x": 50.0, "y": 50.0, "diameter_um": 100.0, "snr": 12.0},
        {"x": 80.0, "y": 50.0, "diameter_um": 100.0, "snr": 3.0},
        {"x": 110.0, "y": 50.0, "diameter_um": 100.0, "snr": 4.9},
    ]
    t = truth_doc(dots, schema="heldout.truth/1")
    m = scoring.match(t, [50.0, 80.5], [50.0, 50.0])
    assert (m.truth_dots, m.matched, m.detected) == (1, 1, 1)
    assert (m.low_snr_dots, m.low_snr_matched) == (2, 1)
    assert m.snr_known
    f = scoring.figures([scoring.score_photo(t, analysis_doc([{"x": 50.0, "y": 50.0}, {"x": 80.5, "y": 50.0}]), "p")])
    assert f["precision"] == 1.0 and f["recall"] == 1.0
    assert f["low_snr_share"] == pytest.approx(2 / 3)
    assert f["low_snr_recall"] == pytest.approx(0.5)


def test_score_photo_measures_and_missing_fields():
    t = truth_doc(
        [
            {"x": 50.0, "y": 50.0, "diameter_um": 100.0, "ink": 0.004},
            {"x": 100.0, "y": 60.0, "diameter_um": 120.0, "ink": 0.005},
        ],
        density=50.0,
    )
    a = analysis_doc(
        [
            {"x": 50.5, "y": 50.0, "diameter_um": 110.0, "ink": 0.0044, "lab": [42.0, 5.0, 5.0]},
            {"x": 150.0, "y": 100.0},  # a false detection
        ],
        density=60.0,
    )
    s = scoring.score_photo(t, a, "p")
    assert (s.truth_dots, s.detected, s.matched) == (2, 2, 1)
    assert s.diameter_err == [pytest.approx(10.0)]
    assert s.ink_rel_err == [pytest.approx(0.1)]
    assert s.colour_de[0] > 0.0
    assert s.density_found_err == pytest.approx(0.2) and s.density_found_bias == pytest.approx(0.2)
    assert math.isnan(s.region_iou)  # no polygon in the output
    f = scoring.figures([s])
    assert f["precision"] == 0.5 and f["recall"] == 0.5 and f["f1"] == 0.5
    # No flags, intervals or polygon in the output: those figures are n/a (None).
    assert f["unresolved_share"] is None and f["diameter_mae_um_resolved"] is None
    assert f["ci95_width_diameter_um_median"] is None and f["ci95_coverage"]["diameter_um"] is None
    assert f["region_iou"] is None and f["low_snr_share"] is None
    assert f["diameter_mae_um_all"] == pytest.approx(10.0)


def test_score_photo_intervals_flags_and_polygon():
    t = truth_doc(
        [{"x": 50.0, "y": 50.0, "diameter_um": 100.0}, {"x": 60.0, "y": 80.0, "diameter_um": 100.0}],
        region=[[0.0, 0.0], [100.0, 0.0], [100.0, 150.0], [0.0, 150.0]],
        area=100 * 150 / 40.0**2 / 100.0,
        density=20.0,
    )
    ci_in = {"x": [49.0, 51.0], "y": [49.0, 51.0], "diameter_um": [90.0, 110.0], "ink": [0.003, 0.005]}
    ci_out = {"x": [60.5, 61.0], "y": [79.0, 81.0], "diameter_um": [120.0, 140.0], "ink": [0.003, 0.005]}
    a = analysis_doc(
        [
            {"x": 50.0, "y": 50.0, "diameter_um": 105.0, "flags": [], "ci95": ci_in},
            {"x": 60.2, "y": 80.0, "diameter_um": 130.0, "flags": ["unresolved"], "ci95": ci_out},
            {"x": 150.0, "y": 75.0, "flags": []},  # outside the true region
        ],
        density=25.0,
        region={"method": "dots", "area_cm2": 1.0, "polygon": [[0.0, 0.0], [150.0, 0.0], [150.0, 150.0], [0, 150.0]]},
    )
    s = scoring.score_photo(t, a, "p")
    assert s.resolved == [True, False]
    assert s.ci_cover["x"] == [True, False] and s.ci_cover["diameter_um"] == [True, False]
    assert s.ci_width_diameter == [20.0, 20.0]
    # True-region density: 2 detections inside 100 x 150 px = 0.09375 cm^2, against 20 per cm^2.
    assert s.density_true_err == pytest.approx(2 / 0.09375 / 20.0 - 1.0)
    assert s.region_iou == pytest.approx(100 / 150, abs=0.01)
    f = scoring.figures([s])
    assert f["unresolved_share"] == pytest.approx(0.5)
    assert f["diameter_mae_um_resolved"] == pytest.approx(5.0)
    assert f["diameter_mae_um_all"] == pytest.approx(17.5)
    assert f["ci95_coverage"]["diameter_um"] == pytest.approx(0.5)
    assert f["ci95_coverage"]["spread_um"] is None
    assert f["ci95_width_diameter_um_median"] == pytest.approx(20.0)


def test_failed_photo_misses_every_dot():
    t = truth_doc([{"x": 50.0, "y": 50.0, "diameter_um": 100.0}], density=10.0)
    s = scoring.score_photo(t, None, "p", "PhotoError: truncated")
    assert s.failed == "PhotoError: truncated"
    assert (s.truth_dots, s.detected, s.matched) == (1, 0, 0)
    assert s.density_found_err == pytest.approx(1.0)
    f = scoring.figures([s])
    assert f["failed"] == 1 and f["recall"] == 0.0 and f["precision"] == 1.0


def test_inside_and_iou():
    square = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]
    assert list(scoring.inside(square, [5.0, 15.0, -1.0], [5.0, 5.0, 5.0])) == [True, False, False]
    assert list(scoring.inside([square, [[20.0, 0.0], [30.0, 0.0], [25.0, 10.0]]], [5.0, 25.0], [5.0, 5.0])) == [
        True,
        True,
    ]
    assert scoring.region_iou(None, None, 40, 30) == 1.0
    # Half the frame against the whole frame (a polygon past the frame is clipped by it).
    half = [[-5.0, -5.0], [19.5, -5.0], [19.5, 40.0], [-5.0, 40.0]]
    assert scoring.region_iou(half, None, 40, 30) == pytest.approx(0.5)


def test_bands_of_both_generators():
    own = truth_doc([], conditions={"skin_type": 5, "fade": 0.45, "jpeg_quality": None, "distractors": True})
    got = dict(bands.bands(own))
    assert got == {
        "skin type": "V",
        "px/mm": "30-60",
        "blur um": "10-20",
        "fade": "40-60%",
        "file": "png",
        "distractors": "yes",
    }
    held = truth_doc(
        [],
        ppm=70.0,
        conditions={"skin_type": 1, "fade": 0.7, "jpeg_quality": 55, "distractors": [], "oblique_deg": 12.0},
        camera_blur_um=25.0,
    )
    got = dict(bands.bands(held))
    assert got["px/mm"] == ">=60" and got["blur um"] == ">=20" and got["fade"] == ">=60%"
    assert got["file"] == "jpeg 50-69" and got["distractors"] == "no" and got["oblique"] == ">=10 deg"
    # The held-out truth lists the kinds present (pores always); its stratum says on or off.
    held["conditions"].update(distractors=["follicle", "pore"], strata={"distractors_on": False})
    assert dict(bands.bands(held))["distractors"] == "no"
    held["conditions"]["strata"]["distractors_on"] = True
    assert dict(bands.bands(held))["distractors"] == "yes"
    groups = bands.group([(own, "a"), (held, "b")])
    assert ("skin type", "I", ["b"]) in groups and groups.index(("skin type", "I", ["b"])) == 0
