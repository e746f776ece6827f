"""Colour: sRGB transfer, CIELAB (D65), Planckian illuminants, absorber spectra."""
import numpy as np

LUM = np.array([0.2126, 0.7152, 0.0722])
M_RGB2XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                      [0.2126729, 0.7151522, 0.0721750],
                      [0.0193339, 0.1191920, 0.9503041]])
M_XYZ2RGB = np.linalg.inv(M_RGB2XYZ)
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])


def _norm_lum(v):
    v = np.asarray(v, dtype=float)
    return v / float(LUM @ v)


# Per-channel optical-density spectra (linear sRGB channels), normalised to unit luminance OD.
# Melanin absorbs most in the blue (~lambda^-3.5 at 610/550/465 nm).
MELANIN = _norm_lum([0.387, 0.556, 1.0])
# Haemoglobin (erythema): strong in green (540-580 nm) and blue (Soret tail), weak in red.
HAEMOGLOBIN = _norm_lum([0.10, 1.0, 0.70])


def srgb_encode(x):
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def srgb_decode(y):
    y = np.asarray(y, dtype=float)
    return np.where(y <= 0.04045, y / 12.92, np.power((y + 0.055) / 1.055, 2.4))


def _f(t):
    d = 6 / 29
    return np.where(t > d ** 3, np.cbrt(t), t / (3 * d * d) + 4 / 29)


def _finv(t):
    d = 6 / 29
    return np.where(t > d, t ** 3, 3 * d * d * (t - 4 / 29))


def lin_to_lab(rgb):
    """Linear sRGB (...,3), reflectance 1 = white -> CIELAB D65."""
    rgb = np.clip(np.asarray(rgb, dtype=float), 0.0, None)
    xyz = rgb @ M_RGB2XYZ.T / WHITE_D65
    fx, fy, fz = _f(xyz[..., 0]), _f(xyz[..., 1]), _f(xyz[..., 2])
    return np.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], axis=-1)


def lab_to_lin(lab):
    lab = np.asarray(lab, dtype=float)
    fy = (lab[..., 0] + 16) / 116
    fx = fy + lab[..., 1] / 500
    fz = fy - lab[..., 2] / 200
    xyz = np.stack([_finv(fx), _finv(fy), _finv(fz)], axis=-1) * WHITE_D65
    return xyz @ M_XYZ2RGB.T


def cct_to_rgb(T):
    """Planckian illuminant of colour temperature T (K) in linear sRGB, G = 1 (D65 ~ (1,1,1))."""
    T = float(np.clip(T, 1700.0, 20000.0))
    if T <= 4000:
        x = -0.2661239e9 / T ** 3 - 0.2343589e6 / T ** 2 + 0.8776956e3 / T + 0.179910
    else:
        x = -3.0258469e9 / T ** 3 + 2.1070379e6 / T ** 2 + 0.2226347e3 / T + 0.240390
    if T <= 2222:
        y = -1.1063814 * x ** 3 - 1.34811020 * x ** 2 + 2.18555832 * x - 0.20219683
    elif T <= 4000:
        y = -0.9549476 * x ** 3 - 1.37418593 * x ** 2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x ** 3 - 5.87338670 * x ** 2 + 3.75112997 * x - 0.37001483
    xyz = np.array([x / y, 1.0, (1 - x - y) / y])
    rgb = M_XYZ2RGB @ xyz
    rgb = np.clip(rgb, 0.02, None)
    return rgb / rgb[1]


def rgb_to_ycc(rgb):
    y = rgb @ np.array([0.299, 0.587, 0.114], dtype=rgb.dtype)
    cb = (rgb[..., 2] - y) * 0.564
    cr = (rgb[..., 0] - y) * 0.713
    return y, cb, cr


def ycc_to_rgb(y, cb, cr):
    r = y + cr / 0.713
    b = y + cb / 0.564
    g = (y - 0.299 * r - 0.114 * b) / 0.587
    return np.stack([r, g, b], axis=-1)
