"""Checks that the code every table module (and CPython's bootstrap modules) is served with is,
object for object, the code its marshalled bytes give, where the table keeps them beside
deep-frozen code (3.13): static code
objects are written to C by pyfreeze's own writer, and marshal.dumps() of both must be equal
(every field, recursively: instructions, line and exception tables, local kinds such as
CO_FAST_HIDDEN, constants, which strings are interned). Version 2 of the format, which has no
back-references (those depend on reference counts, and static objects are immortal); sets are
written sorted. The served code is asked for first, so that its module is readied (interned) as
an import does. Then what marshal does not write: co_nlocals, the object's size and, for a
module nothing has run yet, the instructions as quickening leaves them (_co_code_adaptive).
Prints `compared N bad K` (K modules) and the first offenders."""
import _imp
import marshal
import sys

RUN = set(sys.modules)  # the modules imported so far have run


def unwritten(served, fresh, where, run, out):
    """The fields marshal.dumps() leaves out, recursively."""
    fields = ["co_nlocals", "__sizeof__"] + ([] if run else ["_co_code_adaptive"])
    for field in fields:
        a, b = getattr(served, field), getattr(fresh, field)
        if field == "__sizeof__":
            a, b = a(), b()
        if a != b:
            out.append("%s: %s differs: %r != %r" % (where, field, a, b))
            return
    nested = [(a, b) for a, b in zip(served.co_consts, fresh.co_consts)
              if type(a) is type(b) and hasattr(a, "co_code")]
    for a, b in nested:
        unwritten(a, b, "%s.%s" % (where, a.co_name), run, out)


def differences(served, fresh, where, out):
    """Narrows a difference down to the code objects and fields that differ."""
    for field in ("co_code", "co_flags", "co_stacksize", "co_firstlineno", "co_linetable",
                  "co_exceptiontable", "co_varnames", "co_cellvars", "co_freevars", "co_names",
                  "co_filename", "co_name", "co_qualname", "co_argcount", "co_kwonlyargcount"):
        if getattr(served, field) != getattr(fresh, field):
            out.append("%s: %s differs" % (where, field))
    nested = [(a, b) for a, b in zip(served.co_consts, fresh.co_consts)
              if type(a) is type(b) and hasattr(a, "co_code")]
    for a, b in nested:
        if marshal.dumps(a, 2) != marshal.dumps(b, 2):
            differences(a, b, "%s.%s" % (where, a.co_name), out)
            return
    if not out:
        out.append("%s: the code object itself (local kinds, or which strings are interned)" % where)


BOOTSTRAP = ["_frozen_importlib", "_frozen_importlib_external"]  # zipimport is in the table
compared = 0
bad = 0
lines = []
for name in BOOTSTRAP + [name for name, _flags, _origin in _imp._frozen_ext_modules()]:
    data = _imp.find_frozen(name, withdata=True)[0]
    if data is None:
        continue
    served = _imp.get_frozen_object(name)
    fresh = marshal.loads(data)
    compared += 1
    found = []
    if marshal.dumps(served, 2) != marshal.dumps(fresh, 2):
        differences(served, fresh, name, found)
    else:
        unwritten(served, fresh, name, name in RUN or name in sys.modules, found)
    if found:
        bad += 1
        lines += found[: max(0, 20 - len(lines))]
print("compared %d bad %d" % (compared, bad))
for line in lines:
    print(line)
