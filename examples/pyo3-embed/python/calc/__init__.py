"""A small calculator, frozen into the pyo3-embed binary and called from Rust with PyO3."""

import sys

from calc.stats import mean

__all__ = ["fib", "mean", "about"]


def fib(n):
    """The n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def about():
    """Where this Python came from: the host prints it."""
    return {
        "python": "%d.%d" % sys.version_info[:2],
        "file": __file__,
        "loader": getattr(__loader__, "__name__", type(__loader__).__name__),
        "sys_path": sys.path,
        "isolated": sys.flags.isolated,
        "utf8_mode": sys.flags.utf8_mode,
    }
