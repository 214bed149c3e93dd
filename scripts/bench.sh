#!/usr/bin/env bash
# Issue 11's benchmark suite in one command: installs what is missing (nginx, wrk, hey,
# taskset from Debian), builds Gantry's benchmarked binary (scripts/build-perf.sh), runs
# every benchmark with the proxy under test pinned to core 0 and load + backend on core 1,
# and writes bench/results/*.md, bench/results/throughput.svg and bench/results/summary.md
# (every goal, met or not).
#   BENCH_ROUNDS (default 5) alternating rounds, BENCH_SECONDS (default 5) seconds each.
source "$(dirname "$0")/common.sh"

ROUNDS="${BENCH_ROUNDS:-5}"
PER="${BENCH_SECONDS:-5}"
GANTRY="$ROOT/target/perf/gantry"

bench_tools() {
  local missing=()
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v hey >/dev/null || missing+=(hey)
  command -v taskset >/dev/null || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

timed tools bench_tools
timed setup setup_rust
step "building the benchmarked binary (profile perf: release + thin LTO, profile-guided; GANTRY_PGO=0 for plain)"
timed build "$ROOT/scripts/build-perf.sh"
step "throughput and CPU per request: Gantry vs nginx vs direct"
timed proxy python3 bench/proxy.py "$GANTRY" "$ROUNDS" "$PER"
step "user-space instructions per proxied request under callgrind: Gantry vs nginx"
timed callgrind python3 bench/callgrind.py "$GANTRY" "$ROUNDS" "$PER"
step "added latency at a fixed rate"
timed latency python3 bench/latency.py "$GANTRY" "$ROUNDS" "$PER" 20000
step "route scale, release latency, switches under load"
timed scale python3 bench/scale.py "$GANTRY" "$ROUNDS" "$PER"
step "auth cost: signed vs unsigned"
timed auth python3 bench/auth.py "$GANTRY" "$ROUNDS" "$PER"
step "Function backends vs Mock"
timed functions python3 bench/functions.py "$GANTRY" "$ROUNDS" "$PER"
step "traffic policies: cost and throttling accuracy"
timed policies python3 bench/policies.py "$GANTRY" "$ROUNDS" "$PER"
step "several targets: 4 weighted targets with health checks vs one"
timed targets python3 bench/targets.py "$GANTRY" "$ROUNDS" "$PER"
step "HTTPS termination: keep-alive and handshakes, Gantry vs nginx"
timed tls python3 bench/tls.py "$GANTRY" "$ROUNDS" "$PER"
step "traffic stats: collection on vs off, a week of minutes rendered"
timed stats python3 bench/stats.py "$GANTRY" "$ROUNDS" "$PER"
step "cluster: release → served on every gateway node; nonces on Redis vs memory"
timed cluster python3 bench/cluster.py "$GANTRY" "$ROUNDS" "$PER"
python3 bench/chart.py
python3 bench/summary.py
print_timings
