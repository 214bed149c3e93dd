#!/usr/bin/env bash
# Starts the freshly built gantry for the browser tests on a new, empty data dir.
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir=target/e2e-data
rm -rf "$data_dir"
export GANTRY_DATA_DIR="$data_dir" GANTRY_SITE_ROOT=${GANTRY_SITE_ROOT:-target/site}
exec target/release/gantry serve
