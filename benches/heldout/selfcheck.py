"""Self-checks of rendered photos against their truth (python -m heldout check DIR [--ink]).

- the photo opens, and after its EXIF orientation is applied has the truth's width and height;
- positions: for isolated, visible dots (plain, no overlap, not at an edge, no hair over them,
  snr >= 40, no other truth object within 3 FWHM), the centroid of the apparent optical density
  in the photo (sRGB-decoded luminance against a local annulus) lies on the truth centre;
- apparent size: a Gaussian fitted to that apparent OD has the width expected from the truth
  (dot second moment at the local scale, plus the camera blur stated in the truth);
- with --ink: the photo is re-rendered (same seed) and the luminance OD of the SCENE (before the
  camera) is integrated over each isolated dot, times the scalp area of each pixel, and compared
  with the truth's ink;
- with a calibration card (truth `marker`): the recorded corners sit on the rendered frame (the
  frame band just inside each outer corner is dark, the paper just outside it is bright) and the
  frame's outer edges lie where the truth's exact outline says (50 % crossing of the luminance
  profile across each side's midpoint)."""

import json
import os

import numpy as np
from PIL import Image, ImageOps
from scipy import optimize
from scipy.spatial import cKDTree

from . import profiles
from .colour import LUMA, srgb_decode


def _isolated(t, min_snr=40.0):
    """Indices of dots far from every other truth object (dots, hair, stubble, moles, freckles,
    scars, shine, flakes), plain, visible and not at an edge."""
    dots = t["dots"]
    pts = np.array([[d["x"], d["y"]] for d in dots]) if dots else np.empty((0, 2))
    tree = cKDTree(pts) if len(pts) else None
    segs = []
    blobs = []  # (x, y, radius_px)
    for q in t["distractors"]:
        if q.get("path") and len(q["path"]) > 1:
            p = np.array(q["path"])
            segs.append(np.concatenate([p[:-1], p[1:]], axis=1))
        elif q["kind"] in ("mole", "freckle", "shine", "scar", "flake"):
            blobs.append((q["x"], q["y"], 0.5 * q["size_um"] / 1000.0 * t["px_per_mm"] * 1.5))
    segs = np.concatenate(segs) if segs else np.empty((0, 4))
    blobs = np.array(blobs).reshape(-1, 3)
    out = []
    for i, d in enumerate(dots):
        if d["kind"] != "plain" or d["overlaps"] or d["edge"] or d["hair_cover"] > 0.0 or d["snr"] < min_snr:
            continue
        if d.get("reinked") or d["on_scar"]:
            continue
        s = d["local_px_per_mm"]
        fw_px = d["fwhm_um"] / 1000.0 * s
        r = max(3 * fw_px, 0.6 * s, 6.0) + 3 * t["conditions"]["camera_blur_px"]
        if len(tree.query_ball_point([d["x"], d["y"]], r)) > 1:
            continue
        if len(segs):
            ax, ay, bx, by = segs.T
            dx, dy = bx - ax, by - ay
            L2 = np.maximum(dx * dx + dy * dy, 1e-12)
            tt = np.clip(((d["x"] - ax) * dx + (d["y"] - ay) * dy) / L2, 0, 1)
            if np.hypot(d["x"] - ax - tt * dx, d["y"] - ay - tt * dy).min() < r:
                continue
        if len(blobs) and (np.hypot(blobs[:, 0] - d["x"], blobs[:, 1] - d["y"]) - blobs[:, 2] < r).any():
            continue
        m = int(np.ceil(r)) + 2
        if d["x"] < m or d["y"] < m or d["x"] > t["width"] - 1 - m or d["y"] > t["height"] - 1 - m:
            continue
        out.append(i)
    return out


def check_photo(dirname, t, ink=False):
    path = os.path.join(dirname, t["file"])
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    res = {"file": t["file"], "size_ok": im.size == (t["width"], t["height"])}
    Y = srgb_decode(np.asarray(im, dtype=np.float64) / 255.0) @ LUMA
    iso = _isolated(t)
    offs, ratios, soffs, fits = [], [], [], []
    cam = t["conditions"]["camera_blur_px"]
    for i in iso:
        d = t["dots"][i]
        s = d["local_px_per_mm"]
        fw_px = d["fwhm_um"] / 1000.0 * s
        r_in = max(1.5 * fw_px + 2 * cam, 4.0)
        r_out = r_in + max(4.0, fw_px)
        m = int(np.ceil(r_out)) + 1
        xi, yi = int(round(d["x"])), int(round(d["y"]))
        if yi - m < 0 or xi - m < 0 or yi + m + 1 > Y.shape[0] or xi + m + 1 > Y.shape[1]:
            continue
        win = Y[yi - m : yi + m + 1, xi - m : xi + m + 1]
        yy, xx = np.mgrid[yi - m : yi + m + 1, xi - m : xi + m + 1]
        rr = np.hypot(xx - d["x"], yy - d["y"])
        ring = (rr > r_in) & (rr < r_out)
        A = np.stack([np.ones(ring.sum()), (xx - d["x"])[ring], (yy - d["y"])[ring]], axis=1)
        coef = np.linalg.lstsq(A, win[ring], rcond=None)[0]
        bg = coef[0] + coef[1] * (xx - d["x"]) + coef[2] * (yy - d["y"])  # background plane
        od = -np.log10(np.maximum(win, 1e-4) / np.maximum(bg, 1e-4))
        sel = rr < r_in
        w = np.clip(od[sel], 0, None)
        if w.sum() <= 0:
            continue
        cx = (w * xx[sel]).sum() / w.sum()
        cy = (w * yy[sel]).sum() / w.sum()
        offs.append(np.hypot(cx - d["x"], cy - d["y"]))
        soffs.append((cx - d["x"], cy - d["y"]))
        # Gaussian fit (amplitude, centre, sigma, offset)
        R = d["diameter_um"] / 2000.0
        sg = d["spread_um"] / 1000.0
        exp_sig = np.sqrt((R * R / 4 + sg * sg) * s * s + cam * cam)
        # the same Gaussian fit applied to the truth model (disc * Gaussian(spread), plus the stated
        # camera blur) on the same pixel grid gives the width the photo should show
        model = profiles.profile(rr / s, 1.0, R, np.sqrt(sg * sg + (cam / s) ** 2))

        def fm(p, model=model, xx=xx, yy=yy, sel=sel):
            g = p[0] * np.exp(-((xx - p[1]) ** 2 + (yy - p[2]) ** 2) / (2 * p[3] ** 2)) + p[4]
            return (g - model)[sel]

        exp_sig = abs(optimize.least_squares(fm, [model.max(), d["x"], d["y"], exp_sig, 0.0]).x[3])

        def f(p, od=od, xx=xx, yy=yy, sel=sel):
            g = p[0] * np.exp(-((xx - p[1]) ** 2 + (yy - p[2]) ** 2) / (2 * p[3] ** 2)) + p[4]
            return (g - od)[sel]

        try:
            sol = optimize.least_squares(f, [od[sel].max(), d["x"], d["y"], exp_sig, 0.0])
            ratios.append(abs(sol.x[3]) / exp_sig)
            fits.append(np.hypot(sol.x[1] - d["x"], sol.x[2] - d["y"]))
        except Exception:
            pass
    res["n_isolated"] = len(offs)
    if offs:
        res["centroid_offset_px_median"] = float(np.median(offs))
        res["centroid_offset_px_p90"] = float(np.percentile(offs, 90))
        res["centroid_bias_px"] = [float(q) for q in np.mean(soffs, axis=0)]
    if fits:
        res["fit_centre_offset_px_median"] = float(np.median(fits))
        res["fit_centre_offset_px_p90"] = float(np.percentile(fits, 90))
    if ratios:
        res["sigma_ratio_median"] = float(np.median(ratios))
        res["sigma_ratio_p10_p90"] = [float(np.percentile(ratios, 10)), float(np.percentile(ratios, 90))]
    if t.get("marker") is not None:
        res["marker"] = check_marker(t, Y)
    if ink and t["dots"]:
        from .render import render

        dbg = {}
        kind = "mixed" if t["conditions"]["kind"] == "smp" else t["conditions"]["kind"]
        max_px, marker = max(t["width"], t["height"]), None
        m = t.get("marker")
        if m is not None:
            from .marker import Spec

            if m.get("args", {}).get("max_px"):
                max_px = m["args"]["max_px"]  # the --max-px the photo was made with
            elif m.get("frame_enlarged"):
                max_px = max(m["frame_enlarged"]["from"])
            marker = {"mode": m["args"]["mode"], "spec": Spec(), "max_px": m["args"]["marker_max_px"],
                      "no_distortion": m["args"].get("no_distortion", False)}
        render(t["seed"], kind, max_px, debug=dbg, marker=marker)
        odl = dbg["ink_od_lum"]
        dA = dbg["dA"]
        rel = []
        for i in iso:
            d = t["dots"][i]
            s = d["local_px_per_mm"]
            m = int(np.ceil(1.5 * d["fwhm_um"] / 1000.0 * s + 4 * d["spread_um"] / 1000.0 * s)) + 2
            xi, yi = int(round(d["x"])), int(round(d["y"]))
            tot = float((odl[yi - m : yi + m + 1, xi - m : xi + m + 1] * dA[yi - m : yi + m + 1, xi - m : xi + m + 1]).sum())
            rel.append(tot / d["ink"] - 1)
            if abs(rel[-1]) > 0.05:
                res.setdefault("ink_outliers", []).append([d["id"], round(rel[-1], 3)])
        if rel:
            res["ink_rel_err_median"] = float(np.median(rel))
            res["ink_rel_err_max_abs"] = float(np.max(np.abs(rel)))
    return res


def _bilinear(Y, x, y):
    H, W = Y.shape
    x = np.clip(np.asarray(x, dtype=np.float64), 0, W - 1.001)
    y = np.clip(np.asarray(y, dtype=np.float64), 0, H - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    return (Y[y0, x0] * (1 - fx) * (1 - fy) + Y[y0, x0 + 1] * fx * (1 - fy) + Y[y0 + 1, x0] * (1 - fx) * fy
            + Y[y0 + 1, x0 + 1] * fx * fy)


def check_marker(t, Y):
    """The card's recorded corners against the rendered frame (sRGB-decoded luminance Y)."""
    m = t["marker"]
    if not m["present"]:
        return {"present": False}
    H, W = Y.shape
    s = m["px_per_mm"]
    cmm = np.asarray(m["corners_mm"])
    cen = cmm.mean(0)
    r = max(1.0, 0.12 * s)

    def mean_at(px, py):
        yy, xx = np.mgrid[-3:4, -3:4] * (r / 3.0)
        ok = (xx**2 + yy**2) <= r * r
        return float(_bilinear(Y, px + xx[ok], py + yy[ok]).mean())

    def inside(px, py, pad):
        return pad <= px <= W - 1 - pad and pad <= py <= H - 1 - pad

    pad = r + 2 + 3 * t["conditions"]["camera_blur_px"]
    corners = []
    for k, (cx, cy) in enumerate(m["corners_px"]):
        d = np.sign(cen - cmm[k])
        # probes placed from the recorded corner along the card's local axes (J at the centre):
        # 0.6 mm inside (mid frame band) and 0.4 mm outside (mid paper margin)
        J = np.asarray(m["jacobian_px_per_mm"])
        bx, by = np.array([cx, cy]) + J @ (0.6 * d)
        px_, py_ = np.array([cx, cy]) + J @ (-0.4 * d)
        if not (inside(bx, by, pad) and inside(px_, py_, pad)) or m["corners_covered"][k]:
            corners.append(None)
            continue
        band, paper = mean_at(bx, by), mean_at(px_, py_)
        corners.append(round(band / max(paper, 1e-6), 3))
    # edge position at the midpoint of each side of the exact outline
    ol = np.asarray(m["frame_outline_px"])
    cpx = np.asarray(m["centre_px"])
    offs = []
    for k in range(4):
        p, a, b = ol[8 * k + 4], ol[8 * k + 3], ol[8 * k + 5]
        tang = (b - a) / np.linalg.norm(b - a)
        nrm = np.array([-tang[1], tang[0]])
        if nrm @ (p - cpx) < 0:
            nrm = -nrm  # outward
        L_out, L_in = 0.4 * s, 0.6 * s
        if not (inside(*(p + nrm * L_out), pad) and inside(*(p - nrm * L_in), pad)):
            offs.append(None)
            continue
        ts = np.linspace(-L_in, L_out, 401)
        prof = np.array([_bilinear(Y, p[0] + nrm[0] * ts + tang[0] * q, p[1] + nrm[1] * ts + tang[1] * q)
                         for q in (-0.5 * r, 0.0, 0.5 * r)]).mean(0)
        lo = float(np.median(prof[ts < -0.3 * s]))
        hi = float(np.median(prof[ts > 0.25 * s]))
        half = 0.5 * (lo + hi)
        above = np.nonzero(prof >= half)[0]
        if hi - lo < 0.1 * hi or not len(above):
            offs.append(None)
            continue
        j = above[0]
        if j == 0:
            offs.append(None)
            continue
        tc = ts[j - 1] + (half - prof[j - 1]) / (prof[j] - prof[j - 1]) * (ts[j] - ts[j - 1])
        offs.append(round(float(tc), 3))
    got = [q for q in corners if q is not None]
    eo = [abs(q) for q in offs if q is not None]
    tol = 0.5 + 0.5 * t["conditions"]["camera_blur_px"]
    return {"present": True, "state": m["state"], "corner_band_over_paper": corners,
            "edge_offset_px": offs,
            # under hair ("covered") a side's midpoint may be hidden: only the uncovered corners count
            "ok": bool(got and max(got) < 0.35 and (m["state"] == "covered" or not eo or max(eo) < tol)),
            "edge_tolerance_px": round(tol, 3)}


def main(dirname, ink=False):
    files = sorted(f for f in os.listdir(dirname) if f.endswith(".truth.json"))
    for f in files:
        with open(os.path.join(dirname, f)) as fh:
            t = json.load(fh)
        print(json.dumps(check_photo(dirname, t, ink=ink)))
