#!/usr/bin/env bash
# The test command of the README: formatting, lints and every test suite (unit, golden,
# CLI, and the embedded example built against pyenv's CPython 3.10-3.13).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/check-machine.sh
cargo fmt --all -- --check || { echo "error: run 'cargo fmt --all'" >&2; exit 1; }
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo build --release --quiet -p pyfreeze-cli
cargo test --workspace 2>&1 | tee target/test.log
