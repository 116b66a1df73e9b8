# pyfreeze compile worker. Runs under the *target* interpreter (3.10+), never the host's, and
# also under a CPython build's `_bootstrap_python`, so it imports as little as possible.
#
#   python -S -s -B worker.py probe          -> one JSON object on stdout, then exit
#   python -S -s -B worker.py compile OPT    -> serve compile batches on stdin/stdout
#
# Batch protocol (all integers big-endian u32):
#   request  = len, count, count * (len origin-utf8, len source-bytes, scan u8)
#   response = len, count, count * (status u8, len payload, len imports)
#   status 0: payload = marshal.dumps(code); 1: SyntaxError, 2: other error, payload = "line\ncol\nmessage"
#   imports (only when scan is 1, else empty): one line per absolute import,
#   "line\tguarded\tmodule\tname,name", see scan_imports()
# The source is compiled from bytes, so PEP 263 cookies and BOMs are honoured exactly as the
# import system does; co_filename is the origin the Rust side chose (its prefix map applied).
import sys


def extension_modules():
    # Top-level extension modules on sys.path (lib-dynload): they stay on disk, importable.
    import os

    try:
        import importlib.machinery

        suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    except Exception:
        return []
    names = set()
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            for suffix in suffixes:
                if entry.endswith(suffix):
                    names.add(entry[: -len(suffix)])
    return sorted(names)


def frozen_ext_modules():
    # A pyfreeze-patched CPython: the modules of the extended frozen table in its libpython,
    # whether or not this run serves them (a debug build, PYTHON_FROZEN_MODULES=off and
    # -X frozen_ext=off turn the table off; the tests' override turns it on for the call).
    import _imp

    table = getattr(_imp, "_frozen_ext_modules", None)
    if table is None:
        return []
    override = getattr(_imp, "_override_frozen_modules_for_tests", None)
    if override is not None:
        override(1)
    try:
        return sorted(row[0] for row in table())
    finally:
        if override is not None:
            override(0)


def probe():
    import importlib.util
    import json
    import marshal

    keys = ("LIBPL", "LIBRARY", "LDLIBRARY", "LIBDIR", "LIBS", "MODLIBS", "SYSLIBS", "LINKFORSHARED",
            "INCLUDEPY", "DESTSHARED", "VERSION", "Py_ENABLE_SHARED", "EXT_SUFFIX")
    try:
        import sysconfig

        stdlib = sysconfig.get_paths()["stdlib"]
        config = {k: str(sysconfig.get_config_var(k) or "") for k in keys}
    except Exception:  # a build tree's _bootstrap_python has no _sysconfigdata yet
        import os

        stdlib = os.path.dirname(os.__file__)
        config = {}
    info = {
        "implementation": sys.implementation.name,
        "version": list(sys.version_info[:3]),
        "releaselevel": sys.version_info.releaselevel,
        "hexversion": sys.hexversion,
        "magic": int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little"),
        "marshal_version": marshal.version,
        "cache_tag": sys.implementation.cache_tag,
        "executable": sys.executable,
        "stdlib": stdlib,
        "config": config,
        "builtin_modules": sorted(sys.builtin_module_names),
        "extension_modules": extension_modules(),
        "frozen_ext_modules": frozen_ext_modules(),
    }
    sys.stdout.write(json.dumps(info, sort_keys=True))


def scan_imports(source, origin):
    """The absolute imports (level 0) anywhere in a module, nested functions and classes
    included: what the IMPORT_NAME instructions of its code objects with level 0 name, read
    from the AST, which also says whether an import is guarded like optional imports are
    (inside `try:` with a handler for ImportError, ModuleNotFoundError, Exception or a bare
    `except:`). Imports under `if TYPE_CHECKING:` never run and are skipped. Only the app's
    own modules are scanned (never the stdlib), so `ast` is imported only then."""
    import ast

    catching = ("ImportError", "ModuleNotFoundError", "Exception", "BaseException")

    def catches(t):
        if t is None:
            return True
        if isinstance(t, ast.Tuple):
            return any(catches(e) for e in t.elts)
        name = t.id if isinstance(t, ast.Name) else getattr(t, "attr", None)
        return name in catching

    def type_checking(test):
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        return name == "TYPE_CHECKING"

    try_types = tuple(getattr(ast, n) for n in ("Try", "TryStar") if hasattr(ast, n))
    tree = compile(source, origin, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    lines = []
    stack = [(tree, False)]
    while stack:
        node, guarded = stack.pop()
        if isinstance(node, ast.Import):
            for alias in node.names:
                lines.append("%d\t%d\t%s\t" % (node.lineno, guarded, alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                names = ",".join(a.name for a in node.names if a.name != "*")
                lines.append("%d\t%d\t%s\t%s" % (node.lineno, guarded, node.module, names))
        elif isinstance(node, try_types):
            inner = guarded or any(catches(h.type) for h in node.handlers)
            stack.extend((n, inner) for n in node.body)
            stack.extend((n, guarded) for n in node.handlers + node.orelse + node.finalbody)
        elif isinstance(node, ast.If) and type_checking(node.test):
            stack.extend((n, guarded) for n in node.orelse)
        else:
            stack.extend((n, guarded) for n in ast.iter_child_nodes(node))
    lines.sort(key=lambda l: int(l.split("\t", 1)[0]))
    return "\n".join(lines)


def serve(optimize):
    import marshal

    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer

    def u32(n):
        return n.to_bytes(4, "big")

    def at(data, pos):
        return int.from_bytes(data[pos:pos + 4], "big")

    def read_exact(n):
        chunks = []
        while n:
            chunk = stdin.read(n)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    while True:
        header = stdin.read(4)
        if not header:
            return
        body = read_exact(at(header, 0))
        pos = 0

        def take():
            nonlocal pos
            n = at(body, pos)
            pos += 4 + n
            return body[pos - n:pos]

        count = at(body, 0)
        pos = 4
        out = [u32(count)]
        for _ in range(count):
            origin = take().decode("utf-8", "surrogateescape")
            source = take()
            scan = body[pos]
            pos += 1
            imports = b""
            try:
                code = compile(source, origin, "exec", dont_inherit=True, optimize=optimize)
                status, payload = 0, marshal.dumps(code)
                if scan:
                    imports = scan_imports(source, origin).encode("utf-8", "surrogateescape")
            except SyntaxError as e:
                status = 1
                payload = "%s\n%s\n%s" % (e.lineno or 0, e.offset or 0, e.msg)
            except Exception as e:  # ValueError for NUL bytes on 3.10, for example
                status = 2
                payload = "0\n0\n%s: %s" % (type(e).__name__, e)
            if status:
                payload = payload.encode("utf-8", "backslashreplace")
            out.append(bytes((status,)))
            out.append(u32(len(payload)))
            out.append(payload)
            out.append(u32(len(imports)))
            out.append(imports)
        data = b"".join(out)
        stdout.write(u32(len(data)))
        stdout.write(data)
        stdout.flush()


if sys.argv[1] == "probe":
    probe()
else:
    serve(int(sys.argv[2]))
