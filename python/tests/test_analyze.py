"""analyze(): every input type, units, results, overlay, pickling and notebook display."""

import json
import pathlib
import pickle

import numpy as np
import pytest
from conftest import PHOTOS, PROFILES, synthetic_rgb, truth

import smpscope


def test_analyze_a_path_in_physical_units():
    t = truth("demo-1")
    a = smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=t["px_per_mm"], camera_blur_um=t["camera_blur_um"])
    s = a.summary
    assert abs(s["dot_count"] / len(t["dots"]) - 1) < 0.08
    assert abs(s["density_per_cm2"] / t["density_per_cm2"] - 1) < 0.08
    assert 90 < s["distributions"]["diameter_um"]["median"] < 160
    assert a.image["captured_at"] == "2026-01-15T10:30:00"
    assert a.scale == {"px_per_mm": t["px_per_mm"], "source": "caller", "camera_blur_um": t["camera_blur_um"]}
    doc = json.loads(a.to_json())
    assert doc["schema"] == smpscope.ANALYSIS_SCHEMA == "smpscope.analysis/1"
    assert set(doc) == {"schema", "image", "scale", "marker", "summary", "dots", "warnings", "warning_codes"}
    assert doc["marker"] is None  # no calibration card in this photo
    assert len(doc["dots"]) >= s["dot_count"]


def test_str_path_and_pathlib_give_the_same_result():
    a = smpscope.analyze(str(PHOTOS / "demo-2.jpg"), px_per_mm=40)
    b = smpscope.analyze(pathlib.Path(PHOTOS / "demo-2.jpg"), px_per_mm=40)
    assert a == b


def test_device_profile_gives_the_scale():
    a = smpscope.analyze(PHOTOS / "demo-1.jpg", profiles=PROFILES)
    assert a.scale["source"] == "device_profile"
    assert a.scale["px_per_mm"] == 40.0 and a.scale["camera_blur_um"] == 15.0
    assert a.summary["density_per_cm2"] is not None
    # The caller's scale wins over the profile.
    assert smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=50, profiles=str(PROFILES)).scale["source"] == "caller"


def test_no_scale_gives_null_lengths_and_a_warning():
    a = smpscope.analyze(str(PHOTOS / "demo-1.jpg"))
    assert a.summary["density_per_cm2"] is None
    assert a.scale["px_per_mm"] is None
    assert any("no scale" in w for w in a.warnings)
    # Each warning again with its stable code, in the same order.
    assert [w["message"] for w in a.warning_codes] == a.warnings
    assert "no_scale" in {w["code"] for w in a.warning_codes}
    assert np.all(np.isnan(np.asarray(a.dots["diameter_um"], dtype=float)))
    assert np.all(np.asarray(a.dots["diameter_px"], dtype=float) > 0)


def test_numpy_arrays_of_every_dtype_and_layout():
    img = synthetic_rgb()
    grey = img[..., 0]
    rgba = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    inputs = {
        "uint8 rgb": img,
        "uint16 rgb": img.astype(np.uint16) * 257,
        "float32 rgb": img.astype(np.float32) / 255,
        "float64 rgb": img.astype(np.float64) / 255,
        "float16 rgb": (img.astype(np.float32) / 255).astype(np.float16),
        "grey": grey,
        "rgba": rgba,
        "fortran order": np.asfortranarray(img),
        "strided view": np.ascontiguousarray(np.repeat(img, 2, axis=1))[:, ::2],
        "big-endian uint16": (img.astype(np.uint16) * 257).astype(">u2"),
        "read-only": np.frombuffer(img.tobytes(), np.uint8).reshape(img.shape),
        "list of lists": img.tolist(),
    }
    copies = {name: np.array(arr, copy=True) for name, arr in inputs.items() if name != "list of lists"}
    counts = {
        name: smpscope.analyze(arr if name != "list of lists" else np.asarray(arr, np.uint8), px_per_mm=40).summary[
            "dot_count"
        ]
        for name, arr in inputs.items()
    }
    assert set(counts.values()) == {3}, counts
    for name, before in copies.items():
        assert np.array_equal(inputs[name], before) and inputs[name].dtype == before.dtype, f"{name} was modified"


def test_array_and_decoded_file_agree():
    """The same pixels give the same measurement from a path and from an array."""
    pil = pytest.importorskip("PIL.Image")
    path = PHOTOS / "demo-3.jpg"
    pixels = np.asarray(pil.open(path).convert("RGB"))
    a = smpscope.analyze(path, px_per_mm=40)
    b = smpscope.analyze(pixels, px_per_mm=40)
    # Anything numpy can view as an array works too (here a PIL image).
    assert smpscope.analyze(pil.open(path).convert("RGB"), px_per_mm=40) == b
    assert b.image["format"] == "array" and b.source == "<array>"
    # Decoders may differ by a code value here and there (IDCT rounding), hence a tolerance.
    assert abs(a.summary["dot_count"] - b.summary["dot_count"]) <= 2
    assert abs(a.summary["density_per_cm2"] / b.summary["density_per_cm2"] - 1) < 0.02


def test_array_results_do_not_depend_on_memory_layout():
    img = synthetic_rgb(seed=5)
    a = smpscope.analyze(img, px_per_mm=40)
    assert smpscope.analyze(np.asfortranarray(img), px_per_mm=40) == a
    assert smpscope.analyze(img.astype(np.float64) / 255, px_per_mm=40).summary["dot_count"] == a.summary["dot_count"]


def test_dots_table_columns_and_units():
    pd = pytest.importorskip("pandas")
    a = smpscope.analyze(PHOTOS / "demo-1.jpg", profiles=PROFILES)
    d = a.dots
    assert isinstance(d, pd.DataFrame)
    assert len(d) == len(a.to_dict()["dots"])
    for col in (
        "x",
        "y",
        "diameter_um",
        "spread_um",
        "fwhm_um",
        "peak_od",
        "ink",
        "lab_L",
        "lab_a",
        "lab_b",
        "skin_lab_L",
        "od_rgb_r",
        "delta_e",
        "score",
        "diameter_px",
    ):
        assert col in d.columns
    # um and px agree through the scale.
    assert np.allclose(d["diameter_um"], d["diameter_px"] / 40 * 1000)
    # Every dot's intervals hold its value, and the flags are booleans.
    for f in ("x", "diameter_um", "spread_um", "peak_od", "ink"):
        lo, hi = d[f"{f}_lo"], d[f"{f}_hi"]
        held = lo.notna()
        assert held.mean() > 0.9, f
        assert ((lo[held] <= d[f][held] + 1e-9) & (d[f][held] <= hi[held] + 1e-9)).all(), f
    assert d["flag_unresolved"].dtype == bool and d["flag_crowded"].dtype == bool


def test_dots_without_pandas_are_numpy_arrays(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    a = smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=40)
    d = a.dots
    assert isinstance(d, dict) and d["x"].dtype == float and d["lab"].shape == (len(d["x"]), 3)
    s = smpscope.summaries([a])
    assert isinstance(s, dict) and s["dot_count"][0] == a.summary["dot_count"]
    with pytest.raises(ImportError):
        import pandas  # noqa: F401


def test_roi_forms():
    h, w = 600, 800
    poly = [(100, 100), (500, 100), (500, 400), (100, 400)]
    mask = np.zeros((h, w), bool)
    mask[100:400, 100:500] = True
    a = smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=40, roi=poly)
    b = smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=40, roi=np.array(poly, float))
    c = smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=40, roi=mask)
    assert a.summary["region"]["method"] == "polygon" and c.summary["region"]["method"] == "mask"
    assert a.summary == b.summary
    assert abs(a.summary["region"]["area_cm2"] - 400 * 300 / 40**2 / 100) < 0.01
    assert abs(a.summary["dot_count"] - c.summary["dot_count"]) <= 2


def test_params_reach_the_core():
    strict = smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=40, params={"measure": {"min_peak_od": 0.8}})
    normal = smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=40)
    assert strict.summary["dot_count"] < normal.summary["dot_count"]


def test_threads_do_not_change_the_result():
    a = smpscope.analyze(PHOTOS / "demo-2.jpg", px_per_mm=40, threads=1)
    b = smpscope.analyze(PHOTOS / "demo-2.jpg", px_per_mm=40, threads=2)
    assert a == b


def test_pickle_round_trip():
    a = smpscope.analyze(PHOTOS / "demo-2.jpg", px_per_mm=40)
    b = pickle.loads(pickle.dumps(a))
    assert a == b and b.summary == a.summary
    assert b.overlay().shape == (600, 800, 3)  # the path travels with it
    arr = smpscope.analyze(synthetic_rgb(), px_per_mm=40)
    c = pickle.loads(pickle.dumps(arr))
    assert c == arr  # the array itself is not pickled
    with pytest.raises(smpscope.ParameterError, match="holds no photo"):
        c.overlay()


def test_json_round_trip():
    a = smpscope.analyze(PHOTOS / "demo-2.jpg", px_per_mm=40)
    b = smpscope.Analysis.from_json(a.to_json(indent=None), photo=PHOTOS / "demo-2.jpg")
    assert a == b
    with pytest.raises(smpscope.ParameterError):
        smpscope.Analysis.from_json('{"schema": "other"}')


def test_overlay_is_an_image_with_the_dots_drawn():
    a = smpscope.analyze(PHOTOS / "demo-3.jpg", px_per_mm=40)
    o = a.overlay()
    assert o.dtype == np.uint8 and o.shape == (600, 800, 3)
    green = (o[..., 1] == 255) & (o[..., 0] == 0)
    assert green.sum() > 10 * a.summary["dot_count"]
    small = a.overlay(max_side=200)
    assert small.shape == (150, 200, 3)
    png = a.overlay_png(max_side=300)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    arr = synthetic_rgb()
    b = smpscope.analyze(arr, px_per_mm=40)
    assert b.overlay().shape == arr.shape
    with pytest.raises(smpscope.ParameterError, match="px"):
        a.overlay(photo=arr)  # another photo's size
    with pytest.raises(smpscope.ParameterError):
        a.overlay(max_side=10)


def test_repr_and_html():
    a = smpscope.analyze(PHOTOS / "demo-1.jpg", profiles=PROFILES)
    r = repr(a)
    assert "206 dots" in r or "dots" in r
    assert "dots/cm^2" in r and "px/mm" in r
    h = a._repr_html_()
    assert "data:image/png;base64," in h and "<table>" in h and "density" in h
    # Without a photo at hand the table alone.
    h2 = smpscope.Analysis(a.to_dict())._repr_html_()
    assert "<img" not in h2 and "<table>" in h2


def test_results_equal_the_command_document():
    """The Python document is the command's document (same schema, same numbers)."""
    import shutil
    import subprocess

    from conftest import ROOT

    exe = ROOT / "target" / "release" / "smpscope"
    if not exe.exists():
        exe = shutil.which("smpscope")
    if not exe:
        pytest.skip("the smpscope command is not built")
    out = subprocess.run(
        [str(exe), "analyze", str(PHOTOS / "demo-1.jpg"), "--px-per-mm", "40", "--json", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cli = json.loads(out)
    cli = cli[0] if isinstance(cli, list) else cli
    py = smpscope.analyze(str(PHOTOS / "demo-1.jpg"), px_per_mm=40).to_dict()
    assert cli == py


def test_the_calibration_marker_gives_the_scale_and_is_reported():
    a = smpscope.analyze(PHOTOS / "marker-demo.jpg")
    truth = json.loads((PHOTOS / "marker-demo.marker.json").read_text())
    assert a.scale["source"] == "marker"
    assert abs(a.marker["px_per_mm"] / truth["px_per_mm"] - 1) < 0.005
    assert abs(a.marker["tilt_deg"] - truth["tilt_deg"]) < 1
    assert smpscope.summaries([a])["marker_px_per_mm"][0] == a.marker["px_per_mm"]
    assert smpscope.analyze(PHOTOS / "demo-1.jpg", px_per_mm=40).marker is None
