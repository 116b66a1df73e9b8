# Writes _sysconfigdata_*.py and pybuilddir.txt, as `python -m sysconfig --generate-posix-vars`
# does, but with the build's bootstrap interpreter: CPython generates that module only after
# linking python, too late for it to be frozen with the rest of the stdlib. Installed into a
# patched CPython tree as Tools/pyfreeze/sysconfigdata.py and run by Tools/pyfreeze/cpython.mk.
import runpy
import sys

sys.argv = ["sysconfig", "--generate-posix-vars"]
runpy.run_module("sysconfig", run_name="__main__", alter_sys=True)
