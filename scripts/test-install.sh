#!/usr/bin/env bash
# A running server with pg_trickle preloaded, and a session open on it, survive `make install`: the installed
# library becomes a new file (a new inode), the server keeps the one it loaded, nothing crashes, and the session
# goes on working until the server is restarted. Then the restart itself: lockouts (shared memory, saved by
# pg_trickle's background worker when the server stops) are still there afterwards.
#   scripts/test-install.sh PORT
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
port=${1:?port}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
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
bash "$top/scripts/cluster.sh" stop installsafety
echo "install safety and restart: 2 passed, 0 failed"
