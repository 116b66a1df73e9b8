"""Run inside an embedding program with a pack of tests/embed.rs's `packapp` (origins under
/packs/app, nowhere on disk): added from C (`front`), or as a `sys.path` entry (`path PACK`).
Prints one JSON object of what importlib, inspect, traceback, importlib.resources, pkgutil
and importlib.metadata see; tests/embed.rs compares it with what the files give."""
import json
import sys

if sys.argv[1] == "path":
    sys.path.insert(0, sys.argv[2])

import importlib.metadata
import importlib.resources
import inspect
import linecache
import pkgutil
import traceback

import packapp
import packapp.sub
import packns.mod

try:
    packapp.boom()
except ValueError as e:
    tb = traceback.format_exception(e)

report = {
    "loader": type(packapp.__loader__).__name__,
    "file": packapp.__file__,
    "path": packapp.__path__,
    "spec_origin": packapp.__spec__.origin,
    "has_location": packapp.__spec__.has_location,
    "hello": packapp.hello(),
    "sub": packapp.sub.X,
    "sub_file": packapp.sub.__file__,
    "getsource": inspect.getsource(packapp.sub),
    "get_source": packapp.__loader__.get_source("packapp"),
    "linecache": linecache.getline(packapp.sub.__file__, 1),
    "traceback": "".join(tb),
    "levels": importlib.resources.files("packapp").joinpath("data/levels.txt").read_text(),
    "get_data": packapp.__loader__.get_data("/packs/app/packapp/data/levels.txt").decode(),
    "iter_packapp": sorted(m.name for m in pkgutil.iter_modules(packapp.__path__)),
    "namespace_path": list(packns.__path__),
    "namespace_mod": packns.mod.Y,
    "version": importlib.metadata.version("packapp"),
    "dist_files": sorted(str(f) for f in importlib.metadata.files("packapp")),
}
if sys.argv[1] == "path":
    report["iter_top"] = sorted(m.name for m in pkgutil.iter_modules([sys.argv[2]]))
    report["finder"] = type(sys.path_importer_cache[sys.argv[2]]).__name__
print(json.dumps(report))
