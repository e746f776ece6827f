#!/usr/bin/env python3
"""Speed of the Python layer: `analyze_many` on 50 synthetic 3 MP scalp photos against the same
photos one by one, and both against the Rust command on the same files.

    cargo build --release -p smpscope-cli -p smpscope-synth     # the command and the generator
    pip install ./python                                       # the package under test
    python benches/python_analyze_many.py [--count 50] [--repeat 1] [--threads N]

The photos (2000x1500 px, 60 px/mm, 80 dots/cm^2, JPEG q90: the criterion bench's photo,
seeds 1000..) are made once by the generator's `synth` into target/bench-photos/. Reported:

- batch: `smpscope.analyze_many(paths)` vs `smpscope analyze PATHS... --json /dev/null` (the
  command analyses its photos in parallel the same way): the Python layer's overhead per photo;
- one by one: `[smpscope.analyze(p) for p in paths]` vs one `smpscope analyze PATH` per photo;
- the speed-up of analyze_many over the one-by-one loop, with the threads it used;
- the Python-side work alone (JSON parsing and result objects), timed by itself, per photo;
- criterion's figure for one 3 MP photo, when `cargo bench -p smpscope-benches` has been run;
- with --callgrind, the instructions one photo takes through the Python API and through the
  command (valgrind), which no other load on the machine disturbs.

Wall-clock times on a shared machine are noisy: the runs alternate round after round (--repeat),
the best round counts, and CPU time is reported beside wall time.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pathlib
import re
import resource
import subprocess
import sys
import time

import smpscope
from smpscope import _smpscope

ROOT = pathlib.Path(__file__).resolve().parents[1]
SPEC = {"width": 2000, "height": 1500, "px_per_mm": 60.0, "density_per_cm2": 80.0, "jpeg_quality": 90}


def photos(count: int, out: pathlib.Path, synth: pathlib.Path) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    want = [out / f"synth-{1000 + k}.jpg" for k in range(count)]
    if not all(p.exists() for p in want):
        spec = out / "spec.json"
        spec.write_text(json.dumps(SPEC))
        print(f"making {count} photos of 3 MP in {out} ...", file=sys.stderr)
        subprocess.run(
            [str(synth), "--seed", "1000", "--count", str(count), "--spec", str(spec), "--out", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return [str(p) for p in want]


def best(f, repeat: int) -> float:
    """The shortest wall-clock time of f() over `repeat` runs."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def measure(f, child: bool) -> tuple[float, float]:
    """Wall-clock and CPU seconds of f() (CPU of this process, or of its child processes)."""
    who = resource.RUSAGE_CHILDREN if child else resource.RUSAGE_SELF
    c, t = cpu(who), time.perf_counter()
    f()
    return time.perf_counter() - t, cpu(who) - c


def instructions(cmd: list[str]) -> int:
    """Instructions executed by cmd, counted by valgrind's callgrind (repeatable whatever else
    the machine is doing)."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    return int(re.search(r"Collected : (\d+)", out).group(1))


def callgrind(photo: str, cli: pathlib.Path, blur: float) -> dict:
    """One photo through the Python API and through the command, one thread each, each less
    its own start-up (the interpreter with smpscope imported; the command's --version)."""
    code = (
        "import smpscope, sys; "
        f"b = smpscope.analyze_many([sys.argv[1]], px_per_mm={SPEC['px_per_mm']}, camera_blur_um={blur}, threads=1); "
        "assert b[0].ok"
    )
    py = instructions([sys.executable, "-c", code, photo]) - instructions(
        [sys.executable, "-c", "import smpscope, json"]
    )
    rust = instructions(
        [
            str(cli),
            "analyze",
            photo,
            "--px-per-mm",
            str(SPEC["px_per_mm"]),
            "--camera-blur-um",
            str(blur),
            "--threads",
            "1",
            "--quiet",
            "--json",
            os.devnull,
        ]
    ) - instructions([str(cli), "--version"])
    return {"python_instructions": py, "rust_instructions": rust, "overhead_percent": 100 * (py - rust) / rust}


def parse_args() -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None, help="threads for both sides (default: all cores)")
    ap.add_argument("--photos", type=pathlib.Path, default=ROOT / "target" / "bench-photos")
    ap.add_argument("--bin", type=pathlib.Path, default=ROOT / "target" / "release")
    ap.add_argument("--json", type=pathlib.Path, default=None, help="also write the figures here")
    ap.add_argument(
        "--callgrind",
        action="store_true",
        help="also count the instructions of one photo through each (valgrind; ~5 min)",
    )
    return ap.parse_args()


def binaries(bin_dir: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """(the command, the generator) in bin_dir; exits when either is missing."""
    cli, synth = bin_dir / "smpscope", bin_dir / "synth"
    for exe in (cli, synth):
        if not exe.exists():
            sys.exit(f"{exe} is missing: cargo build --release -p smpscope-cli -p smpscope-synth")
    return cli, synth


def timed_runs(
    paths: list[str], kw: dict, cli: pathlib.Path, cli_args: list[str], repeat: int
) -> tuple[dict[str, float], dict[str, float]]:
    """(best wall-clock, best CPU seconds) of each of the four ways through all the photos, after
    a warm-up; asserts that analyze_many and the loop agree."""
    # Warm up: page cache, lazily built tables, the thread pool.
    smpscope.analyze(paths[0], **kw)
    subprocess.run([str(cli), "analyze", paths[0], *cli_args, "--json", os.devnull], check=True)

    results = {}

    def run_many():
        results["many"] = smpscope.analyze_many(paths, **kw)

    def run_loop():
        results["loop"] = [smpscope.analyze(p, **kw) for p in paths]

    def cli_batch():
        subprocess.run([str(cli), "analyze", *paths, *cli_args, "--json", os.devnull], check=True)

    def cli_loop():
        for p in paths:
            subprocess.run([str(cli), "analyze", p, *cli_args, "--json", os.devnull], check=True)

    # The four runs alternate, round after round, so that load from other processes falls on
    # all of them alike; the best round of each counts. CPU time is the steadier figure on a
    # shared machine.
    runs = {
        "rust_cli_batch": (cli_batch, True),
        "python_analyze_many": (run_many, False),
        "rust_cli_one_by_one": (cli_loop, True),
        "python_one_by_one": (run_loop, False),
    }
    wall = {k: float("inf") for k in runs}
    cpu_s = {k: float("inf") for k in runs}
    for _ in range(repeat):
        for k, (f, child) in runs.items():
            w, c = measure(f, child)
            wall[k], cpu_s[k] = min(wall[k], w), min(cpu_s[k], c)
    assert all(r.ok for r in results["many"]) and list(results["many"]) == results["loop"], "batch and loop differ"
    return wall, cpu_s


def python_side_seconds(paths: list[str], kw: dict, blur: float) -> float:
    """Seconds per photo of the Python side alone: what happens to each result after the Rust call returns."""
    pj = json.dumps({"px_per_mm": SPEC["px_per_mm"], "camera_blur_um": blur})
    raw = [_smpscope.analyze(p, pj) for p in paths[:5]]
    t_wrap = best(lambda: [smpscope.Analysis(json.loads(r), p) for r, p in zip(raw, paths)], 5) / len(raw)
    t_params = best(lambda: [smpscope._api._params_json(kw["px_per_mm"], blur, None) for _ in range(1000)], 3) / 1000
    return t_wrap + t_params


def criterion() -> dict[str, float]:
    """criterion's mean seconds per photo of each analyze bench that has been run, by its name."""
    crit = {}
    for est in glob.glob(
        str(ROOT / "target" / "criterion" / "analyze" / "**" / "new" / "estimates.json"), recursive=True
    ):
        name = pathlib.Path(est).parents[1].relative_to(ROOT / "target" / "criterion" / "analyze")
        crit[str(name)] = json.loads(pathlib.Path(est).read_text())["mean"]["point_estimate"] / 1e9
    return crit


def make_figures(
    n: int, threads: int, repeat: int, wall: dict[str, float], cpu_s: dict[str, float], t_py: float, crit: dict
) -> dict:
    """The figures for the JSON from the timings of n photos (t_py: the Python side per photo)."""
    per = lambda t: 1000 * t / n  # noqa: E731  ms per photo
    pct = lambda x, ref: 100 * (x - ref) / ref  # noqa: E731
    t_many, t_cli_batch, t_loop, t_cli_loop = (
        wall[k] for k in ("python_analyze_many", "rust_cli_batch", "python_one_by_one", "rust_cli_one_by_one")
    )
    return {
        "photos": n,
        "megapixels": SPEC["width"] * SPEC["height"] / 1e6,
        "threads": threads,
        "cores": os.cpu_count(),
        "rounds": repeat,
        "wall_ms_per_photo": {k: per(v) for k, v in wall.items()},
        "cpu_ms_per_photo": {k: per(v) for k, v in cpu_s.items()},
        "speedup_many_over_one_by_one": t_loop / t_many,
        "overhead_batch_percent": {
            "wall": pct(t_many, t_cli_batch),
            "cpu": pct(cpu_s["python_analyze_many"], cpu_s["rust_cli_batch"]),
        },
        "overhead_one_by_one_percent": {
            "wall": pct(t_loop, t_cli_loop),
            "cpu": pct(cpu_s["python_one_by_one"], cpu_s["rust_cli_one_by_one"]),
        },
        "python_side_ms_per_photo": 1000 * t_py,
        "python_side_percent_of_one_photo": 100 * t_py / (cpu_s["rust_cli_one_by_one"] / n),
        "criterion_s_per_photo": crit,
    }


def print_figures(figures: dict) -> None:
    """Prints the figures as a table and a few sentences."""
    n, threads = figures["photos"], figures["threads"]
    ob, ol = figures["overhead_batch_percent"], figures["overhead_one_by_one_percent"]
    print(
        f"{n} photos of {figures['megapixels']:.0f} MP, {threads} threads on {os.cpu_count()} cores,"
        f" best of {figures['rounds']} round(s)"
    )
    print(f"{'ms per photo':32s} {'wall':>8s} {'CPU':>8s}")
    for k, w in figures["wall_ms_per_photo"].items():
        print(f"  {k:30s} {w:8.1f} {figures['cpu_ms_per_photo'][k]:8.1f}")
    print(
        f"  Python overhead, batch:      wall {ob['wall']:+.1f} %, CPU {ob['cpu']:+.1f} %"
        " (analyze_many vs smpscope analyze PATHS...)"
    )
    print(
        f"  Python overhead, one by one: wall {ol['wall']:+.1f} %, CPU {ol['cpu']:+.1f} %"
        " (analyze vs one command run per photo)"
    )
    print(f"  speed-up of analyze_many over one by one: x{figures['speedup_many_over_one_by_one']:.2f}")
    print(
        f"  Python-side work per photo (JSON -> objects, params): {figures['python_side_ms_per_photo']:.2f} ms"
        f" = {figures['python_side_percent_of_one_photo']:.2f} % of one photo's analysis"
    )
    for k, v in sorted(figures["criterion_s_per_photo"].items()):
        print(f"  criterion analyze/{k}: {1000 * v:.1f} ms/photo")


def main() -> int:
    """Makes the photos, times the four ways through them and reports; 0."""
    a = parse_args()
    cli, synth = binaries(a.bin)
    paths = photos(a.count, a.photos, synth)
    blur = json.loads(pathlib.Path(paths[0]).with_suffix(".truth.json").read_text())["camera_blur_um"]
    kw = {"px_per_mm": SPEC["px_per_mm"], "camera_blur_um": blur, "threads": a.threads}
    threads = a.threads or _smpscope.default_threads()
    cli_args = ["--px-per-mm", str(SPEC["px_per_mm"]), "--camera-blur-um", str(blur), "--quiet"]
    if a.threads:
        cli_args += ["--threads", str(a.threads)]
    wall, cpu_s = timed_runs(paths, kw, cli, cli_args, a.repeat)
    t_py = python_side_seconds(paths, kw, blur)
    figures = make_figures(len(paths), threads, a.repeat, wall, cpu_s, t_py, criterion())
    print_figures(figures)
    if a.callgrind:
        figures["callgrind_one_photo"] = cg = callgrind(paths[0], cli, blur)
        print(
            f"  instructions for one photo (callgrind, 1 thread): Python {cg['python_instructions'] / 1e6:.0f} M, "
            f"command {cg['rust_instructions'] / 1e6:.0f} M -> Python layer {cg['overhead_percent']:+.2f} %"
        )
    if a.json:
        a.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
