"""The functions: analyze, analyze_many, track. Each converts its arguments, calls the Rust
extension (which releases the GIL and runs on all cores) and wraps the JSON it returns."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import pathlib
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Union

import numpy as np

from . import _smpscope
from ._errors import ParameterError
from ._results import Analysis, Batch, Failure, PhotoLike
from ._track import Track

PathLike = Union[str, "os.PathLike[str]"]
RoiLike = Union[None, str, "os.PathLike[str]", Sequence[Sequence[float]], np.ndarray]
DateLike = Union[None, str, _dt.date, _dt.datetime, np.datetime64]


def _bad(message: str) -> ParameterError:
    return ParameterError(message, "invalid_parameter")


def _number(name: str, v: Any) -> float:
    if isinstance(v, bool):
        raise _bad(f"invalid parameter `{name}`: must be a number, not {v!r}")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise _bad(f"invalid parameter `{name}`: must be a number, not {v!r}") from None
    if not math.isfinite(x):
        raise _bad(f"invalid parameter `{name}`: must be a positive number, not {x}")
    return x


def _params_json(px_per_mm: Any, camera_blur_um: Any, params: dict[str, Any] | None) -> str:
    if params is not None and not isinstance(params, dict):
        raise _bad(f"params must be a dict of analysis parameters, not {type(params).__name__}")
    p: dict[str, Any] = dict(params or {})
    if px_per_mm is not None:
        p["px_per_mm"] = _number("px_per_mm", px_per_mm)
    if camera_blur_um is not None:
        p["camera_blur_um"] = _number("camera_blur_um", camera_blur_um)
    try:
        return json.dumps(p, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise _bad(f"invalid parameters: {e}") from None


def _path_or_none(name: str, v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, (str, os.PathLike)):
        return os.fspath(v)
    raise _bad(f"{name} must be a path, not {type(v).__name__}")


def _threads(threads: Any) -> int | None:
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or not 1 <= int(threads) <= 256:
        raise _bad(f"threads must be None (all cores) or a whole number from 1 to 256, not {threads!r}")
    return int(threads)


def _roi(roi: RoiLike) -> Any:
    if roi is None or isinstance(roi, str):
        return roi
    if isinstance(roi, os.PathLike):
        return os.fspath(roi)
    if isinstance(roi, np.ndarray) and roi.dtype == bool:
        return roi
    try:
        pts = [(float(p[0]), float(p[1])) for p in roi]  # type: ignore[union-attr]
        if any(len(p) != 2 for p in roi):  # type: ignore[union-attr, arg-type]
            raise ValueError
    except (TypeError, ValueError, IndexError):
        raise _bad(
            "roi must be a path (polygon JSON or mask image), a list of (x, y) vertices in px, or a 2-D boolean mask"
        ) from None
    return pts


def _photo(photo: Any) -> Any:
    return os.fspath(photo) if isinstance(photo, os.PathLike) else photo


def _photos(photos: Any, what: str) -> list[Any]:
    if isinstance(photos, (str, os.PathLike, np.ndarray)):
        raise _bad(f"{what} takes a list of photos; for one photo use analyze()")
    try:
        return [_photo(p) for p in photos]
    except TypeError:
        raise _bad(f"{what} takes a list of photos, not {type(photos).__name__}") from None


def analyze(
    photo: PhotoLike,
    px_per_mm: float | None = None,
    roi: RoiLike = None,
    *,
    camera_blur_um: float | None = None,
    profiles: PathLike | None = None,
    params: dict[str, Any] | None = None,
    require_scale: bool = False,
    threads: int | None = None,
) -> Analysis:
    """Find and measure every pigment dot in one photo.

    photo: a path (JPEG, PNG or TIFF; ``str`` or ``pathlib.Path``) or a numpy array (HxW grey,
        HxWx3 RGB or HxWx4 RGBA, alpha ignored; uint8, uint16 or float in 0..1, sRGB-encoded).
        Arrays are read in place (no copy on the Python side), with the GIL released.
    px_per_mm: pixels per millimetre. Without it (or a matching device profile) lengths, ink
        and density are None and a warning says so.
    roi: the treated region that density refers to: a polygon JSON or mask image path, a list
        of (x, y) vertices in px, or a 2-D boolean mask. Default: found from the dots.
    camera_blur_um: the camera's own blur (Gaussian sigma, um), removed from the spread.
    profiles: a device profile file (TOML or JSON, ``[[device]] make, model, px_per_mm,
        blur_um``); the scale is taken from the profile matching the photo's EXIF camera.
    params: further analysis parameters as in the JSON form (``detect``, ``measure``).
    require_scale: raise ScaleError when no scale is known instead of reporting null lengths.
    threads: threads to use (default: all cores).

    Returns an ``Analysis`` (``summary``, ``dots``, ``to_json()``, ``overlay()``).
    Raises PhotoError (unreadable or unusable photo), ParameterError (invalid parameter or
    parameter file), ScaleError (no scale with ``require_scale``).
    """
    pj = _params_json(px_per_mm, camera_blur_um, params)
    photo = _photo(photo)
    doc = _smpscope.analyze(
        photo, pj, _roi(roi), _path_or_none("profiles", profiles), bool(require_scale), _threads(threads)
    )
    return Analysis(json.loads(doc), photo)


def _progress_callback(progress: Any, total: int) -> tuple[Callable[[int, int], Any] | None, Any]:
    if progress is None or progress is False:
        return None, None
    if callable(progress):
        return progress, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc="smpscope", unit="photo")
    except ImportError:
        return None, None

    def update(done: int, total: int) -> None:
        bar.update(done - bar.n)

    return update, bar


def analyze_many(
    photos: Iterable[PhotoLike],
    px_per_mm: float | None = None,
    roi: RoiLike = None,
    *,
    camera_blur_um: float | None = None,
    profiles: PathLike | None = None,
    params: dict[str, Any] | None = None,
    require_scale: bool = False,
    threads: int | None = None,
    progress: bool | Callable[[int, int], Any] | None = None,
) -> Batch:
    """Analyse many photos on all cores (rayon, GIL released), with the same parameters as
    ``analyze``.

    Returns a ``Batch``: a list in input order of ``Analysis`` entries, identical to what
    ``analyze`` gives photo by photo, and ``Failure`` entries for photos that could not be
    analysed (the others are not lost). ``Batch.summaries()`` is a tidy table, one row per
    photo.

    threads: threads to use (default: all cores); the results do not depend on it.
    progress: a callable ``progress(done, total)`` called as photos finish, or True for a tqdm
        bar (when tqdm is installed). Ctrl-C stops the batch (KeyboardInterrupt).
    Raises ParameterError for invalid parameters (before any photo is read).
    """
    photos = _photos(photos, "analyze_many")
    pj = _params_json(px_per_mm, camera_blur_um, params)
    roi_arg, prof, nthreads = _roi(roi), _path_or_none("profiles", profiles), _threads(threads)
    callback, bar = _progress_callback(progress, len(photos))
    try:
        raw = _smpscope.analyze_many(photos, pj, roi_arg, prof, bool(require_scale), nthreads, callback)
    finally:
        if bar is not None:
            bar.close()
    return Batch(Analysis(json.loads(r), p) if isinstance(r, str) else Failure(r, p) for r, p in zip(raw, photos))


def _date(i: int, d: DateLike) -> str | None:
    if d is None:
        return None
    if isinstance(d, _dt.datetime):
        return d.date().isoformat()
    if isinstance(d, _dt.date):
        return d.isoformat()
    if isinstance(d, np.datetime64):
        return str(d.astype("datetime64[D]"))
    if isinstance(d, str):
        return d[:10] if len(d) > 10 and d[10] in "T " else d
    raise _bad(f"dates[{i}] must be a date, a datetime or a YYYY-MM-DD string, not {type(d).__name__}")


def track(
    visits: Sequence[PhotoLike | Analysis],
    dates: Sequence[DateLike] | None = None,
    px_per_mm: float | None = None,
    roi: RoiLike = None,
    *,
    camera_blur_um: float | None = None,
    profiles: PathLike | None = None,
    params: dict[str, Any] | None = None,
    threshold: float = 0.5,
    track_params: dict[str, Any] | None = None,
    require_scale: bool = False,
    threads: int | None = None,
) -> Track:
    """Follow the same dots across visits of one scalp area: fade, spread, colour shift and a
    touch-up forecast.

    visits: photos (paths or arrays, analysed here in parallel with the GIL released, with the
        analysis parameters as in ``analyze``) or ``Analysis`` objects, in any order: they
        are ordered by date.
    dates: one per visit (date, datetime or 'YYYY-MM-DD'; None for the EXIF capture date).
    threshold: ink_retained (0..1) below which a touch-up is due; the forecast date is when
        the fitted fade crosses it.
    track_params: further tracking parameters (``touch_up_new_dots``, ``touch_up_ink_rise``).
    require_scale: raise ScaleError when a visit has no scale; otherwise the um figures of
        the track are None and a warning says so (ink and density ratios need no scale).

    Returns a ``Track`` (``visits``, ``dots``, ``trend``, ``to_json()``, ``plot_fade()``).
    Raises PhotoError, ParameterError, ScaleError, DateError (a visit without a date) and
    RegistrationError (no later visit can be registered onto the first: another scalp area,
    or too few dots). A later visit that alone cannot be registered is left out of the
    track (``Track.left_out``, with a warning) and the others are tracked.
    """
    if isinstance(visits, (str, os.PathLike, np.ndarray, Analysis)):
        raise _bad("track takes a list of visits (photos or analyses)")
    try:
        visits = list(visits)
    except TypeError:
        raise _bad(f"track takes a list of visits, not {type(visits).__name__}") from None
    tp: dict[str, Any] = dict(track_params or {})
    tp["touch_up_threshold"] = _number("threshold", threshold)
    date_args = None
    if dates is not None:
        if isinstance(dates, (str, _dt.date)):
            raise _bad("dates must be a list, one date per visit")
        date_args = [_date(i, d) for i, d in enumerate(dates)]
    pairs = [("analysis", json.dumps(v._doc)) if isinstance(v, Analysis) else ("photo", _photo(v)) for v in visits]
    try:
        tpj = json.dumps(tp, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise _bad(f"invalid tracking parameters: {e}") from None
    doc, docs = _smpscope.track(
        pairs,
        date_args,
        _params_json(px_per_mm, camera_blur_um, params),
        tpj,
        _roi(roi),
        _path_or_none("profiles", profiles),
        bool(require_scale),
        _threads(threads),
    )
    given = [v._photo if isinstance(v, Analysis) else _photo(v) for v in visits]
    analyses = [Analysis(json.loads(d), p) for d, p in zip(docs, given)]
    t = json.loads(doc)
    return Track(t, _in_track_order(analyses, t["visits"]))


def _in_track_order(analyses: list[Analysis], reports: list[dict[str, Any]]) -> list[Analysis] | None:
    """The analyses in the order of the track's visits, as the track document gives it
    (``visits[].input``: each visit's index among those given)."""
    try:
        return [analyses[r["input"]] for r in reports]
    except (KeyError, IndexError, TypeError):
        return None


def report(
    photos: PathLike | Sequence[PathLike],
    dates: Sequence[DateLike] | None = None,
    px_per_mm: float | None = None,
    roi: RoiLike = None,
    *,
    out: PathLike,
    label: str | None = None,
    camera_blur_um: float | None = None,
    profiles: PathLike | None = None,
    params: dict[str, Any] | None = None,
    threshold: float = 0.5,
    track_params: dict[str, Any] | None = None,
    threads: int | None = None,
) -> pathlib.Path:
    """Write the clinician's report: one self-contained HTML file (no network; pictures
    embedded without EXIF; prints to A4) of one photo or of the visits of one scalp area.

    photos: one photo path, or the visits' photo paths in any order (ordered by date, given in
        ``dates`` or from EXIF, and tracked as in ``track``).
    out: the report file to write (atomically; never one of the photos).
    label: the patient's label shown in the header (e.g. a clinic reference).
    Other arguments as in ``analyze`` and ``track``. The GIL is released throughout.

    Returns the path of the report. Raises the errors of ``analyze`` and ``track``, and
    ParameterError when ``out`` cannot be written.
    """
    paths = [photos] if isinstance(photos, (str, os.PathLike)) else list(photos)
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            raise _bad(f"report takes photo paths, not {type(p).__name__}")
    if not isinstance(out, (str, os.PathLike)):
        raise _bad(f"out must be a path, not {type(out).__name__}")
    if label is not None and not isinstance(label, str):
        raise _bad(f"label must be a string, not {type(label).__name__}")
    tp: dict[str, Any] = dict(track_params or {})
    tp["touch_up_threshold"] = _number("threshold", threshold)
    date_args = None
    if dates is not None:
        if isinstance(dates, (str, _dt.date)):
            raise _bad("dates must be a list, one date per photo")
        date_args = [_date(i, d) for i, d in enumerate(dates)]
    try:
        tpj = json.dumps(tp, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise _bad(f"invalid tracking parameters: {e}") from None
    written = _smpscope.report(
        [os.fspath(p) for p in paths],
        os.fspath(out),
        date_args,
        _params_json(px_per_mm, camera_blur_um, params),
        tpj,
        _roi(roi),
        _path_or_none("profiles", profiles),
        label,
        _threads(threads),
    )
    return pathlib.Path(written)
