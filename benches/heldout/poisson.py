"""Blue-noise point sets: Bridson's Poisson-disc sampling in a rectangle."""

import numpy as np

# A maximal Bridson set with radius r has about BRIDSON_DENSITY / r^2 points per unit area.
BRIDSON_DENSITY = 0.69


def bridson(rng, x0, y0, x1, y1, r, k=24, exclude=None, exclude_r=0.0):
    """Poisson-disc points (n, 2) in [x0, x1) x [y0, y1) with minimum spacing r.
    exclude: optional (m, 2) points that new points must stay exclude_r away from."""
    w, h = x1 - x0, y1 - y0
    cell = r / np.sqrt(2.0)
    gw, gh = int(np.ceil(w / cell)) + 1, int(np.ceil(h / cell)) + 1
    pad = 2
    grid = -np.ones((gh + 2 * pad, gw + 2 * pad), dtype=np.int64)
    pts = np.empty((max(16, int(2 * w * h / (r * r)) + 16), 2))
    n = 0
    ex_tree = None
    if exclude is not None and len(exclude) and exclude_r > 0:
        from scipy.spatial import cKDTree

        ex_tree = cKDTree(exclude)

    def ok_ex(p):
        return ex_tree is None or not ex_tree.query_ball_point(p, exclude_r)

    # seed
    for _ in range(200):
        p = np.array([x0 + rng.uniform(0, w), y0 + rng.uniform(0, h)])
        if ok_ex(p):
            break
    else:
        return np.empty((0, 2))
    pts[0] = p
    gi = (int((p[1] - y0) / cell) + pad, int((p[0] - x0) / cell) + pad)
    grid[gi] = 0
    n = 1
    active = [0]
    offs = np.array([(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)])
    while active:
        ai = int(rng.integers(len(active)))
        base = pts[active[ai]]
        ang = rng.uniform(0, 2 * np.pi, k)
        rad = r * np.sqrt(rng.uniform(1.0, 4.0, k))
        cand = base + np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)
        inside = (cand[:, 0] >= x0) & (cand[:, 0] < x1) & (cand[:, 1] >= y0) & (cand[:, 1] < y1)
        cand = cand[inside]
        accepted = False
        if len(cand):
            cy = ((cand[:, 1] - y0) / cell).astype(np.int64) + pad
            cx = ((cand[:, 0] - x0) / cell).astype(np.int64) + pad
            nb = grid[cy[:, None] + offs[None, :, 0], cx[:, None] + offs[None, :, 1]]  # (m, 25)
            has = nb >= 0
            q = pts[np.where(has, nb, 0)]
            d2 = ((q - cand[:, None, :]) ** 2).sum(-1)
            bad = (has & (d2 < r * r)).any(axis=1)
            for j in np.nonzero(~bad)[0]:
                p = cand[j]
                if not ok_ex(p):
                    continue
                if n >= len(pts):
                    pts = np.concatenate([pts, np.empty_like(pts)])
                pts[n] = p
                grid[cy[j], cx[j]] = n
                active.append(n)
                n += 1
                accepted = True
                break
        if not accepted:
            active[ai] = active[-1]
            active.pop()
    return pts[:n].copy()


def clark_evans(pts, area):
    from scipy.spatial import cKDTree

    if len(pts) < 3:
        return float("nan")
    d, _ = cKDTree(pts).query(pts, k=2)
    return float(d[:, 1].mean() / (0.5 / np.sqrt(len(pts) / area)))


def relaxed(rng, x0, y0, x1, y1, density, strength=0.8, iters=8):
    """Blue-noise-like points at a given mean density (points per unit area) in [x0,x1)x[y0,y1):
    Poisson points relaxed by pairwise soft repulsion (radius strength / sqrt(density)).
    Generated in a rectangle enlarged by a margin and cropped, so that the density is uniform up
    to the edges (no edge accumulation).  strength ~0.6 gives a Clark-Evans ratio ~1.3, ~0.9 ~1.6."""
    from scipy.spatial import cKDTree

    r0 = strength / np.sqrt(density)
    m = 4.0 * r0
    X0, Y0, X1, Y1 = x0 - m, y0 - m, x1 + m, y1 + m
    n = int(rng.poisson(density * (X1 - X0) * (Y1 - Y0)))
    p = np.stack([rng.uniform(X0, X1, n), rng.uniform(Y0, Y1, n)], axis=1)
    for _ in range(iters):
        pairs = cKDTree(p).query_pairs(r0, output_type="ndarray")
        if len(pairs) == 0:
            break
        d = p[pairs[:, 1]] - p[pairs[:, 0]]
        dist = np.sqrt((d * d).sum(1))
        dist = np.maximum(dist, 1e-9)
        push = 0.5 * (r0 - dist) / dist * 0.9
        mv = d * push[:, None]
        delta = np.zeros_like(p)
        np.add.at(delta, pairs[:, 1], mv)
        np.add.at(delta, pairs[:, 0], -mv)
        p += delta
        # periodic wrap keeps the big rectangle statistically uniform
        p[:, 0] = X0 + np.mod(p[:, 0] - X0, X1 - X0)
        p[:, 1] = Y0 + np.mod(p[:, 1] - Y0, Y1 - Y0)
    keep = (p[:, 0] >= x0) & (p[:, 0] < x1) & (p[:, 1] >= y0) & (p[:, 1] < y1)
    return p[keep]
