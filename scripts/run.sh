#!/usr/bin/env bash
# Sets up what is missing, builds Gantry in release mode and runs it on the embedded SQLite
# store in ./data: console on http://127.0.0.1:3000, gateway on 127.0.0.1:8080.
# Extra arguments go to `gantry serve` (see `gantry --help`); GANTRY_* variables work too.
source "$(dirname "$0")/common.sh"

setup() { setup_rust; setup_wasm_opt; }

timed setup setup
timed build build_gantry
print_timings

export GANTRY_SITE_ROOT="${GANTRY_SITE_ROOT:-$ROOT/target/site}"
step "starting Gantry (Ctrl-C stops it)"
echo "    console: http://${GANTRY_CONSOLE_ADDR:-127.0.0.1:3000}   gateway: ${GANTRY_GATEWAY_ADDR:-127.0.0.1:8080}   gateway HTTPS: ${GANTRY_GATEWAY_TLS_ADDR:-127.0.0.1:8443}"
echo "    first start without GANTRY_ADMIN_PASSWORD: the admin password is printed once below"
exec "$ROOT/target/release/gantry" serve "$@"
