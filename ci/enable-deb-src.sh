#!/usr/bin/env bash
# Makes Debian's source packages reachable, idempotently: adds a deb-src entry built from the
# system's own Debian entry (same URIs and keyring), for bookworm (CPython 3.11) and trixie and
# sid (CPython 3.13), then refreshes the package lists. Needs root.
set -euo pipefail
target=/etc/apt/sources.list.d/pyfreeze-deb-src.sources
system=/etc/apt/sources.list.d/debian.sources
if [ ! -r "$system" ]; then
  echo "error: $system not found; add a 'Types: deb-src' entry for bookworm, trixie and sid by hand" >&2
  exit 1
fi
# The first stanza of the system file is the main archive.
uri=$(awk '/^URIs:/ {print $2; exit}' "$system")
keyring=$(awk '/^Signed-By:/ {print $2; exit}' "$system")
want="Types: deb-src
URIs: $uri
Suites: bookworm trixie sid
Components: main
Signed-By: $keyring"
if [ -f "$target" ] && [ "$(cat "$target")" = "$want" ] && apt-cache showsrc python3.11 >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "error: enabling Debian source packages needs root: run 'sudo $0'" >&2
  exit 1
fi
printf '%s\n' "$want" > "$target"
apt-get update -q >/dev/null
echo "enabled Debian source packages ($target)"
