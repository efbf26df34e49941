#!/usr/bin/env bash
# `make package`: a Debian package of the release build, as production servers install extensions.
# Holds the library, the control file, this version's install script, the update scripts and the install scripts
# of earlier releases (so ALTER EXTENSION ... UPDATE works from every release); depends on the PostgreSQL major
# it was built for. dpkg renames each file into place, so installing it never crashes a running server.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG:-15}/bin/pg_config}
major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
version=$(sed -nE 's/^version = "([^"]+)"/\1/p' Cargo.toml | head -n 1)
arch=$(dpkg --print-architecture)
name="postgresql-$major-pg-trickle"
tree="target/package/$name"
deb="target/${name}_${version}_${arch}.deb"
say() { printf '==> %s\n' "$*"; }

say "building the release library and its SQL (cargo pgrx package)"
rm -rf "$tree"
cargo pgrx package --pg-config "$PG_CONFIG" --out-dir "$tree"
extdir="$tree$("$PG_CONFIG" --sharedir)/extension"
install -m 644 sql/releases/pg_trickle--*.sql "$extdir/"
mkdir -p "$tree/DEBIAN"
cat > "$tree/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: pg_trickle developers <pg-trickle@localhost>
Depends: postgresql-$major, libc6
Section: database
Priority: optional
Description: trickle migration of users from a legacy user store into PostgreSQL $major
 pg_trickle moves the users of a legacy user store into PostgreSQL without forcing password resets:
 logins that miss the local auth.users table ask the legacy store and migrate the user in the caller's
 transaction. Restart the server after upgrading when pg_trickle is in shared_preload_libraries.
CONTROL
say "building $deb"
dpkg-deb --build --root-owner-group "$tree" "$deb" >/dev/null
dpkg-deb --info "$deb" | sed -n '/Package:/,/Depends:/p'
echo "$deb"
