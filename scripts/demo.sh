#!/usr/bin/env bash
# The main job on the bundled fixtures: build the command, analyse the demo patient's three
# visits (scale from the device profile matched on EXIF), write one JSON document and one
# overlay per photo to out/, and print a line per photo.
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
