#!/usr/bin/env bash
# The test command: the lint gates (rustfmt, clippy, missing docs, ruff, stubtest), the Rust
# tests (core, command, generator, accuracy on a small synthetic set) and the Python tests
# against the installed package in a fresh virtual environment (with the optional extras the
# tests use: pandas, dask[distributed], matplotlib, tqdm, nbclient and ipykernel for the example
# notebook, which runs end to end). Each stage prints its time.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$(realpath -m "${SMPSCOPE_VENV:-target/venv}")"

stage_start=$SECONDS
stage() {
    local now=$SECONDS
    [ -n "${STAGE:-}" ] && echo "=== stage '$STAGE' took $((now - stage_start)) s"
    STAGE="$1"
    stage_start=$now
    echo "=== stage '$STAGE'"
}

stage "rustfmt"
cargo fmt --all --check

stage "clippy (warnings are errors; the core denies missing docs)"
cargo clippy --workspace --all-targets --release -- -D warnings

stage "rustdoc (broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc -p smpscope --no-deps --release --quiet

stage "rust tests"
cargo test --workspace --exclude smpscope-python --release

stage "python venv and package"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# pip builds the package from the work tree each time (maturin, release); deps only when missing.
"$VENV/bin/python" -m pip install --quiet "./python[test]" "ruff==0.17.6" "mypy==2.4.1"

stage "ruff (lint and format)"
"$VENV/bin/ruff" check python benches
"$VENV/bin/ruff" format --check python benches

stage "stubtest (the compiled module against python/smpscope/_smpscope.pyi)"
"$VENV/bin/python" -m mypy.stubtest smpscope._smpscope --ignore-missing-stub

stage "python tests"
(cd python/tests && "$VENV/bin/python" -m pytest -q -p no:cacheprovider)

stage "done"
