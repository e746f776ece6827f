"""The sep baseline (Source Extractor as a library): dots as sources on the photo's optical
density. Decode, to linear luminance Y (sRGB, Rec. 709 weights), data = -log10(Y) so the dots
are positive, a sep.Background of it (mesh about a millimetre) taken off, and sep.extract at
k * globalrms for each k of a sweep, with minarea the area of a 60 um disc (at least 2 px).

Bench-only dependencies (benches/requirements.txt): sep, Pillow (decoding with the EXIF
orientation applied, so coordinates are upright as the truth's)."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

KS = (1.5, 2.0, 3.0, 5.0, 8.0)


def decode_luminance(path) -> np.ndarray:
    """The upright photo's linear luminance, float32, from sRGB."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        rgb = np.asarray(im, dtype=np.float32) * np.float32(1.0 / 255.0)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return np.ascontiguousarray(lin @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32))


def params_for(px_per_mm: float) -> dict[str, Any]:
    """Background mesh and minimum area for the scale."""
    box = int(min(max(round(1.0 * px_per_mm), 16), 256))
    minarea = max(2, round(math.pi * (0.03 * px_per_mm) ** 2))
    return {"box": box, "minarea": minarea}


def run(path, px_per_mm: float, ks=KS) -> dict[str, Any]:
    """Detections and timings of sep on one photo: {"xy": {k: (x, y)}, "ms": {k: ms},
    "cpu_ms": {k: ms}, "errors": {k: message}} where ms (wall clock) and cpu_ms (CPU time of the
    process) are decode + background + that one extraction."""
    import sep

    p = params_for(px_per_mm)
    t0, c0 = time.perf_counter(), time.process_time()
    y = decode_luminance(path)
    data = -np.log10(np.maximum(y, np.float32(1e-4)))
    data = np.ascontiguousarray(data, dtype=np.float32)
    bkg = sep.Background(data, bw=p["box"], bh=p["box"], fw=3, fh=3)
    bkg.subfrom(data)
    rms = float(bkg.globalrms)
    t1, c1 = time.perf_counter(), time.process_time()
    sep.set_extract_pixstack(max(300_000, data.size))
    sep.set_sub_object_limit(4096)
    out: dict[str, Any] = {"xy": {}, "ms": {}, "cpu_ms": {}, "errors": {}, "minarea": p["minarea"], "box": p["box"]}
    for k in ks:
        t, c = time.perf_counter(), time.process_time()
        try:
            objs = sep.extract(data, k, err=rms, minarea=p["minarea"])
            xy = (np.asarray(objs["x"], float), np.asarray(objs["y"], float))
        except Exception as e:  # sep raises plain Exceptions on overflow
            xy = (np.zeros(0), np.zeros(0))
            out["errors"][k] = str(e)
        out["xy"][k] = xy
        out["ms"][k] = 1000.0 * ((t1 - t0) + (time.perf_counter() - t))
        out["cpu_ms"][k] = 1000.0 * ((c1 - c0) + (time.process_time() - c))
    return out
