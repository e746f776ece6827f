"""Tests of the tracking accuracy bench's scorer (accuracy_lib/track_scoring.py, its tables and
the reading of series sets) on hand-made truths and track documents. Needs numpy and pytest only
(neither smpscope nor the generator):

    python -m pytest benches/test_track_scorer.py
"""

from __future__ import annotations

import json
import math
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from accuracy_lib import series_sets, track_report, track_scoring
from accuracy_lib.track_scoring import PairCounts, claimed_sign, half_life_verdict, identify, pair_counts

PPM = 40.0  # px/mm: a 100 um dot is 4 px across, matched within 2 px


def grid(n: int = 25, step: float = 20.0, x0: float = 20.0) -> list[tuple[float, float]]:
    side = math.ceil(math.sqrt(n))
    return [(x0 + step * (k % side), x0 + step * (k // side)) for k in range(n)]


def tdot(i: int, x: float, y: float, visible: bool = True, snr: float = 20.0) -> dict:
    return {"id": i, "x": x, "y": y, "visible": visible, "diameter_um": 100.0, "snr": snr}


def tvisit(file: str, dots: list[dict], months: float = 0.0, **extra) -> dict:
    v = {"file": file, "date": "2024-01-01T10:00:00", "months": months, "px_per_mm": PPM, "dots": dots}
    v.update(touch_up=False, baseline_visit=0, ink_retained=1.0, pigment_shift=0.0)
    v.update(extra)
    return v


SHIFT = (5.0, -3.0)  # later visits' px + SHIFT = first visit's px (a = 1, b = 0)
TRANSFORM = {"a": 1.0, "b": 0.0, "tx": SHIFT[0], "ty": SHIFT[1]}


def patient(n_dots: int = 25, kind: str = "series", half_life: float | None = 20.0) -> dict:
    """Four visits over 24 months of the same n_dots dots; later visits shifted by -SHIFT; a
    touch-up at visit 2 (0-based)."""
    first = [tdot(i, x, y) for i, (x, y) in enumerate(grid(n_dots))]
    later = [tdot(i, x - SHIFT[0], y - SHIFT[1]) for i, (x, y) in enumerate(grid(n_dots))]
    fit = dict(TRANSFORM, rms_px=0.0, n=n_dots)
    visits = [tvisit("visit-1.jpg", first, transform_fit={"a": 1.0, "b": 0.0, "tx": 0.0, "ty": 0.0})]
    visits.append(tvisit("visit-2.jpg", later, 8.0, ink_retained=0.75, pigment_shift=-0.03, transform_fit=fit))
    visits.append(tvisit("visit-3.png", later, 16.0, ink_retained=0.9, touch_up=True, transform_fit=fit))
    visits.append(tvisit("visit-4.jpg", later, 24.0, ink_retained=0.8, baseline_visit=2, transform_fit=fit))
    return {
        "schema": "heldout.series/1",
        "seed": 7,
        "kind": kind,
        "skin_type": 3,
        "device": "phone",
        "nominal_px_per_mm": PPM,
        "half_life_months": half_life,
        "touch_ups": [2],
        "visits": visits,
    }


def detections(truth_visit: dict, dx: float = 0.0) -> list[dict]:
    return [{"x": d["x"] + dx, "y": d["y"]} for d in truth_visit["dots"]]


def report(source: str, baseline: int = 0, **extra) -> dict:
    r = {"source": f"/some/where/{source}", "baseline": baseline, "touch_up": False, "ink_retained": 1.0}
    r.update(delta_b=None, delta_b_interval=None, registration=None)
    r.update(extra)
    return r


def track_doc(truth: dict, swap: bool = True, **v1) -> tuple[dict, dict]:
    """smpscope tracks visits 1, 2 and 4 (visit 3 left out), calls visit 2 a touch-up (invented)
    and visit 4 one (found: the truth's touch-up at visit 3 shows there); its identities are
    right but for dots 0 and 1 swapped at visit 2 (with swap)."""
    tv = truth["visits"]
    n = len(tv[0]["dots"])
    reg = {"transform": TRANSFORM}
    visits = [
        report("visit-1.jpg"),
        report("visit-2.jpg", touch_up=True, ink_retained=0.77, registration=reg, **v1),
        report("visit-4.jpg", baseline=1, touch_up=True, ink_retained=0.74, registration=reg),
    ]
    matches = [{"id": i, "dots": [i, i, i]} for i in range(n)]
    if swap:
        matches[0]["dots"][1], matches[1]["dots"][1] = 1, 0
    doc = {
        "schema": "smpscope.track/1",
        "visits": visits,
        "left_out": [{"source": "/some/where/visit-3.png", "date": "2024-01-01", "reason": "too few dots"}],
        "matches": matches,
        "trend": {"half_life_months": 22.0, "half_life_interval_months": [18.0, None]},
    }
    dots = {
        "/some/where/visit-1.jpg": detections(tv[0]),
        "/some/where/visit-2.jpg": detections(tv[1], dx=0.5),
        "/some/where/visit-4.jpg": [*detections(tv[3]), {"x": 1000.0, "y": 1000.0}],  # + a stray
    }
    return doc, dots


# --- small pieces -------------------------------------------------------------------------------


def test_claimed_sign():
    assert claimed_sign([0.1, 0.5]) == 1
    assert claimed_sign([-0.5, -0.1]) == -1
    assert claimed_sign([-0.1, 0.1]) == 0
    assert claimed_sign([0.0, 0.1]) == 0  # touching 0 claims nothing
    assert claimed_sign(None) == 0
    assert claimed_sign([None, -0.1]) == -1
    assert claimed_sign([0.1]) == 0


def test_identify_uses_visible_dots_and_marks_low_snr():
    v = tvisit(
        "v.jpg",
        [tdot(10, 10.0, 10.0), tdot(11, 30.0, 10.0, snr=3.0), tdot(12, 50.0, 10.0, visible=False)],
    )
    dets = [{"x": 11.0, "y": 10.5}, {"x": 30.0, "y": 11.0}, {"x": 50.0, "y": 10.0}, {"x": 12.5, "y": 10.0}]
    ids, ok = identify(v, dets)
    # the closest detection takes dot 10; the one 2.5 px away is over the 2 px tolerance anyway
    assert ids == [10, 11, None, None]
    assert ok == [True, False, False, False]


def test_identify_tolerance_floor_and_each_once():
    v = tvisit("v.jpg", [tdot(1, 10.0, 10.0)])
    v["px_per_mm"] = 10.0  # 100 um = 1 px: the tolerance is the 1.5 px floor
    ids, _ = identify(v, [{"x": 11.4, "y": 10.0}, {"x": 10.2, "y": 10.0}])
    assert ids == [None, 1]  # closest first, the truth dot used once
    ids, _ = identify(v, [{"x": 11.6, "y": 10.0}])
    assert ids == [None]


def test_apply_similarity_form():
    x1, y1 = track_scoring.apply({"a": 0.0, "b": 2.0, "tx": 1.0, "ty": -1.0}, [1.0], [0.0])
    assert (float(x1[0]), float(y1[0])) == (1.0, 1.0)  # x' = a x - b y + tx, y' = b x + a y + ty
    x1, y1 = track_scoring.apply({"a": 0.0, "b": 2.0, "tx": 1.0, "ty": -1.0}, [0.0], [1.0])
    assert (float(x1[0]), float(y1[0])) == (-1.0, -1.0)


def test_registration_errors_only_detectable_matched_dots_in_the_first_visit():
    dots = [{"x": 0.0, "y": 0.0}, {"x": 10.0, "y": 0.0}, {"x": 5.0, "y": 5.0}, {"x": 7.0, "y": 7.0}]
    ids = [1, 2, 3, None]
    ok = [True, True, False, False]
    first = {1: (5.0, -3.0), 2: (18.0, -3.0)}
    errs = track_scoring.registration_errors(TRANSFORM, dots, ids, ok, first)
    assert errs == pytest.approx([0.0, 3.0])
    assert track_scoring.registration_errors(None, dots, ids, ok, first) == []


def test_pair_counts():
    # Three visits; truth ids per detection; dot 4 is low-SNR at visit 1; a stray at visit 2.
    ids = [[1, 2, 3, 4], [1, 2, 3, 4], [2, 1, None]]
    ok = [[True, True, True, True], [True, True, True, False], [True, True, False]]
    detectable = [{1, 2, 3, 4, 5}, {1, 2, 3, 5}, {1, 2, 3, 5}]
    matches = [
        [0, 0, 1],  # id 1 at 0 and 1, then the detection of id 1 at 2: all right
        [1, 1, 0],  # id 2: right
        [2, 2, 2],  # id 3, then a stray at visit 2
        [3, 3, None],  # id 4, low-SNR at visit 1
    ]
    c = pair_counts(matches, ids, ok, detectable)
    assert (c.declared, c.correct) == (7, 7)  # 3 pairs of id 1, 3 of id 2, id 3 at visits 0-1 (all right)
    assert (c.stray, c.low_snr) == (2, 1)  # id 3's pairs with the stray; id 4's pair
    # truth pairs detected at both: (0,1) {1,2,3}, (0,2) {1,2}, (1,2) {1,2}
    assert c.true == 7
    # detectable at both: (0,1) {1,2,3,5}, (0,2) {1,2,3,5}, (1,2) {1,2,3,5}
    assert c.detectable == 12

    wrong = [[0, 1, None], [1, 0, None]]  # ids 1 and 2 swapped at visit 1
    c = pair_counts(wrong, ids, ok, detectable)
    assert (c.declared, c.correct) == (2, 0)
    total = PairCounts()
    total.add(c)
    total.add(c)
    assert total.declared == 4


def test_half_life_verdict():
    v = half_life_verdict(20.0, 24.0, 22.0, [18.0, 30.0])
    assert v["fade"] == pytest.approx(1.0 - 2.0 ** (-24.0 / 20.0))
    assert v["judged"] and v["within"] and v["covered"]
    assert v["err"] == pytest.approx(0.1)
    v = half_life_verdict(20.0, 24.0, 24.0, [21.0, None])  # 20 % off; interval open above, misses 20
    assert v["judged"] and not v["within"] and not v["covered"]
    v = half_life_verdict(20.0, 24.0, 24.0, [15.0, None])  # an open long end covers
    assert v["covered"]
    v = half_life_verdict(100.0, 24.0, 100.0, [50.0, None])  # 15 % fade: not judged
    assert v["fade"] < track_scoring.MIN_FADE and not v["judged"]
    v = half_life_verdict(None, 24.0, 30.0, [20.0, None])  # no true fade
    assert v["fade"] == 0.0 and not v["judged"] and v["true"] is None
    v = half_life_verdict(20.0, 24.0, None, [None, None])  # no estimate: judged, missed
    assert v["judged"] and not v["within"] and not v["covered"] and v["err"] is None


# --- a whole patient ----------------------------------------------------------------------------


def test_score_patient_end_to_end():
    truth = patient()
    doc, dots = track_doc(truth)
    s = track_scoring.score_patient(truth, doc, dots, name="p7")
    v = s.visits
    assert [x.tracked for x in v] == [True, True, False, True]
    assert v[2].reason == "too few dots" and v[2].failure  # shares 25 detectable dots
    assert not any(x.failure for x in (v[0], v[1], v[3]))
    assert [x.shared_detectable for x in v] == [25, 25, 25, 25]
    # registration: detections 0.5 px off at visit 2, exact at visit 4; the truth fit likewise
    assert v[1].reg_err_px == pytest.approx([0.5] * 25)
    assert v[3].reg_err_px == pytest.approx([0.0] * 25)
    assert v[1].reg_floor_px == pytest.approx([0.5] * 25)
    assert v[3].stray == 1 and v[3].matched == 25
    # ink: 100 x |0.77 - 0.75|; visit 4: 100 x |0.74 - 0.8|
    assert v[1].ink_err_pts == pytest.approx(2.0)
    assert v[3].ink_err_pts == pytest.approx(6.0)
    assert v[3].baseline_truth == 2 and v[3].baseline_smpscope == 1
    # touch-ups: invented at visit 2; the touch-up of visit 3 (left out) found at visit 4
    assert (v[1].touch_truth, v[1].touch_smpscope) == (False, True)
    assert (v[3].touch_truth, v[3].touch_smpscope) == (True, True)
    # pairs: 3 pairs of visits x 25 dots, dots 0 and 1 swapped at visit 2 (4 wrong pairs)
    assert s.pairs.true == 75 and s.pairs.detectable == 75
    assert (s.pairs.declared, s.pairs.correct, s.pairs.stray) == (75, 71, 0)

    f = track_scoring.figures([s])
    assert (f["visits"], f["tracked"], f["left_out"], f["failures"]) == (4, 3, 1, 1)
    assert f["reg_median_px"] == pytest.approx(0.25)
    assert f["reg_p90_px"] == pytest.approx(0.5)
    assert f["match_precision"] == pytest.approx(71 / 75)
    assert f["match_recall"] == pytest.approx(71 / 75)
    assert f["match_f1"] == pytest.approx(71 / 75)
    assert f["ink_err_median_pts"] == pytest.approx(4.0)
    assert f["ink_err_worst_pts"] == pytest.approx(6.0)
    assert (f["touch_ups_true"], f["touch_ups_found"], f["touch_ups_missed"], f["touch_ups_invented"]) == (1, 1, 0, 1)
    assert f["touch_ups_unseen"] == 0
    # half-life: fade over 24 months at T = 20 is 56 %: judged; 22 vs 20 = 10 %; [18, open] holds 20
    assert (f["half_life_judged"], f["half_life_within"], f["half_life_covered"]) == (1, 1, 1)
    # no pigment_shift in the output: not reported
    assert f["shift_reported"] is False and f["shift_claimed"] is None
    # delta_b not given: nothing to compare
    assert f["delta_b_visits"] == 0 and f["delta_b_sign_ok"] is None
    # time: per megapixel of the patient's photos (given by the truth's frame sizes)
    for v in truth["visits"]:
        v.update(width=1000, height=500)
    s = track_scoring.score_patient(truth, doc, dots)
    s.seconds, s.cpu_seconds = 6.0, 5.0
    f = track_scoring.figures([s])
    assert f["megapixels"] == pytest.approx(2.0) and f["seconds_per_mp"] == pytest.approx(3.0)
    assert (f["seconds_total"], f["cpu_seconds_total"]) == (6.0, 5.0)


def test_score_patient_colour_claims():
    truth = patient()
    doc, dots = track_doc(
        truth, pigment_shift=-0.05, pigment_shift_interval=[-0.08, -0.02], delta_b=0.4, delta_b_interval=[0.1, 0.7]
    )
    doc["visits"][2].update(pigment_shift=0.03, pigment_shift_interval=[0.01, 0.05])  # truth 0: a claim at no shift
    s = track_scoring.score_patient(truth, doc, dots)
    assert s.visits[1].shift_claim == -1 and s.visits[1].delta_b_claim == 1
    f = track_scoring.figures([s])
    assert f["shift_reported"] is True and f["shift_visits"] == 2
    assert f["shift_err_median"] == pytest.approx((0.02 + 0.03) / 2)
    assert f["shift_big_visits"] == 1  # only visit 2 has a true |shift| over 0.02
    assert (f["shift_sign_ok"], f["shift_claimed"], f["shift_claim_ok"]) == (1.0, 1.0, 1.0)
    assert f["shift_claims_small"] == 1
    # delta_b says yellower (+) where the pigment turned bluer: sign wrong, and so is its claim
    assert (f["delta_b_visits"], f["delta_b_sign_ok"], f["delta_b_claimed"], f["delta_b_claim_ok"]) == (
        1,
        0.0,
        1.0,
        0.0,
    )


def test_refused_series_leaves_every_visit_out():
    truth = patient()
    s = track_scoring.score_patient(truth, None, {}, error="RegistrationError: no later visit")
    assert s.refused == "RegistrationError: no later visit"
    assert not any(v.tracked for v in s.visits)
    assert all(v.reason.startswith("series refused") for v in s.visits)
    assert [v.failure for v in s.visits] == [False, True, True, True]  # the first visit is no failure
    f = track_scoring.figures([s])
    assert (f["refused"], f["tracked"], f["left_out"], f["failures"]) == (1, 0, 4, 3)
    assert f["touch_ups_unseen"] == 1
    assert (f["half_life_judged"], f["half_life_within"], f["half_life_no_estimate"]) == (1, 0, 1)
    assert f["match_f1"] is None and f["reg_median_px"] is None
    listing = track_report.left_out([s])
    assert "refused, 3 failure(s): RegistrationError" in listing
    assert "visit-1.jpg first, visit-2.jpg FAILURE" in listing and "first: 25, 25, 25, 25" in listing


def test_few_shared_dots_left_out_is_no_failure():
    truth = patient(n_dots=19)
    doc, dots = track_doc(truth)
    s = track_scoring.score_patient(truth, doc, dots)
    assert not s.visits[2].tracked and not s.visits[2].failure
    # low-SNR dots do not count as shared
    truth = patient(n_dots=25)
    for d in truth["visits"][2]["dots"][:6]:
        d["snr"] = 4.0
    s = track_scoring.score_patient(truth, *track_doc(truth))
    assert s.visits[2].shared_detectable == 19 and not s.visits[2].failure


def test_unknown_source_is_an_error():
    truth = patient()
    doc, dots = track_doc(truth)
    doc["visits"][1]["source"] = "elsewhere.jpg"
    with pytest.raises(ValueError, match=r"elsewhere\.jpg"):
        track_scoring.score_patient(truth, doc, dots)


def test_retest_figures():
    truth = patient(kind="retest", half_life=None)
    doc, dots = track_doc(truth, swap=False, delta_b=-0.3, delta_b_interval=[-0.6, -0.05])
    truth["visits"] = truth["visits"][:2]
    for v in truth["visits"]:
        v.update(ink_retained=1.0, pigment_shift=0.0, touch_up=False)
    doc["visits"] = doc["visits"][:2]
    doc["visits"][1].update(touch_up=False, ink_retained=1.03)
    doc["left_out"] = []
    doc["matches"] = [{"id": m["id"], "dots": m["dots"][:2]} for m in doc["matches"]]
    s = track_scoring.score_patient(truth, doc, dots)
    f = track_scoring.figures([s])
    assert f["retest_visits"] == 1
    assert f["retest_ink_median_pts"] == pytest.approx(3.0)
    assert (f["retest_touch_claimed"], f["retest_colour_claimed"]) == (0, 1)
    assert f["half_life_judged"] == 0
    assert f["match_f1"] == pytest.approx(1.0)


# --- tables and sets ----------------------------------------------------------------------------


def test_tables_print_na_for_missing_pigment_shift():
    truth = patient()
    s = track_scoring.score_patient(truth, *track_doc(truth), name="p7")
    f = track_scoring.figures([s])
    text = track_report.tables([(s, f)], [], f, track_scoring.figures([]))
    lines = text.splitlines()
    head = next(ln for ln in lines if "ps_err" in ln).split()
    row = next(ln for ln in lines if ln.startswith("p7") and "%" in ln).split()
    assert row[head.index("ps_err")] == "n/a" and row[head.index("clm_ok")] == "n/a"
    assert row[head.index("hl15")] == "yes"
    overall = next(ln for ln in lines if ln.startswith("overall") and "%" in ln).split()
    assert overall[head.index("hl15")] == "1/1"
    listing = track_report.left_out([s])
    assert "p7/visit-3.png" in listing and "FAILURE" in listing and "too few dots" in listing
    assert "visit-4.jpg" in track_report.visit_table([s])


def test_record_is_json():
    truth = patient()
    s = track_scoring.score_patient(truth, *track_doc(truth))
    rec = track_scoring.patient_record(s)
    back = json.loads(json.dumps(rec))
    assert back["figures"]["failures"] == 1
    assert back["visits"][1]["reg_median_px"] == pytest.approx(0.5)


def test_runs_and_read_set(tmp_path):
    assert series_sets._runs([5, 3, 4, 9, 10, 7]) == [(3, 3), (7, 1), (9, 2)]
    assert series_sets._runs([]) == []
    for seed, kind in ((3, "series"), (2, "series"), (1, "retest")):
        d = tmp_path / kind / f"p{seed}"
        d.mkdir(parents=True)
        t = {"schema": "heldout.series/1", "seed": seed, "kind": kind, "visits": [{"file": "visit-1.jpg"}]}
        (d / "series.truth.json").write_text(json.dumps(t))
        (d / "visit-1.jpg").write_bytes(b"")
    incomplete = tmp_path / "series" / "p4"
    incomplete.mkdir()
    (incomplete / "series.truth.json").write_text(json.dumps({"schema": "heldout.series/1", "visits": [{"file": "x"}]}))
    got = [(p.kind, p.name) for p in series_sets.read_set(tmp_path)]
    assert got == [("series", "p2"), ("series", "p3"), ("retest", "p1")]
