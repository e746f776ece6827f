"""The camera: optics (disc defocus + motion PSF, vignetting applied by the caller), a Bayer
RGGB sensor with shot and read noise, white balance, demosaicing (Malvar-He-Cutler or bilinear),
colour matrix, tone curve, sRGB encoding, noise reduction, sharpening, JPEG/PNG with EXIF."""

import io

import numpy as np
from PIL import Image
from scipy import ndimage, optimize, signal
from scipy.special import ndtr

from .colour import LUMA, srgb_decode, srgb_encode

# ---------------------------------------------------------------------------------------
# optics


def psf_kernel(defocus_radius_px, motion_px=0.0, motion_angle_deg=0.0, ss=9):
    """Anti-aliased disc of the given radius convolved with a motion line segment; sums to 1."""
    r = float(defocus_radius_px)
    m = float(motion_px)
    half = int(np.ceil(r + m / 2.0 + 1.0))
    n = 2 * half + 1
    sub = (np.arange(n * ss) + 0.5) / ss - half - 0.5
    X, Y = np.meshgrid(sub, sub)
    if r < 0.05:
        disc = np.zeros((n * ss, n * ss))
        disc[(np.abs(X) < 0.5) & (np.abs(Y) < 0.5)] = 1.0  # a delta (pixel-sized)
        disc = disc.reshape(n, ss, n, ss).sum(axis=(1, 3))
        disc = np.where(disc == disc.max(), 1.0, 0.0)
    else:
        disc = (X * X + Y * Y <= r * r).astype(np.float64).reshape(n, ss, n, ss).mean(axis=(1, 3))
    k = disc / disc.sum()
    if m > 0.05:
        a = np.radians(motion_angle_deg)
        t = np.linspace(-m / 2, m / 2, max(2, int(m * ss * 2)))
        line = np.zeros((n, n))
        xs = t * np.cos(a) + half
        ys = t * np.sin(a) + half
        # bilinear splat of the segment
        x0 = np.floor(xs).astype(int)
        y0 = np.floor(ys).astype(int)
        fx = xs - x0
        fy = ys - y0
        for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            np.add.at(line, (y0 + dy, x0 + dx), w)
        k = signal.convolve2d(k, line / line.sum(), mode="same")
        k /= k.sum()
    # trim zero border
    nz = np.nonzero(k > 1e-7)
    c0 = min(nz[0].min(), nz[1].min(), n - 1 - nz[0].max(), n - 1 - nz[1].max())
    if c0 > 0:
        k = k[c0 : n - c0, c0 : n - c0]
    return (k / k.sum()).astype(np.float32)


def convolve_image(img, kernel):
    """Convolve (H, W) or (H, W, C) with a kernel, reflecting at the borders."""
    if kernel.shape == (1, 1):
        return img
    kh, kw = kernel.shape
    ph, pw = kh // 2, kw // 2
    if img.ndim == 2:
        pad = np.pad(img, ((ph, ph), (pw, pw)), mode="reflect")
        if kh * kw <= 49:
            return ndimage.convolve(img, kernel, mode="reflect")
        return signal.fftconvolve(pad, kernel, mode="valid").astype(np.float32)
    pad = np.pad(img, ((ph, ph), (pw, pw), (0, 0)), mode="reflect")
    return signal.fftconvolve(pad, kernel[:, :, None], mode="valid", axes=(0, 1)).astype(np.float32)


# ---------------------------------------------------------------------------------------
# EXIF orientation: numpy versions of the transform a viewer applies (PIL exif_transpose)


def _apply_method(a, method):
    if method == "FLIP_LEFT_RIGHT":
        return a[:, ::-1]
    if method == "FLIP_TOP_BOTTOM":
        return a[::-1]
    if method == "ROTATE_90":  # counter-clockwise
        return np.rot90(a, 1)
    if method == "ROTATE_180":
        return np.rot90(a, 2)
    if method == "ROTATE_270":
        return np.rot90(a, 3)
    if method == "TRANSPOSE":
        return np.swapaxes(a, 0, 1)
    if method == "TRANSVERSE":
        return np.swapaxes(np.rot90(a, 2), 0, 1)
    return a


_VIEWER = {1: None, 2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
           6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}
_INVERSE = {None: None, "FLIP_LEFT_RIGHT": "FLIP_LEFT_RIGHT", "FLIP_TOP_BOTTOM": "FLIP_TOP_BOTTOM",
            "ROTATE_90": "ROTATE_270", "ROTATE_180": "ROTATE_180", "ROTATE_270": "ROTATE_90",
            "TRANSPOSE": "TRANSPOSE", "TRANSVERSE": "TRANSVERSE"}


def to_upright(stored, orientation):
    return np.ascontiguousarray(_apply_method(stored, _VIEWER[orientation]))


def to_stored(upright, orientation):
    return np.ascontiguousarray(_apply_method(upright, _INVERSE[_VIEWER[orientation]]))


# ---------------------------------------------------------------------------------------
# demosaicing (RGGB: R at (even, even), B at (odd, odd))

_K_G = np.array([[0, 0, -1, 0, 0], [0, 0, 2, 0, 0], [-1, 2, 4, 2, -1], [0, 0, 2, 0, 0], [0, 0, -1, 0, 0]]) / 8.0
_K_ROW = np.array([[0, 0, 0.5, 0, 0], [0, -1, 0, -1, 0], [-1, 4, 5, 4, -1], [0, -1, 0, -1, 0], [0, 0, 0.5, 0, 0]]) / 8.0
_K_COL = _K_ROW.T.copy()
_K_DIAG = np.array([[0, 0, -1.5, 0, 0], [0, 2, 0, 2, 0], [-1.5, 0, 6, 0, -1.5], [0, 2, 0, 2, 0], [0, 0, -1.5, 0, 0]]) / 8.0


def demosaic_mhc(cfa):
    cfa = cfa.astype(np.float32)
    g = ndimage.convolve(cfa, _K_G.astype(np.float32), mode="mirror")
    row = ndimage.convolve(cfa, _K_ROW.astype(np.float32), mode="mirror")
    col = ndimage.convolve(cfa, _K_COL.astype(np.float32), mode="mirror")
    diag = ndimage.convolve(cfa, _K_DIAG.astype(np.float32), mode="mirror")
    H, W = cfa.shape
    out = np.empty((H, W, 3), dtype=np.float32)
    R, G, B = out[..., 0], out[..., 1], out[..., 2]
    # R sites
    R[0::2, 0::2] = cfa[0::2, 0::2]
    G[0::2, 0::2] = g[0::2, 0::2]
    B[0::2, 0::2] = diag[0::2, 0::2]
    # B sites
    B[1::2, 1::2] = cfa[1::2, 1::2]
    G[1::2, 1::2] = g[1::2, 1::2]
    R[1::2, 1::2] = diag[1::2, 1::2]
    # G in R rows
    G[0::2, 1::2] = cfa[0::2, 1::2]
    R[0::2, 1::2] = row[0::2, 1::2]
    B[0::2, 1::2] = col[0::2, 1::2]
    # G in B rows
    G[1::2, 0::2] = cfa[1::2, 0::2]
    B[1::2, 0::2] = row[1::2, 0::2]
    R[1::2, 0::2] = col[1::2, 0::2]
    return out


def demosaic_bilinear(cfa):
    cfa = cfa.astype(np.float32)
    H, W = cfa.shape
    mr = np.zeros((H, W), np.float32)
    mr[0::2, 0::2] = 1
    mb = np.zeros((H, W), np.float32)
    mb[1::2, 1::2] = 1
    mg = 1 - mr - mb
    k_rb = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4
    k_g = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4
    out = np.empty((H, W, 3), np.float32)
    out[..., 0] = ndimage.convolve(cfa * mr, k_rb, mode="mirror")
    out[..., 1] = ndimage.convolve(cfa * mg, k_g, mode="mirror")
    out[..., 2] = ndimage.convolve(cfa * mb, k_rb, mode="mirror")
    return out


# ---------------------------------------------------------------------------------------


def rgb_to_ycc(rgb):
    Y = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    cb = (rgb[..., 2] - Y) * 0.564
    cr = (rgb[..., 0] - Y) * 0.713
    return Y, cb, cr


def ycc_to_rgb(Y, cb, cr):
    r = Y + cr / 0.713
    b = Y + cb / 0.564
    g = (Y - 0.299 * r - 0.114 * b) / 0.587
    return np.stack([r, g, b], axis=-1)


def bilateral(Y, sigma_s, sigma_r):
    rad = max(1, int(np.ceil(2.0 * sigma_s)))
    pad = np.pad(Y, rad, mode="reflect")
    H, W = Y.shape
    num = np.zeros_like(Y)
    den = np.zeros_like(Y)
    c = np.float32(-0.5 / (sigma_r * sigma_r))
    for dy in range(-rad, rad + 1):
        for dx in range(-rad, rad + 1):
            ws = np.float32(np.exp(-(dx * dx + dy * dy) / (2.0 * sigma_s * sigma_s)))
            if ws < 0.01:
                continue
            sh = pad[rad + dy : rad + dy + H, rad + dx : rad + dx + W]
            d = sh - Y
            w = np.exp(c * d * d) * ws
            num += w * sh
            den += w
    return num / den


class Camera:
    """All parameters of the capture; see render.draw_camera for how they are drawn."""

    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.Mcam = np.asarray(self.Mcam, dtype=np.float64)
        self.CCM = np.linalg.inv(self.Mcam)
        self.illum = np.asarray(self.illum, dtype=np.float64)
        self.gains = np.asarray(self.gains, dtype=np.float64)
        self.nr_sigma_r = None
        t = np.linspace(0.0, 4.0, 4001)
        self._tone_x = t
        self._tone_y = self.tone(t)

    # tone curve: contrast c about mid grey 0.18, then a soft shoulder (w, p)
    def tone(self, x):
        x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
        z = 0.18 * np.power(x / 0.18, self.tone_c)
        return z / np.power(1.0 + np.power(z / self.tone_w, self.tone_p), 1.0 / self.tone_p)

    def tone_inverse(self, y):
        return np.interp(y, self._tone_y, self._tone_x)

    def tone_slope(self, x):
        """d ln T / d ln x: how much the tone curve scales a small optical density."""
        z = 0.18 * (x / 0.18) ** self.tone_c
        q = (z / self.tone_w) ** self.tone_p
        return self.tone_c * (1.0 - q / (1.0 + q))

    # noise-free colour of a uniform patch ----------------------------------------
    def encode_colour(self, refl, E):
        """sRGB-encoded (0..1) output for linear reflectance refl (..., 3) under irradiance E
        (scalar or (...)), no noise, no blur, no NR/sharpening (a large uniform patch)."""
        rad = np.asarray(refl, dtype=np.float64) * self.illum * np.asarray(E, dtype=np.float64)[..., None]
        raw = np.clip(self.K_raw * rad @ self.Mcam.T, 0, 1)
        wb = np.clip(raw * self.gains, 0, self.gains.min())
        out = np.maximum(wb @ self.CCM.T * self.D, 0)
        return srgb_encode(np.clip(self.tone(out), 0, 1))

    def output_linear(self, refl, E):
        """Linear output (before the tone curve) for a uniform patch."""
        rad = np.asarray(refl, dtype=np.float64) * self.illum * np.asarray(E, dtype=np.float64)[..., None]
        raw = np.clip(self.K_raw * rad @ self.Mcam.T, 0, 1)
        wb = np.clip(raw * self.gains, 0, self.gains.min())
        return np.maximum(wb @ self.CCM.T * self.D, 0)

    # the pipeline ------------------------------------------------------------------
    def mosaic(self, rad):
        """radiance (H, W, 3) in stored orientation -> raw CFA (H, W) before noise."""
        H, W, _ = rad.shape
        cfa = np.empty((H, W), np.float32)
        M = (self.K_raw * self.Mcam).astype(np.float32)
        for (sy, sx), ch in (((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 2)):
            r = rad[sy::2, sx::2]
            cfa[sy::2, sx::2] = r[..., 0] * M[ch, 0] + r[..., 1] * M[ch, 1] + r[..., 2] * M[ch, 2]
        return cfa

    def add_noise(self, cfa, rng):
        e = np.maximum(cfa, 0) * np.float32(self.full_well)
        sd = np.sqrt(e + np.float32(self.read_e**2))
        e = e + sd * rng.standard_normal(cfa.shape, dtype=np.float32)
        out = e / np.float32(self.full_well)
        return np.clip(np.round(out * 4095.0) / 4095.0, 0, 1).astype(np.float32)

    def raw_rel_noise(self, level):
        e = np.maximum(level, 1e-6) * self.full_well
        return np.sqrt(e + self.read_e**2) / e

    def develop(self, cfa, nr=True, sharpen=True):
        """CFA (already noisy or not) -> sRGB-encoded float image (H, W, 3) in [0, 1]."""
        g = self.gains.astype(np.float32)
        wb = cfa.copy()
        wb[0::2, 0::2] *= g[0]
        wb[0::2, 1::2] *= g[1]
        wb[1::2, 0::2] *= g[1]
        wb[1::2, 1::2] *= g[2]
        # a clipped raw channel must render white: clip every channel at the lowest white point
        np.clip(wb, 0, float(self.gains.min()), out=wb)
        rgb = demosaic_mhc(wb) if self.demosaic == "mhc" else demosaic_bilinear(wb)
        M = (self.CCM * self.D).astype(np.float32)
        lin = rgb @ M.T
        np.maximum(lin, 0, out=lin)
        t = np.interp(lin.ravel(), self._tone_x, self._tone_y).reshape(lin.shape).astype(np.float32)
        enc = srgb_encode(np.clip(t, 0, 1)).astype(np.float32)
        Y, cb, cr = rgb_to_ycc(enc)
        if nr and self.nr_strength > 0 and self.nr_sigma_r:
            Y = bilateral(Y, self.nr_sigma_s, self.nr_sigma_r * self.nr_strength)
        if nr and self.chroma_nr > 0:
            cb = ndimage.gaussian_filter(cb, self.chroma_nr)
            cr = ndimage.gaussian_filter(cr, self.chroma_nr)
        if sharpen and self.sharpen_amount > 0:
            Y = Y + self.sharpen_amount * (Y - ndimage.gaussian_filter(Y, self.sharpen_sigma))
        return np.clip(ycc_to_rgb(Y, cb, cr), 0, 1)

    @staticmethod
    def quantise(enc):
        return np.clip(np.round(enc * 255.0), 0, 255).astype(np.uint8)

    def encode_bytes(self, img8, exif=None):
        im = Image.fromarray(img8, "RGB")
        buf = io.BytesIO()
        kw = {}
        if exif is not None:
            kw["exif"] = exif
        if self.codec == "png":
            im.save(buf, "PNG", compress_level=1, **kw)
        else:
            im.save(buf, "JPEG", quality=int(self.quality), subsampling=0 if self.chroma == "444" else 2, **kw)
        return buf.getvalue()

    # measurements a device profile would make -----------------------------------
    def calibrate_nr(self, refl_skin, E0, rng):
        """Set the NR range sigma from the noise of a flat skin patch (what an ISP does from
        its ISO noise model)."""
        flat = np.ones((96, 96, 3), np.float32) * (refl_skin * self.illum * E0).astype(np.float32)
        cfa = self.mosaic(flat)
        a = self.develop(self.add_noise(cfa, rng), nr=False, sharpen=False)
        b = self.develop(cfa, nr=False, sharpen=False)
        Ya = rgb_to_ycc(a)[0]
        Yb = rgb_to_ycc(b)[0]
        self.nr_sigma_r = float(max(np.std(Ya - Yb), 1e-4))

    def measure_noise(self, refl_skin, E0, rng):
        """Relative noise sd of linear luminance in the final (decoded) photo at skin level."""
        flat = np.ones((128, 128, 3), np.float32) * (refl_skin * self.illum * E0).astype(np.float32)
        cfa = self.mosaic(flat)
        outs = []
        for noisy in (True, False):
            c = self.add_noise(cfa, rng) if noisy else cfa
            img8 = self.quantise(self.develop(c))
            data = self.encode_bytes(img8)
            dec = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64) / 255.0
            outs.append(srgb_decode(dec) @ LUMA)
        d = outs[0] - outs[1]
        m = 8
        return float(np.std(d[m:-m, m:-m]) / np.mean(outs[1][m:-m, m:-m]))

    def measure_blur(self, refl_skin, E0, kernel, contrast=0.45):
        """Gaussian-equivalent sigma (px) of the whole camera chain (pixel aperture, optics,
        demosaicing, NR, sharpening), by fitting an erf to slanted edges in the linearised
        (sRGB-decoded, tone-curve-inverted) luminance, noise-free."""
        n = 96
        sig_ap = 1.0 / np.sqrt(12.0)
        ys, xs = np.mgrid[0:n, 0:n].astype(np.float64)
        res = []
        for ang in (5.0, 95.0):
            a = np.radians(ang)
            d = (xs - n / 2 + 0.3) * np.cos(a) + (ys - n / 2 + 0.2) * np.sin(a)
            t = 1.0 - (1.0 - contrast) * (1.0 - ndtr(d / sig_ap))
            rad = (t[..., None] * refl_skin * self.illum * E0).astype(np.float32)
            rad = convolve_image(rad, kernel)
            enc = self.develop(self.mosaic(rad))
            Y = self.tone_inverse(srgb_decode(enc)) @ LUMA
            m = 12
            dd = d[m:-m, m:-m].ravel()
            yy = Y[m:-m, m:-m].ravel()
            sel = np.abs(dd) < 20
            dd, yy = dd[sel], yy[sel]

            def f(p, dd=dd, yy=yy):
                return p[0] + p[1] * ndtr((dd - p[2]) / abs(p[3])) - yy

            p0 = [yy.min(), yy.max() - yy.min(), 0.0, 1.0]
            sol = optimize.least_squares(f, p0)
            res.append(abs(sol.x[3]))
        return float(np.sqrt(np.mean(np.square(res))))
