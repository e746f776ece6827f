"""Radial profile of the dot model: a uniform disc of radius R convolved with an isotropic
Gaussian of standard deviation sigma, and helpers built on it.

G(rho, a) = P(|X + rho e| <= a) for X ~ N(0, I2) is the disc(a) * Gaussian(1) profile at distance
rho, normalised so that a disc of height h gives h * G(r / sigma, R / sigma).  It is tabulated
once per process by integrating  t exp(-(t - rho)^2 / 2) I0e(t rho) dt  (exact, no Gaussian
approximation of the disc)."""

import numpy as np
from scipy import ndimage, optimize
from scipy.special import i0e

RHO_STEP = 0.02
RHO_MAX = 48.0
A_STEP = 0.01
A_MAX = 32.0

_TABLE = None  # shape (n_a, n_rho), float64


def table():
    global _TABLE
    if _TABLE is None:
        rho = np.arange(0.0, RHO_MAX + RHO_STEP / 2, RHO_STEP)
        t = np.arange(0.0, A_MAX + A_STEP / 2, A_STEP)
        out = np.empty((t.size, rho.size))
        chunk = 200
        for i in range(0, rho.size, chunk):
            r = rho[i : i + chunk][None, :]
            f = t[:, None] * np.exp(-0.5 * (t[:, None] - r) ** 2) * i0e(t[:, None] * r)
            c = np.zeros_like(f)
            c[1:] = np.cumsum(0.5 * (f[1:] + f[:-1]) * A_STEP, axis=0)
            out[:, i : i + chunk] = c
        out /= out[-1, 0]  # trapezoid bias (~1e-5): total mass of a large disc is 1
        _TABLE = np.clip(out, 0.0, 1.0)
    return _TABLE


RHO_GRID = np.arange(0.0, RHO_MAX + RHO_STEP / 2, RHO_STEP)


def column(a):
    """G(rho_grid, a) for one value of a = R / sigma (linear interpolation in a)."""
    tab = table()
    x = min(max(a, 0.0), A_MAX - 2 * A_STEP) / A_STEP
    j = int(x)
    w = x - j
    return tab[j] * (1.0 - w) + tab[j + 1] * w


def profile(r, h, R, sigma):
    """OD of the dot model at distance(s) r (same units as R and sigma)."""
    col = column(R / sigma)
    return h * np.interp(np.asarray(r, dtype=np.float64) / sigma, RHO_GRID, col, right=0.0)


def g2d(rho, a):
    """G(rho, a) for arrays rho, a (bilinear in the table)."""
    tab = table()
    ai = np.clip(np.asarray(a, dtype=np.float64), 0, A_MAX - 2 * A_STEP) / A_STEP
    ri = np.clip(np.asarray(rho, dtype=np.float64), 0, RHO_MAX) / RHO_STEP
    return ndimage.map_coordinates(tab, [ai.ravel(), ri.ravel()], order=1, mode="nearest").reshape(np.shape(rho))


def peak(h, R, sigma):
    return h * (1.0 - np.exp(-0.5 * (R / sigma) ** 2))


def ink(h, R):
    return h * np.pi * R * R


def fwhm(R, sigma):
    """Full width at half maximum of the disc(R) * Gaussian(sigma) profile."""
    a = R / sigma
    col = column(a)
    half = 0.5 * col[0]
    # col is non-increasing in rho: find the crossing
    idx = int(np.searchsorted(-col, -half))
    if idx <= 0:
        return 0.0
    r0, r1 = RHO_GRID[idx - 1], RHO_GRID[idx]
    c0, c1 = col[idx - 1], col[idx]
    x = r0 + (c0 - half) / (c0 - c1) * (r1 - r0) if c0 != c1 else r0
    return 2.0 * x * sigma


def round_equivalent(components, n_r=64, n_phi=24):
    """Best round equivalent of a composite dot.

    components: list of (ox, oy, h, R, sigma, k) with offsets (ox, oy) in a local tangent
    plane (mm), h the disc OD (luminance), R, sigma in mm, k the per-channel OD ratio.
    Returns a dict: centre (ink-weighted centroid, tangent mm), ink (exact total), the
    (R, sigma) of the disc*Gaussian that has the same ink and best fits the azimuthally
    averaged profile about the centroid (least squares weighted by area), its peak and FWHM,
    the actual maximum OD, the ink-weighted k, and shape moments (eccentricity, axis angle)."""
    inks = np.array([ink(c[2], c[3]) for c in components])
    tot = float(inks.sum())
    ox = np.array([c[0] for c in components])
    oy = np.array([c[1] for c in components])
    cx = float((inks * ox).sum() / tot)
    cy = float((inks * oy).sum() / tot)
    kk = np.array([c[5] for c in components], dtype=np.float64)
    k = (inks[:, None] * kk).sum(0) / tot
    # second moments
    cov = np.zeros((2, 2))
    for w, c in zip(inks, components):
        var = c[3] ** 2 / 4.0 + c[4] ** 2
        d = np.array([c[0] - cx, c[1] - cy])
        cov += w * (var * np.eye(2) + np.outer(d, d))
    cov /= tot
    ev, evec = np.linalg.eigh(cov)
    ecc = float(np.sqrt(max(0.0, 1.0 - ev[0] / ev[1]))) if ev[1] > 0 else 0.0
    major = evec[:, 1]
    # radial profile about the centroid
    extent = max(np.hypot(c[0] - cx, c[1] - cy) + c[3] + 4.0 * c[4] for c in components)
    r = np.linspace(0.0, extent, n_r)
    phi = np.linspace(0.0, 2 * np.pi, n_phi, endpoint=False)
    px = cx + r[:, None] * np.cos(phi)[None, :]
    py = cy + r[:, None] * np.sin(phi)[None, :]
    od = np.zeros_like(px)
    for c in components:
        od += profile(np.hypot(px - c[0], py - c[1]), c[2], c[3], c[4])
    prof = od.mean(axis=1)
    actual_peak = float(od.max())
    # also probe the component centres for the true max
    for c in components:
        v = sum(profile(np.hypot(c[0] - d[0], c[1] - d[1]), d[2], d[3], d[4]) for d in components)
        actual_peak = max(actual_peak, float(v))
    w = np.sqrt(np.maximum(r, r[1] * 0.5))
    core = max(components, key=lambda c: ink(c[2], c[3]))

    def model(p):
        R = np.exp(p[0])
        s = np.exp(p[1])
        h = tot / (np.pi * R * R)
        return h * g2d(r / s, np.full_like(r, R / s))

    def resid(p):
        return (model(p) - prof) * w

    p0 = np.log([core[3], core[4]])
    lo = np.log([0.002, 0.002])
    hi = np.log([5.0, 5.0])
    try:
        sol = optimize.least_squares(resid, p0, bounds=(lo, hi), x_scale=1.0, max_nfev=100)
        p = sol.x
    except Exception:  # pragma: no cover - defensive
        p = p0
    R = float(np.exp(p[0]))
    s = float(np.exp(p[1]))
    if R / s > A_MAX - 1:
        s = R / (A_MAX - 1)
    h = tot / (np.pi * R * R)
    return {
        "cx": cx,
        "cy": cy,
        "ink": tot,
        "R": R,
        "sigma": s,
        "h": h,
        "peak": float(peak(h, R, s)),
        "fwhm": float(fwhm(R, s)),
        "actual_peak": actual_peak,
        "k": k,
        "ecc": ecc,
        "major": major,
    }
