"""analyze_many(): parallel, in order, identical to one-by-one calls, failures kept as entries,
progress reported, GIL released, a tidy table of summaries."""

import io
import pickle
import threading
import time

import numpy as np
import pytest
from conftest import PROFILES, synthetic_rgb

import smpscope


@pytest.fixture(scope="module")
def inputs(demo_photos, patient_visits):
    return [*demo_photos, "/nonexistent/photo.jpg", *patient_visits, synthetic_rgb(), np.full((40, 40), np.nan)]


def test_results_identical_to_one_by_one_and_in_input_order(inputs):
    batch = smpscope.analyze_many(inputs, profiles=PROFILES)
    assert isinstance(batch, smpscope.Batch) and len(batch) == len(inputs)
    for i, (photo, result) in enumerate(zip(inputs, batch)):
        label = (
            photo if isinstance(photo, str) else str(photo) if not isinstance(photo, np.ndarray) else f"<array #{i}>"
        )
        assert result.source == label
        try:
            single = smpscope.analyze(photo, profiles=PROFILES)
        except smpscope.SmpscopeError as e:
            assert isinstance(result, smpscope.Failure) and not result.ok
            assert type(result.error) is type(e) and str(result.error).replace(f"<array #{i}>", "<array>") == str(e)
            continue
        if isinstance(photo, np.ndarray):
            # Arrays of a batch are named by their position ("<array #8>"); all else is equal.
            doc = result.to_dict()
            doc["image"]["source"] = "<array>"
            result = smpscope.Analysis(doc)
        assert result.ok and result == single, label
    assert [r.ok for r in batch] == [True, True, True, False, True, True, True, True, True, False]
    assert repr(batch) == "<smpscope.Batch 10 photos: 8 analysed, 2 failed>"


def test_thread_count_does_not_change_results(demo_photos):
    one = smpscope.analyze_many(demo_photos, px_per_mm=40, threads=1)
    two = smpscope.analyze_many(demo_photos, px_per_mm=40, threads=2)
    three = smpscope.analyze_many(demo_photos, px_per_mm=40, threads=3)
    assert list(one) == list(two) == list(three)


def test_failures_are_entries_with_the_error(demo_photos):
    batch = smpscope.analyze_many([demo_photos[0], "/nonexistent/a.jpg", demo_photos[1]], px_per_mm=40)
    f = batch[1]
    assert not f.ok and f.source == "/nonexistent/a.jpg" and f.kind == "io"
    assert isinstance(f.error, smpscope.PhotoError) and "a.jpg" in f.message
    assert batch.analyses == [batch[0], batch[2]] and batch.failures == [f]
    with pytest.raises(smpscope.PhotoError):
        batch.raise_first()
    assert "Failure /nonexistent/a.jpg" in repr(f)
    back = pickle.loads(pickle.dumps(batch))
    assert isinstance(back, smpscope.Batch) and list(back) == list(batch)


def test_progress_callback_reports_every_photo(demo_photos):
    calls = []
    smpscope.analyze_many(demo_photos * 3, px_per_mm=40, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 9) for i in range(1, 10)]


def test_progress_callback_runs_on_the_calling_thread(demo_photos):
    threads = set()
    smpscope.analyze_many(demo_photos, px_per_mm=40, progress=lambda d, t: threads.add(threading.get_ident()))
    assert threads == {threading.get_ident()}


def test_tqdm_bar(demo_photos, monkeypatch):
    pytest.importorskip("tqdm")
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    batch = smpscope.analyze_many(demo_photos, px_per_mm=40, progress=True)
    assert len(batch) == 3
    assert "3/3" in err.getvalue()


def test_gil_is_released(demo_photos):
    """Another Python thread runs while the batch works."""
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.002)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        start = time.perf_counter()
        smpscope.analyze_many(demo_photos * 4, px_per_mm=40)
        smpscope.analyze(demo_photos[0], px_per_mm=40)
        end = time.perf_counter()
    finally:
        stop.set()
        t.join()
    during = [x for x in ticks if start < x < end]
    # A held GIL would starve the ticker for the whole run.
    assert len(during) > 0.2 * (end - start) / 0.002 * 0.25, (len(during), end - start)


def test_summaries_table(demo_photos):
    pd = pytest.importorskip("pandas")
    batch = smpscope.analyze_many([*demo_photos, "/nonexistent.jpg"], profiles=PROFILES)
    df = batch.summaries()
    assert isinstance(df, pd.DataFrame) and len(df) == 4
    assert list(df["source"]) == [str(p) for p in demo_photos] + ["/nonexistent.jpg"]
    assert list(df["ok"]) == [True, True, True, False]
    assert df.loc[3, "error_kind"] == "io" and "nonexistent" in df.loc[3, "error"]
    for col in (
        "dot_count",
        "density_per_cm2",
        "diameter_um_median",
        "diameter_um_p10",
        "spread_um_p90",
        "ink_median",
        "nn_median_mm",
        "clark_evans",
        "coverage",
        "quality_noise_od",
        "region_area_cm2",
        "px_per_mm",
        "rejected_faint",
    ):
        assert col in df.columns, col
    a = batch[0]
    assert df.loc[0, "dot_count"] == a.summary["dot_count"]
    assert df.loc[0, "diameter_um_median"] == a.summary["distributions"]["diameter_um"]["median"]
    assert smpscope.summaries(batch).equals(df)
    assert "<table>" in batch._repr_html_()


def test_empty_batch():
    batch = smpscope.analyze_many([])
    assert len(batch) == 0 and len(batch.summaries()) == 0


def test_generators_and_paths_mixed(demo_photos):
    batch = smpscope.analyze_many((p for p in demo_photos), px_per_mm=40)
    assert len(batch) == 3 and all(r.ok for r in batch)
    assert batch[0].overlay(max_side=100).shape[1] == 100
