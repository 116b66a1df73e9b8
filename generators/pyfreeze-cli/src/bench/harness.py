"""The in-process half of `pyfreeze bench`.

Runs inside every configuration's interpreter (a stock python, the embed-c program, a patched
CPython) as `__main__`, does one thing chosen by argv[1], and writes one JSON object to the
file named by argv[2] (after `--path DIR`, which puts DIR first on sys.path: the app's folder of
`pyfreeze bench --app`):

  check   LIST            import each module of LIST (one name a line), collecting failures
  plan    LIST OUT.tsv OUT.bin
                          import LIST in order; for every module the loop loads, write where it
                          came from, and the bytecode of the pure ones (for the floors)
  probe   LIST            RSS at start-up, then the import loop under an audit hook (files
                          opened, source compiled), then how every module was served
  import  LIST            the measured workload: time each import of LIST and the whole loop
  unmarshal PLAN.tsv PLAN.bin
                          floor: time marshal.loads of every planned module's bytecode
  exec    LIST PLAN.tsv PLAN.bin
                          floor: time only the execution of module bodies (see exec_floor)
  zip     SELECTION DATA OUT.zip
                          write a stored (uncompressed) zip of the selection's .pyc files
                          and package data
  count   LIST            import LIST and nothing else (no timing, no json: its result is
                          written by hand), for instruction counts (--instructions): a run
                          with LIST less a run with an empty list is the import loop's work

Until the measured part is over it uses only modules that every interpreter has loaded at
start-up (sys, builtins, marshal, time, _imp, _warnings, _frozen_importlib*, io's open), so the
loop imports exactly the same modules everywhere; json is imported afterwards.
"""

import sys


def _rss_kb():
    """VmRSS, RssAnon and RssFile of /proc/self/status, in kB (file-backed pages are the
    executable's and libraries' pages read so far: clean, shared, reclaimable)."""
    rss = {}
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                key = line.split(":")[0]
                if key in ("VmRSS", "RssAnon", "RssFile"):
                    rss[key] = int(line.split()[1])
    except OSError:  # not Linux
        pass
    return rss


RSS_AT_START = _rss_kb()
STARTUP = list(sys.modules)
STARTUP_OBJECTS = {id(m) for m in sys.modules.values()}

import _imp  # noqa: E402
import _warnings  # noqa: E402
import builtins  # noqa: E402
import marshal  # noqa: E402
import time  # noqa: E402

import _frozen_importlib  # noqa: E402
import _frozen_importlib_external  # noqa: E402

# Some stdlib modules warn when imported (deprecated modules); printing a warning reads source
# lines, which costs differently per importer. Ignore them all, through the C filter list so
# that the `warnings` module is not imported.
_warnings.filters.insert(0, ("ignore", None, Warning, None, 0))
if hasattr(_warnings, "_filters_mutated_lock_held"):  # 3.14+: under the filters' lock
    _warnings._acquire_lock()
    try:
        _warnings._filters_mutated_lock_held()
    finally:
        _warnings._release_lock()
else:
    _warnings._filters_mutated()

ns = time.perf_counter_ns

KINDS = {
    "BuiltinImporter": "builtin",
    "SourceFileLoader": "source",
    "SourcelessFileLoader": "sourceless",
    "ExtensionFileLoader": "extension",
    "zipimporter": "zip",
    "PyfreezeLoader": "pyfreeze",
    # pyfreeze's patched CPython: the loader of the extended table's modules.
    "FrozenExtLoader": "frozen-ext",
    "MemoryLoader": "memory",
    "_NamespaceLoader": "namespace",
    "NamespaceLoader": "namespace",
}


def kind_of(name, module):
    """How `module` (sys.modules[name]) was served, as one word."""
    spec = getattr(module, "__spec__", None)
    # Not __name__: _collections_abc and _pydecimal rename themselves.
    if (spec.name if spec is not None else getattr(module, "__name__", None)) != name:
        return "alias"  # e.g. os.path is posixpath, importlib._bootstrap is _frozen_importlib
    if id(module) in STARTUP_OBJECTS and name not in STARTUP:
        return "alias"  # loaded at start-up under another name
    loader = getattr(module, "__loader__", None)
    if loader is None and spec is not None:
        loader = spec.loader
    if loader is None:
        if spec is not None and spec.submodule_search_locations is not None:
            return "namespace"
        return "none"
    cls = loader if isinstance(loader, type) else type(loader)
    if cls.__name__ == "FrozenImporter":
        return "frozen"
    return KINDS.get(cls.__name__, "other:%s.%s" % (cls.__module__, cls.__name__))


def kinds():
    return {name: kind_of(name, m) for name, m in list(sys.modules.items()) if name not in ("__main__", "__mp_main__")}


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def write_result(result):
    import json

    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(result, f)


def import_loop(names):
    """The workload: import every name in order. Returns (total ns, ns per name)."""
    per = [0] * len(names)
    imp = __import__
    start = ns()
    for i, name in enumerate(names):
        t = ns()
        imp(name)
        per[i] = ns() - t
    return ns() - start, per


def new_modules():
    startup = set(STARTUP)
    return [n for n in sys.modules if n not in startup and n not in ("__main__", "__mp_main__")]


# -- bytecode of a module as PathFinder would read it --------------------------------------------

_MAGIC = _frozen_importlib_external.MAGIC_NUMBER


def read_code(origin):
    """The marshalled code object of the source file `origin`: from its warm .pyc in
    __pycache__ when that is valid for the source (the bytes PathFinder unmarshals), otherwise
    compiled here. Returns (bytes, "pyc" | "compiled")."""
    import posix

    st = posix.stat(origin)
    try:
        with open(_frozen_importlib_external.cache_from_source(origin), "rb") as f:
            data = f.read()
    except OSError:
        data = b""
    if len(data) > 16 and data[:4] == _MAGIC:
        flags = int.from_bytes(data[4:8], "little")
        if flags == 0:
            mtime = int.from_bytes(data[8:12], "little")
            size = int.from_bytes(data[12:16], "little")
            if mtime == int(st.st_mtime) & 0xFFFFFFFF and size == st.st_size & 0xFFFFFFFF:
                return data[16:], "pyc"
        elif flags & 0b1 and not flags & 0b10:  # hash-based, unchecked
            return data[16:], "pyc"
    with open(origin, "rb") as f:
        source = f.read()
    return marshal.dumps(compile(source, origin, "exec", dont_inherit=True)), "compiled"


def origin_of(module):
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None)
    if isinstance(origin, str) and origin.endswith(".py"):
        return origin
    filename = getattr(getattr(spec, "loader_state", None), "filename", None)
    if isinstance(filename, str) and filename.endswith(".py"):
        return filename  # CPython's own frozen stdlib modules (3.11+)
    return None


# -- modes ----------------------------------------------------------------------------------------


def mode_check(list_path):
    errors = {}
    for name in read_lines(list_path):
        try:
            __import__(name)
        except BaseException as e:  # noqa: BLE001 - platform-specific modules fail in many ways
            errors[name] = "%s: %s" % (type(e).__name__, e)
    return {"errors": errors}


def mode_plan(list_path, tsv_path, bin_path):
    """Imports the list in order and writes, for every module the loop loads (in the order they
    enter sys.modules), `name, entry index, kind, is_package, origin, offset, length`: the pure
    ones with the offset of their bytecode in OUT.bin, the others with an empty origin."""
    names = read_lines(list_path)
    seen = set(sys.modules)
    rows = []
    blob = bytearray()
    sources = {"pyc": 0, "compiled": 0}
    for i, name in enumerate(names):
        __import__(name)
        for new in [n for n in sys.modules if n not in seen]:
            seen.add(new)
            module = sys.modules[new]
            kind = kind_of(new, module)
            origin = origin_of(module) if kind in ("source", "frozen", "sourceless") else None
            is_pkg = int(getattr(module, "__path__", None) is not None)
            if origin is None:
                rows.append((new, i, kind, is_pkg, "", 0, 0))
                continue
            code, how = read_code(origin)
            sources[how] += 1
            rows.append((new, i, kind, is_pkg, origin, len(blob), len(code)))
            blob += code
    with open(tsv_path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write("\t".join(str(x) for x in row) + "\n")
    with open(bin_path, "wb") as f:
        f.write(blob)
    return {
        "modules": len(rows),
        "pure": sum(1 for r in rows if r[4]),
        "bytecode_bytes": len(blob),
        "bytecode_from": sources,
    }


def read_plan(tsv_path, bin_path):
    with open(bin_path, "rb") as f:
        blob = f.read()
    plan = []
    for line in read_lines(tsv_path):
        name, entry, kind, is_pkg, origin, offset, length = line.split("\t")
        offset, length = int(offset), int(length)
        plan.append((name, int(entry), kind, is_pkg == "1", origin, blob[offset : offset + length] if origin else None))
    return plan


def runtime_facts():
    facts = {
        "version": sys.version.split()[0],
        "version_info": list(sys.version_info[:2]),
        "executable": sys.executable,
        "path": list(sys.path),
        "flags": {"isolated": sys.flags.isolated, "no_site": sys.flags.no_site, "dont_write_bytecode": sys.flags.dont_write_bytecode},
        "xoptions": {str(k): str(v) for k, v in sys._xoptions.items()},
    }
    libs = set()
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) == 6 and "libpython" in parts[5]:
                    libs.add(parts[5].strip())
    except OSError:  # not Linux
        pass
    facts["libpython"] = sorted(libs)
    if hasattr(_imp, "_frozen_ext_modules"):  # pyfreeze's patched CPython
        facts["table"] = sorted(n for n, _flags, _origin in _imp._frozen_ext_modules())
    else:
        try:
            import _pyfreeze  # a stock libpython with pyfreeze_install()
        except ImportError:
            pass
        else:
            facts["table"] = sorted(n for n, _flags, _origin in _pyfreeze.modules())
    return facts


def mode_probe(list_path):
    startup_kinds = kinds()
    names = read_lines(list_path)
    opened, compiled = [], []

    def audit(event, args):
        if event == "open" and isinstance(args[0], str) and args[0].endswith((".py", ".pyc")):
            opened.append(args[0])
        elif event == "compile" and isinstance(args[1], str) and args[1].endswith(".py"):
            compiled.append(args[1])

    sys.addaudithook(audit)
    import_loop(names)
    result = {
        "rss_startup_kb": RSS_AT_START,
        "rss_imports_kb": _rss_kb(),
        "startup_kinds": startup_kinds,
        "kinds": kinds(),
        "new": new_modules(),
        "opened": sorted(set(opened)),
        "compiled": sorted(set(compiled)),
    }
    result.update(runtime_facts())
    return result


def mode_import(list_path):
    names = read_lines(list_path)
    total, per = import_loop(names)
    return {"total_ns": total, "entry_ns": per, "kinds": kinds(), "new": new_modules()}


def mode_unmarshal(tsv_path, bin_path):
    """Floor: only `marshal.loads`, of the bytecode of every pure module the import workload
    loads, already in memory, grouped by the list entry that loaded it. The code objects are
    kept alive, as an import keeps them."""
    plan = [p for p in read_plan(tsv_path, bin_path) if p[5] is not None]
    entries = max([p[1] for p in plan], default=-1) + 1
    groups = [[] for _ in range(entries)]
    for p in plan:
        groups[p[1]].append(p[5])
    loads = marshal.loads
    keep = []
    append = keep.append
    per = [0] * entries
    start = ns()
    for i, group in enumerate(groups):
        t = ns()
        for data in group:
            append(loads(data))
        per[i] = ns() - t
    total = ns() - start
    return {"total_ns": total, "entry_ns": per, "unmarshalled": len(keep), "bytes": sum(len(p[5]) for p in plan)}


def mode_exec(list_path, tsv_path, bin_path):
    """Floor: only the execution of module bodies, with code objects already in memory.

    Untimed set-up: unmarshal the bytecode of every pure module the import workload loads (the
    plan, made by a warm run of the stock interpreter), and put a finder in front of
    sys.meta_path that serves exactly those modules from memory. Then run the same import loop
    as the workload: every module body executes once, in a fresh module, in the order the real
    imports run them, with the parents and partly initialised modules the body expects. A clock
    runs only while a module body executes: it stops at every `import` statement inside a body
    (builtins.__import__ is wrapped) and restarts when the statement returns, so finding,
    specs, module creation, sys.modules bookkeeping and extension modules are not counted; a
    body that another body's import starts is counted on its own."""
    names = read_lines(list_path)
    plan = read_plan(tsv_path, bin_path)
    codes, table = {}, {}
    for name, _entry, _kind, is_pkg, origin, data in plan:
        if data is not None:
            codes[name] = marshal.loads(data)
            table[name] = (origin, is_pkg)
    ModuleSpec = _frozen_importlib.ModuleSpec
    spent = {}  # module name -> ns its body ran
    total = [0]
    stack = []
    clock = [None]  # start of the running stretch, or None while stopped

    def stop():
        started = clock[0]
        if started is None:
            return False
        elapsed = ns() - started
        spent[stack[-1]] += elapsed
        total[0] += elapsed
        clock[0] = None
        return True

    def start():
        clock[0] = ns()

    class MemoryLoader:
        @staticmethod
        def create_module(spec):
            return None

        @staticmethod
        def exec_module(module):
            name = module.__name__
            code = codes.pop(name)  # each body runs once
            was_running = stop()
            stack.append(name)
            spent[name] = 0
            start()
            try:
                exec(code, module.__dict__)
            finally:
                stop()
                stack.pop()
                if was_running:
                    start()

    class MemoryFinder:
        @staticmethod
        def find_spec(name, path=None, target=None):
            entry = table.get(name)
            if entry is None or name not in codes:
                return None
            origin, is_pkg = entry
            spec = ModuleSpec(name, MemoryLoader, origin=origin, is_package=is_pkg)
            spec.has_location = True
            if is_pkg:
                spec.submodule_search_locations = [origin.rpartition("/")[0]]
            return spec

    real_import = builtins.__import__
    statements = [0]

    def timed_import(name, globals=None, locals=None, fromlist=(), level=0):
        statements[0] += 1
        was_running = stop()
        try:
            return real_import(name, globals, locals, fromlist, level)
        finally:
            if was_running:
                start()

    sys.meta_path.insert(0, MemoryFinder)
    builtins.__import__ = timed_import
    per = [0] * len(names)
    try:
        for i, name in enumerate(names):
            before = total[0]
            real_import(name)
            per[i] = total[0] - before
    finally:
        builtins.__import__ = real_import
        sys.meta_path.remove(MemoryFinder)
    return {
        "total_ns": total[0],
        "entry_ns": per,
        "executed": len(spent),
        "not_executed": sorted(codes),
        "import_statements": statements[0],
        "kinds": kinds(),
        "new": new_modules(),
    }


def mode_zip(selection_path, data_path, zip_path):
    """A stored zip of the .pyc of every selected module (`name<TAB>kind<TAB>origin` lines), as
    a stdlib zip on sys.path holds it: `json/__init__.pyc`, `json/decoder.pyc`, no sources;
    and the package data files (`archive path<TAB>file` lines), e.g. lib2to3's grammar."""
    import zipfile

    how = {"pyc": 0, "compiled": 0}
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as z:
        for line in read_lines(selection_path):
            name, kind, origin = line.split("\t")
            if kind == "namespace":
                continue
            code, source = read_code(origin)
            how[source] += 1
            st = __import__("posix").stat(origin)
            header = _MAGIC + (0).to_bytes(4, "little")
            header += (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
            header += (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")
            arc = name.replace(".", "/") + ("/__init__.pyc" if kind == "package" else ".pyc")
            info = zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, header + code)
        data = read_lines(data_path)
        for line in data:
            arc, path = line.split("\t")
            with open(path, "rb") as f:
                z.writestr(zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0)), f.read())
    return {"bytecode_from": how, "data_files": len(data)}


def mode_count(list_path):
    names = read_lines(list_path)
    for name in names:
        __import__(name)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write('{"imported": %d}' % len(names))


MODES = {
    "check": mode_check,
    "plan": mode_plan,
    "probe": mode_probe,
    "import": mode_import,
    "unmarshal": mode_unmarshal,
    "exec": mode_exec,
    "zip": mode_zip,
    "count": mode_count,
}

if __name__ == "__main__":
    if sys.argv[1] == "--path":  # the app's folder (pyfreeze bench --app), first on sys.path
        sys.path.insert(0, sys.argv[2])
        del sys.argv[1:3]
    result = MODES[sys.argv[1]](*sys.argv[3:])
    if result is not None:
        write_result(result)
