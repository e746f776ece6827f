"""The printed tables: detection and density, then measurement, overall and per band."""

from __future__ import annotations

import math
import textwrap
from typing import Any, Callable, Optional

Getter = Callable[[dict[str, Any]], Optional[float]]


def _fmt(v: float | None, spec: str, scale: float = 1.0, suffix: str = "") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v * scale:{spec}}{suffix}"


def _get(key: str, sub: str | None = None) -> Getter:
    def g(f: dict[str, Any]) -> float | None:
        v = f.get(key)
        return v.get(sub) if sub is not None and isinstance(v, dict) else v

    return g


# (header, width, getter, format, scale, suffix)
DETECTION = [
    ("photos", 6, _get("photos"), "d", 1, ""),
    ("fail", 4, _get("failed"), "d", 1, ""),
    ("prec", 6, _get("precision"), ".3f", 1, ""),
    ("recall", 6, _get("recall"), ".3f", 1, ""),
    ("F1", 6, _get("f1"), ".3f", 1, ""),
    ("dens_fnd", 8, _get("density_found_err"), ".1f", 100, "%"),
    ("bias_fnd", 8, _get("density_found_bias"), "+.1f", 100, "%"),
    ("dens_tru", 8, _get("density_true_err"), ".1f", 100, "%"),
    ("IoU", 5, _get("region_iou"), ".3f", 1, ""),
    ("SNR<5", 6, _get("low_snr_share"), ".1f", 100, "%"),
    ("rec<5", 6, _get("low_snr_recall"), ".3f", 1, ""),
]
MEASUREMENT = [
    ("D_res", 6, _get("diameter_mae_um_resolved"), ".1f", 1, ""),
    ("D_all", 6, _get("diameter_mae_um_all"), ".1f", 1, ""),
    ("s_res", 6, _get("spread_mae_um_resolved"), ".1f", 1, ""),
    ("s_all", 6, _get("spread_mae_um_all"), ".1f", 1, ""),
    ("fw_res", 6, _get("fwhm_mae_um_resolved"), ".1f", 1, ""),
    ("fw_all", 6, _get("fwhm_mae_um_all"), ".1f", 1, ""),
    ("unres", 6, _get("unresolved_share"), ".1f", 100, "%"),
    ("ciw_D", 6, _get("ci95_width_diameter_um_median"), ".1f", 1, ""),
    ("ink", 6, _get("ink_rel_err"), ".1f", 100, "%"),
    ("dE00", 5, _get("colour_de2000"), ".2f", 1, ""),
    ("cov_xy", 6, lambda f: _mean_of(f["ci95_coverage"].get("x"), f["ci95_coverage"].get("y")), ".2f", 1, ""),
    ("cov_D", 5, _get("ci95_coverage", "diameter_um"), ".2f", 1, ""),
    ("cov_s", 5, _get("ci95_coverage", "spread_um"), ".2f", 1, ""),
    ("cov_od", 6, _get("ci95_coverage", "peak_od"), ".2f", 1, ""),
    ("cov_ink", 7, _get("ci95_coverage", "ink"), ".2f", 1, ""),
]
LEGEND = {
    "detection": (
        "prec/recall/F1: pooled over dots clear of the frame's edge (SNR >= 5 where the truth gives SNR); "
        "dens_fnd: mean |found density / true - 1| (smpscope's own region), bias_fnd its signed mean; "
        "dens_tru: the same counting detections inside the true region over its area; "
        "IoU: found vs true region; SNR<5: share of truth dots under SNR 5, rec<5 their recall"
    ),
    "measurement": (
        "MAE in um of diameter D, spread s, FWHM fw over resolved (_res) and all (_all) matched dots; "
        "unres: share of matched dots flagged unresolved; ciw_D: median 95 % interval width of D, um; "
        "ink: mean |ink/true - 1|; dE00: CIEDE2000 dot lab vs true lab; cov_*: share of matched dots whose "
        "95 % interval holds the truth"
    ),
}


def _mean_of(*vals: float | None) -> float | None:
    v = [x for x in vals if x is not None]
    return sum(v) / len(v) if v else None


def table(title: str, columns, rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    """rows: (condition, band, figures)."""
    head = f"{'condition':<12} {'band':<11}" + "".join(f" {h:>{w}}" for h, w, *_ in columns)
    lines = [title, head]
    for cond, band, f in rows:
        cells = []
        for _, w, get, spec, scale, suffix in columns:
            try:
                v = get(f)
            except (KeyError, TypeError):
                v = None
            cells.append(f" {_fmt(v, spec, scale, suffix):>{w}}")
        lines.append(f"{cond:<12} {band:<11}" + "".join(cells))
    return "\n".join(lines)


def tables(name: str, overall: dict[str, Any], by_band: list[tuple[str, str, dict[str, Any]]]) -> str:
    rows = [("overall", "", overall), *by_band]
    return "\n\n".join(
        [
            table(f"[{name}] detection and density", DETECTION, rows),
            textwrap.fill(LEGEND["detection"], 118, initial_indent="  ", subsequent_indent="  "),
            table(f"[{name}] measurement", MEASUREMENT, rows),
            textwrap.fill(LEGEND["measurement"], 118, initial_indent="  ", subsequent_indent="  "),
        ]
    )
