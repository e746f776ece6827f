"""The printed tables of benches/track_accuracy.py: per patient and overall, series and retests
apart, the visits left out with their reasons and (with -v) every visit."""

from __future__ import annotations

import math
import textwrap
from typing import Any, Callable, Union

from .report import _fmt
from .track_scoring import FAIL_SHARED, PatientScore, VisitScore, _median

Cell = Union[float, int, str, None]
# (header, width, getter of a row (figures, patient or None), format, scale, suffix)
Column = tuple[str, int, Callable[[dict[str, Any], Union[PatientScore, None]], Cell], str, float, str]


def _f(key: str) -> Callable[[dict[str, Any], PatientScore | None], Cell]:
    return lambda f, p: f.get(key)


def _ratio(num: str, den: str) -> Callable[[dict[str, Any], PatientScore | None], Cell]:
    def g(f: dict[str, Any], p: PatientScore | None) -> Cell:
        return f"{f[num]}/{f[den]}" if f.get(den) else "-"

    return g


def _hl(key: str) -> Callable[[dict[str, Any], PatientScore | None], Cell]:
    """A patient's half-life field (overall rows: blank)."""

    def g(f: dict[str, Any], p: PatientScore | None) -> Cell:
        return None if p is None else p.half_life.get(key)

    return g


def _hl_flag(key: str) -> Callable[[dict[str, Any], PatientScore | None], Cell]:
    """A patient's half-life verdict: yes/no where judged, '-' where not; overall rows: k/n."""

    def g(f: dict[str, Any], p: PatientScore | None) -> Cell:
        if p is None:
            return f"{f[f'half_life_{key}']}/{f['half_life_judged']}" if f["half_life_judged"] else "-"
        return ("yes" if p.half_life[key] else "no") if p.half_life.get("judged") else "-"

    return g


def _shift(key: str) -> Callable[[dict[str, Any], PatientScore | None], Cell]:
    """Pigment-shift figures: n/a until smpscope's output carries pigment_shift."""

    def g(f: dict[str, Any], p: PatientScore | None) -> Cell:
        return f.get(key) if f.get("shift_reported") else None

    return g


def _yes(key: str) -> Callable[[dict[str, Any], PatientScore | None], Cell]:
    def g(f: dict[str, Any], p: PatientScore | None) -> Cell:
        if p is None:
            return f"{f[key]}/{f['retest_visits']}"
        return ("yes" if f[key] else "no") if f["retest_visits"] else "-"

    return g


TRACKING: list[Column] = [
    ("dev", 5, lambda f, p: "" if p is None else p.device[:5], "", 1, ""),
    ("skin", 4, lambda f, p: None if p is None else p.skin_type, "d", 1, ""),
    ("visits", 6, _f("visits"), "d", 1, ""),
    ("trk", 4, _f("tracked"), "d", 1, ""),
    ("out", 4, _f("left_out"), "d", 1, ""),
    ("fail", 4, _f("failures"), "d", 1, ""),
    ("reg_med", 7, _f("reg_median_px"), ".2f", 1, ""),
    ("reg_p90", 7, _f("reg_p90_px"), ".2f", 1, ""),
    ("fit_med", 7, _f("reg_floor_median_px"), ".2f", 1, ""),
    ("fit_p90", 7, _f("reg_floor_p90_px"), ".2f", 1, ""),
    ("m_prec", 6, _f("match_precision"), ".3f", 1, ""),
    ("m_rec", 6, _f("match_recall"), ".3f", 1, ""),
    ("m_F1", 6, _f("match_f1"), ".3f", 1, ""),
    ("e2e_rec", 7, _f("match_recall_end_to_end"), ".3f", 1, ""),
    ("stray", 6, lambda f, p: f["pairs"]["stray"], "d", 1, ""),
    ("sec", 6, lambda f, p: f["seconds_total"], ".0f", 1, ""),
    ("cpu_s", 6, lambda f, p: f["cpu_seconds_total"], ".0f", 1, ""),
    ("s/MP", 5, lambda f, p: f["seconds_per_mp"], ".1f", 1, ""),
]
CHANGE: list[Column] = [
    ("ink_med", 7, _f("ink_err_median_pts"), ".2f", 1, ""),
    ("ink_max", 7, _f("ink_err_worst_pts"), ".2f", 1, ""),
    ("tu", 3, _f("touch_ups_true"), "d", 1, ""),
    ("found", 5, _f("touch_ups_found"), "d", 1, ""),
    ("miss", 4, _f("touch_ups_missed"), "d", 1, ""),
    ("invent", 6, _f("touch_ups_invented"), "d", 1, ""),
    ("unseen", 6, _f("touch_ups_unseen"), "d", 1, ""),
    ("fade", 5, _hl("fade"), ".0f", 100, "%"),
    ("T_true", 6, _hl("true"), ".1f", 1, ""),
    ("T_smp", 6, _hl("estimate"), ".1f", 1, ""),
    ("T_err", 6, lambda f, p: f["half_life_err_median"] if p is None else p.half_life.get("err"), ".1f", 100, "%"),
    ("hl15", 5, _hl_flag("within"), "", 1, ""),
    ("hl_cov", 6, _hl_flag("covered"), "", 1, ""),
    ("ps_err", 6, _shift("shift_err_median"), ".3f", 1, ""),
    ("ps_sgn", 6, _shift("shift_sign_ok"), ".0f", 100, "%"),
    ("ps_clm", 6, _shift("shift_claimed"), ".0f", 100, "%"),
    ("clm_ok", 6, _shift("shift_claim_ok"), ".0f", 100, "%"),
    ("db_sgn", 6, _f("delta_b_sign_ok"), ".0f", 100, "%"),
    ("db_clm", 6, _f("delta_b_claimed"), ".0f", 100, "%"),
    ("dbc_ok", 6, _f("delta_b_claim_ok"), ".0f", 100, "%"),
]
RETEST: list[Column] = [
    ("dev", 5, lambda f, p: "" if p is None else p.device[:5], "", 1, ""),
    ("skin", 4, lambda f, p: None if p is None else p.skin_type, "d", 1, ""),
    ("trk", 4, _f("tracked"), "d", 1, ""),
    ("out", 4, _f("left_out"), "d", 1, ""),
    ("fail", 4, _f("failures"), "d", 1, ""),
    ("reg_med", 7, _f("reg_median_px"), ".2f", 1, ""),
    ("reg_p90", 7, _f("reg_p90_px"), ".2f", 1, ""),
    ("fit_med", 7, _f("reg_floor_median_px"), ".2f", 1, ""),
    ("m_F1", 6, _f("match_f1"), ".3f", 1, ""),
    ("e2e_rec", 7, _f("match_recall_end_to_end"), ".3f", 1, ""),
    ("ink_pts", 7, _f("retest_ink_median_pts"), ".2f", 1, ""),
    ("ink_max", 7, _f("retest_ink_worst_pts"), ".2f", 1, ""),
    ("touch", 5, _yes("retest_touch_claimed"), "", 1, ""),
    ("colour", 6, _yes("retest_colour_claimed"), "", 1, ""),
    ("sec", 6, lambda f, p: f["seconds_total"], ".0f", 1, ""),
    ("s/MP", 5, lambda f, p: f["seconds_per_mp"], ".1f", 1, ""),
]
LEGEND = {
    "tracking": (
        "visits/trk/out: visits, tracked, left out (a refused series: all); fail: later visits left out while "
        f"sharing >= {FAIL_SHARED} detectable dots (visible, SNR >= 5) with the first; reg_med/reg_p90: median and "
        "90th percentile over the matched dots of |smpscope's transform(detected dot) - truth position of that id at "
        "the first visit|, px of the first visit; fit_*: the same through the truth's least-squares similarity "
        "(transform_fit: the floor for any similarity); m_prec/m_rec/m_F1: smpscope's same-identity pairs over all "
        "pairs of tracked visits, right when both dots match the same truth id, recall over truth pairs detected at "
        "both visits; e2e_rec: recall over truth pairs detectable at both (detection misses count); stray: "
        "smpscope pairs with a dot that matches no truth dot (not scored); sec/cpu_s: smpscope.track wall clock and "
        "CPU seconds (analysis included), s/MP: wall-clock seconds per megapixel of the visits' photos"
    ),
    "change": (
        "ink_med/ink_max: 100 x |ink_retained - truth| per later tracked visit, median and worst, points; "
        "tu/found/miss/invent: true touch-ups at tracked visits (one at a visit left out shows at the next tracked "
        "visit), found, missed, invented by smpscope; unseen: true touch-ups with no tracked visit at or after them; "
        "fade: truth 1 - 2^(-span/T); T_true/T_smp: half-life, months; T_err: |T_smp/T_true - 1| (overall: median); "
        "hl15: within 15 %, hl_cov: truth in smpscope's 95 % interval, judged where fade >= 20 % (overall: k/judged); "
        "ps_*: smpscope pigment_shift (n/a until its output has it): median |error|, sign right, share of visits "
        "with true |shift| > 0.02 whose interval claims a sign, claims right; db_sgn: sign of delta_b (apparent "
        "colour) vs the truth pigment_shift at visits with true |shift| > 0.02, db_clm/dbc_ok: its interval's claims"
    ),
    "retest": (
        "same-day repeat photos (every true change 0): ink_pts/ink_max: 100 x |ink_retained - 1.00|; touch: "
        "touch-up claimed; colour: a colour sign claimed (delta_b or pigment_shift interval leaving out 0)"
    ),
}


def _cell(v: Cell, spec: str, scale: float, suffix: str) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int) and spec.endswith("f"):
        v = float(v)
    return _fmt(v, spec, scale, suffix)


def table(title: str, columns: list[Column], rows: list[tuple[str, dict[str, Any], PatientScore | None]]) -> str:
    """rows: (label, figures, the patient or None for a pooled row)."""
    head = f"{'patient':<9}" + "".join(f" {h:>{w}}" for h, w, *_ in columns)
    lines = [title, head]
    for label, f, p in rows:
        cells = []
        for _, w, get, spec, scale, suffix in columns:
            try:
                v = get(f, p)
            except (KeyError, TypeError):
                v = None
            cells.append(f" {_cell(v, spec, scale, suffix):>{w}}")
        lines.append(f"{label:<9}" + "".join(cells))
    return "\n".join(lines)


def _legend(key: str) -> str:
    return textwrap.fill(LEGEND[key], 118, initial_indent="  ", subsequent_indent="  ")


def tables(
    series: list[tuple[PatientScore, dict[str, Any]]],
    retest: list[tuple[PatientScore, dict[str, Any]]],
    overall_series: dict[str, Any],
    overall_retest: dict[str, Any],
) -> str:
    out = []
    if series:
        rows = [(p.name, f, p) for p, f in series] + [("overall", overall_series, None)]
        out += [table("[series] visits, registration and matching", TRACKING, rows), _legend("tracking")]
        out += [table("[series] fade, touch-ups, half-life and colour", CHANGE, rows), _legend("change")]
    if retest:
        rows = [(p.name, f, p) for p, f in retest] + [("overall", overall_retest, None)]
        out += [table("[retest] same-day repeat photos", RETEST, rows), _legend("retest")]
    return "\n\n".join(out)


def left_out(patients: list[PatientScore]) -> str:
    """Every visit left out, with its reason and whether it counts as a failure (a refused
    series: its reason once, then its visits)."""
    lines = []
    count = 0
    for p in patients:
        out = [v for v in p.visits if not v.tracked]
        count += len(out)
        if p.refused is not None:
            lines.append(f"  {p.name} refused, {sum(v.failure for v in out)} failure(s): {p.refused}")
            cells = [f"{v.file} {'first' if v.index == 0 else 'FAILURE' if v.failure else 'ok'}" for v in out]
            shares = [f"{v.shared_detectable}" for v in out]
            lines.append(f"      {', '.join(cells)}; detectable dots shared with the first: {', '.join(shares)}")
            continue
        for v in out:
            mark = "FAILURE" if v.failure else "ok"
            lines.append(
                f"  {p.name}/{v.file} {mark}, shares {v.shared_detectable} detectable dots with the first: {v.reason}"
            )
    return "visits left out: " + (f"{count}\n" + "\n".join(lines) if lines else "none")


def _v(x: float | None, spec: str) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def visit_table(patients: list[PatientScore]) -> str:
    """One line per visit (with -v)."""
    head = (
        f"{'patient':<8} {'visit':<12} {'months':>6} {'trk':>3} {'share':>5} {'found':>5} {'truth':>5} {'stray':>5} "
        f"{'reg_med':>7} {'fit_med':>7} {'base':>4} {'b_smp':>5} {'ink_t':>6} {'ink_s':>6} {'tu_t':>4} {'tu_s':>4} "
        f"{'ps_t':>7} {'ps_s':>7} {'db':>6} {'db_c':>4}"
    )
    lines = ["per visit", head]

    def yn(b: bool | None) -> str:
        return "-" if b is None else ("yes" if b else "no")

    for p in patients:
        for v in p.visits:
            vs: VisitScore = v
            lines.append(
                f"{p.name:<8} {vs.file:<12} {vs.months:>6.1f} {yn(vs.tracked):>3} {vs.shared_detectable:>5} "
                f"{vs.matched:>5} {vs.truth_detectable:>5} {vs.stray:>5} {_v(_median(vs.reg_err_px), '.2f'):>7} "
                f"{_v(_median(vs.reg_floor_px), '.2f'):>7} {_v(vs.baseline_truth, 'd'):>4} "
                f"{_v(vs.baseline_smpscope, 'd'):>5} {_v(vs.ink_truth, '.3f'):>6} {_v(vs.ink_smpscope, '.3f'):>6} "
                f"{yn(vs.touch_truth):>4} {yn(vs.touch_smpscope):>4} {_v(vs.shift_truth, '+.3f'):>7} "
                f"{_v(vs.shift_smpscope, '+.3f'):>7} {_v(vs.delta_b, '+.2f'):>6} {vs.delta_b_claim:>+4d}"
            )
    legend = (
        "share: truth dots detectable here and at the first visit; found: smpscope dots matched to detectable truth "
        "dots (truth: detectable truth dots); stray: smpscope dots matching no visible truth dot; reg_med/fit_med: "
        "median registration error of smpscope and of the truth's transform_fit, px; base/b_smp: baseline visit of "
        "the truth and of smpscope (truth index); ink_t/ink_s: ink_retained; tu: touch-up; ps: pigment_shift; "
        "db: delta_b, db_c the sign its interval claims"
    )
    lines.append(textwrap.fill(legend, 118, initial_indent="  ", subsequent_indent="  "))
    return "\n".join(lines)
