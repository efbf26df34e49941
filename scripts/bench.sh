#!/usr/bin/env bash
# make bench: pg_trickle against baselines measured in the same run, on a cluster of its own
# (default durability settings). Reports ratios; targets are in the README's Benchmarks section.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
port=${BENCH_PORT:-28817}
duration=${BENCH_SECONDS:-10}
users=100
conn=(-X -q -h 127.0.0.1 -p "$port" -U postgres)

say() { printf '==> %s\n' "$*"; }

say "installing the release build of pg_trickle"
cargo pgrx install --release --pg-config "$PG_CONFIG" $([ "$(id -u)" -eq 0 ] || echo --sudo) >/dev/null
cargo build -q --release -p pg_trickle_e2e --bin argon2-baseline

bash scripts/cluster.sh start bench "$port"
trap 'bash scripts/cluster.sh stop bench' EXIT
"$bindir/psql" "${conn[@]}" -d postgres -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS trickle_bench WITH (FORCE)" -c "CREATE DATABASE trickle_bench"
say "creating $users users at the default argon2id parameters"
"$bindir/psql" "${conn[@]}" -d trickle_bench -v ON_ERROR_STOP=1 <<SQL
SET log_statement = 'none';
CREATE EXTENSION pg_trickle;
-- The wrong-password run must measure verification, not a locked account.
ALTER DATABASE trickle_bench SET pg_trickle.lockout_threshold = 0;
SELECT count(auth.signup('bench' || n || '@example.org', 'bench-password-1')) FROM generate_series(1, $users) AS n;
SHOW pg_trickle.argon2_memory_kib;
SQL

pgbench_run() { # script clients -> "tps latency_ms"
  "$bindir/pgbench" -h 127.0.0.1 -p "$port" -U postgres -n -M prepared -T "$duration" -c "$2" -j "$2" \
    -D password=bench-password-1 -D wrong_password=bench-password-2 -f "bench/$1.sql" trickle_bench 2>/dev/null |
    awk '/^latency average/ {lat=$4} /^tps/ {tps=$3} END {print tps, lat}'
}

say "bare argon2id verify (argon2 crate, release, outside PostgreSQL)"
baseline=$(target/release/argon2-baseline --rounds 100)
echo "    $baseline"
bare_ms=$(sed -E 's/.*median_ms=([0-9.]+).*/\1/' <<<"$baseline")

say "auth.login, existing user, right password: 1 client, then 2 clients (${duration}s each)"
read -r tps1 lat1 < <(pgbench_run login_ok 1)
read -r tps2 lat2 < <(pgbench_run login_ok 2)
say "auth.login, wrong password vs unknown email: 1 client (${duration}s each)"
read -r _ lat_wrong < <(pgbench_run login_wrong_password 1)
read -r _ lat_unknown < <(pgbench_run login_unknown_email 1)
say "auth.login again with synchronous_commit = off: the same work without waiting for the WAL flush"
"$bindir/psql" "${conn[@]}" -d postgres -c "ALTER DATABASE trickle_bench SET synchronous_commit = off"
read -r _ lat_async < <(pgbench_run login_ok 1)

python3 - "$bare_ms" "$tps1" "$lat1" "$tps2" "$lat2" "$lat_wrong" "$lat_unknown" "$lat_async" <<'PY'
import sys
bare, tps1, lat1, tps2, lat2, wrong, unknown, lat_async = map(float, sys.argv[1:])
rows = [
    ("bare argon2id verify (median)", f"{bare:.2f} ms", ""),
    ("auth.login latency, 1 client", f"{lat1:.2f} ms", f"ratio to bare verify {lat1/bare:.3f} (target <= 1.05)"),
    ("  same, synchronous_commit = off", f"{lat_async:.2f} ms", f"ratio to bare verify {lat_async/bare:.3f}"),
    ("auth.login throughput, 1 client", f"{tps1:.1f} /s", ""),
    ("auth.login throughput, 2 clients", f"{tps2:.1f} /s", f"scaling {tps2/tps1:.2f}x (target >= 1.8)"),
    ("wrong password latency", f"{wrong:.2f} ms", ""),
    ("unknown email latency", f"{unknown:.2f} ms", f"difference {abs(wrong-unknown)/wrong*100:.1f} % (target <= 5 %)"),
]
print()
print(f"{'measurement':36} {'value':>12}   comparison")
for name, value, note in rows:
    print(f"{name:36} {value:>12}   {note}")
PY
