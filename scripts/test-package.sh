#!/usr/bin/env bash
# The Debian package from `make package` installs with apt and works: CREATE EXTENSION pg_trickle, a signup and
# a login, on a cluster of its own.
#   scripts/test-package.sh PORT
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
port=${1:?port}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG:-15}/bin/pg_config}
psql=("$("$PG_CONFIG" --bindir)/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1)
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
say() { printf '==> %s\n' "$*"; }

deb=$(ls -t "$top"/target/postgresql-*-pg-trickle_*.deb | head -n 1)
say "installing $deb with apt"
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall "$deb" >/dev/null
package=$(dpkg-deb --field "$deb" Package)
dpkg -L "$package" | grep -q '/pg_trickle.so$' || { echo "FAILED: the package holds no library" >&2; exit 1; }
bash "$top/scripts/cluster.sh" start package "$port" shared_preload_libraries=pg_trickle
"${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS package_test" -c "CREATE DATABASE package_test"
status=$("${psql[@]}" -d package_test \
  -c "CREATE EXTENSION pg_trickle" \
  -c "SELECT auth.signup('ada@example.org', 'packaged-password')" >/dev/null \
  && "${psql[@]}" -d package_test -c "SELECT status FROM auth.login('ada@example.org', 'packaged-password')")
versions=$("${psql[@]}" -d package_test -c "SELECT count(*) FROM pg_available_extension_versions WHERE name = 'pg_trickle'")
bash "$top/scripts/cluster.sh" stop package
[ "$status" = "authenticated" ] || { echo "FAILED: login from the package said '$status'" >&2; exit 1; }
[ "$versions" -ge 2 ] || { echo "FAILED: the package lacks the earlier releases' scripts" >&2; exit 1; }
echo "package: 1 passed, 0 failed"
