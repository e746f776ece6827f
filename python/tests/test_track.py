"""track(): the demo patient followed over its visits."""

import datetime as dt
import json
import pickle

import numpy as np
import pytest
from conftest import PROFILES

import smpscope


@pytest.fixture(scope="module")
def patient(patient_visits):
    return smpscope.track(patient_visits, profiles=PROFILES)


def test_visits_in_date_order_with_exif_dates(patient, patient_truth):
    pd = pytest.importorskip("pandas")
    v = patient.visits
    assert isinstance(v, pd.DataFrame) and len(v) == len(patient_truth["visits"])
    assert [d.date().isoformat() for d in v["date"]] == [t["date"] for t in patient_truth["visits"]]
    assert np.allclose(v["months"], [t["months"] for t in patient_truth["visits"]], atol=0.05)
    assert v.loc[0, "ink_retained"] == pytest.approx(1.0)
    assert np.isnan(v.loc[0, "registration_scale"])
    for col in (
        "source",
        "baseline",
        "touch_up",
        "dot_count",
        "density_per_cm2",
        "shared_dots",
        "matched",
        "lost",
        "new",
        "density_retained",
        "ink_retained",
        "spread_growth_um",
        "diameter_change_um",
        "colour_shift_de",
        "delta_b",
        "delta_b_low",
        "delta_b_high",
        "pigment_shift",
        "pigment_shift_low",
        "pigment_shift_high",
        "registration_rotation_deg",
        "registration_scale",
        "registration_residual_px",
        "registration_residual_um",
        "registration_matched_dots",
        "registration_shared_dots",
        "registration_transform_a",
        "registration_transform_tx",
    ):
        assert col in v.columns, col


def test_pigment_shift_is_the_inks_own_hue(patient, patient_truth):
    # The truth: the median over shared dots of ln(k_blue / k_red) now minus at the first visit
    # (-0.13 and -0.27 as the ink blues; 0 at the touch-up, whose re-inked dots are fresh).
    v = patient.visits
    visits = patient_truth["visits"]
    index = [{ident: i for i, ident in enumerate(t["identity"])} for t in visits]

    def hue(k):
        return np.log(k[2] / k[0])

    for n in range(1, len(visits)):
        both = [(i, index[n][ident]) for ident, i in index[0].items() if ident in index[n]]
        dots = [visits[0]["truth"]["dots"], visits[n]["truth"]["dots"]]
        truth = float(np.median([hue(dots[1][j]["k"]) - hue(dots[0][i]["k"]) for i, j in both]))
        shift, low, high = v.loc[n, "pigment_shift"], v.loc[n, "pigment_shift_low"], v.loc[n, "pigment_shift_high"]
        assert abs(shift - truth) <= 0.04 and low <= truth <= high, (n, shift, low, high, truth)
        # A claimed sign is the true one; a real blueing of 0.1 or more is claimed.
        assert not (low > 0 or high < 0) or np.sign(shift) == np.sign(truth), n
        assert abs(truth) < 0.1 or high < 0, n


def test_fade_touch_up_and_registration_match_the_truth(patient, patient_truth):
    v = patient.visits
    truth_visits = patient_truth["visits"]
    assert list(v["touch_up"]) == [t["touch_up"] for t in truth_visits]
    # Registration recovers the similarity of each visit onto the first.
    for i, t in enumerate(truth_visits[1:], start=1):
        a, b, tx, ty = t["to_first"]
        assert v.loc[i, "registration_transform_a"] == pytest.approx(a, abs=0.01)
        assert v.loc[i, "registration_transform_b"] == pytest.approx(b, abs=0.01)
        assert v.loc[i, "registration_transform_tx"] == pytest.approx(tx, abs=3)
        assert v.loc[i, "registration_transform_ty"] == pytest.approx(ty, abs=3)
    # Ink fades between touch-ups.
    fading = [i for i, t in enumerate(truth_visits) if i > 0 and not t["touch_up"]]
    assert all(v.loc[i, "ink_retained"] < 1.0 for i in fading)
    # The demo patient blues by about 2 b* (1.70 and 2.10 by its truth) until the touch-up's
    # fresh ink; the 95 % intervals hold the truth and tell the blueing for certain.
    assert (v["delta_b_low"] < v["delta_b"]).iloc[1:].all() and (v["delta_b"] < v["delta_b_high"]).iloc[1:].all()
    assert (v.loc[fading, "delta_b_high"] < 0).all()
    trend = patient.trend
    assert trend["model"] == "exponential"
    assert trend["half_life_months"] == pytest.approx(patient_truth["half_life_months"], rel=0.3)
    assert dt.date.fromisoformat(trend["touch_up_due"]) > dt.date.fromisoformat(truth_visits[-1]["date"])
    s = patient.summary
    assert s["visits"] == len(truth_visits) and s["first_date"] == truth_visits[0]["date"]
    assert s["touch_ups"] == [i for i, t in enumerate(truth_visits) if t["touch_up"]]
    assert s["half_life_months"] == trend["half_life_months"] and s["ink_retained"] == v["ink_retained"].iloc[-1]


def test_dots_table(patient):
    d = patient.dots
    m = json.loads(patient.to_json())["matches"]
    assert len(d) == sum(1 for x in m for k in x["dots"] if k is not None)
    for col in (
        "id",
        "visit",
        "date",
        "months",
        "x",
        "y",
        "first_visit",
        "dot",
        "x_visit",
        "y_visit",
        "diameter_um",
        "ink",
        "ink_retained",
        "spread_growth_um",
        "diameter_change_um",
        "delta_e",
        "delta_b",
        "lab_balanced_b",
    ):
        assert col in d.columns, col
    # Every dot row points at a real dot of its visit, with its own measures.
    for visit, a in enumerate(patient.analyses):
        rows = d[d["visit"] == visit]
        dots = a.to_dict()["dots"]
        assert all(0 <= k < len(dots) for k in rows["dot"])
        first = rows.iloc[0]
        assert first["x_visit"] == dots[int(first["dot"])]["x"]
    # Changes only where the dot was seen at its baseline too; never at the first visit.
    assert d[d["visit"] == 0]["ink_retained"].isna().all()
    assert d[d["visit"] == 1]["ink_retained"].notna().sum() > 50


def test_analyses_follow_the_visit_order(patient, patient_visits):
    assert [a.source for a in patient.analyses] == list(patient.visits["source"])
    assert patient.analyses[0].overlay(max_side=120).shape[1] == 120


def _without_inputs(t: smpscope.Track) -> dict:
    """The track document without ``input`` (which given visit each one is), the one part that
    follows the order the visits were given in."""
    doc = t.to_dict()
    for v in doc["visits"] + doc["left_out"]:
        v.pop("input")
    return doc


def test_from_analyses_equals_from_paths(patient, patient_visits):
    analyses = [smpscope.analyze(p, profiles=PROFILES) for p in patient_visits]
    again = smpscope.track(analyses[::-1])
    assert _without_inputs(again) == _without_inputs(patient)
    assert [v["input"] for v in again.to_dict()["visits"]] == [3, 2, 1, 0]
    assert [a.source for a in again.analyses] == [a.source for a in patient.analyses]
    # Pickled analyses (e.g. from Dask workers) work the same.
    assert smpscope.track(pickle.loads(pickle.dumps(analyses))) == patient


def test_input_order_does_not_matter(patient, patient_visits):
    reversed_ = smpscope.track(list(reversed(patient_visits)), profiles=PROFILES, threads=1)
    assert _without_inputs(reversed_) == _without_inputs(patient)


def test_explicit_dates_override_exif(patient_visits):
    dates = [dt.date(2020, 1, 1), dt.datetime(2020, 7, 1, 9, 30), "2021-01-01", np.datetime64("2021-07-01")]
    t = smpscope.track(patient_visits[:4], dates=dates, profiles=PROFILES)
    assert [str(d.date()) for d in t.visits["date"]] == ["2020-01-01", "2020-07-01", "2021-01-01", "2021-07-01"]
    # Arrays have no EXIF: dates make them trackable.
    pil = pytest.importorskip("PIL.Image")
    from PIL import ImageOps

    arrays = [np.asarray(ImageOps.exif_transpose(pil.open(p)).convert("RGB")) for p in patient_visits[:2]]
    t2 = smpscope.track(arrays, dates=["2020-01-01", "2020-06-01"], px_per_mm=40)
    assert list(t2.visits["source"]) == ["<array #0>", "<array #1>"]
    assert t2.visits.loc[1, "ink_retained"] < 1


def test_threshold_moves_the_forecast(patient_visits, patient):
    later = smpscope.track(patient_visits, profiles=PROFILES, threshold=0.3)
    assert later.trend["threshold"] == 0.3
    assert later.trend["touch_up_due"] > patient.trend["touch_up_due"]


def test_no_scale_gives_null_lengths_with_a_warning(patient_visits):
    t = smpscope.track(patient_visits)
    assert any("no scale" in w for w in t.warnings)
    assert t.visits["spread_growth_um"].isna().all()
    assert t.visits["ink_retained"].notna().all()


def test_json_pickle_repr_html_and_plot(patient):
    doc = json.loads(patient.to_json())
    assert doc["schema"] == smpscope.TRACK_SCHEMA == "smpscope.track/1"
    assert set(doc) >= {"visits", "matches", "trend", "params", "warnings"}
    back = pickle.loads(pickle.dumps(patient))
    assert back == patient and back.analyses == patient.analyses
    r = repr(patient)
    assert r.startswith("<smpscope.Track 4 visits") and "half-life" in r
    assert "<table>" in patient._repr_html_()
    assert smpscope.Track.from_json(patient.to_json()) == patient
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    ax = patient.plot_fade()
    assert ax.get_xlabel().startswith("months")


def test_tables_without_pandas(patient, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    v = patient.visits
    assert isinstance(v, dict) and v["date"].dtype == np.dtype("datetime64[D]")
    assert v["ink_retained"].dtype == float and isinstance(patient.dots, dict)


def test_a_visit_of_another_area_is_left_out(patient_visits, demo_photos):
    # The demo photos show another scalp: among the patient's visits, one is left out with a
    # warning, and the others are tracked as without it.
    visits = [*patient_visits[:3], demo_photos[0]]
    dates = ["2021-01-10", "2021-09-10", "2022-06-10", "2022-09-10"]
    t = smpscope.track(visits, dates=dates, profiles=PROFILES)
    assert [x["source"] for x in t.left_out] == [str(demo_photos[0])]
    assert "different scalp areas" in t.left_out[0]["reason"] and t.left_out[0]["date"] == "2022-09-10"
    assert any(w.startswith(str(demo_photos[0])) and "left out" in w for w in t.warnings)
    assert len(t.visits) == 3 and [a.source for a in t.analyses] == list(t.visits["source"])
    without = smpscope.track(patient_visits[:3], dates=dates[:3], profiles=PROFILES)
    assert np.allclose(t.visits["ink_retained"], without.visits["ink_retained"])
