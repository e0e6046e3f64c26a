#!/usr/bin/env bash
# Chaos: the five services as separate processes on their own PostgreSQL and Redis, a walking
# bot and a small load in the world; each service is killed (SIGKILL, then SIGTERM) and started
# again as a supervisor would, then PostgreSQL and Redis are restarted. After each step:
#   - the walker's saved position is no older than the documented bound (one autosave interval
#     after a SIGKILL of the world, nothing otherwise);
#   - no other service had to be restarted (their processes are the ones started at the top);
#   - a new login reaches the world within 5 s of the killed part being back.
#
#   - at the end, every background player is in the world: none was lost on the way (a dropped
#     connection resumes, a restarted world re-admits).
#
#   scripts/chaos.sh            # every service x {SIGKILL, SIGTERM}, PostgreSQL, Redis
#   scripts/chaos.sh --short    # every service with SIGKILL, world with SIGTERM, PostgreSQL, Redis
#   scripts/chaos.sh [--short] --load N   # N background players instead of 10
#
# Needs nothing running; installs PostgreSQL/Redis like scripts/test.sh. Prints PASS/FAIL lines.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=full
load_bots=10
while [ $# -gt 0 ]; do
  case "$1" in
    --short) mode=--short ;;
    --load) load_bots=$2; shift ;;
    *) echo "usage: scripts/chaos.sh [--short] [--load N]" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck source=lib/services.sh
. "$root/scripts/lib/services.sh"
svc_install

autosave_s=5          # --world-autosave-seconds for this run: the SIGKILL bound
login_bound_ms=5000   # a login must reach the world this soon after the dependency is back
walk_s=12             # each round's walk; the kill comes 3 s in (autosave_s + 3 s for the world's SIGKILL)

swift build >/dev/null 2>&1 || { swift build 2>&1 | grep -E "error" | head -20; exit 1; }
bin=$(swift build --show-bin-path)
work=$(mktemp -d "${MMO_TEST_WORK_DIR:-/tmp}/chaos.XXXXXX")
chmod 755 "$work"
pids=()
cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  svc_pg_stop "$work/pg"
  svc_redis_stop "$work"
  wait 2>/dev/null
  # Logs stay behind only when something failed.
  [ "${passed:-0}" = 1 ] && rm -rf "$work"
}
trap cleanup EXIT

pass() { echo "PASS $*"; }
fail() {
  echo "FAIL $*"
  for f in "$work"/*.log; do echo "--- $f"; tail -n 25 "$f"; done
  exit 1
}
now_ms() { date +%s%3N; }

MMO_BIN=$bin svc_game_database "$work" chaos
common+=(--log-level notice)
walker=$("$bin/mmo" dev create-user --name Walker "${common[@]}")
prober=$("$bin/mmo" dev create-user --name Prober "${common[@]}")
: >"$work/load-tokens"
"$bin/mmo" dev create-user --name Load --count "$load_bots" --output "$work/load-tokens" "${common[@]}"

declare -A grpc admin_port pid_of
for s in database auth character world packet; do grpc[$s]=$(svc_free_port); admin_port[$s]=$(svc_free_port); done
packet_port=$(svc_free_port)
# Internal calls carry a shared secret (grpc.secret; docs/adr/0005), as in production.
MMO_GRPC_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
export MMO_GRPC_SECRET
peers=(--database-address "127.0.0.1:${grpc[database]}" --auth-address "127.0.0.1:${grpc[auth]}"
       --character-address "127.0.0.1:${grpc[character]}" --world-address "127.0.0.1:${grpc[world]}")
start() { # service
  "$bin/$1-service" "${common[@]}" "${peers[@]}" --"$1"-grpc-port "${grpc[$1]}" --admin-port "${admin_port[$1]}" \
    --packet-port "$packet_port" --packet-max-connections $(( load_bots + 200 )) \
    --world-autosave-seconds "$autosave_s" >>"$work/$1-service.log" 2>&1 &
  pid_of[$1]=$!
  pids+=($!)
}
ready() { # service [seconds]: waits until /health/ready answers 200
  local tries=$(( ${2:-30} * 5 ))
  for _ in $(seq "$tries"); do
    curl -fsS "http://127.0.0.1:${admin_port[$1]}/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "$1-service not ready on admin port ${admin_port[$1]}"
}
for s in database auth character world packet; do start "$s"; done
for s in database auth character world packet; do ready "$s"; done
pass "five services ready on PostgreSQL :$pg_port and Redis :$redis_port"
original=$(for s in database auth character world packet; do echo -n "${pid_of[$s]} "; done)

# Background players: they play through every round and must all be in the world at the end.
"$bin/mmo-bot" load --port "$packet_port" --tokens-file "$work/load-tokens" --duration 100000 --spread 30 \
  >"$work/load.log" 2>&1 &
load_pid=$!; pids+=("$load_pid")

# The walker alternates direction each round so it stays inside the zone.
round=0
target_x() { if (( round % 2 )); then echo 150; else echo 850; fi; }

# walk LABEL: starts the walker; returns once it is in the world (it must get there within
# login_bound_ms, retries included).
walk() {
  round=$((round + 1))
  walk_log="$work/walk-$round-${1// /-}.log"
  : >"$walk_log"
  "$bin/mmo-bot" walk --port "$packet_port" --token "$walker" --character Walker --target-x "$(target_x)" \
    --seconds "$walk_s" --retry-for 5 >"$walk_log" 2>&1 &
  walk_pid=$!
  for _ in $(seq 100); do grep -q '^ENTERED' "$walk_log" && break; kill -0 "$walk_pid" 2>/dev/null || break; sleep 0.1; done
  grep -q '^ENTERED' "$walk_log" || fail "$1: the walker did not enter the world (see $walk_log)"
  local waited; waited=$(sed -n 's/^ENTERED .* waited_ms=\([0-9]*\).*/\1/p' "$walk_log")
  (( waited <= login_bound_ms )) || fail "$1: login took ${waited} ms (bound $login_bound_ms ms)"
}

# check_position LABEL REFERENCE_MS BOUND_MS: once the walker is done, its saved x must be at
# least where it was BOUND_MS before REFERENCE_MS (the walk is monotonic in x).
check_position() {
  wait "$walk_pid" || true
  local deadline=$(( $(now_ms) + 10000 )) verdict=""
  while :; do
    local saved; saved=$(psql "$pg_url" -Atc "SELECT x FROM characters WHERE name = 'Walker'")
    verdict=$(python3 - "$walk_log" "$saved" "$2" "$3" <<'PY'
import sys
log, saved, ref, bound = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
entered = None; moves = []
for line in open(log):
    p = line.split()
    if p and p[0] == "ENTERED": entered = (int(p[1]), float(p[2]))
    if p and p[0] in ("MOVE", "CORRECTION"): moves.append((int(p[1]), float(p[2])))
direction = 1 if (moves and moves[-1][1] >= entered[1]) else -1
cutoff = ref - bound
x_at = entered[1]
for t, x in moves:
    if t <= cutoff: x_at = x
ok = (saved - x_at) * direction >= -0.01
print(("ok" if ok else "lost") + f" saved x={saved:.2f}, x {bound} ms before the reference was {x_at:.2f}")
PY
)
    [[ $verdict == ok* ]] && break
    (( $(now_ms) < deadline )) || break
    sleep 0.5
  done
  [[ $verdict == ok* ]] || fail "$1: progress lost beyond the bound: ${verdict#lost }"
  pass "$1: position within bound (${verdict#ok })"
}

others_alive() { # LABEL
  for s in database auth character world packet; do
    kill -0 "${pid_of[$s]}" 2>/dev/null || fail "$1: $s-service died and was not restarted by this script"
  done
}

# kill_round SERVICE SIGNAL
kill_round() {
  local label="$1 SIG$2"
  walk "$label"
  # Before a SIGKILL of the world the walk must outlast one autosave interval, or the bound
  # below would hold even if autosave never ran.
  if [ "$1" = world ] && [ "$2" = KILL ]; then sleep $(( autosave_s + 3 )); else sleep 3; fi
  local ref; ref=$(now_ms)
  kill -"$2" "${pid_of[$1]}"
  local status=0
  { wait "${pid_of[$1]}"; } 2>/dev/null || status=$?
  if [ "$2" = TERM ] && [ "$status" != 0 ]; then fail "$label: exited $status on SIGTERM"; fi
  start "$1"; ready "$1"
  others_alive "$label"
  # Nothing may be lost except after a SIGKILL of the world (one autosave interval). The world
  # and the gateway take the walker out at the kill; the others leave it walking to the end.
  local bound=1000
  [ "$1" = world ] && [ "$2" = KILL ] && bound=$(( autosave_s * 1000 + 1000 ))
  if [ "$1" = world ] || [ "$1" = packet ]; then
    check_position "$label" "$ref" "$bound"
  else
    check_position "$label" "$(( ref + walk_s * 1000 ))" "$bound"
  fi
}

# dependency_round NAME STOP START
dependency_round() {
  walk "$1 restart"
  sleep 2
  $2
  sleep 2
  $3
  local back; back=$(now_ms)
  # A second account logs in while the walker plays on; it must be in the world within 5 s.
  "$bin/mmo-bot" walk --port "$packet_port" --token "$prober" --character Prober --target-x 500 --seconds 1 \
    --retry-for 5 >"$work/probe-${1// /-}.log" 2>&1 || fail "$1 restart: no login within 5 s (see $work/probe-$1.log)"
  local entered; entered=$(awk '/^ENTERED/ {print $2}' "$work/probe-${1// /-}.log")
  (( entered - back <= login_bound_ms )) || fail "$1 restart: login took $(( entered - back )) ms after it was back"
  pass "$1 restart: a new login reached the world $(( entered - back )) ms after $1 was back"
  others_alive "$1 restart"
  check_position "$1 restart" "$(( back + walk_s * 1000 ))" 1000
}

if [ "$mode" = --short ]; then
  plan=("database KILL" "auth KILL" "character KILL" "world KILL" "packet KILL" "world TERM")
else
  plan=()
  for sig in KILL TERM; do for s in database auth character world packet; do plan+=("$s $sig"); done; done
fi
for step in "${plan[@]}"; do
  # shellcheck disable=SC2086
  kill_round $step
done
dependency_round PostgreSQL "svc_pg_stop $work/pg fast" "svc_pg_start $work/pg $pg_port"
dependency_round Redis "svc_redis_stop $work" "svc_redis_start $work $redis_port"
others_alive "end"
# No background player lost: each one's character is in the world (the walker and the prober
# have logged out). A lost one is missing; a duplicate (a link-dead leftover) is one too many.
world_players() {
  curl -fsS "http://127.0.0.1:${admin_port[world]}/metrics" | awk '$1 == "mmo_world_players" {print int($2)}'
}
in_world=-1
for _ in $(seq 150); do
  in_world=$(world_players || echo -1)
  [ "$in_world" = "$load_bots" ] && break
  sleep 0.2
done
kill -0 "$load_pid" 2>/dev/null || fail "end: the background load exited (see $work/load.log)"
[ "$in_world" = "$load_bots" ] || fail "end: $in_world characters in the world, expected the $load_bots background players"
pass "end: all $load_bots background players are in the world"
pass "original processes still running where not killed: $original"
echo "chaos: all rounds passed"
passed=1
