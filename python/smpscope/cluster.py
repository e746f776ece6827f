"""Running smpscope on a Dask cluster (``pip install "smpscope[dask]"``).

Each task analyses a chunk of photo paths with ``analyze_many`` on its worker (all of the
worker's cores, through rayon); the results come back as picklable ``Analysis`` and
``Failure`` objects, in input order, and ``Batch.summaries()`` gathers them into one
DataFrame. The paths must be readable by the workers (a shared file system or object store
mount); pass paths, not arrays, so that only file names travel to the workers.

    from dask.distributed import Client
    import smpscope, smpscope.cluster
    client = Client("scheduler:8786")
    batch = smpscope.cluster.analyze_on(client, paths, px_per_mm=40)
    df = batch.summaries()

Plain Dask works as well, since every result pickles:

    import dask.bag as db
    results = db.from_sequence(paths, npartitions=16).map(smpscope.analyze, px_per_mm=40).compute()
    df = smpscope.summaries(results)          # raises on the first failure: use analyze_many
                                              # per partition to keep failures as entries
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ._api import analyze_many
from ._results import Batch, PhotoLike


def analyze_chunk(photos: Sequence[PhotoLike], kwargs: dict | None = None) -> list[Any]:
    """The task each worker runs: ``analyze_many`` on a chunk, returned as a plain list."""
    return list(analyze_many(photos, **(kwargs or {})))


def analyze_on(client: Any, photos: Iterable[PhotoLike], *, chunk_size: int = 8, **kwargs: Any) -> Batch:
    """Analyses ``photos`` on the workers of the ``dask.distributed`` ``client``, ``chunk_size``
    photos per task, with the keyword arguments of ``analyze_many`` (``px_per_mm``,
    ``profiles``, ``params``, ``require_scale``, ``threads``...; not ``progress``). Returns a
    ``Batch`` in input order, equal to what ``analyze_many`` gives locally."""
    photos = list(photos)
    if not isinstance(chunk_size, int) or chunk_size < 1:
        from ._errors import ParameterError

        raise ParameterError(
            f"chunk_size must be a whole number of at least 1, not {chunk_size!r}", "invalid_parameter"
        )
    kwargs.pop("progress", None)
    chunks = [photos[i : i + chunk_size] for i in range(0, len(photos), chunk_size)]
    futures = client.map(analyze_chunk, chunks, kwargs=kwargs, pure=False)
    parts = client.gather(futures)
    return Batch(r for part in parts for r in part)


def analyze_bag(photos: Iterable[PhotoLike], *, npartitions: int | None = None, **kwargs: Any):
    """A ``dask.bag`` of results (``Analysis`` or ``Failure``), one per photo in input order,
    each partition analysed with ``analyze_many``. ``smpscope.summaries(bag.compute())`` gives
    the table."""
    import dask.bag as db

    photos = list(photos)
    kwargs.pop("progress", None)
    bag = db.from_sequence(photos, npartitions=npartitions or max(1, min(len(photos), 16)))
    return bag.map_partitions(analyze_chunk, kwargs)
