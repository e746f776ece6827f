#!/usr/bin/env bash
# The test command: Rust tests (core, command, generator, accuracy on a small synthetic set)
# and the Python tests against the installed package in a fresh virtual environment (with the
# optional extras the tests use: pandas, dask[distributed], matplotlib, tqdm, nbclient and
# ipykernel for the example notebook, which runs end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --exclude smpscope-python --release
VENV="$(realpath -m "${SMPSCOPE_VENV:-target/venv}")"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# pip builds the package from the work tree each time (maturin, release); deps only when missing.
"$VENV/bin/python" -m pip install --quiet "./python[test]"
(cd python/tests && "$VENV/bin/python" -m pytest -q -p no:cacheprovider)
