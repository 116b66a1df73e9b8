"""`pyo3-embed --main [STATUS]` runs this as __main__ (Interpreter::run_module("calc"))."""

import sys

from calc import fib

print(f"calc as {__name__}: fib(10) = {fib(10)}, argv[1:] = {sys.argv[1:]}")
sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
