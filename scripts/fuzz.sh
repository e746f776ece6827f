#!/usr/bin/env bash
# Fuzzes smpscope's hostile-input paths: builds the cargo-fuzz targets (fuzz/, nightly Rust,
# `cargo install cargo-fuzz`) and runs each for SECONDS (default 600), one after another, on
# one core, with libFuzzer's limits: 2 GB of memory, 10 s per input. New inputs are kept in
# fuzz/corpus/<target>/ and the corpus is then minimised (cargo fuzz cmin; FUZZ_CMIN=0 keeps it
# whole); a crash, hang or huge allocation is saved in fuzz/artifacts/<target>/ and the run goes
# on to the next target. Prints, per target: executions, exec/s, coverage (cov: edges, ft:
# features), corpus files and the outcome; exits 1 when any target failed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (targets: photo params profiles roi documents)
#
# The replay test (crates/smpscope/tests/fuzz_corpus.rs) runs every corpus file on stable Rust.
set -uo pipefail
exec </dev/null
cd "$(dirname "$0")/../fuzz"
SECONDS_PER_TARGET="${1:-600}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(photo params profiles roi documents)
# The analysis runs on rayon: one thread, so a run takes one core and its speed is its own.
export RAYON_NUM_THREADS=1
LOGS=artifacts/logs
mkdir -p "$LOGS"

cargo +nightly fuzz build >"$LOGS/build.log" 2>&1 || { echo "build failed: see fuzz/$LOGS/build.log"; exit 1; }

summary=()
failed=0
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="$LOGS/$t.log"
    echo "=== $t: ${SECONDS_PER_TARGET} s"
    cargo +nightly fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    # The final stats when the run ended by itself, else the last status line's figures.
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | awk '{print $2}')
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -n 1 | awk '{print $2}')
    [ -z "$execs" ] && execs=$(grep -o '^#[0-9]*' <<<"$last" | tr -d '#')
    [ -z "$rate" ] && rate=$(grep -o 'exec/s: [0-9]*' <<<"$last" | awk '{print $2}')
    secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | awk '{print $5}')
    cov=$(grep -o 'cov: [0-9]*' <<<"$last" | awk '{print $2}')
    ft=$(grep -o 'ft: [0-9]*' <<<"$last" | awk '{print $2}')
    if [ $rc -eq 0 ]; then
        outcome=ok
    else
        failed=1
        outcome="FAILED (exit $rc): $(grep -m 1 -E 'ERROR: libFuzzer|panicked at|SUMMARY' "$log" | cut -c1-160); see fuzz/$log and fuzz/artifacts/$t/"
    fi
    if [ "${FUZZ_CMIN:-1}" != 0 ] && [ $rc -eq 0 ]; then
        cargo +nightly fuzz cmin "$t" "corpus/$t" -- -rss_limit_mb=2048 -timeout=10 >"$LOGS/$t.cmin.log" 2>&1 ||
            echo "$t: cmin failed (see fuzz/$LOGS/$t.cmin.log)"
    fi
    files=$(find "corpus/$t" -type f | wc -l)
    size=$(du -sk --apparent-size "corpus/$t" | cut -f1)
    line="$t: ${execs:-?} execs in ${secs:-?} s, ${rate:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus $files files ($size KB), $outcome"
    echo "$line"
    summary+=("$line")
done
echo "=== summary (${SECONDS_PER_TARGET} s per target)"
printf '%s\n' "${summary[@]}"
exit $failed
