"""Deterministic procedural value noise, evaluated at arbitrary coordinates (mm).

Lattice values come from a per-seed 1024x1024 random table (period 1024 lattice cells; every
octave is rotated and offset, so the period never shows)."""
import numpy as np

_N = 1024
_TABLES = {}


def _table(seed):
    seed = int(seed) & 0xFFFFFFFF
    t = _TABLES.get(seed)
    if t is None:
        if len(_TABLES) > 24:
            _TABLES.clear()
        t = (np.random.default_rng(seed).random((_N + 1, _N + 1), dtype=np.float32) * 2 - 1)
        t[_N, :] = t[0, :]
        t[:, _N] = t[:, 0]
        _TABLES[seed] = t
    return t


def value_noise(x, y, seed):
    """Smooth value noise in [-1, 1] on the unit lattice."""
    T = _table(seed)
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    fx0 = np.floor(x)
    fy0 = np.floor(y)
    tx = x - fx0
    ty = y - fy0
    idx = (fy0.astype(np.int32) & (_N - 1)) * (_N + 1) + (fx0.astype(np.int32) & (_N - 1))
    sx = tx * tx * tx * (tx * (tx * 6 - 15) + 10)
    sy = ty * ty * ty * (ty * (ty * 6 - 15) + 10)
    Tf = T.ravel()
    v00 = np.take(Tf, idx)
    v10 = np.take(Tf, idx + 1)
    idx += _N + 1
    v01 = np.take(Tf, idx)
    v11 = np.take(Tf, idx + 1)
    a = v00 + (v10 - v00) * sx
    b = v01 + (v11 - v01) * sx
    return a + (b - a) * sy


def fbm(x, y, seed, base_freq, octaves=4, gain=0.5, lacunarity=2.0, ridged=False, max_freq=None):
    """Fractal sum (see _fbm), evaluated in cache-sized chunks."""
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    if x.size <= 1 << 17:
        return _fbm(x, y, seed, base_freq, octaves, gain, lacunarity, ridged, max_freq)
    xf, yf = x.ravel(), y.ravel()
    out = np.empty(xf.shape, np.float32)
    step = 1 << 16
    for i in range(0, xf.size, step):
        out[i:i + step] = _fbm(xf[i:i + step], yf[i:i + step], seed, base_freq, octaves, gain,
                               lacunarity, ridged, max_freq)
    return out.reshape(x.shape)


def _fbm(x, y, seed, base_freq, octaves=4, gain=0.5, lacunarity=2.0, ridged=False, max_freq=None):
    """Fractal sum; x, y in mm; base_freq in cycles per mm. Values roughly within [-1, 1].
    Octaves above max_freq (cycles/mm; e.g. the sampling Nyquist) are left out (no aliasing)."""
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    out = np.zeros(x.shape, dtype=np.float32)
    amp = 1.0
    norm = 0.0
    freq = base_freq
    for o in range(octaves):
        if max_freq is not None and o > 0 and freq > max_freq:
            norm += amp
            amp *= gain
            freq *= lacunarity
            continue
        ang = 0.7 + 1.3 * o
        c, s = np.float32(np.cos(ang) * freq), np.float32(np.sin(ang) * freq)
        xr = c * x - s * y + np.float32(17.3 * o + 311.0)
        yr = s * x + c * y + np.float32(-5.1 * o + 529.0)
        n = value_noise(xr, yr, seed + 7919 * o)
        if ridged:
            n = 1 - 2 * np.abs(n)
        out += np.float32(amp) * n
        norm += amp
        amp *= gain
        freq *= lacunarity
    return out / np.float32(norm)


def _cell_edges(x, y, seed, width):
    """Worley F2 - F1 edge network on the unit lattice: 1 on cell borders, falling off over `width`."""
    Tx = _table(seed + 101).ravel()
    Ty = _table(seed + 202).ravel()
    fx0 = np.floor(x)
    fy0 = np.floor(y)
    ix = fx0.astype(np.int32)
    iy = fy0.astype(np.int32)
    f1 = np.full(x.shape, 9.0, np.float32)
    f2 = np.full(x.shape, 9.0, np.float32)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            idx = ((iy + dy) & (_N - 1)) * (_N + 1) + ((ix + dx) & (_N - 1))
            px = fx0 + dx + 0.5 + 0.45 * np.take(Tx, idx) - x
            py = fy0 + dy + 0.5 + 0.45 * np.take(Ty, idx) - y
            d = px * px + py * py
            f2 = np.minimum(f2, np.maximum(f1, d))
            f1 = np.minimum(f1, d)
    e = np.sqrt(f2) - np.sqrt(f1)
    return np.exp(-(e * e) / np.float32(2 * width * width))


def furrows(x, y, seed, cell_mm, width_mm, secondary=True):
    """Polygonal skin-furrow network (cells of about cell_mm, plus a fainter finer network),
    warped a little; values 0..1."""
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    out = np.empty(x.size, np.float32)
    xf, yf = x.ravel(), y.ravel()
    f = np.float32(1.0 / cell_mm)
    step = 1 << 16
    f2 = np.float32(2.3 / cell_mm)
    for i in range(0, xf.size, step):
        xs, ys = xf[i:i + step], yf[i:i + step]
        wx = 0.3 * value_noise(xs * f * 0.5 + 71.0, ys * f * 0.5, seed + 5)
        wy = 0.3 * value_noise(xs * f * 0.5, ys * f * 0.5 + 37.0, seed + 6)
        primary = _cell_edges(xs * f + wx + 300.0, ys * f + wy + 300.0, seed, width_mm / cell_mm)
        # depth varies along the lines; some stretches fade out (broken network)
        m1 = np.clip(0.55 + 0.9 * value_noise(xs * f * 1.3 + 11.0, ys * f * 1.3, seed + 7), 0, 1)
        res = 0.7 * primary * m1
        if secondary:
            sec = _cell_edges(xs * f2 + 2 * wy + 500.0, ys * f2 + 2 * wx + 500.0, seed + 9,
                              0.7 * width_mm * 2.3 / cell_mm)
            m2 = np.clip(0.35 + 0.9 * value_noise(xs * f2 * 0.9, ys * f2 * 0.9 + 13.0, seed + 8), 0, 1)
            res += 0.3 * sec * m2
        out[i:i + step] = res
    return out.reshape(x.shape)
