"""Which copy of each distribution of tests/site_packages.rs imports, and what
importlib.metadata says of it: run frozen (embed-c --run) or from files, with the folders
given as arguments put first on sys.path (as PYTHONPATH would; embed-c's isolated
configuration reads no environment). Prints one JSON object."""

import importlib
import json
import sys

# FOLDER... [--then FOLDER...]: the folders after --then go on sys.path only once
# everything is imported, to see what importlib.metadata says of the modules already loaded.
args = sys.argv[1:]
later = args[args.index("--then") + 1:] if "--then" in args else []
for folder in reversed(args[: len(args) - len(later) - bool(later)]):
    sys.path.insert(0, folder)

import importlib.metadata as md  # noqa: E402


def where(module):
    return {
        "version": getattr(module, "__version__", None),
        "file": module.__file__,
        "loader": type(module.__loader__).__name__,
    }


report = {"modules": {}, "versions": {}}
# Top-level modules, then submodules, which must follow their package.
for name in ("attr", "attr.validators", "pyflakes", "pytest_cov", "markupsafe", "packaging", "packaging.version"):
    try:
        module = importlib.import_module(name)
    except ImportError as e:
        report["modules"][name] = {"error": type(e).__name__}
        continue
    report["modules"][name] = where(module)
    if name == "packaging.version":
        # A class of the submodule, from the copy that imported.
        report["packaging_parse"] = str(module.parse("1.0.post1"))
for dist in ("attrs", "pyflakes", "pytest-cov", "MarkupSafe", "packaging"):
    try:
        report["versions"][dist] = md.version(dist)
    except md.PackageNotFoundError:
        report["versions"][dist] = None
report["distribution_class"] = {
    dist: type(md.distribution(dist)).__name__ for dist in ("attrs", "packaging")
}
report["distributions"] = sorted({d.metadata["Name"] for d in md.distributions()})
if later:
    for folder in reversed(later):
        sys.path.insert(0, folder)
    report["versions_then"] = {dist: md.version(dist) for dist in ("attrs", "packaging")}
    report["packaging_then"] = where(importlib.import_module("packaging"))
# pytest-cov.pth was never run (it is not frozen, and nothing runs .pth files here).
report["pth_ran"] = "pytest_cov.embed" in sys.modules
print(json.dumps(report))
