"""Making the photo sets (the project's own generator and the held-out one) and reading them.

own:     cargo run --release -p smpscope-synth --bin synth -- --seed S --count N --frame-mm 24x18
         --max-px M --out DIR   (exactly the scenes the Rust `accuracy` command scores)
heldout: PYTHONPATH=benches python -m heldout photos --seed S --count N --max-px M --out DIR
         (--kind mixed, its default: treated scalps; see benches/heldout/README.md)

A set is made once into target/accuracy/<gen>-<seed>/ with a manifest of how; it is reused
while the manifest matches, and made again when it does not.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCHES = ROOT / "benches"
TRUTH_SCHEMAS = {"smpscope-synth.truth/1": "own", "heldout.truth/1": "heldout"}
PHOTO_EXTS = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
MANIFEST = "accuracy-manifest.json"
FRAME_MM = "24x18"


@dataclass
class Photo:
    """A photo of a set and its truth."""

    path: pathlib.Path
    truth_path: pathlib.Path
    truth: dict[str, Any]
    generator: str


def command(generator: str, seed: int, count: int, max_px: int, out: pathlib.Path) -> tuple[list[str], dict]:
    """The command line (and environment) that writes a set."""
    env = dict(os.environ)
    if generator == "own":
        cmd = ["cargo", "run", "--release", "-q", "-p", "smpscope-synth", "--bin", "synth", "--"]
        cmd += ["--seed", str(seed), "--count", str(count), "--frame-mm", FRAME_MM, "--max-px", str(max_px)]
        return [*cmd, "--out", str(out)], env
    if generator == "heldout":
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCHES), env.get("PYTHONPATH", "")) if p)
        cmd = [sys.executable, "-m", "heldout", "photos", "--seed", str(seed), "--count", str(count)]
        return [*cmd, "--max-px", str(max_px), "--out", str(out)], env
    raise ValueError(f"unknown generator {generator!r}")


def make_set(generator: str, seed: int, count: int, max_px: int, out: pathlib.Path) -> list[Photo]:
    """The first `count` photos of the set in `out` (photo k has seed seed + k), written unless
    a set made the same way with at least as many photos is there already."""
    cmd, env = command(generator, seed, count, max_px, out)
    manifest = {"generator": generator, "seed": seed, "max_px": max_px}
    if generator == "own":
        manifest.update(frame_mm=FRAME_MM)
    mpath = out / MANIFEST
    if mpath.exists():
        try:
            made = json.loads(mpath.read_text())
            photos = read_set(out)
            if made.get("set") == manifest and made.get("count", 0) >= count and len(photos) == made["count"]:
                print(f"reusing {count} of the {len(photos)} {generator} photos in {out}", file=sys.stderr)
                return photos[:count]
        except (ValueError, OSError, KeyError, TypeError):
            pass
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():  # a set made otherwise: start again
        if p.is_file() and (p.name.endswith(".json") or p.suffix.lower() in PHOTO_EXTS):
            p.unlink()
    print(f"making {count} {generator} photos in {out}: {' '.join(cmd)}", file=sys.stderr)
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    mpath.write_text(json.dumps({"set": manifest, "count": count, "command": cmd}, indent=2) + "\n")
    return read_set(out)


def _photo_for(truth_path: pathlib.Path, truth: dict[str, Any]) -> pathlib.Path:
    named = truth.get("file")
    if isinstance(named, str) and named:
        p = pathlib.Path(named)
        return p if p.is_absolute() else truth_path.parent / p.name
    stem = truth_path.name[: -len(".truth.json")] if truth_path.name.endswith(".truth.json") else truth_path.stem
    for ext in PHOTO_EXTS:
        p = truth_path.with_name(stem + ext)
        if p.exists():
            return p
    raise FileNotFoundError(f"no photo beside {truth_path}")


def read_set(folder: pathlib.Path) -> list[Photo]:
    """Every photo of a folder that has a truth document of a known schema, in seed order."""
    photos = []
    for tp in sorted(folder.glob("*.json")):
        if tp.name == MANIFEST:
            continue
        try:
            truth = json.loads(tp.read_text())
        except (ValueError, OSError):
            continue
        if not isinstance(truth, dict) or truth.get("schema") not in TRUTH_SCHEMAS:
            continue
        photos.append(Photo(_photo_for(tp, truth), tp, truth, TRUTH_SCHEMAS[truth["schema"]]))
    photos.sort(key=lambda p: (p.truth.get("seed", 0), p.path.name))
    return photos
