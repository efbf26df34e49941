#!/usr/bin/env bash
# make bench: pg_trickle against baselines measured in the same run, on a cluster of its own
# (default durability settings). Reports ratios; targets are in the README's Benchmarks section.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG:-15}/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
port=${BENCH_PORT:-28817}
store_port=${BENCH_STORE_PORT:-28819}
standby_port=${BENCH_STANDBY_PORT:-28818}
equal_rounds=${BENCH_EQUAL_ROUNDS:-60}
duration=${BENCH_SECONDS:-10}
users=100
legacy_users=1000
conn=(-X -q -h 127.0.0.1 -p "$port" -U postgres)

say() { printf '==> %s\n' "$*"; }

say "installing the release build of pg_trickle; building the bench tools"
cargo pgrx install --release --pg-config "$PG_CONFIG" $([ "$(id -u)" -eq 0 ] || echo --sudo) >/dev/null
cargo build -q --release -p pg_trickle_e2e --bin argon2-baseline --bin legacy-store --bin migration-bench \
  --bin timing-classes --bin fresh-backend-bench --bin first-touch

users_file=$(mktemp /tmp/pg_trickle-bench-users.XXXXXX)
python3 - "$legacy_users" > "$users_file" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps([{"user_id": str(i), "email": f"migrate{i}@legacy.test", "password": f"legacy-password-{i}",
                   "given_name": "Bench", "user_metadata": {"i": i}} for i in range(1, n + 1)]))
PY
store_log=$(mktemp /tmp/pg_trickle-bench-store.XXXXXX)
target/release/legacy-store --users "$users_file" --port "$store_port" > "$store_log" 2>&1 &
store_pid=$!
bash scripts/cluster.sh start bench "$port" shared_preload_libraries=pg_trickle
cleanup() {
  kill "$store_pid" 2>/dev/null || true
  rm -f "$users_file" "$store_log"
  bash scripts/cluster.sh stop bench-standby
  bash scripts/cluster.sh stop bench
}
trap cleanup EXIT
for _ in $(seq 50); do grep -q listening "$store_log" && break; sleep 0.1; done

"$bindir/psql" "${conn[@]}" -d postgres -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS trickle_bench WITH (FORCE)" -c "CREATE DATABASE trickle_bench"
say "creating $users local users at the default argon2id parameters"
"$bindir/psql" "${conn[@]}" -d trickle_bench -v ON_ERROR_STOP=1 <<SQL
SET log_statement = 'none';
CREATE EXTENSION pg_trickle;
-- The wrong-password run must measure verification, not a locked account.
ALTER DATABASE trickle_bench SET pg_trickle.lockout_threshold = 0;
SELECT count(auth.signup('bench' || n || '@example.org', 'bench-password-1')) FROM generate_series(1, $users) AS n;
SQL
user_hash=$("$bindir/psql" "${conn[@]}" -d trickle_bench -Atc "SELECT password_hash FROM auth.users WHERE email = 'bench1@example.org'")

pgbench_run() { # script clients [seconds [port]] -> "tps latency_ms"
  "$bindir/pgbench" -h 127.0.0.1 -p "${4:-$port}" -U postgres -n -M prepared -T "${3:-$duration}" -c "$2" -j "$2" \
    -D password=bench-password-1 -D wrong_password=bench-password-2 \
    -D first_migrated=151 -D users=300 -D hash="$user_hash" \
    -f "bench/$1.sql" trickle_bench 2>/dev/null |
    awk '/^latency average/ {lat=$4} /^tps/ {tps=$3} END {print tps, lat}'
}

bare_verify_ms() {
  target/release/argon2-baseline --rounds 100 | sed -E 's/.*median_ms=([0-9.]+).*/\1/'
}
median() { python3 -c 'import statistics, sys; print(statistics.median(map(float, sys.argv[1:])))' "$@"; }
# alternating ROUNDS ARRAY=SCRIPT:CLIENTS ...: ROUNDS rounds of 3 s runs, one of each in turn, so that the machine's
# drift over a run (a few %) falls on every side alike; each ARRAY gets its runs' latencies (ms).
alternating() {
  local rounds=$1 spec lat
  shift
  for _ in $(seq "$rounds"); do
    for spec in "$@"; do
      declare -n samples="${spec%%=*}"
      spec=${spec#*=}
      read -r _ lat < <(pgbench_run "${spec%:*}" "${spec#*:}" 3)
      samples+=("$lat")
      unset -n samples
    done
  done
}

say "bare argon2id verify: the argon2 crate alone (release, outside PostgreSQL), before and after the login runs"
bare_before=$(bare_verify_ms)

say "auth.login, existing user, right password: 1 client, then 2 clients (${duration}s each)"
read -r tps1 lat1 < <(pgbench_run login_ok 1)
read -r tps2 lat2 < <(pgbench_run login_ok 2)
bare_after=$(bare_verify_ms)
bare_ms=$(median "$bare_before" "$bare_after")
echo "    crate alone: ${bare_before} ms before, ${bare_after} ms after"

# The hit target's baseline is the bare hash through the same door: auth.verify_legacy_hash of the user's hash,
# one per statement, same client, protocol and client count.
say "auth.login hit vs auth.verify_legacy_hash per statement: 1 and 2 clients, 6 alternating rounds of 3 s each"
hit1=() hit2=() verify1=() verify2=()
alternating 6 verify1=verify_argon2id:1 hit1=login_ok:1 verify2=verify_argon2id:2 hit2=login_ok:2
echo "    1 client: verify ${verify1[*]} ms, login ${hit1[*]} ms; 2 clients: verify ${verify2[*]} ms, login ${hit2[*]} ms"
sql_bare_ms=$(median "${verify1[@]}")
sql_bare2_ms=$(median "${verify2[@]}")
hit1_ms=$(median "${hit1[@]}")
hit2_ms=$(median "${hit2[@]}")
say "backend memory (RssAnon) fresh, after 1 login and after 1,000, with pg_trickle.keep_hash_memory on and off"
backend_memory() { # on|off -> "fresh one thousand ok_logins" (KiB, KiB, KiB, count)
  "$bindir/psql" "${conn[@]}" -d trickle_bench -v ON_ERROR_STOP=1 -v keep="$1" -v password=bench-password-1 \
    -f bench/backend_memory.sql | tail -n 1
}
read -r mem_on_fresh mem_on_one mem_on_thousand mem_on_ok < <(backend_memory on)
read -r mem_off_fresh mem_off_one mem_off_thousand mem_off_ok < <(backend_memory off)
[ "$mem_on_ok" = 999 ] && [ "$mem_off_ok" = 999 ] || { echo "the memory runs' logins failed" >&2; exit 1; }
say "auth.login with pg_trickle.keep_hash_memory = off: 1 client (${duration}s)"
"$bindir/psql" "${conn[@]}" -d postgres -c "ALTER DATABASE trickle_bench SET pg_trickle.keep_hash_memory = off" >/dev/null
read -r _ lat_give_back < <(pgbench_run login_ok 1)
"$bindir/psql" "${conn[@]}" -d postgres -c "ALTER DATABASE trickle_bench RESET pg_trickle.keep_hash_memory" >/dev/null

say "logins on a hot standby: the primary alone with 2 clients, then primary and standby with 1 client each"
bash scripts/cluster.sh standby bench-standby "$standby_port" "$port" shared_preload_libraries=pg_trickle
for _ in $(seq 100); do
  "$bindir/psql" "${conn[@]/$port/$standby_port}" -d trickle_bench -Atc "SELECT count(*) FROM auth.users" 2>/dev/null |
    grep -qx "$users" && break
  sleep 0.2
done
spread_primary=$(mktemp /tmp/pg_trickle-bench-spread.XXXXXX)
spread_standby=$(mktemp /tmp/pg_trickle-bench-spread.XXXXXX)
pgbench_run login_ok 1 "$duration" "$port" > "$spread_primary" &
primary_run=$!
pgbench_run login_ok 1 "$duration" "$standby_port" > "$spread_standby"
wait "$primary_run"
read -r ptps plat < "$spread_primary"
read -r stps slat < "$spread_standby"
rm -f "$spread_primary" "$spread_standby"
bash scripts/cluster.sh stop bench-standby

say "auth.login, wrong password vs unknown email: 1 client, 4 alternating rounds of 3 s each"
wrong=() unknown=()
alternating 4 wrong=login_wrong_password:1 unknown=login_unknown_email:1
echo "    wrong password: ${wrong[*]} ms; unknown email: ${unknown[*]} ms"
lat_wrong=$(median "${wrong[@]}")
lat_unknown=$(median "${unknown[@]}")

"$bindir/psql" "${conn[@]}" -d trickle_bench -v ON_ERROR_STOP=1 \
  -c "SELECT auth.configure_http_store('http://127.0.0.1:$store_port')" -c "SELECT auth.set_import_mode(true)" >/dev/null

say "trickle migration: the legacy store's own login round trip, then first logins through auth.login"
# migration_run FIRST LAST CLIENTS PREFIX: migrations of users FIRST..LAST, each next to a bare verification of the
# hash a migration makes; sets PREFIX_store, PREFIX_ms and PREFIX_bare.
migration_run() {
  local out
  out=$(target/release/migration-bench "$port" trickle_bench "http://127.0.0.1:$store_port" "$1" "$2" "$3" \
    "$user_hash" bench-password-1)
  echo "$out" | sed "s/^/    $3 client(s): /"
  printf -v "$4_store" '%s' "$(sed -n 's/^store_round_trip_ms=//p' <<<"$out")"
  printf -v "$4_ms" '%s' "$(sed -n 's/^migration_login_ms=//p' <<<"$out")"
  printf -v "$4_bare" '%s' "$(sed -n 's/^bare_verify_ms=//p' <<<"$out")"
}
migration_run 1 300 1 migration
migration_run 601 1000 2 migration2
say "first logins on fresh backends, 40 rounds: a hit, then a miss, each next to the same connection's second one"
# The peer a DBA would write: a users table and pgcrypto's crypt(), no pg_trickle; its first login on a fresh backend
# shows what PostgreSQL itself charges a new backend for a first query on a table and a first function call.
"$bindir/psql" "${conn[@]}" -d trickle_bench -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS pgcrypto;
DROP TABLE IF EXISTS public.peer_users;
CREATE TABLE public.peer_users (email text PRIMARY KEY, password_hash text NOT NULL);
INSERT INTO public.peer_users VALUES ('bench1@example.org', crypt('bench-password-1', gen_salt('bf', 4)));
SQL
fresh=$(target/release/fresh-backend-bench "$port" trickle_bench bench1@example.org bench-password-1 601 40)
echo "$fresh" | sed 's/^/    /'
fresh_hit=$(sed -n 's/^fresh_hit_ms=//p' <<<"$fresh"); warm_hit=$(sed -n 's/^warm_hit_ms=//p' <<<"$fresh")
fresh_miss=$(sed -n 's/^fresh_miss_ms=//p' <<<"$fresh"); warm_miss=$(sed -n 's/^warm_miss_ms=//p' <<<"$fresh")
fresh_hash=$(sed -n 's/^fresh_hash_ms=//p' <<<"$fresh"); warm_hash=$(sed -n 's/^warm_hash_ms=//p' <<<"$fresh")
fresh_peer=$(sed -n 's/^fresh_peer_ms=//p' <<<"$fresh"); warm_peer=$(sed -n 's/^warm_peer_ms=//p' <<<"$fresh")
say "the floor under a fresh backend's first hash: touching 19 MiB of new memory, small and huge pages, 20 rounds"
touched=$(target/release/first-touch 19 20)
echo "$touched" | sed 's/^/    /'
touch_small=$(sed -n 's/^first_touch_small_pages_ms=//p' <<<"$touched")
touch_huge=$(sed -n 's/^first_touch_huge_pages_ms=//p' <<<"$touched")
touch_rewrite=$(sed -n 's/^rewrite_touched_ms=//p' <<<"$touched")
say "refusals in import mode, $equal_rounds rounds: unknown email, local and legacy user (wrong password), locked email"
make_equal_db() { # database -> local users local1..N, lockout at 5 failures
  "$bindir/psql" "${conn[@]}" -d postgres -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
  "$bindir/psql" "${conn[@]}" -d "$1" -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET log_statement = 'none';
CREATE EXTENSION pg_trickle;
ALTER DATABASE $1 SET pg_trickle.lockout_threshold = 5;
SELECT count(auth.signup('local' || n || '@example.org', 'local-password')) FROM generate_series(1, $equal_rounds) AS n;
SQL
}
make_equal_db trickle_equal_http
"$bindir/psql" "${conn[@]}" -d trickle_equal_http -v ON_ERROR_STOP=1 \
  -c "SELECT auth.configure_http_store('http://127.0.0.1:$store_port')" -c "SELECT auth.set_import_mode(true)" >/dev/null
http_classes=$(target/release/timing-classes "$port" trickle_equal_http "$equal_rounds" 'migrate{}@legacy.test')
echo "    HTTP store: $(tr '\n' ' ' <<<"$http_classes")"
# The FDW store: a legacy database on the same cluster, bcrypt cost 10 hashes made by pgcrypto, read through
# postgres_fdw.
"$bindir/psql" "${conn[@]}" -d postgres -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS trickle_legacy WITH (FORCE)" -c "CREATE DATABASE trickle_legacy" >/dev/null
"$bindir/psql" "${conn[@]}" -d trickle_legacy -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE EXTENSION pgcrypto;
CREATE TABLE users (uid bigint PRIMARY KEY, mail text UNIQUE, pw text);
INSERT INTO users SELECT n, 'legacy' || n || '@legacy.test', crypt('legacy-password-' || n, gen_salt('bf', 10))
  FROM generate_series(1, $equal_rounds) AS n;
SQL
make_equal_db trickle_equal_fdw
"$bindir/psql" "${conn[@]}" -d trickle_equal_fdw -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE EXTENSION postgres_fdw;
CREATE SERVER legacy_server FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '127.0.0.1', port '$port', dbname 'trickle_legacy');
CREATE USER MAPPING FOR PUBLIC SERVER legacy_server OPTIONS (user 'postgres', password_required 'false');
CREATE SCHEMA legacy;
IMPORT FOREIGN SCHEMA public FROM SERVER legacy_server INTO legacy;
GRANT USAGE ON SCHEMA legacy TO trickle_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA legacy TO trickle_admin;
SELECT auth.configure_fdw_store('legacy.users',
  '{"email": "mail", "id": "uid", "password_hash": "pw", "hash_format": "bcrypt"}');
SELECT auth.set_import_mode(true);
SQL
fdw_classes=$(target/release/timing-classes "$port" trickle_equal_fdw "$equal_rounds" 'legacy{}@legacy.test' \
  "SELECT count(*) FROM legacy.users WHERE mail = 'nobody@nowhere.test'")
echo "    FDW store: $(tr '\n' ' ' <<<"$fdw_classes")"

say "auth.login of migrated users (local now): 1 client, then 2 clients (${duration}s each)"
read -r mtps1 _ < <(pgbench_run login_migrated 1)
read -r mtps2 _ < <(pgbench_run login_migrated 2)

say "auth.login again with synchronous_commit = off: the same work without waiting for the WAL flush"
"$bindir/psql" "${conn[@]}" -d postgres -c "ALTER DATABASE trickle_bench SET synchronous_commit = off"
read -r _ lat_async < <(pgbench_run login_ok 1)
migration_run 301 600 1 migration_async

bulk_rounds=3
say "bulk import of 50,000 users: auth.import_users against a plain INSERT ... SELECT of the same rows, $bulk_rounds rounds"
"$bindir/psql" "${conn[@]}" -d trickle_bench -v ON_ERROR_STOP=1 -q <<'SQL'
SET client_min_messages = warning;
-- One well-formed bcrypt hash for all (each is parsed and bounded at import, none verified).
CREATE TABLE public.legacy_bulk AS
SELECT n AS uid, 'Bulk.' || n || '@Legacy.example' AS mail,
       '$2b$10$KUmMY4tfPvSrWtI0qz0pHOrsiCtvpKnsrkJGKEVrf9nCGmlqBHFFu' AS pw, 'bcrypt' AS algo, 'User ' || n AS full_name,
       jsonb_build_object('n', n) AS prefs
  FROM generate_series(1, 50000) AS n;
-- A superuser's import reads its source as trickle_admin, never with superuser rights.
GRANT SELECT ON public.legacy_bulk TO trickle_admin;
-- A copy of auth.users, storage parameters included (LIKE does not copy them).
CREATE TABLE public.plain_users (LIKE auth.users INCLUDING ALL) WITH (fillfactor = 90);
SQL
plain_rounds=() import_rounds_ms=()
for ((round = 1; round <= bulk_rounds; round++)); do
  # Each round after the first starts from the rows of the one before deleted and vacuumed, in both tables alike.
  if [ "$round" -gt 1 ]; then
    "$bindir/psql" "${conn[@]}" -d trickle_bench -v ON_ERROR_STOP=1 -q \
      -c "DELETE FROM public.plain_users" -c "DELETE FROM auth.users WHERE email LIKE 'bulk.%@legacy.example'" \
      -c "VACUUM public.plain_users, auth.users" -c "CHECKPOINT"
  fi
  import_timing=$("$bindir/psql" "${conn[@]}" -d trickle_bench -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
\timing on
INSERT INTO public.plain_users (email, external_id, name, user_metadata, password_hash, password_format, source)
SELECT lower(mail), uid::text, full_name, prefs, pw, algo, 'imported' FROM public.legacy_bulk;
SELECT inserted + skipped AS imported_or_local, rejected FROM auth.import_users('public.legacy_bulk',
  '{"email": "mail", "email_case_insensitive": true, "id": "uid", "password_hash": "pw", "hash_format_column": "algo",
    "name": "full_name", "user_metadata": "prefs"}', progress_every => 100000);
SQL
  )
  plain_rounds+=("$(grep -o 'Time: [0-9.]*' <<<"$import_timing" | sed -n 1p | cut -d' ' -f2)")
  import_rounds_ms+=("$(grep -o 'Time: [0-9.]*' <<<"$import_timing" | sed -n 2p | cut -d' ' -f2)")
  # A rejected row costs less than an imported one: the figure counts only if no row was rejected (rows of users
  # the earlier steps made local are skipped, as an import skips anyone already migrated).
  if ! grep -qE '^ *50000 \| *0$' <<<"$import_timing"; then
    echo "bench: the bulk import rejected rows:" >&2
    echo "$import_timing" >&2
    exit 1
  fi
done
plain_ms=$(median "${plain_rounds[@]}")
import_ms=$(median "${import_rounds_ms[@]}")
echo "    plain_ms=${plain_rounds[*]} import_ms=${import_rounds_ms[*]}"

login_updates=10000
say "$login_updates login row updates after the import: auth.users (fillfactor 90), and the same rows packed full"
"$bindir/psql" "${conn[@]}" -d trickle_bench -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
  -c "CREATE TABLE public.packed_users (LIKE auth.users INCLUDING ALL)" \
  -c "INSERT INTO public.packed_users SELECT * FROM public.plain_users" >/dev/null
update_effect() { # table -> "hot_percent index_growth_kib": how many updates stayed on their page, index growth
  local query="SELECT pg_indexes_size('$1'), n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = '$1'::regclass"
  local size0 upd0 hot0 size1 upd1 hot1
  IFS='|' read -r size0 upd0 hot0 < <("$bindir/psql" "${conn[@]}" -d trickle_bench -At -c "$query")
  "$bindir/pgbench" -h 127.0.0.1 -p "$port" -U postgres -n -M simple -t "$login_updates" -c 1 -D table="$1" \
    -f bench/login_update.sql trickle_bench >/dev/null 2>&1
  IFS='|' read -r size1 upd1 hot1 < <("$bindir/psql" "${conn[@]}" -d trickle_bench -At -c "$query")
  echo "$(( (hot1 - hot0) * 100 / (upd1 - upd0) )) $(( (size1 - size0) / 1024 ))"
}
read -r hot_users growth_users < <(update_effect auth.users)
read -r hot_plain growth_plain < <(update_effect public.packed_users)

say "legacy hash verification: auth.verify_legacy_hash against each format's reference implementation"
# The reference libraries live in a venv of the bench's own: Debian 12's system pip refuses installs (PEP 668).
venv=target/bench-venv
if ! "$venv/bin/python" -c 'import passlib, bcrypt, argon2' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet passlib==1.7.4 bcrypt==4.0.1 argon2-cffi
fi
legacy_rows=$("$venv/bin/python" bench/legacy_hash_reference.py)
legacy_report=""
while IFS=$'\t' read -r name rounds ref_ms pw hash; do
  out=$("$bindir/psql" "${conn[@]}" -d trickle_bench -v ON_ERROR_STOP=1 -v rounds="$rounds" -v pw="$pw" \
    -v hash="$hash" -f bench/verify_legacy_hash.sql)
  if [ "$(tail -n 1 <<<"$out")" != "verified t $rounds" ]; then
    echo "auth.verify_legacy_hash did not accept the $name reference hash every time: $(tail -n 1 <<<"$out")" >&2
    exit 1
  fi
  total_ms=$(grep -o 'Time: [0-9.]*' <<<"$out" | cut -d' ' -f2)
  legacy_report+="$name"$'\t'"$(python3 -c "print($total_ms / $rounds)")"$'\t'"$ref_ms"$'\n'
done <<<"$legacy_rows"

legacy_file=$(mktemp /tmp/pg_trickle-bench-legacy.XXXXXX)
printf '%s' "$legacy_report" > "$legacy_file"
python3 bench/report.py bare="$sql_bare_ms" bare2="$sql_bare2_ms" hit1="$hit1_ms" hit2="$hit2_ms" crate_bare="$bare_ms" tps1="$tps1" lat1="$lat1" tps2="$tps2" lat2="$lat2" wrong="$lat_wrong" \
  unknown="$lat_unknown" lat_async="$lat_async" store_rt="$migration_store" migration="$migration_ms" migration_bare="$migration_bare" \
  store_rt2="$migration2_store" migration2="$migration2_ms" migration2_bare="$migration2_bare" mtps1="$mtps1" \
  mtps2="$mtps2" migration_async="$migration_async_ms" migration_async_bare="$migration_async_bare" fresh_hit="$fresh_hit" warm_hit="$warm_hit" \
  fresh_hash="$fresh_hash" warm_hash="$warm_hash" touch_small="$touch_small" touch_huge="$touch_huge" \
  touch_rewrite="$touch_rewrite" fresh_peer="$fresh_peer" warm_peer="$warm_peer" \
  fresh_miss="$fresh_miss" warm_miss="$warm_miss" ptps="$ptps" plat="$plat" stps="$stps" slat="$slat" \
  http_classes="$http_classes" fdw_classes="$fdw_classes" lat_give_back="$lat_give_back" \
  mem_on_fresh="$mem_on_fresh" mem_on_one="$mem_on_one" mem_on_thousand="$mem_on_thousand" \
  mem_off_fresh="$mem_off_fresh" mem_off_one="$mem_off_one" mem_off_thousand="$mem_off_thousand" plain_ms="$plain_ms" import_ms="$import_ms" hot_users="$hot_users" \
  growth_users="$growth_users" hot_plain="$hot_plain" growth_plain="$growth_plain" "$legacy_file"
rm -f "$legacy_file"
