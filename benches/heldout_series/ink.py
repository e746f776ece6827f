"""The treated region and the ink: placement, shades, layering, and how each dot ages.

A dot is one or more pigment components sharing an identity: the original deposit, an
optional blow-out halo, and re-ink deposits added at touch-ups. Each component is a disc of
diameter D convolved with a Gaussian sigma, with an amount of ink (luminance OD * mm^2) and a
per-channel OD spectrum k (luminance-normalised). Over time every component:
  ink(t)   = ink0 * 2 ** (-(t - birth) / T_dot)            (fade; T_dot per dot)
  sigma(t) = sqrt(sigma0^2 + g_dot * (t - birth))           (spread; g in um^2 / month)
  ln kB - ln kR drifts by -beta_dot * (t - birth)           (blue shift of the pigment itself)
and a dot can be lost outright at loss_t (ink -> 0).
"""
import numpy as np
from scipy.spatial import cKDTree

from .colour import LUM
from .noise import fbm
from .profile import disc_gauss


class Region:
    def __init__(self, rng, Rh, seed):
        self.Rh = Rh
        r = rng.uniform(15.0, 75.0)
        self.ru = min(r * rng.uniform(0.8, 1.25), 0.85 * Rh)
        self.rv = min(r * rng.uniform(0.6, 1.0), 0.85 * Rh)
        self.ang = rng.uniform(0, np.pi)
        self.edge = rng.uniform(1.5, 6.0)
        self.wobble = rng.uniform(0.0, 0.15)
        self.seed = seed

    def mask(self, u, v):
        u = np.asarray(u, float)
        v = np.asarray(v, float)
        c, s = np.cos(self.ang), np.sin(self.ang)
        x = (c * u + s * v) / self.ru
        y = (-s * u + c * v) / self.rv
        rr = np.hypot(x, y)
        w = 1 + self.wobble * fbm(u, v, self.seed, 0.03, octaves=2)
        d_mm = (rr - w) * min(self.ru, self.rv)
        return 1 / (1 + np.exp(np.clip(d_mm / (self.edge / 4), -50, 50)))

    def bbox(self):
        r = max(self.ru, self.rv) * (1 + self.wobble) + 2 * self.edge
        return -r, r


def relax(points, fixed, r0, iters, strength, lo, hi):
    """Blue-noise-like relaxation: pairs closer than r0 push apart (fixed points do not move)."""
    p = points.copy()
    nf = 0 if fixed is None else fixed.shape[0]
    for _ in range(iters):
        allp = p if nf == 0 else np.vstack([fixed, p])
        tree = cKDTree(allp)
        pairs = tree.query_pairs(r0, output_type="ndarray")
        if pairs.size == 0:
            break
        i, j = pairs[:, 0], pairs[:, 1]
        d = allp[j] - allp[i]
        dist = np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-6)
        push = (0.5 * strength * (r0 - dist) / dist)[:, None] * d
        disp = np.zeros_like(allp)
        np.add.at(disp, i, -push)
        np.add.at(disp, j, push)
        p += disp[nf:]
        p = np.where(p < lo, 2 * lo - p, p)
        p = np.where(p > hi, 2 * hi - p, p)
    return p


def _shift_lk(lk, s):
    """Blue shift by s (ln units): ln kB - ln kR decreases by exactly s."""
    out = lk.copy()
    out[..., 0] += 0.5 * s
    out[..., 2] -= 0.5 * s
    return out


def _k(lk):
    e = np.exp(lk)
    return e / (e @ LUM)[..., None]


class Ink:
    def __init__(self, rng, region, skin_type, t_first_after_treatment, fade, spread, blue):
        self.rng = rng
        self.region = region
        dark = (skin_type - 1) / 5.0
        self.density = rng.uniform(20, 120)                           # dots / cm^2
        self.pattern = "lattice" if rng.random() < 0.2 else "blue_noise"
        self.regularity = rng.uniform(0.3, 1.0)
        self.D_med = rng.uniform(90, 150)
        self.D_sd = rng.uniform(0.06, 0.16)
        self.s0_med = rng.uniform(8, 25)
        self.n_sessions = int(rng.integers(2, 5))
        self.session_gap = rng.uniform(0.25, 1.5)                     # months
        self.t0 = t_first_after_treatment                            # months from last session to visit 1
        self.peak_dark = rng.uniform(0.5, 1.0) * (1 - 0.4 * dark)     # fresh peak OD of darkest shade
        # shades: lighter first; each a dilution and a hue (ln kB - ln kR)
        self.base_hue = rng.uniform(-0.12, 0.18)
        mult = np.sort(rng.uniform(0.5, 1.0, self.n_sessions))
        mult[-1] = 1.0
        self.shade_mult = mult
        self.shade_hue = self.base_hue + rng.normal(0, 0.06, self.n_sessions)
        self.layer_frac = rng.uniform(0.0, 0.15)
        self.blowout_frac = float(rng.choice([0.0, rng.uniform(0.005, 0.05)], p=[0.5, 0.5]))
        self.fade = fade            # half-life months (np.inf = none)
        self.spread = spread        # um^2 / month
        self.blue = blue            # ln units / month
        self.loss_rate = float(rng.choice([0.0, rng.uniform(0.0005, 0.003)], p=[0.4, 0.6]))  # per month
        self._place()

    # ------------------------------------------------------------------ placement
    def _place(self):
        rng = self.rng
        lo, hi = self.region.bbox()
        area_cm2 = (hi - lo) ** 2 / 100.0
        rho = self.density / 100.0                       # per mm^2
        spacing = np.sqrt(2 / (np.sqrt(3) * rho))        # hex spacing
        if self.pattern == "lattice":
            sq = rng.random() < 0.5
            a = np.sqrt(1 / rho) if sq else spacing
            n = int((hi - lo) / a) + 4
            ii, jj = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1))
            if sq:
                x, y = ii * a, jj * a
            else:
                x, y = (ii + 0.5 * (jj % 2)) * a, jj * a * np.sqrt(3) / 2
            th = rng.uniform(0, np.pi)
            pts = np.stack([np.cos(th) * x - np.sin(th) * y, np.sin(th) * x + np.cos(th) * y], -1).reshape(-1, 2)
            pts += rng.uniform(-a, a, 2)
            pts += rng.normal(0, rng.uniform(0.08, 0.25) * a, pts.shape)
            pts = pts[(pts[:, 0] > lo) & (pts[:, 0] < hi) & (pts[:, 1] > lo) & (pts[:, 1] < hi)]
        else:
            n = rng.poisson(rho * (hi - lo) ** 2)
            pts = rng.uniform(lo, hi, (n, 2))
            iters = int(4 + 12 * self.regularity)
            pts = relax(pts, None, 0.9 * spacing, iters, 0.5 + 0.4 * self.regularity, lo, hi)
        keep = rng.random(len(pts)) < self.region.mask(pts[:, 0], pts[:, 1])
        pts = pts[keep]
        n = len(pts)
        session = rng.integers(0, self.n_sessions, n)
        # layering: extra dots overlapping an existing one (a later, darker pass)
        nl = rng.binomial(n, self.layer_frac)
        src = rng.choice(n, nl, replace=False) if nl else np.zeros(0, int)
        D = self.D_med * rng.lognormal(0, self.D_sd, n + nl)
        ang = rng.uniform(0, 2 * np.pi, nl)
        off = rng.uniform(0.3, 0.9, nl) * D[n:] / 1000.0
        lp = pts[src] + np.stack([np.cos(ang), np.sin(ang)], -1) * off[:, None]
        pts = np.vstack([pts, lp])
        session = np.concatenate([session, np.minimum(session[src] + 1, self.n_sessions - 1)])
        self.layered_on = np.concatenate([np.full(n, -1), src])
        N = len(pts)
        self.u, self.v = pts[:, 0].copy(), pts[:, 1].copy()
        self.session = session
        self.new_at = np.full(N, -1)            # visit index at which a touch-up added it
        # per-dot ageing rates
        z = rng.normal(size=(4, N))
        self.T = self.fade * np.exp(0.35 * z[0]) if np.isfinite(self.fade) else np.full(N, np.inf)
        self.g = self.spread * np.exp(0.4 * z[1])
        self.beta = self.blue * np.exp(0.3 * z[2])
        self.loss_t = rng.exponential(1 / self.loss_rate, N) if self.loss_rate > 0 else np.full(N, np.inf)
        # components
        birth = -(self.t0 + (self.n_sessions - 1 - session) * self.session_gap)
        s0 = self.s0_med * rng.lognormal(0, 0.25, N)
        a_mm = D / 2000.0
        peak = self.peak_dark * self.shade_mult[session] * rng.lognormal(0, 0.25, N)
        h0 = peak / (1 - np.exp(-(D / 2) ** 2 / (2 * s0 ** 2)))
        ink0 = np.pi * a_mm ** 2 * h0
        hue = self.shade_hue[session] + rng.normal(0, 0.03, N)
        lk0 = np.stack([-hue / 2 + rng.normal(0, 0.02, N), rng.normal(0, 0.02, N), hue / 2], -1)
        self.comps = []
        self._add_comps(np.arange(N), birth, D, s0, ink0, lk0, np.zeros(N), np.zeros(N), kind=0)
        # blow-outs: a soft, bluish halo around some dots
        nb = rng.binomial(N, self.blowout_frac)
        if nb:
            b = rng.choice(N, nb, replace=False)
            self._add_comps(b, birth[b], D[b], rng.uniform(80, 250, nb), ink0[b] * rng.uniform(0.2, 0.6, nb),
                            _shift_lk(lk0[b], rng.uniform(0.3, 0.6, nb)),
                            np.zeros(nb), np.zeros(nb), kind=1)
        self.blowout = np.zeros(N, bool)
        if nb:
            self.blowout[b] = True

    def _add_comps(self, dot, birth, D, s0, ink0, lk0, du, dv, kind):
        self.comps.append(dict(dot=np.asarray(dot), birth=np.asarray(birth, float), D=np.asarray(D, float),
                               s0=np.asarray(s0, float), ink0=np.asarray(ink0, float), lk0=np.asarray(lk0, float),
                               du=np.asarray(du, float), dv=np.asarray(dv, float),
                               kind=np.full(len(np.atleast_1d(dot)), kind)))
        self._cat = None

    def comp_arrays(self):
        if self._cat is None:
            self._cat = {k: np.concatenate([c[k] for c in self.comps]) for k in self.comps[0]}
        return self._cat

    @property
    def N(self):
        return self.u.size

    # ------------------------------------------------------------------ state at time t
    def comp_state(self, t):
        c = self.comp_arrays()
        d = c["dot"]
        alive = (t >= c["birth"] - 1e-9) & (t < self.loss_t[d])
        age = np.maximum(t - c["birth"], 0.0)
        T = self.T[d]
        ink = np.where(alive, c["ink0"] * np.power(2.0, -age / T), 0.0)
        sig = np.sqrt(c["s0"] ** 2 + self.g[d] * age)
        lk = _shift_lk(c["lk0"], self.beta[d] * age)
        return dict(dot=d, ink=ink, sigma=sig, D=c["D"], k=_k(lk), du=c["du"], dv=c["dv"], kind=c["kind"],
                    born=t >= c["birth"] - 1e-9)

    def dot_state(self, t):
        cs = self.comp_state(t)
        N = self.N
        d = cs["dot"]
        ink = np.bincount(d, cs["ink"], N)
        born = np.bincount(d, cs["born"].astype(float), N) > 0
        safe = np.where(ink > 0, ink, 1.0)
        k = np.stack([np.bincount(d, cs["ink"] * cs["k"][:, j], N) for j in range(3)], -1) / safe[:, None]
        dep = cs["kind"] != 1
        wdep = np.where(dep, cs["ink"], 0.0)
        wsum = np.bincount(d, wdep, N)
        wsafe = np.where(wsum > 0, wsum, 1.0)
        D = np.bincount(d, wdep * cs["D"], N) / wsafe
        spread = np.sqrt(np.bincount(d, wdep * cs["sigma"] ** 2, N) / wsafe)
        cu = np.bincount(d, cs["ink"] * cs["du"], N) / safe
        cv = np.bincount(d, cs["ink"] * cs["dv"], N) / safe
        # peak (luminance OD) at the ink centroid
        a_um = cs["D"] / 2
        r_um = np.hypot(cs["du"] - cu[d], cs["dv"] - cv[d]) * 1000
        sg = np.maximum(cs["sigma"], 1e-3)
        h = cs["ink"] / (np.pi * (a_um / 1000) ** 2)
        pk = np.bincount(d, h * disc_gauss(r_um / sg, np.minimum(a_um / sg, 29.9)), N)
        # first-birth D, spread for never-born/lost dots: fall back to the main deposit values
        main = cs["kind"] == 0
        D0 = np.zeros(N)
        S0 = np.zeros(N)
        D0[d[main]] = cs["D"][main]
        S0[d[main]] = cs["sigma"][main]
        D = np.where(wsum > 0, D, D0)
        spread = np.where(wsum > 0, spread, S0)
        k = np.where(ink[:, None] > 0, k, np.nan)
        return dict(ink=ink, k=k, D=D, spread=spread, peak=pk, cu=cu, cv=cv, born=born, present=ink > 0)

    # ------------------------------------------------------------------ touch-ups
    def touch_up(self, t_tu, visit_index, kind, rng):
        """Add new dots between the present ones and/or re-ink faded ones at time t_tu."""
        st = self.dot_state(t_tu)
        present = np.flatnonzero(st["present"])
        info = {"new": 0, "reinked": 0, "reink_gain": None, "present_before": int(present.size)}
        fresh_hue = self.shade_hue[-1] + rng.normal(0, 0.04)
        if kind in ("new", "both") and present.size:
            frac = rng.uniform(0.10, 0.40)
            lo, hi = self.region.bbox()
            nn = int(round(frac * present.size))
            # candidates inside the region, relaxed against the existing dots
            cand = rng.uniform(lo, hi, (int(nn * 3) + 10, 2))
            w = self.region.mask(cand[:, 0], cand[:, 1])
            cand = cand[rng.random(len(cand)) < w]
            tree = cKDTree(np.stack([self.u[present], self.v[present]], -1))
            dist, _ = tree.query(cand)
            cand = cand[np.argsort(-dist, kind="stable")][:nn]
            spacing = np.sqrt(2 / (np.sqrt(3) * (self.density / 100.0) * (1 + frac)))
            fixed = np.stack([self.u[present], self.v[present]], -1)
            cand = relax(cand, fixed, 0.9 * spacing, 8, 0.7, lo, hi)
            nn = len(cand)
            N0 = self.N
            ids = np.arange(N0, N0 + nn)
            self.u = np.concatenate([self.u, cand[:, 0]])
            self.v = np.concatenate([self.v, cand[:, 1]])
            self.session = np.concatenate([self.session, np.full(nn, self.n_sessions)])
            self.layered_on = np.concatenate([self.layered_on, np.full(nn, -1)])
            self.new_at = np.concatenate([self.new_at, np.full(nn, visit_index)])
            self.blowout = np.concatenate([self.blowout, np.zeros(nn, bool)])
            z = rng.normal(size=(3, nn))
            self.T = np.concatenate([self.T, self.fade * np.exp(0.35 * z[0]) if np.isfinite(self.fade) else np.full(nn, np.inf)])
            self.g = np.concatenate([self.g, self.spread * np.exp(0.4 * z[1])])
            self.beta = np.concatenate([self.beta, self.blue * np.exp(0.3 * z[2])])
            lt = t_tu + rng.exponential(1 / self.loss_rate, nn) if self.loss_rate > 0 else np.full(nn, np.inf)
            self.loss_t = np.concatenate([self.loss_t, lt])
            D = self.D_med * rng.lognormal(0, self.D_sd, nn)
            s0 = self.s0_med * rng.lognormal(0, 0.25, nn)
            peak = self.peak_dark * rng.uniform(0.7, 1.0) * rng.lognormal(0, 0.25, nn)
            h0 = peak / (1 - np.exp(-(D / 2) ** 2 / (2 * s0 ** 2)))
            ink0 = np.pi * (D / 2000) ** 2 * h0
            hue = fresh_hue + rng.normal(0, 0.03, nn)
            lk0 = np.stack([-hue / 2 + rng.normal(0, 0.02, nn), rng.normal(0, 0.02, nn), hue / 2], -1)
            self._add_comps(ids, np.full(nn, t_tu), D, s0, ink0, lk0, np.zeros(nn), np.zeros(nn), kind=0)
            info["new"] = int(nn)
        if kind in ("reink", "both") and present.size:
            frac = rng.uniform(0.2, 0.7)
            nr = int(round(frac * present.size))
            # prefer the most faded: ink now relative to the dot's own deposit
            c = self.comp_arrays()
            ink_dep = np.bincount(c["dot"], c["ink0"], self.N)[present]
            ret = st["ink"][present] / np.maximum(ink_dep, 1e-12)
            order = np.argsort(ret + rng.uniform(0, 0.3 * (np.std(ret) + 1e-6), present.size), kind="stable")
            sel = present[order[:nr]]
            gmid = rng.uniform(0.2, 0.5)
            gain = np.clip(gmid * rng.lognormal(0, 0.25, nr), 0.15, 0.6)
            add = gain * st["ink"][sel]
            D = self.D_med * rng.lognormal(0, self.D_sd, nr)
            s0 = self.s0_med * rng.lognormal(0, 0.25, nr)
            ang = rng.uniform(0, 2 * np.pi, nr)
            off = rng.uniform(0, 0.1, nr) * D / 1000
            hue = fresh_hue + rng.normal(0, 0.03, nr)
            lk0 = np.stack([-hue / 2 + rng.normal(0, 0.02, nr), rng.normal(0, 0.02, nr), hue / 2], -1)
            self._add_comps(sel, np.full(nr, t_tu), D, s0, add, lk0, off * np.cos(ang), off * np.sin(ang), kind=2)
            info["reinked"] = int(nr)
            info["reink_gain"] = float(np.median(gain))
            info["reinked_ids"] = sel
            info["reinked_pre"] = st["ink"][sel]
            info["reinked_gain_each"] = gain
        return info

    # ------------------------------------------------------------------ rendering slots
    def render_slots(self, t, dots):
        """Per dot (selected ids), padded component arrays for splatting at time t."""
        cs = self.comp_state(t)
        sel = np.zeros(self.N, bool)
        sel[dots] = True
        m = sel[cs["dot"]] & (cs["ink"] > 0)
        d = cs["dot"][m]
        pos = np.full(self.N, -1)
        pos[dots] = np.arange(len(dots))
        order = np.argsort(pos[d], kind="stable")
        d = d[order]
        rows = pos[d]
        # slot index within each dot
        first = np.r_[True, rows[1:] != rows[:-1]]
        start = np.maximum.accumulate(np.where(first, np.arange(len(rows)), 0))
        slot = np.arange(len(rows)) - start
        S = int(slot.max()) + 1 if len(slot) else 1
        n = len(dots)
        out = {}
        for key, src in (("ink", cs["ink"]), ("sigma", cs["sigma"]), ("D", cs["D"]), ("du", cs["du"]), ("dv", cs["dv"])):
            a = np.zeros((n, S))
            a[rows, slot] = src[m][order]
            out[key] = a
        kk = np.zeros((n, S, 3))
        kk[rows, slot] = cs["k"][m][order]
        out["k"] = kk
        return out
