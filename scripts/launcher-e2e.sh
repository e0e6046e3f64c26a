#!/usr/bin/env bash
# The player's path end to end: a patch server on loopback, `mmo serve`, and
#   launcher 'mmo://play?server=127.0.0.1:PORT&token=TOKEN'
# in a tmux pane. The launcher updates an out-of-date install (progress on the terminal), then
# starts the terminal client from the install, which logs in and reaches character select.
# Also: a malformed URL, a traversal path in the manifest and a file whose hash does not match
# are each refused with their own exit code, and the install stays usable.
#
#   scripts/launcher-e2e.sh                          # builds what it needs first
#   MMO_BIN_DIR=/path/to/bin scripts/launcher-e2e.sh # binaries built elsewhere
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v tmux >/dev/null || { apt-get update -q >/dev/null; apt-get install -y -q tmux >/dev/null; }
if [ -n "${MMO_BIN_DIR:-}" ]; then bin=$MMO_BIN_DIR; else
  swift build >/dev/null 2>&1 || { swift build 2>&1 | grep error | head; exit 1; }
  bin=$(swift build --show-bin-path 2>/dev/null)
fi
work=$(mktemp -d "${MMO_TEST_WORK_DIR:-/tmp}/launcher-e2e.XXXXXX")
tmx() { tmux -S "$work/tmux.sock" -f /dev/null "$@"; }
pids=()
cleanup() {
  set +e
  tmx kill-server >/dev/null 2>&1
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; [ -n "${pane_name:-}" ] && { echo "--- screen:"; tmx capture-pane -p -t "$pane_name" 2>/dev/null; }; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { # session regex seconds
  local deadline=$((SECONDS + ${3:-30}))
  while [ $SECONDS -lt $deadline ]; do
    tmx capture-pane -p -S -100 -t "$1" 2>/dev/null | grep -Eq -- "$2" && return 0
    sleep 0.2
  done
  return 1
}

echo "== launcher: web site link -> patch -> terminal client"
# The studio's releases: v1 is installed, v2 is live. The client in the install is a small
# script that runs the terminal client built here.
patch_port=$(free_port)
mkdir -p "$work/patch"
python3 -m http.server "$patch_port" --bind 127.0.0.1 --directory "$work/patch" >"$work/http.log" 2>&1 &
pids+=($!)
for v in 1 2; do
  mkdir -p "$work/patch/v$v/bin" "$work/patch/v$v/data"
  printf '#!/bin/sh\n# game client, release %s\nexec "%s/mmo-client" "$@"\n' "$v" "$bin" >"$work/patch/v$v/bin/play"
  chmod +x "$work/patch/v$v/bin/play"
  head -c $((6 * 1024 * 1024)) /dev/urandom >"$work/patch/v$v/data/world.dat"
  "$bin/launcher" make-manifest "$work/patch/v$v" --version "$v" --base-url "http://127.0.0.1:$patch_port/v$v/" \
    -o "$work/patch/v$v.json" >/dev/null
done
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$patch_port/v1.json" >/dev/null 2>&1 && break; sleep 0.1; done
install="$work/install"
common=(--install-dir "$install")
"$bin/launcher" update "${common[@]}" --manifest-url "http://127.0.0.1:$patch_port/v1.json" >"$work/update-v1.log" 2>&1 \
  || { cat "$work/update-v1.log"; fail "installing release 1"; }
grep -q "release 1" "$install/bin/play" || fail "release 1 not installed"
pass "release 1 installed"

cd "$work"
packet_port=$(free_port); admin_port=$(free_port)
"$bin/mmo" serve --packet-port "$packet_port" --admin-port "$admin_port" >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do curl -fsS "http://127.0.0.1:$admin_port/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
token=$("$bin/mmo" dev create-user --name Alice)
url="mmo://play?server=127.0.0.1:$packet_port&token=$token"

# A malformed link never starts anything.
set +e
"$bin/launcher" "${common[@]}" --client bin/play --manifest-url "http://127.0.0.1:$patch_port/v2.json" "mmo://play?server=127.0.0.1:99999&token=$token" >"$work/bad-url.log" 2>&1
code=$?
set -e
[ "$code" = 65 ] || { cat "$work/bad-url.log"; fail "malformed URL: exit $code, expected 65"; }
grep -q "release 1" "$install/bin/play" || fail "malformed URL changed the install"
pass "malformed URL refused (exit 65), nothing changed"

# The launcher as the desktop runs it (the URL is its only argument besides configuration).
cat >"$work/play.sh" <<EOF
#!/bin/sh
sleep 1  # lets the test attach pipe-pane before the first byte
'$bin/launcher' --install-dir '$install' --client bin/play --wait --manifest-url 'http://127.0.0.1:$patch_port/v2.json' '$url'
echo "launcher exit \$?" >'$work/launcher.exit'
sleep 60
EOF
chmod 700 "$work/play.sh"
pane_name=player
tmx new-session -d -s player -x 120 -y 40 "$work/play.sh"
tmx pipe-pane -t player -o "cat >>'$work/terminal.log'"
wait_for player "Your characters \(0 of [0-9]+ slots\)" 60 || fail "the client did not reach character select"
grep -q "release 2" "$install/bin/play" || fail "release 2 not installed"
cmp -s "$install/data/world.dat" "$work/patch/v2/data/world.dat" || fail "world.dat differs from release 2"
pass "out-of-date install updated to release 2 and verified"
grep -aq "MiB" "$work/terminal.log" && grep -aq "%" "$work/terminal.log" || fail "no progress bar on the terminal"
pass "progress bar shown on the terminal while downloading"
pass "terminal client started by the launcher, logged in, at character select"
grep -q "GET /v2/data/world.dat" "$work/http.log" || fail "world.dat was not downloaded"
tmx send-keys -t player q
for _ in $(seq 50); do [ -f "$work/launcher.exit" ] && break; sleep 0.2; done
grep -q "launcher exit 0" "$work/launcher.exit" || fail "launcher --wait did not return the client's exit status 0"
pass "quitting the client ends the launcher with its exit status"
pane_name=

# A hash that does not match: the studio's file changed after the manifest was made.
cp -r "$work/patch/v2" "$work/patch/v3"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$work/patch/v3/data/world.dat"
"$bin/launcher" make-manifest "$work/patch/v3" --version 3 --base-url "http://127.0.0.1:$patch_port/v3/" -o "$work/patch/v3.json" >/dev/null
head -c 1024 /dev/urandom >>"$work/patch/v3/data/world.dat"
set +e
"$bin/launcher" update "${common[@]}" --manifest-url "http://127.0.0.1:$patch_port/v3.json" >"$work/v3.log" 2>&1
code=$?
set -e
[ "$code" = 79 ] || [ "$code" = 69 ] || { cat "$work/v3.log"; fail "bad hash: exit $code"; }
cmp -s "$install/data/world.dat" "$work/patch/v2/data/world.dat" || fail "bad hash damaged the install"
pass "file not matching its manifest hash refused (exit $code), release 2 intact"

# A manifest path escaping the install folder.
python3 - "$work/patch/v2.json" "$work/patch/evil.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["version"] = "evil"
m["files"].append({"path": "../../escaped", "size": 1, "sha256": "00" * 32})
json.dump(m, open(sys.argv[2], "w"))
PY
set +e
"$bin/launcher" update "${common[@]}" --manifest-url "http://127.0.0.1:$patch_port/evil.json" >"$work/evil.log" 2>&1
code=$?
set -e
[ "$code" = 76 ] || { cat "$work/evil.log"; fail "traversal manifest: exit $code, expected 76"; }
[ ! -e "$work/escaped" ] && [ ! -e "$install/../escaped" ] || fail "traversal wrote outside the install"
"$bin/launcher" update "${common[@]}" --manifest-url "http://127.0.0.1:$patch_port/v2.json" >/dev/null 2>&1 || fail "install unusable after refusals"
pass "traversal path refused (exit 76); the install still verifies"
echo "launcher e2e: all checks passed"
