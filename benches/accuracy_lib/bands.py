"""The condition bands a photo falls in, read from either generator's truth."""

from __future__ import annotations

import math
from typing import Any

# Conditions and their bands in print order.
BANDS: dict[str, list[str]] = {
    "skin type": ["I", "II", "III", "IV", "V", "VI"],
    "px/mm": ["<30", "30-60", ">=60"],
    "blur um": ["<10", "10-20", ">=20"],
    "fade": ["<20%", "20-40%", "40-60%", ">=60%"],
    "file": ["jpeg 50-69", "jpeg 70-95", "jpeg other", "png"],
    "distractors": ["no", "yes"],
    "oblique": ["<10 deg", ">=10 deg"],
}


def _band(v: float, edges: list[float], names: list[str]) -> str:
    return names[sum(v >= e for e in edges)]


def _num(v: Any) -> float:
    try:
        return math.nan if v is None or isinstance(v, bool) else float(v)
    except (TypeError, ValueError):
        return math.nan


def bands(truth: dict[str, Any]) -> list[tuple[str, str]]:
    """(condition, band) pairs of one photo; a condition its truth does not state is left out
    (oblique views are the held-out generator's only)."""
    c = truth.get("conditions") or {}
    out: list[tuple[str, str]] = []
    skin = _num(c.get("skin_type"))
    if math.isfinite(skin):
        out.append(("skin type", BANDS["skin type"][min(max(round(skin), 1), 6) - 1]))
    ppm = _num(truth.get("px_per_mm"))
    if math.isfinite(ppm):
        out.append(("px/mm", _band(ppm, [30.0, 60.0], BANDS["px/mm"])))
    blur = _num(truth.get("camera_blur_um"))
    if math.isfinite(blur):
        out.append(("blur um", _band(blur, [10.0, 20.0], BANDS["blur um"])))
    fade = _num(c.get("fade"))
    if math.isfinite(fade):
        out.append(("fade", _band(fade, [0.2, 0.4, 0.6], BANDS["fade"])))
    if "jpeg_quality" in c:
        q = _num(c.get("jpeg_quality"))
        if not math.isfinite(q):
            f = "png"
        elif 50 <= q <= 69:
            f = "jpeg 50-69"
        elif 70 <= q <= 95:
            f = "jpeg 70-95"
        else:
            f = "jpeg other"
        out.append(("file", f))
    strata = c.get("strata") if isinstance(c.get("strata"), dict) else {}
    if "distractors_on" in strata:
        # The held-out generator lists the kinds present, pores and follicles always among them;
        # whether the photo's distractors were switched on is its stratum.
        out.append(("distractors", "yes" if strata["distractors_on"] else "no"))
    elif "distractors" in c:
        d = c.get("distractors")
        has = bool(d) if isinstance(d, (bool, list, tuple)) else bool(truth.get("distractors"))
        out.append(("distractors", "yes" if has else "no"))
    obl = _num(c.get("oblique_deg"))
    if math.isfinite(obl):
        out.append(("oblique", _band(abs(obl), [10.0], BANDS["oblique"])))
    return out


def group(truths_scores: list[tuple[dict[str, Any], Any]]) -> list[tuple[str, str, list[Any]]]:
    """(condition, band, [score...]) in print order, for the bands that hold a photo."""
    by: dict[tuple[str, str], list[Any]] = {}
    for t, s in truths_scores:
        for cond, band in bands(t):
            by.setdefault((cond, band), []).append(s)
    return [(cond, b, by[(cond, b)]) for cond, names in BANDS.items() for b in names if (cond, b) in by]
