#!/usr/bin/env bash
# Checks scripts/pgo-rustc.sh, the rustc wrapper of the profile-guided build: the profile
# flags go to `gateway`, `server` and the `gantry` binary only, follow GANTRY_PGO, and a
# value it does not know stops the build. Run by scripts/test.sh (no compiler needed: `echo`
# stands in for rustc, so the wrapper prints the command it would run).
set -euo pipefail
wrapper="$(cd "$(dirname "$0")" && pwd)/pgo-rustc.sh"
dir=/pgo-check
failures=0
checks=0

expect() { # description, expected output, command...
  local what=$1 want=$2
  checks=$((checks + 1))
  shift 2
  local got
  got=$("$@" 2>&1) || got="exit $?: $got"
  if [ "$got" != "$want" ]; then
    echo "pgo-rustc.sh: $what: expected [$want], got [$got]" >&2
    failures=$((failures + 1))
  fi
}
run() { # GANTRY_PGO value ("" for unset), crate name
  env -u GANTRY_PGO ${1:+GANTRY_PGO=$1} GANTRY_PGO_DIR=$dir "$wrapper" echo --crate-name "$2" src/lib.rs
}

expect "instrumented gateway" "--crate-name gateway src/lib.rs -Cprofile-generate=$dir/raw" run generate gateway
expect "instrumented binary" "--crate-name gantry src/lib.rs -Cprofile-generate=$dir/raw" run generate gantry
expect "a dependency is not instrumented" "--crate-name tokio src/lib.rs" run generate tokio
expect "server built with the profile" "--crate-name server src/lib.rs -Cprofile-use=$dir/gantry.profdata" run use:0123abcd server
expect "a dependency does not get the profile" "--crate-name hyper src/lib.rs" run use:0123abcd hyper
expect "a plain build adds nothing" "--crate-name gateway src/lib.rs" run "" gateway
expect "an unknown mode stops the build" \
  "exit 2: pgo-rustc.sh: GANTRY_PGO must be generate or use:<digest>, not yes" run yes gateway

if [ "$failures" -gt 0 ]; then exit 1; fi
echo "pgo-rustc.sh: $checks checks passed"
