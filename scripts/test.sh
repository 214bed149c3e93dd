#!/usr/bin/env bash
# Sets up what is missing, builds, and runs every test: formatting, import circles, the Rust unit and
# integration tests (cargo nextest) and the Playwright browser tests in Chromium.
# Everything runs on the build users run: the release profile of the server and tests, and
# the browser bundle of `scripts/run.sh` (wasm-release, wasm-opt).
source "$(dirname "$0")/common.sh"

setup() { setup_rust; setup_wasm_opt; setup_browser_tests; }
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
  step "Rust tests (cargo nextest, release)"
  cargo nextest run --workspace --cargo-profile release --no-fail-fast
}
browser_tests() {
  step "browser tests (Playwright + Chromium, release bundle)"
  (cd end2end && npx playwright test)
}

timed setup setup
timed build build
timed tests rust_tests
timed browser browser_tests
print_timings
