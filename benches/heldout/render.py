"""One photo: scene -> optics -> camera -> file, and its truth."""

import json
import os
import time

import numpy as np
from PIL import Image
from scipy.spatial import cKDTree

from . import conditions as C
from . import marker as M
from . import profiles
from .camera import Camera, convolve_image, psf_kernel, to_stored
from .colour import LUMA, ciede2000, illuminant_rgb, normalise_k, rgb_to_lab, srgb_decode
from .geometry import Geometry
from .poisson import relaxed
from .scene import (
    SQRT12,
    Layer,
    Rotated,
    UVGrid,
    chromophore_rgb,
    coverage,
    draw_blob_uv,
    follicle_points,
    irregular_radius,
    pixel_box,
    pixel_noise,
    seg_distance,
    skin_fields,
    splat_gaussians,
    wavy,
)

SCHEMA = "heldout.truth/1"
VERSION = "heldout 1.0"

HAIR_COLOURS = {
    "black": (0.030, 0.026, 0.024),
    "dark_brown": (0.070, 0.045, 0.030),
    "brown": (0.160, 0.100, 0.060),
    "white": (0.620, 0.620, 0.600),
}
K_PORE = normalise_k([0.8, 1.0, 1.2])
K_BLOWOUT = normalise_k([1.35, 1.0, 0.6])


def r4(x, n=4):
    return None if x is None else float(round(float(x), n))


# ---------------------------------------------------------------------------------------
# regions


class Region:
    """The treated region on the scalp, in (u, v).  kind: none | hairline | patch | scar."""

    def __init__(self, kind, inside, boundary=None):
        self.kind = kind
        self.inside = inside  # f(u, v) -> bool array
        self.boundary = boundary  # closed polyline in (u, v) (n, 2), or None


def make_scar(rng, cond, box, want_strip):
    """Scar geometry: a strip (wavy band) or FUE (small round scars).  Returns a dict with a
    strength function m(u, v) in 0..1 and descriptors."""
    u0, v0, u1, v1 = box
    span = min(u1 - u0, v1 - v0)
    if want_strip:
        rot = Rotated(rng.uniform(0, np.pi))
        g = wavy(rng, amp_mm=(0.3, 1.5), wl_mm=(6.0, 20.0))
        c0 = rng.uniform(-0.2, 0.2) * span
        hw = rng.uniform(0.75, 3.0)
        edge = rng.uniform(0.08, 0.2)
        cu, cv = (u0 + u1) / 2, (v0 + v1) / 2

        def dist(u, v):
            up, vp = rot.fwd(np.asarray(u) - cu, np.asarray(v) - cv)
            return vp - c0 - g(up)

        def m(u, v):
            return 1.0 / (1.0 + np.exp((np.abs(dist(u, v)) - hw) / edge))

        # centreline for truth
        corners = np.array([[u0, v0], [u1, v0], [u0, v1], [u1, v1]]) - [cu, cv]
        up_c, _ = rot.fwd(corners[:, 0], corners[:, 1])
        ups = np.arange(up_c.min() - 1, up_c.max() + 1, 0.2)
        uu, vv = rot.inv(ups, c0 + g(ups))
        line = np.stack([uu + cu, vv + cv], axis=1)
        return {"type": "strip", "m": m, "dist": dist, "hw": hw, "line": line, "rot": rot, "g": g, "c0": c0,
                "centre": (cu, cv), "effect": None}
    n = int(rng.integers(5, 26))
    cs = np.stack([rng.uniform(u0, u1, n), rng.uniform(v0, v1, n)], axis=1)
    rs = rng.uniform(0.3, 0.6, n)
    edge = 0.06

    def m(u, v):
        u = np.asarray(u, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        out = np.zeros(np.shape(u))
        for (a, b), r in zip(cs, rs):
            out = np.maximum(out, 1.0 / (1.0 + np.exp((np.hypot(u - a, v - b) - r) / edge)))
        return out

    return {"type": "fue", "m": m, "centres": cs, "radii": rs}


def make_region(rng, cond, box, scar, frame_uv_centre):
    kind = cond["region_type"]
    u0, v0, u1, v1 = box
    span = min(u1 - u0, v1 - v0)
    if kind == "none":
        return Region("none", lambda u, v: np.ones(np.shape(u), bool))
    if kind == "hairline":
        rot = Rotated(rng.uniform(0, 2 * np.pi))
        g = wavy(rng, amp_mm=(0.2, 1.2), wl_mm=(6.0, 25.0))
        cu, cv = frame_uv_centre
        c0 = rng.uniform(-0.25, 0.25) * span

        def inside(u, v):
            up, vp = rot.fwd(np.asarray(u) - cu, np.asarray(v) - cv)
            return vp < c0 + g(up)

        corners = np.array([[u0, v0], [u1, v0], [u0, v1], [u1, v1]]) - [cu, cv]
        up_c, vp_c = rot.fwd(corners[:, 0], corners[:, 1])
        ups = np.arange(up_c.min() - 0.5, up_c.max() + 0.5, 0.1)
        top = np.stack([ups, c0 + g(ups)], axis=1)
        vlow = min(vp_c.min(), top[:, 1].min()) - 0.5
        poly = np.concatenate([top, [[ups[-1], vlow], [ups[0], vlow]]])
        uu, vv = rot.inv(poly[:, 0], poly[:, 1])
        reg = Region("hairline", inside, np.stack([uu + cu, vv + cv], axis=1))
        reg.feather = rng.uniform(1.5, 4.0)

        def outside_dist(u, v):
            up, vp = rot.fwd(np.asarray(u) - cu, np.asarray(v) - cv)
            return vp - (c0 + g(up))

        reg.outside_dist = outside_dist
        return reg
    if kind == "patch":
        cu, cv = frame_uv_centre
        cu += rng.uniform(-0.12, 0.12) * (u1 - u0)
        cv += rng.uniform(-0.12, 0.12) * (v1 - v0)
        r0 = rng.uniform(0.28, 0.5) * span
        rf = irregular_radius(rng, n=4, amp=0.2)

        def inside(u, v):
            du, dv = np.asarray(u) - cu, np.asarray(v) - cv
            return np.hypot(du, dv) < r0 * rf(np.arctan2(dv, du))

        phi = np.linspace(0, 2 * np.pi, 1440, endpoint=False)
        rr = r0 * rf(phi)
        return Region("patch", inside, np.stack([cu + rr * np.cos(phi), cv + rr * np.sin(phi)], axis=1))
    # scar camouflage: the band over the strip scar plus a margin
    margin = rng.uniform(0.5, 2.0)
    hw = scar["hw"] + margin

    def inside(u, v):
        return np.abs(scar["dist"](u, v)) < hw

    rot, g, c0 = scar["rot"], scar["g"], scar["c0"]
    cu, cv = scar["centre"]
    corners = np.array([[u0, v0], [u1, v0], [u0, v1], [u1, v1]]) - [cu, cv]
    up_c, _ = rot.fwd(corners[:, 0], corners[:, 1])
    ups = np.arange(up_c.min() - 0.5, up_c.max() + 0.5, 0.1)
    upper = np.stack([ups, c0 + g(ups) + hw], axis=1)
    lower = np.stack([ups[::-1], c0 + g(ups[::-1]) - hw], axis=1)
    poly = np.concatenate([upper, lower])
    uu, vv = rot.inv(poly[:, 0], poly[:, 1])
    return Region("scar", inside, np.stack([uu + cu, vv + cv], axis=1))


def clip_polygon(poly, xmin, ymin, xmax, ymax):
    """Sutherland-Hodgman clip of a polygon (n, 2) to a rectangle."""
    pts = [tuple(p) for p in poly]
    for axis, val, keep_ge in ((0, xmin, True), (0, xmax, False), (1, ymin, True), (1, ymax, False)):
        if not pts:
            break
        out = []
        for i in range(len(pts)):
            a, b = pts[i - 1], pts[i]
            ina = (a[axis] >= val) if keep_ge else (a[axis] <= val)
            inb = (b[axis] >= val) if keep_ge else (b[axis] <= val)
            if inb:
                if not ina:
                    t = (val - a[axis]) / (b[axis] - a[axis])
                    out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
                out.append(b)
            elif ina:
                t = (val - a[axis]) / (b[axis] - a[axis])
                out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
        pts = out
    return np.array(pts)


# ---------------------------------------------------------------------------------------
# ink


def draw_ink(rng, cond, box, region, scar_m, moles):
    """Place and parameterise the pigment dots (in (u, v) and the local tangent plane).
    Each dot: dict(u, v, comps=[(ox, oy, h, R, sigma, k)], kind, shade, session, on_scar, in_region)."""
    f = cond["fade"]
    n_sess = int(rng.integers(1, 4)) if cond["fade_level"] == 0 else int(rng.integers(2, 5))
    dens = rng.uniform(20.0, 120.0) / 100.0  # per mm^2
    w = rng.dirichlet(np.full(n_sess, 3.0))
    n_shades = int(rng.integers(3, 5))
    dil = [1.0, 0.8, 0.62, 0.48][:n_shades]
    beta = rng.uniform(0.0, 0.35) * (0.2 + f)
    kshade = [normalise_k([1 + ws + beta, 1.0, 1 - ws - 0.8 * beta]) for ws in rng.uniform(-0.06, 0.06, n_shades)]
    peak_fresh = rng.uniform(0.6, 1.3)
    sig_fresh = rng.uniform(0.006, 0.016)
    growth = rng.uniform(0.015, 0.05)
    h_fresh = peak_fresh / (1 - np.exp(-(0.06**2) / (2 * sig_fresh**2)))
    p_irr = {"1RL": rng.uniform(0.0, 0.05), "3RL": rng.uniform(0.03, 0.12)}
    p_smear = rng.uniform(0.0, 0.04) + 0.06 * f
    p_blow = rng.uniform(0.08, 0.15) if rng.uniform() < 0.15 else rng.uniform(0.0, 0.04)
    near_limit = rng.uniform(0.03, 0.1) if cond["fade_level"] >= 1 else 0.0
    info = {"sessions": n_sess, "target_density_cm2": dens * 100, "shades": n_shades, "blue_shift": beta,
            "peak_fresh": peak_fresh, "needles": []}
    u0, v0, u1, v1 = box
    dots = []
    prev = np.empty((0, 2))
    for i in range(n_sess):
        needle = "3RL" if rng.uniform() < 0.45 else "1RL"
        info["needles"].append(needle)
        Dm = rng.uniform(0.125, 0.148) if needle == "3RL" else rng.uniform(0.092, 0.110)
        pts = relaxed(rng, u0, v0, u1, v1, dens * w[i], strength=rng.uniform(0.7, 0.95), iters=8)
        if len(prev) and len(pts):
            dmin = 0.45 / np.sqrt(dens * w[:i].sum())
            near = cKDTree(prev).query(pts)[0] < dmin
            pts = pts[~(near & (rng.random(len(pts)) < 0.7))]
        if region.kind == "hairline":
            od = region.outside_dist(pts[:, 0], pts[:, 1])
            inr = od < 0
            feather = (~inr) & (rng.random(len(pts)) < 0.5 * (1 - od / region.feather))
            keep = inr | feather
        else:
            inr = region.inside(pts[:, 0], pts[:, 1])
            keep = inr
        for cu, cv, r in moles:
            keep &= np.hypot(pts[:, 0] - cu, pts[:, 1] - cv) > r + 0.3
        pts, inr = pts[keep], inr[keep]
        if i > 0 and dots:
            # touch-up: re-ink some faded dots of earlier sessions (a new deposit in the same spot;
            # it becomes a component of that dot, which is then flagged "reinked")
            p_re = rng.uniform(0.0, 0.15)
            for dd in dots:
                if dd["session"] < i and rng.uniform() < p_re:
                    c0 = dd["comps"][0]
                    off = rng.normal(0, 0.015, 2)
                    Rn = c0[3] * rng.uniform(0.85, 1.1)
                    dd["comps"].append((c0[0] + off[0], c0[1] + off[1],
                                        h_fresh * dil[min(n_shades - 1, n_sess - 1 - i)] * (1 - f) * rng.uniform(0.7, 1.1),
                                        Rn, max(0.005, sig_fresh + growth * f), kshade[min(n_shades - 1, n_sess - 1 - i)]))
                    dd["reinked"] = True
        prev = np.concatenate([prev, pts])
        n = len(pts)
        if n == 0:
            continue
        D = np.clip(Dm * np.exp(rng.normal(0, 0.06, n)), 0.08, 0.165)
        R = D / 2
        fi = np.clip(f + rng.normal(0, 0.05 + 0.1 * f, n) + 0.03 * (n_sess - 1 - i), 0.0, 0.96)
        sig = np.maximum(0.005, (sig_fresh + growth * fi) * np.exp(rng.normal(0, 0.2, n)))
        shade = np.full(n, min(n_shades - 1, n_sess - 1 - i))
        sh = rng.random(n)
        shade = np.clip(shade + (sh < 0.08) - ((sh > 0.92) & (shade > 0)), 0, n_shades - 1)
        h = h_fresh * np.array(dil)[shade] * (1 - fi) * np.exp(rng.normal(0, 0.12, n))
        ons = scar_m(pts[:, 0], pts[:, 1]) > 0.5 if scar_m is not None else np.zeros(n, bool)
        sig = np.where(ons, sig * 1.3, sig)
        h = np.where(ons, h * 0.85, h)
        nl = rng.random(n) < near_limit
        tgt = rng.uniform(0.015, 0.05, n)
        h = np.where(nl, tgt / (1 - np.exp(-(R**2) / (2 * sig**2))), h)
        kinds = rng.random(n)
        for j in range(n):
            k = kshade[shade[j]] * np.exp(rng.normal(0, 0.015, 3))
            k = normalise_k(k)
            comps = None
            kind = "plain"
            x = kinds[j]
            if x < p_blow:
                kind = "blowout"
                hal_ink = rng.uniform(0.8, 2.5) * h[j] * np.pi * R[j] ** 2
                Rh = R[j] * rng.uniform(1.2, 2.0)
                sh_ = rng.uniform(0.05, 0.15)
                comps = [(0.0, 0.0, h[j], R[j], sig[j], k),
                         (0.0, 0.0, hal_ink / (np.pi * Rh**2), Rh, sh_, normalise_k(K_BLOWOUT * k))]
            elif x < p_blow + p_smear:
                kind = "smeared"
                ang = rng.uniform(0, 2 * np.pi)
                L = rng.uniform(0.1, 0.35)
                tail = rng.uniform(0.4, 1.0) * h[j] * np.pi * R[j] ** 2
                nt = 6
                wts = np.linspace(1.0, 0.4, nt)
                wts /= wts.sum()
                Rt = R[j] * 0.6
                comps = [(0.0, 0.0, h[j], R[j], sig[j], k)]
                for m_ in range(nt):
                    t = (m_ + 1) / nt * L
                    comps.append((t * np.cos(ang), t * np.sin(ang), tail * wts[m_] / (np.pi * Rt**2), Rt,
                                  sig[j] * 1.3, k))
            elif x < p_blow + p_smear + p_irr[needle]:
                kind = "irregular"
                m_ = int(rng.integers(2, 4))
                shares = rng.dirichlet(np.full(m_, 4.0))
                tot = h[j] * np.pi * R[j] ** 2
                comps = []
                for q in range(m_):
                    a = rng.uniform(0, 2 * np.pi)
                    o = rng.uniform(0.15, 0.35) * R[j]
                    Rq = R[j] * rng.uniform(0.6, 0.85)
                    comps.append((o * np.cos(a), o * np.sin(a), tot * shares[q] / (np.pi * Rq**2), Rq, sig[j], k))
            else:
                comps = [(0.0, 0.0, h[j], R[j], sig[j], k)]
            dots.append({"u": pts[j, 0], "v": pts[j, 1], "comps": comps, "kind": kind, "shade": int(shade[j]),
                         "session": i, "on_scar": bool(ons[j]), "in_region": bool(inr[j]),
                         "near_limit": bool(nl[j]), "fade": float(fi[j]), "reinked": False})
    return dots, info


# ---------------------------------------------------------------------------------------


def render(seed, kind="mixed", max_px=2000, timing=None, debug=None, marker=None):
    """marker: None (no card; the photo is exactly as without the option), or a dict
    {"mode": "some"|"all", "spec": marker.Spec, "max_px": long-side cap when enlarging}."""
    t_start = time.time()
    cond = C.draw(seed, max_px)
    mk = None
    if marker is not None and marker["mode"] != "none":
        mk = M.plan(seed, cond, marker["mode"], marker["spec"], marker["max_px"], max_px)
        if marker.get("no_distortion"):
            cond["k1"] = 0.0  # diagnostic: a distortion-free lens, so the card's image is a homography
            mk["no_distortion"] = True
    smp = kind == "mixed"
    H, W = cond["height"], cond["width"]
    s = cond["px_per_mm"]
    geom = Geometry(W, H, s, cond["distance_mm"], cond["curvature_radius_mm"], cond["oblique_deg"],
                    cond["tilt_az_deg"], cond["roll_deg"], cond["k1"])
    u, v, dA = geom.maps()
    if mk is not None and mk["present"]:
        est_blur = np.sqrt(cond["defocus_radius_px"] ** 2 / 4 + cond["motion_px"] ** 2 / 24 + 1 / 12)
        M.place(seed, mk, geom, est_blur)
    umin, umax, vmin, vmax = float(u.min()), float(u.max()), float(v.min()), float(v.max())
    box = (umin - 1.5, vmin - 1.5, umax + 1.5, vmax + 1.5)
    grid = UVGrid(umin - 3, vmin - 3, umax + 3, vmax + 3, 0.2)
    frame_uv_centre = (float(u[H // 2, W // 2]), float(v[H // 2, W // 2]))
    want = dict(cond["want"])
    if kind == "bare":
        want["stubble"] = False
        want["hair"] = False
        if cond["distractors_on"]:
            want["freckle"] = want["freckle"] or C.stream(seed, 11).uniform() < 0.5
    if kind == "stubble_only":
        want["stubble"] = True
    distractors = []

    # ---- skin fields ----------------------------------------------------------------
    rng = C.stream(seed, 2)
    base = cond["skin_rgb"]
    F = skin_fields(rng, geom, grid, cond, u, v)
    mel, hb, bright = F["mel"], F["hb"], F["bright"]
    tex_amp = np.full((H, W), np.float32(rng.uniform(0.02, 0.05)))
    tex_corr = rng.uniform(0.03, 0.08)

    # ---- features: scar, freckles, moles ------------------------------------------
    rng = C.stream(seed, 4)
    scar = None
    scar_m = None
    if want["scar"]:
        scar = make_scar(rng, cond, box, want_strip=(cond["region_type"] == "scar" or rng.uniform() < 0.6))
        scar_m = scar["m"]
        m = scar_m(u, v).astype(np.float32)
        dm, db, dh = rng.uniform(0.03, 0.12), rng.uniform(0.05, 0.2), rng.uniform(-0.02, 0.05)
        mel -= m * dm
        bright *= 1 + m * db
        hb += m * dh
        tex_amp *= 1 - 0.75 * m
        if scar["type"] == "strip":
            xs, ys = geom.project(geom.uv_to_P(scar["line"][:, 0], scar["line"][:, 1]))
            ok = (xs > -0.5) & (xs < W - 0.5) & (ys > -0.5) & (ys < H - 0.5)
            if ok.any():
                path = np.stack([xs[ok], ys[ok]], axis=1)[:: max(1, ok.sum() // 60)]
                distractors.append({"kind": "scar", "x": r4(np.median(xs[ok]), 2), "y": r4(np.median(ys[ok]), 2),
                                    "size_um": r4(2000 * scar["hw"], 1),
                                    "length_um": r4(1000 * 0.2 * ok.sum(), 1),
                                    "path": [[r4(a, 2), r4(b, 2)] for a, b in path]})
        else:
            for (a, b), r in zip(scar["centres"], scar["radii"]):
                x, y = geom.project(geom.uv_to_P(a, b))
                if -0.5 <= x < W - 0.5 and -0.5 <= y < H - 0.5:
                    distractors.append({"kind": "scar", "x": r4(x, 2), "y": r4(y, 2), "size_um": r4(2000 * r, 1),
                                        "length_um": None, "path": None})
    moles = []
    if want["freckle"]:
        area = (box[2] - box[0]) * (box[3] - box[1]) / 100.0
        ncl = max(1, int(rng.poisson(rng.uniform(0.1, 0.6) * area)))
        for _ in range(ncl):
            ccu, ccv = rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])
            for _ in range(int(rng.integers(1, 8))):
                cu, cv = ccu + rng.normal(0, 3), ccv + rng.normal(0, 3)
                d = rng.uniform(1.0, 5.0)
                amp = rng.uniform(0.04, 0.18)
                res = draw_blob_uv(mel, geom, u, v, cu, cv, d / 2, amp, irregular_radius(rng, 5, 0.2), 0.25,
                                   rot=rng.uniform(0, np.pi), aspect=rng.uniform(1.0, 1.4))
                if res is not None:
                    x, y = geom.project(geom.uv_to_P(cu, cv))
                    if -0.5 <= x < W - 0.5 and -0.5 <= y < H - 0.5:
                        distractors.append({"kind": "freckle", "x": r4(x, 2), "y": r4(y, 2), "size_um": r4(1000 * d, 1),
                                            "length_um": None, "path": None})
    if want["mole"]:
        for _ in range(int(rng.integers(1, 3))):
            fx, fy = rng.uniform(0.1, 0.9) * W, rng.uniform(0.1, 0.9) * H
            cu, cv = float(u[int(fy), int(fx)]), float(v[int(fy), int(fx)])
            d = rng.uniform(2.0, 6.0)
            amp = rng.uniform(0.3, 0.9)
            rf = irregular_radius(rng, 4, 0.12)
            rot, asp = rng.uniform(0, np.pi), rng.uniform(1.0, 1.4)
            draw_blob_uv(mel, geom, u, v, cu, cv, d / 2, amp, rf, 0.06, rot=rot, aspect=asp)
            draw_blob_uv(hb, geom, u, v, cu, cv, d / 2, 0.05, rf, 0.06, rot=rot, aspect=asp)
            draw_blob_uv(mel, geom, u, v, cu, cv, d / 4, amp * 0.3, rf, 0.3, rot=rot, aspect=asp)
            moles.append((cu, cv, d / 2 * asp))
            x, y = geom.project(geom.uv_to_P(cu, cv))
            distractors.append({"kind": "mole", "x": r4(x, 2), "y": r4(y, 2), "size_um": r4(1000 * d, 1),
                                "length_um": None, "path": None})

    # ---- region and ink -------------------------------------------------------------
    rng = C.stream(seed, 10)
    region = make_region(rng, cond, box, scar, frame_uv_centre) if smp else Region(
        "none", lambda a, b: np.ones(np.shape(a), bool))
    rng = C.stream(seed, 6)
    if smp:
        dots, ink_info = draw_ink(rng, cond, box, region, scar_m, moles)
    else:
        dots, ink_info = [], {"sessions": 0}

    # ---- camera -----------------------------------------------------------------------
    illum = illuminant_rgb(cond["cct"])
    Mcam = np.asarray(cond["Mcam"], dtype=np.float64)
    g_ideal = 1.0 / (Mcam @ illum)
    g_ideal /= g_ideal[1]
    gains = g_ideal * np.array([cond["wb_error"][0], 1.0, cond["wb_error"][1]])
    raw_skin = Mcam @ (base * illum)
    K_raw = cond["raw_level"] / raw_skin[1]
    Yskin = float(LUMA @ base)
    out_level = 0.2 ** cond["ae_strength"] * Yskin ** (1 - cond["ae_strength"]) * 2.0 ** cond["ev_error"]

    def make_camera(K_raw, out_level, raw_level):
        pre = np.linalg.inv(Mcam) @ (gains * K_raw * raw_skin)
        D = out_level / float(LUMA @ pre)
        cam = Camera(Mcam=Mcam, illum=illum, gains=gains, K_raw=K_raw, D=D, full_well=cond["full_well"],
                     read_e=cond["read_e"], tone_c=cond["tone_c"], tone_w=cond["tone_w"], tone_p=3.0,
                     nr_strength=cond["nr_strength"], nr_sigma_s=cond["nr_sigma_s"], chroma_nr=cond["chroma_nr"],
                     sharpen_amount=cond["sharpen_amount"], sharpen_sigma=cond["sharpen_sigma"],
                     demosaic=cond["demosaic"], codec=cond["codec"], quality=cond["quality"], chroma=cond["chroma"])
        rngm = C.stream(seed, 9)
        cam.calibrate_nr(base, 1.0, rngm)
        noise_rel = cam.measure_noise(base, 1.0, rngm)
        blur_px = cam.measure_blur(base, 1.0, kernel)
        noise_factor = noise_rel / float(cam.raw_rel_noise(raw_level))
        tone_gamma = float(cam.tone_slope(out_level))
        return cam, noise_rel, blur_px, noise_factor, tone_gamma

    kernel = psf_kernel(cond["defocus_radius_px"], cond["motion_px"], cond["motion_angle_deg"])
    sig_psf_px = float(np.sqrt(cond["defocus_radius_px"] ** 2 / 4 + cond["motion_px"] ** 2 / 24))
    cam, noise_rel, blur_px, noise_factor, tone_gamma = make_camera(K_raw, out_level, cond["raw_level"])

    # ---- lighting ------------------------------------------------------------------------
    rng = C.stream(seed, 8)
    P_c = geom.pixel_to_surface(np.array(geom.cx), np.array(geom.cy))
    view_c = (geom.cam - P_c) / np.linalg.norm(geom.cam - P_c)
    shine = want["shine"]
    if shine:
        hx, hy = rng.uniform(0.15, 0.85) * W, rng.uniform(0.15, 0.85) * H
        P_h = geom.pixel_to_surface(np.array(hx), np.array(hy))
        n_h = geom.normal(P_h)
        vw = (geom.cam - P_h) / np.linalg.norm(geom.cam - P_h)
        light = 2 * (n_h @ vw) * n_h - vw
        size_mm = rng.uniform(2.0, 10.0)
        dh = size_mm / (2 * geom.Rs)
        Nexp = 2 * np.log(2) / dh**2
        ks = rng.uniform(0.5, 3.0) * Yskin
    else:
        a = rng.normal(0, np.radians(12), 2)
        light = view_c + np.array([a[0], a[1], 0.0])
    light = light / np.linalg.norm(light)
    amb = rng.uniform(0.2, 0.6)
    grad = rng.uniform(0.0, 0.25)
    gang = rng.uniform(0, 2 * np.pi)
    gdir = np.array([np.cos(gang), np.sin(gang), 0.0])
    n0l = max(float(geom.normal(P_c) @ light), 0.2)
    half = 0.5 * (umax - umin)

    def irr(P):
        n = geom.normal(P)
        lam = np.maximum(n @ light, 0.0) / n0l
        return (amb + (1 - amb) * lam) * (1 + grad * ((P - P_c) @ gdir) / half)

    E = geom.smooth(irr)
    E_c0 = float(E[H // 2, W // 2])
    E /= np.float32(E[H // 2, W // 2])
    vig_a = (1 - cond["vignetting"]) ** -0.5 - 1
    rx = ((np.arange(W) - geom.cx) / geom.rn) ** 2
    ry = ((np.arange(H) - geom.cy) / geom.rn) ** 2
    V = (1.0 / (1.0 + vig_a * (ry[:, None] + rx[None, :])) ** 2).astype(np.float32)
    E *= V
    blur_px_edge = None
    if mk is not None and mk["present"]:

        def irr_plane(P, n):
            lam = max(float(n @ light), 0.0) / n0l
            return (amb + (1 - amb) * lam) * (1 + grad * ((P - P_c) @ gdir) / half) / E_c0

        pc = mk["pose"]
        xcp, ycp = pc.mm_to_px(*pc.spec.centre_mm)
        Vc = 1.0 / (1.0 + vig_a * (((xcp - geom.cx) / geom.rn) ** 2 + ((ycp - geom.cy) / geom.rn) ** 2)) ** 2
        Ec_centre = float(irr_plane(pc.P0, pc.n) * Vc)
        mk["f_raw"], mk["f_out"] = M.exposure(mk, cam, Ec_centre, C.stream(seed, 43))
        mk["g_ideal"] = g_ideal
        if mk["f_raw"] < 1.0 or mk["f_out"] < 1.0:
            K_raw = K_raw * mk["f_raw"]
            out_level = out_level * mk["f_out"]
            cond["raw_level"] = float(cond["raw_level"] * mk["f_raw"])
            cam, noise_rel, blur_px, noise_factor, tone_gamma = make_camera(K_raw, out_level, cond["raw_level"])
        blur_px_edge = float(cam.measure_blur(pc.spec.paper, Ec_centre, kernel, contrast=0.04))
    if shine:

        def specf(P):
            n = geom.normal(P)
            vw = geom.cam - P
            vw /= np.linalg.norm(vw, axis=-1, keepdims=True)
            hh = vw + light
            hh /= np.linalg.norm(hh, axis=-1, keepdims=True)
            return np.power(np.clip((n * hh).sum(-1), 0, 1), Nexp)

        spec = geom.smooth(specf) * np.clip(0.6 + 0.5 * F["sebum"], 0, None)
        distractors.append({"kind": "shine", "x": r4(hx, 2), "y": r4(hy, 2), "size_um": r4(size_mm * 1000, 1),
                            "length_um": None, "path": None})

    # ---- erythema halos round fresh dots ---------------------------------------------------
    rng = C.stream(seed, 12)
    if smp and cond["fade_level"] == 0 and rng.uniform() < 0.6 and dots:
        du = np.array([d["u"] for d in dots])
        dv = np.array([d["v"] for d in dots])
        xs, ys = geom.project(geom.uv_to_P(du, dv))
        sel = (xs > -20) & (xs < W + 20) & (ys > -20) & (ys < H + 20)
        sig_mm = rng.uniform(0.15, 0.35)
        halo = splat_gaussians((H, W), xs[sel], ys[sel], np.full(sel.sum(), sig_mm * s),
                               rng.uniform(0.03, 0.1, sel.sum()), nbins=1)
        hb += halo
    skin_smooth = chromophore_rgb(base, mel, hb, bright)
    del mel, hb, bright

    # ---- fine texture, pores, follicles, hair ----------------------------------------
    rng = C.stream(seed, 3)
    n1 = pixel_noise(rng, (H, W), tex_corr * s)
    n2 = pixel_noise(rng, (H, W), 0.6)
    tex = tex_amp * (0.8 * n1 + 0.35 * n2)
    # skin micro-relief: a network of fine furrows (zero-crossings of band-passed noise)
    line_sp = rng.uniform(0.15, 0.4)
    n3 = pixel_noise(rng, (H, W), line_sp * s / 2.5)
    furrow = np.exp(-((n3 / (0.18 + 0.6 / max(line_sp * s, 1.0))) ** 2))
    line_od = rng.uniform(0.01, 0.035)
    tex -= np.float32(np.log(10) * line_od) * furrow * (tex_amp / tex_amp.max())
    tex = np.exp(tex).astype(np.float32)
    del tex_amp, n3, furrow

    def not_scar(pts):
        if scar_m is None or len(pts) == 0:
            return np.ones(len(pts), bool)
        return scar_m(pts[:, 0], pts[:, 1]) < 0.3

    pore_pts = follicle_points(rng, box, rng.uniform(60, 200), strength=0.3)
    pore_pts = pore_pts[not_scar(pore_pts)]
    pore_d = rng.uniform(0.04, 0.08, len(pore_pts))
    pore_od = rng.uniform(0.015, 0.05, len(pore_pts))
    rngh = C.stream(seed, 5)
    fol_density = rngh.uniform(40, 180)
    stubble_on = want["stubble"]
    fol = follicle_points(rngh, box, fol_density, strength=0.5)
    if len(fol) and smp and region.kind in ("hairline", "patch"):
        inr = region.inside(fol[:, 0], fol[:, 1])
        keepp = np.where(inr, 0.35 if region.kind == "patch" else 0.6, 1.0)
        fol = fol[rngh.random(len(fol)) < keepp]
    fol = fol[not_scar(fol)]
    mole_ok = np.ones(len(fol), bool)
    for cu, cv, r in moles:
        mole_ok &= np.hypot(fol[:, 0] - cu, fol[:, 1] - cv) > r
    fol = fol[mole_ok]
    hair_w = rngh.uniform(0.06, 0.12)
    hair_class = str(rngh.choice(["black", "dark_brown", "brown", "grey", "white"], p=[0.35, 0.3, 0.1, 0.15, 0.1]))
    days = rngh.uniform(1.0, 3.0)
    fol_w = hair_w * np.exp(rngh.normal(0, 0.12, len(fol)))
    if stubble_on:
        fol_d = fol_w * 1.3
        fol_od = rngh.uniform(0.1, 0.3, len(fol))
    else:
        fol_d = rngh.uniform(0.06, 0.1, len(fol))
        fol_od = rngh.uniform(0.02, 0.08, len(fol))
    allp = np.concatenate([pore_pts, fol]) if len(fol) else pore_pts
    alld = np.concatenate([pore_d, fol_d])
    allod = np.concatenate([pore_od, fol_od])
    allk = ["pore"] * len(pore_pts) + ["follicle"] * len(fol)
    pore_map = np.zeros((H, W), np.float32)
    if len(allp):
        Pp = geom.uv_to_P(allp[:, 0], allp[:, 1])
        xs, ys = geom.project(Pp)
        inb = (xs > -5) & (xs < W + 5) & (ys > -5) & (ys < H + 5)
        xi = np.clip(np.round(xs).astype(int), 0, W - 1)
        yi = np.clip(np.round(ys).astype(int), 0, H - 1)
        sl = 1.0 / np.sqrt(dA[yi, xi])
        sig = np.sqrt((alld / 2.355 * sl) ** 2 + 1 / 12.0)
        pore_map = splat_gaussians((H, W), xs[inb], ys[inb], sig[inb], allod[inb])
        for j in np.nonzero(inb & (xs >= -0.5) & (xs < W - 0.5) & (ys >= -0.5) & (ys < H - 0.5))[0]:
            distractors.append({"kind": allk[j], "x": r4(xs[j], 2), "y": r4(ys[j], 2), "size_um": r4(alld[j] * 1000, 1),
                                "length_um": None, "path": None})
    if debug is not None and debug.get("keep_rad"):
        debug["skin_smooth"] = skin_smooth @ LUMA.astype(np.float32)
        debug["tex"] = tex.copy()
        debug["pore"] = pore_map.copy()
        debug["E"] = E.copy()
    skin_full = skin_smooth * tex[..., None] * np.power(np.float32(10), -pore_map[..., None] * K_PORE.astype(np.float32))
    del tex, pore_map

    hair_layer = Layer(H, W)
    flake_layer = Layer(H, W)
    th0 = rngh.uniform(0, 2 * np.pi)
    lam1, lam2 = rngh.uniform(10, 40, 2)
    ph1, ph2 = rngh.uniform(0, 2 * np.pi, 2)

    def flow(uu, vv):
        return th0 + 0.4 * np.sin(2 * np.pi * uu / lam1 + ph1) + 0.4 * np.sin(2 * np.pi * vv / lam2 + ph2)

    def hair_colour():
        if hair_class == "grey":
            name = "white" if rngh.uniform() < 0.4 else "black"
        else:
            name = hair_class
        col = np.array(HAIR_COLOURS[name]) * np.exp(rngh.normal(0, 0.08))
        return col, (0.85 if name == "white" else 0.95), (0.06 if name == "white" else 0.012)

    if stubble_on and len(fol):
        Pf = geom.uv_to_P(fol[:, 0], fol[:, 1])
        xb, yb = geom.project(Pf)
        for j in range(len(fol)):
            if not (-60 < xb[j] < W + 60 and -60 < yb[j] < H + 60):
                continue
            nh = 1 + int(rngh.random() < 0.25) + int(rngh.random() < 0.05)
            for _ in range(nh):
                th = flow(fol[j, 0], fol[j, 1]) + rngh.normal(0, np.radians(12))
                elev = np.radians(rngh.uniform(30, 60))
                L = 0.35 * days * np.exp(rngh.normal(0, 0.2))
                Lp = L * np.cos(elev)
                tu = fol[j, 0] + Lp * np.cos(th)
                tv = fol[j, 1] + Lp * np.sin(th)
                xt, yt = geom.project(geom.uv_to_P(tu, tv))
                x0, y0 = xb[j], yb[j]
                sl = 1.0 / np.sqrt(dA[int(np.clip(round(y0), 0, H - 1)), int(np.clip(round(x0), 0, W - 1))])
                wpx = fol_w[j] * sl
                xa = max(0, int(np.floor(min(x0, xt) - wpx - 2)))
                xb_ = min(W, int(np.ceil(max(x0, xt) + wpx + 3)))
                ya = max(0, int(np.floor(min(y0, yt) - wpx - 2)))
                yb_ = min(H, int(np.ceil(max(y0, yt) + wpx + 3)))
                col, opa, glint = hair_colour()
                if xa < xb_ and ya < yb_:
                    X, Y = np.meshgrid(np.arange(xa, xb_), np.arange(ya, yb_))
                    d = seg_distance(X, Y, x0, y0, xt, yt)
                    a = coverage(d, wpx) * opa
                    shade = (col[None, None, :] * (0.8 + 0.2 * np.exp(-((2 * d / max(wpx, 0.5)) ** 2)))[..., None]
                             + glint * np.exp(-((d / (0.2 * wpx + 0.3)) ** 2))[..., None])
                    hair_layer.over(ya, yb_, xa, xb_, a, shade)
                if -0.5 <= x0 < W - 0.5 and -0.5 <= y0 < H - 0.5:
                    distractors.append({"kind": "stubble", "x": r4(x0, 2), "y": r4(y0, 2),
                                        "size_um": r4(fol_w[j] * 1000, 1), "length_um": r4(Lp * 1000, 1),
                                        "path": [[r4(x0, 2), r4(y0, 2)], [r4(xt, 2), r4(yt, 2)]]})
    if want["hair"]:
        for _ in range(int(rngh.integers(1, 5))):
            # a cubic Bezier across the footprint
            c0 = np.array([rngh.uniform(box[0], box[2]), rngh.uniform(box[1], box[3])])
            ang = rngh.uniform(0, 2 * np.pi)
            span = max(box[2] - box[0], box[3] - box[1])
            dvec = np.array([np.cos(ang), np.sin(ang)])
            nvec = np.array([-dvec[1], dvec[0]])
            p0 = c0 - dvec * span
            p3 = c0 + dvec * span
            p1 = c0 - dvec * span / 3 + nvec * rngh.normal(0, span / 4)
            p2 = c0 + dvec * span / 3 + nvec * rngh.normal(0, span / 4)
            tt = np.linspace(0, 1, int(2 * span / 0.1))[:, None]
            curve = (1 - tt) ** 3 * p0 + 3 * (1 - tt) ** 2 * tt * p1 + 3 * (1 - tt) * tt**2 * p2 + tt**3 * p3
            inb = (curve[:, 0] > box[0]) & (curve[:, 0] < box[2]) & (curve[:, 1] > box[1]) & (curve[:, 1] < box[3])
            curve = curve[inb]
            if len(curve) < 2:
                continue
            xs, ys = geom.project(geom.uv_to_P(curve[:, 0], curve[:, 1]))
            wmm = hair_w * rngh.uniform(0.9, 1.2)
            col, opa, glint = hair_colour()
            bx0 = max(0, int(np.floor(xs.min())) - 4)
            bx1 = min(W, int(np.ceil(xs.max())) + 5)
            by0 = max(0, int(np.floor(ys.min())) - 4)
            by1 = min(H, int(np.ceil(ys.max())) + 5)
            if bx0 >= bx1 or by0 >= by1:
                continue
            amap = np.zeros((by1 - by0, bx1 - bx0), np.float32)
            dmap = np.full((by1 - by0, bx1 - bx0), 1e9, np.float32)
            for q in range(len(xs) - 1):
                xa_, ya_ = min(xs[q], xs[q + 1]), min(ys[q], ys[q + 1])
                xb2, yb2 = max(xs[q], xs[q + 1]), max(ys[q], ys[q + 1])
                yi_ = int(np.clip(round(ys[q]), 0, H - 1))
                xi_ = int(np.clip(round(xs[q]), 0, W - 1))
                wpx = wmm / np.sqrt(dA[yi_, xi_])
                x0i = max(bx0, int(np.floor(xa_ - wpx - 2)))
                x1i = min(bx1, int(np.ceil(xb2 + wpx + 3)))
                y0i = max(by0, int(np.floor(ya_ - wpx - 2)))
                y1i = min(by1, int(np.ceil(yb2 + wpx + 3)))
                if x0i >= x1i or y0i >= y1i:
                    continue
                X, Y = np.meshgrid(np.arange(x0i, x1i), np.arange(y0i, y1i))
                d = seg_distance(X, Y, xs[q], ys[q], xs[q + 1], ys[q + 1])
                sub = amap[y0i - by0 : y1i - by0, x0i - bx0 : x1i - bx0]
                np.maximum(sub, coverage(d, wpx) * opa, out=sub)
                sd = dmap[y0i - by0 : y1i - by0, x0i - bx0 : x1i - bx0]
                np.minimum(sd, d / max(wpx, 0.5), out=sd)
            shade = (col[None, None, :] * (0.8 + 0.2 * np.exp(-((2 * dmap) ** 2)))[..., None]
                     + glint * np.exp(-((dmap / 0.3) ** 2))[..., None])
            hair_layer.over(by0, by1, bx0, bx1, amap, shade)
            okf = (xs >= -0.5) & (xs < W - 0.5) & (ys >= -0.5) & (ys < H - 0.5)
            if okf.any():
                path = np.stack([xs[okf], ys[okf]], axis=1)[:: max(1, okf.sum() // 80)]
                mid = path[len(path) // 2]
                distractors.append({"kind": "hair", "x": r4(mid[0], 2), "y": r4(mid[1], 2),
                                    "size_um": r4(wmm * 1000, 1), "length_um": r4(okf.sum() * 100.0, 1),
                                    "path": [[r4(a, 2), r4(b, 2)] for a, b in path]})
    rngf = C.stream(seed, 13)
    if want["flake"]:
        area = (box[2] - box[0]) * (box[3] - box[1]) / 100.0
        tmp = np.zeros((H, W), np.float32)
        for _ in range(int(rngf.poisson(rngf.uniform(0.3, 3.0) * area))):
            cu, cv = rngf.uniform(box[0], box[2]), rngf.uniform(box[1], box[3])
            d = rngf.uniform(0.08, 0.5)
            res = draw_blob_uv(tmp, geom, u, v, cu, cv, d / 2, 1.0, irregular_radius(rngf, 4, 0.2), 0.2,
                               rot=rngf.uniform(0, np.pi), aspect=rngf.uniform(1.0, 1.8), mode="max")
            if res is None:
                continue
            val, (xa, xb_, ya, yb_) = res
            tmp[ya:yb_, xa:xb_] = 0
            col = np.array([0.74, 0.72, 0.66]) * rngf.uniform(0.9, 1.05)
            flake_layer.over(ya, yb_, xa, xb_, (val * rngf.uniform(0.25, 0.7)).astype(np.float32), col)
            x, y = geom.project(geom.uv_to_P(cu, cv))
            if -0.5 <= x < W - 0.5 and -0.5 <= y < H - 0.5:
                distractors.append({"kind": "flake", "x": r4(x, 2), "y": r4(y, 2), "size_um": r4(d * 1000, 1),
                                    "length_um": None, "path": None})

    # ---- ink: render every dot analytically through the local camera mapping -------------
    ink_od = np.zeros((H, W, 3), np.float32)
    truth_dots = []
    dot_meta = []
    if dots:
        du = np.array([d["u"] for d in dots])
        dv = np.array([d["v"] for d in dots])
        Q = geom.uv_to_P(du, dv)
        xc, yc = geom.project(Q)
        J, _, _ = geom.local_jacobian(Q)
        detJ = np.abs(np.linalg.det(J))
        normJ = np.linalg.norm(J, ord=2, axis=(1, 2))
        Jinv = np.linalg.inv(J)
        psf_mm2 = sig_psf_px**2 / detJ  # optical PSF variance in scalp mm^2 (isotropic approximation)
        for i, d in enumerate(dots):
            x0, y0 = xc[i], yc[i]
            sap2 = 1.0 / 12.0 / detJ[i]
            ext = max(np.hypot(c[0], c[1]) + c[3] + 4.5 * np.sqrt(c[4] ** 2 + sap2 + psf_mm2[i]) for c in d["comps"])
            hw = int(np.ceil(ext * normJ[i])) + 2
            ix, iy = int(round(x0)), int(round(y0))
            xa, xb_ = max(0, ix - hw), min(W, ix + hw + 1)
            ya, yb_ = max(0, iy - hw), min(H, iy + hw + 1)
            in_frame = (-0.5 <= x0 < W - 0.5) and (-0.5 <= y0 < H - 0.5)
            if xa >= xb_ or ya >= yb_:
                continue
            dxs = np.arange(xa, xb_) - x0
            dys = np.arange(ya, yb_) - y0
            Ji = Jinv[i]
            tx = Ji[0, 0] * dxs[None, :] + Ji[0, 1] * dys[:, None]
            ty = Ji[1, 0] * dxs[None, :] + Ji[1, 1] * dys[:, None]
            od3 = np.zeros((yb_ - ya, xb_ - xa, 3))
            odb3 = np.zeros_like(od3) if in_frame else None
            for ox, oy, h, R, sg, k in d["comps"]:
                r = np.hypot(tx - ox, ty - oy)
                sp = np.sqrt(sg * sg + sap2)
                od = h * np.interp(r / sp, profiles.RHO_GRID, profiles.column(R / sp), right=0.0)
                od3 += od[..., None] * k
                if in_frame:
                    sb = np.sqrt(sg * sg + sap2 + psf_mm2[i])
                    odb = h * np.interp(r / sb, profiles.RHO_GRID, profiles.column(R / sb), right=0.0)
                    odb3 += odb[..., None] * k
            ink_od[ya:yb_, xa:xb_] += od3.astype(np.float32)
            if in_frame:
                xi = int(np.clip(round(x0), 0, W - 1))
                yi = int(np.clip(round(y0), 0, H - 1))
                sk = skin_smooth[yi, xi].astype(np.float64)
                wl = LUMA * sk / float(LUMA @ sk)
                sig_lin = ((1 - np.power(10.0, -odb3)) * wl).sum(-1)
                sig_ph = 1 - np.power(np.clip(1 - sig_lin, 1e-6, 1), tone_gamma)
                lvl = cond["raw_level"] * float(E[yi, xi]) * float(LUMA @ sk) / Yskin
                nrel = noise_factor * float(cam.raw_rel_noise(lvl))
                snr = float(np.sqrt((sig_ph**2).sum()) / nrel)
                dot_meta.append((i, x0, y0, xi, yi, snr, hw))

    # ---- compose the scene radiance ---------------------------------------------------------
    if debug is not None:
        debug["ink_od_lum"] = (ink_od @ LUMA.astype(np.float32)).astype(np.float32)
        debug["dA"] = dA
    if debug is not None and debug.get("no_ink"):
        ink_od[:] = 0
    refl = skin_full * np.power(np.float32(10), -ink_od)
    del skin_full
    A = flake_layer.A[..., None]
    refl = refl * (1 - A) + flake_layer.C
    A = hair_layer.A[..., None]
    refl = refl * (1 - A) + hair_layer.C
    rad = refl * E[..., None]
    if shine:
        sparkle = np.clip(1 + 0.3 * n1, 0.2, None)
        rad += (ks * spec * sparkle * V * (1 - 0.5 * hair_layer.A))[..., None]
    marker_hairs = []
    if mk is not None and mk["present"]:
        marker_hairs = M.composite(seed, mk, rad, E, irr_plane, V, hair_w, HAIR_COLOURS, hair_class)
    rad *= illum.astype(np.float32)
    del refl
    hairA = hair_layer.A
    if mk is not None and mk["present"] and mk.get("hair_A") is not None:
        # hairs lying over the card reach the skin beside it too: they count in dots' hair_cover
        hairA = hairA.copy()
        ya_, yb_, xa_, xb_ = mk["hair_box"]
        hairA[ya_:yb_, xa_:xb_] = 1 - (1 - hairA[ya_:yb_, xa_:xb_]) * (1 - mk["hair_A"])
    del flake_layer

    # ---- optics and camera ---------------------------------------------------------------------
    if debug is not None and debug.get("keep_rad"):
        debug["rad"] = rad.copy()
    rad = convolve_image(rad.astype(np.float32), kernel)
    if debug is not None and debug.get("keep_rad"):
        debug["rad_blur"] = rad.copy()
    stored = to_stored(rad, cond["orientation"])
    del rad
    cfa = cam.mosaic(stored)
    del stored
    cfa = cam.add_noise(cfa, C.stream(seed, 7))
    img8 = cam.quantise(cam.develop(cfa))
    del cfa
    exif = Image.Exif()
    exif[0x010F] = cond["make"]
    exif[0x0110] = cond["model"]
    exif[0x0112] = int(cond["orientation"])
    exif[0x0131] = VERSION
    exif[0x0132] = cond["date"]
    exif.get_ifd(0x8769)[0x9003] = cond["date"]  # DateTimeOriginal
    data = cam.encode_bytes(img8, exif=exif)
    ext = "png" if cond["codec"] == "png" else "jpg"

    # ---- truth --------------------------------------------------------------------------------
    on_card = None
    hide = np.zeros(len(dots), bool)
    near_card = np.zeros(len(dots), bool)
    if mk is not None and mk["present"]:
        # the card hides what lies under it: dots and point-like distractors centred under it
        on_card = M.card_mask(mk, H, W)
        if dot_meta:
            ii = np.array([q[0] for q in dot_meta])
            mx_ = np.array([q[1] for q in dot_meta])
            my_ = np.array([q[2] for q in dot_meta])
            hide[ii] = M.inside_card(mk, mx_, my_)
            near_card[ii] = M.inside_card(mk, mx_, my_, pad_mm=0.3) & ~hide[ii]
        keep = []
        for q in distractors:
            if q["path"] is None and bool(M.inside_card(mk, np.array(q["x"]), np.array(q["y"]))):
                continue
            keep.append(q)
        distractors = keep + marker_hairs
    region_poly = None
    if smp and region.kind != "none":
        bxs, bys = geom.project(geom.uv_to_P(region.boundary[:, 0], region.boundary[:, 1]))
        poly = clip_polygon(np.stack([bxs, bys], axis=1), -0.5, -0.5, W - 0.5, H - 0.5)
        region_poly = [[r4(a, 2), r4(b, 2)] for a, b in poly]
        mask = region.inside(u, v)
        if on_card is not None:
            hidden_area = float(dA[mask & on_card].sum(dtype=np.float64) / 100.0)
            mask &= ~on_card
        area_cm2 = float(dA[mask].sum(dtype=np.float64) / 100.0)
    else:
        if on_card is not None:
            hidden_area = float(dA[on_card].sum(dtype=np.float64) / 100.0)
            area_cm2 = float(dA[~on_card].sum(dtype=np.float64) / 100.0)
        else:
            area_cm2 = float(dA.sum(dtype=np.float64) / 100.0)

    fw_all = np.zeros(len(dots))
    for i, d in enumerate(dots):
        c0 = max(d["comps"], key=lambda c: c[2] * c[3] ** 2)
        fw_all[i] = profiles.fwhm(c0[3], c0[4])
    eq = {}
    for i, x0, y0, xi, yi, snr, hw in dot_meta:
        d = dots[i]
        if len(d["comps"]) > 1:
            eq[i] = profiles.round_equivalent(d["comps"])
            fw_all[i] = eq[i]["fwhm"]
    overlaps = np.zeros(len(dots), bool)
    if len(dots) > 1:
        tree = cKDTree(Q)
        pairs = tree.query_pairs(float(fw_all.max()), output_type="ndarray")
        if len(pairs):
            dd = np.linalg.norm(Q[pairs[:, 0]] - Q[pairs[:, 1]], axis=1)
            hit = dd < 0.5 * (fw_all[pairs[:, 0]] + fw_all[pairs[:, 1]])
            overlaps[pairs[hit, 0]] = True
            overlaps[pairs[hit, 1]] = True
    n_in = 0
    for i, x0, y0, xi, yi, snr, hw in dot_meta:
        d = dots[i]
        if hide[i]:
            continue
        if i in eq:
            e = eq[i]
            Ji = J[i]
            # centroid offset (tangent mm) -> pixels
            x = x0 + Ji[0, 0] * e["cx"] + Ji[0, 1] * e["cy"]
            y = y0 + Ji[1, 0] * e["cx"] + Ji[1, 1] * e["cy"]
            R, sg, pk, ink, fw, k = e["R"], e["sigma"], e["peak"], e["ink"], e["fwhm"], e["k"]
            apk = e["actual_peak"]
            mj = Ji @ e["major"]
            ecc = e["ecc"]
            ang = float(np.degrees(np.arctan2(mj[1], mj[0])) % 180.0)
        else:
            _, _, h, R, sg, k = d["comps"][0]
            x, y = x0, y0
            pk = float(profiles.peak(h, R, sg))
            ink = float(profiles.ink(h, R))
            fw = float(profiles.fwhm(R, sg))
            apk = pk
            ecc, ang = 0.0, 0.0
        sk = skin_smooth[yi, xi].astype(np.float64)
        Ed = float(E[yi, xi])
        skin_lab = rgb_to_lab(srgb_decode(cam.encode_colour(sk, Ed)))
        dot_lab = rgb_to_lab(srgb_decode(cam.encode_colour(sk * np.power(10.0, -np.asarray(k) * pk), Ed)))
        de = float(ciede2000(dot_lab, skin_lab))
        lsc = float(np.sqrt(detJ[i]))
        edge = bool(min(x + 0.5, W - 0.5 - x, y + 0.5, H - 0.5 - y) < 0.5 * fw * lsc + 1.0)
        if d["in_region"]:
            n_in += 1
        rr = max(1, int(0.5 * fw * lsc))
        occl = float(hairA[max(0, yi - rr) : yi + rr + 1, max(0, xi - rr) : xi + rr + 1].mean())
        truth_dots.append({
            "id": len(truth_dots), "x": r4(x, 3), "y": r4(y, 3),
            "diameter_um": r4(2000 * R, 2), "spread_um": r4(1000 * sg, 2), "peak_od": r4(pk, 4),
            "ink": float("%.5g" % ink), "fwhm_um": r4(1000 * fw, 2), "k": [r4(q, 4) for q in k],
            "lab": [r4(q, 2) for q in dot_lab], "skin_lab": [r4(q, 2) for q in skin_lab], "delta_e": r4(de, 3),
            "snr": r4(snr, 2), "in_region": d["in_region"], "overlaps": bool(overlaps[i]), "kind": d["kind"],
            "shade": d["shade"], "on_scar": d["on_scar"],
            # extras (not in the minimal contract)
            "session": d["session"], "near_limit": d["near_limit"], "edge": edge,
            "local_px_per_mm": r4(lsc, 3), "peak_od_actual": r4(apk, 4), "eccentricity": r4(ecc, 3),
            "angle_deg": r4(ang, 1), "hair_cover": r4(occl, 3), "reinked": d["reinked"], "fade": r4(d["fade"], 3),
        })
        if on_card is not None:
            truth_dots[-1]["near_marker"] = bool(near_card[i])
    dens = n_in / area_cm2 if area_cm2 > 0 else 0.0
    fade_mean = float(np.mean([q["fade"] for q in truth_dots if not q["near_limit"]])) if truth_dots else None
    skin_lab_c = rgb_to_lab(srgb_decode(cam.encode_colour(base, 1.0)))
    kinds_present = sorted({d["kind"] for d in distractors})
    truth = {
        "schema": SCHEMA, "generator": VERSION, "seed": int(seed), "file": "h%d.%s" % (seed, ext),
        "width": W, "height": H, "orientation": int(cond["orientation"]),
        "make": cond["make"], "model": cond["model"],
        "px_per_mm": r4(s, 4), "camera_blur_um": r4(1000 * blur_px / s, 2),
        "region": region_poly, "region_area_cm2": r4(area_cm2, 5), "density_per_cm2": r4(dens, 3),
        "conditions": {
            "kind": "smp" if smp else kind, "skin_type": cond["skin_type"], "px_per_mm": r4(s, 4),
            "camera_blur_px": r4(blur_px, 3), "optical_sigma_px": r4(sig_psf_px, 3),
            "defocus_radius_px": r4(cond["defocus_radius_px"], 3), "motion_px": r4(cond["motion_px"], 3),
            "jpeg_quality": cond["quality"], "chroma": cond["chroma"], "fade": r4(fade_mean, 3) if smp else None,
            "fade_target": r4(cond["fade"], 3) if smp else None,
            "oblique_deg": r4(cond["oblique_deg"], 2), "distortion": r4(cond["k1"], 4),
            "curvature_radius_mm": r4(cond["curvature_radius_mm"], 2), "shine": bool(shine),
            "distractors": kinds_present, "noise_rel": r4(noise_rel, 5),
            "sharpening": r4(cond["sharpen_amount"], 3), "sharpen_sigma_px": r4(cond["sharpen_sigma"], 3),
            "noise_reduction": r4(cond["nr_strength"], 3),
            "white_balance_error": r4(float(np.hypot(*np.log(cond["wb_error"]))), 4),
            "wb_gain_error_rgb": [r4(cond["wb_error"][0], 4), 1.0, r4(cond["wb_error"][1], 4)],
            "camera": cond["camera"], "demosaic": cond["demosaic"], "polarised": bool(cond["polarised"]),
            "region_type": region.kind if smp else None, "tone_gamma": r4(tone_gamma, 4),
            "exposure_ev": r4(cond["ev_error"], 3), "illuminant_cct": r4(cond["cct"], 0),
            "vignetting": r4(cond["vignetting"], 3), "working_distance_mm": r4(cond["distance_mm"], 2),
            "skin_lab": [r4(q, 2) for q in skin_lab_c], "skin_lab_scene": [r4(q, 2) for q in cond["skin_lab_target"]],
            "sessions": ink_info.get("sessions"), "ink_blue_shift": r4(ink_info.get("blue_shift"), 4),
            "needles": ink_info.get("needles"), "target_density_cm2": r4(ink_info.get("target_density_cm2"), 2),
            "stubble_days": r4(days, 2) if stubble_on else None, "hair_colour": hair_class,
            "hair_width_um": r4(hair_w * 1000, 1), "strata": {
                "skin": cond["skin_type"], "scale_band": int(np.searchsorted([30, 60], s, side="right")),
                "blur": cond["blur_level"], "fade": cond["fade_level"], "distractors_on": cond["distractors_on"],
                "region": cond["region_type"]},
        },
        "dots": truth_dots,
        "distractors": distractors,
    }
    if mk is not None:
        if mk["present"]:
            truth["marker"] = M.truth_block(mk, geom, cam, cond, blur_px, sig_psf_px, blur_px_edge, int(hide.sum()),
                                            hidden_area, Ec_centre, float(E[H // 2, W // 2]))
        else:
            truth["marker"] = M.truth_block(mk, None, None, cond, None, None, None, 0, 0.0, None, None)
    if timing is not None:
        timing["seconds"] = time.time() - t_start
    return data, ext, truth


def write_photo(seed, kind, max_px, out_dir, marker=None):
    timing = {}
    data, ext, truth = render(seed, kind, max_px, timing, marker=marker)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "h%d.%s" % (seed, ext))
    with open(path, "wb") as f:
        f.write(data)
    with open(os.path.join(out_dir, "h%d.truth.json" % seed), "w") as f:
        json.dump(truth, f, separators=(",", ":"), allow_nan=False)
    return path, truth, timing["seconds"]
