"""A patient series: draws the scalp, the ink, the timeline, touch-ups, the device and each
visit's pose/light/pipeline; renders every visit and writes the photos and series.truth.json."""
import datetime as dt
import json
import os

import numpy as np

from . import SCHEMA
from .colour import LUM, lin_to_lab, cct_to_rgb
from .geometry import Camera, uv_to_P, P_to_uv, similarity_from_affine, fit_similarity
from .ink import Region, Ink
from .render import render_scene
from .scalp import Scalp, VisitSkinState
from .sensor import develop, encode, matched_snr

MONTH_DAYS = 30.4375

PHONES = [("Apple", "iPhone 12 Pro"), ("Apple", "iPhone 14 Pro"), ("Apple", "iPhone 13 mini"),
          ("samsung", "SM-S918B"), ("samsung", "SM-G991B"), ("Google", "Pixel 7 Pro"),
          ("Google", "Pixel 6a"), ("Xiaomi", "2201123G"), ("OnePlus", "LE2123"), ("HUAWEI", "ELS-NX9")]
DERMS = [("FotoFinder", "handyscope"), ("Canfield", "VEOS HD2"), ("DermLite", "DL5 Lumio"),
         ("Heine", "DELTAone"), ("Dino-Lite", "AM4115ZT")]


def _r(x, nd=4):
    return None if x is None or not np.isfinite(x) else float(round(float(x), nd))


def _g(x, sig=5):
    return None if x is None or not np.isfinite(x) else float(f"{float(x):.{sig}g}")


class Visit:
    pass


class Series:
    def __init__(self, seed, kind="series", max_px=None):
        if kind not in ("series", "retest"):
            raise ValueError(f"unknown kind {kind!r}")
        self.seed = int(seed)
        self.kind = kind
        self.max_px = max_px
        kc = 1 if kind == "series" else 2
        SS = np.random.SeedSequence
        rb = np.random.default_rng(SS([self.seed, 101]))
        ri = np.random.default_rng(SS([self.seed, 202]))
        rc = np.random.default_rng(SS([self.seed, 303, kc]))
        rt = np.random.default_rng(SS([self.seed, 404, kc]))
        self.rng_visit = SS([self.seed, 505, kc])
        # ---------------- head, region, skin
        self.Rh = rb.uniform(80.0, 100.0)
        self.region = Region(ri, self.Rh, seed=int(ri.integers(1, 2 ** 31 - 1)))
        lo, hi = self.region.bbox()
        self.box = min(max(abs(lo), abs(hi)) + 60.0, 1.35 * self.Rh)
        self.scalp = Scalp(rb, self.box)
        # ---------------- ageing
        if kind == "retest":
            fade_T = np.inf
        else:
            fade_T = np.inf if rt.random() < 0.08 else float(np.exp(rt.uniform(np.log(12), np.log(150))))
        self.half_life = fade_T
        true_fade = float(np.exp(rt.uniform(np.log(12), np.log(150)))) if kind == "retest" else fade_T
        spread = float(rt.choice([0.0, rt.uniform(2.0, 60.0)], p=[0.2, 0.8]))
        blue = float(rt.choice([0.0, rt.uniform(0.001, 0.008)], p=[0.3, 0.7]))
        t0 = float(rt.choice([rt.uniform(1.0, 6.0), rt.uniform(6.0, 18.0), rt.uniform(18.0, 36.0)], p=[0.5, 0.35, 0.15]))
        if kind == "retest":
            # same scalp, same day: the ageing parameters exist but no time passes
            self.ink = Ink(ri, self.region, self.scalp.skin_type, t0, true_fade, spread, blue)
        else:
            self.ink = Ink(ri, self.region, self.scalp.skin_type, t0, fade_T, spread, blue)
        self.spread_rate, self.blue_rate = spread, blue
        # ---------------- timeline
        start = dt.datetime(2014, 1, 1) + dt.timedelta(days=int(rt.integers(0, 3650)))
        start = start.replace(hour=int(rt.integers(9, 18)), minute=int(rt.integers(0, 60)), second=int(rt.integers(0, 60)))
        if kind == "series":
            nv = int(rt.integers(4, 7))
            span = rt.uniform(6.0, 60.0)
            inner = np.sort(rt.uniform(0.0, 1.0, nv - 2))
            days = np.round(np.r_[0.0, inner * span, span] * MONTH_DAYS)
            for i in range(1, nv):                        # at least ~3 weeks apart
                days[i] = max(days[i], days[i - 1] + 21)
            dates = [start + dt.timedelta(days=float(d), minutes=int(rt.integers(-120, 120)) if i else 0)
                     for i, d in enumerate(days)]
            months = days / MONTH_DAYS
        else:
            nv = 2
            dates = [start, start + dt.timedelta(minutes=int(rt.integers(2, 40)), seconds=int(rt.integers(0, 60)))]
            months = np.zeros(2)
        self.dates, self.months, self.nv = dates, months, nv
        # ---------------- touch-ups
        self.touch = {}
        if kind == "series" and rt.random() < 0.45:
            ks = [int(rt.integers(1, nv))]
            if nv >= 5 and rt.random() < 0.06:
                k2 = int(rt.integers(1, nv))
                if abs(k2 - ks[0]) >= 2:
                    ks.append(k2)
            for k in sorted(ks):
                kind_tu = str(rt.choice(["both", "new", "reink"], p=[0.5, 0.25, 0.25]))
                gap = months[k] - months[k - 1]
                t_tu = months[k] - min(rt.uniform(0.5, 1.5), 0.8 * gap)
                self.touch[k] = {"kind": kind_tu, "t": float(t_tu)}
        for k in sorted(self.touch):
            info = self.ink.touch_up(self.touch[k]["t"], k, self.touch[k]["kind"], rt)
            self.touch[k].update(info)
        # ---------------- device
        self.device_type = "dermatoscope" if rc.random() < 0.3 else "phone"
        make, model = (DERMS if self.device_type == "dermatoscope" else PHONES)[int(rc.integers(0, 5 if self.device_type == "dermatoscope" else len(PHONES)))]
        self.make, self.model = make, model
        lo_s = 30.0 if self.device_type == "dermatoscope" else 15.0
        self.nominal_scale = float(np.exp(rc.uniform(np.log(lo_s), np.log(110.0))))
        aspect = float(rc.choice([4 / 3, 3 / 2, 16 / 9]) if self.device_type == "phone" else rc.choice([4 / 3, 1.0]))
        mp = rc.uniform(1.5, 6.0) * 1e6
        Wl = np.sqrt(mp * aspect)
        cap = 100.0 * self.nominal_scale          # at most ~10 cm of scalp across the long side
        if max_px:
            cap = min(cap, float(max_px))
        Wl = min(Wl, cap)
        Hs = Wl / aspect
        W, H = int(Wl) // 2 * 2, int(Hs) // 2 * 2
        if rc.random() < 0.3:                      # portrait device
            W, H = H, W
        self.W, self.H = W, H
        self.fov_mm = max(W, H) / self.nominal_scale
        self.disc0 = rc.uniform(0.4, 2.2)
        self.gauss0 = rc.uniform(0.3, 0.6)
        self.nominal_blur_um = float(np.sqrt(self.disc0 ** 2 / 4 + self.gauss0 ** 2) / self.nominal_scale * 1000)
        self.full_well0 = rc.uniform(1500, 12000)
        self.read0 = rc.uniform(1.5, 6.0)
        self.demosaic = "mhc" if rc.random() < 0.6 else "bilinear"
        self.contrast0 = rc.uniform(0.0, 0.3)
        self.dist0 = self.fov_mm * (rc.uniform(1.2, 3.0) if self.device_type == "phone" else rc.uniform(0.7, 1.1))
        self.k1 = rc.uniform(-0.04, -0.005) if self.device_type == "phone" else rc.uniform(-0.02, 0.0)
        self.field_stop = rc.uniform(0.84, 0.97) if (self.device_type == "dermatoscope" and rc.random() < 0.5) else None
        self.polarised = self.device_type == "dermatoscope" and rc.random() < 0.8
        self.care = rc.uniform(0.2, 1.0)           # how far the framing wanders between visits
        self._make_visits(rc)

    # ------------------------------------------------------------------ per-visit pose, light, pipeline
    def _make_visits(self, rc):
        reg = self.region
        W, H = self.W, self.H
        derm = self.device_type == "dermatoscope"
        self.visits = []
        rm = min(reg.ru, reg.rv)
        tu = rc.uniform(-0.5, 0.5) * rm
        tv = rc.uniform(-0.5, 0.5) * rm
        roll0 = rc.uniform(0, 360)
        s1 = self.nominal_scale * rc.uniform(0.95, 1.05)
        skin_rng = np.random.default_rng(np.random.SeedSequence([self.seed, 606, 1 if self.kind == "series" else 2]))
        same_day_state = None
        for i in range(self.nv):
            v = Visit()
            v.index = i
            v.t = float(self.months[i])
            v.date = self.dates[i]
            tilt = rc.uniform(0, 3) if derm else float(min(20.0, abs(rc.normal(0, 8.0))))
            taz = rc.uniform(0, 360)
            if i == 0:
                scale, dist, roll, target = s1, self.dist0, roll0, (tu, tv)
                v.cam = Camera(W, H, self.Rh, target, tilt, taz, roll, dist, self.k1, scale, flat=derm)
            else:
                lr = np.log(1.03) if derm else np.log(1.25)
                ratio = float(np.exp(rc.uniform(-np.log(1 / 0.8) if not derm else -lr, lr)))
                scale = s1 * ratio
                dist = self.dist0 / ratio
                roll = roll0 + rc.uniform(-30, 30)
                c0 = self.visits[0].cam
                sx, sy = rc.uniform(-0.5, 0.5, 2) * self.care
                for attempt in range(12):
                    P, ok = c0.hit(np.array([c0.cx + sx * W]), np.array([c0.cy + sy * H]))
                    target = P_to_uv(P, self.Rh)
                    target = (float(target[0][0]), float(target[1][0]))
                    cam = Camera(W, H, self.Rh, target, tilt, taz, roll, dist, self.k1, scale, flat=derm)
                    if ok[0] and self._overlap(cam, c0) >= 0.3:
                        break
                    sx, sy = sx * 0.7, sy * 0.7
                v.cam = cam
            v.roll_deg = float(roll)
            v.tilt_deg = float(tilt)
            v.scale_target = float(scale)
            v.dist_mm = float(dist)
            # light
            L = {}
            cct = rc.uniform(2800, 7000)
            L["cct"] = float(cct)
            L["rgb"] = cct_to_rgb(cct)
            L["intensity"] = 1.0
            cam = v.cam
            nT = cam.T / self.Rh
            to_cam = (cam.C - cam.T) / np.linalg.norm(cam.C - cam.T)
            flash = (not derm) and rc.random() < 0.4
            if derm or flash:
                d = to_cam + rc.normal(0, 0.05, 3)
            else:
                e = rc.normal(0, 1, 3)
                e -= (e @ nT) * nT
                e /= np.linalg.norm(e)
                th = np.radians(rc.uniform(0, 60))
                d = np.cos(th) * nT + np.sin(th) * e
            L["dir"] = d / np.linalg.norm(d)
            L["cos_centre"] = float(L["dir"] @ nT)
            L["ambient"] = rc.uniform(0.3, 0.8)
            L["grad"] = rc.uniform(0, 0.1) if derm else rc.uniform(0, 0.25)
            L["grad_dir"] = rc.uniform(0, 2 * np.pi)
            vc = rc.uniform(0.45, 0.8) if derm else rc.uniform(0.6, 0.95)
            L["vig"] = 1 / np.sqrt(vc) - 1
            L["hotspot"] = rc.uniform(0.05, 0.3) if flash else 0.0
            L["hot_x"], L["hot_y"] = rc.normal(0, 0.15, 2)
            L["hot_w"] = rc.uniform(0.3, 0.6)
            shiny = (not self.polarised) and rc.random() < 0.45
            L["shine"] = float(np.exp(rc.uniform(np.log(0.02), np.log(0.3)))) if shiny else 0.0
            L["lobe"] = rc.uniform(0.08, 0.3)
            L["flash"] = flash
            v.light = L
            v.field_stop = self.field_stop
            v.flake_white = rc.uniform(0.6, 0.85)
            # pipeline
            disc = self.disc0 * rc.uniform(0.7, 1.6)
            p = {"disc_px": float(disc), "gauss_px": float(self.gauss0),
                 "exposure_target": float(rc.uniform(0.15, 0.35) * 2 ** rc.normal(0, 0.3)),
                 "full_well": float(self.full_well0 * rc.uniform(0.5, 1.5)),
                 "read_noise": float(self.read0 * rc.uniform(0.8, 1.3)), "demosaic": self.demosaic,
                 "illuminant_rgb": L["rgb"], "awb_greyworld": float(rc.uniform(0, 0.25)),
                 "skin_Y": float(self.scalp.base_rgb @ LUM),
                 "awb_error": np.exp(rc.normal(0, [0.05, 0.0, 0.07])),
                 "contrast": float(np.clip(self.contrast0 + rc.normal(0, 0.05), 0, 0.4)),
                 "nr_luma": float(rc.choice([0.0, rc.uniform(0.002, 0.015)], p=[0.25, 0.75])),
                 "nr_chroma": float(rc.uniform(0.5, 2.0)),
                 "sharpen_amount": float(rc.uniform(0.2, 1.2)), "sharpen_radius": float(rc.uniform(0.8, 2.0))}
            v.pipe = p
            v.blur_um = float(np.sqrt(disc ** 2 / 4 + self.gauss0 ** 2) / scale * 1000)
            png = rc.random() < 0.15
            v.fmt = "png" if png else "jpeg"
            v.quality = None if png else int(rc.integers(50, 96))
            v.orientation = 1 if png else int(rc.choice([1, 6, 8, 3], p=[0.65, 0.15, 0.1, 0.1]))
            v.file = f"visit-{i + 1}.{'png' if png else 'jpg'}"
            # skin state: identical for a same-day retest
            if self.kind == "retest" and same_day_state is not None:
                v.skin = same_day_state
            else:
                v.skin = VisitSkinState(skin_rng, self.scalp, self.region, touch_up_recent=i in self.touch)
                same_day_state = v.skin
            self.visits.append(v)

    def _overlap(self, cam, c0, n=25):
        g = np.linspace(0, 1, n)
        yy, xx = np.meshgrid(g * (cam.H - 1), g * (cam.W - 1), indexing="ij")
        P, ok = cam.hit(xx.ravel(), yy.ravel())
        x, y, _ = c0.project(P)
        inside = ok & c0.front(P) & (x >= 0) & (x <= c0.W - 1) & (y >= 0) & (y <= c0.H - 1)
        return float(inside.mean())

    # ------------------------------------------------------------------ geometry helpers
    def _frame_uv_bbox(self, cam, n=33):
        g = np.linspace(0, 1, n)
        yy, xx = np.meshgrid(g * (cam.H - 1), g * (cam.W - 1), indexing="ij")
        P, ok = cam.hit(xx.ravel(), yy.ravel())
        u, v = P_to_uv(P[ok], self.Rh)
        pad = 2.0 + 2.0 * max(cam.W, cam.H) / cam.f * 0  # mm
        return (float(u.min()) - pad, float(u.max()) + pad, float(v.min()) - pad, float(v.max()) + pad)

    def _dots_in_view(self, v, st):
        cam = v.cam
        P = uv_to_P(self.ink.u + np.nan_to_num(st["cu"]), self.ink.v + np.nan_to_num(st["cv"]), self.Rh)
        x, y, _ = cam.project(P)
        front = cam.front(P)
        in_frame = front & (x >= -0.5) & (x < cam.W - 0.5) & (y >= -0.5) & (y < cam.H - 0.5)
        imaged = in_frame.copy()
        if v.field_stop is not None:
            r = np.hypot(x - cam.cx, y - cam.cy) / np.hypot(cam.cx, cam.cy)
            imaged &= r < v.field_stop
        near = front & (x >= -8) & (x < cam.W + 7.5) & (y >= -8) & (y < cam.H + 7.5)
        return x, y, in_frame, imaged, near

    def transform_to_first(self, v):
        c0 = self.visits[0].cam
        cam = v.cam
        T = cam.T[None, :]
        Jv = cam.jacobian(T)[0]
        J1 = c0.jacobian(T)[0]
        A = J1 @ np.linalg.inv(Jv)
        x1, y1, _ = c0.project(T)
        a, b, tx, ty = similarity_from_affine(A, (cam.cx, cam.cy), (float(x1[0]), float(y1[0])))
        return a, b, tx, ty, A

    # ------------------------------------------------------------------ rendering
    def render(self, out_dir, log=None):
        os.makedirs(out_dir, exist_ok=True)
        states = [self.ink.dot_state(v.t) for v in self.visits]
        views = []
        for v, st in zip(self.visits, states):
            v.dot_state = st
            views.append(self._dots_in_view(v, st))
        truth_visits = []
        for i, v in enumerate(self.visits):
            rng = np.random.default_rng(self.rng_visit.spawn(self.nv)[i])
            v.frame_uv_bbox = self._frame_uv_bbox(v.cam)
            rad, skinY = render_scene(self, v)
            valid_mask = skinY > 0
            if v.field_stop is not None:
                valid_mask &= v.field_stop_map > 0.5
            img8, info = develop(rad, valid_mask, v.pipe, rng)
            del rad
            snr = matched_snr(v.dot_windows[1], skinY, info["gain"], v.pipe, info["psf"])
            snr_map = {int(v.dot_windows[0][k]): s for k, s in snr.items()}
            when = v.date.strftime("%Y:%m:%d %H:%M:%S")
            data = encode(img8, v.fmt, v.quality, v.orientation, self.make, self.model, when)
            with open(os.path.join(out_dir, v.file), "wb") as f:
                f.write(data)
            truth_visits.append(self._visit_truth(i, v, states, views, snr_map, info))
            if log:
                log(f"  {v.file}: {v.cam.W}x{v.cam.H} {v.scale_target:.1f} px/mm, {sum(d['visible'] for d in truth_visits[-1]['dots'])} dots visible")
        truth = self._series_truth(truth_visits)
        with open(os.path.join(out_dir, "series.truth.json"), "w") as f:
            json.dump(truth, f, separators=(",", ":"))
            f.write("\n")
        return truth

    # ------------------------------------------------------------------ truth
    def _baseline(self, i):
        prev = [k for k in self.touch if k < i]
        return max(prev) if prev else 0

    def _compare(self, i, j, states, views):
        """Dots present in visit j (reference) and i, imaged in both photos."""
        si, sj = states[i], states[j]
        common = si["present"] & sj["present"] & views[i][3] & views[j][3]
        c = np.flatnonzero(common)
        if c.size == 0:
            return None
        r = si["ink"][c] / sj["ink"][c]
        hi = np.log(si["k"][c, 2] / si["k"][c, 0])
        hj = np.log(sj["k"][c, 2] / sj["k"][c, 0])
        return dict(n=int(c.size), ink=float(np.median(r)), ink_total=float(si["ink"][c].sum() / sj["ink"][c].sum()),
                    shift=float(np.median(hi - hj)), spread=float(np.median(si["spread"][c] - sj["spread"][c])),
                    ids=c)

    def _visit_truth(self, i, v, states, views, snr_map, info):
        cam = v.cam
        st = states[i]
        x, y, in_frame, imaged, near = views[i]
        ink = self.ink
        listed = np.flatnonzero(near & st["born"])
        pxmm, Jc = cam.px_per_mm_at_centre()
        a, b, tx, ty, A = self.transform_to_first(v)
        sv = np.linalg.svd(Jc, compute_uv=False)
        base = self._baseline(i)
        cmp = self._compare(i, base, states, views) if i > 0 else None
        cmp0 = self._compare(i, 0, states, views) if i > 0 else None
        # least-squares similarity over dots imaged in both this and the first photo
        fit = None
        if i > 0:
            both = views[i][3] & views[0][3] & st["present"] & states[0]["present"]
            if both.sum() >= 3:
                src = np.stack([x[both], y[both]], 1)
                dst = np.stack([views[0][0][both], views[0][1][both]], 1)
                fa, fb, ftx, fty, rms = fit_similarity(src, dst)
                fit = {"a": _g(fa, 9), "b": _g(fb, 9), "tx": _r(ftx, 4), "ty": _r(fty, 4),
                       "rms_px": _r(rms, 4), "n": int(both.sum())}
        else:
            fit = {"a": 1.0, "b": 0.0, "tx": 0.0, "ty": 0.0, "rms_px": 0.0, "n": int((views[0][3] & st["present"]).sum())}
        # per-dot colour truth (reference D65 light, local skin without fine texture)
        uu = ink.u[listed] + st["cu"][listed]
        vv = ink.v[listed] + st["cv"][listed]
        skin = self.scalp.reflectance(uu, vv, v.skin).astype(float)  # low-frequency skin at the dot
        kk = np.nan_to_num(st["k"][listed])
        core = skin * np.power(10.0, -kk * st["peak"][listed, None])
        lab = lin_to_lab(core)
        slab = lin_to_lab(skin)
        tu = self.touch.get(i)
        reinked = {}
        if tu and "reinked_ids" in tu:
            reinked = {int(q): (float(a_), float(g_)) for q, a_, g_ in
                       zip(tu["reinked_ids"], tu["reinked_pre"], tu["reinked_gain_each"])}
        dots = []
        for n_, d in enumerate(listed):
            present = bool(st["present"][d])
            dots.append({
                "id": int(d), "x": _r(x[d], 3), "y": _r(y[d], 3),
                "visible": bool(present and imaged[d]), "in_frame": bool(in_frame[d]),
                "faded_out": not present,
                "diameter_um": _r(st["D"][d], 2), "spread_um": _r(st["spread"][d], 2),
                "peak_od": _g(st["peak"][d], 5), "ink": _g(st["ink"][d], 5),
                "k": [_g(q, 5) for q in st["k"][d]] if present else None,
                "lab": [_r(q, 2) for q in lab[n_]] if present else None,
                "skin_lab": [_r(q, 2) for q in slab[n_]],
                "snr": _r(snr_map.get(int(d), 0.0), 2),
                "new": bool(ink.new_at[d] == i), "reinked": bool(int(d) in reinked),
                "layered_on": int(ink.layered_on[d]) if ink.layered_on[d] >= 0 else None,
                "blowout": bool(ink.blowout[d]), "session": int(ink.session[d]),
            })
            if int(d) in reinked:
                dots[-1]["ink_pre_touch_up"] = _g(reinked[int(d)][0], 5)
                dots[-1]["reink_gain"] = _g(reinked[int(d)][1], 5)
        tv = {
            "file": v.file, "date": v.date.isoformat(), "months": _r(v.t, 4),
            "width": cam.W, "height": cam.H, "format": v.fmt, "exif_orientation": v.orientation,
            "px_per_mm": _r(pxmm, 5), "px_per_mm_minmax": [_r(sv[1], 4), _r(sv[0], 4)],
            "camera_blur_um": _r(v.blur_um, 3), "jpeg_quality": v.quality,
            "transform": {"a": _g(a, 9), "b": _g(b, 9), "tx": _r(tx, 4), "ty": _r(ty, 4),
                          "rotation_deg": _r(np.degrees(np.arctan2(b, a)), 4), "scale": _g(np.hypot(a, b), 7),
                          "anisotropy": _g(np.hypot(0.5 * (A[0, 0] - A[1, 1]), 0.5 * (A[0, 1] + A[1, 0])) / np.hypot(a, b), 5),
                          "affine": [[_g(A[0, 0], 7), _g(A[0, 1], 7)], [_g(A[1, 0], 7), _g(A[1, 1], 7)]]},
            "transform_fit": fit,
            "touch_up": tu is not None,
            "touch_up_kind": tu["kind"] if tu else None,
            "touch_up_months": _r(tu["t"], 4) if tu else None,
            "new_dot_fraction": _r(tu["new"] / max(tu["present_before"], 1), 5) if tu else 0.0,
            "reinked_fraction": _r(tu["reinked"] / max(tu["present_before"], 1), 5) if tu else 0.0,
            "reink_gain": _r(tu["reink_gain"], 5) if tu and tu["reink_gain"] is not None else None,
            "new_dot_fraction_in_frame": _r(sum(1 for q in dots if q["visible"] and q["new"]) /
                                            max(1, sum(1 for q in dots if q["visible"] and not q["new"])), 5) if tu else 0.0,
            "reinked_fraction_in_frame": _r(sum(1 for q in dots if q["visible"] and q["reinked"]) /
                                            max(1, sum(1 for q in dots if q["visible"] and not q["new"])), 5) if tu else 0.0,
            "baseline_visit": int(base),
            "ink_retained": 1.0 if i == 0 else (_r(cmp["ink"], 6) if cmp else None),
            "ink_retained_total": 1.0 if i == 0 else (_r(cmp["ink_total"], 6) if cmp else None),
            "pigment_shift": 0.0 if i == 0 else (_r(cmp["shift"], 6) if cmp else None),
            "pigment_shift_from_first": 0.0 if i == 0 else (_r(cmp0["shift"], 6) if cmp0 else None),
            "spread_growth_um": 0.0 if i == 0 else (_r(cmp["spread"], 4) if cmp else None),
            "ink_retained_from_first": 1.0 if i == 0 else (_r(cmp0["ink"], 6) if cmp0 else None),
            "n_common": int((views[0][3] & st["present"]).sum()) if i == 0 else (cmp["n"] if cmp else 0),
            "dots_visible": int(sum(1 for q in dots if q["visible"])),
            "dots_faded_out_in_frame": int(np.sum(in_frame & st["born"] & ~st["present"])),
            "dots_new_visible": int(sum(1 for q in dots if q["visible"] and q["new"])),
            "camera": {"device": self.device_type, "tilt_deg": _r(v.tilt_deg, 3), "roll_deg": _r(v.roll_deg, 3),
                       "distance_mm": _r(v.dist_mm, 2), "barrel_k1": _r(self.k1, 5),
                       "contact_plate": bool(cam.flat),
                       "head_radius_mm": _r(self.Rh, 2), "defocus_disc_px": _r(v.pipe["disc_px"], 4),
                       "gauss_px": _r(v.pipe["gauss_px"], 4), "full_well_e": _r(v.pipe["full_well"], 1),
                       "read_noise_e": _r(v.pipe["read_noise"], 3), "exposure_gain": _g(info["gain"], 6),
                       "wb_gains": [_r(q, 5) for q in info["wb_gains"]], "demosaic": v.pipe["demosaic"],
                       "contrast": _r(v.pipe["contrast"], 4), "nr_luma": _r(v.pipe["nr_luma"], 5),
                       "nr_chroma_px": _r(v.pipe["nr_chroma"], 4), "sharpen_amount": _r(v.pipe["sharpen_amount"], 4),
                       "sharpen_radius_px": _r(v.pipe["sharpen_radius"], 4),
                       "field_stop": _r(v.field_stop, 4) if v.field_stop else None},
            "light": {"cct_k": _r(v.light["cct"], 1), "flash": bool(v.light["flash"]), "shine": _r(v.light["shine"], 4),
                      "ambient": _r(v.light["ambient"], 4), "gradient": _r(v.light["grad"], 4),
                      "vignetting_corner": _r(1 / (1 + v.light["vig"]) ** 2, 4)},
            "skin_state": v.skin.summary(),
            "dots": dots,
        }
        return tv

    def _series_truth(self, visits):
        sc = self.scalp
        return {
            "schema": SCHEMA, "seed": self.seed, "kind": self.kind, "skin_type": sc.skin_type,
            "nominal_px_per_mm": _r(self.nominal_scale, 4), "camera_blur_um": _r(self.nominal_blur_um, 3),
            "half_life_months": _r(self.half_life, 4) if np.isfinite(self.half_life) else None,
            "touch_ups": sorted(int(k) for k in self.touch),
            "make": self.make, "model": self.model, "device": self.device_type,
            "patient": {"skin_lab": [_r(q, 2) for q in sc.lab], "head_radius_mm": _r(self.Rh, 2),
                        "spread_rate_um2_per_month": _r(self.spread_rate, 4),
                        "blue_shift_per_month": _r(self.blue_rate, 6),
                        "dot_half_life_scatter_ln_sd": 0.35,
                        "months_since_treatment_at_first_visit": _r(self.ink.t0, 3),
                        "sessions": int(self.ink.n_sessions), "pattern": self.ink.pattern,
                        "density_per_cm2": _r(self.ink.density, 3), "deposit_um_median": _r(self.ink.D_med, 2),
                        "layered_fraction": _r(self.ink.layer_frac, 4), "blowout_fraction": _r(self.ink.blowout_frac, 4),
                        "loss_rate_per_month": _r(self.ink.loss_rate, 6),
                        "region": {"ru_mm": _r(self.region.ru, 2), "rv_mm": _r(self.region.rv, 2)},
                        "skin_features": sc.features, "follicles_per_cm2": _r(sc.follicle_density, 2),
                        "terminal_hair_fraction": _r(sc.terminal_frac, 3), "grey_fraction": _r(sc.grey_frac, 3),
                        "shaves": sc.shaves},
            "visits": visits,
        }
