"""Scene geometry: a spherical head, a pinhole camera looking at it (possibly obliquely) and a
radial (barrel) lens distortion.

World frame (mm): the scalp is a sphere of radius Rs centred at (0, 0, -Rs); the aimed point
P0 = (0, 0, 0) has outward normal +z.  Scalp surface coordinates (u, v) (mm) are the Lambert
azimuthal EQUAL-AREA coordinates about P0, so an area in the (u, v) plane equals the area on
the scalp: dots placed uniformly in (u, v) are uniform per scalp cm^2.

Image (upright) pixel coordinates: x = column, y = row, pixel centres at integers.  The principal
point is the image centre.  The camera sits at distance d from P0 along a direction tilted by the
oblique angle from the normal; its focal length in pixels is f = px_per_mm * d, so px_per_mm is
the scale of a fronto-parallel plane through P0 (what a calibrated device profile states).
Distortion: r_d = r_u (1 + k1 r_u^2) in units of the centre-to-corner radius; k1 < 0 is barrel,
and k1 is the fractional displacement at the corner."""

import numpy as np


class Geometry:
    def __init__(self, width, height, px_per_mm, distance_mm, radius_mm, tilt_deg, tilt_az_deg, roll_deg, k1):
        self.W = int(width)
        self.H = int(height)
        self.s = float(px_per_mm)
        self.d = float(distance_mm)
        self.Rs = float(radius_mm)
        self.k1 = float(k1)
        self.f = self.s * self.d
        self.cx = (self.W - 1) / 2.0
        self.cy = (self.H - 1) / 2.0
        self.rn = float(np.hypot(self.W / 2.0, self.H / 2.0))
        self.Cs = np.array([0.0, 0.0, -self.Rs])
        t = np.radians(tilt_deg)
        a = np.radians(tilt_az_deg)
        self.cam = self.d * np.array([np.sin(t) * np.cos(a), np.sin(t) * np.sin(a), np.cos(t)])
        fwd = -self.cam / np.linalg.norm(self.cam)
        rr = np.radians(roll_deg)
        ref = np.array([np.cos(rr), np.sin(rr), 0.0])
        right = ref - (ref @ fwd) * fwd
        right /= np.linalg.norm(right)
        down = np.cross(fwd, right)
        self.fwd, self.right, self.down = fwd, right, down

    # ---- lens distortion -------------------------------------------------------------
    def distort(self, xu, yu):
        dx = (np.asarray(xu) - self.cx) / self.rn
        dy = (np.asarray(yu) - self.cy) / self.rn
        g = 1.0 + self.k1 * (dx * dx + dy * dy)
        return self.cx + dx * g * self.rn, self.cy + dy * g * self.rn

    def undistort(self, xd, yd):
        dx = (np.asarray(xd, dtype=np.float64) - self.cx) / self.rn
        dy = (np.asarray(yd, dtype=np.float64) - self.cy) / self.rn
        rd = np.hypot(dx, dy)
        ru = rd.copy()
        for _ in range(12):
            ru = rd / (1.0 + self.k1 * ru * ru)
        g = np.where(rd > 0, ru / np.maximum(rd, 1e-12), 1.0)
        return self.cx + dx * g * self.rn, self.cy + dy * g * self.rn

    # ---- rays and projection ---------------------------------------------------------
    def pixel_to_surface(self, xd, yd):
        """Distorted (image) pixel coordinates -> 3D scalp point (arrays (..., 3)); NaN if missed."""
        xu, yu = self.undistort(xd, yd)
        a = (xu - self.cx) / self.f
        b = (yu - self.cy) / self.f
        dirs = a[..., None] * self.right + b[..., None] * self.down + self.fwd
        dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
        oc = self.cam - self.Cs
        bb = dirs @ oc
        cc = oc @ oc - self.Rs**2
        disc = bb * bb - cc
        tt = -bb - np.sqrt(np.where(disc >= 0, disc, np.nan))
        return self.cam + tt[..., None] * dirs

    def project(self, P):
        """3D points (..., 3) -> distorted pixel coordinates (x, y)."""
        v = np.asarray(P, dtype=np.float64) - self.cam
        zc = v @ self.fwd
        xu = self.cx + self.f * (v @ self.right) / zc
        yu = self.cy + self.f * (v @ self.down) / zc
        return self.distort(xu, yu)

    # ---- equal-area surface coordinates ---------------------------------------------
    def uv_to_P(self, u, v):
        u = np.asarray(u, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        rho = np.hypot(u, v)
        c = 2.0 * np.arcsin(np.clip(rho / (2.0 * self.Rs), 0, 1))
        sc = np.where(rho > 0, np.sin(c) / np.maximum(rho, 1e-300), 1.0 / self.Rs)
        return np.stack([self.Rs * sc * u, self.Rs * sc * v, self.Rs * np.cos(c) - self.Rs], axis=-1)

    def P_to_uv(self, P):
        w = (np.asarray(P, dtype=np.float64) - self.Cs) / self.Rs
        c = np.arccos(np.clip(w[..., 2], -1, 1))
        rho = 2.0 * self.Rs * np.sin(c / 2.0)
        t = np.hypot(w[..., 0], w[..., 1])
        sc = np.where(t > 0, rho / np.maximum(t, 1e-300), 0.0)
        return w[..., 0] * sc, w[..., 1] * sc

    def normal(self, P):
        return (np.asarray(P) - self.Cs) / self.Rs

    def tangent_frame(self, P):
        """Orthonormal tangent vectors (t1, t2) at surface points P, t1 along the local u."""
        n = self.normal(P)
        ez = np.array([0.0, 0.0, 1.0])
        ex = np.array([1.0, 0.0, 0.0])
        t1 = ex - (n @ ex)[..., None] * n
        t1 /= np.linalg.norm(t1, axis=-1, keepdims=True)
        t2 = np.cross(n, t1)
        del ez
        return t1, t2

    def local_jacobian(self, P, eps=0.01):
        """2x2 Jacobian d(pixel)/d(tangent mm) at surface points P (..., 3): J[..., i, j]."""
        t1, t2 = self.tangent_frame(P)
        x0, y0 = self.project(P)
        x1, y1 = self.project(P + eps * t1)
        x2, y2 = self.project(P + eps * t2)
        J = np.empty(np.shape(x0) + (2, 2))
        J[..., 0, 0] = (x1 - x0) / eps
        J[..., 1, 0] = (y1 - y0) / eps
        J[..., 0, 1] = (x2 - x0) / eps
        J[..., 1, 1] = (y2 - y0) / eps
        return J, t1, t2

    def maps(self, step=8):
        """Per-pixel equal-area scalp coordinates for the whole (upright) image, computed exactly
        on a grid every `step` pixels and interpolated by bicubic splines (the maps are smooth;
        the interpolation error is ~1e-6 mm).  Returns u, v (H, W) float32 and dA (H, W) float32,
        the scalp area (mm^2) seen by each pixel.  Keeps the coarse grid for smooth()."""
        from scipy.interpolate import RectBivariateSpline

        ys = np.arange(0, self.H + step, step, dtype=np.float64)
        xs = np.arange(0, self.W + step, step, dtype=np.float64)
        ys = np.concatenate([[-2.0 * step, -step], ys, [ys[-1] + step]])
        xs = np.concatenate([[-2.0 * step, -step], xs, [xs[-1] + step]])
        X, Y = np.meshgrid(xs, ys)
        P = self.pixel_to_surface(X, Y)
        if np.isnan(P).any():
            raise RuntimeError("some pixels see past the head; geometry out of range")
        u, v = self.P_to_uv(P)
        self._grid = (ys, xs, P)
        su = RectBivariateSpline(ys, xs, u)
        sv = RectBivariateSpline(ys, xs, v)
        det = np.abs(su(ys, xs, dy=1, grid=True) * sv(ys, xs, dx=1) - su(ys, xs, dx=1) * sv(ys, xs, dy=1))
        yy = np.arange(self.H, dtype=np.float64)
        xx = np.arange(self.W, dtype=np.float64)
        uu = su(yy, xx).astype(np.float32)
        vv = sv(yy, xx).astype(np.float32)
        dA = RectBivariateSpline(ys, xs, det)(yy, xx).astype(np.float32)
        return uu, vv, dA

    def smooth(self, fn):
        """Evaluate fn(P) (P: (..., 3) scalp points, returns (...)) on the coarse grid of maps()
        and interpolate it bicubically to every pixel (for smooth fields: lighting, shine)."""
        from scipy.interpolate import RectBivariateSpline

        ys, xs, P = self._grid
        vals = fn(P)
        yy = np.arange(self.H, dtype=np.float64)
        xx = np.arange(self.W, dtype=np.float64)
        return RectBivariateSpline(ys, xs, vals)(yy, xx).astype(np.float32)
