/* CPython start-up for the Rust API of pyfreeze.rs (`pyfreeze::Interpreter`). Copied by
 * pyfreeze-build into OUT_DIR/pyfreeze_start.c and compiled against the target's Python.h
 * with the tables: PyConfig's layout differs between CPython versions, so the code that
 * fills it is C, and Rust only passes strings and reads back a status.
 *
 * The configuration is isolated (no environment variables, no user site, no `site`, no
 * bytecode writing, argv not parsed as options) and in UTF-8 mode, and sys.path holds
 * exactly the entries Rust passes: CPython never adds a stdlib folder of its own.
 * pyfreeze_install() is called by Rust before pyfreeze_build_start(). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdio.h>

/* Return values of pyfreeze_build_start(), mirrored in pyfreeze.rs. */
#define PYFREEZE_START_OK 0
#define PYFREEZE_START_ERROR 1
#define PYFREEZE_START_EXIT 2
#define PYFREEZE_START_RUNNING 3

/* The thread state of the thread that started CPython, saved while it does not hold the GIL. */
static PyThreadState *pyfreeze_main_thread;

/* Static strings (CPython's PyStatus texts are string literals, and so are ours). */
static int pyfreeze_status(PyStatus status, const char **func, const char **message, int *exitcode)
{
    if (PyStatus_IsExit(status)) {
        *exitcode = status.exitcode;
        return PYFREEZE_START_EXIT;
    }
    *func = status.func;
    *message = status.err_msg != NULL ? status.err_msg : "unknown error";
    return PYFREEZE_START_ERROR;
}

/* Starts CPython with `paths` as sys.path and `argv` as sys.argv (bytes, decoded as UTF-8
 * with surrogateescape). On success the calling thread has released the GIL (as PyO3's
 * Python::initialize leaves it): take it with PyGILState_Ensure or Python::attach.
 * Otherwise *func and *message (static strings) say why, *exitcode is the status CPython
 * asked to exit with, or CPython was already running. */
int pyfreeze_build_start(const char *const *paths, size_t n_paths, const char *const *argv,
                         size_t argc, const char **func, const char **message, int *exitcode)
{
    *func = NULL;
    *message = NULL;
    *exitcode = 0;
    if (Py_IsInitialized())
        return PYFREEZE_START_RUNNING; /* started by other code */

    PyPreConfig preconfig;
    PyPreConfig_InitIsolatedConfig(&preconfig);
    preconfig.utf8_mode = 1;
    PyStatus status = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(status))
        return pyfreeze_status(status, func, message, exitcode);

    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.pathconfig_warnings = 0;
    config.module_search_paths_set = 1;
    for (size_t i = 0; i < n_paths; i++) {
        /* After the pre-initialisation, so decoded as UTF-8. */
        wchar_t *path = Py_DecodeLocale(paths[i], NULL);
        if (path == NULL) {
            PyConfig_Clear(&config);
            *func = "pyfreeze_build_start";
            *message = "cannot decode a sys.path entry";
            return PYFREEZE_START_ERROR;
        }
        status = PyWideStringList_Append(&config.module_search_paths, path);
        PyMem_RawFree(path);
        if (PyStatus_Exception(status))
            goto fail;
    }
    status = PyConfig_SetBytesArgv(&config, (Py_ssize_t)argc, (char *const *)argv);
    if (PyStatus_Exception(status))
        goto fail;
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status))
        goto fail;
    PyConfig_Clear(&config);
    pyfreeze_main_thread = PyEval_SaveThread();
    return PYFREEZE_START_OK;

fail:
    PyConfig_Clear(&config);
    return pyfreeze_status(status, func, message, exitcode);
}

/* Flushes sys.stdout and sys.stderr, ignoring errors, so that what Python printed comes
 * before what the program prints next. */
static void pyfreeze_flush(void)
{
    const char *names[] = {"stdout", "stderr"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        PyObject *file = PySys_GetObject(names[i]); /* borrowed */
        if (file == NULL || file == Py_None)
            continue;
        PyObject *result = PyObject_CallMethod(file, "flush", NULL);
        if (result == NULL)
            PyErr_Clear();
        Py_XDECREF(result);
    }
}

/* The exit status of the exception that is set, which it clears: a SystemExit's code
 * (None is 0, an int is itself, anything else is printed to sys.stderr and is 1), as the
 * `python` command does; any other exception is printed with its traceback and is 1. */
static int pyfreeze_exit_status(void)
{
    if (!PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyErr_Print();
        return 1;
    }
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = PyErr_GetRaisedException();
#else
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
#endif
    int status = 1;
    PyObject *code = exc != NULL ? PyObject_GetAttrString(exc, "code") : NULL;
    if (code == NULL || code == Py_None) {
        status = 0;
    } else if (PyLong_Check(code)) {
        long value = PyLong_AsLong(code);
        status = value == -1 && PyErr_Occurred() ? 1 : (int)value;
    } else {
        PyObject *err = PySys_GetObject("stderr"); /* borrowed */
        if (err != NULL && err != Py_None && PyFile_WriteObject(code, err, Py_PRINT_RAW) == 0)
            PyFile_WriteString("\n", err);
    }
    PyErr_Clear();
    Py_XDECREF(code);
    Py_XDECREF(exc);
    return status;
}

/* Runs module `name` as __main__, as `python -m name` does (runpy._run_module_as_main,
 * sys.argv left as configured), from any thread. Returns its exit status. */
int pyfreeze_build_run_module(const char *name)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int status = 0;
    PyObject *runpy = PyImport_ImportModule("runpy");
    PyObject *result = NULL;
    if (runpy != NULL) {
        result = PyObject_CallMethod(runpy, "_run_module_as_main", "si", name, 0);
        Py_DECREF(runpy);
    }
    if (result == NULL)
        status = pyfreeze_exit_status();
    Py_XDECREF(result);
    pyfreeze_flush();
    PyGILState_Release(gil);
    return status;
}

/* Finalises CPython from the thread that started it: 0, or -1 when flushing buffered data
 * failed (Py_FinalizeEx). */
int pyfreeze_build_finalize(void)
{
    if (pyfreeze_main_thread == NULL)
        return 0;
    PyEval_RestoreThread(pyfreeze_main_thread);
    pyfreeze_main_thread = NULL;
    return Py_FinalizeEx();
}
