#!/usr/bin/env bash
# The main job on the bundled fixtures: build the command; analyse the demo photos (scale from
# the device profile matched on EXIF), writing one JSON document and one overlay per photo to
# out/; then track the demo patient's four visits (fixtures/patient) into out/patient.track.json
# and out/patient.csv, print what changed, and write the demo patient's report (one HTML file) to
# out/patient.report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p smpscope-cli
mkdir -p out
./target/release/smpscope analyze fixtures/photos/demo-*.jpg \
  --profiles fixtures/devices.toml --out out --overlay out
for f in out/demo-*.json; do
  python3 - "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
dist = s["distributions"]
print(f"{d['image']['source']} ({d['image'].get('captured_at') or 'no date'}): {s['dot_count']} dots, "
      f"{s['density_per_cm2']:.1f} per cm^2, diameter {dist['diameter_um']['median']:.0f} um, "
      f"spread {dist['spread_um']['median']:.0f} um, ink {dist['ink']['median']:.5f} OD mm^2")
PY
done

./target/release/smpscope track fixtures/patient/visit-*.jpg --profiles fixtures/devices.toml \
  --out out/patient.track.json --csv out/patient.csv --overlay out/patient -q
python3 - out/patient.track.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
fmt = lambda v, f: "-" if v is None else format(v, f)
print("\ndemo patient: visit, date, baseline, touch-up, ink retained, density retained, spread growth um, dE, delta b* (95 %)")
for i, v in enumerate(d["visits"]):
    print(f"  {i + 1} {v['date']} base {v['baseline'] + 1} {'touch-up' if v['touch_up'] else '        '} "
          f"ink {fmt(v['ink_retained'], '.3f')} density {fmt(v['density_retained'], '.3f')} "
          f"spread {fmt(v['spread_growth_um'], '+.1f')} dE {fmt(v['colour_shift_de'], '.2f')} db {fmt(v['delta_b'], '+.2f')}"
          + ("" if i == 0 or v["delta_b_interval"] is None else " ({:+.2f}..{:+.2f})".format(*v["delta_b_interval"])))
t = d["trend"]
if t["half_life_months"] is not None:
    lo, hi = t["half_life_interval_months"]
    print(f"  half-life {t['half_life_months']:.1f} months (95%: {fmt(lo, '.1f')}..{fmt(hi, '.1f')}); "
          f"touch-up due {t['touch_up_due']} ({t['touch_up_due_interval'][0]}..{t['touch_up_due_interval'][1]})")
else:
    print("  " + (t["note"] or "no forecast"))
PY

# The clinician's report of the demo patient: one HTML file (no network, prints to A4), from the
# documents just written so that nothing is analysed again.
./target/release/smpscope analyze fixtures/patient/visit-*.jpg --profiles fixtures/devices.toml \
  --json out/patient.visits.json -q
./target/release/smpscope report out/patient.visits.json --track out/patient.track.json \
  --label "Demo patient" --out out/patient.report.html -q
echo
echo "demo patient's report: $(pwd)/out/patient.report.html (open it in a browser; print it to A4)"
