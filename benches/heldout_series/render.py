"""Scene rendering for one visit: per-pixel skin reflectance (inverse-mapped through the camera
onto the head sphere), splatted features (pores, follicles, hairs, flakes, SMP dots) with their
local affine footprint, lighting (illuminant, Lambert shading, gradient, vignetting, flash, shine).
Output: linear scene radiance at the sensor, before optics blur."""
import numpy as np

from .colour import LUM
from .geometry import uv_to_P
from .noise import fbm, furrows
from .profile import disc_gauss

_RBINS = np.array([1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 200, 256])


def _inv2(J):
    det = J[:, 0, 0] * J[:, 1, 1] - J[:, 0, 1] * J[:, 1, 0]
    inv = np.empty_like(J)
    inv[:, 0, 0] = J[:, 1, 1] / det
    inv[:, 1, 1] = J[:, 0, 0] / det
    inv[:, 0, 1] = -J[:, 0, 1] / det
    inv[:, 1, 0] = -J[:, 1, 0] / det
    return inv


def _smax(J):
    a, b, c, d = J[:, 0, 0], J[:, 0, 1], J[:, 1, 0], J[:, 1, 1]
    s1 = a * a + b * b + c * c + d * d
    s2 = np.sqrt(np.maximum(s1 * s1 - 4 * (a * d - b * c) ** 2, 0))
    return np.sqrt((s1 + s2) / 2)


def _k_hair(warm):
    lk = np.stack([-np.asarray(warm) / 2, np.zeros_like(warm), np.asarray(warm) / 2], -1)
    e = np.exp(lk)
    return e / (e @ LUM)[..., None]


class Splatter:
    def __init__(self, H, W):
        self.H, self.W = H, W

    def run(self, acc, x, y, J, extent_mm, fn, mode="add", windows=None, budget=1_200_000):
        """acc: (C, H*W) float32. fn(idx, dmx, dmy, pix_mm) -> (n, M, C) values."""
        H, W = self.H, self.W
        n = len(x)
        if n == 0:
            return
        Jinv = _inv2(J)
        smax = _smax(J)
        pix_mm = 1.0 / np.sqrt(np.abs(J[:, 0, 0] * J[:, 1, 1] - J[:, 0, 1] * J[:, 1, 0]))
        R = np.ceil(extent_mm * smax + 1.5)
        b = np.searchsorted(_RBINS, np.minimum(R, _RBINS[-1]))
        C = acc.shape[0]
        for bi in np.unique(b):
            Rb = int(_RBINS[bi])
            idx = np.flatnonzero(b == bi)
            idx = idx[np.argsort(y[idx], kind="stable")]
            side = 2 * Rb + 1
            oy, ox = np.mgrid[-Rb:Rb + 1, -Rb:Rb + 1]
            oxi, oyi = ox.ravel(), oy.ravel()
            ox = oxi.astype(np.float32)
            oy = oyi.astype(np.float32)
            step = max(1, budget // (side * side))
            vis = (x[idx] > -Rb - 1) & (x[idx] < W + Rb) & (y[idx] > -Rb - 1) & (y[idx] < H + Rb)
            if windows is None:
                idx = idx[vis]
            for s in range(0, len(idx), step):
                sel = idx[s:s + step]
                ix = np.rint(x[sel]).astype(np.int64)
                iy = np.rint(y[sel]).astype(np.int64)
                px = ix[:, None] + oxi[None, :]
                py = iy[:, None] + oyi[None, :]
                dxp = (ix - x[sel]).astype(np.float32)[:, None] + ox[None, :]
                dyp = (iy - y[sel]).astype(np.float32)[:, None] + oy[None, :]
                Ji = Jinv[sel].astype(np.float32)
                dmx = Ji[:, 0, 0, None] * dxp + Ji[:, 0, 1, None] * dyp
                dmy = Ji[:, 1, 0, None] * dxp + Ji[:, 1, 1, None] * dyp
                vals = fn(sel, dmx, dmy, pix_mm[sel].astype(np.float32))
                if windows is not None:
                    windows.append((sel, ix - Rb, iy - Rb, side, (vals @ LUM.astype(np.float32)).reshape(-1, side, side)))
                inb = (px >= 0) & (px < W) & (py >= 0) & (py < H)
                if not inb.any():
                    continue
                flat = (py * W + px)[inb]
                if mode == "add":
                    lo, hi = int(flat.min()), int(flat.max()) + 1
                    for c in range(C):
                        acc[c, lo:hi] += np.bincount(flat - lo, vals[..., c][inb], hi - lo).astype(np.float32)
                else:
                    for c in range(C):
                        np.maximum.at(acc[c], flat, vals[..., c][inb].astype(np.float32))


def _segment_profile(dmx, dmy, ex, ey, hw, od, pix, centred=False):
    """Hair stroke from (0,0) to (ex,ey) mm (or from -e/2 to +e/2 if centred), half-width hw mm,
    centre OD od (the OD integral across the hair is conserved when it is thinner than a pixel)."""
    if centred:
        dmx = dmx + 0.5 * ex[:, None]
        dmy = dmy + 0.5 * ey[:, None]
    L2 = np.maximum(ex * ex + ey * ey, 1e-12)
    t = np.clip((dmx * ex[:, None] + dmy * ey[:, None]) / L2[:, None], 0, 1)
    ddx = dmx - t * ex[:, None]
    ddy = dmy - t * ey[:, None]
    d = np.sqrt(ddx * ddx + ddy * ddy)
    hwe = np.sqrt(hw * hw + (0.45 * pix) ** 2)
    q = np.clip(1 - (d / hwe[:, None]) ** 2, 0, 1)
    return (od * hw / hwe)[:, None] * np.sqrt(q)


def render_scene(patient, visit):
    cam = visit.cam
    H, W = cam.H, cam.W
    sc = patient.scalp
    st = visit.skin
    light = visit.light
    Rh = cam.Rh
    HW = H * W
    Ldir = light["dir"]
    pxmm = visit.scale_target
    # smooth quantities on a coarse grid (block s px), upsampled bilinearly
    s = int(max(1, min(4, np.floor(pxmm * sc.cell))))
    Kx, Ky = -(-W // s) + 2, -(-H // s) + 2
    xc = (np.arange(Kx) - 1) * s + (s - 1) / 2.0
    yc = (np.arange(Ky) - 1) * s + (s - 1) / 2.0
    yy, xx = np.meshgrid(yc, xc, indexing="ij")
    P, ok = cam.hit(xx, yy)
    uc, vc = _p_to_uv(P, Rh)
    uc = np.where(ok, uc, 0.0)
    vc = np.where(ok, vc, 0.0)
    if cam.flat:   # contact plate: flat skin facing the plate
        Pf = cam._flatten(P)
        n = np.broadcast_to(cam.nT, P.shape)
        Vd = cam.C - Pf
    else:
        n = P / Rh
        Vd = cam.C - P
    Vd /= np.linalg.norm(Vd, axis=-1, keepdims=True)
    Hh = Ldir + Vd
    Hh /= np.linalg.norm(Hh, axis=-1, keepdims=True)
    lowc, scarc = sc.reflectance(uc, vc, st, with_scar=True)
    up = lambda a: _upsample(a, s, W, H)
    u_img, v_img = up(uc), up(vc)
    valid = up(ok.astype(np.float32)) > 0.5
    Ec = _illumination(visit, np.sum(n * Ldir, -1), ok, xc, yc)
    lobe = None
    if light["shine"] > 0:
        th = np.arccos(np.clip(np.sum(n * Hh, -1), -1, 1))
        seb = np.clip(0.5 + 1.5 * fbm(uc, vc, st.sebum_seed, 0.12, octaves=2) + (st.sebum - 0.5), 0, 1)
        seb = seb * seb * (3 - 2 * seb)
        lobe = up(light["shine"] * seb * np.exp(-th ** 2 / (2 * light["lobe"] ** 2)) * ok)
    scar = up(scarc)
    refl = np.stack([up(lowc[..., c]) for c in range(3)], -1)
    # ---------------- fine texture (per pixel, band-limited to the sampling)
    nyq = 0.4 * pxmm
    tex = fbm(u_img, v_img, sc.seed + 11, sc.texture_freq, octaves=3, gain=0.6, max_freq=nyq)
    # skin furrows: a polygonal network, line width never below ~0.6 px (no aliasing)
    furrow = furrows(u_img, v_img, sc.seed + 12, sc.furrow_cell, max(sc.furrow_width, 0.6 / pxmm),
                     secondary=sc.furrow_cell / 2.3 * pxmm >= 10)
    furrow *= np.float32(min(1.0, sc.furrow_width * pxmm / 0.6))
    fine = (sc.texture_amp * tex + sc.furrow_amp * furrow) * (1 - 0.75 * scar)
    refl *= np.power(np.float32(10.0), -fine[..., None] * np.array([0.9, 1.0, 1.15], np.float32))
    refl[~valid] = 0.03
    del scar, fine
    # ---------------- splatted layers (OD, linear RGB channels)
    od = np.zeros((3, HW), np.float32)
    spl = Splatter(H, W)
    frame_uv = visit.frame_uv_bbox

    def in_view(u, v, margin=1.0):
        m = (u > frame_uv[0] - margin) & (u < frame_uv[1] + margin) & (v > frame_uv[2] - margin) & (v < frame_uv[3] + margin)
        idx = np.flatnonzero(m)
        P = uv_to_P(u[idx], v[idx], Rh)
        x, y, _ = cam.project(P)
        f = cam.front(P) & (x > -40) & (x < W + 40) & (y > -40) & (y < H + 40)
        return idx[f], x[f], y[f], P[f]

    # pores and follicle openings (faint), and sub-surface hair shafts in follicles
    k_pore = np.array([0.85, 1.0, 1.25]) / (np.array([0.85, 1.0, 1.25]) @ LUM)
    for (uu, vv, dd, oo) in ((sc.pore_u, sc.pore_v, sc.pore_d_um, sc.pore_od),
                             (sc.fol_u, sc.fol_v, sc.fol_d_um, sc.fol_od)):
        idx, x, y, P = in_view(uu, vv)
        if len(idx) == 0:
            continue
        J = cam.jacobian(P)
        a = dd[idx] / 2000
        h = oo[idx]

        def fn(sel, dmx, dmy, pix, a=a, h=h):
            sg = np.sqrt(0.02 ** 2 + (0.35 * pix) ** 2)
            r = np.sqrt(dmx * dmx + dmy * dmy)
            val = h[sel, None] * disc_gauss(r / sg[:, None], (a[sel] / sg)[:, None])
            return val[..., None] * k_pore.astype(np.float32)
        spl.run(od, x, y, J, a + 0.1, fn)
    # hairs: shafts seen through the skin at terminal follicles + stubble above the skin
    idx, x, y, P = in_view(sc.fol_u, sc.fol_v, 3.0)
    hair = sc.fol_hair[idx]
    m = hair > 0
    idx, x, y, P, hair = idx[m], x[m], y[m], P[m], hair[m]
    if len(idx):
        J = cam.jacobian(P)
        hw = sc.hair_w_um[idx] / 2000
        hod = sc.hair_od[idx]
        kh = _k_hair(sc.hair_warm_i[idx]).astype(np.float32)
        term = hair == 1

        def fn_shaft(sel, dmx, dmy, pix):
            sg = np.sqrt(0.015 ** 2 + (0.35 * pix) ** 2)
            r = np.sqrt(dmx * dmx + dmy * dmy)
            val = (0.3 * hod[sel])[:, None] * disc_gauss(r / sg[:, None], (hw[sel] / sg)[:, None])
            return val[..., None] * kh[sel][:, None, :]
        ts = np.flatnonzero(term)
        spl.run(od, x[ts], y[ts], J[ts], hw[ts] + 0.08, lambda s, a, b, p: fn_shaft(ts[s], a, b, p))
        days = st.days_since_shave
        grow = sc.hair_rate[idx] * 0.35 * days
        L = np.where(term, np.maximum(0.0, grow + sc.hair_phase[idx] - 0.1), np.minimum(0.5 * grow, 1.5))
        Lp = L * np.cos(sc.hair_elev[idx])
        ang = sc.hair_ang[idx]
        ex, ey = Lp * np.cos(ang), Lp * np.sin(ang)
        sv = np.flatnonzero(Lp > 0.01)
        # windows centred on the stroke midpoints (local affine map of the follicle)
        xm = x[sv] + 0.5 * (J[sv, 0, 0] * ex[sv] + J[sv, 0, 1] * ey[sv])
        ym = y[sv] + 0.5 * (J[sv, 1, 0] * ex[sv] + J[sv, 1, 1] * ey[sv])

        def fn_stroke(sel, dmx, dmy, pix):
            s = sv[sel]
            val = _segment_profile(dmx, dmy, ex[s].astype(np.float32), ey[s].astype(np.float32),
                                   hw[s].astype(np.float32), hod[s].astype(np.float32), pix, centred=True)
            return val[..., None] * kh[s][:, None, :]
        spl.run(od, xm, ym, J[sv], 0.5 * Lp[sv] + hw[sv] + 0.03, fn_stroke)
    # SMP dots
    dstate = visit.dot_state
    didx, dx, dy, dP = in_view(patient.ink.u + dstate["cu"], patient.ink.v + dstate["cv"], 3.0)
    didx = didx[dstate["present"][didx]]
    windows = []
    if len(didx):
        ok = dstate["present"][didx]
        P = uv_to_P(patient.ink.u[didx] + dstate["cu"][didx], patient.ink.v[didx] + dstate["cv"][didx], Rh)
        dx, dy, _ = cam.project(P)
        J = cam.jacobian(P)
        sl = patient.ink.render_slots(visit.t, didx)
        S = sl["ink"].shape[1]
        a = sl["D"] / 2000
        sig = sl["sigma"] / 1000
        du = sl["du"] - dstate["cu"][didx, None]
        dv = sl["dv"] - dstate["cv"][didx, None]
        h = np.where(sl["ink"] > 0, sl["ink"] / (np.pi * np.maximum(a, 1e-6) ** 2), 0.0)
        kk = sl["k"].astype(np.float32)
        ext = np.max(np.where(sl["ink"] > 0, a + 3.5 * sig + np.hypot(du, dv), 0), axis=1) + 0.03

        def fn_dot(sel, dmx, dmy, pix):
            out = np.zeros(dmx.shape + (3,), np.float32)
            for s in range(S):
                hs = h[sel, s]
                if not np.any(hs > 0):
                    continue
                sg = np.sqrt(sig[sel, s] ** 2 + (0.35 * pix) ** 2).astype(np.float32)
                rx = dmx - du[sel, s, None].astype(np.float32)
                ry = dmy - dv[sel, s, None].astype(np.float32)
                r = np.sqrt(rx * rx + ry * ry)
                val = hs[:, None].astype(np.float32) * disc_gauss(r / sg[:, None], np.minimum(a[sel, s] / sg, 29.9)[:, None])
                out += val[..., None] * kk[sel, s][:, None, :]
            return out
        spl.run(od, dx, dy, J, ext, fn_dot, windows=windows, budget=600_000)
        visit.dot_windows = (didx, windows)
    else:
        visit.dot_windows = (didx, [])
    # long hairs crossing the field (max-combined so that segment joints do not double)
    lh = _long_hairs(patient, visit, in_view)
    if lh is not None:
        od += lh
    # ---------------- compose reflectance
    trans = np.power(10.0, -od.reshape(3, H, W)).transpose(1, 2, 0)
    refl_sk = refl
    refl = refl * trans
    # flakes (white, on top)
    alpha = _flakes(patient, visit, in_view, spl)
    if alpha is not None:
        a = alpha.reshape(H, W, 1)
        refl = refl * (1 - a) + a * np.float32(visit.flake_white)
    # ---------------- lighting
    E = up(Ec)[..., None] * (light["rgb"] * light["intensity"]).astype(np.float32)
    rad = refl * E
    skinY = (refl_sk * E) @ LUM.astype(np.float32)
    if lobe is not None:
        sparkle = np.clip(0.7 + 0.8 * tex - 1.5 * furrow, 0, 1.6)   # plateaus glint, furrows do not
        spec = lobe * sparkle
        rad = rad + spec[..., None] * (light["rgb"] * light["intensity"]).astype(np.float32)
    if visit.field_stop is not None:
        xx = np.arange(W, dtype=np.float32)[None, :] - np.float32(cam.cx)
        yy = np.arange(H, dtype=np.float32)[:, None] - np.float32(cam.cy)
        r = np.sqrt(xx * xx + yy * yy) / np.float32(np.hypot(cam.cx, cam.cy))
        fs = 1 / (1 + np.exp((r - visit.field_stop) / 0.004))
        rad = rad * fs[..., None].astype(np.float32) + 0.002
        visit.field_stop_map = fs
    return rad.astype(np.float32), skinY.astype(np.float32)


def _upsample(a, s, W, H):
    """Bilinear upsampling of a coarse grid sampled at block centres (one extra ring) to W x H."""
    a = np.asarray(a, np.float32)
    if s == 1:
        return np.ascontiguousarray(a[1:H + 1, 1:W + 1])
    from PIL import Image
    Ky, Kx = a.shape
    im = Image.fromarray(a, "F").resize((Kx * s, Ky * s), Image.BILINEAR)
    return np.asarray(im)[s:s + H, s:s + W]


def _p_to_uv(P, Rh):
    rxy = np.hypot(P[..., 0], P[..., 1])
    rho = np.arctan2(rxy, P[..., 2])
    f = np.where(rxy > 1e-12, Rh * rho / np.maximum(rxy, 1e-12), 1.0)
    return P[..., 0] * f, P[..., 1] * f


def _illumination(visit, cos_l, valid, xs, ys):
    """Irradiance factor (without the illuminant colour) at pixel columns xs and rows ys."""
    cam = visit.cam
    L = visit.light
    rd = np.float32(np.hypot(cam.cx, cam.cy))
    xn = (np.asarray(xs, np.float32)[None, :] - np.float32(cam.cx)) / rd
    yn = (np.asarray(ys, np.float32)[:, None] - np.float32(cam.cy)) / rd
    lam = L["ambient"] + (1 - L["ambient"]) * np.clip(cos_l, 0, None) / max(L["cos_centre"], 0.05)
    grad = 1 + L["grad"] * (np.cos(L["grad_dir"]) * xn + np.sin(L["grad_dir"]) * yn)
    r2 = xn * xn + yn * yn
    vig = 1 / (1 + L["vig"] * r2) ** 2
    hot = 1 + L["hotspot"] * np.exp(-((xn - L["hot_x"]) ** 2 + (yn - L["hot_y"]) ** 2) / (2 * L["hot_w"] ** 2))
    return (lam * grad * vig * hot * valid).astype(np.float32)


def _long_hairs(patient, visit, in_view):
    st = visit.skin
    sc = patient.scalp
    rng = np.random.default_rng(st.hair_seed)
    box = sc.B
    n_total = rng.poisson(sc.long_hair_rate * (2 * box) ** 2 / 2500.0) if sc.long_hair_rate > 0 else 0
    if n_total == 0:
        return None
    pts_u, pts_v, hw, odv, warm = [], [], [], [], []
    for _ in range(n_total):
        L = rng.uniform(15, 90)
        n = int(L / 0.15)
        u0, v0 = rng.uniform(-box * 0.7, box * 0.7, 2)
        a0 = rng.uniform(0, 2 * np.pi)
        curv = rng.normal(0, 0.02)
        wig = rng.normal(0, 0.004, n).cumsum()
        ang = a0 + curv * np.arange(n) * 0.15 + wig
        uu = u0 + np.cumsum(np.cos(ang) * 0.15)
        vv = v0 + np.cumsum(np.sin(ang) * 0.15)
        pts_u.append(uu)
        pts_v.append(vv)
        w = sc.shaft_um * rng.lognormal(0, 0.1) / 2000
        grey = rng.random() < sc.grey_frac
        o = rng.uniform(0.25, 0.5) if grey else rng.uniform(0.8, 1.3)
        hw.append(np.full(n, w))
        odv.append(np.full(n, o))
        warm.append(np.full(n, 0.0 if grey else sc.hair_warm))
    uu, vv = np.concatenate(pts_u), np.concatenate(pts_v)
    hw, odv, warm = np.concatenate(hw), np.concatenate(odv), np.concatenate(warm)
    # segment i: from point i to point i+1 (skip the joins between different hairs)
    seg_ok = np.ones(len(uu), bool)
    ends = np.cumsum([len(p) for p in pts_u]) - 1
    seg_ok[ends] = False
    seg = np.flatnonzero(seg_ok)
    idx, x, y, P = in_view(uu[seg], vv[seg], 1.0)
    if len(idx) == 0:
        return None
    seg = seg[idx]
    cam = visit.cam
    J = cam.jacobian(P)
    ex = (uu[seg + 1] - uu[seg]).astype(np.float32)
    ey = (vv[seg + 1] - vv[seg]).astype(np.float32)
    kh = _k_hair(warm[seg]).astype(np.float32)
    acc = np.zeros((3, cam.H * cam.W), np.float32)

    def fn(sel, dmx, dmy, pix):
        val = _segment_profile(dmx, dmy, ex[sel], ey[sel], hw[seg][sel].astype(np.float32),
                               odv[seg][sel].astype(np.float32), pix)
        return val[..., None] * kh[sel][:, None, :]
    Splatter(cam.H, cam.W).run(acc, x, y, J, np.full(len(seg), 0.25), fn, mode="max")
    return acc


def _flakes(patient, visit, in_view, spl):
    st = visit.skin
    sc = patient.scalp
    if st.flake_density <= 0:
        return None
    rng = np.random.default_rng(st.flake_seed)
    box = sc.B
    n = rng.poisson(st.flake_density * (2 * box) ** 2 / 100.0)
    if n == 0:
        return None
    fu, fv = rng.uniform(-box, box, n), rng.uniform(-box, box, n)
    ra = rng.lognormal(np.log(0.2), 0.5, n).clip(0.05, 1.0)
    rb = ra * rng.uniform(0.4, 1.0, n)
    th = rng.uniform(0, np.pi, n)
    al = rng.uniform(0.3, 0.85, n)
    ph = rng.uniform(0, 2 * np.pi, (n, 2))
    wb = rng.uniform(0, 0.3, (n, 2))
    idx, x, y, P = in_view(fu, fv)
    if len(idx) == 0:
        return None
    cam = visit.cam
    J = cam.jacobian(P)
    acc = np.zeros((1, cam.H * cam.W), np.float32)

    def fn(sel, dmx, dmy, pix):
        i = idx[sel]
        c, s = np.cos(th[i])[:, None], np.sin(th[i])[:, None]
        xr = (c * dmx + s * dmy) / ra[i, None]
        yr = (-s * dmx + c * dmy) / rb[i, None]
        ang = np.arctan2(yr, xr)
        rr = np.sqrt(xr * xr + yr * yr) / (1 + wb[i, 0, None] * np.cos(2 * ang + ph[i, 0, None])
                                            + wb[i, 1, None] * np.cos(3 * ang + ph[i, 1, None]))
        edge = (0.5 * pix / rb[i])[:, None] + 0.05
        m = 1 / (1 + np.exp(np.clip((rr - 1) / edge, -30, 30)))
        return (al[i, None] * m)[..., None].astype(np.float32)
    spl.run(acc, x, y, J, ra[idx] * 1.4 + 0.05, fn, mode="max")
    return acc[0]
