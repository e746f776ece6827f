"""The printed calibration marker in held-out photos (--marker none|some|all).

Written from fixtures/calibration/marker.json alone (its mm polygons, reflectances and paper), not
from any code that reads or draws the marker elsewhere in the project.

Physics (see README "Calibration marker"):
* the card is a rigid plane lying on the scalp: tangent to the head at its centre point (the
  point the camera sees at the chosen centre pixel), rocked off the tangent plane by 0-3 degrees
  (a card never sits perfectly flush on a curved, stubbly scalp), rotated at random in its plane.
  Its tilt to the camera is therefore the scalp's own obliquity there (the photo's oblique view,
  0-30 degrees about a random axis, plus the head's curvature at that point), which is what makes
  the card's scale the scalp's scale;
* it is seen through the photo's own pinhole camera AND its lens distortion (every scene point
  goes through Geometry.project), so the card's image is a homography only up to the barrel
  distortion; the truth gives the exact corners and the exact local scale, and says how far the
  image departs from the best homography;
* each pixel's reflectance is the exact area average of the card over the pixel (a 1 px box,
  the same pixel aperture as the rest of the scene): pixels whose corners all see one material
  and that hold no polygon vertex take that material, the others (and their neighbours) are
  supersampled 8 x 8;
* matte paper and ink (Lambertian, no sheen) lit by the scene's key light through the card's own
  normal, the same ambient share, gradient and vignetting as the skin, then the scene illuminant;
  auto-exposure meters the card too, so the white paper does not clip;
* then everything the skin gets: defocus/motion PSF, Bayer, noise, white balance with its error,
  demosaicing, NR, sharpening, tone curve, JPEG.
Dots and small distractors whose centre lies under the card are hidden: they are removed from
the truth, and the card's area is removed from the region's area (density counts what can be
seen)."""

import json
import os

import numpy as np

from . import conditions as C
from .colour import LUMA, rgb_to_lab, srgb_decode
from .scene import coverage, seg_distance

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_JSON = os.path.normpath(os.path.join(HERE, "..", "..", "fixtures", "calibration", "marker.json"))
MODES = ("none", "some", "all")
SS = 8  # supersampling of mixed pixels (per axis)
STREAM_PLAN, STREAM_PLACE, STREAM_HAIR = 40, 41, 42


def r4(x, n=4):
    return None if x is None else round(float(x), n)


class Spec:
    """marker.json: card size, elements (polygons in card mm, even-odd, later over earlier)."""

    def __init__(self, path=None):
        path = path or os.environ.get("HELDOUT_MARKER_JSON") or DEFAULT_JSON
        if not os.path.exists(path):
            raise SystemExit("marker.json not found at %s: give --marker-json or HELDOUT_MARKER_JSON" % path)
        with open(path) as f:
            j = json.load(f)
        self.path = path
        self.schema = j.get("schema")
        self.w, self.h = (float(q) for q in j["card_mm"])
        self.paper = np.asarray(j["paper"]["reflectance"], dtype=np.float64)
        self.elements = []
        for e in j["elements"]:
            polys = [np.asarray(p, dtype=np.float64) for p in e["polygons"]]
            self.elements.append({"name": e["name"], "role": e.get("role"), "polys": polys,
                                  "refl": np.asarray(e["reflectance"], dtype=np.float64)})
        fo = j["frame"]["outer_mm"]
        fi = j["frame"]["inner_mm"]
        self.outer = (float(fo[0]), float(fo[1]))
        self.inner = (float(fi[0]), float(fi[1]))
        # corner order: that of the frame's outer polygon in marker.json (TL, TR, BR, BL in card mm)
        frame = next((e for e in self.elements if e["role"] == "frame"), None)
        if frame is not None:
            self.frame_corners_mm = frame["polys"][0][:4].copy()
        else:
            a, b = self.outer
            self.frame_corners_mm = np.array([[a, a], [b, a], [b, b], [a, b]])
        self.card_corners_mm = np.array([[0.0, 0.0], [self.w, 0.0], [self.w, self.h], [0.0, self.h]])
        self.centre_mm = np.array([self.w / 2.0, self.h / 2.0])
        self.refl = np.vstack([np.zeros(3), self.paper] + [e["refl"] for e in self.elements])  # label+1
        self.vertices = np.vstack([p for e in self.elements for p in e["polys"]] + [self.card_corners_mm])

    def labels(self, x, y):
        """Material at card points (mm): -1 outside the card, 0 paper, i+1 element i."""
        lab = np.where((x >= 0) & (x < self.w) & (y >= 0) & (y < self.h), 0, -1).astype(np.int16)
        for i, e in enumerate(self.elements):
            inside = np.zeros(np.shape(x), bool)
            for p in e["polys"]:
                inside ^= _in_polygon(x, y, p)
            lab[inside & (lab >= 0)] = i + 1
        return lab


def _in_polygon(x, y, p):
    if len(p) == 4 and (
        (p[0, 1] == p[1, 1] and p[1, 0] == p[2, 0] and p[2, 1] == p[3, 1] and p[3, 0] == p[0, 0])
    ):
        x0, x1 = sorted((p[0, 0], p[1, 0]))
        y0, y1 = sorted((p[0, 1], p[2, 1]))
        return (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
    inside = np.zeros(np.shape(x), bool)
    n = len(p)
    for k in range(n):
        x1, y1 = p[k]
        x2, y2 = p[(k + 1) % n]
        if y1 == y2:
            continue
        c = (y1 > y) != (y2 > y)
        xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= c & (x < xi)
    return inside


# ---- planning (before the geometry exists) -------------------------------------------------
def plan(seed, cond, mode, spec, marker_max_px, max_px=None):
    """Decide presence, requested state and rotation; enlarge the frame when the card would not
    fit (the long side up to marker_max_px, keeping the aspect and the field angle), else skip.
    Mutates cond (width, height, distance_mm) when enlarging.  Returns the plan dict."""
    rng = C.stream(seed, STREAM_PLAN)
    draw_present = rng.uniform()
    req = rng.uniform()
    rot = rng.uniform(0.0, 360.0)
    seat = rng.uniform(0.0, 3.0)
    seat_az = rng.uniform(0.0, 360.0)
    one_hair = rng.uniform() < 0.25
    mk = {"mode": mode, "marker_max_px": int(marker_max_px), "max_px": max_px, "spec": spec, "present": False, "reason": None, "enlarged": None,
          "rotation_req": rot, "seat_deg": seat, "seat_az": seat_az, "one_hair": one_hair}
    if mode == "some" and draw_present >= 0.5:
        mk["reason"] = "not_drawn"
        return mk
    mk["requested_state"] = "full" if req < 0.7 else ("cut_off" if req < 0.85 else "covered")
    s = cond["px_per_mm"]
    W, H = cond["width"], cond["height"]

    def needed(r):
        a = np.radians(r)
        bbox = max(spec.w, spec.h) * s * (abs(np.cos(a)) + abs(np.sin(a))) * 1.08
        margin = 0.05 * bbox + 8
        k = max((bbox + 2 * margin) / min(W, H), np.sqrt(2.0 * (spec.w * spec.h * s * s) / (W * H)), 1.0)
        nW, nH = int(np.ceil(W * k)), int(np.ceil(H * k))
        return k, nW + nW % 2, nH + nH % 2

    # a card turned by 45 degrees needs 1.41 x the room: when the frame cannot grow enough, the
    # card is turned closer to the nearest multiple of 90 degrees (halving the offset, up to 8 times)
    base90 = 90.0 * np.round(rot / 90.0)
    r = rot
    for _ in range(9):
        k, nW, nH = needed(r)
        if max(nW, nH) <= marker_max_px or k == 1.0:
            break
        r = base90 + 0.5 * (r - base90)
    else:
        r = base90
        k, nW, nH = needed(r)
    if k > 1.0 and max(nW, nH) > marker_max_px:
        mk["reason"] = "frame_too_small"
        mk["frame_needed_px"] = [nW, nH]
        return mk
    if r != rot:
        mk["rotation_limited_from"] = rot
        mk["rotation_req"] = r % 360.0
    if k > 1.0:
        mk["enlarged"] = {"from": [W, H], "to": [nW, nH]}
        cond["distance_mm"] *= float(np.hypot(nW, nH) / np.hypot(W, H))
        cond["width"], cond["height"] = nW, nH
    if cond["codec"] == "jpeg" and cond["quality"] < 65:
        # issue 24's range is JPEG 60-95: the lowest stratum (50-64) is squeezed into 60-64
        mk["jpeg_quality_from"] = cond["quality"]
        cond["quality"] = 60 + int(round((cond["quality"] - 50) * 4 / 14.0))
    mk["present"] = True
    return mk


# ---- pose ---------------------------------------------------------------------------------------
class Pose:
    """The card's plane in the world: centre P0 (card centre), unit normal n towards the camera,
    in-plane axes e1 (card +x) and e2 (card +y)."""

    def __init__(self, geom, spec, xc, yc, rot_deg, seat_deg, seat_az_deg):
        self.g = geom
        self.spec = spec
        P0 = geom.pixel_to_surface(np.array(float(xc)), np.array(float(yc)))
        n = geom.normal(P0)
        self.n_scalp = n.copy()
        # rock the card off the tangent plane by seat_deg about an in-plane axis
        t1, t2 = geom.tangent_frame(P0)
        az = np.radians(seat_az_deg)
        axis = np.cos(az) * t1 + np.sin(az) * t2
        n = _rotate(n, axis, np.radians(seat_deg))
        if n @ (geom.cam - P0) < 0:
            n = -n
        a = geom.right - (geom.right @ n) * n
        a /= np.linalg.norm(a)
        b = np.cross(-n, a)
        r = np.radians(rot_deg)
        e1 = np.cos(r) * a + np.sin(r) * b
        e2 = np.cross(-n, e1)
        self.P0, self.n, self.e1, self.e2 = P0, n, e1, e2

    def mm_to_P(self, x, y):
        c = self.spec.centre_mm
        x = np.asarray(x, dtype=np.float64)[..., None]
        y = np.asarray(y, dtype=np.float64)[..., None]
        return self.P0 + (x - c[0]) * self.e1 + (y - c[1]) * self.e2

    def mm_to_px(self, x, y):
        return self.g.project(self.mm_to_P(x, y))

    def px_to_mm(self, xd, yd):
        g = self.g
        xu, yu = g.undistort(xd, yd)
        a = (xu - g.cx) / g.f
        b = (yu - g.cy) / g.f
        d = a[..., None] * g.right + b[..., None] * g.down + g.fwd
        t = ((self.P0 - g.cam) @ self.n) / (d @ self.n)
        P = g.cam + t[..., None] * d
        q = P - self.P0
        c = self.spec.centre_mm
        return q @ self.e1 + c[0], q @ self.e2 + c[1], P

    def jacobian(self, x, y, eps=1e-3):
        """d(px)/d(card mm) at card point (x, y), central differences."""
        J = np.empty((2, 2))
        for j, (dx, dy) in enumerate(((eps, 0.0), (0.0, eps))):
            xp, yp = self.mm_to_px(x + dx, y + dy)
            xm, ym = self.mm_to_px(x - dx, y - dy)
            J[0, j] = (xp - xm) / (2 * eps)
            J[1, j] = (yp - ym) / (2 * eps)
        return J


def _rotate(v, axis, ang):
    axis = axis / np.linalg.norm(axis)
    return v * np.cos(ang) + np.cross(axis, v) * np.sin(ang) + axis * (axis @ v) * (1 - np.cos(ang))


def place(seed, mk, geom, blur_px):
    """Choose the card's centre pixel: beside the treated area at a random edge of the frame,
    fully inside with a margin (full, covered) or with 25-55 % of its width beyond the edge
    (cut_off).  The final state is decided from the exact corners, not from the request."""
    rng = C.stream(seed, STREAM_PLACE)
    spec = mk["spec"]
    W, H = geom.W, geom.H
    m = 4.0 + 3.0 * blur_px
    side = int(rng.integers(4))
    along = rng.uniform()
    frac = rng.uniform(0.25, 0.55)
    cut = mk["requested_state"] == "cut_off"

    def corners(xc, yc):
        p = Pose(geom, spec, xc, yc, mk["rotation_req"], mk["seat_deg"], mk["seat_az"])
        x, y = p.mm_to_px(spec.card_corners_mm[:, 0], spec.card_corners_mm[:, 1])
        return p, np.stack([x, y], 1)

    xc, yc = geom.cx, geom.cy
    for _ in range(6):
        _, cs = corners(xc, yc)
        lo, hi = cs.min(0), cs.max(0)
        h = (hi - lo) / 2.0
        off = np.array([xc, yc]) - (lo + hi) / 2.0  # centre pixel relative to the bbox centre
        n_ax = 0 if side < 2 else 1  # axis normal to the chosen edge
        t_ax = 1 - n_ax
        L = (W, H)
        # along the edge: inside with margin
        span = L[t_ax] - 1 - 2 * (m + h[t_ax])
        bc = np.empty(2)
        bc[t_ax] = (m + h[t_ax] + along * span) if span > 0 else (L[t_ax] - 1) / 2.0
        if cut:
            d = h[n_ax] * (1 - 2 * frac)  # bbox centre's distance from the edge (negative = beyond)
        else:
            d = m + h[n_ax]
        edge = -0.5 if side % 2 == 0 else L[n_ax] - 0.5
        bc[n_ax] = edge + d if side % 2 == 0 else edge - d
        xc, yc = bc + off
    pose, cs = corners(xc, yc)
    mk["pose"] = pose
    mk["centre_px"] = (float(xc), float(yc))
    mk["margin_px"] = m
    mk["side"] = ["left", "right", "top", "bottom"][side]
    return mk


# ---- rendering ---------------------------------------------------------------------------------
def render_card(mk, H, W):
    """Per-pixel card coverage alpha and premultiplied reflectance over the card's bounding box."""
    pose, spec = mk["pose"], mk["spec"]
    # outline sampled densely (distortion bends the straight edges slightly)
    t = np.linspace(0, 1, 65)
    ox = np.concatenate([t * spec.w, np.full(65, spec.w), (1 - t) * spec.w, np.zeros(65)])
    oy = np.concatenate([np.zeros(65), t * spec.h, np.full(65, spec.h), (1 - t) * spec.h])
    px, py = pose.mm_to_px(ox, oy)
    xa, xb = max(0, int(np.floor(px.min())) - 2), min(W, int(np.ceil(px.max())) + 3)
    ya, yb = max(0, int(np.floor(py.min())) - 2), min(H, int(np.ceil(py.max())) + 3)
    mk["bbox"] = (ya, yb, xa, xb)
    if xa >= xb or ya >= yb:
        mk["alpha"] = np.zeros((0, 0), np.float32)
        mk["crefl"] = np.zeros((0, 0, 3), np.float32)
        return
    h, w = yb - ya, xb - xa
    # labels at pixel corners
    gx, gy = np.meshgrid(np.arange(xa, xb + 1) - 0.5, np.arange(ya, yb + 1) - 0.5)
    cx_, cy_, _ = pose.px_to_mm(gx, gy)
    lc = spec.labels(cx_, cy_)
    uni = (lc[:-1, :-1] == lc[1:, :-1]) & (lc[:-1, :-1] == lc[:-1, 1:]) & (lc[:-1, :-1] == lc[1:, 1:])
    vx, vy = pose.mm_to_px(spec.vertices[:, 0], spec.vertices[:, 1])
    vi = np.floor(vy + 0.5).astype(int) - ya
    vj = np.floor(vx + 0.5).astype(int) - xa
    ok = (vi >= 0) & (vi < h) & (vj >= 0) & (vj < w)
    mixed = ~uni
    mixed[vi[ok], vj[ok]] = True
    from scipy.ndimage import binary_dilation

    mixed = binary_dilation(mixed, iterations=1)
    lab = lc[:-1, :-1]
    refl_tab = spec.refl
    alpha = (lab >= 0).astype(np.float32)
    crefl = refl_tab[lab + 1].astype(np.float32)
    iy, ix = np.nonzero(mixed)
    off = (np.arange(SS) + 0.5) / SS - 0.5
    ox_, oy_ = np.meshgrid(off, off)
    ox_, oy_ = ox_.ravel(), oy_.ravel()
    chunk = max(1, 400000 // (SS * SS))
    for k0 in range(0, len(iy), chunk):
        yy = iy[k0 : k0 + chunk]
        xx = ix[k0 : k0 + chunk]
        sx = (xx + xa)[:, None] + ox_[None, :]
        sy = (yy + ya)[:, None] + oy_[None, :]
        mx, my, _ = pose.px_to_mm(sx, sy)
        ls = spec.labels(mx, my)
        alpha[yy, xx] = (ls >= 0).mean(1)
        crefl[yy, xx] = refl_tab[ls + 1].mean(1)
    mk["alpha"] = alpha
    mk["crefl"] = crefl  # premultiplied by coverage (outside samples count as 0)
    mk["n_mixed"] = int(len(iy))


def card_irradiance(mk, irr_plane, V):
    """Irradiance on the card at each pixel of its box: the key light through the card's normal,
    ambient share, gradient (at the card's 3D point), vignetting."""
    ya, yb, xa, xb = mk["bbox"]
    gx, gy = np.meshgrid(np.arange(xa, xb, dtype=np.float64), np.arange(ya, yb, dtype=np.float64))
    _, _, P = mk["pose"].px_to_mm(gx, gy)
    return (irr_plane(P, mk["pose"].n) * V[ya:yb, xa:xb]).astype(np.float32)


def hairs_over(seed, mk, hair_w_mm, hair_colours, hair_class):
    """Hairs lying over the card: a lock of 8-25 hairs across one of the frame's outer corners for
    a 'covered' card, one hair across the card in 25 % of the others; each hair is a gently bent
    strand of about 1.5 card diagonals, lying over the skin beyond the card too.  Returns
    (A, Cpremult, box) over the box (ya, yb, xa, xb) that holds the hairs, and distractor entries."""
    H, W = mk["H"], mk["W"]
    rng = C.stream(seed, STREAM_HAIR)
    pose, spec = mk["pose"], mk["spec"]
    J = pose.jacobian(*spec.centre_mm)
    s_card = float(np.sqrt(abs(np.linalg.det(J))))
    if mk["requested_state"] == "covered":
        k = int(rng.integers(4))
        through = spec.frame_corners_mm[k]
        n_h = int(rng.integers(8, 26))
    elif mk["one_hair"]:
        through = rng.uniform(0.15, 0.85, 2) * np.array([spec.w, spec.h])
        n_h = 1
    else:
        return None, None, None, []
    ang = rng.uniform(0, np.pi)
    dvec = np.array([np.cos(ang), np.sin(ang)])
    nvec = np.array([-dvec[1], dvec[0]])
    half = 0.75 * np.hypot(spec.w, spec.h)
    name = hair_class if hair_class in hair_colours and hair_class not in ("grey", "white") else "black"
    strands = []
    for j in range(n_h):
        wmm = hair_w_mm * rng.uniform(0.9, 1.2)
        offs = (j - (n_h - 1) / 2.0) * hair_w_mm * rng.uniform(0.9, 1.5)
        a2 = ang + rng.normal(0, np.radians(2.0))
        dv = np.array([np.cos(a2), np.sin(a2)])
        sag = rng.normal(0, 0.6)
        tt = np.linspace(-1, 1, 41)[:, None]
        pts = through + offs * nvec + tt * half * dv + (1 - tt**2) * sag * nvec
        xs, ys = pose.mm_to_px(pts[:, 0], pts[:, 1])
        col = np.array(hair_colours[name]) * np.exp(rng.normal(0, 0.08))
        strands.append((pts, xs, ys, wmm, wmm * s_card, col))
    allx = np.concatenate([q[1] for q in strands])
    ally = np.concatenate([q[2] for q in strands])
    pad = max(q[4] for q in strands) + 3
    xa, xb = max(0, int(np.floor(allx.min() - pad))), min(W, int(np.ceil(allx.max() + pad)) + 1)
    ya, yb = max(0, int(np.floor(ally.min() - pad))), min(H, int(np.ceil(ally.max() + pad)) + 1)
    if xa >= xb or ya >= yb:
        return None, None, None, []
    h, w = yb - ya, xb - xa
    A = np.zeros((h, w), np.float32)
    Cp = np.zeros((h, w, 3), np.float32)
    ents = []
    for pts, xs, ys, wmm, wpx, col in strands:
        amap = np.zeros((h, w), np.float32)
        dmin = np.full((h, w), 1e9, np.float32)
        for q in range(len(xs) - 1):
            x0i = max(xa, int(np.floor(min(xs[q], xs[q + 1]) - wpx - 2)))
            x1i = min(xb, int(np.ceil(max(xs[q], xs[q + 1]) + wpx + 3)))
            y0i = max(ya, int(np.floor(min(ys[q], ys[q + 1]) - wpx - 2)))
            y1i = min(yb, int(np.ceil(max(ys[q], ys[q + 1]) + wpx + 3)))
            if x0i >= x1i or y0i >= y1i:
                continue
            X, Y = np.meshgrid(np.arange(x0i, x1i), np.arange(y0i, y1i))
            sl = (slice(y0i - ya, y1i - ya), slice(x0i - xa, x1i - xa))
            d = seg_distance(X, Y, xs[q], ys[q], xs[q + 1], ys[q + 1])
            np.maximum(amap[sl], coverage(d, wpx) * 0.95, out=amap[sl])
            np.minimum(dmin[sl], d / max(wpx, 0.5), out=dmin[sl])
        shade = col[None, None, :] * (0.8 + 0.2 * np.exp(-((2 * dmin) ** 2)))[..., None] + 0.012 * np.exp(
            -((dmin / 0.3) ** 2)
        )[..., None]
        Cp = Cp * (1 - amap[..., None]) + (amap[..., None] * shade).astype(np.float32)
        A = A + amap * (1 - A)
        okf = (xs >= -0.5) & (xs < W - 0.5) & (ys >= -0.5) & (ys < H - 0.5)
        if okf.any():
            path = np.stack([xs[okf], ys[okf]], 1)
            mid = path[len(path) // 2]
            ents.append({"kind": "hair", "x": r4(mid[0], 2), "y": r4(mid[1], 2), "size_um": r4(wmm * 1000, 1),
                         "length_um": r4(float(np.hypot(*np.diff(pts[okf], axis=0).T).sum()) * 1000, 1),
                         "path": [[r4(a, 2), r4(b, 2)] for a, b in path[:: max(1, len(path) // 20)]],
                         "over_marker": True})
    mk["n_hairs_over"] = n_h
    return A, Cp.astype(np.float32), (ya, yb, xa, xb), ents


def composite(seed, mk, rad, E, irr_plane, V, hair_w_mm, hair_colours, hair_class):
    """Put the card (and any hair over it) into the scene radiance before the illuminant.  rad:
    (H, W, 3) reflectance x irradiance (+ shine) of the skin scene; modified in place."""
    H, W = rad.shape[:2]
    mk["H"], mk["W"] = H, W
    render_card(mk, H, W)
    ya, yb, xa, xb = mk["bbox"]
    mk["hair_A"] = None
    if ya >= yb or xa >= xb:
        return []
    Ec = card_irradiance(mk, irr_plane, V)
    mk["E_card"] = Ec
    al = mk["alpha"][..., None]
    sub = rad[ya:yb, xa:xb]
    sub *= 1 - al
    sub += mk["crefl"] * Ec[..., None]
    A, Cp, hb, ents = hairs_over(seed, mk, hair_w_mm, hair_colours, hair_class)
    if A is None:
        return ents
    hy0, hy1, hx0, hx1 = hb
    # the hair's light: the card's where it lies on the card, the skin's elsewhere
    Eh = E[hy0:hy1, hx0:hx1].astype(np.float32).copy()
    oy0, oy1, ox0, ox1 = max(ya, hy0), min(yb, hy1), max(xa, hx0), min(xb, hx1)
    if oy0 < oy1 and ox0 < ox1:
        a_ = mk["alpha"][oy0 - ya : oy1 - ya, ox0 - xa : ox1 - xa]
        e_ = Ec[oy0 - ya : oy1 - ya, ox0 - xa : ox1 - xa]
        Eh[oy0 - hy0 : oy1 - hy0, ox0 - hx0 : ox1 - hx0] = a_ * e_ + (1 - a_) * E[oy0:oy1, ox0:ox1]
    sub = rad[hy0:hy1, hx0:hx1]
    sub *= 1 - A[..., None]
    sub += Cp * Eh[..., None]
    mk["hair_A"], mk["hair_box"] = A, hb
    return ents


# ---- exposure ----------------------------------------------------------------------------------
def exposure(mk, cam, irr_c, rng):
    """Auto-exposure that meters the card as well as the skin: the raw level of the white paper
    is kept at 75-92 % of full scale and its linear output (before the tone curve) at 60-85 %, so
    the paper never clips.  Returns factors for K_raw and for the output level."""
    paper = mk["spec"].paper
    raw = cam.K_raw * (paper * cam.illum * irr_c) @ cam.Mcam.T
    hr_raw = rng.uniform(0.75, 0.92)
    # raw clips at 1, and white-balanced raw at the smallest gain (highlights rendered white)
    level = max(float(raw.max()), float((raw * cam.gains).max() / cam.gains.min()))
    f_raw = min(1.0, hr_raw / level)
    wb = raw * f_raw * cam.gains
    out = wb @ cam.CCM.T * cam.D / f_raw  # D rescales so the skin keeps its output level
    hr_out = rng.uniform(0.60, 0.85)
    f_out = min(1.0, hr_out / float(out.max()))
    return f_raw, f_out


# ---- truth -------------------------------------------------------------------------------------
def inside_card(mk, x, y, pad_mm=0.0):
    if not mk.get("present") or "pose" not in mk:
        return np.zeros(np.shape(x), bool)
    spec = mk["spec"]
    mx, my, _ = mk["pose"].px_to_mm(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return (mx >= -pad_mm) & (mx < spec.w + pad_mm) & (my >= -pad_mm) & (my < spec.h + pad_mm)


def card_mask(mk, H, W):
    """Boolean (H, W): pixels at least half covered by the card."""
    m = np.zeros((H, W), bool)
    if mk.get("present") and "alpha" in mk and mk["alpha"].size:
        ya, yb, xa, xb = mk["bbox"]
        m[ya:yb, xa:xb] = mk["alpha"] >= 0.5
    return m


def homography_fit(src, dst):
    """DLT homography (3x3, h33 = 1) mapping src (N,2) to dst (N,2)."""
    A = []
    for (x, y), (u, v) in zip(src, dst):
        A.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        A.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.asarray(A))
    Hm = vt[-1].reshape(3, 3)
    return Hm / Hm[2, 2]


def apply_h(Hm, x, y):
    q = Hm @ np.vstack([x, y, np.ones_like(x)])
    return q[0] / q[2], q[1] / q[2]


def truth_block(mk, geom, cam, cond, blur_px, sig_psf_px, blur_px_edge, hidden, hidden_area_cm2, Ec_centre, E0):
    args = {"mode": mk["mode"], "marker_max_px": mk["marker_max_px"], "max_px": mk["max_px"],
            "no_distortion": bool(mk.get("no_distortion", False))}
    if not mk.get("present"):
        out = {"present": False, "state": "absent", "reason": mk.get("reason"), "args": args}
        if "frame_needed_px" in mk:
            out["frame_needed_px"] = mk["frame_needed_px"]
        return out
    spec, pose = mk["spec"], mk["pose"]
    W, H = geom.W, geom.H
    fx, fy = pose.mm_to_px(spec.frame_corners_mm[:, 0], spec.frame_corners_mm[:, 1])
    kx, ky = pose.mm_to_px(spec.card_corners_mm[:, 0], spec.card_corners_mm[:, 1])
    c = spec.centre_mm
    cxp, cyp = pose.mm_to_px(c[0], c[1])
    J = pose.jacobian(c[0], c[1])
    sv = np.linalg.svd(J, compute_uv=False)
    s_card = float(np.sqrt(abs(np.linalg.det(J))))
    # best homography through the frame's outer corners, its scale and its residual along the frame
    Hm = homography_fit(spec.frame_corners_mm, np.stack([fx, fy], 1))
    eps = 1e-3
    xp, yp = apply_h(Hm, np.array([c[0] + eps, c[0] - eps, c[0], c[0]]), np.array([c[1], c[1], c[1] + eps, c[1] - eps]))
    Jh = np.array([[xp[0] - xp[1], xp[2] - xp[3]], [yp[0] - yp[1], yp[2] - yp[3]]]) / (2 * eps)
    s_h = float(np.sqrt(abs(np.linalg.det(Jh))))
    a, b = spec.outer
    t = np.linspace(a, b, 49)
    ex = np.concatenate([t, np.full(49, b), t, np.full(49, a)])
    ey = np.concatenate([np.full(49, a), t, np.full(49, b), t])
    x1, y1 = pose.mm_to_px(ex, ey)
    x2, y2 = apply_h(Hm, ex, ey)
    resid = float(np.hypot(x1 - x2, y1 - y2).max())
    # the frame's outer edge, exactly (8 segments a side, TL -> TR -> BR -> BL -> TL)
    fc = np.vstack([spec.frame_corners_mm, spec.frame_corners_mm[:1]])
    tt = np.linspace(0, 1, 9)[:-1, None]
    ol = np.vstack([fc[k] + tt * (fc[k + 1] - fc[k]) for k in range(4)] + [fc[:1]])
    olx, oly = pose.mm_to_px(ol[:, 0], ol[:, 1])
    # geometry of the view
    tilt = float(np.degrees(np.arccos(np.clip(pose.n @ (-geom.fwd), -1, 1))))
    los = geom.cam - pose.P0
    los /= np.linalg.norm(los)
    tilt_los = float(np.degrees(np.arccos(np.clip(pose.n @ los, -1, 1))))
    # tilt axis: the image direction about which the card is turned (perpendicular to the image
    # projection of its normal), degrees, 0 = +x, 90 = +y
    nx, ny = pose.n @ geom.right, pose.n @ geom.down
    tilt_axis = float(np.degrees(np.arctan2(ny, nx) + np.pi / 2) % 180.0) if np.hypot(nx, ny) > 1e-9 else 0.0
    rot = float(np.degrees(np.arctan2(J[1, 0], J[0, 0])) % 360.0)
    seat = float(np.degrees(np.arccos(np.clip(pose.n @ pose.n_scalp, -1, 1))))
    Js, _, _ = geom.local_jacobian(pose.P0[None, :])
    s_scalp = float(np.sqrt(abs(np.linalg.det(Js[0]))))
    # state from the exact geometry
    out_of_frame = [bool(not (-0.5 <= x < W - 0.5 and -0.5 <= y < H - 0.5)) for x, y in zip(kx, ky)]
    # share of the card's area inside the frame
    gx = np.linspace(0, spec.w, 81)
    GX, GY = np.meshgrid(gx, np.linspace(0, spec.h, 81))
    qx, qy = pose.mm_to_px(GX.ravel(), GY.ravel())
    in_frac = float(((qx >= -0.5) & (qx < W - 0.5) & (qy >= -0.5) & (qy < H - 0.5)).mean())
    # hair over the card
    A = mk.get("hair_A")
    corners_cov = [False] * 4
    ring_frac = 0.0
    if A is not None and A.size:
        ya, yb, xa, xb = mk["hair_box"]
        gxx, gyy = np.meshgrid(np.arange(xa, xb, dtype=np.float64), np.arange(ya, yb, dtype=np.float64))
        mx, my, _ = pose.px_to_mm(gxx, gyy)
        ring = (mx >= a) & (mx < b) & (my >= a) & (my < b)
        i0, i1 = spec.inner
        ring &= ~((mx >= i0) & (mx < i1) & (my >= i0) & (my < i1))
        if ring.any():
            ring_frac = float(A[ring].mean())
        for k in range(4):
            d = np.hypot(mx - spec.frame_corners_mm[k, 0], my - spec.frame_corners_mm[k, 1])
            near = d < 0.6
            corners_cov[k] = bool(near.any() and A[near].mean() >= 0.5)
    if any(out_of_frame):
        state = "cut_off"
    elif any(corners_cov) or ring_frac >= 0.1:
        state = "covered"
    else:
        state = "full"
    # colour: the patches as this photo renders them (noise-free, no blur, at their own irradiance)
    patches = []
    for e in spec.elements:
        if e["role"] not in ("grey", "colour"):
            continue
        p = e["polys"][0].mean(0)
        ppx, ppy = pose.mm_to_px(p[0], p[1])
        Ep = Ec_centre
        if "E_card" in mk and mk["E_card"].size:
            ya, yb, xa, xb = mk["bbox"]
            iy = int(np.clip(round(float(ppy)) - ya, 0, yb - ya - 1))
            ix = int(np.clip(round(float(ppx)) - xa, 0, xb - xa - 1))
            Ep = float(mk["E_card"][iy, ix])
        enc = cam.encode_colour(e["refl"], Ep)
        patches.append({"name": e["name"], "role": e["role"], "reflectance": [r4(q, 4) for q in e["refl"]],
                        "centre_px": [r4(ppx, 2), r4(ppy, 2)], "irradiance": r4(Ep, 4),
                        "srgb_photo": [r4(255 * q, 2) for q in enc],
                        "lab_photo": [r4(q, 2) for q in rgb_to_lab(srgb_decode(enc))]})
    paper_enc = cam.encode_colour(spec.paper, Ec_centre)
    return {
        "present": True, "state": state, "requested_state": mk["requested_state"],
        "marker_json": os.path.basename(spec.path), "schema": spec.schema,
        "corner_order": "marker.json frame outer polygon: (%s)" % ", ".join(
            "%g,%g mm" % (q[0], q[1]) for q in spec.frame_corners_mm),
        "corners_mm": [[r4(q, 4) for q in p] for p in spec.frame_corners_mm],
        "corners_px": [[r4(x, 3), r4(y, 3)] for x, y in zip(fx, fy)],
        "card_corners_px": [[r4(x, 3), r4(y, 3)] for x, y in zip(kx, ky)],
        "centre_mm": [r4(q, 3) for q in c], "centre_px": [r4(cxp, 3), r4(cyp, 3)],
        "px_per_mm": r4(s_card, 5), "px_per_mm_major": r4(sv[0], 5), "px_per_mm_minor": r4(sv[1], 5),
        "px_per_mm_homography": r4(s_h, 5), "homography_mm_to_px": [[float("%.9g" % q) for q in row] for row in Hm],
        "homography_residual_px": r4(resid, 4), "jacobian_px_per_mm": [[r4(q, 5) for q in row] for row in J],
        "nominal_px_per_mm": r4(geom.s, 4), "scalp_px_per_mm_at_card": r4(s_scalp, 5),
        "tilt_deg": r4(tilt, 3), "tilt_axis_deg": r4(tilt_axis, 2), "tilt_to_line_of_sight_deg": r4(tilt_los, 3),
        "card_vs_scalp_deg": r4(seat, 3), "rotation_deg": r4(rot, 3),
        "camera_blur_px": r4(blur_px, 4), "camera_blur_um": r4(1000 * blur_px / s_card, 3),
        "camera_blur_px_without_pixel": r4(np.sqrt(max(blur_px**2 - 1 / 12.0, 0.0)), 4),
        "camera_blur_um_without_pixel": r4(1000 * np.sqrt(max(blur_px**2 - 1 / 12.0, 0.0)) / s_card, 3),
        "camera_blur_px_edge": r4(blur_px_edge, 4), "camera_blur_um_edge": r4(1000 * blur_px_edge / s_card, 3),
        "optical_sigma_px": r4(sig_psf_px, 4), "defocus_radius_px": r4(cond["defocus_radius_px"], 3),
        "motion_px": r4(cond["motion_px"], 3), "jpeg_quality": cond["quality"],
        "illuminant_cct": r4(cond["cct"], 0), "illuminant_rgb": [r4(q, 5) for q in cam.illum],
        "wb_gains_applied": [r4(q, 5) for q in cam.gains], "wb_gains_ideal": [r4(q, 5) for q in mk["g_ideal"]],
        "wb_gain_error_rgb": [r4(cond["wb_error"][0], 4), 1.0, r4(cond["wb_error"][1], 4)],
        "exposure": {"k_raw": r4(cam.K_raw, 6), "digital_gain": r4(cam.D, 6), "raw_factor": r4(mk["f_raw"], 4),
                     "output_factor": r4(mk["f_out"], 4)},
        "irradiance_at_card": r4(Ec_centre, 4), "irradiance_frame_centre": r4(E0, 4),
        "paper_srgb_photo": [r4(255 * q, 2) for q in paper_enc], "patches": patches,
        "in_frame_fraction": r4(in_frac, 4), "corners_out_of_frame": out_of_frame,
        "hairs_over_card": int(mk.get("n_hairs_over", 0)), "ring_hair_fraction": r4(ring_frac, 4),
        "corners_covered": corners_cov, "hidden_dots": int(hidden), "hidden_area_cm2": r4(hidden_area_cm2, 5),
        "frame_outline_px": [[r4(x, 3), r4(y, 3)] for x, y in zip(olx, oly)],
        "side": mk["side"], "frame_enlarged": mk["enlarged"], "rotation_limited_from": mk.get("rotation_limited_from"),
        "jpeg_quality_from": mk.get("jpeg_quality_from"), "supersampled_pixels": mk.get("n_mixed", 0),
        "args": args,
    }


def luma(rgb):
    return np.asarray(rgb) @ LUMA
