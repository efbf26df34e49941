#!/usr/bin/env bash
# The `make run` demo: a fresh database on the demo cluster, the extension, and a scripted psql session.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
port=${1:?port}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG:-15}/bin/pg_config}
psql="$("$PG_CONFIG" --bindir)/psql"
conn=(-X -h 127.0.0.1 -p "$port" -U postgres)

say() { printf '==> %s\n' "$*"; }

legacy_port=${LEGACY_PORT:-28818}
pidfile="$top/target/legacy-store-demo.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  say "demo legacy store already running on 127.0.0.1:$legacy_port"
else
  say "starting the demo legacy store (tests/e2e/src/bin/legacy_store.rs) on 127.0.0.1:$legacy_port"
  cargo build -q -p pg_trickle_e2e --bin legacy-store
  nohup "$top/target/debug/legacy-store" --users "$top/scripts/demo/legacy_users.json" --port "$legacy_port" \
    > "$top/target/legacy-store-demo.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 50); do grep -q listening "$top/target/legacy-store-demo.log" && break; sleep 0.1; done
fi

say "recreating databases trickle_demo and trickle_legacy (the old app's database, read through postgres_fdw)"
"$psql" "${conn[@]}" -d postgres -q -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS trickle_demo WITH (FORCE)" -c "CREATE DATABASE trickle_demo" \
  -c "DROP DATABASE IF EXISTS trickle_legacy WITH (FORCE)" -c "CREATE DATABASE trickle_legacy"
"$psql" "${conn[@]}" -d trickle_legacy -q -v ON_ERROR_STOP=1 \
  -v hamilton_hash="$(openssl passwd -6 -salt apollo11 'lunar module')" \
  -v johnson_hash="$(openssl passwd -6 -salt friendship7 'orbital mechanics')" \
  -v vaughan_hash="$(openssl passwd -6 -salt fortran66 'human computer')" \
  -f "$top/sql/demo/legacy_db.sql"

say "running the demo session (sql/demo/demo.sql)"
"$psql" "${conn[@]}" -d trickle_demo -v ON_ERROR_STOP=1 -v legacy_url="http://127.0.0.1:$legacy_port" \
  -v pg_port="$port" -e -f "$top/sql/demo/demo.sql"

if [ "$(id -u)" -eq 0 ]; then
  server_note="run as root, so the server itself runs as the 'postgres' user"
else
  server_note="the server runs as you, $(id -un)"
fi
cat <<TXT

==> the demo cluster is running. Connect with:
      psql -h 127.0.0.1 -p $port -U postgres trickle_demo
    ($server_note; data in $(bash "$top/scripts/cluster.sh" dir run))
    The demo legacy store listens on http://127.0.0.1:$legacy_port (users in scripts/demo/legacy_users.json).
    Stop both with: make stop
TXT
