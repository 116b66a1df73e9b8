"""Checks that the code every frozen module is served with holds the constants that compiling
its source gives: the same types (a frozenset stays a frozenset, as in `x in {"a", "b"}`), the
same values, nested code objects alike. Deep-frozen code is written to C by a script and rebuilt
at run time, so this holds it to what the compiler makes. The source is the one the table
serves (get_source()); modules served without one are counted, not compared. Prints
`compared N skipped M bad K` and the first offenders."""
import _imp
import importlib.machinery
import os
import sys
import types

bad = []


def shape(value):
    """A comparable picture of a constant: its exact type and value, recursively; frozensets
    as sorted pictures, floats by repr (-0.0 and nan), code objects by their own constants."""
    kind = type(value)
    if kind is tuple:
        return ("tuple", tuple(shape(item) for item in value))
    if kind is frozenset:
        return ("frozenset", tuple(sorted((shape(item) for item in value), key=repr)))
    if kind is float:
        return ("float", repr(value))
    if kind is complex:
        return ("complex", repr(value))
    if kind is types.CodeType:
        return ("code", value.co_qualname, tuple(shape(item) for item in value.co_consts))
    return (kind.__name__, value)


def compare(served, compiled, where):
    if len(bad) >= 20:
        return
    if served.co_qualname != compiled.co_qualname or len(served.co_consts) != len(compiled.co_consts):
        bad.append("%s: %s has %d constants, compiling gives %s with %d" % (
            where, served.co_qualname, len(served.co_consts), compiled.co_qualname,
            len(compiled.co_consts)))
        return
    for index, (a, b) in enumerate(zip(served.co_consts, compiled.co_consts)):
        if type(a) is types.CodeType and type(b) is types.CodeType:
            compare(a, b, where)
        elif shape(a) != shape(b):
            bad.append("%s (%s): constant %d is %s %r, compiling gives %s %r" % (
                where, served.co_qualname, index, type(a).__name__, a, type(b).__name__, b))


def source_of(name):
    """The module's source as the table serves it; for CPython's own frozen modules (served
    without source, as `<frozen importlib._bootstrap>`...), that of the module they were frozen
    from: the table's, or else the file in the stdlib folder."""
    source = importlib.machinery.FrozenImporter.get_source(name)
    if source is not None:
        return source
    spec = _imp.find_frozen(name)
    origname = spec and spec[2] and spec[2].lstrip("<")
    if not origname:
        return None
    if origname != name and origname in TABLE:
        return importlib.machinery.FrozenImporter.get_source(origname)
    parts = origname.split(".") + (["__init__"] if spec[1] else [])
    try:
        with open(os.path.join(sys._stdlib_dir, *parts) + ".py", encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


TABLE = {name for name, _flags, _origin in _imp._frozen_ext_modules()}
names = sorted(TABLE) + sorted(set(_imp._frozen_module_names()) - TABLE)
compared = skipped = 0
for name in names:
    try:
        code = _imp.get_frozen_object(name)
    except ImportError:  # listed but not served (e.g. -X frozen_modules=off)
        continue
    source = source_of(name)
    if source is None:
        skipped += 1
        continue
    compiled = compile(source, code.co_filename, "exec", dont_inherit=True)
    compare(code, compiled, name)
    compared += 1
print("compared", compared, "skipped", skipped, "bad", len(bad))
for line in bad:
    print(line)
sys.exit(1 if bad else 0)
