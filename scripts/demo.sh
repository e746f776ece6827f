#!/usr/bin/env bash
# The main job on the bundled fixtures: build the command and analyse the demo photos,
# writing one JSON document and one overlay per photo to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p smpscope-cli
mkdir -p out
./target/release/smpscope analyze fixtures/photos/*.{jpg,png} --px-per-mm 40 --out out --overlay out || true
for f in out/*.json; do
  python3 - "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if "summary" in d:
    s = d["summary"]
    dens = s["density_per_cm2"]
    print(f"{d['image']['source']}: {s['dot_count']} dots, "
          f"{dens:.1f} per cm^2, median diameter {s['distributions']['diameter_um']['median']:.0f} um")
else:
    print(f"{d['source']}: {d['error']['message']}")
PY
done
