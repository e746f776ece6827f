#!/usr/bin/env python3
"""Single-photo accuracy of smpscope against two generators' exact truth: the project's own
(smpscope-synth, which smpscope is tuned on) and the held-out one (benches/heldout, written apart
from smpscope), overall and per condition band; optionally against sep (Source Extractor) as a
baseline detector, with the time each takes.

    python benches/accuracy.py --generator own|heldout|both --seed S --count N [--max-px 2000]
        [--sep] [--out results.json] [--photos DIR] [--threads T]

The photos are made once into target/accuracy/<gen>-<seed>/ (reused while they match: see
accuracy_lib/generators.py) or read from --photos DIR (the generator then follows from the truth
files). Each photo is analysed with the installed smpscope package, given the truth's scale and
camera blur as a calibrated device profile would give them; a photo whose analysis raises has
all its dots missed and is listed. Matching and the edge rules are those of
crates/smpscope-synth/src/evaluate.rs (see accuracy_lib/scoring.py). Figures that smpscope's
output does not carry yet (per-dot 95 % intervals `ci95`, per-dot `flags` with "unresolved",
the found region's `summary.region.polygon`) print as n/a and are picked up once they appear.
Every figure goes to --out as JSON too.

Bench-only dependencies: benches/requirements.txt (sep and Pillow, for --sep).
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from accuracy_lib import bands as bands_mod
from accuracy_lib import generators, report, scoring

ROOT = generators.ROOT


def analyse(photo: generators.Photo, threads: int | None) -> tuple[dict | None, str | None, float, float]:
    """(document, error, wall-clock seconds, CPU seconds) of smpscope on one photo."""
    import smpscope

    t = photo.truth
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        a = smpscope.analyze(
            str(photo.path), px_per_mm=t["px_per_mm"], camera_blur_um=t.get("camera_blur_um"), threads=threads
        )
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        doc = a.to_dict() if hasattr(a, "to_dict") else json.loads(a.to_json())
        return doc, None, seconds, cpu
    except Exception as e:
        return None, f"{type(e).__name__}: {e}", time.perf_counter() - t0, time.process_time() - c0


def _clean(v: Any) -> Any:
    """JSON-safe: NaN and infinities become null."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def _median(v: list[float]) -> float | None:
    v = [x for x in v if math.isfinite(x)]
    return statistics.median(v) if v else None


def _ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.0f}"


def photo_record(p: generators.Photo, s: scoring.PhotoScore) -> dict[str, Any]:
    """One photo's figures for the JSON."""
    f = scoring.figures([s])
    keep = ("truth_dots", "detected", "matched", "precision", "recall", "f1", "region_iou")
    rec = {"photo": str(p.path.relative_to(ROOT)) if p.path.is_relative_to(ROOT) else str(p.path)}
    rec.update(seed=p.truth.get("seed"), failed=s.failed, seconds=s.seconds, cpu_seconds=s.cpu_seconds)
    rec["megapixels"] = s.megapixels
    rec.update({k: f[k] for k in keep})
    rec.update(density_found_bias=s.density_found_bias, density_true_bias=s.density_true_bias)
    rec.update(low_snr_dots=s.low_snr_dots, low_snr_matched=s.low_snr_matched)
    rec.update(diameter_mae_um=f["diameter_mae_um_all"], ink_rel_err=f["ink_rel_err"])
    rec["bands"] = dict(bands_mod.bands(p.truth))
    return rec


@dataclass
class SepRuns:
    """sep's matches and times per threshold k over the photos it read, and its errors."""

    ks: tuple[float, ...]
    matches: dict[float, list[scoring.Match]] = field(default_factory=dict)
    ms_per_mp: dict[float, list[float]] = field(default_factory=dict)
    cpu_per_mp: dict[float, list[float]] = field(default_factory=dict)
    mp: list[float] = field(default_factory=list)  # megapixels of the photos sep read
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for d in (self.matches, self.ms_per_mp, self.cpu_per_mp):
            d.update({k: [] for k in self.ks})


def run_sep(p: generators.Photo, s: scoring.PhotoScore, sep: SepRuns) -> str:
    """Runs sep on one photo into sep; returns the progress line's note on it."""
    from accuracy_lib import sep_baseline

    ks = sep.ks
    try:
        sr = sep_baseline.run(p.path, float(p.truth["px_per_mm"]), ks)
    except Exception as e:  # an unreadable photo: every dot missed, as for smpscope
        nan = dict.fromkeys(ks, math.nan)
        sr = {"xy": {k: ([], []) for k in ks}, "ms": nan, "cpu_ms": nan, "errors": {"all": str(e)}}
    sep.mp.append(s.megapixels)
    for k in ks:
        sep.matches[k].append(scoring.match(p.truth, *sr["xy"][k]))
        sep.ms_per_mp[k].append(sr["ms"][k] / s.megapixels)
        sep.cpu_per_mp[k].append(sr["cpu_ms"][k] / s.megapixels)
    sep.errors += [f"{p.path.name} k={k}: {e}" for k, e in sr["errors"].items()]
    return f"; sep@{ks[1]}: {sep.matches[ks[1]][-1].matched} matched, {sep.matches[ks[1]][-1].detected}"


def score_all(gen: str, photos: list[generators.Photo], args, sep: SepRuns) -> list[scoring.PhotoScore]:
    """Analyses and scores every photo (and runs sep on it with --sep), one progress line each on stderr."""
    scores: list[scoring.PhotoScore] = []
    for n, p in enumerate(photos, 1):
        doc, err, seconds, cpu = analyse(p, args.threads)
        s = scoring.score_photo(p.truth, doc, p.path.name, err)
        s.seconds, s.cpu_seconds = seconds, cpu
        scores.append(s)
        line = f"[{gen}] {n}/{len(photos)} {p.path.name}: {s.matched}/{s.truth_dots} matched, {s.detected} counted"
        if args.sep:
            line += run_sep(p, s, sep)
        print(line + (f"  FAILED {err}" if err else ""), file=sys.stderr, flush=True)
    return scores


def print_quality(
    gen: str, photos: list[generators.Photo], scores: list[scoring.PhotoScore]
) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]], list[tuple[str, str]]]:
    """Prints the tables, the low-SNR dots and the failed photos; returns (overall figures,
    figures by condition band, failed photos with their errors)."""
    overall = scoring.figures(scores)
    by_band = [
        (c, b, scoring.figures(v)) for c, b, v in bands_mod.group([(p.truth, s) for p, s in zip(photos, scores)])
    ]
    print()
    print(report.tables(gen, overall, by_band))
    if overall["low_snr_dots"] is not None:
        low, rec = overall["low_snr_dots"], overall["low_snr_recall"]
        share = overall["low_snr_share"]
        print(
            f"\n[{gen}] truth dots under SNR 5, scored apart: {low} ({100 * share:.1f} % of the dots), "
            f"recall {'n/a' if rec is None else f'{rec:.3f}'}"
        )
    failed = [(s.name, s.failed) for s in scores if s.failed]
    print(f"\n[{gen}] photos whose analysis failed: {len(failed)}")
    for name, e in failed:
        print(f"  {name}: {e}")
    return overall, by_band, failed


def smpscope_times(scores: list[scoring.PhotoScore]) -> tuple[float | None, float | None, float | None]:
    """smpscope's ms per megapixel over the photos it analysed: (median wall clock, median CPU,
    all photos together wall clock)."""
    smp_ms = _median([1000.0 * s.seconds / s.megapixels for s in scores if s.failed is None])
    smp_cpu = _median([1000.0 * s.cpu_seconds / s.megapixels for s in scores if s.failed is None])
    ok = [s for s in scores if s.failed is None]
    mp = sum(s.megapixels for s in ok)
    smp_pooled = 1000.0 * sum(s.seconds for s in ok) / mp if mp else None
    return smp_ms, smp_cpu, smp_pooled


def sep_figures(
    gen: str, sep: SepRuns, smp_f1: float, smp: tuple[float | None, float | None, float | None], threads: str
) -> dict[str, Any]:
    """Prints sep's figures per threshold and against smpscope's (F1, times smp); returns them for the JSON."""
    ks = sep.ks
    smp_ms, smp_cpu, smp_pooled = smp
    per_k = {k: scoring.detection_f1(sep.matches[k]) for k in ks}
    best = max(ks, key=lambda k: per_k[k]["f1"])
    sep_ms = _median(sep.ms_per_mp[best])
    sep_cpu = _median(sep.cpu_per_mp[best])
    done = [(t * m, m) for t, m in zip(sep.ms_per_mp[best], sep.mp) if math.isfinite(t)]
    sep_pooled = sum(t for t, _ in done) / sum(m for _, m in done) if done else None
    print(f"\n[{gen}] sep baseline (threshold k * globalrms on -log10 Y, background taken off; same matching):")
    for k in ks:
        f = per_k[k]
        mark = "  <- best" if k == best else ""
        print(f"  k={k:<4} precision {f['precision']:.3f} recall {f['recall']:.3f} F1 {f['f1']:.3f}{mark}")
    print(
        f"  sep F1 at its best k ({best}): {per_k[best]['f1']:.3f}   smpscope F1: {smp_f1:.3f}\n"
        f"  time per photo, ms per megapixel (medians), wall clock / CPU: sep {_ms(sep_ms)} / {_ms(sep_cpu)} "
        f"(decode + background + extract, 1 thread), smpscope {_ms(smp_ms)} / {_ms(smp_cpu)} ({threads});\n"
        f"  all photos together, wall clock: sep {_ms(sep_pooled)} ms/MP, smpscope {_ms(smp_pooled)} ms/MP"
    )
    for e in sep.errors:
        print(f"  sep error: {e}")
    return {
        "per_k": {
            str(k): {
                **per_k[k],
                "ms_per_mp_median": _median(sep.ms_per_mp[k]),
                "cpu_ms_per_mp_median": _median(sep.cpu_per_mp[k]),
            }
            for k in ks
        },
        "best_k": best,
        "f1": per_k[best]["f1"],
        "ms_per_mp_median": sep_ms,
        "cpu_ms_per_mp_median": sep_cpu,
        "ms_per_mp_pooled": sep_pooled,
        "errors": sep.errors,
    }


def run_generator(gen: str, photos: list[generators.Photo], args) -> dict[str, Any]:
    """Analyses, scores and prints one generator's set; returns its figures."""
    sep = SepRuns(tuple(args.sep_k))
    scores = score_all(gen, photos, args, sep)
    overall, by_band, failed = print_quality(gen, photos, scores)
    smp = smpscope_times(scores)
    smp_ms, smp_cpu, smp_pooled = smp
    out: dict[str, Any] = {
        "photos": len(photos),
        "overall": overall,
        "bands": [{"condition": c, "band": b, **f} for c, b, f in by_band],
        "failed": [{"photo": n, "error": e} for n, e in failed],
        "smpscope_ms_per_mp_median": smp_ms,
        "smpscope_cpu_ms_per_mp_median": smp_cpu,
        "smpscope_ms_per_mp_pooled": smp_pooled,
        "threads": args.threads,
        "per_photo": [photo_record(p, s) for p, s in zip(photos, scores)],
    }
    threads = "all cores" if args.threads is None else f"{args.threads} thread(s)"
    print(
        f"\n[{gen}] smpscope time per photo: {_ms(smp_ms)} ms/MP wall clock, {_ms(smp_cpu)} ms/MP CPU "
        f"(medians, {threads}, decode included); all photos together {_ms(smp_pooled)} ms/MP wall clock"
    )
    if args.sep:
        out["sep"] = sep_figures(gen, sep, overall["f1"], smp, threads)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--generator", choices=["own", "heldout", "both"], default="own")
    ap.add_argument("--seed", type=int, default=1000, help="seed of the first photo")
    ap.add_argument("--count", type=int, default=12, help="photos per generator")
    ap.add_argument("--max-px", type=int, default=2000, help="longest side of the photos, px")
    ap.add_argument("--sep", action="store_true", help="also run the sep baseline on the same photos")
    ap.add_argument("--sep-k", type=float, nargs="+", default=[1.5, 2.0, 3.0, 5.0, 8.0], help="sep thresholds")
    ap.add_argument("--out", type=pathlib.Path, help="write every figure here as JSON")
    ap.add_argument(
        "--photos", type=pathlib.Path, help="score every photo + truth in this folder as it is (no --seed, --count)"
    )
    ap.add_argument("--threads", type=int, help="threads smpscope uses (default: all cores)")
    args = ap.parse_args(argv)
    if args.count < 1:
        ap.error("--count must be at least 1")

    gens = ["own", "heldout"] if args.generator == "both" else [args.generator]
    given: list[generators.Photo] = []
    if args.photos is not None:
        # The generator follows from the truth files; --generator only picks among them.
        given = generators.read_set(args.photos)
        found = sorted({p.generator for p in given})
        gens = [g for g in gens if g in found] or found
    results: dict[str, Any] = {"schema": "smpscope-bench.accuracy/1", "args": vars(args), "generators": {}}
    try:
        import smpscope

        results["smpscope_version"] = getattr(smpscope, "__version__", None)
    except ImportError as e:
        print(f"accuracy: smpscope is not installed ({e}); pip install ./python", file=sys.stderr)
        return 2
    for gen in gens:
        if args.photos is not None:
            photos = [p for p in given if p.generator == gen]
        else:
            folder = ROOT / "target" / "accuracy" / f"{gen}-{args.seed}"
            photos = generators.make_set(gen, args.seed, args.count, args.max_px, folder)
        if not photos:
            print(f"accuracy: no {gen} photos with truth found", file=sys.stderr)
            continue
        print(f"\n=== {gen}: {len(photos)} photos from {photos[0].path.parent}", flush=True)
        results["generators"][gen] = run_generator(gen, photos, args)
    if args.out is not None:
        results["args"] = {k: (str(v) if isinstance(v, pathlib.Path) else v) for k, v in vars(args).items()}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(_clean(results), indent=1) + "\n")
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
