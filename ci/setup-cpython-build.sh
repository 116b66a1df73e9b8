#!/usr/bin/env bash
# Installs, idempotently, what building CPython from Debian's source packages needs:
# Debian source packages enabled (ci/enable-deb-src.sh), the build dependencies, strace for
# the tests that check which files start-up touches, ccache for the test that a second
# checkout's build hits the compiler cache, python3-dev (the system's own CPython, which
# the stock-libpython tests also link) and valgrind (`pyfreeze bench --instructions` in
# tests/bench.rs). Needs root when something is missing.
# The -dev packages also carry the static archives (libssl.a, libffi.a, libsqlite3.a, libz.a,
# libbz2.a, liblzma.a, libuuid.a, libgdbm.a, libgdbm_compat.a, libncursesw.a, libcrypt.a)
# that `pyfreeze cpython build --static-extensions` links into the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(build-essential pkg-config libssl-dev libffi-dev zlib1g-dev libbz2-dev liblzma-dev
  libsqlite3-dev libreadline-dev libncurses-dev uuid-dev libgdbm-dev libgdbm-compat-dev
  libdb-dev libzstd-dev libcrypt-dev strace xz-utils ccache python3-dev valgrind)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "error: missing packages ${missing[*]}: run 'sudo $0'" >&2
    exit 1
  fi
  echo "installing ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
ci/enable-deb-src.sh
