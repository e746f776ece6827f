"""CIEDE2000 colour difference (kL = kC = kH = 1) after Sharma, Wu and Dalal (2005), on numpy
arrays of CIELAB triples (..., 3). The same formula as smpscope's Rust `colour::delta_e_2000`,
written again here so that the bench does not score smpscope with its own code."""

from __future__ import annotations

import numpy as np

_25_7 = 25.0**7


def _hue(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Hue angle in [0, 2 pi), 0 where a = b = 0."""
    h = np.arctan2(b, a)
    h = np.where(h < 0.0, h + 2.0 * np.pi, h)
    return np.where((a == 0.0) & (b == 0.0), 0.0, h)


def delta_e_2000(lab1, lab2) -> np.ndarray:
    """CIEDE2000 between lab1 and lab2 (array-likes of shape (..., 3), broadcast together)."""
    lab1 = np.asarray(lab1, dtype=float)
    lab2 = np.asarray(lab2, dtype=float)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_bar = 0.5 * (np.hypot(a1, b1) + np.hypot(a2, b2))
    c_bar7 = c_bar**7
    g = 0.5 * (1.0 - np.sqrt(c_bar7 / (c_bar7 + _25_7)))
    a1p = (1.0 + g) * a1
    a2p = (1.0 + g) * a2
    c1p = np.hypot(a1p, b1)
    c2p = np.hypot(a2p, b2)
    h1p = _hue(b1, a1p)
    h2p = _hue(b2, a2p)
    zero_c = c1p * c2p == 0.0

    dl = l2 - l1
    dc = c2p - c1p
    d = h2p - h1p
    dh = np.where(d > np.pi, d - 2.0 * np.pi, np.where(d < -np.pi, d + 2.0 * np.pi, d))
    dh = np.where(zero_c, 0.0, dh)
    d_big_h = 2.0 * np.sqrt(c1p * c2p) * np.sin(dh / 2.0)

    l_bar = 0.5 * (l1 + l2)
    cp_bar = 0.5 * (c1p + c2p)
    s = h1p + h2p
    hp_bar = np.where(
        np.abs(h1p - h2p) <= np.pi,
        0.5 * s,
        np.where(s < 2.0 * np.pi, 0.5 * (s + 2.0 * np.pi), 0.5 * (s - 2.0 * np.pi)),
    )
    hp_bar = np.where(zero_c, s, hp_bar)

    deg = np.pi / 180.0
    t = (
        1.0
        - 0.17 * np.cos(hp_bar - 30.0 * deg)
        + 0.24 * np.cos(2.0 * hp_bar)
        + 0.32 * np.cos(3.0 * hp_bar + 6.0 * deg)
        - 0.20 * np.cos(4.0 * hp_bar - 63.0 * deg)
    )
    d_theta = 30.0 * deg * np.exp(-(((hp_bar / deg - 275.0) / 25.0) ** 2))
    cp_bar7 = cp_bar**7
    r_c = 2.0 * np.sqrt(cp_bar7 / (cp_bar7 + _25_7))
    l50 = (l_bar - 50.0) ** 2
    s_l = 1.0 + 0.015 * l50 / np.sqrt(20.0 + l50)
    s_c = 1.0 + 0.045 * cp_bar
    s_h = 1.0 + 0.015 * cp_bar * t
    r_t = -np.sin(2.0 * d_theta) * r_c
    tl = dl / s_l
    tc = dc / s_c
    th = d_big_h / s_h
    return np.sqrt(tl * tl + tc * tc + th * th + r_t * tc * th)
