#!/usr/bin/env bash
# CI, after `make test` as root: the test tiers again as an ordinary user with sudo, in a clone that user owns,
# with its own Rust toolchain, so the path a newcomer takes cannot regress unseen. Runs as root; the user is
# made here. Tiers 1 and 2 (tier 2 twice: it must be rerunnable) and a short tier-3 subset.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
user=${PG_TRICKLE_CI_USER:-trickle_dev}
home=/home/$user
say() { printf '==> %s\n' "$*"; }
[ "$(id -u)" -eq 0 ] || { echo "run this as root: it creates the user $user" >&2; exit 1; }

if ! id -u "$user" >/dev/null 2>&1; then
  say "creating the ordinary user $user (sudo without password, as a developer's own machine has it)"
  useradd --create-home --shell /bin/bash "$user"
fi
echo "$user ALL=(ALL) NOPASSWD:ALL" > "/etc/sudoers.d/$user"
chmod 440 "/etc/sudoers.d/$user"

say "giving $user a Rust toolchain of its own (this machine's, hard-linked where possible) and cargo-pgrx"
sysroot=$(rustc --print sysroot)
rm -rf "$home/toolchain"
cp -al "$sysroot" "$home/toolchain" 2>/dev/null || cp -a "$sysroot" "$home/toolchain"
mkdir -p "$home/.cargo/bin"
install -m 755 "$(command -v cargo-pgrx)" "$home/.cargo/bin/cargo-pgrx"
# The crates already downloaded, so the user's build fetches nothing twice.
if [ -d "${CARGO_HOME:-$HOME/.cargo}/registry" ] && [ ! -d "$home/.cargo/registry" ]; then
  cp -r "${CARGO_HOME:-$HOME/.cargo}/registry" "$home/.cargo/registry"
fi
chown -R "$user:" "$home/.cargo"

say "cloning the project for $user"
rm -rf "$home/pg_trickle"
git clone -q "$top" "$home/pg_trickle"
chown -R "$user:" "$home/pg_trickle"

as_user() {
  sudo -u "$user" -H env PATH="$home/toolchain/bin:$home/.cargo/bin:/usr/local/bin:/usr/bin:/bin" CI="${CI:-}" \
    bash -c "cd '$home/pg_trickle' && $*"
}
say "as $user: tiers 1 and 2, tier 2 again, and a tier-3 subset"
as_user make test-unit
as_user make test-pg
as_user make test-pg
as_user make test-e2e 'E2E_ARGS="--test local_auth --test security"'
say "the ordinary-user path passed"
