#!/usr/bin/env bash
# Throwaway PostgreSQL clusters owned by this project (never the system's).
#   scripts/cluster.sh start NAME PORT [extra postgres -c options...]
#   scripts/cluster.sh standby NAME PORT PRIMARY_PORT [options...]
#                                      (a streaming hot standby of the cluster on PRIMARY_PORT, made anew)
#   scripts/cluster.sh stop NAME
#   scripts/cluster.sh dir NAME        (prints the cluster directory)
# Clusters live outside the source tree (a `cargo clean` must not wipe a running cluster's data), one directory per
# user, major and name: $PG_TRICKLE_CLUSTERS (default /var/tmp/pg_trickle-USER)/pgMAJOR-NAME. As root the server
# runs as `postgres`, which owns the cluster's directory.
set -euo pipefail

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG:-15}/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
cmd=${1:?usage: cluster.sh start|stop|dir NAME [PORT]}
name=${2:?cluster name}
base=${PG_TRICKLE_CLUSTERS:-/var/tmp/pg_trickle-$(id -un)}
cluster_dir="$base/pg$major-$name"

say() { printf '==> %s\n' "$*"; }
is_root() { [ "$(id -u)" -eq 0 ]; }
as_server_user() { if is_root; then sudo -u postgres -- "$@"; else "$@"; fi; }

make_dir() {
  mkdir -p "$cluster_dir"
  chmod 755 "$base"
  if is_root; then chown postgres: "$cluster_dir"; fi
  echo "$cluster_dir"
}

case "$cmd" in
  start)
    port=${3:?port}
    shift 3
    extra=()
    for opt in "$@"; do extra+=(-c "$opt"); done
    dir=$(make_dir)
    opts="-p $port -k $dir/socket -c listen_addresses=127.0.0.1"
    for o in "${extra[@]}"; do opts+=" $o"; done
    # A preloaded library is inherited by every backend: a server started before the last install
    # would go on running the old pg_trickle. The installed library's identity joins the options.
    library="$("$PG_CONFIG" --pkglibdir)/pg_trickle.so"
    # Its content, not its date: every install writes a new file, a rebuild of the same code the same bytes.
    library_id=$(sha256sum "$library" 2>/dev/null | cut -d' ' -f1 || echo no-library)
    if as_server_user "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      if [ "$(cat "$dir/options" 2>/dev/null)" = "$opts" ] && [ "$(cat "$dir/library" 2>/dev/null)" = "$library_id" ]; then
        say "cluster '$name' already running in $dir"
        exit 0
      fi
      if [ "$(cat "$dir/options" 2>/dev/null)" != "$opts" ]; then
        say "cluster '$name' runs with other options: restarting it"
      else
        say "cluster '$name' runs a pg_trickle library that has since been replaced: restarting it"
      fi
      as_server_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      say "initdb cluster '$name' in $dir/data"
      as_server_user "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
        --no-instructions >/dev/null
    fi
    as_server_user mkdir -p "$dir/socket"
    say "starting cluster '$name' on 127.0.0.1:$port (socket directory $dir/socket)"
    as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" start >/dev/null
    echo "$opts" > "$dir/options"
    echo "$library_id" > "$dir/library"
    ;;
  stop)
    [ -d "$cluster_dir/data" ] || { say "cluster '$name' was never started"; exit 0; }
    dir=$cluster_dir
    if as_server_user "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      say "stopping cluster '$name'"
      as_server_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    else
      say "cluster '$name' is not running"
    fi
    ;;
  standby)
    port=${3:?port}
    primary_port=${4:?primary port}
    shift 4
    bash "$0" stop "$name" >/dev/null
    dir=$(make_dir)
    as_server_user rm -rf "$dir/data"
    say "pg_basebackup of 127.0.0.1:$primary_port into $dir/data (a streaming standby)"
    as_server_user "$bindir/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/data" -R -X stream \
      -c fast >/dev/null
    exec bash "$0" start "$name" "$port" "$@"
    ;;
  dir)
    echo "$cluster_dir"
    ;;
  *)
    echo "usage: cluster.sh start|standby|stop|dir NAME [PORT]" >&2
    exit 2
    ;;
esac
