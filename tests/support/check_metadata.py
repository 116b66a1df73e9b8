"""importlib.metadata over real PyPI distributions (attrs, pyflakes): run frozen (embed-c
--run, the packages' files out of reach) and from files (SITE as the first argument, put on
sys.path). Prints one JSON object; tests/metadata.rs compares the two runs."""

import json
import sys

if len(sys.argv) > 1:
    sys.path.insert(0, sys.argv[1])

import importlib.metadata as md  # noqa: E402

NAMES = ("attrs", "pyflakes")
report = {}
import attr  # noqa: E402

# attrs reads its own version through importlib.metadata.
report["attr_version"] = attr.__version__
report["version"] = {n: md.version(n) for n in NAMES}
report["metadata_name"] = {n: md.metadata(n)["Name"] for n in NAMES}
report["summary"] = md.metadata("pyflakes")["Summary"]
report["requires"] = {n: md.requires(n) for n in NAMES}
# (Compiled files and the console script are not frozen: 3.12+ leave out files that do not
# exist, so they are not compared.)
report["files"] = {
    n: sorted(str(p) for p in md.files(n) if "__pycache__" not in p.parts and p.parts[0] != "bin")
    for n in NAMES
}
report["distributions"] = sorted(d.metadata["Name"] for d in md.distributions())
packages = md.packages_distributions()
report["packages_distributions"] = {k: sorted(v) for k, v in sorted(packages.items()) if k in ("attr", "attrs", "pyflakes")}
scripts = md.entry_points(group="console_scripts")
report["console_scripts"] = sorted(ep.name for ep in scripts)
try:
    md.version("no-such-distribution")
except md.PackageNotFoundError:
    report["missing"] = "PackageNotFoundError"

# pyflakes' console script, loaded through its entry point and run on a file.
main = scripts["pyflakes"].load()
report["entry_point_target"] = "%s.%s" % (main.__module__, main.__qualname__)
with open(sys.argv[0] + ".sample.py", "w") as f:
    f.write("import os\n")
import contextlib  # noqa: E402
import io  # noqa: E402

out = io.StringIO()
try:
    with contextlib.redirect_stdout(out):
        main(args=[f.name])
except SystemExit as e:
    report["pyflakes_exit"] = e.code
report["pyflakes_said"] = out.getvalue().replace(f.name, "SAMPLE")

# Where the distributions and their files are (frozen: the origins, as __file__).
dist = md.distribution("attrs")
report["dist_class"] = type(dist).__name__
init = [p for p in md.files("attrs") if str(p) == "attr/__init__.py"][0]
report["init_located"] = str(init.locate())
report["init_exists"] = init.locate().exists()
report["init_head"] = init.read_text(encoding="utf-8").splitlines()[0]
report["metadata_file_head"] = [p for p in md.files("pyflakes") if p.name == "METADATA"][0].read_text().splitlines()[0]
report["attr_file"] = attr.__file__
report["loader"] = type(sys.modules[main.__module__].__loader__).__name__
print(json.dumps(report))
