/* embed-c: a C program with the whole pure-Python stdlib and its app frozen in.
 *
 *   embed-c [ARGS...]         runs the app: `python -m mygame ARGS...`
 *   embed-c --run FILE [ARGS] runs FILE as __main__ (used by the tests)
 *   embed-c -c CODE [ARGS]    runs CODE as __main__, as `python -c` (the appliance test:
 *                             a program alone in an empty root has no file to run)
 *   embed-c --pack FILE ...   first adds the pack FILE (`pyfreeze pack`), imported from before
 *                             the frozen table; --pack-memory FILE reads it into memory first,
 *                             as a game does with a mod it downloaded (both can repeat)
 *   embed-c --path ENTRY ...  puts ENTRY (a pack file, a folder) on sys.path before lib-dynload,
 *                             from start-up on (can repeat; in the order given)
 *
 * sys.path holds only the interpreter's extension-module folder (lib-dynload): every pure
 * module, stdlib or app, comes from the frozen tables.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyfreeze.h"

#ifndef EMBED_DYNLOAD
#error "define EMBED_DYNLOAD as the interpreter's lib-dynload folder (the Makefile does)"
#endif

static int fail(PyConfig *config, PyStatus status)
{
    PyConfig_Clear(config);
    if (PyStatus_IsExit(status))
        return status.exitcode;
    Py_ExitStatusException(status);
}

/* Reads FILE into memory that stays allocated while Python runs, and adds it as a pack. */
static int add_pack_memory(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    size_t size = 0, capacity = 1 << 16;
    unsigned char *data = malloc(capacity);
    size_t got;
    while (data != NULL && (got = fread(data + size, 1, capacity - size, f)) > 0) {
        size += got;
        if (size == capacity) {
            unsigned char *bigger = realloc(data, capacity *= 2);
            if (bigger == NULL)
                free(data);
            data = bigger;
        }
    }
    fclose(f);
    if (data == NULL) {
        fprintf(stderr, "embed-c: out of memory reading %s\n", path);
        return -1;
    }
    return pyfreeze_add_pack_memory(data, size, path);
}

int main(int argc, char **argv)
{
    /* Before Py_Initialize: the table serves even the modules imported during start-up. */
    if (pyfreeze_install() < 0) {
        fprintf(stderr, "embed-c: pyfreeze_install() failed\n");
        return 1;
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.pathconfig_warnings = 0;
    config.module_search_paths_set = 1;

    PyStatus status;
    while (argc >= 3 && (strcmp(argv[1], "--pack") == 0 || strcmp(argv[1], "--pack-memory") == 0 ||
                         strcmp(argv[1], "--path") == 0)) {
        if (strcmp(argv[1], "--path") == 0) {
            wchar_t *entry = Py_DecodeLocale(argv[2], NULL);
            if (entry == NULL) {
                fprintf(stderr, "embed-c: cannot decode %s\n", argv[2]);
                PyConfig_Clear(&config);
                return 1;
            }
            status = PyWideStringList_Append(&config.module_search_paths, entry);
            PyMem_RawFree(entry);
            if (PyStatus_Exception(status))
                return fail(&config, status);
        } else {
            int rc = strcmp(argv[1], "--pack") == 0 ? pyfreeze_add_pack_file(argv[2]) : add_pack_memory(argv[2]);
            if (rc < 0) {
                fprintf(stderr, "embed-c: %s\n", pyfreeze_pack_error());
                PyConfig_Clear(&config);
                return 1;
            }
        }
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }

    wchar_t *dynload = Py_DecodeLocale(EMBED_DYNLOAD, NULL);
    if (dynload == NULL) {
        fprintf(stderr, "embed-c: cannot decode %s\n", EMBED_DYNLOAD);
        return 1;
    }
    status = PyWideStringList_Append(&config.module_search_paths, dynload);
    PyMem_RawFree(dynload);
    if (PyStatus_Exception(status))
        return fail(&config, status);

    if (argc >= 3 && strcmp(argv[1], "--run") == 0) {
        status = PyConfig_SetBytesString(&config, &config.run_filename, argv[2]);
        if (PyStatus_Exception(status))
            return fail(&config, status);
        status = PyConfig_SetBytesArgv(&config, argc - 2, argv + 2);
    } else if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
        /* As `python -c`: sys.argv is ["-c", ARGS...]; the program keeps its own name. */
        status = PyConfig_SetBytesString(&config, &config.run_command, argv[2]);
        if (PyStatus_Exception(status))
            return fail(&config, status);
        status = PyConfig_SetBytesString(&config, &config.program_name, argv[0]);
        if (PyStatus_Exception(status))
            return fail(&config, status);
        argv[2] = argv[1];
        status = PyConfig_SetBytesArgv(&config, argc - 2, argv + 2);
    } else {
        status = PyConfig_SetString(&config, &config.run_module, L"mygame");
        if (PyStatus_Exception(status))
            return fail(&config, status);
        status = PyConfig_SetBytesArgv(&config, argc, argv);
    }
    if (PyStatus_Exception(status))
        return fail(&config, status);

    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status))
        return fail(&config, status);
    PyConfig_Clear(&config);
    return Py_RunMain();
}
