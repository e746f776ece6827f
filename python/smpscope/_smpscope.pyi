"""Type stubs of the Rust extension (python/src/lib.rs). Results cross as JSON text; the
public API in ``smpscope`` wraps them."""

from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
ANALYSIS_SCHEMA: str
TRACK_SCHEMA: str
MAX_PIXELS: int

_Photo = Union[str, np.ndarray, Any]

def analyze(
    photo: _Photo,
    params_json: str = "{}",
    roi: Any = None,
    profiles: Optional[str] = None,
    require_scale: bool = False,
    threads: Optional[int] = None,
) -> str: ...
def analyze_many(
    photos: Sequence[_Photo],
    params_json: str = "{}",
    roi: Any = None,
    profiles: Optional[str] = None,
    require_scale: bool = False,
    threads: Optional[int] = None,
    progress: Optional[Callable[[int, int], Any]] = None,
) -> List[Union[str, BaseException]]: ...
def track(
    visits: Sequence[Tuple[str, Any]],
    dates: Optional[Sequence[Optional[str]]] = None,
    params_json: str = "{}",
    track_params_json: str = "{}",
    roi: Any = None,
    profiles: Optional[str] = None,
    require_scale: bool = False,
    threads: Optional[int] = None,
) -> Tuple[str, List[str]]: ...
def overlay(photo: _Photo, analysis_json: str, max_side: Optional[int] = None) -> npt.NDArray[np.uint8]: ...
def overlay_png(photo: _Photo, analysis_json: str, max_side: Optional[int] = None) -> bytes: ...
def load_profiles(path: str) -> str: ...
def default_params() -> Tuple[str, str]: ...
def default_threads() -> int: ...
