"""Runs a package's own test suite in this interpreter, as `python -m RUNNER ARGS...` would,
then reports where the package's modules came from. tests/frozen_python.rs runs it with the
frozen python (the package's files gone) and with the plain interpreter (the files on
PYTHONPATH), and compares the runs.

Usage: run_suite.py REPORT PACKAGE RUNNER [ARGS...]

REPORT gets one JSON object: for every module of PACKAGE in sys.modules once PACKAGE is
imported (before the run) or at the end, its loader's class name, whether the loader is
callable, the loader's get_filename() and the module's __file__. The exit status is the
runner's.
"""

import json
import os
import runpy
import sys

report_path, package, runner = sys.argv[1:4]


def filename(loader, name):
    try:
        return loader.get_filename(name)
    except (AttributeError, ImportError) as e:
        return "%s: %s" % (type(e).__name__, e)


def package_modules():
    """Where each module of the package in sys.modules came from."""
    modules = {}
    for name, module in sorted(sys.modules.items()):
        if name != package and not name.startswith(package + "."):
            continue
        loader = getattr(module, "__loader__", None)
        modules[name] = {
            "loader": type(loader).__name__,
            "callable": callable(loader),
            "filename": filename(loader, name),
            "file": getattr(module, "__file__", None),
        }
    return modules


# As `python -m RUNNER`: argv[0] is the runner, the current folder is first on sys.path.
sys.argv = [runner] + sys.argv[4:]
sys.path[0] = os.getcwd()
# Before the run: the package as its import makes it (a suite may drop modules from
# sys.modules, as emoji's does); after the run, every module the tests imported too.
__import__(package)
modules = package_modules()
try:
    runpy.run_module(runner, run_name="__main__", alter_sys=True)
    status = 0
except SystemExit as e:
    status = e.code
modules.update(package_modules())
with open(report_path, "w") as f:
    json.dump({"modules": modules}, f)
sys.exit(status)
