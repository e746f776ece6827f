#!/usr/bin/env bash
# The test command: the lint gates (rustfmt, clippy, missing docs, ruff, stubtest), the
# Rust tests (core, command, generator, accuracy on a small synthetic set; the optional HEIC
# reader with libheif, Debian's package, installed when missing), and the Python tests
# against the abi3 wheel installed in a fresh virtual environment with no Rust on PATH (with the
# optional extras the tests use: pandas, dask[distributed], matplotlib, tqdm, nbclient and
# ipykernel for the example notebook, which runs end to end), and the report in a headless
# Chromium (Debian's package, installed when missing). Each stage prints its time.
set -euo pipefail
# Nothing here reads standard input: cargo's probes of rustc must never see whatever it is.
exec </dev/null
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

stage "rust tests"
cargo test --workspace --exclude smpscope-python --release

stage "heic (the optional HEIC reader: libheif from Debian's packages, installed when missing)"
if ! pkg-config --exists libheif 2>/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pkg-config libheif-dev) \
        >target/libheif-install.log 2>&1 || echo "libheif could not be installed: see target/libheif-install.log"
fi
if pkg-config --exists libheif 2>/dev/null; then
    cargo clippy -p smpscope --features heic --all-targets --release -- -D warnings
    cargo test -p smpscope --features heic --release --test heic --test careless_input
else
    echo "no libheif: the HEIC tests skip (the default build refuses HEIC with what to do)"
fi

stage "wheel (maturin build --release: the abi3 wheel notebook users install)"
rm -rf target/wheels
maturin build --release --quiet -m python/Cargo.toml -o target/wheels
WHEEL="$(ls target/wheels/smpscope-*.whl)"

stage "python venv with the wheel, no Rust on PATH"
# The wheel must install and pass the tests where no Rust toolchain is (a notebook user's machine).
NO_RUST_PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e '\.cargo' -e 'rustup' | paste -sd: -)"
python3 -m venv --clear "$VENV"
(
    export PATH="$NO_RUST_PATH"
    if command -v cargo >/dev/null || command -v rustc >/dev/null; then
        echo "Rust is still on PATH" >&2
        exit 1
    fi
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --only-binary smpscope "$WHEEL[test]" "ruff==0.17.6" "mypy==2.4.1"
)

stage "ruff (lint and format)"
"$VENV/bin/ruff" check python benches
"$VENV/bin/ruff" format --check python benches

stage "stubtest (the compiled module against python/smpscope/_smpscope.pyi)"
"$VENV/bin/python" -m mypy.stubtest smpscope._smpscope --ignore-missing-stub

stage "chromium (the report's browser tests; Debian's package, installed when missing)"
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    # A fresh CI machine has none; when it cannot be installed, the browser tests say so and skip.
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) \
        >target/chromium-install.log 2>&1 || echo "chromium could not be installed: see target/chromium-install.log"
fi
command -v chromium >/dev/null && chromium --version 2>/dev/null || echo "no chromium: the browser tests will skip"

stage "python tests (the installed wheel, no Rust on PATH)"
(cd python/tests && PATH="$NO_RUST_PATH" "$VENV/bin/python" -m pytest -q -p no:cacheprovider)

stage "done"
