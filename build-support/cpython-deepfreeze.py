# Deep-freezes the modules of pyfreeze's extended table: turns each module's marshalled code
# into static C objects (code objects, tuples, strings, ints...) with CPython's own
# deepfreeze.py, so that importing it unmarshals nothing, as CPython does for its start-up
# modules. Installed into a patched CPython tree as Tools/pyfreeze/deepfreeze.py and run by
# Tools/pyfreeze/cpython.mk with the build's bootstrap interpreter (the exact target version,
# whose struct layouts deepfreeze.py writes).
#
#   deepfreeze.py SRCDIR TABLE_DIR [--none] [--bootstrap NAME=HEADER]...
#   deepfreeze.py --cpython SRCDIR HEADER:MODULE... -o OUT.c
#
# SRCDIR is the CPython source tree, whose deepfreeze.py (3.11's Tools/scripts/, 3.13's
# Tools/build/) writes the objects (on 3.13 all but the code objects: printer_313()). TABLE_DIR is the generator's output: manifest.json
# gives each module's C symbol and where its marshalled code is in the code file it names
# (code.bin: bytes, no C is parsed back). Writes TABLE_DIR/deep/modules/<its C file name> for
# each module, skipped when its first line shows it was made from the same code by this same
# script, and TABLE_DIR/deep/table.c: one row {name, get_code} (3.13: {name, module}) per module, in the extended
# table's order, read by Python/import.c, and TABLE_DIR/deep/strings.c: the identifier-like
# strings, one object per text shared by every module (share_strings()); removes every other
# file under deep/ (modules dropped from the table). With --none, only an empty deep/table.c (the build then unmarshals, as
# without this step). --bootstrap (3.13) also deep-freezes one of CPython's bootstrap modules
# (_frozen_importlib...) from the header Programs/_freeze_module wrote, into
# deep/cpython-bootstrap/NAME.c, listed by name in table.c's second array.
#
# On 3.11, each module file defines `PyObject *<stem>_deep(void)`, whose first call interns the
# module's strings (_PyImport_FrozenExtDeepIntern(), each distinct string once), makes its set
# constants frozensets (write_frozensets) and registers
# the module's finaliser with _PyImport_FrozenExtDeepAtFini(); it returns a new reference to
# the module's code object. On 3.13 it defines `struct pyfreeze_deep_module <stem>_deep`, data
# that the 0005 patch readies on first use and resets at exit (module_313()). Only modules
# that were imported are ever touched, at start-up and at exit.
#
# --cpython does the same for CPython's own frozen modules (the Makefile's deepfreeze.c rule,
# whose arguments it takes): `_Py_get_<module>_toplevel()` interns on first use, and
# _Py_Deepfreeze_Init() and _Py_Deepfreeze_Fini() have nothing left to do. CPython's
# deepfreeze.py interns all of them at every start-up, though the extended table shadows most
# (os, site, codecs...) with its own copies.
import json
import os
import re
import sys

# Bump when the generated C changes, so that every module is regenerated.
DRIVER = "pyfreeze-deepfreeze 14"
JOBS = 2


# The CPython this runs for: the build's bootstrap interpreter is the target version.
V313 = sys.version_info[:2] == (3, 13)


def use_srcdir(srcdir):
    """Puts CPython's deepfreeze.py (and its helpers) on sys.path: 3.11's Tools/scripts/, or
    3.13's Tools/build/ (a leftover there, unused by CPython's build: only its leaf writers
    are used, see printer_313())."""
    if sys.version_info[:2] not in ((3, 11), (3, 13)):
        fail("deep-freezing knows CPython 3.11 and 3.13, not %d.%d; build with make PYFREEZE_DEEPFREEZE=no" % sys.version_info[:2])
    scripts = os.path.join(srcdir, "Tools", "build" if V313 else "scripts")
    if not os.path.exists(os.path.join(scripts, "deepfreeze.py")):
        fail(
            "%s has no %s/deepfreeze.py; build with make PYFREEZE_DEEPFREEZE=no"
            % (srcdir, os.path.relpath(scripts, srcdir))
        )
    sys.path.insert(0, scripts)
    global SRCDIR
    SRCDIR = srcdir


def fail(message):
    sys.stderr.write("error: pyfreeze deepfreeze: %s\n" % message)
    sys.exit(1)


def header(module):
    return "/* %s: %s code %s stem %s */\n" % (DRIVER, module["name"], module["code_sha256"], module["symbol"])


def up_to_date(path, module):
    """Whether the deep file at `path` was made from this module's code by this script."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline() == header(module)
    except OSError:
        return False


def c_string(text):
    out = []
    for b in text.encode("utf-8"):
        out.append(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\?' else "\\%03o" % b)
    return '"' + "".join(out) + '"'


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


# What this uses of CPython's deepfreeze.py. Its documented surface is its command line
# (`deepfreeze.py -o OUT.c HEADER:MODULE...`, headers made by _freeze_module), whose output
# interns every module in _Py_Deepfreeze_Init() at start-up and defines no per-module
# finaliser. Lazy per-module interning needs more, and takes it from the module:
# - Printer, to write one module's objects (generate(), block(), write(), and the patchups and
#   deallocs it collects) into a file of its own; subclassed (interning_printer) only to record
#   which tuple items hold strings to intern and which hold frozensets (written as tuples),
#   which Printer does not keep;
# - get_localsplus(), get_localsplus_counts(), make_string_literal(), RESUME (3.13's code
#   writer), is_frozen_header(), decode_frozen_data() (the --cpython inputs; 3.13's
#   --bootstrap headers: is_frozen_header() and FROZEN_DATA_LINE), and `strings`,
#   patched in load_deepfreeze() for a bug of 3.11's (3.13: read again, printer_313());
# - two rewrites of the C it writes, each explained where it is made (_OBJECT and
#   main_cpython), because Printer has no hook for a section attribute or a name prefix.
# 3.11's and 3.13's deepfreeze.py are supported (use_srcdir); 3.12 is not a pyfreeze series.

_NAME_CHARS = re.compile(r"[A-Za-z0-9_]*\Z")


_PRINTER = []


def printer_class():
    """interning_printer() over CPython's deepfreeze module (with printer_313() on 3.13), made
    once per process."""
    if not _PRINTER:
        deepfreeze = load_deepfreeze()
        printer = interning_printer(deepfreeze)
        _PRINTER.append(printer_313(deepfreeze, printer) if V313 else printer)
    return _PRINTER[0]


# {id(code): (co_localsplusnames, co_localspluskinds)} of the module being written, read from
# its marshalled bytes (marshalled_localsplus()), which deepfreeze.get_localsplus() answers from
# (see load_deepfreeze()).
LOCALSPLUS = {}


def load_deepfreeze():
    import deepfreeze

    # deepfreeze.get_localsplus() rebuilds a code object's local variable table from
    # co_varnames, co_cellvars and co_freevars: a name that is both a cell and a free variable
    # (a class body using __class__ inside a method) then has one entry instead of two, and
    # 3.13's CO_FAST_HIDDEN from the compiler is lost. Answer with the table as marshalled.
    if not hasattr(deepfreeze, "pyfreeze_get_localsplus"):
        rebuilt = deepfreeze.get_localsplus

        def get_localsplus(code):
            exact = LOCALSPLUS.get(id(code))
            return exact if exact is not None else rebuilt(code)

        deepfreeze.get_localsplus = deepfreeze.pyfreeze_get_localsplus = get_localsplus

    # deepfreeze.py maps constants equal to one of the runtime's static strings onto it, but
    # reads their C literals without unescaping them: `_Py_STR(newline)` would stand for the
    # two characters backslash and n (as in re's r"\n"). Keep only the literals without
    # escapes.
    # (3.13 reads them in Printer.get_identifiers_and_strings(): see printer_313().)
    if not V313:
        for text in [t for t in deepfreeze.strings if "\\" in t]:
            del deepfreeze.strings[text]
    return deepfreeze


def interning_printer(deepfreeze):
    """deepfreeze.Printer that also records which tuple items interning rewrites, so that the
    module interns each distinct string once instead of once per occurrence."""

    class Printer(deepfreeze.Printer):
        def __init__(self, file):
            super().__init__(file)
            self.tuples = []  # (C name, [(index, str value, C expression)])
            self.names_tuples = set()  # C expressions of co_names / co_localsplusnames
            # (tuple item address, C expression of the static tuple it holds) for every item
            # that is a frozenset: Printer writes frozensets as tuples of their sorted items.
            self.frozensets = []

        def generate_tuple(self, name, t):
            ret = super().generate_tuple(name, t)
            if t:
                # Cache hits: the items' expressions, without writing anything.
                items = [(i, v, self.generate("%s_%d" % (name, i), v)) for i, v in enumerate(t) if type(v) is str]
                self.tuples.append((name, ret, items))
                for i, v in enumerate(t):
                    if type(v) is frozenset:
                        self.frozensets.append(("&%s._object.ob_item[%d]" % (name, i), self.generate("%s_%d" % (name, i), v)))
            return ret

        def generate_code(self, name, code):
            ret = super().generate_code(name, code)
            self.names_tuples.add(self.generate(name + "_names", code.co_names))
            localsplusnames, _ = deepfreeze.get_localsplus(code)
            self.names_tuples.add(self.generate(name + "_localsplusnames", localsplusnames))
            return ret

        def interned_slots(self):
            """{string expression: [tuple item address]}, in first-seen order: every item that
            _PyStaticCode_InternStrings() interns (all of co_names and co_localsplusnames,
            identifier-like strings in constants, recursively)."""
            slots = {}
            for name, expr, items in self.tuples:
                everything = expr in self.names_tuples
                for i, value, item in items:
                    if everything or _NAME_CHARS.match(value):
                        slots.setdefault(item, []).append("&%s._object.ob_item[%d]" % (name, i))
            return slots

    return Printer


# CPython 3.13 removed deep-freezing (its Tools/build/deepfreeze.py is a leftover that writes
# calls to functions 3.13 no longer has and a build-time co_version). Its leaf writers (str,
# bytes, int, float, complex, tuple) still match 3.13's layouts and are used as they are;
# code objects are written here, for the extended table's 0005 patch:
# - the instructions as _PyCode_Quicken() leaves them (`_co_code_adaptive` of the code just
#   unmarshalled by this bootstrap interpreter of the same build), so the first use quickens
#   nothing, and _PyCode_ResetStatic() puts them back in that state at exit;
# - co_version 0: the interpreter's counter gives it when a function is first made from it
#   (versions are per interpreter and a built-in one would collide with runtime code);
# - every code object listed (stem_codes, top-level first) for the reset at exit.
# Every field of _PyCode_DEF is either written or left zero on purpose: the field names are
# read from the tree's Include/cpython/code.h, and a field this does not know fails the build
# (a designated initializer would silently leave a new field zero).
CODE_FIELDS_WRITTEN = {
    "co_consts", "co_names", "co_exceptiontable", "co_flags", "co_argcount",
    "co_posonlyargcount", "co_kwonlyargcount", "co_stacksize", "co_firstlineno",
    "co_nlocalsplus", "co_framesize", "co_nlocals", "co_ncellvars", "co_nfreevars",
    "co_localsplusnames", "co_localspluskinds", "co_filename", "co_name", "co_qualname",
    "co_linetable", "_co_firsttraceable", "co_code_adaptive",
}
CODE_FIELDS_ZERO = {
    "co_version", "co_weakreflist", "co_executors", "_co_cached", "_co_instrumentation_version",
    "_co_monitoring", "co_extra",
}


def check_code_fields():
    path = os.path.join(SRCDIR, "Include", "cpython", "code.h")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"#define _PyCode_DEF\(SIZE\) \{(.*?)\n\}", text, re.S)
    if not m:
        fail("%s defines no _PyCode_DEF(SIZE): not the 3.13 layout this writes" % path)
    body = re.sub(r"/\*.*?\*/", "", m.group(1).replace("\\\n", "\n"), flags=re.S)
    fields = set(re.findall(r"(\w+)(?:\[\(SIZE\)\])?;", body))
    unknown = sorted(fields - CODE_FIELDS_WRITTEN - CODE_FIELDS_ZERO)
    missing = sorted((CODE_FIELDS_WRITTEN | CODE_FIELDS_ZERO) - fields)
    if unknown or missing:
        fail(
            "%s: the code object's fields changed (new: %s; gone: %s): deep-freezing must learn "
            "them; build with make PYFREEZE_DEEPFREEZE=no" % (path, ", ".join(unknown) or "none", ", ".join(missing) or "none")
        )


def hidden_locals(code):
    """The local variable indexes that _PyCode_New() (codeobject.c, gh-110543) marks
    CO_FAST_HIDDEN: operands of LOAD_FAST_AND_CLEAR in code that is not CO_OPTIMIZED. Code
    units are read one by one: the inline caches of co_code are CACHE (0, 0) units, skipped
    without resetting EXTENDED_ARG, as skipping them by count does."""
    if code.co_flags & 0x1:  # CO_OPTIMIZED
        return set()
    import _opcode_metadata

    ops = _opcode_metadata.opmap
    if ops["CACHE"] != 0:
        fail("_opcode_metadata: CACHE is not opcode 0 (hidden_locals() needs it)")
    load_fast_and_clear, extended_arg = ops["LOAD_FAST_AND_CLEAR"], ops["EXTENDED_ARG"]
    hidden, arg, raw = set(), 0, code.co_code
    for i in range(0, len(raw), 2):
        op, oparg = raw[i], raw[i + 1]
        if op == ops["CACHE"]:
            continue
        if op == extended_arg:
            arg = arg << 8 | oparg
            continue
        if op == load_fast_and_clear:
            hidden.add(arg << 8 | oparg)
        arg = 0
    return hidden


def printer_313(deepfreeze, base):
    """`base` (interning_printer()) writing 3.13 code objects as the 0005 patch expects."""
    check_code_fields()

    class Printer(base):
        def __init__(self, file):
            super().__init__(file)
            self.codes = []  # C expressions of every code object, in the order written
            # (string expression, field address): the code objects' file names, names and
            # qualified names, which _PyCode_New() interns too.
            self.code_slots = []

        def interned_slots(self):
            slots = super().interned_slots()
            for expr, address in self.code_slots:
                slots.setdefault(expr, []).append(address)
            return slots

        def get_identifiers_and_strings(self):
            # The runtime's static strings (_Py_ID, _Py_STR), read from the header as
            # upstream's does, but not from the lines defining the STRUCT_FOR_* macros (which
            # made `NAME` an identifier) and without the literals with escapes (see
            # load_deepfreeze(): the same bug as 3.11's).
            path = os.path.join(SRCDIR, "Include", "internal", "pycore_global_strings.h")
            identifiers, strings = set(), {}
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.lstrip().startswith("#"):
                        continue
                    m = re.search(r"STRUCT_FOR_ID\((\w+)\)", line)
                    if m:
                        identifiers.add(m.group(1))
                    m = re.search(r'STRUCT_FOR_STR\((\w+), "(.*?)"\)', line)
                    if m and "\\" not in m.group(2):
                        strings[m.group(2)] = m.group(1)
            return identifiers, strings

        def generate_code(self, name, code):
            consts = self.generate(name + "_consts", code.co_consts)
            names = self.generate(name + "_names", code.co_names)
            filename = self.generate(name + "_filename", code.co_filename)
            co_name = self.generate(name + "_name", code.co_name)
            qualname = self.generate(name + "_qualname", code.co_qualname)
            linetable = self.generate(name + "_linetable", code.co_linetable)
            exceptiontable = self.generate(name + "_exceptiontable", code.co_exceptiontable)
            # The names and kinds as marshalled (see load_deepfreeze()), with the flags
            # _PyCode_New() adds.
            localsplusnames, localspluskinds = deepfreeze.get_localsplus(code)
            lp_names = self.generate(name + "_localsplusnames", localsplusnames)
            nlocals, ncellvars, nfreevars = deepfreeze.get_localsplus_counts(code, localsplusnames, localspluskinds)
            hidden = hidden_locals(code)
            localspluskinds = bytes(k | 0x10 if i in hidden else k for i, k in enumerate(localspluskinds))
            lp_kinds = self.generate(name + "_localspluskinds", localspluskinds)
            self.names_tuples.add(names)
            self.names_tuples.add(lp_names)
            adaptive = code._co_code_adaptive
            first_traceable = 0
            for op in code.co_code[::2]:
                if op == deepfreeze.RESUME:
                    break
                first_traceable += 1
            self.write("static")
            with self.indent():
                self.write("struct _PyCode_DEF(%d)" % len(adaptive))
            with self.block("%s =" % name, ";"):
                self.object_var_head("PyCode_Type", len(adaptive) // 2)
                self.write(".co_consts = %s," % consts)
                self.write(".co_names = %s," % names)
                self.write(".co_exceptiontable = %s," % exceptiontable)
                self.write(".co_flags = %d," % code.co_flags)
                self.write(".co_argcount = %d," % code.co_argcount)
                self.write(".co_posonlyargcount = %d," % code.co_posonlyargcount)
                self.write(".co_kwonlyargcount = %d," % code.co_kwonlyargcount)
                self.write(".co_stacksize = %d," % code.co_stacksize)
                self.write(".co_firstlineno = %d," % code.co_firstlineno)
                self.write(".co_nlocalsplus = %d," % len(localsplusnames))
                # As init_code() computes it (codeobject.c).
                self.write(".co_framesize = %d + FRAME_SPECIALS_SIZE," % (len(localsplusnames) + code.co_stacksize))
                self.write(".co_nlocals = %d," % nlocals)
                self.write(".co_ncellvars = %d," % ncellvars)
                self.write(".co_nfreevars = %d," % nfreevars)
                self.write(".co_localsplusnames = %s," % lp_names)
                self.write(".co_localspluskinds = %s," % lp_kinds)
                self.write(".co_filename = %s," % filename)
                self.write(".co_name = %s," % co_name)
                self.write(".co_qualname = %s," % qualname)
                self.write(".co_linetable = %s," % linetable)
                self.write("._co_firsttraceable = %d," % first_traceable)
                self.write(".co_code_adaptive = %s," % deepfreeze.make_string_literal(adaptive))
            self.codes.append("(PyCodeObject *)&%s" % name)
            for field, expr in (("co_filename", filename), ("co_name", co_name), ("co_qualname", qualname)):
                self.code_slots.append((expr, "&%s.%s" % (name, field)))
            return "& %s.ob_base.ob_base" % name

    return Printer


def module_313(p, stem, slots, sets):
    """The 3.13 module: its data, described by `struct pyfreeze_deep_module stem_deep` (the
    logic is the 0005 patch's)."""
    # The top-level code object is written last (after the code in its constants), and is
    # listed first.
    codes = p.codes[-1:] + p.codes[:-1]
    p.write("static PyCodeObject *const %s_codes[] = {" % stem)
    for c in codes:
        p.write("    %s," % c)
    p.write("};")
    with p.block("struct pyfreeze_deep_module %s_deep =" % stem, ";"):
        p.write(".codes = %s_codes," % stem)
        p.write(".ncodes = %d," % len(codes))
        if slots:
            p.write(".strs = %s_strs," % stem)
            p.write(".counts = %s_counts," % stem)
            p.write(".nstrs = %d," % len(slots))
            p.write(".slots = %s_slots," % stem)
        if sets:
            p.write(".set_slots = %s_set_slots," % stem)
            p.write(".set_items = %s_set_items," % stem)
            p.write(".nsets = %d," % len(sets))


# Interning a module's strings on its first import writes to its identifier-like strings (their
# hash and interned state) and to the tuples that hold them; code objects are written when they
# run (their inline caches); everything else (bytes such as line tables, other strings such as
# docstrings, numbers) is only read, in 3.13 where the objects are immortal. 3.11 writes the
# reference count of every object it uses, but not of the bytes a code object only points at:
# its line table, exception table and local variable kinds, read in place by the interpreter
# (tracebacks, exception handling, frame locals): 4 of the stdlib's 30 MB of objects. Every
# first write to a page of the executable's data copies the page, so the objects are laid out
# in three groups: interned strings and tuples (.data.pyfreeze_interned), code objects (.data),
# and the read-only rest (.data.pyfreeze_cold). `ld -r` (objects.mk) gathers each section of every
# module into one. Printer writes every object as `static` and has no hook to qualify it,
# hence a rewrite of its output: an object it wrote is `static\n    struct {...}\nNAME =`
# (tuples hold a PyGC_Head; identifier-like strings are named const_str_*); code objects
# (`struct _PyCode_DEF(N)`), floats and complex numbers are left alone.
_OBJECT = re.compile(r"^static\n(    struct \{\n.*?\n    \}\n)(\w+) =", re.M | re.S)
HOT = 'static __attribute__((section(".data.pyfreeze_interned")))\n'
COLD = 'static __attribute__((section(".data.pyfreeze_cold")))\n'
CODE_TABLES = ("_linetable", "_exceptiontable", "_localspluskinds")


def group(text, slots):
    """`text` with each object Printer wrote placed in its section: tuples and the strings
    interning writes (the keys of `slots`, and every const_str_*) hot, the rest cold."""
    interned = {m.group(1) for m in (re.match(r"&\s*(\w+)\.", expr) for expr in slots) if m}

    def place(match):
        body, name = match.group(1), match.group(2)
        if "PyGC_Head _gc_head;" in body or name.startswith("const_str_") or name in interned:
            return HOT + body + name + " ="
        # On 3.11 only a code object's own tables are: the rest (constants, names) stays next
        # to the code that uses it. A table is named after its first code object; a constant
        # of the same value written before it keeps the constant's name, and stays.
        if V313 or name.endswith(CODE_TABLES):
            return COLD + body + name + " ="
        return "static\n" + body + name + " ="

    return _OBJECT.sub(place, text)


def write_interned(p, stem, slots):
    """The arrays for _PyImport_FrozenExtDeepIntern(): the distinct strings, how many items
    hold each, and those items' addresses."""
    p.write("static PyObject *const %s_strs[] = {" % stem)
    for item in slots:
        p.write("    %s," % item)
    p.write("};")
    p.write("static const uint32_t %s_counts[] = {%s};" % (stem, ", ".join(str(len(v)) for v in slots.values())))
    p.write("static PyObject **const %s_slots[] = {" % stem)
    for addresses in slots.values():
        for address in addresses:
            p.write("    %s," % address)
    p.write("};")


# CPython's deepfreeze.py writes a frozenset constant (`x in {"a", "b"}` compiles to one) as a
# static tuple of its items (a set's hash table cannot be laid out statically), so the code
# would see a tuple where compiling its source gives a frozenset: membership tests become
# linear, and an unhashable operand gives False instead of TypeError. The module's first use
# replaces each such tuple item with a frozenset of the static tuple's items, and its finaliser
# puts the static tuple back (a re-initialised interpreter makes new sets).
def write_frozensets(p, stem, sets):
    """The arrays the getter and the finaliser walk: each tuple item that holds a frozenset,
    and the static tuple of the set's items that Printer wrote there."""
    p.write("static PyObject **const %s_set_slots[] = {" % stem)
    for slot, _ in sets:
        p.write("    %s," % slot)
    p.write("};")
    p.write("static PyObject *const %s_set_items[] = {" % stem)
    for _, items in sets:
        p.write("    %s," % items)
    p.write("};")


def generate(module, data):
    import marshal

    stem = module["symbol"]
    c = share_strings(lazy_module(marshal.loads(data), stem, stem + "_deep", data))
    return header(module) + c


# Identifier-like strings (Printer's `const_str_<text>`: names, attribute names, keys) recur
# from module to module: the stdlib's 534 modules define 51,000 of them, 25,000 distinct.
# Each module's first use interns its strings, which writes to each one (its hash, its
# interned state) and looks each up in the interned dict; a string that another module has
# already interned is a second object, whose tuple items and code object fields are then
# rewritten to hold the first. So every text is one static string for the whole table,
# `pyfreeze_str_<text>`, defined in deep/strings.c (write_shared_strings()): a module declares
# the ones it uses, and interning finds those that an earlier module interned already marked
# so, with nothing to look up or rewrite. The texts a module declares are listed on its file's
# second line, so that strings.c is made without reading the module files' objects.
_SHARED_DEF = re.compile(
    r'^static __attribute__\(\(section\("\.data\.pyfreeze_interned"\)\)\)\n'
    r"    struct \{\n        PyASCIIObject _ascii;\n        uint8_t _data\[(\d+)\];\n    \}\n"
    r"const_str_(\w+) = \{\n.*?\n\};\n",
    re.M | re.S,
)
_SHARED_LINE = "/* shared strings:"


def shared_declaration(text):
    return (
        "extern struct {\n        PyASCIIObject _ascii;\n        uint8_t _data[%d];\n    }\npyfreeze_str_%s;\n"
        % (len(text) + 1, text)
    )


# A C string literal on one line (the Printer writes each on a line of its own, escaped).
_C_LITERAL = re.compile(r'("(?:[^"\\\n]|\\.)*")')


def rename_symbols(c, pattern, repl):
    """`c` with the symbols that `pattern` matches renamed, outside string literals: a module's
    strings hold any text (`'const_str_x'`, a global named `const_str_x`), and a literal
    sits in an array of its own length."""
    return "\n".join(
        "".join(part if i % 2 else re.sub(pattern, repl, part) for i, part in enumerate(_C_LITERAL.split(line)))
        for line in c.split("\n")
    )


def share_strings(c):
    """`c` (a module's objects, after group()) with its `const_str_<text>` definitions turned
    into declarations of the shared `pyfreeze_str_<text>`, listed on a first line."""
    texts = []

    def declare(m):
        size, text = int(m.group(1)), m.group(2)
        if size != len(text) + 1:
            fail("const_str_%s holds %d bytes, not its name's %d" % (text, size, len(text) + 1))
        texts.append(text)
        return shared_declaration(text)

    c = _SHARED_DEF.sub(declare, c)
    if re.search(r"^const_str_\w+ = \{", c, re.M):
        fail("an identifier-like string was not written as share_strings() expects")
    c = rename_symbols(c, r"\bconst_str_(\w+)", r"pyfreeze_str_\1")
    return "%s %s */\n" % (_SHARED_LINE, " ".join(texts)) + c


def declared_strings(path):
    """The shared strings the module file at `path` declares (its second line)."""
    with open(path, encoding="utf-8") as f:
        f.readline()
        line = f.readline()
    if not line.startswith(_SHARED_LINE):
        fail("%s has no list of shared strings on its second line; remove the file to remake it" % path)
    return line[len(_SHARED_LINE) : -len(" */\n")].split()


# The modules `python -c pass` imports, whose strings come first in strings.c: a start-up
# writes to the pages of theirs only (each module's new strings follow in table order).
STARTUP_MODULES = (
    "codecs", "encodings", "encodings.aliases", "encodings.utf_8", "abc", "io", "stat",
    "_collections_abc", "genericpath", "posixpath", "os", "_sitebuiltins", "site",
)


def write_shared_strings(path, modules, table_dir):
    """deep/strings.c: every shared string the modules declare, once, start-up modules'
    first; rewritten only when the list changes."""
    rank = {name: i for i, name in enumerate(STARTUP_MODULES)}
    ordered = sorted(modules, key=lambda m: (rank.get(m["name"], len(rank)), m["name"].encode("utf-8")))
    texts, seen = [], set()
    for m in ordered:
        for text in declared_strings(deep_path(table_dir, m)):
            if text not in seen:
                seen.add(text)
                texts.append(text)
    first = "/* %s: the shared strings of the extended table's deep-frozen modules */\n" % DRIVER
    listing = "%s %s */\n" % (_SHARED_LINE, " ".join(texts))
    try:
        with open(path, encoding="utf-8") as f:
            if f.readline() == first and f.readline() == listing:
                return
    except OSError:
        pass
    if not texts:  # --none, or no module has one
        write_if_changed(path, first + listing)
        return
    import io

    out = io.StringIO()
    p = printer_class()(out)  # writes its #includes
    for text in texts:
        if "const_str_%s." % text not in p.generate("const_str_" + text, text):
            fail("Printer no longer writes %r as const_str_%s" % (text, text))
    c = group(out.getvalue(), {})
    # Defined here for every module: not static.
    c = c.replace('static __attribute__((section(".data.pyfreeze_interned")))\n', '__attribute__((section(".data.pyfreeze_interned")))\n')
    c = rename_symbols(c, r"\bconst_str_(\w+)", r"pyfreeze_str_\1")
    write_if_changed(path, first + listing + c)


def marshalled_localsplus(code, data):
    """{id(c): (co_localsplusnames, co_localspluskinds)} for `code` (marshal.loads(data)) and
    every code object in its constants, read from the marshalled bytes with CPython's
    umarshal.py (beside its deepfreeze.py): a code object does not give them to Python, and rebuilding them
    from co_varnames, co_cellvars and co_freevars (deepfreeze.get_localsplus()) loses the
    compiler's CO_FAST_HIDDEN (comprehensions inlined in module and class bodies, even those
    removed as unreachable) and merges a name that is both a cell and a free variable (a class
    body using __class__ inside a method), which has two entries."""
    import umarshal

    class Reader(umarshal.Reader):
        def r_float_bin(self):
            # Float values are not needed here, and the bootstrap interpreter has no _struct
            # for umarshal to decode them with.
            self.r_string(8)
            return 0.0

    found = {}
    reader = Reader(data)
    pending = [(code, reader.r_object())]
    while pending:
        real, read = pending.pop()
        if real.co_qualname != read.co_qualname or real.co_firstlineno != read.co_firstlineno:
            fail("umarshal and marshal disagree on the code objects of %s" % real.co_filename)
        found[id(real)] = (tuple(read.co_localsplusnames), bytes(read.co_localspluskinds))
        inner = [c for c in real.co_consts if isinstance(c, type(code))]
        inner_read = [c for c in read.co_consts if isinstance(c, umarshal.Code)]
        if len(inner) != len(inner_read):
            fail("umarshal and marshal disagree on the code objects of %s" % real.co_filename)
        pending += zip(inner, inner_read)
    return found


def lazy_module(code, stem, getter, data=None):
    """C for one module: its static objects, and `PyObject *getter(void)` that interns and
    registers the finaliser on its first call. `data`, the marshalled `code`, gives the local
    variable tables (3.13 needs it; CPython's own start-up modules, 3.11, come decoded)."""
    import io

    out = io.StringIO()
    p = printer_class()(out)  # writes its #includes
    LOCALSPLUS.clear()
    if data is not None:
        LOCALSPLUS.update(marshalled_localsplus(code, data))
    # The getter calls _PyImport_FrozenExtDeepIntern() and _PyImport_FrozenExtDeepAtFini().
    p.write('#include "internal/pycore_frozen_ext.h"')
    p.write("")
    top = p.generate(stem + "_toplevel", code)
    p.write("")
    slots = p.interned_slots()
    if slots:
        write_interned(p, stem, slots)
    p.write("")
    sets = p.frozensets
    if sets:
        write_frozensets(p, stem, sets)
    p.write("")
    if V313:
        module_313(p, stem, slots, sets)
        return group(out.getvalue(), slots)
    p.write("static int %s_ready;" % stem)
    p.write("static int %s_registered;" % stem)
    p.write("")
    with p.block("static void\n%s_fini(void)" % stem):
        if sets:
            with p.block("for (Py_ssize_t i = 0; i < %d; i++)" % len(sets)):
                p.write("PyObject *set = *%s_set_slots[i];" % stem)
                with p.block("if (set != %s_set_items[i])" % stem):
                    p.write("*%s_set_slots[i] = %s_set_items[i];" % (stem, stem))
                    p.write("Py_DECREF(set);")
        for line in p.deallocs:
            # Leaves code that never warmed up as written (see _PyImport_FrozenExtDeepCodeFini).
            p.write(line.replace("_PyStaticCode_Dealloc(", "_PyImport_FrozenExtDeepCodeFini("))
        p.write("%s_ready = 0;" % stem)
        p.write("%s_registered = 0;" % stem)
    p.write("")
    with p.block("PyObject *\n%s(void)" % getter):
        with p.block("if (!%s_ready)" % stem):
            if slots:
                p.write("_PyImport_FrozenExtDeepIntern(%s_strs, %s_counts, %d, %s_slots);" % (stem, stem, len(slots), stem))
            for line in p.patchups:
                p.write(line)
            # Registered before anything is made that the finaliser undoes, and once.
            with p.block("if (!%s_registered)" % stem):
                with p.block("if (_PyImport_FrozenExtDeepAtFini(%s_fini) < 0)" % stem):
                    p.write("return NULL;")
                p.write("%s_registered = 1;" % stem)
            if sets:
                # After interning, so that the sets hold the interned strings. A failure leaves
                # the sets made so far to the finaliser, and the next call makes the others.
                with p.block("for (Py_ssize_t i = 0; i < %d; i++)" % len(sets)):
                    with p.block("if (*%s_set_slots[i] == %s_set_items[i])" % (stem, stem)):
                        p.write("PyObject *set = PyFrozenSet_New(%s_set_items[i]);" % stem)
                        with p.block("if (set == NULL)"):
                            p.write("return NULL;")
                        p.write("*%s_set_slots[i] = set;" % stem)
            p.write("%s_ready = 1;" % stem)
        p.write("return Py_NewRef((PyObject *)%s);" % top)
    return group(out.getvalue(), slots)


def bootstrap_stem(name):
    return "pyfreeze_bootstrap_" + name.replace(".", "_")


def bootstrap_path(table_dir, name):
    """TABLE_DIR/deep/cpython-bootstrap/NAME.c: a folder no module path can name."""
    return os.path.join(table_dir, "deep", "cpython-bootstrap", name + ".c")


def bootstrap_module(name, header):
    """C for one of CPython's bootstrap modules, from the header _freeze_module wrote (the
    numbers of its marshalled code, loaded with this interpreter's marshal: the code objects'
    quickened instructions are needed, which 3.13's deepfreeze.decode_frozen_data(), through
    umarshal, does not give), and the name of the header's array: Python/frozen.c's row for
    the module points at it, and import.c serves this code only to a row that does (an
    embedder may point _PyImport_FrozenBootstrap at other code under the same name)."""
    import marshal

    deepfreeze = load_deepfreeze()
    with open(header, encoding="utf-8") as f:
        text = f.read()
    if not deepfreeze.is_frozen_header(text):
        fail("%s is not a header made by _freeze_module" % header)
    arrays = re.findall(r"^const unsigned char (\w+)\[\] = \{$", text, re.M)
    if len(arrays) != 1:
        fail("%s: expected one `const unsigned char NAME[] = {` array, found %d" % (header, len(arrays)))
    data = bytearray()
    for line in text.splitlines():
        if re.match(deepfreeze.FROZEN_DATA_LINE, line):
            data.extend(int(x) for x in line.split(",") if x.strip())
    stem = bootstrap_stem(name)
    code = marshal.loads(bytes(data))
    c = "/* %s: CPython's %s, from %s */\n" % (DRIVER, name, header) + lazy_module(code, stem, stem + "_deep", bytes(data))
    return c, arrays[0]


def deep_path(table_dir, module):
    """TABLE_DIR/deep/modules/<the module's C file name>: beside deep/table.c and
    deep/strings.c, whatever the module is called (a module `strings` is deep/modules/strings.c)."""
    return os.path.join(table_dir, "deep", module["c_file"])


def main_cpython(args):
    """The Makefile's Python/deepfreeze/deepfreeze.c, with lazily interned modules."""
    srcdir, args = args[0], args[1:]
    use_srcdir(srcdir)
    if len(args) < 3 or args[-2] != "-o":
        fail("usage: deepfreeze.py --cpython SRCDIR HEADER:MODULE... -o OUT.c")
    deepfreeze = load_deepfreeze()
    parts = ["/* %s: CPython's frozen modules, interned on first use. */\n" % DRIVER]
    for arg in args[:-2]:
        path, module = arg.rsplit(":", 1)
        with open(path, encoding="utf-8") as f:
            source = f.read()
        if not deepfreeze.is_frozen_header(source):
            fail("%s is not a header made by _freeze_module" % path)
        stem = module.replace(".", "_")
        text = lazy_module(deepfreeze.decode_frozen_data(source), stem, "_Py_get_%s_toplevel" % stem)
        # Each module has its own objects (its own Printer: its own interning and finaliser);
        # deepfreeze.py names identifier strings and ints `const_str_<text>` and
        # `const_int_<n>` whatever the module, and the Makefile's rule makes one C file, so the
        # names are given the module's prefix here, Printer having no hook for one.
        parts.append(rename_symbols(text, r"\bconst_(str|int)_", stem + r"_const_\1_"))
    parts.append("int\n_Py_Deepfreeze_Init(void)\n{\n    return 0;\n}\n")
    parts.append("void\n_Py_Deepfreeze_Fini(void)\n{\n    /* _PyImport_FrozenExtDeepFini() runs the registered finalisers. */\n}\n")
    # Always written (as CPython's deepfreeze.py does): the rule reruns until its target is
    # newer than this script.
    with open(args[-1], "w", encoding="utf-8") as f:
        f.write("\n".join(parts))


def read_code(f, module):
    """The module's marshalled code, from the generator's code file (open as `f`) at the
    offset manifest.json gives. (The bootstrap interpreter has no hashlib to check its
    SHA-256: the size and marshal.loads() are the checks.)"""
    f.seek(module["code_offset"])
    data = f.read(module["code_size"])
    if len(data) != module["code_size"]:
        fail("%s ends before the code of %s that manifest.json places in it" % (f.name, module["name"]))
    return data


def remove_stale(deep_dir, wanted):
    """Removes the C files under deep_dir that this run did not write (modules dropped from
    the table, or every module with --none), so none is left to be compiled by mistake."""
    for parent, _, names in os.walk(deep_dir):
        for name in names:
            path = os.path.join(parent, name)
            if os.path.normpath(path) not in wanted:
                os.remove(path)


def main():
    if sys.argv[1:2] == ["--cpython"]:
        main_cpython(sys.argv[2:])
        return
    srcdir, table_dir, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    none = "--none" in rest
    bootstrap = []  # (module name, header), from --bootstrap NAME=HEADER
    args = [a for a in rest if a != "--none"]
    while args:
        if args[0] != "--bootstrap" or len(args) < 2 or "=" not in args[1]:
            fail("usage: deepfreeze.py SRCDIR TABLE_DIR [--none] [--bootstrap NAME=HEADER]...")
        bootstrap.append(tuple(args[1].split("=", 1)))
        args = args[2:]
    if bootstrap and not V313:
        fail("--bootstrap: only the 3.13 patches serve deep-frozen bootstrap modules")
    use_srcdir(srcdir)
    with open(os.path.join(table_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    if "code_file" not in manifest:
        fail("%s/manifest.json names no code_file: was it made by this pyfreeze?" % table_dir)
    if none and manifest.get("options", {}).get("embed_bytecode") is False:
        fail(
            "%s was generated with embed_bytecode = false (--no-bytecode), but this build does not "
            "deep-freeze (PYFREEZE_DEEPFREEZE=no): its modules would have no code; leave the "
            "option out of the spec" % table_dir
        )
    modules = [] if none else manifest["modules"]
    work = [(m, deep_path(table_dir, m)) for m in modules if not up_to_date(deep_path(table_dir, m), m)]

    # Forks JOBS workers (the bootstrap interpreter has no multiprocessing); importing
    # deepfreeze, which scans the C sources for the runtime's static strings, is paid once.
    if work:
        printer_class()
        sys.stdout.write("deepfreeze: %d of %d modules\n" % (len(work), len(modules)))
        sys.stdout.flush()
    children = []
    for job in range(min(JOBS, len(work))):
        pid = os.fork()
        if pid == 0:
            status = 0
            doing = manifest["code_file"]
            try:
                with open(os.path.join(table_dir, manifest["code_file"]), "rb") as code:
                    for module, out in work[job::JOBS]:
                        doing = module["name"]
                        write_if_changed(out, generate(module, read_code(code, module)))
            except SystemExit as e:
                status = e.code or 1
            except BaseException as e:  # report, and make the parent fail
                sys.stderr.write("error: pyfreeze deepfreeze: %s: %r\n" % (doing, e))
                status = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
        children.append(pid)
    failed = 0
    for pid in children:
        _, status = os.waitpid(pid, 0)
        failed |= status != 0
    if failed:
        sys.exit(1)
    boot = []  # (module name, the header's array)
    for name, path in [] if none else bootstrap:
        c, array = bootstrap_module(name, path)
        write_if_changed(bootstrap_path(table_dir, name), c)
        boot.append((name, array))

    # The rows of the extended table are sorted by name, bytewise: so are these, and
    # import.c checks each name before it uses a row.
    rows = sorted(modules, key=lambda m: m["name"].encode("utf-8"))
    lines = ["/* %s: the deep-frozen code of every module of the extended table. */" % DRIVER]
    lines.append('#include "Python.h"')
    lines.append('#include "internal/pycore_frozen_ext.h"')
    if V313:
        lines += ["extern struct pyfreeze_deep_module %s_deep;" % m["symbol"] for m in rows]
        lines.append("const struct pyfreeze_deep _PyImport_FrozenExtDeepTable[] = {")
        lines += ["    {%s, &%s_deep, 0}," % (c_string(m["name"]), m["symbol"]) for m in rows]
    else:
        lines += ["extern PyObject *%s_deep(void);" % m["symbol"] for m in rows]
        lines.append("const struct pyfreeze_deep _PyImport_FrozenExtDeepTable[] = {")
        lines += ["    {%s, %s_deep}," % (c_string(m["name"]), m["symbol"]) for m in rows]
    lines.append("    {0, 0},")
    lines.append("};")
    if V313:
        # CPython's bootstrap modules (the 0005 patch serves one to the _frozen row of that
        # name whose code is the header's array), written every time (three files, rewritten
        # only when their bytes change).
        lines += ["extern struct pyfreeze_deep_module %s_deep;" % bootstrap_stem(n) for n, _ in boot]
        lines += ["extern const unsigned char %s[];" % a for _, a in boot]
        lines.append("const struct pyfreeze_deep _PyImport_FrozenExtDeepBootstrapTable[] = {")
        lines += ["    {%s, &%s_deep, %s}," % (c_string(n), bootstrap_stem(n), a) for n, a in boot]
        lines.append("    {0, 0, 0},")
        lines.append("};")
    table = os.path.join(table_dir, "deep", "table.c")
    write_if_changed(table, "\n".join(lines) + "\n")
    strings = os.path.join(table_dir, "deep", "strings.c")
    write_shared_strings(strings, modules, table_dir)
    wanted = {os.path.normpath(p) for p in [table, strings] + [deep_path(table_dir, m) for m in modules]}
    wanted |= {os.path.normpath(bootstrap_path(table_dir, n)) for n, _ in boot}
    remove_stale(os.path.join(table_dir, "deep"), wanted)


main()
