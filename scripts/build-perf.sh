#!/usr/bin/env bash
# Builds the benchmarked binary, `target/perf/gantry` (profile perf: release plus thin LTO),
# profile-guided for the gateway's proxy path, which is also the build to deploy a gateway
# node from:
#   1. instrument the `gateway` and `server` crates (their dependencies build as usual) and
#      build;
#   2. train: `bench/pgo_train.py` runs a mix of gateway traffic through that binary, which
#      writes its profile at exit;
#   3. merge the profile (`llvm-profdata`, rustup's llvm-tools, added when missing) and
#      build again using it.
# `GANTRY_PGO=0 scripts/build-perf.sh` builds the plain perf binary instead. The rustc
# wrapper `scripts/pgo-rustc.sh` adds the flags; `docs/decisions.md` says why (issue 27,
# thirteenth pass).
source "$(dirname "$0")/common.sh"

# $1: GANTRY_PGO for the build ("" for none).
build() { env ${1:+GANTRY_PGO=$1} cargo build --profile perf -p server --bin gantry; }

# The mode is this script's setting; each build is given its own GANTRY_PGO.
mode="${GANTRY_PGO:-1}"
unset GANTRY_PGO
if [ "$mode" = 0 ]; then
  build ""
  exit 0
fi

host=$(rustc -vV | awk '/^host:/ { print $2 }')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
  step "adding rustup's llvm-tools (llvm-profdata, matching rustc's LLVM)"
  rustup component add llvm-tools
fi

export GANTRY_PGO_DIR="$ROOT/target/pgo" RUSTC_WRAPPER="$ROOT/scripts/pgo-rustc.sh"
rm -rf "$GANTRY_PGO_DIR/raw"
mkdir -p "$GANTRY_PGO_DIR"

step "profile-guided build 1/3: instrumented"
build generate
# Until the last build succeeds, target/perf/gantry is the instrumented binary: say so.
finished=""
trap '[ -n "$finished" ] || echo "build-perf.sh failed: target/perf/gantry is the instrumented build, not one to run" >&2' EXIT

step "profile-guided build 2/3: training run (bench/pgo_train.py)"
python3 bench/pgo_train.py "$ROOT/target/perf/gantry"
if ! compgen -G "$GANTRY_PGO_DIR/raw/*.profraw" >/dev/null; then
  echo "the training run wrote no profile to $GANTRY_PGO_DIR/raw" >&2
  exit 1
fi
"$profdata" merge -o "$GANTRY_PGO_DIR/gantry.profdata" "$GANTRY_PGO_DIR"/raw/*.profraw

step "profile-guided build 3/3: optimised with the profile"
digest=$(sha256sum "$GANTRY_PGO_DIR/gantry.profdata" | cut -c1-16)
build "use:$digest"
finished=1
