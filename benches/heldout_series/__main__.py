"""CLI: python -m heldout_series patients --seed S --count N --out DIR [--max-px PX] [--kind series|retest]
        python -m heldout_series describe DIR"""
import argparse
import json
import os
import sys
import time


def _patients(a):
    from .patient import Series
    os.makedirs(a.out, exist_ok=True)
    for s in range(a.seed, a.seed + a.count):
        t = time.time()
        d = os.path.join(a.out, f"p{s}")
        ser = Series(s, a.kind, a.max_px)
        log = (lambda m: print(m, file=sys.stderr)) if a.verbose else None
        tr = ser.render(d, log=log)
        print(f"p{s}: {a.kind}, {len(tr['visits'])} visits, skin {tr['skin_type']}, "
              f"{tr['nominal_px_per_mm']} px/mm, {time.time() - t:.1f} s", file=sys.stderr)


def _describe(a):
    paths = []
    if os.path.isfile(os.path.join(a.dir, "series.truth.json")):
        paths = [a.dir]
    else:
        for n in sorted(os.listdir(a.dir)):
            if os.path.isfile(os.path.join(a.dir, n, "series.truth.json")):
                paths.append(os.path.join(a.dir, n))
    if not paths:
        print(f"no series.truth.json under {a.dir}", file=sys.stderr)
        return 1
    for p in paths:
        with open(os.path.join(p, "series.truth.json")) as f:
            t = json.load(f)
        hl = t["half_life_months"]
        print(f"{os.path.basename(p.rstrip('/'))}: {t['kind']}, skin {t['skin_type']}, {t['make']} {t['model']} "
              f"({t['device']}), nominal {t['nominal_px_per_mm']} px/mm, blur {t['camera_blur_um']} um, "
              f"half-life {'none' if hl is None else f'{hl:.1f} mo'}, touch-ups {t['touch_ups']}")
        print("   visit            date  months  px/mm   rot    scale  size       q  vis  new  ink_ret  total   shift  shift1  spread")
        for v in t["visits"]:
            tr = v["transform"]
            fm = lambda x, f: "   -" if x is None else format(x, f)
            print(f"   {v['file']:<12} {v['date'][:10]} {v['months']:6.2f} {v['px_per_mm']:6.2f} {tr['rotation_deg']:6.1f} "
                  f"{tr['scale']:6.3f}  {v['width']}x{v['height']:<5} {str(v['jpeg_quality'] or 'png'):>3} "
                  f"{v['dots_visible']:4d} {v['dots_new_visible']:4d} {fm(v['ink_retained'], '8.3f')} {fm(v['ink_retained_total'], '6.3f')} "
                  f"{fm(v['pigment_shift'], '7.3f')} {fm(v['pigment_shift_from_first'], '7.3f')} {fm(v['spread_growth_um'], '6.1f')}"
                  + ("  TOUCH-UP " + str(v["touch_up_kind"]) if v["touch_up"] else ""))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="heldout_series")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("patients", help="render patient photo series")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--max-px", type=int, default=None, help="cap on the long side of the frame (px)")
    p.add_argument("--kind", choices=["series", "retest"], default="series")
    p.add_argument("-v", "--verbose", action="store_true")
    d = sub.add_parser("describe", help="summarise rendered series")
    d.add_argument("dir")
    a = ap.parse_args(argv)
    if a.cmd == "patients":
        if a.count < 1 or (a.max_px is not None and a.max_px < 256):
            ap.error("--count must be >= 1 and --max-px >= 256")
        _patients(a)
        return 0
    return _describe(a)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:          # e.g. `describe DIR | head`
        sys.stderr.close()
        sys.exit(0)
