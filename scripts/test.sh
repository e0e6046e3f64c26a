#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what is missing (PostgreSQL, Redis), starts
# throwaway instances on free ports, runs the Swift test suite and the multi-process
# end-to-end scenarios, and stops everything it started.
#
#   scripts/test.sh            # everything
#   scripts/test.sh --unit     # swift test only (still with PostgreSQL and Redis)
#
# A missing database is a failure here, never a skip: tests see CI=true semantics through
# MMO_REQUIRE_SERVICES=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-all}

log() { printf '\n==> %s\n' "$*"; }

need_apt=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || need_apt+=(postgresql)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v tmux >/dev/null || need_apt+=(tmux)
command -v curl >/dev/null || need_apt+=(curl)
command -v psql >/dev/null || need_apt+=(postgresql-client)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

work=$(mktemp -d /tmp/mmo-test.XXXXXX)
chmod 755 "$work"
pg_port=$(free_port)
redis_port=$(free_port)
pg_data="$work/pg"

cleanup() {
  set +e
  [ -f "$pg_data/postmaster.pid" ] && run_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1
  [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null
  pkill -f "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# initdb refuses to run as root: run PostgreSQL as the postgres user when we are root.
run_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$work" postgres
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

log "starting PostgreSQL ($pg_bin) on 127.0.0.1:$pg_port"
mkdir -p "$pg_data"
[ "$(id -u)" = 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --home "$work" postgres; chown postgres "$pg_data"; }
run_pg "$pg_bin/initdb" -D "$pg_data" -A trust -U postgres >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log"; exit 1; }
run_pg "$pg_bin/pg_ctl" -D "$pg_data" -w -l "$pg_data/server.log" \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $pg_data -c fsync=off -c max_connections=300" start >/dev/null

log "starting Redis on 127.0.0.1:$redis_port"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$redis_port" ping >/dev/null

export MMO_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
export MMO_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
export MMO_BETTER_AUTH_SCHEMA_DIR="$root/Tests/Fixtures/better-auth-schema"
export MMO_REQUIRE_SERVICES=1
export MMO_TEST_WORK_DIR="$work"

log "building"
swift build --build-tests 2>&1 | grep -vE "swift-distributed-tracing|unhandled; explicitly declare" || true
swift build --build-tests >/dev/null 2>&1 || { swift build --build-tests; exit 1; }

log "swift test"
# Serially: several suites measure timeouts, and 2 cores shared by every suite at once make
# those measurements flaky.
swift test --skip-build --no-parallel 2>&1 | tee "$work/swift-test.log" | grep -vE '^(Test Case .* (started|passed)|◇ Test .* started)'
status=${PIPESTATUS[0]}
[ "$status" = 0 ] || { echo "swift test failed ($status)"; exit "$status"; }

if [ "$mode" = all ]; then
  log "end-to-end scenarios"
  scripts/e2e.sh
  log "terminal client through tmux"
  MMO_BIN_DIR=$(swift build --show-bin-path) scripts/tmux-client-test.sh
  log "launcher: patch server, launch URL, terminal client"
  MMO_BIN_DIR=$(swift build --show-bin-path) scripts/launcher-e2e.sh
fi
log "all tests passed"
