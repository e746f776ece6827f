"""Result objects: the analysis of one photo, the failure of one photo in a batch, and a batch.

They hold plain data (the JSON documents as dicts), so they pickle, compare and travel between
processes; tables are built from that data on demand.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Iterable, Sequence
from typing import Any, Union

import numpy as np

from . import _smpscope
from ._errors import ParameterError, SmpscopeError

PhotoLike = Union[str, "os.PathLike[str]", np.ndarray]

# Per-dot fields, in the order of the JSON document, with their units.
DOT_FIELDS = (
    "x",
    "y",
    "diameter_um",
    "spread_um",
    "fwhm_um",
    "peak_od",
    "ink",
    "eccentricity",
    "angle_deg",
    "lab",
    "skin_lab",
    "delta_e",
    "score",
    "diameter_px",
    "spread_px",
    "fwhm_px",
    "ink_px",
    "od_rgb",
    "snr",
    "blur_px",
)
_TRIPLES = {
    "lab": ("L", "a", "b"),
    "skin_lab": ("L", "a", "b"),
    "od_rgb": ("r", "g", "b"),
    "lab_balanced": ("L", "a", "b"),
}
# Per-dot 95 % intervals (``ci95`` in the JSON), as ``<field>_lo`` and ``<field>_hi`` columns.
INTERVAL_FIELDS = ("x", "y", "diameter_um", "spread_um", "peak_od", "ink", "diameter_px", "spread_px", "ink_px")
# Per-dot flags (``flags`` in the JSON), as boolean ``flag_<code>`` columns.
DOT_FLAGS = ("crowded", "hair_crossed", "near_edge", "low_snr", "unresolved", "saturated")
_DIST_STATS = ("median", "p10", "p90")


def _have_pandas():
    try:
        import pandas as pd
    except ImportError:
        return None
    return pd


def table(columns: dict[str, Any]):
    """A pandas DataFrame of ``columns`` when pandas is installed, else the dict of numpy arrays."""
    pd = _have_pandas()
    if pd is None:
        return {k: np.asarray(v) for k, v in columns.items()}
    return pd.DataFrame(columns)


def _floats(values: Iterable[Any]) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in values], dtype=float)


def _fmt(v: Any, spec: str = ".3g", unit: str = "") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:{spec}}{unit}"
    return f"{v}{unit}"


def _html_table(rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(c))}</td>" for c in r) + "</tr>")
    out.append("</table>")
    return "".join(out)


class Analysis:
    """The measurement of one photo: the ``smpscope.analysis/1`` document.

    Units: lengths of dots in micrometres (``*_um``) and pixels (``*_px``, always given);
    spacing in millimetres; areas in cm^2; density in dots per cm^2; ink in OD*mm^2
    (integrated optical density); colours CIELAB (D65). Without a scale every physical length,
    area, ink and density is None (NaN in tables) and ``warnings`` says so.

    Attributes: ``summary`` (dict), ``dots`` (table), ``image``, ``scale``, ``warnings``,
    ``source``. Picklable; ``==`` compares the documents.
    """

    ok = True

    def __init__(self, document: dict[str, Any], photo: PhotoLike | None = None):
        self._doc = document
        self._photo = photo

    @classmethod
    def from_json(cls, text: str, photo: PhotoLike | None = None) -> Analysis:
        """An analysis from its JSON document (as written by ``to_json`` or the command)."""
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise ParameterError(f"not an analysis document: {e}", "invalid_parameter") from None
        if not isinstance(doc, dict) or doc.get("schema") != _smpscope.ANALYSIS_SCHEMA:
            raise ParameterError(f"not an {_smpscope.ANALYSIS_SCHEMA} document", "invalid_parameter")
        return cls(doc, photo)

    @property
    def source(self) -> str:
        """The photo's path, or ``<array>`` for pixels handed over in memory."""
        return self._doc["image"]["source"]

    @property
    def summary(self) -> dict[str, Any]:
        """Per-photo summary: ``dot_count``; ``density_per_cm2`` (dots/cm^2) and ``ink_per_cm2``
        (OD*mm^2 of ink per cm^2) in the treated ``region`` (``area_cm2``, ``method``);
        ``distributions`` (median, p10, p90) of diameter_um, spread_um, fwhm_um (um), peak_od,
        ink (OD*mm^2) and delta_e (CIEDE2000); ``spacing`` (nearest neighbour, mm; Clark-Evans
        ratio); ``coverage`` (0..1); ``quality`` (noise OD, clipped fraction, focus blur px/um,
        median SNR); ``rejected``."""
        return self._doc["summary"]

    @property
    def image(self) -> dict[str, Any]:
        """Source, size (px, upright), format, colour type, EXIF capture time, camera and the
        orientation applied."""
        return self._doc["image"]

    @property
    def scale(self) -> dict[str, Any]:
        """``px_per_mm`` (None when unknown), its ``source`` (caller, marker, device_profile,
        none, in that order of precedence) and ``camera_blur_um``."""
        return self._doc["scale"]

    @property
    def marker(self) -> dict[str, Any] | None:
        """The calibration marker found in the photo, None without one: its own
        ``px_per_mm`` and 95 % ``px_per_mm_interval`` (px/mm), ``tilt_deg`` and
        ``tilt_interval_deg`` (degrees), ``camera_blur_um`` and its interval (um),
        ``white_balance`` (``gains`` on linear R, G, B, ``exposure``, ``residual_de``),
        ``corners_px`` and ``card_px`` (px), ``homography`` (card mm to photo px)."""
        return self._doc.get("marker")

    @property
    def warnings(self) -> list[str]:
        """What the reader should know: no scale, unknown camera blur, clipping, soft focus..."""
        return list(self._doc["warnings"])

    @property
    def warning_codes(self) -> list[dict[str, str]]:
        """The same warnings with their stable codes: ``[{"code": "no_scale", "message": ...}]``
        (codes such as no_scale, blur_unknown, shine, clipped, out_of_focus, low_snr, no_dots,
        region_guessed; see the README)."""
        return [dict(w) for w in self._doc.get("warning_codes", [])]

    def dots_arrays(self) -> dict[str, np.ndarray]:
        """One numpy array per dot field (None becomes NaN); ``lab``, ``skin_lab`` and
        ``od_rgb`` are N x 3; the 95 % intervals as ``<field>_lo`` and ``<field>_hi`` (NaN where
        a dot has none); the flags as booleans ``flag_<code>`` (crowded, hair_crossed,
        near_edge, low_snr, unresolved, saturated)."""
        dots = self._doc["dots"]
        cols: dict[str, np.ndarray] = {}
        for f in DOT_FIELDS:
            if f in _TRIPLES:
                cols[f] = np.asarray([d[f] for d in dots], dtype=float).reshape(len(dots), 3)
            else:
                cols[f] = _floats(d[f] for d in dots)
        for f in INTERVAL_FIELDS:
            bounds = [((d.get("ci95") or {}).get(f) or (None, None)) for d in dots]
            cols[f"{f}_lo"] = _floats(b[0] for b in bounds)
            cols[f"{f}_hi"] = _floats(b[1] for b in bounds)
        for code in DOT_FLAGS:
            cols[f"flag_{code}"] = np.asarray([code in d.get("flags", ()) for d in dots], dtype=bool)
        return cols

    @property
    def dots(self):
        """One row per dot: a pandas DataFrame when pandas is installed (triples flattened to
        ``lab_L``, ``lab_a``, ``lab_b``, ``od_rgb_r``, ...), otherwise a dict of numpy arrays
        (see ``dots_arrays``). x, y in px (upright photo, centre of the top-left pixel at
        (0, 0)); ``*_um`` in micrometres; ink in OD*mm^2; ``*_px`` in pixels."""
        cols = self.dots_arrays()
        pd = _have_pandas()
        if pd is None:
            return cols
        flat: dict[str, Any] = {}
        for f, v in cols.items():
            if v.ndim == 2:
                for i, c in enumerate(_TRIPLES[f]):
                    flat[f"{f}_{c}"] = v[:, i]
            else:
                flat[f] = v
        return pd.DataFrame(flat)

    def summary_row(self) -> dict[str, Any]:
        """The summary flattened to one row (the columns of ``summaries``)."""
        return _summary_row(self)

    def to_json(self, indent: int | None = 2) -> str:
        """The ``smpscope.analysis/1`` JSON document (the same as the command writes)."""
        return json.dumps(self._doc, indent=indent)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the document as plain Python data."""
        return json.loads(json.dumps(self._doc))

    def _photo_for(self, photo: PhotoLike | None) -> PhotoLike:
        src = photo if photo is not None else self._photo
        if src is None:
            raise ParameterError(
                "this analysis holds no photo (it came from JSON, or from an array before pickling);"
                " pass the photo to overlay()",
                "invalid_parameter",
            )
        return os.fspath(src) if isinstance(src, os.PathLike) else src

    def overlay(self, photo: PhotoLike | None = None, max_side: int | None = None) -> np.ndarray:
        """The photo (HxWx3 uint8) with every measured dot drawn (a circle of its apparent
        size, a cross at its centre). ``photo`` defaults to the one analysed; ``max_side``
        shrinks the result so its longer side is at most that many px (dots stay visible)."""
        return _smpscope.overlay(self._photo_for(photo), json.dumps(self._doc), max_side)

    def overlay_png(self, photo: PhotoLike | None = None, max_side: int | None = None) -> bytes:
        """The overlay as PNG file bytes."""
        return _smpscope.overlay_png(self._photo_for(photo), json.dumps(self._doc), max_side)

    def __getstate__(self):
        photo = self._photo if isinstance(self._photo, (str, os.PathLike)) else None
        return {"doc": self._doc, "photo": os.fspath(photo) if photo is not None else None}

    def __setstate__(self, state):
        self._doc = state["doc"]
        self._photo = state["photo"]

    def __eq__(self, other) -> bool:
        return isinstance(other, Analysis) and self._doc == other._doc

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        s = self.summary
        dens = s.get("density_per_cm2")
        scale = self.scale.get("px_per_mm")
        dens_txt = f"{dens:.1f} dots/cm^2" if dens is not None else "density n/a (no scale)"
        dia = (s["distributions"].get("diameter_um") or {}).get("median")
        dia_txt = f", median diameter {dia:.0f} um" if dia is not None else ""
        scale_txt = f"{scale:g} px/mm ({self.scale['source']})" if scale is not None else "no scale"
        return (
            f"<smpscope.Analysis {self.source}: {s['dot_count']} dots, {dens_txt}{dia_txt}; "
            f"{self.image['width']}x{self.image['height']} px, {scale_txt}; {len(self.warnings)} warnings>"
        )

    def _summary_rows(self) -> list[Sequence[Any]]:
        s, sc = self.summary, self.scale
        d = s["distributions"]

        def dist(name: str, unit: str) -> str:
            v = d.get(name)
            return "n/a" if v is None else f"{v['median']:.3g}{unit} (p10 {v['p10']:.3g}, p90 {v['p90']:.3g})"

        return [
            ("photo", f"{self.source} ({self.image['width']}x{self.image['height']} px, {self.image['colour_type']})"),
            ("captured", self.image.get("captured_at") or "n/a"),
            ("scale", f"{_fmt(sc['px_per_mm'], 'g', ' px/mm')} ({sc['source']})"),
            ("dots", s["dot_count"]),
            ("density", _fmt(s["density_per_cm2"], ".1f", " /cm²")),
            ("region", f"{s['region']['method']}, {_fmt(s['region']['area_cm2'], '.3g', ' cm²')}"),
            ("diameter", dist("diameter_um", " µm")),
            ("spread (σ)", dist("spread_um", " µm")),
            ("peak OD", dist("peak_od", "")),
            ("ink", dist("ink", " OD·mm²")),
            ("ΔE00 vs skin", dist("delta_e", "")),
            ("NN spacing", _fmt(s["spacing"]["nn_median_mm"], ".3g", " mm")),
            ("Clark-Evans", _fmt(s["spacing"]["clark_evans"], ".3g")),
            ("coverage", _fmt(s["coverage"], ".1%")),
            ("focus blur", _fmt(s["quality"]["focus_blur_um"], ".3g", " µm")),
            ("warnings", "; ".join(self.warnings) or "none"),
        ]

    def _repr_html_(self) -> str:
        img = ""
        try:
            png = self.overlay_png(max_side=480)
            img = (
                "<img style='max-width:480px; margin-right:1em' "
                f"src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'/>"
            )
        except (SmpscopeError, OSError):
            pass  # no photo at hand: the table alone
        return (
            "<div style='display:flex; align-items:flex-start'>"
            f"{img}<div><b>smpscope analysis</b>{_html_table(self._summary_rows())}</div></div>"
        )


class Failure:
    """A photo of a batch that could not be analysed: ``source``, ``kind``, ``message`` and the
    ``error`` (the exception that ``analyze`` would have raised). ``ok`` is False."""

    ok = False

    def __init__(self, error: BaseException, photo: PhotoLike | None = None):
        self.error = error
        src = getattr(error, "source", None)
        if src is None and isinstance(photo, (str, os.PathLike)):
            src = os.fspath(photo)
        self.source: str = src if src is not None else "<array>"
        self.kind: str = getattr(error, "kind", None) or type(error).__name__
        self.message: str = str(error)

    def raise_(self):
        """Raises the error."""
        raise self.error

    def __eq__(self, other) -> bool:
        return isinstance(other, Failure) and (self.source, self.kind, self.message) == (
            other.source,
            other.kind,
            other.message,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<smpscope.Failure {self.source}: {type(self.error).__name__}: {self.message}>"

    def summary_row(self) -> dict[str, Any]:
        return {"source": self.source, "ok": False, "error_kind": self.kind, "error": self.message}


Result = Union[Analysis, Failure]


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}_{k}" if prefix else k, v, out)
    else:
        out[prefix] = value


def _summary_row(a: Analysis) -> dict[str, Any]:
    s = a.summary
    row: dict[str, Any] = {
        "source": a.source,
        "ok": True,
        "error_kind": None,
        "error": None,
        "captured_at": a.image.get("captured_at"),
        "width": a.image["width"],
        "height": a.image["height"],
        "px_per_mm": a.scale["px_per_mm"],
        "scale_source": a.scale["source"],
        "camera_blur_um": a.scale.get("camera_blur_um"),
        "marker_px_per_mm": (a.marker or {}).get("px_per_mm"),
        "marker_tilt_deg": (a.marker or {}).get("tilt_deg"),
        "marker_camera_blur_um": (a.marker or {}).get("camera_blur_um"),
        "dot_count": s["dot_count"],
        "density_per_cm2": s["density_per_cm2"],
        "ink_per_cm2": s.get("ink_per_cm2"),
    }
    _flatten("region", s["region"], row)
    for name, dist in s["distributions"].items():
        for stat in _DIST_STATS:
            row[f"{name}_{stat}"] = None if dist is None else dist[stat]
    for key in ("spacing", "quality", "rejected"):
        _flatten("" if key == "spacing" else key, s[key], row)
    row["coverage"] = s["coverage"]
    row["warnings"] = len(a.warnings)
    return row


def summaries(results: Iterable[Result]):
    """A tidy table of per-photo summaries, one row per photo (failures included, with
    ``ok`` False and the error), in the order given: a pandas DataFrame when pandas is
    installed, else a dict of numpy arrays. Columns: source, ok, error_kind, error,
    captured_at, width, height, px_per_mm, scale_source, camera_blur_um, marker_px_per_mm,
    marker_tilt_deg, marker_camera_blur_um (the calibration marker's own figures, None without
    one), dot_count, density_per_cm2
    (dots/cm^2), ink_per_cm2 (OD*mm^2/cm^2), region_* (area_cm2, area_px, method),
    <measure>_median/_p10/_p90 for diameter_um, spread_um, fwhm_um (um), peak_od, ink
    (OD*mm^2), delta_e; nn_*_mm (mm), nn_median_px, clark_evans, quality_*, rejected_*, coverage, warnings (count)."""
    rows = [r.summary_row() for r in results]
    columns: dict[str, None] = {}
    for r in rows:
        for k in r:
            columns.setdefault(k, None)
    if not columns:
        columns = dict.fromkeys(("source", "ok", "error_kind", "error"))
    data = {k: [r.get(k) for r in rows] for k in columns}
    pd = _have_pandas()
    if pd is not None:
        return pd.DataFrame(data, columns=list(columns))
    out: dict[str, np.ndarray] = {}
    for k, v in data.items():
        if all((isinstance(x, (int, float)) and not isinstance(x, bool)) or x is None for x in v) and any(
            x is not None for x in v
        ):
            out[k] = _floats(v)
        else:
            out[k] = np.asarray(v, dtype=object)
    return out


class Batch(list[Result]):
    """The results of ``analyze_many``: a list, in input order, of ``Analysis`` (``ok``) and
    ``Failure`` (not ``ok``) entries."""

    @property
    def analyses(self) -> list[Analysis]:
        return [r for r in self if isinstance(r, Analysis)]

    @property
    def failures(self) -> list[Failure]:
        return [r for r in self if isinstance(r, Failure)]

    def summaries(self):
        """One row per photo; see ``smpscope.summaries``."""
        return summaries(self)

    def raise_first(self) -> Batch:
        """Raises the first failure's error, if any; returns the batch otherwise."""
        for f in self.failures:
            f.raise_()
        return self

    def __repr__(self) -> str:
        return f"<smpscope.Batch {len(self)} photos: {len(self.analyses)} analysed, {len(self.failures)} failed>"

    def _repr_html_(self) -> str:
        rows: list[Sequence[Any]] = []
        for r in self:
            if isinstance(r, Analysis):
                s = r.summary
                d = (s["distributions"].get("diameter_um") or {}).get("median")
                rows.append(
                    (r.source, "ok", s["dot_count"], _fmt(s["density_per_cm2"], ".1f"), _fmt(d, ".0f"), len(r.warnings))
                )
            else:
                rows.append((r.source, f"{type(r.error).__name__}: {r.message}", "", "", "", ""))
        return f"<b>{html.escape(repr(self))}</b>" + _html_table(
            rows, ("photo", "status", "dots", "dots/cm²", "median diameter µm", "warnings")
        )

    def __reduce__(self):
        return (Batch, (list(self),))
