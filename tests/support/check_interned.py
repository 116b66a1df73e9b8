"""Checks that the code of every frozen module (the extended table's and CPython's own) has its
names interned, as CPython's compiler and marshal leave them (co_names, local, cell and free
variable names, and identifier-like string constants, in nested tuples too). Deep-frozen code
is interned on first use by pyfreeze's own routine, so this holds it to CPython's rule. Prints
`checked N bad M` and the first offenders."""
import _imp
import re
import sys
import types

IDENTIFIER = re.compile(r"[A-Za-z0-9_]*\Z")
checked = 0
bad = []


def check(value, where):
    global checked
    checked += 1
    if sys.intern(value) is not value and len(bad) < 20:
        bad.append("%s: %r" % (where, value))


def constants(items, where):
    for item in items:
        if type(item) is str and item.isascii() and IDENTIFIER.match(item):
            check(item, where)
        elif type(item) is tuple:
            constants(item, where)


def walk(code, module):
    where = "%s (%s)" % (module, code.co_qualname)
    for name in code.co_names + code.co_varnames + code.co_cellvars + code.co_freevars:
        check(name, where)
    constants(code.co_consts, where)
    for item in code.co_consts:
        if isinstance(item, types.CodeType):
            walk(item, module)


names = [name for name, _flags, _origin in _imp._frozen_ext_modules()]
# CPython's own frozen modules (importlib's bootstrap, zipimport, ...), deep-frozen too.
names += [name for name in _imp._frozen_module_names() if name not in names]
for name in names:
    try:
        code = _imp.get_frozen_object(name)
    except ImportError:  # listed but not served (e.g. -X frozen_modules=off)
        continue
    walk(code, name)
print("checked", checked, "bad", len(bad))
for line in bad:
    print(line)
