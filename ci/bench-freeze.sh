#!/usr/bin/env bash
# Measures the generator's speed, on a copy of the target stdlib:
#   1. `pyfreeze freeze --stdlib` end to end, against `python -m compileall -j2 -f` over the
#      very files pyfreeze selects (both compile with the same interpreter, 2 processes);
#   2. gcc compiling the emitted C on 2 cores (-O2, as build-support/pyfreeze.mk does).
# Usage: ci/bench-freeze.sh [3.11|3.13|...] [runs]     Prints medians in seconds.
set -euo pipefail
minor=${1:-3.11}
runs=${2:-5}
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/ci/lib.sh"
python=$(pyenv_python "$minor")
cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p pyfreeze-cli
pyfreeze=$repo/target/release/pyfreeze
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stdlib=$("$python" -I -c "import sysconfig; print(sysconfig.get_paths()['stdlib'])")
cp -r "$stdlib" "$work/stdlib"
"$pyfreeze" list --stdlib --python "$python" --no-runtime | cut -f3 | sed "s|^$stdlib|$work/stdlib|" | grep '\.py$' > "$work/files.txt"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
time_cmd() { local s; s=$(now); "$@" >/dev/null 2>&1; echo "$(now) - $s" | bc; }

for _ in $(seq "$runs"); do
  rm -rf "$work/out"
  time_cmd "$pyfreeze" freeze -q --python "$python" --stdlib --stdlib-dir "$work/stdlib" --no-runtime -j2 \
      --out "$work/out" >> "$work/freeze.t"
  time_cmd "$python" -m compileall -q -f -j2 -i "$work/files.txt" >> "$work/compileall.t"
done
modules=$(ls "$work/out/modules" | wc -l)
for _ in $(seq "$runs"); do
  time_cmd sh -c "cd '$work/out' && ls modules/*.c resources/*.c pyfreeze_table.c pyfreeze_stock.c | xargs -P2 -n1 sh -c 'gcc -O2 -c -o /dev/null \"\$0\"'" >> "$work/gcc.t"
done
f=$(median < "$work/freeze.t"); c=$(median < "$work/compileall.t"); g=$(median < "$work/gcc.t")
echo "CPython $("$python" -c 'import platform; print(platform.python_version())'), $modules modules, median of $runs runs on $(nproc) cores"
echo "pyfreeze freeze (stdlib, -j2):       $f s"
echo "python -m compileall -j2 -f (same):  $c s"
echo "ratio:                               $(echo "scale=2; $f / $c" | bc)"
echo "gcc -O2 on the emitted C (2 jobs):   $g s"
