#!/usr/bin/env bash
# Checks what the build and tests need from the machine, and says how to get what is missing.
set -euo pipefail
missing=0
for tool in cargo gcc make pyenv; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: '$tool' is not installed" >&2
    missing=1
  fi
done
if command -v pyenv >/dev/null; then
  for minor in 3.10 3.11 3.12 3.13; do
    py=$(ls -d "$(pyenv root)"/versions/"$minor".*/bin/python"$minor" 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$py" ]; then
      echo "error: no CPython $minor under $(pyenv root)/versions: run 'pyenv install $minor'" >&2
      missing=1
    elif ! ls "$(dirname "$py")"/../lib/python"$minor"/config-"$minor"*/libpython"$minor".a >/dev/null 2>&1; then
      echo "error: $py has no static libpython$minor.a (rebuild it with pyenv; it is built by default)" >&2
      missing=1
    fi
  done
fi
exit "$missing"
