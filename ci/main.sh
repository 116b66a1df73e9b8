#!/usr/bin/env bash
# The main job of the README: build pyfreeze, freeze the whole pure-Python stdlib of pyenv's
# CPython plus the example app into examples/embed-c, link it against the stock static
# libpython, and run it from an empty folder (once normally, once with an uncaught exception
# whose traceback shows source lines).
# Usage: ci/main.sh [3.10|3.11|3.12|3.13]   (default 3.11)
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
ci/check-machine.sh
version=${1:-3.11}
cargo build --release --quiet -p pyfreeze-cli
# The interpreter by the project's one pyenv rule (the Makefile's own default sorts names as text).
python=$(pyenv_python "$version")
make -C examples/embed-c -j"$(nproc)" PYTHON_VERSION="$version" PYTHON="$python"
bin=$PWD/examples/embed-c/build/$version/embed-c
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
cd "$empty"
echo "--- $bin (from the empty folder $empty)"
"$bin"
echo "--- $bin --crash (expected: exit status 1 and a traceback with source lines)"
if "$bin" --crash; then echo "error: --crash did not fail" >&2; exit 1; fi
