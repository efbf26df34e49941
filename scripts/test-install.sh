#!/usr/bin/env bash
# A running server with pg_trickle preloaded, and a session open on it, survive `make install`: the installed
# library becomes a new file (a new inode), the server keeps the one it loaded, nothing crashes, and the session
# goes on working until the server is restarted. Then the restart itself: lockouts (shared memory, saved by
# pg_trickle's background worker when the server stops) are still there afterwards. Last, postmaster death: a
# backend waiting on a legacy store that never answers exits at once, so the server can start again.
#   scripts/test-install.sh PORT
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
port=${1:?port}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG:-15}/bin/pg_config}
psql=("$("$PG_CONFIG" --bindir)/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1)
library="$("$PG_CONFIG" --pkglibdir)/pg_trickle.so"
say() { printf '==> %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; bash "$top/scripts/cluster.sh" stop installsafety >/dev/null; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

bash "$top/scripts/cluster.sh" start installsafety "$port" shared_preload_libraries=pg_trickle
dir=$(bash "$top/scripts/cluster.sh" dir installsafety)
"${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS install_safety" -c "CREATE DATABASE install_safety"
"${psql[@]}" -d install_safety -c "CREATE EXTENSION pg_trickle"

# A session that lives across the install: it uses the library before and after.
session_out=$(mktemp)
"${psql[@]}" -d install_safety \
  -c "SELECT 'before ' || auth.version()" -c "SELECT pg_sleep(8)" -c "SELECT 'after ' || auth.normalize_email(' Ada@Example.org ')" \
  > "$session_out" 2>&1 &
session=$!
sleep 1
postmaster=$(as_root head -n 1 "$dir/data/postmaster.pid")
mapped_before=$(as_root awk '/pg_trickle\.so/ {print $5; exit}' "/proc/$postmaster/maps")
[ -n "$mapped_before" ] || fail "the postmaster has not mapped pg_trickle.so"

log_offset=$(as_root stat -c %s "$dir/server.log")
say "installing pg_trickle while the server runs (scripts/install.sh, as make install does)"
bash "$top/scripts/install.sh" "$top/target/install-tree"
bash "$top/scripts/install.sh" --releases

installed=$(stat -c %i "$library")
[ "$installed" != "$mapped_before" ] || fail "the installed library is the file the server has mapped (written in place)"
wait "$session" || fail "the open session failed: $(cat "$session_out")"
grep -q "^before " "$session_out" && grep -q "^after ada@example.org$" "$session_out" || fail "the session did not go on: $(cat "$session_out")"
"${psql[@]}" -d install_safety -c "SELECT auth.version()" >/dev/null || fail "a new session cannot use pg_trickle"
# Only what this run logged: the log outlives earlier runs.
if as_root tail -c +"$((log_offset + 1))" "$dir/server.log" | grep -E "terminated by signal|was terminated|all server processes terminated"; then
  fail "a server process crashed (see $dir/server.log)"
fi
rm -f "$session_out"

say "a lock survives a clean restart"
"${psql[@]}" -d install_safety -c "ALTER DATABASE install_safety SET pg_trickle.lockout_threshold = 2" \
  -c "SELECT auth.signup('locked@example.org', 'the-right-password')" >/dev/null
for _ in 1 2; do "${psql[@]}" -d install_safety -c "SELECT status FROM auth.login('locked@example.org', 'wrong')" >/dev/null; done
bash "$top/scripts/cluster.sh" stop installsafety
bash "$top/scripts/cluster.sh" start installsafety "$port" shared_preload_libraries=pg_trickle
status=$("${psql[@]}" -d install_safety -c "SELECT status FROM auth.login('locked@example.org', 'the-right-password')")
[ "$status" = "locked" ] || fail "after a restart the locked account answered '$status'"

say "postmaster death: a backend waiting on a legacy store that never answers exits with its postmaster"
port_file=$(mktemp)
python3 - "$port_file" <<'PY' &
# A legacy store that accepts connections and never answers, for at most two minutes.
import socket, sys, time
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(8)
server.settimeout(1)
open(sys.argv[1], "w").write(str(server.getsockname()[1]))
held, deadline = [], time.time() + 120
while time.time() < deadline:
    try:
        held.append(server.accept()[0])
    except socket.timeout:
        pass
PY
silent_store=$!
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
"${psql[@]}" -d install_safety -c "SELECT auth.configure_http_store('http://127.0.0.1:$(cat "$port_file")', timeout_ms => 60000)" \
  -c "SELECT auth.set_import_mode(true)" >/dev/null
rm -f "$port_file"
"${psql[@]}" -d install_safety -c "SELECT auth.login('waiting@legacy.test', 'a-password')" >/dev/null 2>&1 &
waiting_client=$!
backend=""
for _ in $(seq 100); do
  backend=$("${psql[@]}" -d postgres -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%auth.login(''waiting@%' AND pid <> pg_backend_pid()")
  [ -n "$backend" ] && break
  sleep 0.1
done
[ -n "$backend" ] || fail "the login that waits on the legacy store never started"
sleep 0.5
postmaster=$(as_root head -n 1 "$dir/data/postmaster.pid")
as_root kill -9 "$postmaster"
for _ in $(seq 50); do as_root kill -0 "$backend" 2>/dev/null || break; sleep 0.1; done
if as_root kill -0 "$backend" 2>/dev/null; then
  as_root kill -9 "$backend"; kill "$silent_store" 2>/dev/null || true
  fail "the backend waiting on the legacy store outlived its postmaster by 5 s (its HTTP timeout is 60 s)"
fi
kill "$silent_store" 2>/dev/null || true
wait "$waiting_client" 2>/dev/null || true
# The server's other processes notice on their own latches within a moment; then the server starts again.
started=no
for _ in $(seq 10); do
  if bash "$top/scripts/cluster.sh" start installsafety "$port" shared_preload_libraries=pg_trickle >/dev/null 2>&1; then
    started=yes; break
  fi
  sleep 1
done
[ "$started" = yes ] || fail "the server did not start again after its postmaster was killed"
bash "$top/scripts/cluster.sh" stop installsafety
echo "install safety, restart and postmaster death: 3 passed, 0 failed"
