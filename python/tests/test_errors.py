"""Errors: one exception class per kind of problem, clear messages, never a crash, whatever
the input."""

import os
import pickle

import numpy as np
import pytest
from conftest import BROKEN, PHOTOS, PROFILES, synthetic_rgb

import smpscope

DEMO = PHOTOS / "demo-1.jpg"


def test_exception_hierarchy():
    for cls in (
        smpscope.PhotoError,
        smpscope.ParameterError,
        smpscope.ScaleError,
        smpscope.RegistrationError,
        smpscope.DateError,
    ):
        assert issubclass(cls, smpscope.SmpscopeError)
    assert issubclass(smpscope.ParameterError, ValueError)
    assert not issubclass(smpscope.PhotoError, ValueError)


def test_exceptions_carry_kind_and_source_and_pickle():
    with pytest.raises(smpscope.PhotoError) as e:
        smpscope.analyze("/nonexistent/scalp.jpg")
    err = e.value
    assert err.kind == "io" and err.source == "/nonexistent/scalp.jpg"
    assert "/nonexistent/scalp.jpg" in str(err) and "cannot read" in str(err)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is smpscope.PhotoError and (back.kind, back.source, str(back)) == (err.kind, err.source, str(err))


@pytest.mark.parametrize("path", sorted(BROKEN.iterdir()), ids=lambda p: p.name)
def test_broken_files_raise_photo_error(path):
    """Corrupt, truncated, fuzzed and decompression-bomb files: an exception, never a crash."""
    try:
        smpscope.analyze(path, px_per_mm=40)
    except smpscope.PhotoError as e:
        assert path.name in str(e)
        assert e.kind in ("unreadable_photo", "unusable_photo", "io")


def test_unreadable_and_odd_files(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(smpscope.PhotoError, match="empty"):
        smpscope.analyze(empty)
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo at all")
    with pytest.raises(smpscope.PhotoError, match="not a JPEG, PNG or TIFF"):
        smpscope.analyze(text)
    with pytest.raises(smpscope.PhotoError):
        smpscope.analyze(tmp_path)  # a directory
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(DEMO.read_bytes()[:20000])
    with pytest.raises(smpscope.PhotoError, match="truncated"):
        smpscope.analyze(truncated)


def test_input_files_are_never_written(tmp_path):
    before = (DEMO.stat().st_mtime_ns, DEMO.read_bytes())
    smpscope.analyze(DEMO, px_per_mm=40)
    smpscope.analyze_many([DEMO], px_per_mm=40)
    assert (DEMO.stat().st_mtime_ns, DEMO.read_bytes()) == before


BAD_ARRAYS = {
    "NaN": (np.full((50, 50, 3), np.nan), "finite"),
    "inf": (np.full((50, 50, 3), np.inf, np.float32), "finite"),
    "negative float": (np.full((50, 50, 3), -0.5), "0..1"),
    "float above 1": (np.full((50, 50, 3), 255.0), "0..1"),
    "int64": (np.zeros((50, 50, 3), np.int64), "dtype int64"),
    "int8": (np.zeros((50, 50, 3), np.int8), "dtype int8"),
    "uint32": (np.zeros((50, 50, 3), np.uint32), "dtype uint32"),
    "bool": (np.zeros((50, 50), bool), "dtype bool"),
    "complex": (np.zeros((50, 50, 3), complex), "dtype complex"),
    "object": (np.empty((50, 50, 3), object), "dtype object"),
    "strings": (np.full((50, 50), "a"), "dtype"),
    "1-D": (np.zeros(100, np.uint8), "shape"),
    "4-D": (np.zeros((10, 10, 3, 2), np.uint8), "shape"),
    "2 channels": (np.zeros((50, 50, 2), np.uint8), "2 channels"),
    "5 channels": (np.zeros((50, 50, 5), np.uint8), "5 channels"),
    "empty": (np.zeros((0, 0, 3), np.uint8), "empty"),
    "empty rows": (np.zeros((0, 50), np.uint8), "empty"),
    "zero-d": (np.array(3, np.uint8), "shape"),
    "too small": (np.zeros((8, 8, 3), np.uint8), "too small"),
    # 400 MP declared, a single byte of memory: refused before anything is allocated.
    "huge": (np.broadcast_to(np.uint8(128), (20000, 20000, 3)), "MP"),
}


@pytest.mark.parametrize("name", sorted(BAD_ARRAYS))
def test_bad_arrays_raise_photo_error(name):
    arr, message = BAD_ARRAYS[name]
    with pytest.raises(smpscope.PhotoError, match=message) as e:
        smpscope.analyze(arr, px_per_mm=40)
    assert "<array>" in str(e.value)


def test_bad_arrays_in_a_batch_are_entries_not_exceptions():
    arrays = [arr for arr, _ in BAD_ARRAYS.values()]
    batch = smpscope.analyze_many([*arrays, synthetic_rgb()], px_per_mm=40)
    assert [r.ok for r in batch] == [False] * len(arrays) + [True]
    assert all(isinstance(f.error, smpscope.PhotoError) for f in batch.failures)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"px_per_mm": -3}, "px_per_mm"),
        ({"px_per_mm": 0}, "px_per_mm"),
        ({"px_per_mm": float("nan")}, "px_per_mm"),
        ({"px_per_mm": float("inf")}, "px_per_mm"),
        ({"px_per_mm": 1e9}, "px_per_mm"),
        ({"px_per_mm": "forty"}, "px_per_mm"),
        ({"px_per_mm": True}, "px_per_mm"),
        ({"px_per_mm": [40]}, "px_per_mm"),
        ({"camera_blur_um": -1}, "camera_blur_um"),
        ({"camera_blur_um": 1e9}, r"camera_blur_um.*1\.000e9 is outside the accepted range 0 to 150 um"),
        ({"params": {"detect": {"max_diameter_um": 1e15}}}, r"max_diameter_um.*20 to 2000 um"),
        ({"params": {"detect": {"min_diamter_um": 300}}}, "did you mean `min_diameter_um`"),
        ({"params": {"px_per_mmm": 40}}, "did you mean `px_per_mm`"),
        ({"params": {"detect": {"min_diameter_um": -5}}}, "min_diameter_um"),
        ({"params": {"detect": {"min_diameter_um": "big"}}}, "invalid parameters"),
        ({"params": {"measure": {"max_eccentricity": 2}}}, "max_eccentricity"),
        ({"params": "strict"}, "params"),
        ({"params": {"x": float("nan")}}, "invalid parameters"),
        ({"threads": 0}, "threads"),
        ({"threads": -1}, "threads"),
        ({"threads": 2.5}, "threads"),
        ({"threads": 10**6}, "threads"),
        ({"roi": 42}, "roi"),
        ({"roi": [(1, 2)]}, "polygon"),
        ({"roi": [(1, 2, 3), (4, 5, 6), (7, 8, 9)]}, "roi"),
        ({"roi": np.zeros((3, 3, 3), bool)}, "2-D"),
        ({"roi": "/nonexistent/roi.json"}, "roi.json"),
        ({"profiles": "/nonexistent/devices.toml"}, "devices.toml"),
        ({"profiles": 42}, "profiles"),
    ],
)
def test_bad_parameters_raise_parameter_error(kwargs, match):
    with pytest.raises(smpscope.ParameterError, match=match):
        smpscope.analyze(DEMO, **kwargs)
    with pytest.raises(ValueError):
        smpscope.analyze(DEMO, **kwargs)


def test_malformed_profile_file(tmp_path):
    bad = tmp_path / "devices.toml"
    bad.write_text('[[device]]\nmake = "a"\nmodel = "b"\npx_per_mm = -1\n')
    with pytest.raises(smpscope.ParameterError, match=r"devices\.toml") as e:
        smpscope.analyze(DEMO, profiles=bad)
    assert e.value.kind == "bad_input_file"
    bad.write_text("this is [not toml")
    with pytest.raises(smpscope.ParameterError):
        smpscope.analyze_many([DEMO], profiles=bad)


def test_not_a_photo_argument():
    for bad in (42, None, 3.5, object(), b"bytes"):
        with pytest.raises(smpscope.ParameterError, match=r"path .* or a numpy array"):
            smpscope.analyze(bad)
    with pytest.raises(smpscope.ParameterError, match="list of photos"):
        smpscope.analyze_many(str(DEMO))
    with pytest.raises(smpscope.ParameterError, match="list of photos"):
        smpscope.analyze_many(42)


def test_missing_scale_where_required():
    with pytest.raises(smpscope.ScaleError, match="no scale") as e:
        smpscope.analyze(DEMO, require_scale=True)
    assert e.value.kind == "missing_scale" and "virtual-dermatoscope" in str(e.value)
    assert smpscope.analyze(DEMO, require_scale=True, profiles=PROFILES).scale["px_per_mm"] == 40
    with pytest.raises(smpscope.ScaleError, match="no camera make/model"):
        smpscope.analyze(synthetic_rgb(), require_scale=True)
    batch = smpscope.analyze_many([DEMO, synthetic_rgb()], require_scale=True, profiles=PROFILES)
    assert batch[0].ok and isinstance(batch[1].error, smpscope.ScaleError)


def test_a_failing_progress_callback_raises_without_crashing():
    def boom(done, total):
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        smpscope.analyze_many([DEMO, DEMO, DEMO], px_per_mm=40, progress=boom)
    # The module still works afterwards.
    assert smpscope.analyze(DEMO, px_per_mm=40).summary["dot_count"] > 0


def test_track_errors(patient_visits, demo_photos):
    with pytest.raises(smpscope.RegistrationError, match=r"demo-2\.jpg") as e:
        smpscope.track(demo_photos[:2], profiles=PROFILES)
    assert e.value.kind == "registration" and e.value.source.endswith("demo-2.jpg")
    img = synthetic_rgb()
    with pytest.raises(smpscope.DateError, match="no capture date"):
        smpscope.track([img, img])
    with pytest.raises(smpscope.ParameterError, match="two visits"):
        smpscope.track(patient_visits[:1])
    with pytest.raises(smpscope.ParameterError, match="dates"):
        smpscope.track(patient_visits, dates=["2024-01-01"])
    with pytest.raises(smpscope.ParameterError, match="not a date"):
        smpscope.track(patient_visits[:2], dates=["2024-01-01", "soon"])
    with pytest.raises(smpscope.ParameterError, match="dates"):
        smpscope.track(patient_visits[:2], dates=["2024-01-01", 5])
    with pytest.raises(smpscope.ParameterError, match="touch_up_threshold"):
        smpscope.track(patient_visits, threshold=1.5)
    with pytest.raises(smpscope.ParameterError, match="threshold"):
        smpscope.track(patient_visits, threshold=float("nan"))
    with pytest.raises(smpscope.ParameterError, match="touch_up_ink_rise"):
        smpscope.track(patient_visits, track_params={"touch_up_ink_rise": 0.5})
    with pytest.raises(smpscope.ParameterError, match="list of visits"):
        smpscope.track(str(patient_visits[0]))
    with pytest.raises(smpscope.ScaleError):
        smpscope.track(patient_visits, require_scale=True)
    with pytest.raises(smpscope.PhotoError, match="nonexistent"):
        smpscope.track([patient_visits[0], "/nonexistent.jpg"], profiles=PROFILES)


def test_keyboard_interrupt_from_callback_stops_the_batch():
    calls = []

    def stop(done, total):
        calls.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        smpscope.analyze_many([DEMO] * 6, px_per_mm=40, threads=1, progress=stop)
    assert calls == [1]


def test_environment_untouched():
    """Nothing in the API changes the working directory or the environment."""
    cwd, env = os.getcwd(), dict(os.environ)
    smpscope.analyze(DEMO, px_per_mm=40)
    assert os.getcwd() == cwd and dict(os.environ) == env


@pytest.mark.parametrize(
    ("pixels", "kind"),
    [
        (np.random.default_rng(3).integers(0, 256, (400, 600, 3), dtype=np.uint8), "pure_noise"),
        (np.full((300, 400, 3), 255, np.uint8), "clipped"),
        (np.zeros((300, 400, 3), np.uint8), "clipped"),
    ],
)
def test_photos_that_are_not_measurable_are_refused_with_their_code(pixels, kind):
    with pytest.raises(smpscope.PhotoError, match="refused as") as e:
        smpscope.analyze(pixels, px_per_mm=40)
    assert e.value.kind == kind
    failure = smpscope.analyze_many([pixels], px_per_mm=40)[0]
    assert not failure.ok and failure.kind == kind
