"""The result of tracking visits: the ``smpscope.track/1`` document and its tables."""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._results import Analysis, _floats, _fmt, _have_pandas, _html_table

_VISIT_FIELDS = (
    "source",
    "date",
    "months",
    "baseline",
    "touch_up",
    "dot_count",
    "density_per_cm2",
    "shared_dots",
    "matched",
    "lost",
    "new",
    "density_retained",
    "ink_retained",
    "spread_growth_um",
    "diameter_change_um",
    "colour_shift_de",
    "delta_b",
    "pigment_shift",
)
_REGISTRATION_FIELDS = ("rotation_deg", "scale", "residual_px", "residual_um", "matched_dots", "shared_dots")
_TRANSFORM_FIELDS = ("a", "b", "tx", "ty")
_CHANGE_FIELDS = ("ink_retained", "spread_growth_um", "diameter_change_um", "delta_e", "delta_b", "pigment_shift")
_DOT_MEASURES = ("diameter_um", "spread_um", "fwhm_um", "peak_od", "ink")


def _column(name: str, values: list[Any]) -> np.ndarray:
    if name == "date":
        return np.asarray(values, dtype="datetime64[D]")
    if name in ("source",):
        return np.asarray(values, dtype=object)
    if name == "touch_up":
        return np.asarray(values, dtype=bool)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    return _floats(values)


def _frame(columns: dict[str, np.ndarray]):
    pd = _have_pandas()
    if pd is None:
        return columns
    df = pd.DataFrame(columns)
    if "date" in df:
        df["date"] = pd.to_datetime(df["date"])
    return df


class Track:
    """Visits of the same scalp area, their dots followed by identity.

    ``visits``: one row per visit in date order, relative to its baseline (the first visit or
    the last touch-up before it): months since the first visit, dot_count, density_per_cm2
    (dots/cm^2), shared/matched/lost/new dots, density_retained and ink_retained (ratios, 1 =
    unchanged: fade), spread_growth_um and diameter_change_um (um), colour_shift_de
    (CIEDE2000 after white balance on the skin) and delta_b (negative = bluer; both NaN where
    a JPEG's dots are too small to keep their colour, with a warning) with its 95 % interval
    delta_b_low..delta_b_high (where it holds 0, the photos do not tell bluer from yellower),
    pigment_shift (the ink's own hue, ln(OD blue / OD red) now minus then: negative = bluer,
    unmoved by fade) with pigment_shift_low..pigment_shift_high, and the
    registration onto the first visit (``registration_*``: rotation_deg, scale, residual_px,
    residual_um, matched_dots, shared_dots, transform_a/b/tx/ty; NaN for the first visit).

    ``dots``: one row per (id, visit) where the dot was seen: its position in the first
    visit's px (x, y), its index in that visit's dots (``dot``), its own measures there
    (x_visit, y_visit px; diameter_um, spread_um, fwhm_um um; peak_od; ink OD*mm^2) and its
    change from its baseline visit (ink_retained, spread_growth_um, diameter_change_um,
    delta_e, delta_b, pigment_shift, lab_balanced_L/a/b; NaN where it has none).

    ``trend``: the exponential fade fitted to ink_retained: half_life_months with its 95 %
    interval, fade_per_year (0..1) and touch_up_due (ISO date, with its interval) when
    ink_retained falls below ``threshold``.
    """

    def __init__(self, document: dict[str, Any], analyses: list[Analysis] | None = None):
        self._doc = document
        self._analyses = list(analyses) if analyses is not None else []

    @classmethod
    def from_json(cls, text: str) -> Track:
        return cls(json.loads(text))

    @property
    def analyses(self) -> list[Analysis]:
        """The analysis of each tracked visit, in visit (date) order (not of those left out)."""
        return list(self._analyses)

    @property
    def summary(self) -> dict[str, Any]:
        """Headline figures: number of visits, first and last date (ISO), the last visit's
        ink_retained and density_retained (ratios to its baseline), spread_growth_um (um) and
        colour_shift_de, touch-up visits, and the trend's half_life_months, fade_per_year
        (0..1) and touch_up_due (ISO date)."""
        v = self._doc["visits"]
        last, t = v[-1], self.trend
        return {
            "visits": len(v),
            "first_date": v[0]["date"],
            "last_date": last["date"],
            "months": last["months"],
            "touch_ups": [i for i, r in enumerate(v) if r["touch_up"]],
            "ink_retained": last["ink_retained"],
            "density_retained": last["density_retained"],
            "spread_growth_um": last["spread_growth_um"],
            "colour_shift_de": last["colour_shift_de"],
            "half_life_months": t.get("half_life_months"),
            "fade_per_year": t.get("fade_per_year"),
            "touch_up_due": t.get("touch_up_due"),
        }

    @property
    def trend(self) -> dict[str, Any]:
        """The fade fit and the touch-up forecast (months, ISO dates)."""
        return self._doc["trend"]

    @property
    def warnings(self) -> list[str]:
        """What the reader should know: visits sharing few dots, no scale..."""
        return list(self._doc["warnings"])

    @property
    def warning_codes(self) -> list[dict[str, str]]:
        """The same warnings with their stable codes: ``[{"code": "visit_left_out", "message": ...}]``."""
        return [dict(w) for w in self._doc.get("warning_codes", [])]

    @property
    def left_out(self) -> list[dict[str, Any]]:
        """Visits that could not be registered onto the first (source, date, reason); they
        are not in ``visits``."""
        return list(self._doc.get("left_out", []))

    @property
    def params(self) -> dict[str, Any]:
        """The tracking parameters used (touch_up_threshold, touch_up_new_dots, touch_up_ink_rise)."""
        return self._doc["params"]

    @property
    def visits(self):
        """One row per visit (pandas DataFrame, or a dict of numpy arrays without pandas)."""
        reports = self._doc["visits"]
        cols: dict[str, np.ndarray] = {"visit": np.arange(len(reports))}
        for f in _VISIT_FIELDS:
            cols[f] = _column(f, [r.get(f) for r in reports])
        for f in ("delta_b", "pigment_shift"):
            intervals = [r.get(f"{f}_interval") or [None, None] for r in reports]
            cols[f"{f}_low"] = _floats(i[0] for i in intervals)
            cols[f"{f}_high"] = _floats(i[1] for i in intervals)
        regs = [r.get("registration") or {} for r in reports]
        for f in _REGISTRATION_FIELDS:
            cols[f"registration_{f}"] = _floats(g.get(f) for g in regs)
        for f in _TRANSFORM_FIELDS:
            cols[f"registration_transform_{f}"] = _floats((g.get("transform") or {}).get(f) for g in regs)
        return _frame(cols)

    @property
    def dots(self):
        """One row per (id, visit) where the dot was seen (see the class docstring)."""
        reports = self._doc["visits"]
        docs = [a._doc["dots"] for a in self._analyses] if len(self._analyses) == len(reports) else None
        rows: dict[str, list[Any]] = {k: [] for k in ("id", "visit", "date", "months", "x", "y", "first_visit", "dot")}
        extra = (
            "x_visit",
            "y_visit",
            *_DOT_MEASURES,
            *_CHANGE_FIELDS,
            "lab_balanced_L",
            "lab_balanced_a",
            "lab_balanced_b",
        )
        rows.update({k: [] for k in extra})
        for m in self._doc["matches"]:
            for v, idx in enumerate(m["dots"]):
                if idx is None:
                    continue
                rows["id"].append(m["id"])
                rows["visit"].append(v)
                rows["date"].append(reports[v]["date"])
                rows["months"].append(reports[v]["months"])
                rows["x"].append(m["x"])
                rows["y"].append(m["y"])
                rows["first_visit"].append(m["first_visit"])
                rows["dot"].append(idx)
                d = docs[v][idx] if docs is not None else {}
                rows["x_visit"].append(d.get("x"))
                rows["y_visit"].append(d.get("y"))
                for f in _DOT_MEASURES:
                    rows[f].append(d.get(f))
                c = m["changes"][v] or {}
                for f in _CHANGE_FIELDS:
                    rows[f].append(c.get(f))
                lab = c.get("lab_balanced") or (None, None, None)
                for k, val in zip(("L", "a", "b"), lab):
                    rows[f"lab_balanced_{k}"].append(val)
        cols: dict[str, np.ndarray] = {}
        for k, vals in rows.items():
            if k in ("id", "visit", "first_visit", "dot"):
                cols[k] = np.asarray(vals, dtype=np.int64)
            elif k == "date":
                cols[k] = np.asarray(vals, dtype="datetime64[D]")
            else:
                cols[k] = _floats(vals)
        return _frame(cols)

    def to_json(self, indent: int | None = 2) -> str:
        """The ``smpscope.track/1`` JSON document (the same as ``smpscope track`` writes)."""
        return json.dumps(self._doc, indent=indent)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._doc))

    def plot_fade(self, ax=None):
        """Plots ink_retained over months (matplotlib): the visits, the fitted exponential fade
        from each baseline, the touch-up threshold and the forecast date. Returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        reports = self._doc["visits"]
        t = self.trend
        months = np.array([r["months"] for r in reports])
        ink = _floats(r["ink_retained"] for r in reports)
        tu = np.array([r["touch_up"] for r in reports], dtype=bool)
        ax.plot(months[~tu], ink[~tu], "o", color="C0", label="ink retained (vs baseline)")
        if tu.any():
            ax.plot(months[tu], ink[tu], "o", mfc="none", color="C2", label="touch-up visit (vs the old baseline)")
        for _i, r in enumerate(reports):
            if r["touch_up"]:
                ax.axvline(r["months"], color="C2", ls=":", lw=1)
                ax.annotate(
                    "touch-up", (r["months"], 1.0), textcoords="offset points", xytext=(3, 5), color="C2", fontsize=8
                )
        half = t.get("half_life_months")
        baselines = [0] + [i for i, r in enumerate(reports) if r["touch_up"]]
        if half:
            first = _dt.date.fromisoformat(reports[0]["date"])
            due = t.get("touch_up_due")
            due_m = (_dt.date.fromisoformat(due) - first).days / (365.2425 / 12) if due else months[-1]
            for k, b in enumerate(baselines):
                end = months[baselines[k + 1]] if k + 1 < len(baselines) else max(months[-1], due_m)
                tt = np.linspace(months[b], end, 100)
                ax.plot(tt, 2.0 ** (-(tt - months[b]) / half), "-", color="C1", label="fit" if k == 0 else None)
            if due:
                ax.axvline(due_m, color="C3", ls="--", lw=1, label=f"touch-up due {due}")
        ax.axhline(t["threshold"], color="C3", lw=0.8, alpha=0.6, label=f"threshold {t['threshold']:g}")
        ax.set_xlabel("months since the first visit")
        ax.set_ylabel("ink retained")
        ax.set_ylim(0, max(1.1, float(np.nanmax(ink)) + 0.05) if np.isfinite(ink).any() else 1.1)
        title = f"fade: half-life {half:.1f} months" if half else "fade"
        ax.set_title(title)
        ax.legend(fontsize=8)
        return ax

    def __getstate__(self):
        return {"doc": self._doc, "analyses": self._analyses}

    def __setstate__(self, state):
        self._doc = state["doc"]
        self._analyses = state["analyses"]

    def __eq__(self, other) -> bool:
        return isinstance(other, Track) and self._doc == other._doc

    __hash__ = None  # type: ignore[assignment]

    def _headline(self) -> str:
        v = self._doc["visits"]
        t = self.trend
        last = v[-1]
        parts = [f"{len(v)} visits {v[0]['date']}..{last['date']}"]
        if last["ink_retained"] is not None:
            parts.append(f"ink retained {last['ink_retained']:.2f} at the last visit")
        if t.get("half_life_months"):
            lo, hi = t["half_life_interval_months"]
            parts.append(f"half-life {t['half_life_months']:.1f} months (95 % {_fmt(lo, '.1f')}-{_fmt(hi, '.1f')})")
        if t.get("touch_up_due"):
            parts.append(f"touch-up due {t['touch_up_due']}")
        elif t.get("note"):
            parts.append(t["note"])
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"<smpscope.Track {self._headline()}>"

    def _repr_html_(self) -> str:
        rows: list[Sequence[Any]] = []
        for i, r in enumerate(self._doc["visits"]):
            reg = r.get("registration") or {}
            rows.append(
                (
                    i,
                    r["date"],
                    f"{r['months']:.1f}",
                    "yes" if r["touch_up"] else "",
                    r["dot_count"],
                    _fmt(r["density_per_cm2"], ".1f"),
                    f"{r['matched']}/{r['shared_dots']}",
                    _fmt(r["ink_retained"], ".3f"),
                    _fmt(r["spread_growth_um"], ".1f"),
                    _fmt(r["colour_shift_de"], ".2f"),
                    _fmt(reg.get("residual_um"), ".1f"),
                )
            )
        header = (
            "visit",
            "date",
            "months",
            "touch-up",
            "dots",
            "dots/cm²",
            "matched",
            "ink retained",
            "spread growth µm",
            "ΔE00",
            "registration residual µm",
        )
        warn = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return (
            f"<b>smpscope track</b>: {html.escape(self._headline())}"
            + _html_table(rows, header)
            + (f"<ul>{warn}</ul>" if warn else "")
        )
