#!/usr/bin/env bash
# Runs a command inside the sid root of ci/sid-root.sh (made first when missing), in a private
# mount namespace: the checkout, ~/.cargo and ~/.rustup appear at their own paths, so binaries
# built outside (pyfreeze, test binaries: bookworm's C library is older than sid's) run inside,
# and cargo works there. The command starts in the current folder. Needs root. What cargo
# links inside needs sid's C library, newer than the host's, so cargo builds inside go to their
# own target folder, one per checkout (cargo names a workspace's artifacts the same in every
# checkout, and a build script bakes in its checkout's path): CARGO_TARGET_DIR is
# $PYFREEZE_SID_CACHE/target-<checkout hash> (default ~/.cache/pyfreeze/sid-cache, kept between
# runs, bind-mounted too), and PYFREEZE_TEST_TARGET_DIR (tests/build_support.rs) its
# build-support-tests folder. The checkout's target/ stays the host's.
#
#   ci/in-sid.sh python3.14 -c 'import sys; print(sys.version)'
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
checkout=$(cd "$(dirname "$0")/.." && pwd -P)
root=$("$checkout/ci/sid-root.sh")
cwd=$(pwd -P)
case $cwd/ in "$checkout"/*) ;; *) cwd=$checkout ;; esac
# A folder for what is built inside (a cargo target folder), kept between runs.
cache=${PYFREEZE_SID_CACHE:-$HOME/.cache/pyfreeze/sid-cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd -P)
target=$cache/target-$(printf '%s' "$checkout" | sha256sum | cut -c1-12)
binds=("$checkout" "$cache")
for d in "${CARGO_HOME:-$HOME/.cargo}" "${RUSTUP_HOME:-$HOME/.rustup}"; do
  [ -d "$d" ] && binds+=("$(cd "$d" && pwd -P)")
done
# Mounts happen in the new namespace only; they vanish with the command.
export target
exec unshare --mount --propagation private --fork -- bash -euc '
  root=$1 cwd=$2; shift 2
  n=$1; shift; binds=("${@:1:$n}"); shift "$n"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  for b in "${binds[@]}"; do
    mkdir -p "$root$b"
    mount --bind "$b" "$root$b"
  done
  path=$PATH
  exec chroot "$root" /usr/bin/env HOME="$HOME" PATH="$path:/usr/local/bin:/usr/bin:/bin" \
    CARGO_TARGET_DIR="$target" PYFREEZE_TEST_TARGET_DIR="$target/build-support-tests" \
    bash -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
' in-sid "$root" "$cwd" "${#binds[@]}" "${binds[@]}" "$@"
