#!/usr/bin/env bash
# The `make run` demo: a fresh database on the demo cluster, the extension, and a scripted psql session.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
port=${1:?port}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
psql="$("$PG_CONFIG" --bindir)/psql"
conn=(-X -h 127.0.0.1 -p "$port" -U postgres)

say() { printf '==> %s\n' "$*"; }

say "recreating database trickle_demo"
"$psql" "${conn[@]}" -d postgres -q -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS trickle_demo WITH (FORCE)" -c "CREATE DATABASE trickle_demo"

say "running the demo session (sql/demo/demo.sql)"
"$psql" "${conn[@]}" -d trickle_demo -v ON_ERROR_STOP=1 -e -f "$top/sql/demo/demo.sql"

cat <<TXT

==> the demo cluster is running. Connect with:
      psql -h 127.0.0.1 -p $port -U postgres trickle_demo
    (as root: the server itself runs as the 'postgres' user; data in $(bash "$top/scripts/cluster.sh" dir run))
    Stop it with: make stop
TXT
