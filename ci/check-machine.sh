#!/usr/bin/env bash
# Checks what the build and tests need from the machine, and says how to get what is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
missing=0
for tool in cargo gcc make pyenv; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: '$tool' is not installed" >&2
    missing=1
  fi
done
if command -v pyenv >/dev/null; then
  for minor in 3.10 3.11 3.12 3.13; do
    if ! py=$(pyenv_python "$minor"); then
      missing=1
    elif ! ls "$(dirname "$py")"/../lib/python"$minor"/config-"$minor"*/libpython"$minor".a >/dev/null 2>&1; then
      echo "error: $py has no static libpython$minor.a (rebuild it with pyenv; it is built by default)" >&2
      missing=1
    fi
  done
fi
# bindgen, run by build-support/pyfreeze-build (examples/game-embed, tests/build_support.rs),
# loads libclang. A fresh machine lacks it: install it when this runs in CI or as root.
has_libclang() {
  compgen -G '/usr/lib/llvm-*/lib/libclang.so*' >/dev/null ||
    ldconfig -p 2>/dev/null | grep -Eq 'libclang(-[0-9.]+)?\.so'
}
if ! has_libclang && { [ "${CI:-}" = true ] || [ "$(id -u)" = 0 ]; } && command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  echo "check-machine: installing libclang-dev (bindgen needs libclang)" >&2
  $sudo apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libclang-dev >/dev/null ||
    echo "check-machine: apt-get could not install libclang-dev" >&2
fi
if ! has_libclang; then
  echo "error: libclang is not installed: run 'apt-get install libclang-dev' (bindgen needs it)" >&2
  missing=1
fi
exit "$missing"
