"""The patient's skin: tone by Fitzpatrick type, mottling, freckles, moles, scars, pores,
follicles and their hairs, and the per-visit state (redness, stubble length, flakes, sebum).

Everything static is defined in scalp coordinates (u, v) mm so that it is the same skin at
every visit; per-visit state is drawn from a visit-state seed (identical for a same-day retest).
"""
import numpy as np
from scipy import ndimage

from .colour import lab_to_lin, MELANIN, HAEMOGLOBIN, LUM
from .noise import fbm

# Fitzpatrick type -> (L*, a*, b*) of the mean scalp skin
SKIN_LAB = {1: (70.0, 9.0, 14.0), 2: (64.0, 10.0, 16.0), 3: (57.0, 11.0, 18.0),
            4: (50.0, 11.0, 19.0), 5: (42.0, 10.0, 17.0), 6: (35.0, 8.0, 13.0)}


def _k_from_log(lk):
    k = np.exp(np.asarray(lk, float))
    return k / (k @ LUM)[..., None] if k.ndim > 1 else k / (k @ LUM)


class Scalp:
    def __init__(self, rng, box_mm, skin_type=None):
        self.rng = rng
        self.B = float(box_mm)
        self.seed = int(rng.integers(1, 2 ** 31 - 1))
        self.skin_type = int(skin_type if skin_type is not None else rng.choice(
            [1, 2, 3, 4, 5, 6], p=[0.12, 0.22, 0.22, 0.18, 0.14, 0.12]))
        L, a, b = SKIN_LAB[self.skin_type]
        self.lab = np.array([L + rng.normal(0, 2.0), a + rng.normal(0, 2.0), b + rng.normal(0, 2.5)])
        self.base_rgb = np.clip(lab_to_lin(self.lab), 0.004, 1.0)
        dark = (self.skin_type - 1) / 5.0
        self.mottle_amp = rng.uniform(0.015, 0.05) * (1 + 0.5 * dark)
        self.mottle_freq = rng.uniform(0.04, 0.15)          # cycles / mm
        self.texture_amp = rng.uniform(0.012, 0.035)
        self.texture_freq = rng.uniform(3.0, 7.0)
        self.furrow_amp = rng.uniform(0.02, 0.06)
        self.furrow_cell = rng.uniform(0.5, 1.4)          # mm, primary polygonal microrelief cells
        self.furrow_width = rng.uniform(0.008, 0.016)     # mm, sigma of a primary furrow line
        self.red_pattern_freq = rng.uniform(0.05, 0.2)
        self.red_base = rng.uniform(0.0, 0.05)             # chronic redness (luminance OD)
        # hair
        self.shaft_um = float(np.clip(rng.normal([67, 77, 77, 90, 110, 120][self.skin_type - 1], 10), 55, 130))
        self.follicle_density = rng.uniform(50, 220)       # openings per cm^2
        self.terminal_frac = float(rng.choice([rng.uniform(0.0, 0.25), rng.uniform(0.25, 0.7)], p=[0.7, 0.3]))
        self.grey_frac = float(rng.choice([0.0, rng.uniform(0.0, 0.4), rng.uniform(0.4, 1.0)], p=[0.5, 0.3, 0.2]))
        self.hair_warm = rng.uniform(0.0, 0.35) if self.skin_type <= 3 else rng.uniform(0.0, 0.15)
        self.shaves = bool(rng.random() < 0.7)
        self.long_hair_rate = float(rng.choice([0.0, rng.uniform(0.5, 6.0)], p=[0.55, 0.45]))
        self.pore_density = rng.uniform(30, 110)
        self.flake_rate = float(rng.choice([0.0, rng.uniform(0.1, 1.5), rng.uniform(1.5, 6.0)], p=[0.45, 0.4, 0.15]))
        self.sebum = rng.uniform(0.0, 1.0)
        self.growth_angle = rng.uniform(0, 2 * np.pi)     # mean hair direction on the skin
        self.whorl = (rng.uniform(-40, 40), rng.uniform(-40, 40)) if rng.random() < 0.5 else None
        self._build_grid()
        self._build_follicles()

    # ------------------------------------------------------------------ static fields
    def _build_grid(self):
        rng = self.rng
        B = self.B
        n = int(min(1600, max(400, 2 * B / 0.05)))
        self.cell = 2 * B / (n - 1)
        ax = np.linspace(-B, B, n)
        U, V = np.meshgrid(ax, ax, indexing="xy")   # grid[row=v, col=u]
        s = self.seed
        mel = self.mottle_amp * fbm(U, V, s + 1, self.mottle_freq, octaves=5, gain=0.55)
        neutral = np.zeros_like(mel)
        scar = np.zeros_like(mel)
        red = np.clip(fbm(U, V, s + 2, self.red_pattern_freq, octaves=3) * 1.5 + 0.3, 0, None).astype(np.float32)
        cell = self.cell
        dark = (self.skin_type - 1) / 5.0
        area_cm2 = (2 * B) ** 2 / 100.0
        feats = {"freckles": 0, "moles": 0, "fue_scars": 0, "strip_scar": False, "patch_scar": False}

        def paint(arr, cu, cv, radius_mm, fn):
            i0 = int((cv - radius_mm + B) / cell) - 1
            i1 = int((cv + radius_mm + B) / cell) + 2
            j0 = int((cu - radius_mm + B) / cell) - 1
            j1 = int((cu + radius_mm + B) / cell) + 2
            i0, j0 = max(i0, 0), max(j0, 0)
            i1, j1 = min(i1, n), min(j1, n)
            if i1 <= i0 or j1 <= j0:
                return
            uu = U[i0:i1, j0:j1] - cu
            vv = V[i0:i1, j0:j1] - cv
            arr[i0:i1, j0:j1] += fn(uu, vv).astype(np.float32)

        # freckles: soft brown spots 1-5 mm (more on pale skin)
        nfr = rng.poisson(area_cm2 * rng.choice([0.0, 0.05, 0.3], p=[0.4, 0.4, 0.2]) * (1.3 - dark))
        for _ in range(int(nfr)):
            cu, cv = rng.uniform(-B, B, 2)
            d = rng.uniform(1.0, 5.0)
            od = rng.uniform(0.04, 0.18)
            sg = d / 3.0
            paint(mel, cu, cv, 2.5 * d, lambda x, y, od=od, sg=sg: od * np.exp(-(x * x + y * y) / (2 * sg * sg)))
            feats["freckles"] += 1
        # moles: 2-6 mm, darker, sharper, slightly irregular
        nmo = rng.poisson(area_cm2 * rng.uniform(0.0, 0.03))
        for _ in range(int(nmo)):
            cu, cv = rng.uniform(-B, B, 2)
            rad = rng.uniform(1.0, 3.0)
            od = rng.uniform(0.25, 0.7)
            ph = rng.uniform(0, 2 * np.pi, 2)
            amp = rng.uniform(0.0, 0.12, 2)
            edge = rng.uniform(0.08, 0.25)

            def mole(x, y, rad=rad, od=od, ph=ph, amp=amp, edge=edge):
                th = np.arctan2(y, x)
                rr = rad * (1 + amp[0] * np.cos(2 * th + ph[0]) + amp[1] * np.cos(3 * th + ph[1]))
                m = 1 / (1 + np.exp((np.hypot(x, y) - rr) / edge))
                return od * m
            paint(mel, cu, cv, rad * 1.6 + 1, lambda x, y, f=mole: 0.6 * f(x, y))
            paint(neutral, cu, cv, rad * 1.6 + 1, lambda x, y, f=mole: 0.5 * f(x, y))
            feats["moles"] += 1
        # scars: FUE punch scars (pale round 0.6-1.2 mm), strip scar, patch (burn/injury)
        kind = rng.choice(["none", "fue", "strip", "patch"], p=[0.55, 0.2, 0.15, 0.1])
        if kind == "fue":
            cu, cv = rng.uniform(-0.5 * B, 0.5 * B, 2)
            w, h = rng.uniform(15, 50, 2)
            cnt = int(rng.integers(40, 400))
            for _ in range(cnt):
                pu, pv = cu + rng.uniform(-w, w), cv + rng.uniform(-h, h)
                if abs(pu) > B or abs(pv) > B:
                    continue
                rad = rng.uniform(0.3, 0.6)
                paint(scar, pu, pv, rad + 0.5,
                      lambda x, y, rad=rad: 1 / (1 + np.exp((np.hypot(x, y) - rad) / 0.06)))
            feats["fue_scars"] = cnt
        elif kind == "strip":
            cv0 = rng.uniform(-0.5 * B, 0.5 * B)
            width = rng.uniform(1.0, 4.0)
            curv = rng.uniform(-0.004, 0.004)
            ang = rng.uniform(0, np.pi)
            c, s_ = np.cos(ang), np.sin(ang)
            along = c * U + s_ * V
            across = -s_ * U + c * V - cv0 - curv * along ** 2
            wob = 0.25 * width * fbm(along, 0 * along, self.seed + 5, 0.1, octaves=2)
            scar += (1 / (1 + np.exp(np.clip((np.abs(across) - width / 2 - wob) / 0.15, -50, 50)))).astype(np.float32)
            feats["strip_scar"] = True
        elif kind == "patch":
            cu, cv = rng.uniform(-0.5 * B, 0.5 * B, 2)
            rad = rng.uniform(4, 15)
            ns = fbm(U, V, self.seed + 6, 0.08, octaves=3)
            r = np.hypot(U - cu, V - cv) * (1 + 0.6 * ns)
            scar += (1 / (1 + np.exp((r - rad) / 0.5))).astype(np.float32)
            feats["patch_scar"] = True
        scar = np.clip(scar, 0, 1)
        pale = rng.uniform(0.05, 0.2) * (0.6 + dark)
        mel -= (pale * scar).astype(np.float32)
        neutral -= (0.03 * scar).astype(np.float32)
        self.scar_pink = rng.uniform(0.0, 0.04)
        self.grid_ax = ax
        self.g_mel = mel.astype(np.float32)
        self.g_neutral = neutral.astype(np.float32)
        self.g_scar = scar.astype(np.float32)
        self.g_red = red
        self.features = feats

    def sample(self, grid, u, v, order=1):
        """Bilinear lookup of a static grid at (u, v) mm."""
        fi = (np.asarray(v) + self.B) / self.cell
        fj = (np.asarray(u) + self.B) / self.cell
        return ndimage.map_coordinates(grid, [fi.ravel(), fj.ravel()], order=order,
                                       mode="nearest").reshape(np.shape(u))

    def _build_follicles(self):
        rng = self.rng
        B = self.B
        area = (2 * B) ** 2 / 100.0
        # follicular units: 1-3 openings clustered within ~0.4 mm
        nunits = rng.poisson(self.follicle_density / 1.7 * area)
        cu = rng.uniform(-B, B, nunits)
        cv = rng.uniform(-B, B, nunits)
        per = rng.choice([1, 2, 3], size=nunits, p=[0.45, 0.4, 0.15])
        idx = np.repeat(np.arange(nunits), per)
        fu = cu[idx] + rng.normal(0, 0.12, idx.size)
        fv = cv[idx] + rng.normal(0, 0.12, idx.size)
        keep = self.sample(self.g_scar, fu, fv) < 0.4
        fu, fv = fu[keep], fv[keep]
        nf = fu.size
        self.fol_u, self.fol_v = fu, fv
        self.fol_d_um = rng.uniform(50, 100, nf)
        self.fol_od = rng.uniform(0.04, 0.12, nf)
        # hairs in follicles: 0 none, 1 terminal, 2 vellus
        r = rng.random(nf)
        self.fol_hair = np.where(r < self.terminal_frac, 1, np.where(r < self.terminal_frac + 0.25, 2, 0))
        self.hair_w_um = np.where(self.fol_hair == 1, self.shaft_um * rng.lognormal(0, 0.12, nf),
                                  rng.uniform(25, 40, nf))
        colour = rng.random(nf)
        grey = colour < self.grey_frac
        white = colour < self.grey_frac * 0.4
        base_od = np.where(white, rng.uniform(-0.12, 0.0, nf),
                           np.where(grey, rng.uniform(0.2, 0.45, nf), rng.uniform(0.55, 1.1, nf)))
        self.hair_od = np.where(self.fol_hair == 2, rng.uniform(0.05, 0.15, nf), base_od)
        self.hair_warm_i = np.where(grey | (self.fol_hair == 2), 0.0, self.hair_warm * rng.uniform(0.5, 1.5, nf))
        # growth direction: smooth field (+ whorl), elevation 30-60 degrees
        ang = self.growth_angle + 0.6 * fbm(fu, fv, self.seed + 9, 0.03, octaves=2)
        if self.whorl is not None:
            ang = ang * 0.3 + np.arctan2(fv - self.whorl[1], fu - self.whorl[0]) + 0.4
        self.hair_ang = ang + rng.normal(0, 0.25, nf)
        self.hair_elev = np.radians(rng.uniform(30, 60, nf))
        self.hair_rate = rng.lognormal(0, 0.25, nf) * np.where(rng.random(nf) < 0.12, 0.0, 1.0)  # telogen
        self.hair_phase = rng.uniform(0, 0.3, nf)           # mm already above the skin at shave
        # sweat pores: fainter, smaller
        npo = rng.poisson(self.pore_density * area)
        pu, pv = rng.uniform(-B, B, npo), rng.uniform(-B, B, npo)
        keep = self.sample(self.g_scar, pu, pv) < 0.4
        self.pore_u, self.pore_v = pu[keep], pv[keep]
        self.pore_d_um = rng.uniform(40, 75, self.pore_u.size)
        self.pore_od = rng.uniform(0.02, 0.06, self.pore_u.size)

    # ------------------------------------------------------------------ reflectance
    def reflectance(self, u, v, state, with_scar=False):
        """Low-frequency linear-RGB skin reflectance (no fine texture, pores, hairs, dots) at (u, v)."""
        mel = self.sample(self.g_mel, u, v)
        neu = self.sample(self.g_neutral, u, v)
        scar = self.sample(self.g_scar, u, v)
        redp = self.sample(self.g_red, u, v)
        red = self.red_base * redp + state.redness * (0.4 + redp) + state.red_region_fn(u, v)
        red = red + self.scar_pink * scar
        od = (mel[..., None] * MELANIN + red[..., None] * HAEMOGLOBIN + neu[..., None])
        refl = (self.base_rgb * np.power(10.0, -od)).astype(np.float32)
        return (refl, scar) if with_scar else refl


class VisitSkinState:
    """Per-visit skin state: redness, days since shave, flakes, sebum, long hairs."""

    def __init__(self, rng, scalp, region, touch_up_recent=False):
        self.redness = rng.uniform(0.0, 0.04) * rng.choice([0.3, 1.0])
        amp = rng.uniform(0.03, 0.10) if touch_up_recent else 0.0
        self.red_region_amp = amp
        self.red_region_fn = (lambda u, v, a=amp, reg=region: a * reg.mask(u, v)) if amp > 0 else (
            lambda u, v: 0.0)
        if scalp.shaves:
            self.days_since_shave = float(rng.choice([rng.uniform(0, 0.5), rng.uniform(0.5, 3.0), rng.uniform(3, 6)],
                                                     p=[0.3, 0.55, 0.15]))
        else:
            # not shaved: kept short with clippers (0.5-3 mm), expressed as equivalent days of growth
            self.days_since_shave = float(rng.uniform(1.5, 8.0))
        self.flake_density = scalp.flake_rate * rng.uniform(0.2, 1.5)   # per cm^2
        self.sebum_seed = int(rng.integers(1, 2 ** 31 - 1))
        self.flake_seed = int(rng.integers(1, 2 ** 31 - 1))
        self.hair_seed = int(rng.integers(1, 2 ** 31 - 1))
        self.long_hairs = int(rng.poisson(scalp.long_hair_rate))
        self.sebum = scalp.sebum * rng.uniform(0.3, 1.3)

    def summary(self):
        return {"days_since_shave": round(self.days_since_shave, 2), "redness": round(self.redness, 4),
                "treatment_redness": round(self.red_region_amp, 4),
                "flakes_per_cm2": round(self.flake_density, 3), "long_hairs": self.long_hairs}
