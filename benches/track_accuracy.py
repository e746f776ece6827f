#!/usr/bin/env python3
"""Held-out tracking accuracy of smpscope: patient series from the held-out series generator
(benches/heldout_series, written apart from smpscope), tracked with the installed smpscope
package and scored against the series' exact truth, per patient and overall; same-day retests
apart.

    python benches/track_accuracy.py --seed S --count N [--retest M] [--max-px 2400]
        [--out F.json] [--series DIR] [--threads T] [--keep DIR] [-v]

The patients (seeds S .. S+N-1, and M same-day retests of seeds S .. S+M-1) are made once into
target/track_accuracy/heldout-<seed>/series/ and .../retest/ and reused (see
accuracy_lib/series_sets.py); --series DIR scores every patient found under DIR as it is
instead. Each patient's visits are tracked as a clinic would: smpscope.track(photos in date
order, dates = the truth's, px_per_mm = the truth's nominal scale, camera_blur_um = its nominal
blur). A series smpscope refuses (RegistrationError or any other error) has all its visits left
out. The figures and the matching rules are in accuracy_lib/track_scoring.py; smpscope's
per-visit `pigment_shift` is not in its output yet: those columns print n/a and are picked up
once it is there. Every figure goes to --out as JSON too; --keep DIR writes each patient's track
document and its visits' dots there (DIR/<patient>.track.json) to look into afterwards.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import sys
import time
from typing import Any

from accuracy_lib import series_sets, track_report, track_scoring
from accuracy_lib.generators import ROOT


def run_patient(p: series_sets.Patient, threads: int | None) -> tuple[dict | None, dict, str | None, float, float]:
    """(track document, analysis dots by source, error, wall-clock seconds, CPU seconds)."""
    import smpscope

    t = p.truth
    paths = [str(x) for x in p.photos()]
    dates = [v["date"] for v in t["visits"]]
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        tr = smpscope.track(
            paths,
            dates=dates,
            px_per_mm=float(t["nominal_px_per_mm"]),
            camera_blur_um=t.get("camera_blur_um"),
            threads=threads,
        )
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    except Exception as e:  # refused (RegistrationError) or failed: every visit left out
        return None, {}, f"{type(e).__name__}: {e}", time.perf_counter() - t0, time.process_time() - c0
    doc = tr.to_dict()
    dots = {a.source: list(a.to_dict().get("dots") or []) for a in tr.analyses}
    return doc, dots, None, seconds, cpu


def _shorten(s: track_scoring.PatientScore, folder: pathlib.Path) -> None:
    """Drops the patient's folder from smpscope's messages (they name the photos by path)."""
    prefix = f"{folder}{os.sep}"
    s.refused = None if s.refused is None else s.refused.replace(prefix, "")
    for v in s.visits:
        v.reason = None if v.reason is None else v.reason.replace(prefix, "")


def _clean(v: Any) -> Any:
    """JSON-safe: NaN and infinities become null."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line, checked (argparse exits on a bad one)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, default=500, help="seed of the first patient")
    ap.add_argument("--count", type=int, default=6, help="patient series")
    ap.add_argument("--retest", type=int, default=0, help="same-day retest patients (seeds from --seed)")
    ap.add_argument("--max-px", type=int, default=2400, help="longest side of the photos, px")
    ap.add_argument("--out", type=pathlib.Path, help="write every figure here as JSON")
    ap.add_argument("--series", type=pathlib.Path, help="score every patient under this folder as it is")
    ap.add_argument("--threads", type=int, help="threads smpscope uses (default: all cores)")
    ap.add_argument("--keep", type=pathlib.Path, help="write each patient's track document and dots here")
    ap.add_argument("-v", "--verbose", action="store_true", help="also print one line per visit")
    args = ap.parse_args(argv)
    if args.count < 0 or args.retest < 0 or args.count + args.retest < 1:
        ap.error("--count and --retest must not be negative, and not both 0")
    return args


def patients_of(args: argparse.Namespace) -> tuple[list[series_sets.Patient], str]:
    """(the patients to score, where they are): --series as it is, or the made (or reused) set."""
    if args.series is not None:
        return series_sets.read_set(args.series), str(args.series)
    base = ROOT / "target" / "track_accuracy" / f"heldout-{args.seed}"
    patients = []
    if args.count:
        patients += series_sets.make_set("series", args.seed, args.count, args.max_px, base / "series")
    if args.retest:
        patients += series_sets.make_set("retest", args.seed, args.retest, args.max_px, base / "retest")
    return patients, str(base)


def score_all(patients: list[series_sets.Patient], args: argparse.Namespace) -> list[track_scoring.PatientScore]:
    """Tracks and scores every patient, one progress line each on stderr (and --keep files)."""
    scores: list[track_scoring.PatientScore] = []
    for n, p in enumerate(patients, 1):
        doc, dots, err, seconds, cpu = run_patient(p, args.threads)
        name = p.name if p.kind == "series" else f"{p.name}{p.kind[:2]}"
        s = track_scoring.score_patient(p.truth, doc, dots, err, name)
        s.seconds, s.cpu_seconds = seconds, cpu
        _shorten(s, p.dir)
        scores.append(s)
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            kept = {"patient": str(p.dir), "error": err, "track": doc, "dots": dots}
            (args.keep / f"{name}.track.json").write_text(json.dumps(_clean(kept)) + "\n")
        tracked = sum(v.tracked for v in s.visits)
        line = f"[{n}/{len(patients)}] {p.kind} {p.name}: {tracked}/{len(s.visits)} visits tracked, {seconds:.1f} s"
        print(line + (f"  REFUSED {err}" if err else ""), file=sys.stderr, flush=True)
    return scores


def print_report(scores: list[track_scoring.PatientScore], verbose: bool) -> dict[str, Any]:
    """Prints the tables, the visits left out and the notes; returns the overall figures of the
    series and of the retests."""
    series = [s for s in scores if s.kind != "retest"]
    retest = [s for s in scores if s.kind == "retest"]
    overall_series = track_scoring.figures(series)
    overall_retest = track_scoring.figures(retest)
    print()
    print(
        track_report.tables(
            [(s, track_scoring.figures([s])) for s in series],
            [(s, track_scoring.figures([s])) for s in retest],
            overall_series,
            overall_retest,
        )
    )
    print()
    print(track_report.left_out(scores))
    for s in scores:
        for note in s.notes:
            print(f"  note {s.name}: {note}")
    if verbose:
        print()
        print(track_report.visit_table(scores))
    return {"series": overall_series, "retest": overall_retest}


def write_results(
    args: argparse.Namespace,
    version: str,
    where: str,
    overall: dict[str, Any],
    scores: list[track_scoring.PatientScore],
) -> None:
    """Writes every figure to args.out as JSON (NaN as null)."""
    results = {
        "schema": "smpscope-bench.track_accuracy/1",
        "args": {k: (str(v) if isinstance(v, pathlib.Path) else v) for k, v in vars(args).items()},
        "smpscope_version": version,
        "patients_from": where,
        "overall": overall,
        "patients": [track_scoring.patient_record(s) for s in scores],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(_clean(results), indent=1) + "\n")
    print(f"\nwrote {args.out}")


def main(argv: list[str] | None = None) -> int:
    """Runs the bench; 2 when smpscope is not installed or no patient is found, else 0."""
    args = parse_args(argv)
    try:
        import smpscope
    except ImportError as e:
        print(f"track_accuracy: smpscope is not installed ({e}); pip install ./python", file=sys.stderr)
        return 2

    patients, where = patients_of(args)
    if not patients:
        print(f"track_accuracy: no patients with truth found under {where}", file=sys.stderr)
        return 2
    print(f"=== {len(patients)} patients from {where}; smpscope {smpscope.__version__}", flush=True)
    scores = score_all(patients, args)
    overall = print_report(scores, args.verbose)
    if args.out is not None:
        write_results(args, smpscope.__version__, where, overall, scores)
    return 0


if __name__ == "__main__":
    sys.exit(main())
