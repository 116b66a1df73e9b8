#!/usr/bin/env bash
# The test command of the README: formatting, lints and every test suite (unit, golden,
# CLI, the embedded example built against pyenv's CPython 3.10-3.13, CPython 3.11 and 3.13 built
# with pyfreeze's patch series from Debian's source packages), the embedded example on the
# system's CPython and on Debian sid's 3.13-3.15, then CPython's whole test suite on the
# patched 3.13.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/check-machine.sh
ci/setup-cpython-build.sh
cargo fmt --all -- --check || { echo "error: run 'cargo fmt --all'" >&2; exit 1; }
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo build --release --quiet -p pyfreeze-cli
# 3.13's selection of CPython's tests against the unpatched build is left to the whole suite
# below (ci/regrtest.sh 3.13 runs every one of those test files and compares per test case).
cargo test --workspace -- --skip v3_13::cpython_test_suite_has_no_failure_the_unpatched_build_lacks \
  2>&1 | tee target/test.log
# Stock-libpython mode (embed-c with pyfreeze.mk, a pyfreeze-build crate) on the system's own
# CPython (Debian's python3 with python3-dev) and, in a cached Debian sid root (ci/sid-root.sh),
# on sid's 3.13, 3.14 and 3.15 (cargo builds there in its own target folder, cached), with the
# emitter's golden cases of 3.14 and 3.15.
PYFREEZE_TEST_PYTHONS=$(readlink -f /usr/bin/python3) \
  cargo test -p pyfreeze-tests --test embed --test build_support -- --ignored 2>&1 | tee -a target/test.log
ci/in-sid.sh env PYFREEZE_TEST_PYTHONS=/usr/bin/python3.13:/usr/bin/python3.14:/usr/bin/python3.15 \
  cargo test -p pyfreeze-tests --test embed --test build_support --test golden -- --ignored 2>&1 |
  tee -a target/test.log
# CPython's whole test suite on the patched 3.13 (built by tests/cpython.rs), compared per test
# case with the unpatched build's failures recorded for this machine kind; ci/regrtest.sh 3.11
# (or 3.13 without the list) runs both builds' suites, ~20-25 minutes each version.
REGRTEST_PLAIN_FAILURES=ci/regrtest-plain-3.13.txt ci/regrtest.sh 3.13
