#!/usr/bin/env bash
# Makes (once, then reuses) a Debian sid root with the CPython versions bookworm does not have:
# sid's python3.13, python3.14 and python3.15 with their -dev packages (headers and a static
# libpythonX.Y.a), a C compiler, make and libclang (for pyfreeze-build's bindgen). ci/in-sid.sh runs commands in it with the checkout and
# the Rust toolchain at their own paths. Prints the root's path. Needs root (mmdebstrap, chroot).
#
#   ci/sid-root.sh            make or reuse $PYFREEZE_SID_ROOT (default ~/.cache/pyfreeze/sid-root)
#   ci/sid-root.sh --rebuild  make it again (new packages from sid)
#
# The archive comes from the system's own Debian entry (same URIs and keyring). Sid's Release
# file can read as expired where a snapshot serves it, so apt does not check its date.
set -euo pipefail

root=${PYFREEZE_SID_ROOT:-$HOME/.cache/pyfreeze/sid-root}
packages=(python3.13-dev python3.14-dev python3.15-dev gcc make libc6-dev libclang-dev mount)
# What the root was made with; a different list (or this script's format) makes it again.
want="pyfreeze sid root 1: ${packages[*]}"

if [ "${1:-}" != --rebuild ] && [ -f "$root/.pyfreeze-sid-root" ] &&
  [ "$(cat "$root/.pyfreeze-sid-root")" = "$want" ]; then
  echo "$root"
  exit 0
fi
case ${1:-} in --rebuild | '') ;; *) echo "usage: $0 [--rebuild]" >&2; exit 2 ;; esac

if [ "$(id -u)" != 0 ]; then
  echo "error: making the sid root ($root) needs root (mmdebstrap and chroot): run 'sudo $0'" >&2
  exit 1
fi
system=/etc/apt/sources.list.d/debian.sources
uri=$(awk '/^URIs:/ {print $2; exit}' "$system" 2>/dev/null || true)
keyring=$(awk '/^Signed-By:/ {print $2; exit}' "$system" 2>/dev/null || true)
if [ -z "$uri" ]; then
  echo "error: no Debian archive found in $system; the sid root is made from the system's own entry" >&2
  exit 1
fi
if ! command -v mmdebstrap >/dev/null; then
  echo "installing mmdebstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null ||
    { echo "error: cannot install mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }
fi

mkdir -p "$(dirname "$root")"
tmp=$root.new
log=$root.log
rm -rf "$tmp"
echo "making the sid root in $root (${packages[*]}; log: $log)" >&2
start=$(date +%s)
keyring_opt=()
[ -n "$keyring" ] && keyring_opt=(--keyring="$keyring")
include=$(IFS=,; echo "${packages[*]}")
if ! mmdebstrap --variant=apt --quiet "${keyring_opt[@]}" \
  --aptopt='Acquire::Check-Valid-Until "false"' --include="$include" \
  sid "$tmp" "deb $uri sid main" >"$log" 2>&1; then
  rm -rf "$tmp"
  echo "error: mmdebstrap could not make the sid root (network or archive?); the end of $log:" >&2
  tail -15 "$log" >&2
  exit 1
fi
for v in 3.13 3.14 3.15; do
  [ -f "$tmp/usr/lib/x86_64-linux-gnu/libpython$v.a" ] || [ -n "$(ls "$tmp"/usr/lib/python$v/config-*/libpython$v.a 2>/dev/null)" ] || {
    echo "error: sid's python$v-dev has no static libpython$v.a; pyfreeze's stock mode needs one" >&2
    exit 1
  }
done
echo "$want" >"$tmp/.pyfreeze-sid-root"
rm -rf "$root"
mv "$tmp" "$root"
echo "made the sid root in $(($(date +%s) - start)) s ($(du -sh "$root" | cut -f1))" >&2
echo "$root"
