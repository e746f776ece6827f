"""Scoring one photo's detections against its truth, and pooling photo scores into figures.

The matching mirrors crates/smpscope-synth/src/evaluate.rs (`pair_detections`, `score`): pairs
(truth dot, detection) closest first within max(0.5 * true diameter in px, 1.5 px), each at most
once; truth dots whose disc (plus 1 px) is cut by the frame's edge are left out, and so are
detections in the edge band (0.06 mm + 1 px) that matched nothing.

Truth documents of either generator are read: "smpscope-synth.truth/1" (the project's own) and
"heldout.truth/1". Truth dots that carry an `snr` below LOW_SNR (the held-out generator's) are
scored apart: they take part in the matching, but they and the detections paired with them are
left out of precision, recall and every per-dot error, and get a recall of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .ciede2000 import delta_e_2000

LOW_SNR = 5.0
CI_FIELDS = ("x", "y", "diameter_um", "spread_um", "peak_od", "ink")


def margin_ok(x, y, r, w: float, h: float) -> np.ndarray:
    """Whether a disc of radius r (px) at (x, y) lies inside a w x h frame (pixel centres at
    integers, so the frame spans -0.5 .. w - 0.5)."""
    x, y, r = np.asarray(x, float), np.asarray(y, float), np.asarray(r, float)
    return (x >= r - 0.5) & (y >= r - 0.5) & (x <= w - 0.5 - r) & (y <= h - 0.5 - r)


def pair_detections(tx, ty, tdiam_um, px_per_mm: float, dx, dy, candidates) -> list[tuple[int, int]]:
    """Pairs (truth index, detection index): closest first, within half the true diameter (at
    least 1.5 px), each at most once, among the truth dots `candidates`. Ties go to the lower
    truth index, then the lower detection index (as evaluate.rs sorts them)."""
    tx, ty, tdiam = np.asarray(tx, float), np.asarray(ty, float), np.asarray(tdiam_um, float)
    dx, dy = np.asarray(dx, float), np.asarray(dy, float)
    cand = np.asarray(candidates, dtype=np.int64)
    if cand.size == 0 or dx.size == 0:
        return []
    cx, cy = tx[cand], ty[cand]
    tol = np.maximum(0.5 * tdiam[cand] / 1000.0 * px_per_mm, 1.5)
    order = np.argsort(cx, kind="stable")
    sx = cx[order]
    reach = float(tol.max())
    dist_l, i_l, j_l = [], [], []
    for j in range(dx.size):
        lo = np.searchsorted(sx, dx[j] - reach, side="left")
        hi = np.searchsorted(sx, dx[j] + reach, side="right")
        if lo == hi:
            continue
        k = order[lo:hi]
        dist = np.hypot(dx[j] - cx[k], dy[j] - cy[k])
        ok = dist <= tol[k]
        if ok.any():
            dist_l.append(dist[ok])
            i_l.append(cand[k[ok]])
            j_l.append(np.full(int(ok.sum()), j, dtype=np.int64))
    if not dist_l:
        return []
    dist, ii, jj = np.concatenate(dist_l), np.concatenate(i_l), np.concatenate(j_l)
    used_t: set[int] = set()
    used_d: set[int] = set()
    out = []
    for n in np.lexsort((jj, ii, dist)):
        i, j = int(ii[n]), int(jj[n])
        if i not in used_t and j not in used_d:
            used_t.add(i)
            used_d.add(j)
            out.append((i, j))
    return out


@dataclass
class Match:
    """The matching of one photo's detections: the pairs scored as such and the counts."""

    pairs: list[tuple[int, int]]  # (truth, detection) with truth at SNR >= LOW_SNR (or unknown)
    truth_dots: int  # truth dots clear of the edge, low-SNR ones left out
    detected: int  # detections counted, those paired with low-SNR dots left out
    matched: int
    low_snr_dots: int
    low_snr_matched: int
    snr_known: bool


def _dot_arrays(truth: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    dots = truth.get("dots") or []
    tx = np.array([d["x"] for d in dots], dtype=float)
    ty = np.array([d["y"] for d in dots], dtype=float)
    td = np.array([d["diameter_um"] for d in dots], dtype=float)
    snr = np.array([_num(d.get("snr")) for d in dots], dtype=float)
    return tx, ty, td, snr


def match(truth: dict[str, Any], dx, dy) -> Match:
    """Matches detections at (dx, dy) to the truth dots, with evaluate.rs's edge rules."""
    w, h, ppm = float(truth["width"]), float(truth["height"]), float(truth["px_per_mm"])
    tx, ty, td, snr = _dot_arrays(truth)
    dx, dy = np.asarray(dx, float).reshape(-1), np.asarray(dy, float).reshape(-1)
    ok = margin_ok(tx, ty, td / 2000.0 * ppm + 1.0, w, h)
    low = ok & (snr < LOW_SNR)  # NaN (no snr in the truth) compares False
    pairs = pair_detections(tx, ty, td, ppm, dx, dy, np.flatnonzero(ok))
    used_d = np.zeros(dx.size, dtype=bool)
    for _, j in pairs:
        used_d[j] = True
    counted = int((used_d | margin_ok(dx, dy, 0.06 * ppm + 1.0, w, h)).sum())
    main = [(i, j) for i, j in pairs if not low[i]]
    low_matched = len(pairs) - len(main)
    return Match(
        pairs=main,
        truth_dots=int(ok.sum() - low.sum()),
        detected=counted - low_matched,
        matched=len(main),
        low_snr_dots=int(low.sum()),
        low_snr_matched=low_matched,
        snr_known=bool(snr.size) and bool(np.isfinite(snr).any()),
    )


def _num(v: Any) -> float:
    """A JSON number as float; None and non-numbers as NaN."""
    if isinstance(v, bool) or v is None:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def truth_polygon(truth: dict[str, Any]) -> np.ndarray | None:
    """The treated region's polygon (N x 2, upright px), None for the whole frame."""
    reg = truth.get("region")
    if isinstance(reg, dict):
        reg = reg.get("polygon")
    if reg is None or len(reg) < 3:
        return None
    return np.asarray(reg, dtype=float)


def _polygons(poly: Any) -> list[np.ndarray]:
    """A polygon [[x, y], ...] or a list of them, as arrays."""
    if poly is None or len(poly) == 0:
        return []
    first = poly[0]
    if len(first) > 0 and isinstance(first[0], (list, tuple)):
        return [np.asarray(p, dtype=float) for p in poly if len(p) >= 3]
    return [np.asarray(poly, dtype=float)] if len(poly) >= 3 else []


def inside(poly: Any, x, y) -> np.ndarray:
    """Even-odd point-in-polygon test (a list of polygons: inside any of them)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    result = np.zeros(np.broadcast(x, y).shape, dtype=bool)
    for p in _polygons(poly):
        hit = np.zeros_like(result)
        xs, ys = p[:, 0], p[:, 1]
        for k in range(len(p)):
            x1, y1, x2, y2 = xs[k - 1], ys[k - 1], xs[k], ys[k]
            if y1 == y2:
                continue
            crosses = (y1 > y) != (y2 > y)
            xc = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            hit ^= crosses & (x < xc)
        result |= hit
    return result


def region_iou(found: Any, truth: Any, w: int, h: int, max_samples: int = 200_000) -> float:
    """Intersection over union of two regions within the frame (None = the whole frame),
    sampled on a regular grid of at most about max_samples points."""
    step = max(1.0, math.sqrt(w * h / max_samples))
    gx, gy = np.meshgrid(np.arange(0.0, w, step), np.arange(0.0, h, step))
    a = np.ones(gx.shape, bool) if found is None else inside(found, gx, gy)
    b = np.ones(gx.shape, bool) if truth is None else inside(truth, gx, gy)
    union = int((a | b).sum())
    return float((a & b).sum() / union) if union else math.nan


@dataclass
class PhotoScore:
    """Everything measured about one photo."""

    name: str
    truth_dots: int = 0
    detected: int = 0
    matched: int = 0
    low_snr_dots: int = 0
    low_snr_matched: int = 0
    snr_known: bool = False
    failed: str | None = None
    density_found_err: float = math.nan  # |found / true - 1|
    density_found_bias: float = math.nan  # found / true - 1
    density_true_err: float = math.nan  # detections in the true region over its area
    density_true_bias: float = math.nan
    region_iou: float = math.nan  # NaN: no polygon in the output
    # Per matched dot (scored pairs only):
    diameter_err: list[float] = field(default_factory=list)
    spread_err: list[float] = field(default_factory=list)
    fwhm_err: list[float] = field(default_factory=list)
    ink_rel_err: list[float] = field(default_factory=list)
    colour_de: list[float] = field(default_factory=list)
    resolved: list[bool | None] = field(default_factory=list)  # None: the dot has no flags
    ci_cover: dict[str, list[bool]] = field(default_factory=dict)
    ci_width_diameter: list[float] = field(default_factory=list)
    seconds: float = math.nan  # smpscope's wall-clock time
    cpu_seconds: float = math.nan  # and its CPU time (all threads)
    megapixels: float = math.nan


def _rel(found: float, true: float) -> tuple[float, float]:
    if not (true > 0.0) or not math.isfinite(found):
        return math.nan, math.nan
    r = found / true - 1.0
    return abs(r), r


def score_photo(truth: dict[str, Any], doc: dict[str, Any] | None, name: str, error: str | None = None):
    """Scores an smpscope.analysis/1 document `doc` against `truth`. A photo whose analysis
    failed (doc None, `error` its message) has every dot missed and a density of 0."""
    w, h = int(truth["width"]), int(truth["height"])
    dots = [] if doc is None else list(doc.get("dots") or [])
    dx = np.array([_num(d.get("x")) for d in dots], dtype=float)
    dy = np.array([_num(d.get("y")) for d in dots], dtype=float)
    m = match(truth, dx, dy)
    s = PhotoScore(
        name=name,
        truth_dots=m.truth_dots,
        detected=m.detected,
        matched=m.matched,
        low_snr_dots=m.low_snr_dots,
        low_snr_matched=m.low_snr_matched,
        snr_known=m.snr_known,
        failed=error if doc is None else None,
        megapixels=w * h / 1e6,
    )
    if doc is None and error is None:
        s.failed = "no analysis"
    true_density = _num(truth.get("density_per_cm2"))
    summary = {} if doc is None else (doc.get("summary") or {})
    found = 0.0 if doc is None else _num(summary.get("density_per_cm2"))
    s.density_found_err, s.density_found_bias = _rel(found, true_density)
    tpoly = truth_polygon(truth)
    in_frame = (dx >= -0.5) & (dy >= -0.5) & (dx <= w - 0.5) & (dy <= h - 0.5)
    in_true = in_frame if tpoly is None else in_frame & inside(tpoly, dx, dy)
    area = _num(truth.get("region_area_cm2"))
    if area > 0.0:
        s.density_true_err, s.density_true_bias = _rel(float(in_true.sum()) / area, true_density)
    region = summary.get("region")
    if isinstance(region, dict) and "polygon" in region:
        s.region_iou = region_iou(region["polygon"], tpoly, w, h)

    tdots = truth.get("dots") or []
    labs_d, labs_t = [], []
    for i, j in m.pairs:
        t, d = tdots[i], dots[j]
        for key, out in (("diameter_um", s.diameter_err), ("spread_um", s.spread_err), ("fwhm_um", s.fwhm_err)):
            out.append(abs(_num(d.get(key)) - _num(t.get(key))))
        ink_t = _num(t.get("ink"))
        s.ink_rel_err.append(abs(_num(d.get("ink")) / ink_t - 1.0) if ink_t > 0.0 else math.nan)
        if d.get("lab") is not None and t.get("lab") is not None:
            labs_d.append(d["lab"])
            labs_t.append(t["lab"])
        flags = d.get("flags")
        s.resolved.append(None if flags is None else "unresolved" not in flags)
        ci = d.get("ci95")
        if isinstance(ci, dict):
            for key in CI_FIELDS:
                iv = ci.get(key)
                tv = _num(t.get(key))
                if isinstance(iv, (list, tuple)) and len(iv) == 2 and math.isfinite(tv):
                    lo, hi = _num(iv[0]), _num(iv[1])
                    if math.isfinite(lo) and math.isfinite(hi):
                        s.ci_cover.setdefault(key, []).append(lo <= tv <= hi)
                        if key == "diameter_um":
                            s.ci_width_diameter.append(hi - lo)
    if labs_d:
        s.colour_de = [float(v) for v in delta_e_2000(np.array(labs_d, float), np.array(labs_t, float))]
    return s


def _mean(values) -> float | None:
    v = np.asarray(list(values), dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else None


def _pooled(scores, attr: str, keep=None) -> float | None:
    """Mean over the dots of every photo; keep(photo score) gives a mask of the dots to use."""
    vals: list[float] = []
    for s in scores:
        v = getattr(s, attr)
        if keep is None:
            vals.extend(v)
        else:
            vals.extend(x for x, k in zip(v, keep(s)) if k)
    return _mean(vals)


def figures(scores: list[PhotoScore]) -> dict[str, Any]:
    """Pools photo scores as evaluate.rs's Figures::of does (counts summed for precision and
    recall, dots pooled for per-dot errors, photos averaged for density), plus the rest."""
    matched = sum(s.matched for s in scores)
    detected = sum(s.detected for s in scores)
    truth = sum(s.truth_dots for s in scores)
    precision = 1.0 if detected == 0 else matched / detected
    recall = 1.0 if truth == 0 else matched / truth
    f1 = 2.0 * precision * recall / (precision + recall) if precision + recall > 0.0 else 0.0
    flagged = [r for s in scores for r in s.resolved if r is not None]
    has_flags = bool(flagged)

    def resolved_mask(s: PhotoScore) -> list[bool]:
        return [r is True for r in s.resolved]

    out: dict[str, Any] = {
        "photos": len(scores),
        "failed": sum(s.failed is not None for s in scores),
        "truth_dots": truth,
        "detected": detected,
        "matched": matched,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "density_found_err": _mean(s.density_found_err for s in scores),
        "density_found_bias": _mean(s.density_found_bias for s in scores),
        "density_true_err": _mean(s.density_true_err for s in scores),
        "density_true_bias": _mean(s.density_true_bias for s in scores),
        "region_iou": _mean(s.region_iou for s in scores),
        "region_iou_photos": sum(math.isfinite(s.region_iou) for s in scores),
    }
    for attr, key in (("diameter_err", "diameter"), ("spread_err", "spread"), ("fwhm_err", "fwhm")):
        out[f"{key}_mae_um_all"] = _pooled(scores, attr)
        out[f"{key}_mae_um_resolved"] = _pooled(scores, attr, resolved_mask) if has_flags else None
    out["unresolved_share"] = (1.0 - sum(flagged) / len(flagged)) if has_flags else None
    widths = [w for s in scores for w in s.ci_width_diameter if math.isfinite(w)]
    out["ci95_width_diameter_um_median"] = float(np.median(widths)) if widths else None
    out["ink_rel_err"] = _pooled(scores, "ink_rel_err")
    out["colour_de2000"] = _pooled(scores, "colour_de")
    cover: dict[str, float | None] = {}
    for key in CI_FIELDS:
        hits = [c for s in scores for c in s.ci_cover.get(key, [])]
        cover[key] = sum(hits) / len(hits) if hits else None
    out["ci95_coverage"] = cover
    snr_known = any(s.snr_known for s in scores)
    low = sum(s.low_snr_dots for s in scores)
    out["low_snr_share"] = low / (low + truth) if snr_known and low + truth > 0 else None
    out["low_snr_dots"] = low if snr_known else None
    out["low_snr_recall"] = sum(s.low_snr_matched for s in scores) / low if snr_known and low else None
    return out


def detection_f1(matches: list[Match]) -> dict[str, float]:
    """Pooled precision, recall and F1 of a list of matchings (for the sep baseline)."""
    matched = sum(m.matched for m in matches)
    detected = sum(m.detected for m in matches)
    truth = sum(m.truth_dots for m in matches)
    p = 1.0 if detected == 0 else matched / detected
    r = 1.0 if truth == 0 else matched / truth
    return {"precision": p, "recall": r, "f1": 2.0 * p * r / (p + r) if p + r > 0.0 else 0.0}
