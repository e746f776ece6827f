"""Type stubs of the Rust extension (python/src/lib.rs). Results cross as JSON text; the
public API in ``smpscope`` wraps them."""

from collections.abc import Sequence
from typing import Any, Callable

import numpy as np
import numpy.typing as npt

__version__: str
ANALYSIS_SCHEMA: str
TRACK_SCHEMA: str
MAX_PIXELS: int

_Photo = str | np.ndarray | Any

def analyze(
    photo: _Photo,
    params_json: str = "{}",
    roi: Any = None,
    profiles: str | None = None,
    require_scale: bool = False,
    threads: int | None = None,
) -> str: ...
def analyze_many(
    photos: Sequence[_Photo],
    params_json: str = "{}",
    roi: Any = None,
    profiles: str | None = None,
    require_scale: bool = False,
    threads: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> list[str | BaseException]: ...
def track(
    visits: Sequence[tuple[str, Any]],
    dates: Sequence[str | None] | None = None,
    params_json: str = "{}",
    track_params_json: str = "{}",
    roi: Any = None,
    profiles: str | None = None,
    require_scale: bool = False,
    threads: int | None = None,
) -> tuple[str, list[str]]: ...
def report(
    photos: Sequence[str],
    out: str,
    dates: Sequence[str | None] | None = None,
    params_json: str = "{}",
    track_params_json: str = "{}",
    roi: Any = None,
    profiles: str | None = None,
    label: str | None = None,
    threads: int | None = None,
) -> str: ...
def overlay(photo: _Photo, analysis_json: str, max_side: int | None = None) -> npt.NDArray[np.uint8]: ...
def overlay_png(photo: _Photo, analysis_json: str, max_side: int | None = None) -> bytes: ...
def load_profiles(path: str) -> str: ...
def default_params() -> tuple[str, str]: ...
def default_threads() -> int: ...
