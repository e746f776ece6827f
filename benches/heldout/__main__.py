"""python -m heldout photos --seed S --count N --out DIR [--max-px 2000] [--kind mixed|bare|stubble_only]
python -m heldout describe DIR"""

import argparse
import glob
import json
import os
import sys


def cmd_photos(a):
    from .render import write_photo

    if a.seed < 0 or a.count < 1:
        sys.exit("seed must be >= 0 and count >= 1")
    tot = 0.0
    for s in range(a.seed, a.seed + a.count):
        path, truth, dt = write_photo(s, a.kind, a.max_px, a.out)
        tot += dt
        print("%s  %dx%d  %d dots  %.1fs" % (path, truth["width"], truth["height"], len(truth["dots"]), dt), flush=True)
    print("%d photos, %.1fs total, %.2fs per photo" % (a.count, tot, tot / a.count))


def describe_line(t):
    c = t["conditions"]
    codec = "png" if c["jpeg_quality"] is None else "q%d/%s" % (c["jpeg_quality"], c["chroma"])
    n = len(t["dots"])
    return (
        "%-14s %-12s %4dx%-4d o%d %-8s skin%d %6.1fpx/mm blur%5.1fum(%4.2fpx) fade%-4s %-8s obl%4.1f "
        "noise%.3f nr%.1f sh%.1f wb%.2f %-8s dots%5d dens%6.1f area%6.2fcm2 [%s]"
        % (t["file"], c["kind"], t["width"], t["height"], t["orientation"], c["camera"], c["skin_type"],
           t["px_per_mm"], t["camera_blur_um"], c["camera_blur_px"], "-" if c["fade"] is None else "%.2f" % c["fade"], codec, c["oblique_deg"],
           c["noise_rel"], c["noise_reduction"], c["sharpening"], c["white_balance_error"],
           c["region_type"] or "-", n, t["density_per_cm2"], t["region_area_cm2"], ",".join(c["distractors"]))
    )


def cmd_describe(a):
    files = glob.glob(os.path.join(a.dir, "*.truth.json"))

    def key(p):
        b = os.path.basename(p)
        try:
            return (0, int(b.split(".")[0][1:]))
        except ValueError:
            return (1, b)

    for p in sorted(files, key=key):
        with open(p) as f:
            print(describe_line(json.load(f)))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m heldout")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("photos", help="render photos and their truth")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--max-px", type=int, default=2000)
    p.add_argument("--kind", choices=["mixed", "bare", "stubble_only"], default="mixed")
    p.set_defaults(fn=cmd_photos)
    d = sub.add_parser("describe", help="one line per photo of a directory")
    d.add_argument("dir")
    d.set_defaults(fn=cmd_describe)
    k = sub.add_parser("check", help="self-check photos against their truth")
    k.add_argument("dir")
    k.add_argument("--ink", action="store_true", help="also re-render and integrate the scene OD")
    k.set_defaults(fn=lambda a: __import__("heldout.selfcheck", fromlist=["main"]).main(a.dir, a.ink))
    a = ap.parse_args(argv)
    try:
        a.fn(a)
    except BrokenPipeError:  # e.g. piped into head
        sys.stderr.close()


if __name__ == "__main__":
    main()
