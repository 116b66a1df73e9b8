# Deep-freezes the modules of pyfreeze's extended table: turns each module's marshalled code
# into static C objects (code objects, tuples, strings, ints...) with CPython's own
# deepfreeze.py, so that importing it unmarshals nothing, as CPython does for its start-up
# modules. Installed into a patched CPython tree as Tools/pyfreeze/deepfreeze.py and run by
# Tools/pyfreeze/cpython.mk with the build's bootstrap interpreter (the exact target version,
# whose struct layouts deepfreeze.py writes).
#
#   deepfreeze.py SRCDIR TABLE_DIR [--none]
#   deepfreeze.py --cpython SRCDIR HEADER:MODULE... -o OUT.c
#
# SRCDIR is the CPython source tree, whose Tools/scripts/deepfreeze.py (3.11's; 3.12 and 3.13
# moved and changed it) writes the objects. TABLE_DIR is the generator's output: manifest.json names each
# module's C file, whose `<stem>_code` literal holds the marshalled code (its size is checked
# against the manifest; the bootstrap interpreter has no hashlib). Writes
# TABLE_DIR/deep/<same path>.c for each module, skipped when its first line shows it was made
# from the same code by this same script, and TABLE_DIR/deep/table.c: one row {name, get_code}
# per module, in the extended table's order, read by Python/import.c. With --none, only an
# empty deep/table.c (the build then unmarshals, as without this step).
#
# Each module file defines `PyObject *<stem>_deep(void)`, whose first call interns the
# module's strings (_PyImport_FrozenExtDeepIntern(), each distinct string once) and registers
# the module's finaliser with _PyImport_FrozenExtDeepAtFini(); it returns a new reference to
# the module's code object. Only modules that were imported are ever touched, at start-up and
# at exit.
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
DRIVER = "pyfreeze-deepfreeze 2"
JOBS = 2


def use_srcdir(srcdir):
    """Puts CPython's deepfreeze.py (and its helpers) on sys.path."""
    scripts = os.path.join(srcdir, "Tools", "scripts")
    if not os.path.exists(os.path.join(scripts, "deepfreeze.py")):
        fail(
            "%s has no Tools/scripts/deepfreeze.py: deep-freezing knows CPython 3.11's; "
            "build with make PYFREEZE_DEEPFREEZE=no" % srcdir
        )
    sys.path.insert(0, scripts)


def fail(message):
    sys.stderr.write("error: pyfreeze deepfreeze: %s\n" % message)
    sys.exit(1)


_ESCAPE = re.compile(rb'\\([0-7]{3}|.)', re.S)
_SIMPLE = {b"\\": b"\\", b'"': b'"', b"n": b"\n", b"t": b"\t", b"?": b"?"}


def _unescape(match):
    text = match.group(1)
    if len(text) == 3:
        return bytes([int(text, 8)])
    return _SIMPLE[text]


def read_code(c_path):
    """(stem, bytes) of the `<stem>_code[N]` literal of a generated module file (the
    escapes of pyfreeze's cwriter: \\NNN octal, \\\\, \\", \\n, \\t, \\?)."""
    with open(c_path, "rb") as f:
        text = f.read()
    m = re.search(rb"const unsigned char (\w+)_code\[(\d+)\] =\n((?:    \"[^\n]*\"\n?)+);", text)
    if m is None:
        fail("%s: no `<name>_code[N] = \"...\";` literal (was it made by this pyfreeze?)" % c_path)
    pieces = re.findall(rb'^    "(.*)"$', m.group(3), re.M)
    data = _ESCAPE.sub(_unescape, b"".join(pieces))
    if len(data) != int(m.group(2)):
        fail("%s: the code literal holds %d bytes, not %s" % (c_path, len(data), m.group(2).decode()))
    return m.group(1).decode(), data


def header(module, stem):
    return "/* %s: %s code %s stem %s */\n" % (DRIVER, module["name"], module["code_sha256"], stem)


def made_from(path, module):
    """The stem a deep file was made with, if it was made from this module's code by this
    script; otherwise None."""
    try:
        with open(path, encoding="utf-8") as f:
            first = f.readline()
    except OSError:
        return None
    prefix = header(module, "")[: -len(" */\n")]
    if first.startswith(prefix) and first.endswith(" */\n"):
        return first[len(prefix) : -len(" */\n")]
    return None


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


_NAME_CHARS = re.compile(r"[A-Za-z0-9_]*\Z")


_PRINTER = []


def printer_class():
    """interning_printer() over CPython's deepfreeze module, made once per process."""
    if not _PRINTER:
        _PRINTER.append(interning_printer(load_deepfreeze()))
    return _PRINTER[0]


def load_deepfreeze():
    import deepfreeze

    # deepfreeze.py maps constants equal to one of the runtime's static strings onto it, but
    # reads their C literals without unescaping them: `_Py_STR(newline)` would stand for the
    # two characters backslash and n (as in re's r"\n"). Keep only the literals without
    # escapes.
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

        def generate_tuple(self, name, t):
            ret = super().generate_tuple(name, t)
            if t:
                # Cache hits: the items' expressions, without writing anything.
                items = [(i, v, self.generate("%s_%d" % (name, i), v)) for i, v in enumerate(t) if type(v) is str]
                self.tuples.append((name, ret, items))
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


# Interning a module's strings on its first import writes to its identifier-like strings and
# to the tuples that hold them; everything else (code objects, bytes, other constants) is
# written only when it runs, or never. Every first write to a page of the executable's data
# copies the page, so the written objects are grouped in their own section, away from the rest.
_OBJECT = re.compile(r"^static\n(    struct \{\n.*?\n    \}\n)(\w+) =", re.M | re.S)
HOT = 'static __attribute__((section(".data.pyfreeze_interned")))\n'


def _group(match):
    body, name = match.group(1), match.group(2)
    if "PyGC_Head _gc_head;" in body or name.startswith("const_str_"):
        return HOT + body + name + " ="
    return match.group(0)


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


def generate(module, stem, data):
    import marshal

    return header(module, stem) + lazy_module(marshal.loads(data), stem, stem + "_deep")


def lazy_module(code, stem, getter):
    """C for one module: its static objects, and `PyObject *getter(void)` that interns and
    registers the finaliser on its first call."""
    import io

    out = io.StringIO()
    p = printer_class()(out)
    top = p.generate(stem + "_toplevel", code)
    p.write("")
    slots = p.interned_slots()
    if slots:
        write_interned(p, stem, slots)
    p.write("")
    p.write("static int %s_ready;" % stem)
    p.write("")
    with p.block("static void\n%s_fini(void)" % stem):
        for line in p.deallocs:
            p.write(line)
        p.write("%s_ready = 0;" % stem)
    p.write("")
    with p.block("PyObject *\n%s(void)" % getter):
        with p.block("if (!%s_ready)" % stem):
            if slots:
                p.write("_PyImport_FrozenExtDeepIntern(%s_strs, %s_counts, %d, %s_slots);" % (stem, stem, len(slots), stem))
            for line in p.patchups:
                p.write(line)
            with p.block("if (_PyImport_FrozenExtDeepAtFini(%s_fini) < 0)" % stem):
                p.write("return NULL;")
            p.write("%s_ready = 1;" % stem)
        p.write("return Py_NewRef((PyObject *)%s);" % top)
    return _OBJECT.sub(_group, out.getvalue())


def deep_path(table_dir, module):
    """TABLE_DIR/deep/<the module's path under modules/>."""
    return os.path.join(table_dir, "deep", os.path.relpath(module["c_file"], "modules"))


def main_cpython(args):
    """The Makefile's Python/deepfreeze/deepfreeze.c, with lazily interned modules."""
    srcdir, args = args[0], args[1:]
    use_srcdir(srcdir)
    if len(args) < 3 or args[-2] != "-o":
        fail("usage: deepfreeze.py --cpython SRCDIR HEADER:MODULE... -o OUT.c")
    deepfreeze = load_deepfreeze()
    parts = ["/* %s: CPython's frozen modules, interned on first use. */\n" % DRIVER]
    parts.append('#include "Python.h"\n#include "internal/pycore_frozen_ext.h"\n')
    for arg in args[:-2]:
        path, module = arg.rsplit(":", 1)
        with open(path, encoding="utf-8") as f:
            source = f.read()
        if not deepfreeze.is_frozen_header(source):
            fail("%s is not a header made by _freeze_module" % path)
        stem = module.replace(".", "_")
        text = lazy_module(deepfreeze.decode_frozen_data(source), stem, "_Py_get_%s_toplevel" % stem)
        # Each module has its own objects; deepfreeze.py names identifier strings and ints
        # `const_str_<text>` and `const_int_<n>` whatever the module, so give them the module's
        # prefix (only lines without a literal hold references).
        lines = [
            line if '"' in line else re.sub(r"\bconst_(str|int)_", stem + r"_const_\1_", line)
            for line in text.split("\n")
        ]
        parts.append("\n".join(lines))
    parts.append("int\n_Py_Deepfreeze_Init(void)\n{\n    return 0;\n}\n")
    parts.append("void\n_Py_Deepfreeze_Fini(void)\n{\n    /* _PyImport_FrozenExtDeepFini() runs the registered finalisers. */\n}\n")
    # Always written (as CPython's deepfreeze.py does): the rule reruns until its target is
    # newer than this script.
    with open(args[-1], "w", encoding="utf-8") as f:
        f.write("\n".join(parts))


def main():
    if sys.argv[1:2] == ["--cpython"]:
        main_cpython(sys.argv[2:])
        return
    srcdir, table_dir = sys.argv[1], sys.argv[2]
    none = sys.argv[3:] == ["--none"]
    use_srcdir(srcdir)
    with open(os.path.join(table_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    modules = [] if none else manifest["modules"]
    work = []
    stems = {}  # module name -> stem, of the deep files that are up to date
    for module in modules:
        out = deep_path(table_dir, module)
        stem = made_from(out, module)
        if stem is None:
            work.append((module, out))
        else:
            stems[module["name"]] = stem

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
            try:
                for module, out in work[job::JOBS]:
                    stem, data = read_code(os.path.join(table_dir, module["c_file"]))
                    if len(data) != module["code_size"]:
                        fail("%s: the code literal does not match manifest.json" % module["c_file"])
                    write_if_changed(out, generate(module, stem, data))
            except SystemExit as e:
                status = e.code or 1
            except BaseException as e:  # report, and make the parent fail
                sys.stderr.write("error: pyfreeze deepfreeze: %s: %r\n" % (module["name"], e))
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

    # The rows of the extended table are sorted by name, bytewise: so are these, and
    # import.c checks each name before it uses a row.
    rows = []
    for module in sorted(modules, key=lambda m: m["name"].encode("utf-8")):
        stem = stems.get(module["name"]) or made_from(deep_path(table_dir, module), module)
        if stem is None:
            fail("%s was not written (see the errors above)" % deep_path(table_dir, module))
        rows.append((module["name"], stem))
    lines = ["/* %s: the deep-frozen code of every module of the extended table. */" % DRIVER]
    lines.append('#include "Python.h"')
    lines.append('#include "internal/pycore_frozen_ext.h"')
    lines += ["extern PyObject *%s_deep(void);" % stem for _, stem in rows]
    lines.append("const struct pyfreeze_deep _PyImport_FrozenExtDeepTable[] = {")
    lines += ["    {%s, %s_deep}," % (c_string(name), stem) for name, stem in rows]
    lines.append("    {0, 0},")
    lines.append("};")
    write_if_changed(os.path.join(table_dir, "deep", "table.c"), "\n".join(lines) + "\n")


main()
