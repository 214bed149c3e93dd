#!/usr/bin/env bash
# Sets up what is missing, builds, and runs every test: formatting, import circles, the Rust unit and
# integration tests (cargo nextest) on SQLite, the integration suite again on a real PostgreSQL
# and Redis (Debian's packages, started on free ports in temporary directories, stopped at the
# end) with the cluster tests (one console and two gateway processes), and the Playwright
# browser tests in Chromium.
# Everything runs on the build users run: the release profile of the server and tests, and
# the browser bundle of `scripts/run.sh` (wasm-release, wasm-opt).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/services.sh"
trap stop_services EXIT

setup() { setup_rust; setup_wasm_opt; setup_browser_tests; setup_postgres; setup_redis; }
build() {
  # One release build serves both the Rust tests and the browser tests: it is the
  # target/release/gantry that end2end/serve.sh starts. The browser bundle builds beside it.
  step "building the console's browser bundle, the server and the tests (release)"
  build_site_beside cargo nextest run --workspace --cargo-profile release --no-run
}
rust_tests() {
  step "checking formatting"
  cargo fmt --all -- --check
  step "checking for import circles between the files of each crate"
  python3 scripts/import_circles.py
  step "checking the profile-guided build's rustc wrapper"
  bash scripts/check_pgo_rustc.sh
  step "Rust tests on SQLite (cargo nextest, release)"
  cargo nextest run --workspace --cargo-profile release --no-fail-fast -E 'not test(/^(cluster|redis_down)::/)'
}
cluster_tests() {
  step "starting PostgreSQL and Redis"
  start_postgres
  start_redis
  step "the integration suite on PostgreSQL and Redis, and the cluster tests"
  # --workspace with a filter, not `-p server`: the same feature set as the build above, so
  # nothing is compiled again.
  GANTRY_TEST_POSTGRES_URL="$PG_URL" GANTRY_TEST_REDIS_URL="$REDIS_URL" \
    cargo nextest run --workspace --cargo-profile release --no-fail-fast -E 'binary(api)'
  stop_services
}
browser_tests() {
  step "browser tests (Playwright + Chromium, release bundle)"
  (cd end2end && npx playwright test)
}

timed setup setup
timed build build
timed tests rust_tests
timed postgres cluster_tests
timed browser browser_tests
print_timings
