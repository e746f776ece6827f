"""Scoring one patient's tracking (an smpscope.track/1 document and the analyses of its visits)
against the held-out series truth (heldout.series/1, benches/heldout_series/README.md), and
pooling patients into figures.

Per visit, smpscope's dots are matched to the truth dots as benches/accuracy_lib/scoring.py does
(`pair_detections`: closest pairs first within max(0.5 x true diameter in px, 1.5 px), each at
most once), among the truth dots with `visible` true, with the visit's true scale. A truth dot
is detectable at a visit when it is visible there with SNR >= LOW_SNR (5).

* Left out: a visit not in the track's `visits` (in `left_out`, or every visit of a refused
  series). A later visit left out while it shares FAIL_SHARED (20) or more detectable dots with
  the first visit is a failure.
* Registration: each later visit's detected dots matched to detectable truth dots are carried
  through smpscope's `registration.transform` onto the first visit and compared with the truth
  position of the same identity there (px of the first visit); the truth's own least-squares
  similarity `transform_fit` carried the same way is the floor (what any similarity can do).
* Matching: over every pair of tracked visits, smpscope's pairs (one identity of `matches`
  with a dot at both) whose two dots match detectable truth dots are right when both are the
  same truth id (precision); recall is over the truth pairs detected at both visits (as
  evaluate_series.rs counts them), end-to-end recall over the truth pairs detectable at both.
  Pairs with a dot matched to no truth dot (stray) or to a low-SNR one are counted apart.
* Ink: 100 x |ink_retained - truth ink_retained| per later visit, points.
* Touch-ups: per later tracked visit, the truth's touch-up (one at a visit left out shows at the
  next tracked visit, as evaluate_series.rs has it) against smpscope's `touch_up`.
* Half-life: judged where the truth's fade over the series, 1 - 2^(-span / T), is MIN_FADE (20 %)
  or more: within HALF_LIFE_TOL (15 %) of T, and T inside the 95 % interval.
* Pigment shift: smpscope's per-visit `pigment_shift` (with `pigment_shift_interval`) where its
  output has them; claims (the interval leaves out 0) at visits whose true |pigment_shift| is
  over SHIFT_MIN (0.02). delta_b (apparent colour, b*) has its sign compared with the truth's
  pigment_shift for information: both negative = bluer.

Nothing here imports smpscope.
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .scoring import LOW_SNR, _num, pair_detections

FAIL_SHARED = 20
MIN_FADE = 0.20
HALF_LIFE_TOL = 0.15
SHIFT_MIN = 0.02


def _name(source: str) -> str:
    return pathlib.PurePath(str(source)).name


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def _sign(v: float) -> int:
    return (v > 0.0) - (v < 0.0)


def claimed_sign(interval: Any) -> int:
    """The sign an interval [low, high] tells: +1 or -1 where it leaves out 0, else 0 (also for
    a missing or malformed interval)."""
    if not isinstance(interval, (list, tuple)) or len(interval) != 2:
        return 0
    lo, hi = _num(interval[0]), _num(interval[1])
    if lo > 0.0:
        return 1
    if hi < 0.0:
        return -1
    return 0


def detectable_ids(visit: dict[str, Any]) -> set[int]:
    """Truth ids visible at this visit with SNR >= LOW_SNR (a dot without an snr counts)."""
    return {int(d["id"]) for d in visit.get("dots") or [] if d.get("visible") and not _num(d.get("snr")) < LOW_SNR}


def shared_detectable(truth: dict[str, Any], i: int) -> int:
    """Truth dots detectable both at visit i and at the first visit."""
    visits = truth["visits"]
    return len(detectable_ids(visits[i]) & detectable_ids(visits[0]))


def identify(visit: dict[str, Any], dots: list[dict[str, Any]]) -> tuple[list[int | None], list[bool]]:
    """Per detected dot: the truth id it matches (None: no visible truth dot) and whether that
    truth dot is detectable (SNR >= LOW_SNR)."""
    tdots = visit.get("dots") or []
    tx = np.array([_num(d.get("x")) for d in tdots], dtype=float)
    ty = np.array([_num(d.get("y")) for d in tdots], dtype=float)
    td = np.array([_num(d.get("diameter_um")) for d in tdots], dtype=float)
    cand = [i for i, d in enumerate(tdots) if d.get("visible")]
    dx = np.array([_num(d.get("x")) for d in dots], dtype=float)
    dy = np.array([_num(d.get("y")) for d in dots], dtype=float)
    ids: list[int | None] = [None] * len(dots)
    ok = [False] * len(dots)
    for i, j in pair_detections(tx, ty, td, float(visit["px_per_mm"]), dx, dy, cand):
        ids[j] = int(tdots[i]["id"])
        ok[j] = not _num(tdots[i].get("snr")) < LOW_SNR
    return ids, ok


def apply(transform: dict[str, Any], x, y) -> tuple[np.ndarray, np.ndarray]:
    """A similarity x' = a x - b y + tx, y' = b x + a y + ty (smpscope's and the truth's form)."""
    a, b, tx, ty = (float(transform[k]) for k in ("a", "b", "tx", "ty"))
    x, y = np.asarray(x, float), np.asarray(y, float)
    return a * x - b * y + tx, b * x + a * y + ty


def registration_errors(
    transform: dict[str, Any] | None,
    dots: list[dict[str, Any]],
    ids: list[int | None],
    ok: list[bool],
    first_positions: dict[int, tuple[float, float]],
) -> list[float]:
    """Per detected dot matched to a detectable truth dot that the first visit's truth lists:
    the distance, px of the first visit, between the dot carried by `transform` and the truth
    position of its identity at the first visit."""
    if not isinstance(transform, dict):
        return []
    keep = [j for j, (i, k) in enumerate(zip(ids, ok)) if k and i is not None and i in first_positions]
    if not keep:
        return []
    x1, y1 = apply(transform, [_num(dots[j].get("x")) for j in keep], [_num(dots[j].get("y")) for j in keep])
    fx = np.array([first_positions[ids[j]][0] for j in keep])
    fy = np.array([first_positions[ids[j]][1] for j in keep])
    return [float(e) for e in np.hypot(x1 - fx, y1 - fy)]


@dataclass
class PairCounts:
    """Dot pairs across tracked visits (see the module's docstring)."""

    declared: int = 0  # smpscope's pairs, both dots matched to detectable truth dots
    correct: int = 0  # of those, the same truth id
    true: int = 0  # truth pairs detected (matched) at both visits
    detectable: int = 0  # truth pairs detectable at both visits, detected or not
    stray: int = 0  # smpscope's pairs with a dot matched to no truth dot
    low_snr: int = 0  # smpscope's pairs with a dot matched to a low-SNR truth dot (not scored)

    def add(self, other: PairCounts) -> None:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))


def pair_counts(
    matches: list[list[int | None]],
    ids: list[list[int | None]],
    ok: list[list[bool]],
    detectable: list[set[int]],
) -> PairCounts:
    """matches: per identity, its dot index at each tracked visit (None: not found); ids, ok:
    per tracked visit, `identify`'s answer; detectable: per tracked visit, `detectable_ids`."""
    c = PairCounts()
    n = len(ids)
    found = [{i for i, k in zip(ids[v], ok[v]) if k and i is not None} for v in range(n)]
    for u in range(n):
        for t in range(u + 1, n):
            c.true += len(found[u] & found[t])
            c.detectable += len(detectable[u] & detectable[t])
    for m in matches:
        seen = [(v, j) for v, j in enumerate(m[:n]) if j is not None and 0 <= j < len(ids[v])]
        for a in range(len(seen)):
            for b in range(a + 1, len(seen)):
                (u, i), (t, j) = seen[a], seen[b]
                if ids[u][i] is None or ids[t][j] is None:
                    c.stray += 1
                elif not (ok[u][i] and ok[t][j]):
                    c.low_snr += 1
                else:
                    c.declared += 1
                    c.correct += ids[u][i] == ids[t][j]
    return c


def half_life_verdict(true_t: float | None, span_months: float, est: float | None, interval: Any) -> dict[str, Any]:
    """The half-life judged against the truth T: `fade` = 1 - 2^(-span / T) (0 without a fade);
    `judged` where that is MIN_FADE or more; `err` = |est / T - 1| (None without an estimate);
    `within` err <= HALF_LIFE_TOL; `covered` T in the 95 % interval (a null long end: no bound)."""
    t = _num(true_t)
    fade = 1.0 - 2.0 ** (-span_months / t) if t > 0.0 and span_months > 0.0 else 0.0
    e = _num(est)
    out: dict[str, Any] = {"true": t if t > 0.0 else None, "estimate": e if math.isfinite(e) else None}
    out.update(fade=fade, judged=fade >= MIN_FADE, interval=interval)
    out["err"] = abs(e / t - 1.0) if t > 0.0 and math.isfinite(e) and e > 0.0 else None
    out["within"] = out["err"] is not None and out["err"] <= HALF_LIFE_TOL
    covered = False
    if t > 0.0 and isinstance(interval, (list, tuple)) and len(interval) == 2 and interval[0] is not None:
        lo, hi = _num(interval[0]), _num(interval[1])
        covered = lo <= t and (interval[1] is None or t <= hi)
    out["covered"] = covered
    return out


@dataclass
class VisitScore:
    """One visit of a patient (truth order)."""

    index: int
    file: str
    months: float
    shared_detectable: int  # truth dots detectable here and at the first visit
    tracked: bool = False
    track_index: int | None = None
    reason: str | None = None  # why it was left out
    failure: bool = False
    detected: int = 0  # smpscope's dots
    matched: int = 0  # of those, matched to detectable truth dots
    stray: int = 0  # matched to no visible truth dot
    truth_detectable: int = 0
    reg_err_px: list[float] = field(default_factory=list)
    reg_floor_px: list[float] = field(default_factory=list)
    baseline_truth: int | None = None
    baseline_smpscope: int | None = None  # as a truth visit index
    ink_truth: float | None = None
    ink_smpscope: float | None = None
    ink_err_pts: float | None = None
    touch_truth: bool | None = None  # a touch-up since the last tracked visit
    touch_smpscope: bool | None = None
    shift_truth: float | None = None  # truth pigment_shift
    shift_smpscope: float | None = None  # None: not in smpscope's output
    shift_reported: bool = False  # smpscope's visit carries the key
    shift_claim: int = 0  # sign its interval tells, 0: none
    delta_b: float | None = None
    delta_b_claim: int = 0


@dataclass
class PatientScore:
    name: str
    kind: str
    device: str
    skin_type: int | None
    visits: list[VisitScore]
    refused: str | None = None
    pairs: PairCounts = field(default_factory=PairCounts)
    half_life: dict[str, Any] = field(default_factory=dict)
    touch_ups_unseen: int = 0  # true touch-ups at visits left out with no tracked visit after them
    seconds: float = math.nan
    cpu_seconds: float = math.nan
    megapixels: float = 0.0  # all visits' photos
    notes: list[str] = field(default_factory=list)


def score_patient(
    truth: dict[str, Any],
    track: dict[str, Any] | None,
    dots_by_source: dict[str, list[dict[str, Any]]],
    error: str | None = None,
    name: str | None = None,
) -> PatientScore:
    """Scores a smpscope.track/1 document against a heldout.series/1 truth. dots_by_source: each
    tracked visit's analysis `dots` by its `image.source` (or by file name). A refused series
    (track None, `error` why) has every visit left out."""
    tv = truth["visits"]
    s = _blank_score(truth, name)
    span = max((_num(v.get("months")) for v in tv), default=0.0)
    trend = (track or {}).get("trend") or {}
    s.half_life = half_life_verdict(
        truth.get("half_life_months"), span, trend.get("half_life_months"), trend.get("half_life_interval_months")
    )
    if track is None:
        _score_refused(s, tv, error)
    else:
        _score_track(s, tv, track, dots_by_source)
    for v in s.visits:
        v.failure = v.index > 0 and not v.tracked and v.shared_detectable >= FAIL_SHARED
    return s


def _blank_score(truth: dict[str, Any], name: str | None) -> PatientScore:
    """The patient's score before smpscope's track: every visit with its truth figures, none tracked."""
    tv = truth["visits"]
    s = PatientScore(
        name=name or f"p{truth.get('seed')}",
        kind=str(truth.get("kind") or "series"),
        device=str(truth.get("device") or ""),
        skin_type=truth.get("skin_type"),
        visits=[
            VisitScore(
                index=i, file=v["file"], months=_num(v.get("months")), shared_detectable=shared_detectable(truth, i)
            )
            for i, v in enumerate(tv)
        ],
    )
    s.megapixels = sum(_num(v.get("width")) * _num(v.get("height")) for v in tv) / 1e6
    for v, t in zip(s.visits, tv):
        v.ink_truth = _num(t.get("ink_retained")) if t.get("ink_retained") is not None else None
        v.shift_truth = _num(t.get("pigment_shift")) if t.get("pigment_shift") is not None else None
        v.baseline_truth = t.get("baseline_visit")
    return s


def _score_refused(s: PatientScore, tv: list[dict[str, Any]], error: str | None) -> None:
    """Marks a refused series: every visit left out, every later true touch-up unseen."""
    s.refused = error or "no track"
    for v in s.visits:
        v.reason = f"series refused: {s.refused}"
    s.touch_ups_unseen = sum(1 for j in range(1, len(tv)) if tv[j].get("touch_up"))


def _visit_lookup(name: str, tv: list[dict[str, Any]]) -> Callable[[str], int]:
    """The truth visit index of a smpscope source (by file name); ValueError for none of them."""
    by_file = {v["file"]: i for i, v in enumerate(tv)}

    def visit_of(source: str) -> int:
        i = by_file.get(_name(source))
        if i is None:
            raise ValueError(f"{name}: smpscope's visit {source!r} is none of the truth's {sorted(by_file)}")
        return i

    return visit_of


def _score_track(
    s: PatientScore,
    tv: list[dict[str, Any]],
    track: dict[str, Any],
    dots_by_source: dict[str, list[dict[str, Any]]],
) -> None:
    """Scores every visit of smpscope's track into s: left out, tracked (detections, registration,
    claims), the identity pairs and the true touch-ups after the last tracked visit."""
    visit_of = _visit_lookup(s.name, tv)
    for lo in track.get("left_out") or []:
        s.visits[visit_of(lo["source"])].reason = str(lo.get("reason") or "left out")
    reports = track.get("visits") or []
    at = [visit_of(r["source"]) for r in reports]
    by_name = {_name(k): d for k, d in dots_by_source.items()}
    ids_l, ok_l, det_l = [], [], []
    first = tv[at[0]] if at else tv[0]
    first_pos = {int(d["id"]): (_num(d.get("x")), _num(d.get("y"))) for d in first.get("dots") or []}
    for k, (r, i) in enumerate(zip(reports, at)):
        v, t = s.visits[i], tv[i]
        v.tracked, v.track_index, v.reason = True, k, None
        dots, ids, ok, det = _score_detections(s, v, t, by_name.get(_name(r["source"])))
        ids_l.append(ids)
        ok_l.append(ok)
        det_l.append(det)
        if k == 0:
            continue
        _score_registration(v, t, r, at[0], dots, ids, ok, first_pos)
        _score_claims(v, r, at, k, tv)
    for v in s.visits:
        if not v.tracked and v.reason is None:
            v.reason = "not in the track"
    matches = [list(m.get("dots") or []) for m in track.get("matches") or []]
    s.pairs = pair_counts(matches, ids_l, ok_l, det_l)
    last = max(at, default=0)
    s.touch_ups_unseen = sum(1 for j in range(last + 1, len(tv)) if tv[j].get("touch_up"))


def _score_detections(
    s: PatientScore, v: VisitScore, t: dict[str, Any], dots: list[dict[str, Any]] | None
) -> tuple[list[dict[str, Any]], list[int | None], list[bool], set[int]]:
    """(dots, truth ids, matched flags, detectable ids) of one tracked visit, its counts set in v;
    missing dots are noted in s and taken as none."""
    if dots is None:
        s.notes.append(f"{t['file']}: no analysis dots given")
        dots = []
    ids, ok = identify(t, dots)
    det = detectable_ids(t)
    v.detected, v.matched = len(dots), sum(ok)
    v.stray = sum(x is None for x in ids)
    v.truth_detectable = len(det)
    return dots, ids, ok, det


def _score_registration(
    v: VisitScore,
    t: dict[str, Any],
    r: dict[str, Any],
    first_at: int,
    dots: list[dict[str, Any]],
    ids: list[int | None],
    ok: list[bool],
    first_pos: dict[int, tuple[float, float]],
) -> None:
    """Sets v's registration errors through smpscope's transform and, when the track starts at the
    truth's first visit, through the truth's least-squares fit (the floor)."""
    reg = r.get("registration") or {}
    v.reg_err_px = registration_errors(reg.get("transform"), dots, ids, ok, first_pos)
    if first_at == 0 and isinstance(t.get("transform_fit"), dict):
        v.reg_floor_px = registration_errors(t["transform_fit"], dots, ids, ok, first_pos)


def _score_claims(v: VisitScore, r: dict[str, Any], at: list[int], k: int, tv: list[dict[str, Any]]) -> None:
    """Sets v's smpscope claims from its report r (track visit k): baseline, ink, touch-up, pigment
    shift and delta_b, with the truth's touch-up since the previous tracked visit."""
    i = at[k]
    b = r.get("baseline")
    v.baseline_smpscope = at[b] if isinstance(b, int) and 0 <= b < len(at) else None
    ink = r.get("ink_retained")
    v.ink_smpscope = None if ink is None else _num(ink)
    if v.ink_smpscope is not None and v.ink_truth is not None:
        v.ink_err_pts = 100.0 * abs(v.ink_smpscope - v.ink_truth)
    v.touch_truth = any(bool(tv[j].get("touch_up")) for j in range(at[k - 1] + 1, i + 1))
    v.touch_smpscope = bool(r.get("touch_up"))
    v.shift_reported = "pigment_shift" in r
    if r.get("pigment_shift") is not None:
        v.shift_smpscope = _num(r["pigment_shift"])
    v.shift_claim = claimed_sign(r.get("pigment_shift_interval"))
    if r.get("delta_b") is not None:
        v.delta_b = _num(r["delta_b"])
    v.delta_b_claim = claimed_sign(r.get("delta_b_interval"))


def _median(v: list[float]) -> float | None:
    v = [x for x in v if _finite(x)]
    return float(np.median(v)) if v else None


def _p90(v: list[float]) -> float | None:
    v = [x for x in v if _finite(x)]
    return float(np.percentile(v, 90)) if v else None


def _share(num: int, den: int) -> float | None:
    return num / den if den else None


def figures(patients: list[PatientScore]) -> dict[str, Any]:
    """Pools patients: counts summed, registration errors pooled over dots, ink errors over
    visits, the half-life over the patients where it is judged."""
    visits = [v for p in patients for v in p.visits]
    later = [v for v in visits if v.tracked and v.track_index]
    out = _tracking_figures(patients, visits, later)
    out.update(_half_life_figures(patients))
    out.update(_shift_figures(later))
    out.update(_delta_b_figures(later))
    out.update(_retest_figures(patients))
    out.update(_time_figures(patients))
    return out


def _tracking_figures(
    patients: list[PatientScore], visits: list[VisitScore], later: list[VisitScore]
) -> dict[str, Any]:
    """The pooled counts, registration errors, identity pairs, ink errors and touch-ups."""
    pairs = PairCounts()
    for p in patients:
        pairs.add(p.pairs)
    prec, rec = _share(pairs.correct, pairs.declared), _share(pairs.correct, pairs.true)
    f1 = 2.0 * prec * rec / (prec + rec) if prec is not None and rec is not None and prec + rec > 0.0 else None
    reg = [e for v in later for e in v.reg_err_px]
    floor = [e for v in later for e in v.reg_floor_px]
    ink = [v.ink_err_pts for v in later if v.ink_err_pts is not None]
    touch = [v for v in later if v.touch_truth is not None]
    return {
        "patients": len(patients),
        "refused": sum(p.refused is not None for p in patients),
        "visits": len(visits),
        "tracked": sum(v.tracked for v in visits),
        "left_out": sum(not v.tracked for v in visits),
        "failures": sum(v.failure for v in visits),
        "reg_dots": len(reg),
        "reg_median_px": _median(reg),
        "reg_p90_px": _p90(reg),
        "reg_floor_median_px": _median(floor),
        "reg_floor_p90_px": _p90(floor),
        "pairs": vars(pairs).copy(),
        "match_precision": prec,
        "match_recall": rec,
        "match_f1": f1,
        "match_recall_end_to_end": _share(pairs.correct, pairs.detectable),
        "ink_visits": len(ink),
        "ink_no_figure": sum(v.ink_truth is not None and v.ink_smpscope is None for v in later),
        "ink_err_median_pts": _median(ink),
        "ink_err_worst_pts": max(ink) if ink else None,
        "touch_ups_true": sum(bool(v.touch_truth) for v in touch),
        "touch_ups_found": sum(bool(v.touch_truth and v.touch_smpscope) for v in touch),
        "touch_ups_missed": sum(bool(v.touch_truth and not v.touch_smpscope) for v in touch),
        "touch_ups_invented": sum(bool(v.touch_smpscope and not v.touch_truth) for v in touch),
        "touch_ups_unseen": sum(p.touch_ups_unseen for p in patients),
    }


def _big_shift(later: list[VisitScore]) -> list[VisitScore]:
    """The later tracked visits whose true pigment shift is over SHIFT_MIN in size."""
    return [v for v in later if v.shift_truth is not None and abs(v.shift_truth) > SHIFT_MIN]


def _half_life_figures(patients: list[PatientScore]) -> dict[str, Any]:
    """The half-life verdicts pooled over the patients where it is judged."""
    hl = [p.half_life for p in patients if p.half_life.get("judged")]
    return dict(
        half_life_judged=len(hl),
        half_life_within=sum(h["within"] for h in hl),
        half_life_covered=sum(h["covered"] for h in hl),
        half_life_no_estimate=sum(h["estimate"] is None for h in hl),
        half_life_err_median=_median([h["err"] for h in hl if h["err"] is not None]),
    )


def _shift_figures(later: list[VisitScore]) -> dict[str, Any]:
    """smpscope's pigment_shift against the truth's: errors, signs and its interval's claims."""
    reported = [v for v in later if v.shift_reported]
    big_rep = [v for v in _big_shift(later) if v.shift_reported]
    claims = [v for v in big_rep if v.shift_claim]
    errs = [
        abs(v.shift_smpscope - v.shift_truth)
        for v in reported
        if v.shift_smpscope is not None and v.shift_truth is not None
    ]
    signs = [_sign(v.shift_smpscope) == _sign(v.shift_truth) for v in big_rep if v.shift_smpscope is not None]
    return dict(
        shift_reported=bool(reported),
        shift_visits=len(reported),
        shift_err_median=_median(errs),
        shift_err_worst=max(errs) if errs else None,
        shift_big_visits=len(_big_shift(later)),
        shift_sign_ok=_share(sum(signs), len(signs)),
        shift_claimed=_share(len(claims), len(big_rep)),
        shift_claim_ok=_share(sum(v.shift_claim == _sign(v.shift_truth) for v in claims), len(claims)),
        shift_claims_small=sum(
            1 for v in reported if v.shift_claim and v.shift_truth is not None and abs(v.shift_truth) <= SHIFT_MIN
        ),
    )


def _delta_b_figures(later: list[VisitScore]) -> dict[str, Any]:
    """The sign of delta_b (apparent colour) and its interval's claims against the true pigment shift."""
    db = [v for v in _big_shift(later) if v.delta_b is not None]
    db_claims = [v for v in db if v.delta_b_claim]
    return dict(
        delta_b_visits=len(db),
        delta_b_sign_ok=_share(sum(_sign(v.delta_b) == _sign(v.shift_truth) for v in db), len(db)),
        delta_b_claimed=_share(len(db_claims), len(db)),
        delta_b_claim_ok=_share(sum(v.delta_b_claim == _sign(v.shift_truth) for v in db_claims), len(db_claims)),
    )


def _retest_figures(patients: list[PatientScore]) -> dict[str, Any]:
    """What smpscope claims between same-day retest photos (every true change 0)."""
    retest = [v for p in patients if p.kind == "retest" for v in p.visits if v.tracked and v.track_index]
    rink = [v.ink_err_pts for v in retest if v.ink_err_pts is not None]
    return dict(
        retest_visits=len(retest),
        retest_ink_median_pts=_median(rink),
        retest_ink_worst_pts=max(rink) if rink else None,
        retest_touch_claimed=sum(bool(v.touch_smpscope) for v in retest),
        retest_colour_claimed=sum(bool(v.delta_b_claim or v.shift_claim) for v in retest),
    )


def _time_figures(patients: list[PatientScore]) -> dict[str, Any]:
    """smpscope.track's wall-clock and CPU seconds, pooled and per megapixel."""
    timed = [p for p in patients if math.isfinite(p.seconds)]
    secs = [p.seconds for p in timed]
    cpu = [p.cpu_seconds for p in patients if math.isfinite(p.cpu_seconds)]
    mp = sum(p.megapixels for p in timed)
    return dict(
        megapixels=sum(p.megapixels for p in patients),
        seconds_per_mp=sum(secs) / mp if mp > 0.0 and math.isfinite(mp) else None,
        seconds_total=sum(secs) if secs else None,
        seconds_median=_median(secs),
        seconds_max=max(secs) if secs else None,
        cpu_seconds_total=sum(cpu) if cpu else None,
    )


def patient_record(p: PatientScore) -> dict[str, Any]:
    """One patient for the JSON: its figures and every visit."""
    rec: dict[str, Any] = {"patient": p.name, "kind": p.kind, "device": p.device, "skin_type": p.skin_type}
    rec.update(refused=p.refused, seconds=p.seconds, cpu_seconds=p.cpu_seconds, megapixels=p.megapixels)
    rec["notes"] = p.notes
    rec["half_life"] = p.half_life
    rec["figures"] = figures([p])
    rec["visits"] = []
    for v in p.visits:
        d = {k: x for k, x in vars(v).items() if k not in ("reg_err_px", "reg_floor_px")}
        d.update(
            reg_dots=len(v.reg_err_px),
            reg_median_px=_median(v.reg_err_px),
            reg_p90_px=_p90(v.reg_err_px),
            reg_floor_median_px=_median(v.reg_floor_px),
            reg_floor_p90_px=_p90(v.reg_floor_px),
        )
        rec["visits"].append(d)
    return rec
