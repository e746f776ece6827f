#!/usr/bin/env bash
# The test command: Rust tests (core, command, generator, accuracy on a small synthetic set)
# and the Python tests against the installed package in a fresh virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --exclude smpscope-python --release
VENV="${SMPSCOPE_VENV:-target/venv}"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet pytest ./python
(cd python/tests && "../../$VENV/bin/python" -m pytest -q)
