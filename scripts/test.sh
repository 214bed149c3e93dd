#!/usr/bin/env bash
# Sets up what is missing, builds, and runs every test: formatting, the Rust unit and
# integration tests (cargo nextest), and the Playwright browser tests in Chromium.
source "$(dirname "$0")/common.sh"

setup() { setup_rust; setup_browser_tests; }
build() {
  step "building the console's browser bundle (cargo leptos build --frontend-only)"
  cargo leptos build --frontend-only
  # One build of the server serves both the Rust tests and the browser tests: it is the
  # target/debug/gantry that end2end/serve.sh starts.
  step "building the server and the tests"
  cargo nextest run --workspace --no-run
}
rust_tests() {
  step "checking formatting"
  cargo fmt --all -- --check
  step "Rust tests (cargo nextest)"
  cargo nextest run --workspace --no-fail-fast
}
browser_tests() {
  step "browser tests (Playwright + Chromium)"
  (cd end2end && npx playwright test)
}

timed setup setup
timed build build
timed tests rust_tests
timed browser browser_tests
print_timings
