#!/usr/bin/env bash
# A throwaway MariaDB server for the end-to-end tests (a WordPress-style legacy database read through mysql_fdw).
#   scripts/mariadb.sh start PORT    (idempotent: a server already running there is kept)
#   scripts/mariadb.sh stop
#   scripts/mariadb.sh sql           (runs the SQL on standard input as MariaDB's root, over the socket)
# Data and socket live beside the PostgreSQL clusters (scripts/cluster.sh), outside the source tree. As root the
# server runs as `mysql` (mariadbd refuses root); root connects over the socket with no password.
set -euo pipefail

base=${PG_TRICKLE_CLUSTERS:-/var/tmp/pg_trickle-$(id -un)}
dir="$base/mariadb"
socket="$dir/mariadbd.sock"
cmd=${1:?usage: mariadb.sh start PORT | stop | sql}

say() { printf '==> %s\n' "$*"; }
is_root() { [ "$(id -u)" -eq 0 ]; }
as_server_user() { if is_root; then sudo -u mysql -- "$@"; else "$@"; fi; }
running() { [ -S "$socket" ] && mariadb --no-defaults -S "$socket" -u root -e 'SELECT 1' >/dev/null 2>&1; }

case "$cmd" in
  start)
    port=${2:?port}
    if running; then
      say "MariaDB already running (socket $socket)"
      exit 0
    fi
    mkdir -p "$base" "$dir"
    chmod 755 "$base"
    if is_root; then chown mysql: "$dir"; fi
    if [ ! -d "$dir/data/mysql" ]; then
      say "mariadb-install-db in $dir/data"
      as_server_user mariadb-install-db --no-defaults --datadir="$dir/data" --auth-root-authentication-method=normal \
        --skip-test-db >"$dir/install.log" 2>&1
    fi
    say "starting MariaDB on 127.0.0.1:$port (socket $socket)"
    as_server_user nohup mariadbd --no-defaults --datadir="$dir/data" --socket="$socket" --port="$port" \
      --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci >/dev/null 2>&1 &
    for _ in $(seq 1 60); do
      if running; then exit 0; fi
      sleep 0.5
    done
    echo "MariaDB did not start; see $dir/error.log" >&2
    tail -20 "$dir/error.log" >&2 || true
    exit 1
    ;;
  stop)
    if running; then
      say "stopping MariaDB"
      mariadb-admin --no-defaults -S "$socket" -u root shutdown
    fi
    ;;
  sql)
    mariadb --no-defaults -S "$socket" -u root --batch
    ;;
  *)
    echo "usage: mariadb.sh start PORT | stop | sql" >&2
    exit 2
    ;;
esac
