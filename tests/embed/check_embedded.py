"""Run inside an embedded interpreter (embed-c --run): imports every frozen module and checks
importlib behaviour. Prints one JSON object; the Rust test asserts on it."""

import sys

opened = []


def audit(event, args):
    if event == "open" and isinstance(args[0], str) and args[0].endswith((".py", ".pyc")):
        opened.append(args[0])


sys.addaudithook(audit)

import _pyfreeze  # noqa: E402
import json  # noqa: E402

SKIP = {"antigravity", "this"}  # side effects on import (a browser, a poem)
report = {"version": list(sys.version_info[:2]), "sys_path": sys.path, "imports": {}}
names = [n for n, flags, origin in _pyfreeze.modules()]
for name in names:
    if name in SKIP or name.endswith(".__main__") or name.split(".")[-1] == "__main__":
        continue
    try:
        __import__(name)
        module = sys.modules[name]
        loader = getattr(module, "__loader__", None)
        report["imports"][name] = {
            "loader": getattr(loader, "__name__", repr(loader)),
            "file": getattr(module, "__file__", None),
        }
    except BaseException as e:  # noqa: BLE001 - some modules are platform-specific
        report["imports"][name] = {"error": "%s: %s" % (type(e).__name__, e)}

# No module may come from a source or bytecode file, except this script (__main__, and its
# multiprocessing alias __mp_main__).
from importlib.machinery import SourceFileLoader, SourcelessFileLoader  # noqa: E402

report["from_disk"] = sorted(
    name
    for name, m in list(sys.modules.items())
    if isinstance(getattr(m, "__loader__", None), (SourceFileLoader, SourcelessFileLoader))
    and name not in ("__main__", "__mp_main__")
)
report["opened_py"] = list(opened)  # during the imports; later checks read real files

import importlib.resources  # noqa: E402
import importlib.util  # noqa: E402
import inspect  # noqa: E402
import pkgutil  # noqa: E402
import traceback  # noqa: E402

import mygame  # noqa: E402
import mygame.engine  # noqa: E402

checks = report["checks"] = {}
checks["json_file"] = json.__file__
checks["json_path"] = json.__path__
checks["json_spec_origin"] = importlib.util.find_spec("json").origin
checks["mygame_file"] = mygame.__file__
checks["engine_source_head"] = mygame.engine.__loader__.get_source("mygame.engine").splitlines()[0]
checks["getsource_dumps"] = inspect.getsource(json.dumps).splitlines()[0]
checks["getsource_explode"] = inspect.getsource(mygame.engine.World.explode).splitlines()[0].strip()
try:
    json.loads("{")
except ValueError:
    frames = traceback.extract_tb(sys.exc_info()[2])
    checks["traceback_frames"] = [[f.filename, f.line] for f in frames]
checks["levels"] = importlib.resources.files("mygame").joinpath("data/levels.txt").read_text(encoding="utf-8")
checks["mygame_data_dir"] = sorted(p.name for p in importlib.resources.files("mygame").iterdir())
checks["email_data"] = sorted(p.name for p in importlib.resources.files("email").iterdir() if p.is_file())
checks["get_data"] = pkgutil.get_data("mygame", "data/levels.txt").decode()
checks["iter_json"] = sorted(m.name for m in pkgutil.iter_modules(json.__path__))
checks["iter_mygame"] = sorted(m.name for m in pkgutil.iter_modules(mygame.__path__))
checks["walk_email_mime"] = sorted(m.name for m in pkgutil.walk_packages(__import__("email.mime").mime.__path__, "email.mime."))
print(json.dumps(report))
