"""Imports every module of pyfreeze's extended table and checks importlib behaviour. Runs in
an embedded interpreter with the stock runtime (embed-c --run) or in a CPython patched by
pyfreeze, or with `--pack PACK` the modules of that pack file on sys.path. Prints one JSON
object; the Rust tests assert on it."""

import sys

opened = []


def audit(event, args):
    # (linecache opening this script to show a warning's source line does not count)
    if event == "open" and isinstance(args[0], str) and args[0].endswith((".py", ".pyc")) and args[0] != __file__:
        opened.append(args[0])


sys.addaudithook(audit)

import _imp  # noqa: E402
import json  # noqa: E402

if sys.argv[1:2] == ["--pack"]:  # the table is a pack file on sys.path (check_frozen.py --pack PACK)
    pack = sys.path_importer_cache[sys.argv[2]].pack  # the runtime's finder opened it at start-up
    table_modules = pack.modules
    read_source = pack.get_source
elif hasattr(_imp, "_frozen_ext_modules"):  # a CPython patched by pyfreeze
    table_modules = _imp._frozen_ext_modules
    read_source = _imp._frozen_ext_source
else:  # a stock libpython with pyfreeze_install()
    import _pyfreeze

    table_modules = _pyfreeze.modules
    read_source = _pyfreeze.get_source

SKIP = {"antigravity", "this"}  # side effects on import (a browser, a poem)
report = {"version": list(sys.version_info[:2]), "sys_path": sys.path, "imports": {}}
# CPython's own frozen modules (3.11+), which come before a pack on sys.path
report["cpython_frozen"] = sorted(_imp._frozen_module_names()) if hasattr(_imp, "_frozen_module_names") else []
names = [n for n, flags, origin in table_modules()]
loaders = {}


def get_filename(loader, name):
    """What pyclbr, pydoc and IDLE's class browser get: the origin, None for a namespace
    package (ImportError)."""
    if not hasattr(loader, "get_filename"):
        return "no get_filename"
    try:
        return loader.get_filename(name)
    except ImportError:
        return None


for name in names:
    if name in SKIP or name.endswith(".__main__") or name.split(".")[-1] == "__main__":
        continue
    try:
        __import__(name)
        module = sys.modules[name]
        loader = getattr(module, "__loader__", None)
        spec_name = getattr(module.__spec__, "name", name)
        loaders[name] = loader
        report["imports"][name] = {
            # A class (CPython's own frozen modules keep FrozenImporter) or an instance's class.
            "loader": loader.__name__ + " class" if isinstance(loader, type) else type(loader).__name__,
            "callable": callable(loader),
            "spec_loader": loader is getattr(module.__spec__, "loader", None),
            # As a SourceFileLoader's: the module's name and file (a namespace package's folder).
            "loader_name": getattr(loader, "name", None) == spec_name,
            "loader_path": getattr(loader, "path", None),
            "file": getattr(module, "__file__", None),
            # (3.13's collections puts _collections_abc in sys.modules as collections.abc)
            "filename": get_filename(loader, spec_name),
            "spec_name": spec_name,
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

checks = report["checks"] = {}
import importlib.abc  # noqa: E402

if sys.version_info >= (3, 11):
    import importlib.resources.abc  # noqa: E402

# Every loader is an importlib.abc.Loader and has InspectLoader's and ExecutionLoader's methods.
LOADER_METHODS = ("create_module", "exec_module", "get_code", "get_source", "is_package", "get_filename", "get_resource_reader")
checks["not_abc_loaders"] = sorted(n for n, loader in loaders.items() if not isinstance(loader, importlib.abc.Loader))
checks["loaders_lacking"] = sorted(n for n, loader in loaders.items() if not all(hasattr(loader, m) for m in LOADER_METHODS))
checks["email_reader"] = [
    type(json.__loader__.get_resource_reader("email")).__name__,
    isinstance(
        json.__loader__.get_resource_reader("email"),
        (importlib.resources.abc if sys.version_info >= (3, 11) else importlib.abc).TraversableResources,
    ),
]


def reload_check(name):
    """importlib.reload(): the same module object, run again, with a new loader like the old
    one; and with its __loader__ deleted first (CPython's test_reload_missing_loader)."""
    module = __import__(name, fromlist=["_"])
    old = module.__loader__
    module.reload_marker = 1
    again = importlib.reload(module)
    result = [again is module, again.__loader__ == old, again.__loader__ is again.__spec__.loader]
    del module.__loader__
    again = importlib.reload(module)
    result.append(getattr(again.__loader__, "path", None) == old.path)
    result.append(hasattr(again, "reload_marker"))  # reload keeps the module's namespace
    return result


def sources_unlike_files():
    """Every table module whose origin is a file on disk (the stdlib's) whose embedded source,
    as the table's accessor decodes it (compressed or not), is not that file's bytes; and how
    many were compared."""
    unlike, compared = [], 0
    for name, _flags, origin in table_modules():
        try:
            with open(origin, "rb") as f:
                on_disk = f.read()
        except OSError:  # a folder (namespace package), or an origin mapped away
            continue
        data = read_source(name)
        if data is None and isinstance(getattr(sys.modules.get(name), "__loader__", None), type):
            continue  # CPython's own frozen module wins the lookup (zipimport): not the table's
        compared += 1
        if data != on_disk:
            unlike.append(name)
    return [compared, unlike]


checks["sources_unlike_files"] = sources_unlike_files()
if read_source is getattr(sys.modules.get("_pyfreeze"), "get_source", None):  # the stock runtime's table: are sources compressed?
    checks["compressed_sources"] = bool(_pyfreeze.find("json.decoder")[0] & _pyfreeze.SOURCE_DEFLATE)
    # pyfreeze_install() before Py_Initialize(): its activation audit hook, once done, left
    # the runtime's list of hooks (and a Python-level hook, `audit` above, still sees events).
    checks["activation_hook"] = _pyfreeze.activation_hook()
    seen = []
    sys.addaudithook(lambda event, args: event == "pyfreeze.check" and seen.append(args))
    sys.audit("pyfreeze.check", 1)
    checks["python_hook_called"] = seen == [(1,)]


def tuples_left_tracked(code):
    """How many tuples of a code object's constants and names the garbage collector tracks
    although none of their items can be tracked (the collector untracks such a tuple the first
    time it sees it)."""
    import gc

    left = 0

    def tuple_(t):
        nonlocal left
        for item in t:
            if type(item) is tuple:
                tuple_(item)
            elif isinstance(item, type(code)):
                code_(item)
        if gc.is_tracked(t) and not any(gc.is_tracked(item) for item in t):
            left += 1

    def code_(c):
        tuple_(c.co_consts)
        tuple_(c.co_names)

    code_(code)
    return left


# The stock runtime's code comes from marshal, whose tuples are all tracked (3.10-3.15); the
# runtime untracks what the collector would. [left by the runtime, left by marshal.loads]
get_code = pack.get_code if sys.argv[1:2] == ["--pack"] else getattr(sys.modules.get("_pyfreeze"), "get_code", None)
if get_code is not None:
    import marshal

    served = [get_code(name) for name in ("argparse", "json.decoder", "email.message")]
    checks["tuples_left_tracked"] = [
        sum(map(tuples_left_tracked, served)),
        sum(tuples_left_tracked(marshal.loads(marshal.dumps(c))) for c in served),
    ]


def cached_unlike_importlib():
    """Table modules whose __cached__ or spec.cached is not what importlib computes from the
    origin (`_get_cached`, as for a source file); with `sys.pycache_prefix` set or no cache
    tag, a new spec's too (the fast path must give way to importlib there)."""
    external = sys.modules["_frozen_importlib_external"]
    missing = object()
    bad = []
    checked = 0
    for name in loaders:
        module = sys.modules.get(name)
        spec = getattr(module, "__spec__", None)
        if spec is None or not isinstance(spec.loader, type(loaders[name])) or spec.name != name:
            continue  # an alias (3.13's collections.abc) or a module that replaced itself
        checked += 1
        want = external._get_cached(spec.origin) if spec.has_location else missing
        got = [getattr(module, "__cached__", missing), spec.cached if spec.has_location else missing]
        if got != [want, want]:
            bad.append("%s: %r, spec %r, importlib %r" % (name, got[0], got[1], want))
    # A new spec: made with its cached value (the fast path), unless the prefix or the tag
    # asks for importlib's general computation, which then gives the value when asked.
    cases = ((None, None, None), (sys, "pycache_prefix", "/pyfreeze-cache-prefix"), (sys.implementation, "cache_tag", None))
    for owner, attr, value in cases:
        saved = getattr(owner, attr) if owner else None
        if owner:
            setattr(owner, attr, value)
        try:
            spec = importlib._bootstrap._find_spec("json.decoder", json.__path__)
            made_with = vars(spec).get("_cached")
            want = external._get_cached(spec.origin)
            if (
                spec.cached != want
                or made_with != (None if owner else want)
                or type(spec.loader) is not type(loaders["json.decoder"])
            ):
                bad.append("%s=%r: spec %r (made with %r), importlib %r" % (attr, value, spec.cached, made_with, want))
        finally:
            if owner:
                setattr(owner, attr, saved)
    return [checked, bad]


checks["cached_unlike_importlib"] = cached_unlike_importlib()
checks["reload"] = reload_check("json.decoder")
checks["json_file"] = json.__file__
checks["json_path"] = json.__path__
checks["json_spec_origin"] = importlib.util.find_spec("json").origin
checks["getsource_dumps"] = inspect.getsource(json.dumps).splitlines()[0]
checks["json_source_head"] = json.__loader__.get_source("json").splitlines()[0]
try:
    json.loads("{")
except ValueError:
    frames = traceback.extract_tb(sys.exc_info()[2])
    checks["traceback_frames"] = [[f.filename, f.line] for f in frames]


def failed_import_frames(name, error):
    """The traceback of an import that fails in the module's body, as its caller sees it."""
    sys.modules.pop(name, None)
    try:
        __import__(name)
    except error:
        return [[f.filename, f.line] for f in traceback.extract_tb(sys.exc_info()[2])]
    return None


import warnings  # noqa: E402

checks["import_error_frames"] = failed_import_frames("asyncio.windows_utils", ImportError)
with warnings.catch_warnings():
    warnings.simplefilter("error", DeprecationWarning)
    # A module whose body warns directly (sre_compile is gone in 3.15, profile warns there).
    deprecated = {10: "imp", 15: "profile"}.get(sys.version_info[1], "sre_compile")
    checks["import_warning_frames"] = failed_import_frames(deprecated, DeprecationWarning)


def import_nul_name(name):
    """__import__ of a table module's name with a NUL appended: the tables compare C strings."""
    try:
        __import__(name)
    except ModuleNotFoundError:
        result = "ModuleNotFoundError"
    except BaseException as e:  # noqa: BLE001
        result = "%s: %s" % (type(e).__name__, e)
    else:
        result = "imported"
    return [result, name in sys.modules]


checks["nul_names"] = {name: import_nul_name(name + "\0") for name in ("string", "json", "json.decoder")}
checks["email_data"] = sorted(p.name for p in importlib.resources.files("email").iterdir() if p.is_file())
checks["email_rst_head"] = importlib.resources.files("email").joinpath("architecture.rst").read_text().splitlines()[0]
checks["iter_json"] = sorted(m.name for m in pkgutil.iter_modules(json.__path__))
checks["walk_email_mime"] = sorted(m.name for m in pkgutil.walk_packages(__import__("email.mime").mime.__path__, "email.mime."))

try:
    import mygame  # the app of examples/embed-c
    import mygame.engine
except ImportError:
    pass
else:
    checks["mygame_file"] = mygame.__file__
    checks["engine_source_head"] = mygame.engine.__loader__.get_source("mygame.engine").splitlines()[0]
    checks["getsource_explode"] = inspect.getsource(mygame.engine.World.explode).splitlines()[0].strip()
    checks["levels"] = importlib.resources.files("mygame").joinpath("data/levels.txt").read_text(encoding="utf-8")
    checks["mygame_data_dir"] = sorted(p.name for p in importlib.resources.files("mygame").iterdir())
    checks["get_data"] = pkgutil.get_data("mygame", "data/levels.txt").decode()
    checks["iter_mygame"] = sorted(m.name for m in pkgutil.iter_modules(mygame.__path__))
    # A data folder without Python files imports as a module, as from files (a namespace
    # package there): [its files by resources, __file__, its folder's name, sorted by suffix].
    data = importlib.resources.files("mygame.data")
    module = sys.modules["mygame.data"]
    checks["mygame_data_module"] = [
        sorted(p.name for p in data.iterdir()),
        data.joinpath("levels.txt").read_text(encoding="utf-8") == checks["levels"],
        getattr(module, "__file__", None),
        [p.rpartition("/")[2] for p in module.__path__],
        [p.stem for p in sorted(data.iterdir()) if p.suffix == ".txt"],
    ]
print(json.dumps(report))
