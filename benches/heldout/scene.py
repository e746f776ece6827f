"""Scene content on the scalp: skin fields, skin features, hair, shine and helpers to draw small
objects into per-pixel maps through the geometry.  Everything physical is in mm on the scalp
((u, v) equal-area coordinates or the local tangent plane); drawing goes through the camera
geometry, so curvature, obliquity and distortion act on every object the same way."""

import numpy as np
from scipy import ndimage

from .colour import K_HAEMOGLOBIN, K_MELANIN
from .poisson import relaxed

SQRT12 = np.sqrt(12.0)


class UVGrid:
    """A regular grid over the (u, v) footprint, for smooth random fields."""

    def __init__(self, u0, v0, u1, v1, step):
        self.u0, self.v0, self.step = u0, v0, step
        self.nu = int(np.ceil((u1 - u0) / step)) + 1
        self.nv = int(np.ceil((v1 - v0) / step)) + 1

    def noise(self, rng, corr_mm):
        """Unit-sd Gaussian random field with correlation length ~corr_mm."""
        w = rng.standard_normal((self.nv, self.nu))
        f = ndimage.gaussian_filter(w, corr_mm / self.step, mode="wrap")
        return f / max(f.std(), 1e-12)

    def sample(self, field, u, v):
        iu = (np.asarray(u, dtype=np.float64) - self.u0) / self.step
        iv = (np.asarray(v, dtype=np.float64) - self.v0) / self.step
        return ndimage.map_coordinates(field, [iv.ravel(), iu.ravel()], order=1, mode="nearest").reshape(np.shape(u))


def pixel_noise(rng, shape, corr_px):
    """Unit-sd Gaussian noise with a Gaussian correlation of corr_px pixels; wide correlations are
    made on a coarser grid and interpolated (bilinear) to save time."""
    corr_px = max(corr_px, 0.5)
    step = int(corr_px // 2.5) if corr_px >= 5 else 1
    if step <= 1:
        w = rng.standard_normal(shape, dtype=np.float32)
        f = ndimage.gaussian_filter(w, corr_px)
    else:
        H, W = shape
        h, w_ = H // step + 3, W // step + 3
        w = rng.standard_normal((h, w_), dtype=np.float32)
        c = ndimage.gaussian_filter(w, corr_px / step, mode="wrap")
        f = ndimage.zoom(c, step, order=1, prefilter=False, grid_mode=False)[:H, :W]
    return (f / max(float(f.std()), 1e-12)).astype(np.float32)


def splat_gaussians(shape, xs, ys, sig_px, amps, nbins=6):
    """Sum of isotropic Gaussian spots (peak value amps, sigma sig_px pixels, already including
    the pixel aperture) at sub-pixel positions; drawn by binning the sigmas, bilinear splatting
    of impulses and one Gaussian filter per bin."""
    H, W = shape
    out = np.zeros(shape, np.float32)
    if len(xs) == 0:
        return out
    xs, ys, sig_px, amps = map(np.asarray, (xs, ys, sig_px, amps))
    lo, hi = np.log(sig_px.min()), np.log(sig_px.max())
    edges = np.linspace(lo, hi + 1e-9, nbins + 1)
    b = np.clip(np.searchsorted(edges, np.log(sig_px), side="right") - 1, 0, nbins - 1)
    for i in range(nbins):
        sel = b == i
        if not sel.any():
            continue
        sig = float(np.exp(np.log(sig_px[sel]).mean()))
        imp = np.zeros(shape, np.float32)
        x, y = xs[sel], ys[sel]
        a = amps[sel] * 2 * np.pi * sig_px[sel] ** 2  # integral
        x0 = np.floor(x).astype(int)
        y0 = np.floor(y).astype(int)
        fx, fy = x - x0, y - y0
        for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            xx, yy = x0 + dx, y0 + dy
            ok = (xx >= 0) & (xx < W) & (yy >= 0) & (yy < H)
            np.add.at(imp, (yy[ok], xx[ok]), (a * w)[ok].astype(np.float32))
        out += ndimage.gaussian_filter(imp, sig, truncate=3.5)
    return out


def pixel_box(geom, P, radius_mm, H, W, pad=2):
    """Integer pixel bounding box of a scalp disc of radius radius_mm around P (3,)."""
    t1, t2 = geom.tangent_frame(P)
    ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    pts = P + radius_mm * (np.cos(ang)[:, None] * t1 + np.sin(ang)[:, None] * t2)
    x, y = geom.project(pts)
    xa = max(0, int(np.floor(x.min())) - pad)
    xb = min(W, int(np.ceil(x.max())) + pad + 1)
    ya = max(0, int(np.floor(y.min())) - pad)
    yb = min(H, int(np.ceil(y.max())) + pad + 1)
    return xa, xb, ya, yb


def irregular_radius(rng, n=5, amp=0.15):
    """A random smooth closed outline: r(phi) = 1 + sum_k a_k cos(k phi + p_k), k = 2..n+1,
    tabulated on 2048 angles (evaluated by periodic interpolation)."""
    k = np.arange(2, 2 + n)
    a = rng.uniform(0, amp, n) / np.sqrt(k - 1)
    ph = rng.uniform(0, 2 * np.pi, n)
    grid = np.linspace(-np.pi, np.pi, 2049)
    tab = 1.0 + (a[None, :] * np.cos(k[None, :] * grid[:, None] + ph[None, :])).sum(1)

    def r(phi):
        return np.interp(np.asarray(phi, dtype=np.float64), grid, tab, period=2 * np.pi)

    return r


def coverage(d, w):
    """Fraction of a 1-px box at distance d from the axis of a band of width w (both px)."""
    return np.clip(np.minimum(d + 0.5, w / 2.0) - np.maximum(d - 0.5, -w / 2.0), 0.0, 1.0)


def seg_distance(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    if L2 < 1e-12:
        return np.hypot(px - ax, py - ay)
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / L2, 0.0, 1.0)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


class Layer:
    """Opaque-ish material over the skin (hair, flakes): premultiplied colour C and alpha A."""

    def __init__(self, H, W):
        self.A = np.zeros((H, W), np.float32)
        self.C = np.zeros((H, W, 3), np.float32)

    def over(self, ya, yb, xa, xb, alpha, colour):
        """colour: (3,) or (h, w, 3)."""
        a = alpha.astype(np.float32)
        A = self.A[ya:yb, xa:xb]
        C = self.C[ya:yb, xa:xb]
        C *= (1 - a)[..., None]
        C += a[..., None] * np.asarray(colour, np.float32)
        A *= 1 - a
        A += a


# ---------------------------------------------------------------------------------------
# curves on the scalp


def wavy(rng, amp_mm=(0.3, 2.0), wl_mm=(3.0, 12.0), n=3):
    A = rng.uniform(*amp_mm, n) / np.arange(1, n + 1)
    L = rng.uniform(*wl_mm, n)
    ph = rng.uniform(0, 2 * np.pi, n)

    def g(x):
        x = np.asarray(x, dtype=np.float64)
        return (A[None, :] * np.sin(x.reshape(-1, 1) * 2 * np.pi / L[None, :] + ph[None, :])).sum(1).reshape(x.shape)

    return g


class Rotated:
    """(u, v) -> (u', v') rotation by angle a."""

    def __init__(self, a):
        self.c, self.s = np.cos(a), np.sin(a)

    def fwd(self, u, v):
        return self.c * u + self.s * v, -self.s * u + self.c * v

    def inv(self, up, vp):
        return self.c * up - self.s * vp, self.s * up + self.c * vp


# ---------------------------------------------------------------------------------------
# skin reflectance


def skin_fields(rng, geom, grid, cond, u, v):
    """Smooth skin chromophore maps per pixel: melanin OD, haemoglobin OD, brightness factor.
    Sampled on the geometry's coarse grid and spline-interpolated to pixels."""
    mott_sd = rng.uniform(0.015, 0.045)
    mott_c = rng.uniform(1.5, 5.0)
    f1 = grid.noise(rng, mott_c)
    f2 = grid.noise(rng, mott_c * 3)
    mel = mott_sd * (0.75 * f1 + 0.45 * f2)
    hb_sd = rng.uniform(0.01, 0.04)
    f3 = grid.noise(rng, rng.uniform(2.0, 8.0))
    hb = cond["erythema"] + hb_sd * f3
    f4 = grid.noise(rng, rng.uniform(1.0, 4.0))
    br = 1.0 + rng.uniform(0.01, 0.03) * f4
    sebum = grid.noise(rng, rng.uniform(1.0, 3.0))

    def on_grid(field):
        def fn(P):
            uu, vv = geom.P_to_uv(P)
            return grid.sample(field, uu, vv)

        return geom.smooth(fn)

    return {
        "mel": on_grid(mel),
        "hb": on_grid(hb),
        "bright": on_grid(br),
        "sebum": on_grid(sebum),
        "mottle_sd": mott_sd,
    }


def chromophore_rgb(base, mel, hb, bright):
    """Skin reflectance (H, W, 3) from base colour and per-pixel OD maps."""
    od = mel[..., None] * K_MELANIN.astype(np.float32) + hb[..., None] * K_HAEMOGLOBIN.astype(np.float32)
    return (np.asarray(base, np.float32) * np.power(np.float32(10.0), -od) * bright[..., None]).astype(np.float32)


def draw_blob_uv(target, geom, u, v, cu, cv, radius_mm, amp, rfun, edge, rot=0.0, aspect=1.0, mode="add"):
    """Add amp * soft-edged irregular blob (in (u,v)) to target (H, W) over its pixel box."""
    H, W = target.shape
    P = geom.uv_to_P(cu, cv)
    xa, xb, ya, yb = pixel_box(geom, P, radius_mm * 1.6 * max(aspect, 1.0) + 0.3, H, W)
    if xa >= xb or ya >= yb:
        return None
    du = u[ya:yb, xa:xb] - cu
    dv = v[ya:yb, xa:xb] - cv
    c, s = np.cos(rot), np.sin(rot)
    a = (c * du + s * dv) / aspect
    b = -s * du + c * dv
    rr = np.hypot(a, b)
    phi = np.arctan2(b, a)
    rho = rr / (radius_mm * rfun(phi))
    val = 1.0 / (1.0 + np.exp((rho - 1.0) / edge))
    if mode == "max":
        np.maximum(target[ya:yb, xa:xb], amp * val, out=target[ya:yb, xa:xb])
    else:
        target[ya:yb, xa:xb] += (amp * val).astype(np.float32)
    return val, (xa, xb, ya, yb)


def follicle_points(rng, box, density_cm2, strength=0.55):
    u0, v0, u1, v1 = box
    if density_cm2 <= 0:
        return np.empty((0, 2))
    return relaxed(rng, u0, v0, u1, v1, density_cm2 / 100.0, strength=strength, iters=5)
