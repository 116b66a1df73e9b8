/* pyfreeze runtime for a stock (unpatched) libpython. Copied verbatim into every output
 * folder by `pyfreeze freeze`; compiled against the target interpreter's headers.
 *
 * pyfreeze_install(), called before Py_Initialize():
 *   1. points PyImport_FrozenModules at the stock table, so even the modules imported while
 *      the interpreter initialises (codecs, encodings, io, ...) come from memory;
 *   2. registers an audit hook. At the first "import" event of initialisation (importlib is
 *      set up by then, the file-system importers are not yet) it creates the `_pyfreeze`
 *      module over the extended table and runs `_pyfreeze_runtime.install()`, which puts a
 *      finder in front of FrozenImporter. From then on every frozen module gets its real
 *      origin as __file__, __path__, get_source(), package data, and a path hook.
 * Called after Py_Initialize(), it activates at once and repairs modules already loaded
 * (those imported during initialisation came from disk, so call it before when you can).
 * Py_Finalize() drops the hook: call it again before the next Py_Initialize().
 *
 * The runtime module is `_pyfreeze_runtime`; a program linking a libpython built by pyfreeze,
 * which carries a `_pyfreeze_runtime` of its own, gets another name (defined above this
 * comment by the generator), so that each table keeps its own runtime state.
 */
#ifndef PYFREEZE_RUNTIME_MODULE
#define PYFREEZE_RUNTIME_MODULE "_pyfreeze_runtime"
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pyfreeze.h"

#if PY_MAJOR_VERSION != PYFREEZE_TARGET_MAJOR || PY_MINOR_VERSION != PYFREEZE_TARGET_MINOR
/* Names both versions (#error does not expand macros), then skips the rest of the file,
 * which could only add errors about struct layouts. */
#pragma message("pyfreeze: the tables are for CPython " PYFREEZE_TARGET_VERSION ", but Python.h is CPython " PY_VERSION)
#error "pyfreeze: regenerate the tables with the interpreter whose Python.h you compile against, or compile against the target's headers (`pythonX.Y-config --includes`)"
#else

/* The generated mirror of `struct _frozen` must match the real one exactly. */
#define PYFREEZE_SAME_FIELD(f)                                                          \
    _Static_assert(offsetof(struct pyfreeze_frozen, f) == offsetof(struct _frozen, f) && \
                       sizeof(((struct pyfreeze_frozen *)0)->f) == sizeof(((struct _frozen *)0)->f), \
                   "struct pyfreeze_frozen." #f " does not match struct _frozen")
_Static_assert(sizeof(struct pyfreeze_frozen) == sizeof(struct _frozen),
               "struct pyfreeze_frozen does not match struct _frozen");
PYFREEZE_SAME_FIELD(name);
PYFREEZE_SAME_FIELD(code);
PYFREEZE_SAME_FIELD(size);
#if PY_VERSION_HEX >= 0x030B0000
PYFREEZE_SAME_FIELD(is_package);
#endif
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000
PYFREEZE_SAME_FIELD(get_code);
#endif

static int compare_module(const void *key, const void *row)
{
    return strcmp((const char *)key, ((const struct pyfreeze_module *)row)->name);
}

const struct pyfreeze_module *pyfreeze_find(const char *name)
{
    return bsearch(name, pyfreeze_modules, pyfreeze_modules_count, sizeof(struct pyfreeze_module),
                   compare_module);
}

/* Looks a module up by a str argument; NULL without an exception when absent. A name with
 * an embedded NUL is absent (the table compares C strings: "string\0" would find "string"). */
static const struct pyfreeze_module *find_arg(PyObject *arg)
{
    Py_ssize_t size;
    const char *name = PyUnicode_AsUTF8AndSize(arg, &size);
    if (name == NULL)
        return NULL;
    if (strlen(name) != (size_t)size)
        return NULL;
    return pyfreeze_find(name);
}

static PyObject *pf_find(PyObject *self, PyObject *arg)
{
    const struct pyfreeze_module *m = find_arg(arg);
    if (m == NULL) {
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(Is)", (unsigned int)m->flags, m->origin);
}

static const struct pyfreeze_module *find_or_raise(PyObject *arg)
{
    const struct pyfreeze_module *m = find_arg(arg);
    if (m == NULL && !PyErr_Occurred())
        PyErr_Format(PyExc_ImportError, "no frozen module named %R", arg);
    return m;
}

static PyObject *pf_get_code(PyObject *self, PyObject *arg)
{
    const struct pyfreeze_module *m = find_or_raise(arg);
    if (m == NULL)
        return NULL;
    return PyMarshal_ReadObjectFromString((const char *)m->code, (Py_ssize_t)m->code_size);
}

static PyObject *pf_get_source(PyObject *self, PyObject *arg)
{
    const struct pyfreeze_module *m = find_or_raise(arg);
    if (m == NULL)
        return NULL;
    if (m->source == NULL)
        Py_RETURN_NONE;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)pyfreeze_source_size(m));
    if (out == NULL)
        return NULL;
    if (pyfreeze_source_read(m, (unsigned char *)PyBytes_AS_STRING(out)) < 0) {
        Py_DECREF(out);
        return PyErr_Format(PyExc_ImportError,
                            "pyfreeze: the compressed source of %s is corrupt (regenerate the table)",
                            m->name);
    }
    return out;
}

/* ((name, flags, origin), ...) for every module, in table order. */
static PyObject *pf_modules(PyObject *self, PyObject *unused)
{
    PyObject *out = PyTuple_New((Py_ssize_t)pyfreeze_modules_count);
    if (out == NULL)
        return NULL;
    for (uint32_t i = 0; i < pyfreeze_modules_count; i++) {
        const struct pyfreeze_module *m = &pyfreeze_modules[i];
        PyObject *row = Py_BuildValue("(sIs)", m->name, (unsigned int)m->flags, m->origin);
        if (row == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, (Py_ssize_t)i, row);
    }
    return out;
}

/* The relative paths of a package's data files. */
static PyObject *pf_resources(PyObject *self, PyObject *arg)
{
    const struct pyfreeze_module *m = find_or_raise(arg);
    if (m == NULL)
        return NULL;
    PyObject *out = PyTuple_New((Py_ssize_t)m->resources_count);
    if (out == NULL)
        return NULL;
    for (uint32_t i = 0; i < m->resources_count; i++) {
        PyObject *path = PyUnicode_FromString(pyfreeze_resources[m->resources_start + i].path);
        if (path == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, (Py_ssize_t)i, path);
    }
    return out;
}

static int compare_resource(const void *key, const void *row)
{
    return strcmp((const char *)key, ((const struct pyfreeze_resource *)row)->path);
}

static PyObject *pf_read_resource(PyObject *self, PyObject *args)
{
    PyObject *package;
    const char *path;
    if (!PyArg_ParseTuple(args, "Us:read_resource", &package, &path))
        return NULL;
    const struct pyfreeze_module *m = find_or_raise(package);
    if (m == NULL)
        return NULL;
    const struct pyfreeze_resource *r =
        bsearch(path, pyfreeze_resources + m->resources_start, m->resources_count,
                sizeof(struct pyfreeze_resource), compare_resource);
    if (r == NULL) {
        PyErr_Format(PyExc_FileNotFoundError, "package %U has no frozen data file %s", package, path);
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)r->data, (Py_ssize_t)r->size);
}

/* The package whose folder is `path` (a regular package's origin is `path/__init__.py`, a
 * namespace package's is `path`), or None. A linear scan: used by the path hook and get_data,
 * never on the import path. */
static PyObject *pf_package_at(PyObject *self, PyObject *arg)
{
    const char *path = PyUnicode_AsUTF8(arg);
    if (path == NULL)
        return NULL;
    size_t n = strlen(path);
    for (uint32_t i = 0; i < pyfreeze_modules_count; i++) {
        const struct pyfreeze_module *m = &pyfreeze_modules[i];
        if (!(m->flags & PYFREEZE_PACKAGE) || strncmp(m->origin, path, n) != 0)
            continue;
        const char *rest = m->origin + n;
        if ((m->flags & PYFREEZE_NAMESPACE) ? *rest == '\0' : strcmp(rest, "/__init__.py") == 0)
            return PyUnicode_FromString(m->name);
    }
    Py_RETURN_NONE;
}

/* ((row.first, row.second), ...) for `count` rows of `size` bytes from `rows`, whose two
 * string fields are at the offsets `first` and `second`. */
static PyObject *string_pairs(const void *rows, size_t size, uint32_t count, size_t first, size_t second)
{
    PyObject *out = PyTuple_New((Py_ssize_t)count);
    if (out == NULL)
        return NULL;
    for (uint32_t i = 0; i < count; i++) {
        const char *row = (const char *)rows + (size_t)i * size;
        PyObject *pair = Py_BuildValue("(ss)", *(const char *const *)(row + first),
                                       *(const char *const *)(row + second));
        if (pair == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, (Py_ssize_t)i, pair);
    }
    return out;
}

/* ((name, origin), ...) for every distribution metadata folder, in table order. */
static PyObject *pf_distributions(PyObject *self, PyObject *unused)
{
    return string_pairs(pyfreeze_distributions, sizeof(struct pyfreeze_distribution),
                        pyfreeze_distributions_count, offsetof(struct pyfreeze_distribution, name),
                        offsetof(struct pyfreeze_distribution, origin));
}

static int compare_distribution(const void *key, const void *row)
{
    return strcmp((const char *)key, ((const struct pyfreeze_distribution *)row)->name);
}

/* The distribution row named by a str argument; NULL with FileNotFoundError when absent. */
static const struct pyfreeze_distribution *find_distribution(PyObject *arg)
{
    Py_ssize_t size;
    const char *name = PyUnicode_AsUTF8AndSize(arg, &size);
    if (name == NULL)
        return NULL;
    const struct pyfreeze_distribution *d = NULL;
    if (strlen(name) == (size_t)size)
        d = bsearch(name, pyfreeze_distributions, pyfreeze_distributions_count,
                    sizeof(struct pyfreeze_distribution), compare_distribution);
    if (d == NULL)
        PyErr_Format(PyExc_FileNotFoundError, "no frozen distribution metadata %R", arg);
    return d;
}

/* The relative paths of a distribution metadata folder's files. */
static PyObject *pf_dist_files(PyObject *self, PyObject *arg)
{
    const struct pyfreeze_distribution *d = find_distribution(arg);
    if (d == NULL)
        return NULL;
    PyObject *out = PyTuple_New((Py_ssize_t)d->files_count);
    if (out == NULL)
        return NULL;
    for (uint32_t i = 0; i < d->files_count; i++) {
        PyObject *path = PyUnicode_FromString(pyfreeze_dist_files[d->files_start + i].path);
        if (path == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, (Py_ssize_t)i, path);
    }
    return out;
}

static int compare_dist_file(const void *key, const void *row)
{
    return strcmp((const char *)key, ((const struct pyfreeze_dist_file *)row)->path);
}

static PyObject *pf_read_dist_file(PyObject *self, PyObject *args)
{
    PyObject *name;
    const char *path;
    if (!PyArg_ParseTuple(args, "Us:read_dist_file", &name, &path))
        return NULL;
    const struct pyfreeze_distribution *d = find_distribution(name);
    if (d == NULL)
        return NULL;
    const struct pyfreeze_dist_file *f =
        bsearch(path, pyfreeze_dist_files + d->files_start, d->files_count,
                sizeof(struct pyfreeze_dist_file), compare_dist_file);
    if (f == NULL) {
        PyErr_Format(PyExc_FileNotFoundError, "distribution metadata %U has no file %s", name, path);
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)f->data, (Py_ssize_t)f->size);
}

/* ((module, distribution), ...): the top-level modules and distributions of roots whose
 * installed copies win (`precedence = "path"`), "" for none. */
static PyObject *pf_path_first(PyObject *self, PyObject *unused)
{
    return string_pairs(pyfreeze_path_first, sizeof(struct pyfreeze_path_first),
                        pyfreeze_path_first_count, offsetof(struct pyfreeze_path_first, module),
                        offsetof(struct pyfreeze_path_first, distribution));
}

static PyMethodDef pf_methods[] = {
    {"find", pf_find, METH_O, "find(name) -> (flags, origin) or None"},
    {"get_code", pf_get_code, METH_O, "get_code(name) -> code object"},
    {"get_source", pf_get_source, METH_O, "get_source(name) -> bytes or None"},
    {"modules", pf_modules, METH_NOARGS, "modules() -> ((name, flags, origin), ...)"},
    {"resources", pf_resources, METH_O, "resources(package) -> (path, ...)"},
    {"read_resource", pf_read_resource, METH_VARARGS, "read_resource(package, path) -> bytes"},
    {"package_at", pf_package_at, METH_O, "package_at(folder) -> name of the package there, or None"},
    {"distributions", pf_distributions, METH_NOARGS, "distributions() -> ((folder name, origin), ...)"},
    {"dist_files", pf_dist_files, METH_O, "dist_files(folder name) -> (path, ...)"},
    {"read_dist_file", pf_read_dist_file, METH_VARARGS, "read_dist_file(folder name, path) -> bytes"},
    {"path_first", pf_path_first, METH_NOARGS, "path_first() -> ((top-level module, distribution folder), ...)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef pf_module = {
    PyModuleDef_HEAD_INIT, "_pyfreeze", "The extended frozen-module table of pyfreeze.", -1, pf_methods,
};

static int activating;

/* Whether this interpreter runs with the table activated: `_pyfreeze` is in sys.modules.
 * Derived, not remembered, so a re-initialised interpreter activates again. */
static int is_active(void)
{
    PyObject *modules = PyImport_GetModuleDict();
    return modules != NULL && PyDict_GetItemString(modules, "_pyfreeze") != NULL;
}

static int activate(void)
{
    int rc = -1;
    PyObject *runtime = NULL, *result = NULL;
    PyObject *module = PyModule_Create(&pf_module);
    if (module == NULL)
        return -1;
    if (PyModule_AddIntConstant(module, "PACKAGE", PYFREEZE_PACKAGE) < 0 ||
        PyModule_AddIntConstant(module, "NAMESPACE", PYFREEZE_NAMESPACE) < 0 ||
        PyModule_AddIntConstant(module, "SOURCE_DEFLATE", PYFREEZE_SOURCE_DEFLATE) < 0)
        goto done;
    if (PyDict_SetItemString(PyImport_GetModuleDict(), "_pyfreeze", module) < 0)
        goto done;
    runtime = PyImport_ImportModule(PYFREEZE_RUNTIME_MODULE);
    if (runtime == NULL)
        goto done;
    result = PyObject_CallMethod(runtime, "install", "O", module);
    if (result != NULL)
        rc = 0;
done:
    Py_XDECREF(result);
    Py_XDECREF(runtime);
    Py_DECREF(module);
    return rc;
}

static int audit_hook(const char *event, PyObject *args, void *data)
{
    (void)args;
    (void)data;
    if (activating || strcmp(event, "import") != 0)
        return 0;
    if (PyInterpreterState_Get() != PyInterpreterState_Main() || is_active())
        return 0;
    activating = 1;
    int rc = activate();
    activating = 0;
    return rc; /* a failure fails the import, and with it Py_Initialize(), loudly */
}

#if PY_VERSION_HEX < 0x030B0000
/* Before 3.11, PyImport_FrozenModules replaces CPython's own frozen table, importlib's
 * bootstrap included: serve a copy of that table followed by ours. */
static const struct _frozen *merged_table(void)
{
    static struct _frozen *merged;
    if (merged == NULL) {
        const struct _frozen *old = PyImport_FrozenModules;
        size_t n_old = 0;
        while (old != NULL && old[n_old].name != NULL)
            n_old++;
        merged = calloc(n_old + pyfreeze_modules_count + 1, sizeof(struct _frozen));
        if (merged == NULL)
            return NULL;
        if (n_old)
            memcpy(merged, old, n_old * sizeof(struct _frozen));
        memcpy(merged + n_old, pyfreeze_frozen_modules, pyfreeze_modules_count * sizeof(struct _frozen));
    }
    return merged;
}
#endif

int pyfreeze_install(void)
{
#if PY_VERSION_HEX < 0x030B0000
    const struct _frozen *table = merged_table();
    if (table == NULL)
        return -1;
    PyImport_FrozenModules = table;
#else
    PyImport_FrozenModules = (const struct _frozen *)pyfreeze_frozen_modules;
#endif
    if (Py_IsInitialized())
        return is_active() ? 0 : activate();
    /* Hooks are dropped by Py_Finalize(), so each initialisation needs this call. */
    return PySys_AddAuditHook(audit_hook, NULL);
}

#endif /* the tables are for this Python.h */
