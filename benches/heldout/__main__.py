"""python -m heldout photos --seed S --count N --out DIR [--max-px 2000] [--kind mixed|bare|stubble_only]
                          [--marker none|some|all] [--marker-json PATH] [--marker-max-px 3200] [--marker-no-distortion]
python -m heldout describe DIR
python -m heldout check DIR [--ink]"""

import argparse
import glob
import json
import os
import sys


def cmd_photos(a):
    from .render import write_photo

    if a.seed < 0 or a.count < 1:
        sys.exit("seed must be >= 0 and count >= 1")
    marker = None
    if a.marker != "none":
        from .marker import Spec

        marker = {"mode": a.marker, "spec": Spec(a.marker_json), "max_px": a.marker_max_px,
                  "no_distortion": a.marker_no_distortion}
    tot = 0.0
    for s in range(a.seed, a.seed + a.count):
        path, truth, dt = write_photo(s, a.kind, a.max_px, a.out, marker=marker)
        tot += dt
        extra = ""
        if "marker" in truth:
            m = truth["marker"]
            extra = "  marker %s" % m["state"] + (
                " %.2fpx/mm tilt%.1f" % (m["px_per_mm"], m["tilt_deg"]) if m["present"] else " (%s)" % m["reason"])
        print("%s  %dx%d  %d dots  %.1fs%s" % (path, truth["width"], truth["height"], len(truth["dots"]), dt, extra),
              flush=True)
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
    ) + marker_note(t)


def marker_note(t):
    m = t.get("marker")
    if m is None:
        return ""
    if not m["present"]:
        return " marker:absent(%s)" % m["reason"]
    return " marker:%s %.2fpx/mm tilt%.1f rot%.0f blur%.1fum hidden%d" % (
        m["state"], m["px_per_mm"], m["tilt_deg"], m["rotation_deg"], m["camera_blur_um"], m["hidden_dots"])


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
    p.add_argument("--marker", choices=["none", "some", "all"], default="none",
                   help="render the calibration card into some (half, drawn per seed) or all photos")
    p.add_argument("--marker-json", default=None,
                   help="the card's layout (default: HELDOUT_MARKER_JSON, else fixtures/calibration/marker.json)")
    p.add_argument("--marker-max-px", type=int, default=3200,
                   help="long side up to which a frame too small for the card is enlarged (else no card)")
    p.add_argument("--marker-no-distortion", action="store_true",
                   help="diagnostic: photos with a card get a distortion-free lens (the card's image is then a homography)")
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
