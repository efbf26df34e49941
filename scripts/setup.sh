#!/usr/bin/env bash
# Idempotent setup for a fresh Debian 12 machine: installs what is missing, prints what it does.
# Safe to run as root (CI) or as a user with sudo.
set -euo pipefail

PGRX_VERSION=0.18.1
# The major comes from the Makefile (make test PG=16); 15 when run alone.
PG_MAJOR=${PG:-15}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}

say() { printf '==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# mariadb-server and mysql_fdw: the end-to-end tier reads a WordPress database on a real MariaDB through them.
packages=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR clang libclang-dev sudo pkg-config python3
  python3-venv openssl mariadb-server postgresql-$PG_MAJOR-mysql-fdw)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "apt: all packages present"
fi

# Debian's postgresql-common may start a system cluster on port 5432; we never use it, but leave it alone.

export PATH="$HOME/.cargo/bin:$PATH"
if cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
  say "cargo-pgrx $PGRX_VERSION present"
else
  say "cargo: installing cargo-pgrx $PGRX_VERSION (about 6 minutes on 2 cores)"
  cargo install --locked cargo-pgrx --version "$PGRX_VERSION"
fi

PGRX_HOME="${PGRX_HOME:-$HOME/.pgrx}"
if [ -f "$PGRX_HOME/config.toml" ] && grep -q "pg$PG_MAJOR" "$PGRX_HOME/config.toml"; then
  say "pgrx already initialised for pg$PG_MAJOR"
else
  say "cargo pgrx init --pg$PG_MAJOR $PG_CONFIG"
  cargo pgrx init --pg$PG_MAJOR "$PG_CONFIG"
fi
