"""Speed of smpscope beside sep, on the fixed photo sets of both generators (the project's own and
the held-out one), one photo at a time, in the same run.

smpscope is timed as a user runs it: the release command (`target/release/smpscope analyze`), one
thread unless --threads says otherwise, decode included, given the truth's scale and camera blur.
Each run is its own process, started through GNU time (`/usr/bin/time`, Debian's `time` package),
which reports the process's own peak resident memory: a process started from this one directly
would report this one's peak (Linux carries the parent's high-water mark through fork and exec
into ru_maxrss). Without GNU time the peak is not reported. sep
(decode + background + extraction at one threshold) runs in this process between two smpscope runs.

Printed per generator: ms per megapixel (median, mean, worst, pooled) of both tools and how many
photos each is faster on; peak memory in bytes per pixel; F1 of both against the truth; and a cost
model fitted over all photos, time = a x megapixels + b x fitted candidates + c x candidates set
aside unfitted, with each photo's time over its prediction.

    target/venv/bin/python benches/speed.py --count 20 --out target/speed/speed.json

Build the command first (cargo build --release -p smpscope-cli); photo sets are made (or reused)
as the accuracy script makes them, in target/accuracy/.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from accuracy_lib import generators, scoring, sep_baseline

ROOT = pathlib.Path(__file__).resolve().parents[1]
REASONS = ("dark_patch", "faint", "elongated", "brown", "out_of_size_range", "failed_fit")


GNU_TIME = pathlib.Path("/usr/bin/time")


def run_smpscope(exe: pathlib.Path, photo: generators.Photo, threads: int) -> dict[str, Any]:
    """One analysis in its own process: wall and CPU seconds, peak memory (None without GNU
    time), the document."""
    t = photo.truth
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "a.json"
        peak_file = pathlib.Path(tmp) / "peak"
        cmd = [str(exe), "analyze", str(photo.path), "--px-per-mm", str(t["px_per_mm"]), "--threads", str(threads)]
        if t.get("camera_blur_um") is not None:
            cmd += ["--camera-blur-um", str(t["camera_blur_um"])]
        cmd += ["-q", "--json", str(out)]
        if GNU_TIME.exists():
            cmd = [str(GNU_TIME), "-f", "%M", "-o", str(peak_file), *cmd]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        proc.returncode = os.waitstatus_to_exitcode(status)
        docs = json.loads(out.read_text()) if out.exists() else []
        peak_kb = peak_file.read_text().split()[-1] if peak_file.exists() else None
    doc = docs[0] if docs and "summary" in docs[0] else None
    return {
        "seconds": wall,
        # GNU time's own share is a millisecond or two.
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_bytes": int(peak_kb) * 1024 if peak_kb and peak_kb.isdigit() else None,
        "doc": doc,
        "error": None if doc else (err.strip() or f"exit {proc.returncode}"),
    }


def counts(doc: dict[str, Any] | None) -> tuple[int, int]:
    """(fitted, unfitted) candidates of an analysis document."""
    if not doc:
        return 0, 0
    s = doc["summary"]
    rej = s.get("rejected") or {}
    candidates = int(s.get("dot_count", 0)) + sum(int(rej.get(r, 0)) for r in REASONS)
    unfitted = int(rej.get("unfitted", 0))
    return candidates - unfitted, unfitted


def f1(matches: list[scoring.Match]) -> float:
    return scoring.detection_f1(matches)["f1"]


def cost_model(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Non-negative least squares of CPU ms on (megapixels, fitted, unfitted), relative errors
    weighted equally (each row divided by its own time)."""
    from scipy.optimize import nnls

    x = np.array([[r["megapixels"], r["fitted"], r["unfitted"]] for r in rows], float)
    y = np.array([1000.0 * r["cpu_seconds"] for r in rows], float)
    w = 1.0 / np.maximum(y, 1.0)
    coef, _ = nnls(x * w[:, None], y * w)
    pred = x @ coef
    ratio = y / np.maximum(pred, 1e-9)
    return {
        "ms_per_mp": coef[0],
        "us_per_fitted": 1000.0 * coef[1],
        "us_per_unfitted": 1000.0 * coef[2],
        "worst_over_prediction": float(ratio.max()),
        "worst_under_prediction": float(ratio.min()),
        "within_1_5x": int(np.sum((ratio <= 1.5) & (ratio >= 1 / 1.5))),
    }


def summarise(gen: str, rows: list[dict[str, Any]], sep_k: float) -> dict[str, Any]:
    ms = [1000.0 * r["cpu_seconds"] / r["megapixels"] for r in rows]
    sep_ms = [r["sep_cpu_ms"] / r["megapixels"] for r in rows if r.get("sep_cpu_ms") is not None]
    peaks = [r for r in rows if r["peak_bytes"] is not None]
    bpp = [r["peak_bytes"] / (1e6 * r["megapixels"]) for r in peaks]
    mp = sum(r["megapixels"] for r in rows)
    out = {
        "photos": len(rows),
        "megapixels": mp,
        "smpscope_ms_per_mp": {
            "median": statistics.median(ms),
            "mean": statistics.fmean(ms),
            "worst": max(ms),
            "pooled": 1000.0 * sum(r["cpu_seconds"] for r in rows) / mp,
        },
        "bytes_per_pixel": {"median": statistics.median(bpp), "worst": max(bpp)} if bpp else None,
        "peak_mb_worst": max(r["peak_bytes"] for r in peaks) / 1e6 if peaks else None,
        "smpscope_f1": f1([r["match"] for r in rows]),
        "failed": [r["photo"] for r in rows if r["error"]],
    }
    if sep_ms:
        out["sep_ms_per_mp"] = {
            "median": statistics.median(sep_ms),
            "mean": statistics.fmean(sep_ms),
            "worst": max(sep_ms),
        }
        out["sep_k"] = sep_k
        out["sep_f1"] = f1([r["sep_match"] for r in rows])
        out["smpscope_faster_on"] = sum(1 for r in rows if 1000.0 * r["cpu_seconds"] < r["sep_cpu_ms"])
    return out


def print_table(gen: str, s: dict[str, Any]) -> None:
    m = s["smpscope_ms_per_mp"]
    print(f"\n[{gen}] {s['photos']} photos, {s['megapixels']:.1f} MP")
    print(
        f"  smpscope CPU ms/MP: median {m['median']:.0f}, mean {m['mean']:.0f}, "
        f"worst {m['worst']:.0f}, pooled {m['pooled']:.0f}"
    )
    if "sep_ms_per_mp" in s:
        p = s["sep_ms_per_mp"]
        print(
            f"  sep (k={s['sep_k']}) CPU ms/MP: median {p['median']:.0f}, mean {p['mean']:.0f}, worst {p['worst']:.0f}"
        )
        print(f"  smpscope faster on {s['smpscope_faster_on']} of {s['photos']} photos")
        print(f"  F1: smpscope {s['smpscope_f1']:.3f}, sep {s['sep_f1']:.3f}")
    b = s["bytes_per_pixel"]
    if b:
        print(f"  peak memory: median {b['median']:.1f} bytes/px, worst {b['worst']:.1f} ({s['peak_mb_worst']:.0f} MB)")
    else:
        print("  peak memory: not measured (GNU time, /usr/bin/time, is missing)")
    if s["failed"]:
        print(f"  FAILED: {', '.join(s['failed'])}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=20, help="photos per generator")
    ap.add_argument("--own-seed", type=int, default=5000)
    ap.add_argument("--heldout-seed", type=int, default=0)
    ap.add_argument("--max-px", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sep-k", type=float, default=3.0, help="sep's threshold in background sigmas")
    ap.add_argument("--no-sep", action="store_true")
    ap.add_argument("--exe", type=pathlib.Path, default=ROOT / "target" / "release" / "smpscope")
    ap.add_argument("--out", type=pathlib.Path)
    args = ap.parse_args(argv)
    if not args.exe.exists():
        ap.error(f"{args.exe} is missing: cargo build --release -p smpscope-cli")
    results: dict[str, Any] = {"schema": "smpscope-bench.speed/1", "args": {k: str(v) for k, v in vars(args).items()}}
    all_rows: list[dict[str, Any]] = []
    for gen, seed in (("own", args.own_seed), ("heldout", args.heldout_seed)):
        folder = ROOT / "target" / "accuracy" / f"{gen}-{seed}"
        photos = generators.make_set(gen, seed, args.count, args.max_px, folder)
        rows = []
        for n, p in enumerate(photos, 1):
            r = run_smpscope(args.exe, p, args.threads)
            mp = p.truth["width"] * p.truth["height"] / 1e6
            fitted, unfitted = counts(r["doc"])
            dots = r["doc"]["dots"] if r["doc"] else []
            row = {
                "photo": p.path.name,
                "megapixels": mp,
                "seconds": r["seconds"],
                "cpu_seconds": r["cpu_seconds"],
                "peak_bytes": r["peak_bytes"],
                "fitted": fitted,
                "unfitted": unfitted,
                "error": r["error"],
                "match": scoring.match(p.truth, [d["x"] for d in dots], [d["y"] for d in dots]),
            }
            if not args.no_sep:
                sr = sep_baseline.run(p.path, float(p.truth["px_per_mm"]), (args.sep_k,))
                row["sep_cpu_ms"] = sr["cpu_ms"][args.sep_k]
                row["sep_match"] = scoring.match(p.truth, *sr["xy"][args.sep_k])
            rows.append(row)
            print(
                f"[{gen}] {n}/{len(photos)} {p.path.name}: {1000 * r['cpu_seconds'] / mp:.0f} ms/MP, "
                f"{fitted} fitted, {unfitted} unfitted, {(r['peak_bytes'] or 0) / 1e6:.0f} MB",
                file=sys.stderr,
                flush=True,
            )
        s = summarise(gen, rows, args.sep_k)
        print_table(gen, s)
        results[gen] = s
        all_rows += rows
    model = cost_model(all_rows)
    results["cost_model"] = model
    print(
        f"\ncost model over {len(all_rows)} photos: {model['ms_per_mp']:.0f} ms/MP + "
        f"{model['us_per_fitted']:.0f} us per fitted candidate + {model['us_per_unfitted']:.1f} us per unfitted; "
        f"{model['within_1_5x']} photos within 1.5x of it (worst {model['worst_over_prediction']:.2f}x over, "
        f"{model['worst_under_prediction']:.2f}x under)"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        for r in all_rows:
            r.pop("match", None)
            r.pop("sep_match", None)
        results["per_photo"] = all_rows
        args.out.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
