#!/usr/bin/env bash
# End-to-end scenarios with real processes over real TCP:
#   1. `mmo serve` on the embedded defaults (SQLite file, in-memory cache);
#   2. the five services as separate processes on PostgreSQL and Redis, calling each other
#      over mutual TLS with the shared secret (certificates from scripts/dev-certs.sh).
# Called by scripts/test.sh, which provides MMO_TEST_POSTGRES_URL and MMO_TEST_REDIS_URL.
# Every check prints PASS/FAIL; the script exits non-zero on the first failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${MMO_TEST_POSTGRES_URL:?scripts/e2e.sh needs MMO_TEST_POSTGRES_URL (run it through scripts/test.sh)}"
: "${MMO_TEST_REDIS_URL:?scripts/e2e.sh needs MMO_TEST_REDIS_URL (run it through scripts/test.sh)}"

bin=$(swift build --show-bin-path 2>/dev/null)
# scripts/test.sh has built everything already; this makes the script usable alone too.
swift build >/dev/null 2>&1 || { swift build 2>&1 | grep -E "error" | head -20; exit 1; }
work=$(mktemp -d "${MMO_TEST_WORK_DIR:-/tmp}/e2e.XXXXXX")
pids=()
cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; for f in "$work"/*.log; do echo "--- $f"; tail -n 30 "$f"; done; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_ready() { # admin-port name
  for _ in $(seq 150); do
    curl -fsS "http://127.0.0.1:$1/health/ready" >/dev/null 2>&1 && { pass "$2 ready"; return 0; }
    sleep 0.2
  done
  curl -sS "http://127.0.0.1:$1/health/ready" || true
  fail "$2 not ready on admin port $1"
}
# Runs two scenario bots that must see each other move and chat.
two_players() { # packet-port tokenA tokenB label
  "$bin/mmo-bot" scenario --port "$1" --token "$2" --character Alice --expect-peer Bob --timeout 40 >"$work/$4-alice.log" 2>&1 &
  local a=$!
  "$bin/mmo-bot" scenario --port "$1" --token "$3" --character Bob --expect-peer Alice --timeout 40 >"$work/$4-bob.log" 2>&1 || fail "$4: Bob's scenario (see $work/$4-bob.log)"
  wait $a || fail "$4: Alice's scenario (see $work/$4-alice.log)"
  grep -q "PASS saw peer Bob move" "$work/$4-alice.log" && grep -q "PASS saw peer Alice say" "$work/$4-bob.log" \
    || fail "$4: players did not see each other"
  pass "$4: two players saw each other appear, move and chat"
}
expect_refusal() { # packet-port token CODE label
  local out
  out=$("$bin/mmo-bot" scenario --port "$1" --token "$2" --character Nobody --timeout 10 2>&1 || true)
  grep -q "refused: $3(" <<<"$out" || { echo "$out"; fail "$4: expected $3"; }
  pass "$4 refused with $3"
}
# Garbage and an oversize frame each get a DISCONNECT with their code and close only that
# connection; the server keeps serving others.
hostile_clients() { # packet-port label
  python3 - "$1" <<'PY' || fail "$2: hostile clients"
import socket, struct, sys
port = int(sys.argv[1])
def disconnect_code(payload):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(payload)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    length, opcode, code = struct.unpack(">IHH", data[:8])
    assert opcode == 0x8003, f"expected DISCONNECT, got opcode {opcode:#x}"
    return code
assert disconnect_code(struct.pack(">I", 1 << 30)) == 6, "oversize frame -> FRAME_TOO_LARGE"
assert disconnect_code(struct.pack(">IH", 6, 0x0001) + b"JUNK") in (2, 5), "bad hello"
assert disconnect_code(struct.pack(">IH", 2, 0x7ABC)) == 4, "unknown opcode -> UNKNOWN_OPCODE"
assert disconnect_code(struct.pack(">IHI", 6, 0x0002, 7)) == 3, "PING before HELLO -> ILLEGAL_STATE"
print("hostile clients were disconnected with their codes")
PY
  pass "$2: oversize, malformed, unknown and pre-HELLO frames closed only their connections"
}

echo "== 1. mmo serve on embedded defaults"
mkdir -p "$work/embedded" && cd "$work/embedded"
ppid_port=$(free_port); admin=$(free_port)
tA=$("$bin/mmo" dev create-user --name Alice)
tB=$("$bin/mmo" dev create-user --name Bob)
"$bin/mmo" serve --packet-port "$ppid_port" --admin-port "$admin" >"$work/embedded-serve.log" 2>&1 &
serve_pid=$!; pids+=("$serve_pid")
wait_ready "$admin" "mmo serve"
hostile_clients "$ppid_port" embedded &
hostile=$!
two_players "$ppid_port" "$tA" "$tB" embedded
wait $hostile
expect_refusal "$ppid_port" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" TOKEN_UNKNOWN "embedded: unknown token"
expect_refusal "$ppid_port" "not-a-token" TOKEN_MALFORMED "embedded: malformed token"
curl -fsS "http://127.0.0.1:$admin/metrics" | grep -q '^mmo_world_tick' || fail "embedded: /metrics lacks world metrics"
pass "embedded: /metrics serves Prometheus text"
kill -TERM "$serve_pid"; wait "$serve_pid" || fail "embedded: mmo serve did not exit cleanly on SIGTERM"
pass "embedded: graceful shutdown"
python3 - <<'PY' || fail "embedded: positions were not saved"
import sqlite3
rows = dict(sqlite3.connect("mmo.sqlite").execute("SELECT name, x FROM characters").fetchall())
assert rows["Alice"] != 500.0 and rows["Bob"] != 500.0, rows
PY
pass "embedded: positions saved on leave/shutdown"
cd "$root"

echo "== 2. five processes on PostgreSQL and Redis, mutual TLS between them"
db="e2e_$RANDOM$RANDOM"
admin_url="$MMO_TEST_POSTGRES_URL"
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
pg_url="${admin_url%/*}/$db"
for f in camelCase.sql camelCase-plugins.sql; do psql "$pg_url" -q -v ON_ERROR_STOP=1 -f "Tests/Fixtures/better-auth-schema/$f" >/dev/null; done
secret="e2e-secret-$RANDOM$RANDOM"
redis_url="$MMO_TEST_REDIS_URL/3"
redis-cli -u "$redis_url" flushdb >/dev/null
common=(--database-url "$pg_url" --redis-url "$redis_url" --auth-secret "$secret" --log-level notice)
"$bin/mmo" migrate "${common[@]}" | grep -q "applied migrations" || fail "mmo migrate applied nothing on a fresh database"
"$bin/mmo" migrate "${common[@]}" | grep -q "up to date" || fail "second mmo migrate was not a no-op"
pass "mmo migrate applies, then is a no-op"
tA=$("$bin/mmo" dev create-user --name Alice "${common[@]}")
tB=$("$bin/mmo" dev create-user --name Bob "${common[@]}")
tSigned=$("$bin/mmo" dev create-user --name Carol --signed "${common[@]}")
tExpired=$("$bin/mmo" dev create-user --name Dave --lifetime=-60 "${common[@]}")
tBanned=$("$bin/mmo" dev create-user --name Eve "${common[@]}")
psql "$pg_url" -qc "UPDATE \"user\" SET banned = true, \"banReason\" = 'e2e' WHERE name = 'Eve'" >/dev/null

declare -A grpc admin_port
for s in database auth character world packet; do grpc[$s]=$(free_port); admin_port[$s]=$(free_port); done
# Internal calls carry a shared secret (grpc.secret; docs/adr/0005): every service gets the same one.
MMO_GRPC_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
export MMO_GRPC_SECRET
# ... and mutual TLS (grpc.tls.*; docs/adr/0006): every process uses dev-certs.sh's service pair
# (serverAuth + clientAuth; its SANs cover 127.0.0.1, where the peers are dialled).
certs="$work/certs"
scripts/dev-certs.sh "$certs" >/dev/null
export MMO_GRPC_TLS_CERTIFICATE="$certs/server.pem" MMO_GRPC_TLS_PRIVATE_KEY="$certs/server-key.pem" MMO_GRPC_TLS_TRUST_ROOTS="$certs/ca.pem"
packet_port=$(free_port)
peers=(--database-address "127.0.0.1:${grpc[database]}" --auth-address "127.0.0.1:${grpc[auth]}"
       --character-address "127.0.0.1:${grpc[character]}" --world-address "127.0.0.1:${grpc[world]}")
start() { # service
  "$bin/$1-service" "${common[@]}" "${peers[@]}" --"$1"-grpc-port "${grpc[$1]}" --admin-port "${admin_port[$1]}" \
    --packet-port "$packet_port" >"$work/$1-service.log" 2>&1 &
  pids+=($!)
  eval "pid_$1=$!"
}
for s in database auth character world packet; do start "$s"; done
for s in database auth character world packet; do wait_ready "${admin_port[$s]}" "$s-service"; done
! grep -qF "$MMO_GRPC_SECRET" "$work"/*.log || fail "multi-process: the gRPC secret appears in a log"
pass "multi-process: internal calls authenticated with a shared secret that no log shows"
! grep -qF "$(sed -n 2p "$certs/server-key.pem")" "$work"/*.log || fail "multi-process: the TLS private key appears in a log"
# grpc.health.v1.Health/Check (exempt from the secret) on a gRPC port, by curl; prints headers,
# trailers and curl's error.
grpc_health() { # port scheme [curl options...]
  local port=$1 scheme=$2; shift 2
  curl -sS --max-time 5 "$@" "$scheme://127.0.0.1:$port/grpc.health.v1.Health/Check" -H 'content-type: application/grpc' \
    -H 'te: trailers' --data-binary @<(printf '\0\0\0\0\0') -o /dev/null -D - 2>&1 || true
}
for s in database auth character world; do
  out=$(grpc_health "${grpc[$s]}" https --cacert "$certs/ca.pem" --cert "$certs/client.pem" --key "$certs/client-key.pem")
  grep -q "grpc-status: 0" <<<"$out" || { echo "$out"; fail "$s-service: a caller with a CA-signed certificate was not served over TLS"; }
  # Refused: curl fails (the TLS alert, "certificate required", or a reset, depending on timing)
  # and no gRPC status comes back.
  out=$(grpc_health "${grpc[$s]}" https --cacert "$certs/ca.pem")
  grep -q "^curl: " <<<"$out" && ! grep -q "grpc-status" <<<"$out" \
    || { echo "$out"; fail "$s-service: a caller without a client certificate was answered"; }
  out=$(grpc_health "${grpc[$s]}" http --http2-prior-knowledge)
  grep -q "^curl: " <<<"$out" && ! grep -q "grpc-status" <<<"$out" || { echo "$out"; fail "$s-service: a plaintext caller was answered"; }
done
pass "multi-process: gRPC ports serve mutual TLS only (no client certificate or plaintext: refused at the connection)"

hostile_clients "$packet_port" multi-process &
hostile=$!
two_players "$packet_port" "$tA" "$tB" multi-process
wait $hostile
"$bin/mmo-bot" scenario --port "$packet_port" --token "$tSigned" --character Carol --timeout 15 >"$work/carol.log" 2>&1 \
  || fail "signed cookie token was not accepted"
pass "multi-process: signed cookie token (web app secret) accepted"
expect_refusal "$packet_port" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" TOKEN_UNKNOWN "multi-process: unknown token"
expect_refusal "$packet_port" "$tExpired" TOKEN_EXPIRED "multi-process: expired token"
expect_refusal "$packet_port" "$tBanned" ACCOUNT_BANNED "multi-process: banned user"
expect_refusal "$packet_port" "${tA}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D" TOKEN_BAD_SIGNATURE "multi-process: wrong signature"
[ "$(redis-cli -u "$redis_url" --scan --pattern 'mmo:*' | wc -l)" -gt 0 ] || fail "multi-process: nothing cached in Redis"
pass "multi-process: sessions and character lists cached in Redis"
for s in packet world character auth database; do
  eval "pid=\$pid_$s"
  kill -TERM "$pid"; wait "$pid" || fail "$s-service did not exit cleanly on SIGTERM"
done
pass "multi-process: every service shut down gracefully"
moved=$(psql "$pg_url" -Atc "SELECT count(*) FROM characters WHERE name IN ('Alice','Bob') AND x <> 500")
[ "$moved" = 2 ] || fail "multi-process: positions not saved in PostgreSQL (moved=$moved)"
pass "multi-process: positions saved in PostgreSQL"
psql "$admin_url" -qc "DROP DATABASE $db" >/dev/null 2>&1 || true
unset MMO_GRPC_TLS_CERTIFICATE MMO_GRPC_TLS_PRIVATE_KEY MMO_GRPC_TLS_TRUST_ROOTS

echo "== 3. the gateway at its open-file limit"
# `mmo serve` under `ulimit -n 64` with no descriptor reserve: 150 clients connect, accept fails
# with EMFILE. The listener must pause (low CPU, not a spinning core) and serve new clients
# again once descriptors are free.
mkdir -p "$work/fdlimit"
python3 - "$bin" "$work/fdlimit" <<'PY' || fail "fd limit: accept loop at the open-file limit (see $work/fdlimit/fd-limit-serve.log)"
import os, socket, struct, subprocess, sys, time
bin_dir, work = sys.argv[1], sys.argv[2]
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
port, admin, wgrpc = free_port(), free_port(), free_port()
log = open(os.path.join(work, "fd-limit-serve.log"), "w")
# 64 open files, no reserve: the gateway runs out of descriptors before its connection limit.
proc = subprocess.Popen(["/bin/sh", "-c", f'ulimit -n 64 && exec "{bin_dir}/mmo" serve --packet-port {port} --admin-port {admin} --grpc-expose true --world-grpc-port {wgrpc} --packet-file-descriptor-reserve 0 --packet-max-connections-per-address 1000'],
                        cwd=work, stdout=log, stderr=subprocess.STDOUT)
try:
    def served(timeout=5):
        """A PING before HELLO gets DISCONNECT(ILLEGAL_STATE): the gateway accepted and answered."""
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        try:
            s.sendall(struct.pack(">IHI", 6, 0x0002, 7))
            data = b""
            while len(data) < 8:
                chunk = s.recv(4096)
                if not chunk: break
                data += chunk
            return len(data) >= 8 and struct.unpack(">IHH", data[:8])[1:] == (0x8003, 3)
        finally:
            s.close()
    for _ in range(150):
        try:
            if served(1): break
        except OSError:
            time.sleep(0.2)
    else:
        sys.exit("gateway did not start")
    def cpu_ticks():
        fields = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    held = []
    for _ in range(150):  # far more than 64 descriptors: the rest wait in the backlog
        s = socket.socket(); s.setblocking(False)
        s.connect_ex(("127.0.0.1", port)); held.append(s)
    time.sleep(1)
    before = cpu_ticks(); time.sleep(2); used = cpu_ticks() - before
    hz = os.sysconf("SC_CLK_TCK")
    print(f"cpu at the open-file limit: {used / hz:.2f} s in 2 s")
    assert used / hz < 0.5, f"accept loop spins: {used / hz:.2f} s of CPU in 2 s"
    log.flush()
    assert "accept failed" in open(log.name).read(), "the gateway never ran out of descriptors: the check proves nothing"
    # The admin HTTP and gRPC listeners are built by Hummingbird and grpc-swift: without their
    # own pause (ListenerAcceptPause) each spun a core here (3.0 and 2.9 s of CPU in 3 s).
    for name, listener_port, marker in (("admin HTTP", admin, "listener=admin HTTP"), ("gRPC", wgrpc, "listener=gRPC world")):
        for _ in range(50):
            s = socket.socket(); s.setblocking(False)
            s.connect_ex(("127.0.0.1", listener_port)); held.append(s)
        time.sleep(0.5)
        before = cpu_ticks(); time.sleep(2); used = cpu_ticks() - before
        print(f"cpu with {name} connections waiting: {used / hz:.2f} s in 2 s")
        assert used / hz < 0.5, f"{name} accept loop spins: {used / hz:.2f} s of CPU in 2 s"
        log.flush()
        assert marker in open(log.name).read(), f"the {name} listener never ran out of descriptors: the check proves nothing"
    for s in held: s.close()
    for _ in range(50):
        try:
            if served(2): break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        sys.exit("new clients are not served after connections closed")
    print("new clients served again once descriptors were free")
finally:
    proc.terminate()
    try: proc.wait(10)
    except subprocess.TimeoutExpired: proc.kill()
PY
pass "fd limit: accept pauses at EMFILE (client, admin HTTP and gRPC ports: no spinning core) and serves new clients once descriptors are free"
echo "e2e: all scenarios passed"
