"""Scale-out: a real dask.distributed LocalCluster with 2 worker processes analyses the fixture
photos; the results equal the local ones."""

import pytest
from conftest import PROFILES

import smpscope
import smpscope.cluster

distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, worker_dashboard_address=None
    )
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def paths(demo_photos, patient_visits):
    return [str(p) for p in [*demo_photos, *patient_visits]] + ["/nonexistent/photo.jpg"]


@pytest.fixture(scope="module")
def local(paths):
    return smpscope.analyze_many(paths, profiles=PROFILES)


def test_two_worker_processes(client):
    info = client.scheduler_info()
    workers = info["workers"]
    assert len(workers) == 2
    pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2 and __import__("os").getpid() not in pids.values()


def test_analyze_on_equals_local(client, paths, local):
    batch = smpscope.cluster.analyze_on(client, paths, chunk_size=2, profiles=str(PROFILES))
    assert isinstance(batch, smpscope.Batch)
    assert list(batch) == list(local)
    assert not batch[-1].ok and isinstance(batch[-1].error, smpscope.PhotoError)
    pd.testing.assert_frame_equal(batch.summaries(), local.summaries())


def test_client_map_of_analyze_equals_local(client, paths, local):
    good = paths[:-1]
    futures = client.map(smpscope.analyze, good, profiles=str(PROFILES), pure=False)
    results = client.gather(futures)
    assert results == list(local)[:-1]
    df = smpscope.summaries(results)
    assert len(df) == len(good) and df["dot_count"].tolist() == [a.summary["dot_count"] for a in local[:-1]]
    # An exception raised on a worker arrives as the same smpscope exception.
    with pytest.raises(smpscope.PhotoError, match="nonexistent"):
        client.submit(smpscope.analyze, paths[-1], pure=False).result()


def test_dask_bag_equals_local(client, paths, local):
    bag = smpscope.cluster.analyze_bag(paths, npartitions=3, profiles=str(PROFILES))
    results = bag.compute()
    assert results == list(local)
    pd.testing.assert_frame_equal(smpscope.summaries(results), local.summaries())


def test_track_from_worker_analyses(client, patient_visits):
    futures = client.map(smpscope.analyze, [str(p) for p in patient_visits], profiles=str(PROFILES), pure=False)
    t = smpscope.track(client.gather(futures))
    assert t == smpscope.track(patient_visits, profiles=PROFILES)
