#!/usr/bin/env bash
# The identity providers the end-to-end tier migrates users from, installed from their registries (idempotent):
#   - django-oauth-toolkit (an OAuth 2.0 / OpenID Connect server) and moto (Amazon Cognito) in a venv of their own
#     (Debian 12's system pip refuses installs);
#   - firebase-tools (Google's Firebase Authentication emulator) from npm; it needs Node.js 20 or later.
# Prints the directory they live in: $PG_TRICKLE_PROVIDERS, default ~/.cache/pg_trickle/providers (shared by clones).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${PG_TRICKLE_PROVIDERS:-$HOME/.cache/pg_trickle/providers}
firebase_tools=15.37.0
say() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
mkdir -p "$dir"

requirements="$top/tests/providers/requirements.txt"
stamp="$dir/venv/.requirements"
if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
  say "providers: installing $(grep -vc '^#' "$requirements") Python packages into $dir/venv"
  rm -rf "$dir/venv"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "providers: installing nodejs and npm"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "providers: firebase-tools $firebase_tools needs Node.js 20 or later; this machine has $(node --version)" >&2
  exit 1
fi
if [ "$(cat "$dir/npm/.version" 2>/dev/null)" != "$firebase_tools" ]; then
  say "providers: installing firebase-tools $firebase_tools into $dir/npm (about a minute)"
  rm -rf "$dir/npm"
  mkdir -p "$dir/npm"
  npm install --silent --no-audit --no-fund --prefix "$dir/npm" "firebase-tools@$firebase_tools" >&2
  echo "$firebase_tools" > "$dir/npm/.version"
fi
echo "$dir"
