# Shell helpers shared by the ci/ scripts; source it: . "$(dirname "$0")/lib.sh"

# pyenv's root, by the rule of pyfreeze_gen::pyenv::root: $PYENV_ROOT when set, else what
# `pyenv root` says, else ~/.pyenv.
pyenv_root() {
  if [ -n "${PYENV_ROOT:-}" ]; then echo "$PYENV_ROOT"; return; fi
  pyenv root 2>/dev/null || echo "$HOME/.pyenv"
}

# pyenv_python X.Y: prints pyenv's newest X.Y.N interpreter, by the rule of
# generators/pyfreeze-gen/src/pyenv.rs (which the Rust code uses): plain X.Y.N releases only,
# N compared as a number, the interpreter file must exist. When there is none, says so on
# stderr (with the fix) and fails.
pyenv_python() {
  local minor=$1 root dir n newest=-1 best=""
  root=$(pyenv_root)
  for dir in "$root"/versions/"$minor".*; do
    n=${dir##*/"$minor".}
    case $n in '' | *[!0-9]*) continue ;; esac
    [ -f "$dir/bin/python$minor" ] || continue
    # -ge: of 3.11.07 and 3.11.7 the later in the glob's order wins, as in pyenv.rs.
    if [ "$((10#$n))" -ge "$newest" ]; then
      newest=$((10#$n))
      best=$dir/bin/python$minor
    fi
  done
  if [ -z "$best" ]; then
    echo "error: no CPython $minor under $root/versions: run 'pyenv install $minor'" >&2
    return 1
  fi
  echo "$best"
}
