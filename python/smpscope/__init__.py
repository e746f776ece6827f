"""smpscope: measure scalp micropigmentation (SMP) pigment dots in scalp photos.

Every length is in micrometres (dots) or millimetres (spacing), areas in cm^2, ink in
OD*mm^2 (integrated optical density), colours in CIELAB (D65). Without a scale
(``px_per_mm`` or a device profile) lengths are ``None`` and a warning says so; pixel-unit
twins (``diameter_px``, ...) are always given.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np

from . import _smpscope
from ._smpscope import ParameterError, PhotoError, SmpscopeError

__version__ = _smpscope.__version__
__all__ = ["analyze", "Analysis", "SmpscopeError", "PhotoError", "ParameterError"]

PhotoLike = Union[str, "os.PathLike[str]", np.ndarray]

# Per-dot fields, in the order of the JSON document.
DOT_FIELDS = (
    "x", "y", "diameter_um", "spread_um", "fwhm_um", "peak_od", "ink", "eccentricity",
    "angle_deg", "lab", "skin_lab", "delta_e", "score", "diameter_px", "spread_px",
    "fwhm_px", "ink_px", "od_rgb", "snr", "blur_px",
)


class Analysis:
    """The measurement of one photo: ``summary`` (dict), ``dots`` (table), ``warnings``.

    ``dots`` is a pandas DataFrame when pandas is installed, otherwise a dict of numpy
    arrays (one entry per field; ``lab``, ``skin_lab`` and ``od_rgb`` are N x 3).
    """

    def __init__(self, document: Dict[str, Any], photo: Optional[PhotoLike] = None):
        self._doc = document
        self._photo = photo

    @property
    def summary(self) -> Dict[str, Any]:
        """Per-photo summary: dot_count, density_per_cm2, region, distributions, spacing,
        coverage, quality, rejected."""
        return self._doc["summary"]

    @property
    def image(self) -> Dict[str, Any]:
        """Source, size, colour type, EXIF date, camera and applied orientation."""
        return self._doc["image"]

    @property
    def scale(self) -> Dict[str, Any]:
        """px_per_mm (None when unknown), its source and the camera blur in um."""
        return self._doc["scale"]

    @property
    def warnings(self) -> list:
        return list(self._doc["warnings"])

    @property
    def dots(self):
        """One row per dot; see the module docstring for units."""
        dots = self._doc["dots"]
        cols: Dict[str, np.ndarray] = {}
        for f in DOT_FIELDS:
            vals = [d[f] for d in dots]
            if f in ("lab", "skin_lab", "od_rgb"):
                cols[f] = np.asarray(vals, dtype=float).reshape(len(dots), 3)
            else:
                cols[f] = np.asarray([np.nan if v is None else v for v in vals], dtype=float)
        try:
            import pandas as pd
        except ImportError:
            return cols
        flat: Dict[str, Any] = {}
        for f, v in cols.items():
            if v.ndim == 2:
                for i, c in enumerate(("L", "a", "b") if f != "od_rgb" else ("r", "g", "b")):
                    flat[f"{f}_{c}"] = v[:, i]
            else:
                flat[f] = v
        return pd.DataFrame(flat)

    def to_json(self, indent: Optional[int] = 2) -> str:
        """The ``smpscope.analysis/1`` JSON document."""
        return json.dumps(self._doc, indent=indent)

    def to_dict(self) -> Dict[str, Any]:
        return json.loads(json.dumps(self._doc))

    def overlay(self, photo: Optional[PhotoLike] = None) -> np.ndarray:
        """The photo (HxWx3 uint8) with every detected dot drawn."""
        src = photo if photo is not None else self._photo
        if src is None:
            raise ParameterError("this analysis holds no photo; pass the photo to overlay()")
        return _smpscope.overlay(src, json.dumps(self._doc))

    def __getstate__(self):
        photo = self._photo if isinstance(self._photo, (str, os.PathLike)) else None
        return {"doc": self._doc, "photo": os.fspath(photo) if photo is not None else None}

    def __setstate__(self, state):
        self._doc = state["doc"]
        self._photo = state["photo"]

    def __eq__(self, other) -> bool:
        return isinstance(other, Analysis) and self._doc == other._doc

    def __repr__(self) -> str:
        s = self.summary
        dens = s.get("density_per_cm2")
        dens_txt = f"{dens:.1f}/cm^2" if dens is not None else "density n/a (no scale)"
        return f"<smpscope.Analysis {self.image['source']}: {s['dot_count']} dots, {dens_txt}, {len(self.warnings)} warnings>"


def _params_json(px_per_mm, camera_blur_um, params) -> str:
    p: Dict[str, Any] = dict(params or {})
    if px_per_mm is not None:
        p["px_per_mm"] = float(px_per_mm)
    if camera_blur_um is not None:
        p["camera_blur_um"] = float(camera_blur_um)
    try:
        return json.dumps(p, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ParameterError(f"invalid parameters: {e}") from None


def analyze(
    photo: PhotoLike,
    px_per_mm: Optional[float] = None,
    roi: Union[None, str, "os.PathLike[str]", Sequence[Sequence[float]], np.ndarray] = None,
    *,
    camera_blur_um: Optional[float] = None,
    params: Optional[Dict[str, Any]] = None,
) -> Analysis:
    """Find and measure every pigment dot in one photo.

    photo: a path (JPEG, PNG, TIFF) or a numpy array (HxW, HxWx3, HxWx4; uint8, uint16 or
        float in 0..1, sRGB-encoded).
    px_per_mm: pixels per millimetre; without it (or a device profile in ``params``)
        lengths, ink and density are None.
    roi: the treated region: a polygon JSON or mask image path, a list of (x, y) vertices in
        pixels, or a 2-D boolean mask.
    camera_blur_um: the camera's own blur (Gaussian sigma, um), removed from the spread.
    params: any further fields of the analysis parameters (``detect``, ``measure``,
        ``device_profiles``), as in the JSON form.

    The work runs in Rust with the GIL released. Raises PhotoError for an unreadable photo
    and ParameterError for invalid parameters.
    """
    if isinstance(photo, os.PathLike):
        photo = os.fspath(photo)
    if isinstance(roi, os.PathLike):
        roi = os.fspath(roi)
    doc = json.loads(_smpscope.analyze(photo, _params_json(px_per_mm, camera_blur_um, params), roi))
    return Analysis(doc, photo)
