#!/usr/bin/env bash
# Installs pg_trickle's files without ever writing over an installed file in place.
#   scripts/install.sh TREE        every file of a `cargo pgrx package` tree, to the same path under /
#   scripts/install.sh --releases  the install scripts of earlier releases (sql/releases/) into the extension dir
#   scripts/install.sh --detach    gives the installed library a fresh inode, for a tool that then copies over it
#                                  (cargo pgrx test does)
# A running server maps pg_trickle.so (every backend, when it is preloaded): overwriting that file in place
# crashes them. Each file is written beside its destination and renamed over it: running servers keep the old
# file until they restart, and a reader never sees half a file.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG:-15}/bin/pg_config}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# install SOURCE DESTINATION MODE
put() {
  local tmp
  tmp="$(dirname "$2")/.$(basename "$2").new.$$"
  as_root install -D -m "$3" "$1" "$tmp"
  as_root mv -f "$tmp" "$2"
}

case "${1:?usage: install.sh TREE | --releases | --detach}" in
  --releases)
    extdir="$("$PG_CONFIG" --sharedir)/extension"
    for script in "$top"/sql/releases/pg_trickle--*.sql; do
      put "$script" "$extdir/$(basename "$script")" 644
    done
    ;;
  --detach)
    library="$("$PG_CONFIG" --pkglibdir)/pg_trickle.so"
    if [ -f "$library" ]; then put "$library" "$library" 755; fi
    ;;
  *)
    tree=$(cd "$1" && pwd)
    while IFS= read -r -d '' file; do
      relative=${file#"$tree"}
      mode=644
      case "$relative" in *.so) mode=755 ;; esac
      put "$file" "$relative" "$mode"
    done < <(find "$tree" -type f -print0)
    ;;
esac
