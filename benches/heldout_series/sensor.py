"""Camera pipeline: optics blur (disc defocus + Gaussian), auto exposure, RGGB Bayer sampling,
shot + read noise, 12-bit raw, demosaic (bilinear or Malvar-He-Cutler), auto white balance (with
error), tone curve (sRGB + S-curve), noise reduction (luma soft threshold, chroma blur),
unsharp-mask sharpening, 8-bit output; JPEG 4:2:0 or PNG with EXIF."""
import io

import numpy as np
from scipy import ndimage
from scipy.signal import oaconvolve
from PIL import Image

from .colour import LUM, srgb_encode, rgb_to_ycc, ycc_to_rgb


def psf_kernel(r_disc, sigma):
    R = int(np.ceil(r_disc + 3 * sigma)) + 1
    ss = 8
    g = (np.arange(-R * ss, (R + 1) * ss) + 0.5) / ss - 0.5
    yy, xx = np.meshgrid(g, g, indexing="ij")
    disc = (np.hypot(xx, yy) <= max(r_disc, 1e-3)).astype(float)
    k = disc.reshape(2 * R + 1, ss, 2 * R + 1, ss).mean(axis=(1, 3))
    if r_disc < 0.3:
        k = np.zeros((2 * R + 1, 2 * R + 1))
        k[R, R] = 1
    if sigma > 0:
        k = ndimage.gaussian_filter(k, sigma, mode="constant")
    return k / k.sum()


def blur(img, k):
    R = k.shape[0] // 2
    out = np.empty_like(img)
    k = k.astype(np.float32)
    for c in range(img.shape[2]):
        p = np.pad(img[..., c], R, mode="reflect")
        out[..., c] = oaconvolve(p, k, mode="valid")
    return out


def _demosaic_bilinear(raw):
    H, W = raw.shape
    r = np.zeros_like(raw)
    g = np.zeros_like(raw)
    b = np.zeros_like(raw)
    r[0::2, 0::2] = raw[0::2, 0::2]
    g[0::2, 1::2] = raw[0::2, 1::2]
    g[1::2, 0::2] = raw[1::2, 0::2]
    b[1::2, 1::2] = raw[1::2, 1::2]
    krb = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4
    kg = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4
    return np.stack([ndimage.convolve(r, krb, mode="mirror"), ndimage.convolve(g, kg, mode="mirror"),
                     ndimage.convolve(b, krb, mode="mirror")], -1)


def _demosaic_mhc(raw):
    f = np.float32
    G_at_RB = np.array([[0, 0, -1, 0, 0], [0, 0, 2, 0, 0], [-1, 2, 4, 2, -1], [0, 0, 2, 0, 0], [0, 0, -1, 0, 0]], f) / 8
    RB_at_G_row = np.array([[0, 0, .5, 0, 0], [0, -1, 0, -1, 0], [-1, 4, 5, 4, -1], [0, -1, 0, -1, 0], [0, 0, .5, 0, 0]], f) / 8
    RB_at_G_col = RB_at_G_row.T.copy()
    RB_at_BR = np.array([[0, 0, -1.5, 0, 0], [0, 2, 0, 2, 0], [-1.5, 0, 6, 0, -1.5], [0, 2, 0, 2, 0], [0, 0, -1.5, 0, 0]], f) / 8
    c1 = ndimage.convolve(raw, G_at_RB, mode="mirror")
    c2 = ndimage.convolve(raw, RB_at_G_row, mode="mirror")
    c3 = ndimage.convolve(raw, RB_at_G_col, mode="mirror")
    c4 = ndimage.convolve(raw, RB_at_BR, mode="mirror")
    R = raw.copy()
    G = raw.copy()
    B = raw.copy()
    # RGGB: R at (even, even), G at (even, odd) and (odd, even), B at (odd, odd)
    G[0::2, 0::2] = c1[0::2, 0::2]
    G[1::2, 1::2] = c1[1::2, 1::2]
    R[0::2, 1::2] = c2[0::2, 1::2]      # G in a red row
    R[1::2, 0::2] = c3[1::2, 0::2]      # G in a blue row
    R[1::2, 1::2] = c4[1::2, 1::2]
    B[1::2, 0::2] = c2[1::2, 0::2]      # G in a blue row
    B[0::2, 1::2] = c3[0::2, 1::2]      # G in a red row
    B[0::2, 0::2] = c4[0::2, 0::2]
    return np.stack([R, G, B], -1)


def develop(rad, valid_mask, p, rng):
    """rad: scene radiance (H,W,3) float32. p: per-visit pipeline parameters. Returns uint8 upright RGB
    and a dict with the exposure gain (raw units per radiance unit)."""
    H, W, _ = rad.shape
    k = psf_kernel(p["disc_px"], p["gauss_px"])
    img = blur(rad, k)
    Y = img @ LUM.astype(np.float32)
    meter = float(np.median(Y[valid_mask])) if valid_mask.any() else float(np.median(Y))
    # auto exposure: meters the frame but only partly compensates the skin's own darkness
    target = p["exposure_target"] * (p["skin_Y"] / 0.2) ** 0.45
    gain = target / max(meter, 1e-6)
    img *= np.float32(gain)
    # Bayer RGGB sampling + noise
    raw = np.empty((H, W), np.float32)
    raw[0::2, 0::2] = img[0::2, 0::2, 0]
    raw[0::2, 1::2] = img[0::2, 1::2, 1]
    raw[1::2, 0::2] = img[1::2, 0::2, 1]
    raw[1::2, 1::2] = img[1::2, 1::2, 2]
    del img
    fw = p["full_well"]
    e = np.clip(raw, 0, None) * np.float32(fw)
    e = e + np.sqrt(e) * rng.standard_normal((H, W), dtype=np.float32) \
        + np.float32(p["read_noise"]) * rng.standard_normal((H, W), dtype=np.float32)
    raw = np.clip(np.round(e / fw * 4095.0), 0, 4095).astype(np.float32) / np.float32(4095.0)
    rgb = _demosaic_mhc(raw) if p["demosaic"] == "mhc" else _demosaic_bilinear(raw)
    del raw
    # auto white balance: the exact correction of the illuminant, pulled toward grey world, with error
    exact = 1.0 / p["illuminant_rgb"]
    m = rgb[::4, ::4].reshape(-1, 3)
    vm = valid_mask[::4, ::4].ravel()
    mean = m[vm].mean(0) if vm.any() else m.mean(0)
    gw = mean[1] / np.maximum(mean, 1e-6)
    g = exact ** (1 - p["awb_greyworld"]) * gw ** p["awb_greyworld"] * p["awb_error"]
    g = g / g[1]
    # highlights clipped in any raw channel are rendered neutral (as camera pipelines do)
    hi = np.clip((rgb.max(axis=-1) - 0.92) / 0.06, 0, 1)
    rgb *= g.astype(np.float32)
    if hi.any():
        top = np.minimum(rgb.max(axis=-1), 1.0)
        rgb += hi[..., None] * (top[..., None] - rgb)
    rgb = np.clip(rgb, 0, 1)
    # tone curve (sRGB + S-curve) through a 16k-entry table
    xs = np.linspace(0, 1, 16384)
    lut = srgb_encode(xs)
    c = p["contrast"]
    lut = ((1 - c) * lut + c * lut * lut * (3 - 2 * lut)).astype(np.float32)
    t = np.take(lut, np.rint(rgb * np.float32(16383)).astype(np.int32))
    del rgb
    # noise reduction (luma soft threshold, chroma blur) and sharpening (unsharp mask on luma)
    y, cb, cr = rgb_to_ycc(t)
    if p["nr_luma"] > 0:
        yb = ndimage.gaussian_filter(y, 1.2)
        d = y - yb
        thr = np.float32(p["nr_luma"])
        y = yb + np.sign(d) * np.maximum(np.abs(d) - thr, 0)
    cb = ndimage.gaussian_filter(cb, p["nr_chroma"])
    cr = ndimage.gaussian_filter(cr, p["nr_chroma"])
    if p["sharpen_amount"] > 0:
        ys = ndimage.gaussian_filter(y, p["sharpen_radius"])
        d = y - ys
        d = np.where(np.abs(d) < 0.002, 0, d)
        y = y + np.float32(p["sharpen_amount"]) * d
    out = ycc_to_rgb(y, cb, cr)
    out8 = np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)
    return out8, {"gain": gain, "wb_gains": g.tolist(), "psf": k}


def matched_snr(windows, skinY, gain, p, psf):
    """Ideal matched-filter SNR of each dot in the raw (luminance, electrons) domain."""
    H, W = skinY.shape
    fw, rd = p["full_well"], p["read_noise"]
    R = psf.shape[0] // 2
    out = {}
    for sel, x0, y0, side, lum in windows:
        cx = np.clip(x0 + side // 2, 0, W - 1)
        cy = np.clip(y0 + side // 2, 0, H - 1)
        Se = np.maximum(skinY[cy, cx] * gain * fw, 1e-6)
        n = lum.shape[0]
        size = side + 2 * R
        pad = np.zeros((n, size, size), np.float32)
        pad[:, R:R + side, R:R + side] = 1 - np.power(10.0, -lum)
        kp = np.zeros((size, size), np.float32)
        kp[:psf.shape[0], :psf.shape[1]] = psf
        F = np.fft.rfft2(pad, axes=(1, 2)) * np.fft.rfft2(kp)[None]
        conv = np.fft.irfft2(F, s=(size, size), axes=(1, 2))
        e2 = np.sum(conv ** 2, axis=(1, 2))
        snr = Se * np.sqrt(e2) / np.sqrt(Se + rd * rd)
        for i, s in enumerate(sel):
            out[int(s)] = float(snr[i])
    return out


ORIENT_TO_STORED = {1: 0, 3: 2, 6: 1, 8: -1}   # np.rot90 k applied to the upright image


def encode(upright, fmt, quality, orientation, make, model, when):
    img = np.rot90(upright, ORIENT_TO_STORED[orientation]) if orientation != 1 else upright
    im = Image.fromarray(np.ascontiguousarray(img), "RGB")
    ex = Image.Exif()
    ex[0x010F] = make
    ex[0x0110] = model
    ex[0x0131] = "heldout_series"
    ex[0x0132] = when
    if orientation != 1:
        ex[0x0112] = orientation
    sub = ex.get_ifd(0x8769)
    sub[0x9003] = when
    sub[0x9004] = when
    buf = io.BytesIO()
    if fmt == "jpeg":
        im.save(buf, "JPEG", quality=int(quality), subsampling=2, exif=ex.tobytes())
    else:
        im.save(buf, "PNG", exif=ex.tobytes())
    return buf.getvalue()
