#!/usr/bin/env bash
# The RUSTC_WRAPPER of `scripts/build-perf.sh`'s profile-guided build: runs rustc as given,
# adding the profile flags to Gantry's proxy-path crates only (`gateway`, `server` and the
# `gantry` binary, which links the profiler's runtime); their dependencies build as usual.
#   GANTRY_PGO=generate        instrument: the binary writes GANTRY_PGO_DIR/raw/*.profraw at exit
#   GANTRY_PGO=use:<digest>    optimise with GANTRY_PGO_DIR/gantry.profdata
# `gateway` reads GANTRY_PGO with `option_env!`, so cargo rebuilds it (and what depends on it)
# whenever the variable changes: a plain `cargo build --profile perf` after this one rebuilds
# them without the flags.
set -euo pipefail
rustc="$1"
shift
crate=""
previous=""
for arg in "$@"; do
  if [ "$previous" = "--crate-name" ]; then crate="$arg"; fi
  previous="$arg"
done
extra=()
case "$crate" in
  gateway | server | gantry)
    case "${GANTRY_PGO:-}" in
      generate) extra=("-Cprofile-generate=$GANTRY_PGO_DIR/raw") ;;
      use:*) extra=("-Cprofile-use=$GANTRY_PGO_DIR/gantry.profdata") ;;
      "") ;;
      *) echo "pgo-rustc.sh: GANTRY_PGO must be generate or use:<digest>, not $GANTRY_PGO" >&2; exit 2 ;;
    esac
    ;;
esac
exec "$rustc" "$@" "${extra[@]}"
