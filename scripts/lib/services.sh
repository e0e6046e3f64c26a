# Shared by scripts/test.sh and scripts/chaos.sh (sourced, not run): install what is missing and
# start/stop throwaway PostgreSQL and Redis instances on free ports.

svc_log() { printf '\n==> %s\n' "$*"; }

# Installs missing Debian packages: PostgreSQL, Redis, and the tools the scripts call.
svc_install() {
  local need_apt=()
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || need_apt+=(postgresql)
  command -v redis-server >/dev/null || need_apt+=(redis-server)
  command -v tmux >/dev/null || need_apt+=(tmux)
  command -v curl >/dev/null || need_apt+=(curl)
  command -v psql >/dev/null || need_apt+=(postgresql-client)
  command -v promtool >/dev/null || need_apt+=(prometheus)
  if [ ${#need_apt[@]} -gt 0 ]; then
    svc_log "installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
}

svc_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# initdb refuses to run as root: run PostgreSQL as the postgres user when we are root.
svc_run_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /nonexistent postgres
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

# svc_pg_init DATA_DIR: a fresh cluster (trust auth, superuser postgres).
svc_pg_init() {
  mkdir -p "$1"
  [ "$(id -u)" = 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --home /nonexistent postgres; chown postgres "$1"; }
  svc_run_pg "$pg_bin/initdb" -D "$1" -A trust -U postgres >"$1.initdb.log" 2>&1 || { cat "$1.initdb.log"; return 1; }
}

# svc_pg_start DATA_DIR PORT (also restarts a stopped cluster on the same port)
svc_pg_start() {
  svc_run_pg "$pg_bin/pg_ctl" -D "$1" -w -l "$1/server.log" \
    -o "-p $2 -c listen_addresses=127.0.0.1 -k $1 -c fsync=off -c max_connections=300" start >/dev/null
}

# svc_pg_stop DATA_DIR [MODE]
svc_pg_stop() {
  [ -f "$1/postmaster.pid" ] && svc_run_pg "$pg_bin/pg_ctl" -D "$1" -m "${2:-immediate}" stop >/dev/null 2>&1 || true
}

# svc_redis_start DIR PORT: pid file DIR/redis.pid; nothing persisted.
svc_redis_start() {
  redis-server --port "$2" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$1/redis.pid" --logfile "$1/redis.log" --dir "$1"
  for _ in $(seq 50); do redis-cli -p "$2" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$2" ping >/dev/null
}

# svc_redis_stop DIR
svc_redis_stop() {
  if [ -f "$1/redis.pid" ]; then
    local pid; pid=$(cat "$1/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$1/redis.pid"
  fi
}

# svc_game_database DIR LABEL: a throwaway PostgreSQL and Redis in DIR on free ports, with
# better-auth's tables (as the web app makes them) and our migrations applied by MMO_BIN/mmo.
# Sets pg_port, redis_port, pg_url and common (the database/Redis/auth flags every service and
# `mmo dev create-user` take; LABEL names the auth secret).
svc_game_database() {
  pg_port=$(svc_free_port); redis_port=$(svc_free_port)
  svc_pg_init "$1/pg"
  svc_pg_start "$1/pg" "$pg_port"
  svc_redis_start "$1" "$redis_port"
  pg_url="postgres://postgres@127.0.0.1:$pg_port/postgres"
  local f
  for f in camelCase.sql camelCase-plugins.sql; do
    psql "$pg_url" -q -v ON_ERROR_STOP=1 -f "$root/Tests/Fixtures/better-auth-schema/$f" >/dev/null
  done
  common=(--database-url "$pg_url" --redis-url "redis://127.0.0.1:$redis_port" --auth-secret "$2-$RANDOM$RANDOM")
  "$MMO_BIN/mmo" migrate "${common[@]}" --log-level notice >/dev/null
}
