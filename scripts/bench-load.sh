#!/usr/bin/env bash
# Load benchmark: release servers and `mmo-bot load` on the same machine, with the servers' CPU
# and memory sampled during the run. Two topologies:
#
#   scripts/bench-load.sh [BOTS] [DURATION_SECONDS] [SPREAD]
#       one `mmo serve` process on the embedded defaults (SQLite, in-memory cache)
#   scripts/bench-load.sh --processes [BOTS] [DURATION_SECONDS] [SPREAD]
#       the five services as separate processes (`mmo serve --services X`) on a throwaway
#       PostgreSQL and Redis, talking gRPC over loopback with the shared secret: production's shape
#
# Prints the bot's summary (JSON) and the servers' figures, and exits 1 if a bot was lost (did
# not reach the world, or dropped out during the run): "loses no bot" is part of the benchmark.
# Results go into BENCHMARKS.md by hand, with the machine they were measured on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
topology=embedded
if [ "${1:-}" = --processes ]; then topology=processes; shift; fi
bots=${1:-500}
duration=${2:-30}
spread=${3:-60}
# MMO_BIN_DIR: use binaries built elsewhere (e.g. a debug build for a quick smoke run) instead
# of building release ones in .build-release.
if [ -n "${MMO_BIN_DIR:-}" ]; then
  bin=$MMO_BIN_DIR
else
  scratch=.build-release
  swift build -c release --scratch-path "$scratch" --product mmo >/dev/null 2>&1 ||
    { swift build -c release --scratch-path "$scratch" --product mmo 2>&1 | grep error | head; exit 1; }
  swift build -c release --scratch-path "$scratch" --product mmo-bot >/dev/null 2>&1
  bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path 2>/dev/null)
fi
# shellcheck source=lib/services.sh
. "$root/scripts/lib/services.sh"
work=$(mktemp -d /tmp/mmo-bench.XXXXXX)
chmod 755 "$work"
server_pids=()
cleanup() {
  set +e
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$topology" = processes ]; then svc_pg_stop "$work/pg"; svc_redis_stop "$work"; fi
  rm -rf "$work"
}
trap cleanup EXIT
ready() { # admin port
  for _ in $(seq 300); do curl -fsS "http://127.0.0.1:$1/health/ready" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "a service on admin port $1 did not become ready" >&2; exit 1
}
port=$(svc_free_port)
declare -A admin
# The load opens one connection per bot from loopback (exempt from the per-address limits).
conn_limit=$((bots + 100))

if [ "$topology" = embedded ]; then
  admin[world]=$(svc_free_port)
  (cd "$work" && "$bin/mmo" dev create-user --name Bench --count "$bots" --output tokens.txt --log-level error 2>/dev/null)
  (cd "$work" && exec "$bin/mmo" serve --packet-port "$port" --admin-port "${admin[world]}" --log-level warning \
    --packet-max-connections "$conn_limit" >serve.log 2>&1) &
  server_pids+=($!)
  ready "${admin[world]}"
else
  svc_install
  MMO_BIN=$bin svc_game_database "$work" bench
  common+=(--log-level warning)
  "$bin/mmo" dev create-user --name Bench --count "$bots" --output "$work/tokens.txt" "${common[@]}" 2>/dev/null
  MMO_GRPC_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
  export MMO_GRPC_SECRET
  declare -A grpc
  for s in database auth character world packet; do grpc[$s]=$(svc_free_port); admin[$s]=$(svc_free_port); done
  peers=(--database-address "127.0.0.1:${grpc[database]}" --auth-address "127.0.0.1:${grpc[auth]}"
         --character-address "127.0.0.1:${grpc[character]}" --world-address "127.0.0.1:${grpc[world]}")
  for s in database auth character world packet; do
    "$bin/mmo" serve --services "$s" "${common[@]}" "${peers[@]}" --"$s"-grpc-port "${grpc[$s]}" \
      --admin-port "${admin[$s]}" --packet-port "$port" --packet-max-connections "$conn_limit" \
      >"$work/$s.log" 2>&1 &
    server_pids+=($!)
  done
  for s in database auth character world packet; do ready "${admin[$s]}"; done
fi

ticks() { local total=0; for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$total"; }
hz=$(getconf CLK_TCK)
cpu_start=$(ticks "${server_pids[@]}"); t_start=$(date +%s.%N)
declare -A cpu0
for pid in "${server_pids[@]}"; do cpu0[$pid]=$(ticks "$pid"); done
"$bin/mmo-bot" load --port "$port" --tokens-file "$work/tokens.txt" --bots "$bots" --duration "$duration" \
  --spread "$spread" --json >"$work/load.json" 2>"$work/load.log" &
loader=$!
# Sample the servers' memory while the bots run; CPU is measured over the whole run
# (ramp-up included).
peak_rss=0
while kill -0 "$loader" 2>/dev/null; do
  rss=0
  for pid in "${server_pids[@]}"; do rss=$((rss + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status"))); done
  [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
  sleep 0.5
done
wait "$loader" || true
cpu_end=$(ticks "${server_pids[@]}"); t_end=$(date +%s.%N)
cat "$work/load.json"
python3 - "$cpu_start" "$cpu_end" "$t_start" "$t_end" "$hz" "$peak_rss" "$topology" <<'PY'
import sys
c0, c1, t0, t1, hz, rss = (float(x) for x in sys.argv[1:7])
wall = max(t1 - t0, 1e-9)
print(f"servers ({sys.argv[7]}): cpu {100 * (c1 - c0) / hz / wall:.0f}% of one core over {wall:.1f} s, peak RSS {rss / 1024:.0f} MiB")
PY
if [ "$topology" = processes ]; then
  i=0
  for s in database auth character world packet; do
    pid=${server_pids[$i]}; i=$((i + 1))
    python3 -c "import sys; print(f'  {sys.argv[1]:>9}: cpu {100 * (int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4]) / float(sys.argv[5]):.0f}%')" \
      "$s" "${cpu0[$pid]}" "$(ticks "$pid")" "$hz" "$(python3 -c "print($t_end - $t_start)")"
  done
fi
curl -fsS "http://127.0.0.1:${admin[world]}/metrics" | python3 -c '
import sys
m = {}
for line in sys.stdin:
    if line.startswith("mmo_world_tick_"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
count = m.get("mmo_world_tick_duration_seconds_count", 0)
mean = 1000 * m.get("mmo_world_tick_duration_seconds_sum", 0) / max(count, 1)
buckets = sorted((float(k.split("le=\"")[1].rstrip("\"}")), v) for k, v in m.items() if "_bucket{" in k and "+Inf" not in k)
p99 = next((le for le, v in buckets if v >= 0.99 * count), float("inf"))
overruns = int(m.get("mmo_world_tick_overruns_total", 0))
print(f"world: {int(count)} ticks, mean tick {mean:.2f} ms, p99 tick <= {1000 * p99:.0f} ms (histogram bucket), overruns {overruns}")
'
python3 - "$work/load.json" "$bots" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
bots = int(sys.argv[2])
lost = bots - s["botsInWorld"] + s["botsLostDuringRun"]
print(f"bots: {s['botsInWorld']} of {bots} reached the world, {s['botsLostDuringRun']} lost during the run")
sys.exit(1 if lost else 0)
PY
