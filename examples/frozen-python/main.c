/* frozen-python: CPython's `python` command with pyfreeze's tables installed first.
 *
 * Everything else is CPython's own main (Programs/python.c is this call): the command line
 * (-c, -m, -I, a script, the REPL), the environment, site, getpath (sys.prefix from the
 * libpython's compiled-in prefix, pyvenv.cfg in a venv). The pure stdlib and the packages of
 * pyfreeze.toml come from the table, ahead of any file on sys.path.
 */
#include <Python.h>
#include <stdio.h>

#include "pyfreeze.h"

int main(int argc, char **argv)
{
    /* Before Py_BytesMain initialises: the table serves even the modules of start-up. */
    if (pyfreeze_install() < 0) {
        fprintf(stderr, "%s: pyfreeze_install() failed\n", argc > 0 ? argv[0] : "python");
        return 1;
    }
    return Py_BytesMain(argc, argv);
}
