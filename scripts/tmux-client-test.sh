#!/usr/bin/env bash
# End-to-end test of the terminal game client (mmo-client) the way a player uses it: two
# clients in detached tmux sessions against `mmo serve` on the embedded defaults, driven with
# `tmux send-keys` and checked by reading their screens with `tmux capture-pane`.
#
#   scripts/tmux-client-test.sh            # builds mmo, mmo-bot and mmo-client first
#   MMO_BIN_DIR=/path/to/bin scripts/tmux-client-test.sh   # use binaries built elsewhere
#
# Checks: the server's name validation message is shown; a character is created and enters the
# world; each player sees the other appear, move and chat; a held movement key draws no
# MOVE_TOO_FAST correction; /move walks to a point; a resize redraws for the new width; /leave
# returns to character selection; a login from elsewhere shows "You logged in from another
# place" and exits with status 3. Prints PASS/FAIL per check; exits non-zero on the first failure
# (with the screen it was waiting on). Needs root (or tmux installed) on Debian/Ubuntu.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

pass() { echo "PASS $*"; }
info() { echo "INFO $*"; }
fail() {
  echo "FAIL $*"
  if [ -n "${last_pane:-}" ]; then echo "--- screen of $last_pane:"; tmx capture-pane -p -t "$last_pane" 2>/dev/null || true; fi
  for f in "${work:-/nonexistent}"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
  exit 1
}

if ! command -v tmux >/dev/null 2>&1; then
  info "installing tmux"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -q tmux >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q tmux >/dev/null; }; } \
    || { echo "FAIL cannot install tmux (apt-get install tmux)"; exit 1; }
fi
for tool in curl python3; do command -v "$tool" >/dev/null || { echo "FAIL $tool is required"; exit 1; }; done

if [ -n "${MMO_BIN_DIR:-}" ]; then
  bin=$MMO_BIN_DIR
else
  for product in mmo mmo-bot mmo-client; do
    swift build --product "$product" >/dev/null 2>&1 || { swift build --product "$product" 2>&1 | grep -E "error" | head -20; echo "FAIL build $product"; exit 1; }
  done
  bin=$(swift build --show-bin-path)
fi
for exe in mmo mmo-bot mmo-client; do [ -x "$bin/$exe" ] || { echo "FAIL $bin/$exe is missing"; exit 1; }; done

work=$(mktemp -d "${MMO_TEST_WORK_DIR:-/tmp}/tmux-client.XXXXXX")
# A tmux server of our own, its socket in the work directory: the player's tmux (and its
# configuration) is left alone, and nothing is left behind.
tmx() { tmux -S "$work/tmux.sock" -f /dev/null "$@"; }
serve_pid=
cleanup() {
  set +e
  tmx kill-server >/dev/null 2>&1
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# wait_for SESSION REGEX [SECONDS]: polls the session's screen until a line matches.
wait_for() {
  local session=$1 pattern=$2 timeout=${3:-20}
  last_pane=$session
  local deadline=$((SECONDS + timeout))
  while [ $SECONDS -lt $deadline ]; do
    tmx capture-pane -p -t "$session" 2>/dev/null | grep -Eq -- "$pattern" && return 0
    sleep 0.2
  done
  return 1
}
# pane SESSION: the session's screen now.
pane() { tmx capture-pane -p -t "$1"; }
# type SESSION TEXT: types TEXT literally, then Enter.
type_line() { tmx send-keys -t "$1" -l -- "$2"; tmx send-keys -t "$1" Enter; }

# start_client SESSION TOKEN_FILE: mmo-client as the launcher starts it, with the token in the
# environment (not on any command line: argv is world-readable). The exit status lands in
# $work/SESSION.exit.
start_client() {
  local session=$1 token_file=$2
  cat >"$work/$session.sh" <<EOF
#!/bin/sh
export MMO_SERVER=127.0.0.1:$packet_port
export MMO_SESSION_TOKEN="\$(cat '$token_file')"
'$bin/mmo-client' 2>'$work/$session-stderr.log'
echo \$? >'$work/$session.exit'
EOF
  chmod 700 "$work/$session.sh"
  tmx new-session -d -s "$session" -x 120 -y 40 "$work/$session.sh"
}
# wait_exit SESSION: the client's exit status once it has exited.
wait_exit() {
  for _ in $(seq 100); do [ -f "$work/$1.exit" ] && { cat "$work/$1.exit"; return 0; }; sleep 0.1; done
  echo "none"
}

echo "== terminal client through tmux"
cd "$work"
packet_port=$(free_port); admin_port=$(free_port)
umask 077
"$bin/mmo" dev create-user --name Alice >"$work/alice.token" 2>"$work/create-user.log" || fail "mmo dev create-user (Alice)"
"$bin/mmo" dev create-user --name Bob >"$work/bob.token" 2>>"$work/create-user.log" || fail "mmo dev create-user (Bob)"
"$bin/mmo" serve --packet-port "$packet_port" --admin-port "$admin_port" >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 150); do curl -fsS "http://127.0.0.1:$admin_port/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$admin_port/health/ready" >/dev/null 2>&1 || fail "mmo serve not ready on admin port $admin_port"
pass "mmo serve ready (clients on $packet_port)"

# --- Alice: log in, a refused name, then a real character, into the world.
start_client alice "$work/alice.token"
wait_for alice "You have no characters yet" || fail "Alice's client did not log in and show an empty character list"
pass "Alice logged in: empty character list"
tmx send-keys -t alice c
wait_for alice "Name \(3-16 letters" || fail "c did not open the create form"
type_line alice "Xy"
wait_for alice "Class: 1 Warrior" || fail "no class prompt"
type_line alice ""
wait_for alice "Appearance: skin" || fail "no appearance prompt"
type_line alice ""
wait_for alice "That name is not allowed: name must be at least 3 letters" || fail "the server's NAME_INVALID detail was not shown"
wait_for alice "Name \(3-16 letters" || fail "the name was not asked again"
pass "NAME_INVALID shows the server's detail and asks for another name"
type_line alice "alice"
wait_for alice "Created Alice, Warrior" || fail "Alice was not created"
wait_for alice "^> +1 +Alice +Warrior +1 " || fail "the list does not show Alice selected with class and level"
pass "created Alice (Warrior 1); listed with index, name, class, level"
tmx send-keys -t alice Enter
wait_for alice "^ Alice \(Warrior 1\) - \(500\.0, 500\.0\) - Greenvale \(zone 1\)" || fail "Alice did not enter the world"
pass "Alice entered the world at (500.0, 500.0)"

# --- Bob: a second player in a second client.
start_client bob "$work/bob.token"
wait_for bob "You have no characters yet" || fail "Bob's client did not log in"
tmx send-keys -t bob c
wait_for bob "Name \(3-16 letters" || fail "Bob: no create form"
type_line bob "Bob"
wait_for bob "Class: 1 Warrior" || fail "Bob: no class prompt"
type_line bob "2"
wait_for bob "Appearance: skin" || fail "Bob: no appearance prompt"
type_line bob "1 2 3 4"
wait_for bob "Created Bob, Mage" || fail "Bob was not created"
tmx send-keys -t bob Enter
wait_for bob "^ Bob \(Mage 1\) - \(500\.0, 500\.0\) - Greenvale" || fail "Bob did not enter the world"
pass "Bob (Mage) entered the world"

wait_for alice "^ +Bob +Mage 1 +\(500\.0, 500\.0\) +0\.0" || fail "Bob does not appear in Alice's nearby players"
pass "Alice sees Bob nearby with position and distance"
wait_for bob "^ +Alice +Warrior 1 +\(500\.0, 500\.0\)" || fail "Alice does not appear on Bob's screen"
pass "Bob sees Alice nearby"

for _ in 1 2 3; do tmx send-keys -t alice d; sleep 0.3; done
wait_for alice "^ Alice \(Warrior 1\) - \(503\.0, 500\.0\)" || fail "three d presses did not move Alice three units east"
wait_for bob "^ +Alice +Warrior 1 +\(503\.0, 500\.0\) +3\.0 E" || fail "Bob did not see Alice move to (503, 500)"
pass "Alice walked 3 steps east (d); Bob saw her at (503.0, 500.0), 3.0 E"

tmx send-keys -t bob Enter
type_line bob "hello from Bob"
wait_for alice "^Bob: hello from Bob" || fail "Bob's chat line did not reach Alice's chat log"
pass "Bob's chat shows in Alice's chat log"
tmx send-keys -t alice /
type_line alice "say hi Bob, Alice here"
wait_for bob "^Alice: hi Bob, Alice here" || fail "Alice's /say did not reach Bob"
pass "Alice's /say shows in Bob's chat log"

# Holding a key: the terminal repeats it ~30 times a second; the client must stay under the
# server's 7 units/s or it gets MOVE_TOO_FAST corrections.
started=$(date +%s.%N)
for _ in $(seq 45); do tmx send-keys -t alice l; sleep 0.033; done
held=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$started" "$(date +%s.%N)")
sleep 1
pane alice | grep -Eq "corrections [0-9]|Position corrected" && fail "a held key drew MOVE_TOO_FAST corrections"
x=$(pane alice | sed -nE '1s/^ Alice \(Warrior 1\) - \(([0-9.]+), 500\.0\).*/\1/p')
[ -n "$x" ] || fail "cannot read Alice's position after holding l"
# At most 7 units/s while the key was down, plus the one step that may still be pending.
python3 -c "import sys; x, t = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if 503 + 3 <= x <= 503 + 7 * t + 2 else 1)" "$x" "$held" \
  || fail "holding l for ${held}s moved Alice to x=$x (expected at least 3 units, at most 7 units/s)"
pass "held l for ${held}s: Alice walked to x=$x (at most 7 units/s), no correction"

tmx send-keys -t alice /
type_line alice "move 495 497"
wait_for alice "^ Alice \(Warrior 1\) - \(495\.0, 497\.0\)" 20 || fail "/move 495 497 did not get there"
wait_for alice "Arrived at \(495\.0, 497\.0\)" 5 || fail "no arrival message"
wait_for bob "^ +Alice +Warrior 1 +\(495\.0, 497\.0\)" || fail "Bob did not see Alice arrive"
pass "/move walked Alice to (495.0, 497.0) over time"

tmx resize-window -t alice -x 60 -y 20
wait_for alice "^ Alice \(Warrior 1\) - \(495\.0, 497\.0\)" || fail "no redraw after resize"
pane alice | grep -q -- "+---" && fail "the map is still drawn at 60 columns (no SIGWINCH redraw?)"
pane alice | python3 -c "import sys; sys.exit(any(len(l.rstrip('\n')) > 60 for l in sys.stdin))" || fail "lines wider than 60 columns after resize"
wait_for alice "^ +Bob +Mage 1" || fail "Bob is not listed after the resize"
pass "resized to 60x20: redrawn without the map, Bob still listed"
tmx resize-window -t alice -x 120 -y 40

tmx send-keys -t bob /
type_line bob "leave"
wait_for bob "You left the world" || fail "/leave did not return Bob to character selection"
wait_for bob "^> +1 +Bob +Mage +1 " || fail "Bob's character list was not reloaded after /leave"
wait_for alice "Nearby players: nobody in sight" || fail "Bob did not disappear from Alice's screen"
pass "/leave: Bob back at character selection; he vanished from Alice's screen"
tmx send-keys -t bob q
[ "$(wait_exit bob)" = 0 ] || fail "Bob's client did not exit 0 after q (status $(wait_exit bob))"
pass "q at character selection logs out, exit status 0"

# Takeover: Alice's account logs in somewhere else.
"$bin/mmo-bot" scenario --port "$packet_port" --token "$(cat "$work/alice.token")" --character Alice --timeout 5 \
  >"$work/takeover-bot.log" 2>&1 || true
wait_for alice "You logged in from another place" || fail "the takeover was not reported on Alice's screen"
pass "takeover: Alice's screen says \"You logged in from another place\""
tmx send-keys -t alice Enter
status=$(wait_exit alice)
[ "$status" = 3 ] || fail "Alice's client exit status after the takeover: $status (expected 3)"
grep -q "You logged in from another place" "$work/alice-stderr.log" || fail "the reason was not left on the terminal after exit"
pass "after a key the client exits with status 3 and leaves the reason on the terminal"

echo "tmux client test: all checks passed"
