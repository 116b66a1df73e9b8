#!/usr/bin/env bash
# ci/regrtest.sh X.Y: CPython's whole test suite on the patched build and on the unpatched build
# of the same source, compared per test case (ci/regrtest-compare.py).
#
# Builds (or brings up to date) both with `pyfreeze cpython build` in the cache the tests use
# ($PYFREEZE_TEST_CACHE, default ~/.cache/pyfreeze; installs in CACHE/test-install/X.Y-patched
# and X.Y-plain, as tests/cpython.rs), runs `python -m test -j2` on each under `nice`, and
# prints the patched build's new failures, its failures by design (ci/regrtest-expected-X.Y.txt,
# one id and its reason a line) and both builds' environment failures. Exit status 1 on any
# failure that is neither in the unpatched build nor listed. Idempotent: a second run reuses
# the builds; the results of each run are kept in CACHE/regrtest/X.Y-{patched,plain}.{xml,log}.
#
# Environment: PYFREEZE (the pyfreeze binary; default: this checkout's, built with cargo),
# REGRTEST_JOBS (default 2), REGRTEST_TIMEOUT (per test file, seconds; default 1200),
# REGRTEST_ARGS (more `python -m test` arguments, e.g. a list of tests for a quick check),
# REGRTEST_REUSE_PLAIN=1 (compare with the unpatched build's last recorded results instead of
# running it again), REGRTEST_PLAIN_FAILURES=FILE (neither build nor run the unpatched build:
# FILE lists its failures, as a run writes them to CACHE/regrtest/X.Y-plain-failures.txt),
# REGRTEST_COMPARE_ONLY=1 (compare the last recorded runs again, e.g. after editing the list),
# REGRTEST_RERUN=0 (do not run the files with new failures a second time).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

minor=${1:?usage: ci/regrtest.sh X.Y}
case $minor in
  3.11) debian=() ;;
  # The source tests/cpython.rs builds (versions.rs: debian_pinned).
  3.13) debian=(--debian-version 3.13.15-1) ;;
  *) echo "error: no patch series for CPython $minor (cpython-patches/)" >&2; exit 2 ;;
esac
expected=$root/ci/regrtest-expected-$minor.txt
[ -f "$expected" ] || { echo "error: $expected is missing" >&2; exit 2; }

cache=${PYFREEZE_TEST_CACHE:-$HOME/.cache/pyfreeze}
jobs=${REGRTEST_JOBS:-2}
timeout=${REGRTEST_TIMEOUT:-1200}
if [ -z "${PYFREEZE:-}" ]; then
  cargo build --quiet -p pyfreeze-cli
  PYFREEZE=$root/target/debug/pyfreeze # the binary tests/cpython.rs builds with
fi
results=$cache/regrtest
mkdir -p "$results"

elapsed() { local s=$(($(date +%s) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

build() { # build FLAVOUR
  local prefix=$cache/test-install/$minor-$1 extra=()
  [ "$1" = plain ] && extra=(--plain)
  local t0
  t0=$(date +%s)
  # Compiled through ccache with its files in the cache, as tests/support's cpython_build.
  CCACHE_DIR=$cache/ccache nice -n 10 "$PYFREEZE" cpython build --ccache --version "$minor" \
    "${debian[@]}" --prefix "$prefix" --cache "$cache" -j "$jobs" "${extra[@]}" \
    2>"$results/$minor-$1.build.log" ||
    { tail -20 "$results/$minor-$1.build.log" >&2; exit 2; }
  echo "regrtest: $minor $1 build up to date ($(elapsed "$t0"))"
}

suite() { # suite FLAVOUR: runs the whole suite, leaves FLAVOUR.xml and FLAVOUR.log
  local python=$cache/test-install/$minor-$1/bin/python$minor t0 work status=0
  work=$(mktemp -d "$results/work-$1.XXXXXX")
  t0=$(date +%s)
  echo "regrtest: $minor $1: python -m test -j$jobs ... (log: $results/$minor-$1.log)"
  # -i '*VSOCK*': test_socket's VSOCK tests hang in VMs. SETUPTOOLS_USE_DISTUTILS: 3.11's
  # test_peg_generator with a setuptools installed. From an empty folder, so no file of this
  # checkout shadows a module. env --default-signal=INT: a background job inherits SIGINT
  # ignored, and the tests that send themselves SIGINT would fail in both builds.
  (cd "$work" && SETUPTOOLS_USE_DISTUTILS=stdlib nice -n 10 env --default-signal=INT \
    "$python" -m test -j"$jobs" \
    --timeout "$timeout" -i '*VSOCK*' -W --junit-xml "$results/$minor-$1.xml" \
    ${REGRTEST_ARGS:-} >"$results/$minor-$1.log" 2>&1) || status=$?
  rm -rf "$work"
  echo "regrtest: $minor $1: exit $status after $(elapsed "$t0")"
  echo "$(elapsed "$t0")" >"$results/$minor-$1.time"
}

t_all=$(date +%s)
plain_results=("$results/$minor-plain.xml" "$results/$minor-plain.log")
if [ -n "${REGRTEST_PLAIN_FAILURES:-}" ]; then
  plain_results=(--plain-failures "$(realpath "$REGRTEST_PLAIN_FAILURES")")
fi
if [ "${REGRTEST_COMPARE_ONLY:-}" = 1 ]; then
  echo "regrtest: $minor: comparing the recorded runs of $(date -r "$results/$minor-patched.xml" -u '+%F %T UTC')"
elif [ -n "${REGRTEST_PLAIN_FAILURES:-}" ]; then
  build patched
  suite patched
elif [ "${REGRTEST_REUSE_PLAIN:-}" = 1 ] && [ -f "$results/$minor-plain.xml" ]; then
  echo "regrtest: $minor plain: reusing the results of $(date -r "$results/$minor-plain.xml" -u '+%F %T UTC')"
  build patched
  suite patched
else
  build patched
  build plain
  suite patched
  suite plain
fi
echo "regrtest: $minor: done in $(elapsed "$t_all")"
compare() {
  "$cache/test-install/$minor-patched/bin/python$minor" -I "$root/ci/regrtest-compare.py" "$expected" \
    "$results/$minor-patched.xml" "$results/$minor-patched.log" "${plain_results[@]}" "$@"
}
status=0
compare >"$results/$minor-compare.txt" || status=$?
if [ $status = 1 ] && [ "${REGRTEST_RERUN:-1}" = 1 ] && [ -s "$results/$minor-patched-new-files.txt" ]; then
  # A test that fails once under load (signals, timing) is not a difference: the files with
  # new failures run again, alone, on the patched build.
  mapfile -t files <"$results/$minor-patched-new-files.txt"
  echo "regrtest: $minor patched: running ${files[*]} again"
  (cd "$(mktemp -d "$results/work-rerun.XXXXXX")" && SETUPTOOLS_USE_DISTUTILS=stdlib nice -n 10 \
    env --default-signal=INT "$cache/test-install/$minor-patched/bin/python$minor" -m test -j"$jobs" --timeout "$timeout" \
    -i '*VSOCK*' -W --junit-xml "$results/$minor-rerun.xml" "${files[@]}" \
    >"$results/$minor-rerun.log" 2>&1) || true
  rm -rf "$results"/work-rerun.*
  status=0
  compare --rerun "$results/$minor-rerun.xml" "$results/$minor-rerun.log" \
    >"$results/$minor-compare.txt" || status=$?
fi
cat "$results/$minor-compare.txt"
exit $status
