#!/usr/bin/env bash
# Baseline load benchmark: a release `mmo serve` on the embedded defaults and `mmo-bot load`
# on the same machine, with the server's CPU and memory sampled during the run.
#
#   scripts/bench-load.sh [BOTS] [DURATION_SECONDS] [SPREAD]
#
# Prints the bot's summary (JSON) and the server's figures. Results go into BENCHMARKS.md by
# hand, with the machine they were measured on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bots=${1:-500}
duration=${2:-30}
spread=${3:-60}
scratch=.build-release
swift build -c release --scratch-path "$scratch" --product mmo >/dev/null 2>&1
swift build -c release --scratch-path "$scratch" --product mmo-bot >/dev/null 2>&1
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path 2>/dev/null)
work=$(mktemp -d /tmp/mmo-bench.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port); admin=$(free_port)
cd "$work"
"$bin/mmo" dev create-user --name Bench --count "$bots" --output tokens.txt --log-level error 2>/dev/null
"$bin/mmo" serve --packet-port "$port" --admin-port "$admin" --log-level warning \
  --packet-max-connections $((bots + 100)) >serve.log 2>&1 &
server=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$admin/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)
cpu_start=$(ticks); t_start=$(date +%s.%N)
"$bin/mmo-bot" load --port "$port" --tokens-file tokens.txt --bots "$bots" --duration "$duration" --spread "$spread" --json >load.json 2>load.log &
loader=$!
# Sample the server's memory while the bots run; CPU is measured over the whole run
# (ramp-up included, a few hundred milliseconds).
peak_rss=0
while kill -0 "$loader" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
  [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
  sleep 0.5
done
cpu_end=$(ticks); t_end=$(date +%s.%N)
cat load.json
python3 - "$cpu_start" "$cpu_end" "$t_start" "$t_end" "$hz" "$peak_rss" <<'PY'
import sys
c0, c1, t0, t1, hz, rss = (float(x) for x in sys.argv[1:])
wall = max(t1 - t0, 1e-9)
print(f"server: cpu {100 * (c1 - c0) / hz / wall:.0f}% of one core over {wall:.1f} s, peak RSS {rss / 1024:.0f} MiB")
PY
curl -fsS "http://127.0.0.1:$admin/metrics" | python3 -c '
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
