# PostgreSQL and Redis for the cluster tests, benchmarks and scripts/cluster.sh: Debian's
# `postgresql` and `redis-server` packages (installed only when missing), each started on a
# free loopback port in its own temporary directory, stopped by `stop_services`.
# Sourced after common.sh, not run.
#
# After `start_postgres`: PG_URL (a superuser URL on the `postgres` database; trust auth on
#   127.0.0.1 only) and PG_DIR.
# After `start_redis`: REDIS_URL and REDIS_DIR.

SERVICES_STARTED=()

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

setup_postgres() {
  local bin
  bin=$(pg_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    step "installing PostgreSQL (Debian)"
    apt_install postgresql
  fi
}

setup_redis() {
  if ! command -v redis-server >/dev/null; then
    step "installing Redis (Debian)"
    apt_install redis-server
  fi
}

# PostgreSQL refuses to run as root: as root, its server runs as the `postgres` user the
# Debian package creates.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  setup_postgres
  local bin port
  bin=$(pg_bin)
  port=$(free_port)
  PG_DIR=$(mktemp -d /tmp/gantry-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_DIR"; fi
  as_postgres "$bin/initdb" -D "$PG_DIR/data" -U gantry --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  # fsync off: a test database, thrown away at the end.
  as_postgres "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=500 -c fsync=off -c synchronous_commit=off" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
  PG_URL="postgres://gantry@127.0.0.1:$port/postgres"
  SERVICES_STARTED+=("postgres")
  echo "    PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($PG_DIR)"
}

start_redis() {
  setup_redis
  local port
  port=$(free_port)
  REDIS_DIR=$(mktemp -d /tmp/gantry-redis.XXXXXX)
  redis-server --bind 127.0.0.1 --port "$port" --dir "$REDIS_DIR" --save "" --appendonly no --databases 16384 \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$port" ping >/dev/null || { cat "$REDIS_DIR/redis.log" >&2; return 1; }
  REDIS_URL="redis://127.0.0.1:$port"
  SERVICES_STARTED+=("redis")
  echo "    Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$port ($REDIS_DIR)"
}

stop_services() {
  local service
  for service in "${SERVICES_STARTED[@]}"; do
    case $service in
      postgres) as_postgres "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
                rm -rf "$PG_DIR" ;;
      redis) kill "$(cat "$REDIS_DIR/redis.pid" 2>/dev/null)" 2>/dev/null || true
             rm -rf "$REDIS_DIR" ;;
    esac
  done
  SERVICES_STARTED=()
}
