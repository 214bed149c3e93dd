#!/usr/bin/env bash
# The HTTP/1.1 differential fuzz targets (issue 27) for a fixed time: generated requests
# through Gantry's own caller server and hyper's, and generated responses through Gantry's
# backend client and hyper's, compared case by case; random bytes fed to both parsers must
# not panic. Runs round after round (each with fresh random seeds) until the time is up;
# any difference or panic stops it, and proptest keeps the failing case in
# gateway/proptest-regressions/.
#   scripts/fuzz.sh [minutes, default 10]   GANTRY_FUZZ_CASES per round (default 2000)
source "$(dirname "$0")/common.sh"
MINUTES="${1:-10}"
export GANTRY_FUZZ_CASES="${GANTRY_FUZZ_CASES:-2000}"
setup_rust
step "building the fuzz targets (gateway tests, release)"
cargo nextest run -p gateway --cargo-profile release --no-run
step "fuzzing for $MINUTES minutes, $GANTRY_FUZZ_CASES cases per target and round"
deadline=$((SECONDS + MINUTES * 60))
rounds=0
while [ $SECONDS -lt $deadline ]; do
  cargo nextest run -p gateway --cargo-profile release --no-fail-fast --status-level fail \
    -E 'test(/differential::/)'
  rounds=$((rounds + 1))
done
step "$rounds rounds in $MINUTES minutes: no difference, no panic"
