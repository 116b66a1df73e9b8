/* CPython start-up for game-embed. In C because PyConfig's layout differs between CPython
 * versions; compiled against the target's Python.h by pyfreeze-build (Build::c_file).
 *
 * Mirrors examples/embed-c/main.c: an isolated configuration, no site, no bytecode writing,
 * and sys.path = [lib-dynload] only, so every pure module comes from the frozen table. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>

static int fail(PyConfig *config, PyStatus status)
{
    PyConfig_Clear(config);
    if (PyStatus_IsExit(status))
        return status.exitcode;
    fprintf(stderr, "game-embed: CPython did not start: %s%s%s\n", status.func ? status.func : "",
            status.func ? ": " : "", status.err_msg ? status.err_msg : "unknown error");
    return -1;
}

/* Initialises CPython with `dynload` as the only sys.path entry and `argv` as sys.argv.
 * Returns 0, or non-zero after printing why it did not start. Call pyfreeze_install() first. */
int game_python_start(const char *dynload, int argc, char **argv)
{
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.pathconfig_warnings = 0;
    config.module_search_paths_set = 1;

    wchar_t *path = Py_DecodeLocale(dynload, NULL);
    if (path == NULL) {
        PyConfig_Clear(&config);
        fprintf(stderr, "game-embed: cannot decode the path %s\n", dynload);
        return -1;
    }
    PyStatus status = PyWideStringList_Append(&config.module_search_paths, path);
    PyMem_RawFree(path);
    if (PyStatus_Exception(status))
        return fail(&config, status);
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (PyStatus_Exception(status))
        return fail(&config, status);
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status))
        return fail(&config, status);
    PyConfig_Clear(&config);
    return 0;
}
