"""Making and reading the held-out patient series that benches/track_accuracy.py scores.

    PYTHONPATH=benches python -m heldout_series patients --seed S --count N --max-px M --out DIR
        [--kind retest]        (see benches/heldout_series/README.md)

A set lives in a folder of patients DIR/p{seed}/ (visit photos + series.truth.json) with a
manifest of how it was made (kind, --max-px). Every patient depends only on its seed, the kind
and --max-px, so a set is grown by making only the seeds it lacks (in runs of consecutive seeds,
one generator at a time); a patient whose truth or photos are missing is made again, and a set
made with another kind or --max-px is made again from scratch.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from .generators import BENCHES, ROOT

TRUTH = "series.truth.json"
SCHEMA = "heldout.series/1"
MANIFEST = "track-accuracy-manifest.json"


@dataclass
class Patient:
    """One patient's folder and its truth."""

    dir: pathlib.Path
    truth: dict[str, Any]

    @property
    def name(self) -> str:
        return self.dir.name

    @property
    def kind(self) -> str:
        return str(self.truth.get("kind") or "series")

    def photos(self) -> list[pathlib.Path]:
        """The visit photos, in the truth's (date) order."""
        return [self.dir / v["file"] for v in self.truth["visits"]]


def command(kind: str, seed: int, count: int, max_px: int, out: pathlib.Path) -> tuple[list[str], dict[str, str]]:
    """The command line (and environment) that writes patients seed .. seed + count - 1."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCHES), env.get("PYTHONPATH", "")) if p)
    cmd = [sys.executable, "-m", "heldout_series", "patients", "--seed", str(seed), "--count", str(count)]
    cmd += ["--out", str(out), "--max-px", str(max_px)]
    if kind != "series":
        cmd += ["--kind", kind]
    return cmd, env


def _complete(folder: pathlib.Path) -> bool:
    """Whether a patient folder holds a readable truth and every photo it names."""
    try:
        truth = json.loads((folder / TRUTH).read_text())
        return truth.get("schema") == SCHEMA and all((folder / v["file"]).is_file() for v in truth["visits"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _runs(seeds: list[int]) -> list[tuple[int, int]]:
    """Consecutive seeds as (first, count) runs."""
    runs: list[tuple[int, int]] = []
    for s in sorted(seeds):
        if runs and runs[-1][0] + runs[-1][1] == s:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((s, 1))
    return runs


def make_set(kind: str, seed: int, count: int, max_px: int, out: pathlib.Path) -> list[Patient]:
    """Patients seed .. seed + count - 1 of `kind` in `out`, made where they are not there yet."""
    manifest = {"kind": kind, "max_px": max_px}
    mpath = out / MANIFEST
    made: dict[str, Any] = {}
    if mpath.exists():
        try:
            made = json.loads(mpath.read_text())
        except (OSError, ValueError):
            made = {}
    if out.exists() and made.get("set") != manifest:
        # Made another way (or by hand): only our own patient folders are removed.
        for p in out.glob("p*"):
            if p.is_dir() and (p / TRUTH).exists():
                shutil.rmtree(p)
    out.mkdir(parents=True, exist_ok=True)
    wanted = [seed + k for k in range(count)]
    missing = [s for s in wanted if not _complete(out / f"p{s}")]
    if missing:
        mpath.write_text(json.dumps({"set": manifest}, indent=2) + "\n")
    else:
        print(f"reusing {count} {kind} patients in {out}", file=sys.stderr)
    for first, n in _runs(missing):
        cmd, env = command(kind, first, n, max_px, out)
        print(f"making {n} {kind} patient(s) in {out}: {' '.join(cmd)}", file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    patients = [p for p in read_set(out) if p.truth.get("seed") in wanted]
    if len(patients) != count:
        raise RuntimeError(f"{out}: {len(patients)} of {count} {kind} patients were made")
    return patients


def read_set(folder: pathlib.Path) -> list[Patient]:
    """Every complete patient under `folder` (at any depth), series before retests, in seed order."""
    patients = []
    for tp in sorted(folder.glob(f"**/{TRUTH}")):
        if not _complete(tp.parent):
            print(f"skipping {tp.parent}: truth or photos missing", file=sys.stderr)
            continue
        patients.append(Patient(tp.parent, json.loads(tp.read_text())))
    patients.sort(key=lambda p: (p.kind != "series", p.kind, p.truth.get("seed", 0), str(p.dir)))
    return patients
