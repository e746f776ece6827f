"""Head sphere, scalp coordinates and the per-visit pinhole camera (pose, barrel distortion).

Scalp coordinates (u, v) in mm: azimuthal-equidistant map of a sphere of radius Rh (the head)
around its pole (0, 0, Rh). All skin features and dots live at fixed (u, v); each visit is a
camera looking at the sphere from outside.
"""
import numpy as np


def uv_to_P(u, v, Rh):
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    r = np.hypot(u, v)
    rho = r / Rh
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(r > 1e-12, np.sin(rho) / np.where(r > 1e-12, rho, 1.0), 1.0)
    return np.stack([Rh * s * u / Rh, Rh * s * v / Rh, Rh * np.cos(rho)], axis=-1)


def P_to_uv(P, Rh):
    P = np.asarray(P, dtype=float)
    rxy = np.hypot(P[..., 0], P[..., 1])
    rho = np.arctan2(rxy, P[..., 2])
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(rxy > 1e-12, Rh * rho / np.where(rxy > 1e-12, rxy, 1.0), 1.0)
    return P[..., 0] * f, P[..., 1] * f


def tangent_frame(P, Rh):
    """Orthonormal (e1, e2, n) at sphere points; e1 follows +u, e2 = n x e1 follows +v."""
    P = np.atleast_2d(np.asarray(P, dtype=float))
    n = P / np.linalg.norm(P, axis=-1, keepdims=True)
    u, v = P_to_uv(P, Rh)
    d = 1e-4
    du = uv_to_P(u + d, v, Rh) - uv_to_P(u - d, v, Rh)
    e1 = du - np.sum(du * n, axis=-1, keepdims=True) * n
    e1 /= np.linalg.norm(e1, axis=-1, keepdims=True)
    e2 = np.cross(n, e1)
    return e1, e2, n


def renorm(P, Rh):
    return P * (Rh / np.linalg.norm(P, axis=-1, keepdims=True))


class Camera:
    """Pinhole camera + radial (barrel) distortion. Pixel centres at integer coordinates."""

    def __init__(self, W, H, Rh, target_uv, tilt_deg, tilt_az_deg, roll_deg, dist_mm, k1, scale, flat=False):
        self.W, self.H, self.Rh = int(W), int(H), float(Rh)
        self.flat = bool(flat)   # contact plate: the skin is pressed flat on the tangent plane at the target
        self.cx, self.cy = (W - 1) / 2.0, (H - 1) / 2.0
        self.rd2 = self.cx ** 2 + self.cy ** 2
        self.k1 = float(k1)
        T = uv_to_P(target_uv[0], target_uv[1], Rh).reshape(1, 3)
        e1, e2, n = tangent_frame(T, Rh)
        e1, e2, n, T = e1[0], e2[0], n[0], T[0]
        self.nT = n
        phi, psi, th = np.radians(tilt_deg), np.radians(tilt_az_deg), np.radians(roll_deg)
        m = np.cos(phi) * n + np.sin(phi) * (np.cos(psi) * e1 + np.sin(psi) * e2)
        self.T = T
        self.C = T + dist_mm * m
        z = -m
        x0 = e1 - (e1 @ z) * z
        x0 /= np.linalg.norm(x0)
        x = np.cos(th) * x0 + np.sin(th) * np.cross(z, x0)
        y = np.cross(z, x)
        self.R = np.stack([x, y, z])
        self.f = 1.0
        J = self.jacobian(T[None, :], distort=False)[0]
        self.f = scale / np.sqrt(abs(np.linalg.det(J)))
        self.target_uv = (float(target_uv[0]), float(target_uv[1]))

    # ---- contact-plate flattening (geodesic log / exp maps around the target)
    def _flatten(self, P):
        nP = P / np.linalg.norm(P, axis=-1, keepdims=True)
        c = np.clip(nP @ self.nT, -1, 1)
        th = np.arccos(c)
        d = nP - c[..., None] * self.nT
        nd = np.linalg.norm(d, axis=-1, keepdims=True)
        d = np.where(nd > 1e-15, d / np.maximum(nd, 1e-15), 0.0)
        return self.T + (self.Rh * th)[..., None] * d

    def _unflatten(self, Q):
        q = Q - self.T
        q = q - (q @ self.nT)[..., None] * self.nT
        r = np.linalg.norm(q, axis=-1, keepdims=True)
        th = r / self.Rh
        d = np.where(r > 1e-15, q / np.maximum(r, 1e-15), 0.0)
        return self.Rh * (np.cos(th) * self.nT + np.sin(th) * d)

    # ---- forward
    def project(self, P, distort=True):
        P = np.asarray(P, dtype=float)
        if self.flat:
            P = self._flatten(P)
        pc = (P - self.C) @ self.R.T
        z = pc[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            xu = self.f * pc[..., 0] / z
            yu = self.f * pc[..., 1] / z
        if distort and self.k1 != 0.0:
            s = 1 + self.k1 * (xu * xu + yu * yu) / self.rd2
            xu, yu = xu * s, yu * s
        return xu + self.cx, yu + self.cy, z

    def front(self, P):
        P = np.asarray(P, dtype=float)
        n = P / np.linalg.norm(P, axis=-1, keepdims=True)
        if self.flat:
            return n @ self.nT > 0.5
        return np.sum(n * (self.C - P), axis=-1) > 0

    def jacobian(self, P, distort=True, d=0.005):
        """d(pixel)/d(physical mm along e1, e2) at sphere points P (N,3) -> (N,2,2)."""
        P = np.atleast_2d(P)
        e1, e2, _ = tangent_frame(P, self.Rh)
        J = np.empty(P.shape[:-1] + (2, 2))
        for j, e in enumerate((e1, e2)):
            xp, yp, _ = self.project(renorm(P + d * e, self.Rh), distort)
            xm, ym, _ = self.project(renorm(P - d * e, self.Rh), distort)
            J[..., 0, j] = (xp - xm) / (2 * d)
            J[..., 1, j] = (yp - ym) / (2 * d)
        return J

    # ---- inverse
    def undistort(self, xd, yd):
        xu, yu = xd.copy(), yd.copy()
        if self.k1 != 0.0:
            for _ in range(6):
                s = 1 + self.k1 * (xu * xu + yu * yu) / self.rd2
                xu, yu = xd / s, yd / s
        return xu, yu

    def rays(self, xpix, ypix):
        xu, yu = self.undistort(np.asarray(xpix, float) - self.cx, np.asarray(ypix, float) - self.cy)
        dc = np.stack([xu / self.f, yu / self.f, np.ones_like(xu)], axis=-1)
        d = dc @ self.R
        return d / np.linalg.norm(d, axis=-1, keepdims=True)

    def hit(self, xpix, ypix):
        """Sphere points seen at pixels; (P, valid)."""
        d = self.rays(xpix, ypix)
        C = self.C
        if self.flat:
            den = d @ self.nT
            t = ((self.T - C) @ self.nT) / np.where(np.abs(den) > 1e-12, den, -1e-12)
            Q = C + t[..., None] * d
            return self._unflatten(Q), (t > 0) & (np.linalg.norm(Q - self.T, axis=-1) < 1.4 * self.Rh)
        b = d @ C
        c = C @ C - self.Rh ** 2
        disc = b * b - c
        valid = disc > 0
        t = -b - np.sqrt(np.where(valid, disc, 0.0))
        P = C + t[..., None] * d
        return P, valid

    def px_per_mm_at_centre(self):
        J = self.jacobian(self.T[None, :])[0]
        return float(np.sqrt(abs(np.linalg.det(J)))), J


def similarity_from_affine(A, p_src, p_dst):
    """Nearest similarity (conformal part) of 2x2 A, placed so that p_src maps to p_dst exactly."""
    a = 0.5 * (A[0, 0] + A[1, 1])
    b = 0.5 * (A[1, 0] - A[0, 1])
    tx = p_dst[0] - (a * p_src[0] - b * p_src[1])
    ty = p_dst[1] - (b * p_src[0] + a * p_src[1])
    return a, b, tx, ty


def fit_similarity(src, dst):
    """Least-squares similarity dst ~ [a -b; b a] src + t; returns a, b, tx, ty, rms."""
    src = np.asarray(src, float)
    dst = np.asarray(dst, float)
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    den = np.sum(s * s)
    a = np.sum(s[:, 0] * d[:, 0] + s[:, 1] * d[:, 1]) / den
    b = np.sum(s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]) / den
    tx = md[0] - (a * ms[0] - b * ms[1])
    ty = md[1] - (b * ms[0] + a * ms[1])
    pred = np.stack([a * src[:, 0] - b * src[:, 1] + tx, b * src[:, 0] + a * src[:, 1] + ty], 1)
    rms = float(np.sqrt(np.mean(np.sum((pred - dst) ** 2, 1))))
    return a, b, tx, ty, rms
