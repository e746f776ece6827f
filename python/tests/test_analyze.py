"""Tests of the Python package against the installed build, on the bundled fixtures."""

import json
import pathlib
import pickle

import numpy as np
import pytest

import smpscope

ROOT = pathlib.Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "fixtures" / "photos"


def truth(name):
    return json.loads((PHOTOS / f"{name}.truth.json").read_text())


def test_analyze_a_path_in_physical_units():
    t = truth("demo-1")
    a = smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=t["px_per_mm"], camera_blur_um=t["camera_blur_um"])
    s = a.summary
    assert abs(s["dot_count"] / len(t["dots"]) - 1) < 0.08
    assert abs(s["density_per_cm2"] / t["density_per_cm2"] - 1) < 0.08
    assert 90 < s["distributions"]["diameter_um"]["median"] < 160
    assert a.image["captured_at"] == "2026-01-15T10:30:00"
    doc = json.loads(a.to_json())
    assert doc["schema"] == "smpscope.analysis/1"
    assert len(doc["dots"]) == s["dot_count"] or len(doc["dots"]) >= s["dot_count"]


def test_no_scale_gives_null_lengths_and_a_warning():
    a = smpscope.analyze(str(PHOTOS / "demo-1.jpg"))
    assert a.summary["density_per_cm2"] is None
    assert a.scale["px_per_mm"] is None
    assert any("no scale" in w for w in a.warnings)
    d = a.dots
    col = d["diameter_um"]
    assert np.all(np.isnan(np.asarray(col, dtype=float)))


def test_numpy_arrays_of_every_dtype():
    rng = np.random.default_rng(1)
    img = np.full((200, 260, 3), 190, np.uint8)
    yy, xx = np.mgrid[0:200, 0:260]
    for cx, cy in [(60, 60), (150, 100), (200, 160)]:
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < 12] = 70
    img = np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)
    counts = []
    for arr in (img, img.astype(np.uint16) * 257, img.astype(np.float32) / 255, img[..., 0], np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])):
        counts.append(smpscope.analyze(arr, px_per_mm=40).summary["dot_count"])
    assert counts == [3] * 5


def test_errors_are_python_exceptions():
    with pytest.raises(smpscope.PhotoError, match="nonexistent"):
        smpscope.analyze("/nonexistent.jpg")
    with pytest.raises(smpscope.PhotoError, match="finite"):
        smpscope.analyze(np.full((50, 50, 3), np.nan))
    with pytest.raises(smpscope.PhotoError):
        smpscope.analyze(np.zeros((10, 10, 3, 2), np.uint8))
    with pytest.raises(smpscope.ParameterError, match="px_per_mm"):
        smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=-3)
    with pytest.raises(smpscope.ParameterError):
        smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=float("nan"))


def test_pickle_round_trip():
    a = smpscope.analyze(PHOTOS / "demo-2.jpg", px_per_mm=40)
    b = pickle.loads(pickle.dumps(a))
    assert a == b and b.summary == a.summary
    assert "dots" in repr(a)


def test_overlay_is_an_image():
    a = smpscope.analyze(PHOTOS / "demo-3.jpg", px_per_mm=40)
    o = a.overlay()
    assert o.dtype == np.uint8 and o.ndim == 3 and o.shape[2] == 3
