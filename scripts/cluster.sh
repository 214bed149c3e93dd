#!/usr/bin/env bash
# Runs a Gantry cluster on this machine: one PostgreSQL and one Redis (Debian's packages,
# installed when missing, started on free loopback ports in temporary directories), one
# console node and two gateway nodes. Ctrl-C stops everything and removes the temporary data.
#
#   console:         http://127.0.0.1:${CONSOLE_PORT:-3000}   (Gateway Nodes page: /nodes)
#   gateway node 1:  127.0.0.1:${GATEWAY1_PORT:-8081}  (health and metrics: 127.0.0.1:9091)
#   gateway node 2:  127.0.0.1:${GATEWAY2_PORT:-8082}  (health and metrics: 127.0.0.1:9092)
#
# Without GANTRY_ADMIN_PASSWORD the admin password is printed once by the console node.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/services.sh"

setup() { setup_rust; setup_wasm_opt; setup_postgres; setup_redis; }
timed setup setup
timed build build_gantry
print_timings

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_services
  if [ -n "${DATA:-}" ]; then rm -rf "$DATA"; fi
}
DATA=
trap cleanup EXIT INT TERM

step "starting PostgreSQL and Redis"
start_postgres
start_redis
psql -q "$PG_URL" -c "CREATE DATABASE gantry" >/dev/null
DATABASE_URL="${PG_URL%/*}/gantry"

export GANTRY_DATABASE_URL="$DATABASE_URL" GANTRY_REDIS_URL="$REDIS_URL"
export GANTRY_SITE_ROOT="${GANTRY_SITE_ROOT:-$ROOT/target/site}"
# Every node opens the same sealed certificate keys: one secret key for the cluster.
export GANTRY_SECRET_KEY="${GANTRY_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_hex(32))')}"
DATA=$(mktemp -d /tmp/gantry-cluster.XXXXXX)

step "starting the console node (it migrates the database)"
GANTRY_ROLE=console GANTRY_DATA_DIR="$DATA/console" \
  GANTRY_CONSOLE_ADDR="127.0.0.1:${CONSOLE_PORT:-3000}" \
  GANTRY_GATEWAY_ADDR="127.0.0.1:${GATEWAY1_PORT:-8081}" \
  "$ROOT/target/release/gantry" serve &
PIDS+=($!)
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:${CONSOLE_PORT:-3000}/login" >/dev/null 2>&1 && break
  sleep 0.2
done

step "starting two gateway nodes"
for n in 1 2; do
  port_var="GATEWAY${n}_PORT"; default=$((8080 + n))
  GANTRY_ROLE=gateway GANTRY_DATA_DIR="$DATA/gateway$n" \
    GANTRY_GATEWAY_ADDR="127.0.0.1:${!port_var:-$default}" \
    GANTRY_GATEWAY_TLS_ADDR="127.0.0.1:$((8442 + n))" \
    GANTRY_ADMIN_ADDR="127.0.0.1:$((9090 + n))" \
    "$ROOT/target/release/gantry" serve &
  PIDS+=($!)
done

echo
echo "    console: http://127.0.0.1:${CONSOLE_PORT:-3000}   gateway nodes: 127.0.0.1:${GATEWAY1_PORT:-8081}, 127.0.0.1:${GATEWAY2_PORT:-8082}"
echo "    database: $DATABASE_URL   redis: $REDIS_URL   (Ctrl-C stops all)"
wait
