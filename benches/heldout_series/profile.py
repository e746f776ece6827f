"""Radial profile of a disc (radius a) convolved with an isotropic Gaussian (sigma).

f(rho, alpha) = P(|N((rho, 0), I)| <= alpha), rho = r / sigma, alpha = a / sigma: the value at
distance r of a unit-height disc blurred by the Gaussian (1 - Marcum Q). Tabulated once.
"""
import numpy as np

_DR = 0.05
_DA = 0.05
_AMAX = 30.0
_RMAX = 40.0
_TAB = None


def _table():
    global _TAB
    if _TAB is None:
        from scipy.stats import ncx2
        al = np.arange(0, _AMAX + _DA / 2, _DA)
        rh = np.arange(0, _RMAX + _DR / 2, _DR)
        A, R = np.meshgrid(al, rh, indexing="ij")
        T = ncx2.cdf(A ** 2, 2, R ** 2)
        T[:, 0] = 1 - np.exp(-al ** 2 / 2)  # exact on the axis
        T = np.clip(np.nan_to_num(T, nan=0.0), 0, 1)
        _TAB = T.astype(np.float32)
    return _TAB


def disc_gauss(rho, alpha):
    """Bilinear lookup of f(rho, alpha); arrays broadcast."""
    T = _table()
    na, nr = T.shape
    fa = np.clip(np.asarray(alpha, np.float32) / _DA, 0, na - 1.001)
    fr = np.asarray(rho, np.float32) / _DR
    outside = fr >= nr - 1.001
    fr = np.clip(fr, 0, nr - 1.001)
    ia = fa.astype(np.int32)
    ir = fr.astype(np.int32)
    wa = fa - ia
    wr = fr - ir
    v = ((T[ia, ir] * (1 - wr) + T[ia, ir + 1] * wr) * (1 - wa)
         + (T[ia + 1, ir] * (1 - wr) + T[ia + 1, ir + 1] * wr) * wa)
    return np.where(outside, np.float32(0), v)


def peak_factor(a, sigma):
    """Centre value of the unit-height disc blurred by sigma: 1 - exp(-a^2 / 2 sigma^2)."""
    sigma = np.maximum(np.asarray(sigma, float), 1e-9)
    return 1.0 - np.exp(-np.asarray(a, float) ** 2 / (2 * sigma ** 2))
