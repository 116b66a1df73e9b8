/* An embedder's own C audit hooks beside the stock runtime's activation hook, which the runtime
   unlinks from the interpreter runtime's list once its work is done (pyfreeze_audit.c): one
   hook registered before pyfreeze_install() (ahead of the runtime's in the list), one after
   (behind it). Two rounds of Py_Initialize()/Py_FinalizeEx() (hooks are dropped at
   finalisation: each round registers all three again), then a third that calls
   pyfreeze_install() after Py_Initialize() (no hook: the runtime activates at once). Each
   round prints, after an import of a frozen module and one `sys.audit("embedder.check")`: the
   runtime's report of its hook, the loader of the module, and how many times each embedder
   hook saw the check event. */
#include <Python.h>
#include <string.h>

#include "pyfreeze.h"

static int seen[2];

static int embedder_hook(const char *event, PyObject *args, void *data)
{
    (void)args;
    if (strcmp(event, "embedder.check") == 0)
        seen[*(int *)data]++;
    return 0;
}

int main(void)
{
    static int first = 0, second = 1;
    for (int round = 1; round <= 3; round++) {
        seen[0] = seen[1] = 0;
        int late = round == 3;
        if (PySys_AddAuditHook(embedder_hook, &first) < 0 || (!late && pyfreeze_install() < 0) ||
            PySys_AddAuditHook(embedder_hook, &second) < 0) {
            fprintf(stderr, "audit_hooks: set-up failed\n");
            return 1;
        }
        Py_Initialize();
        if (late && pyfreeze_install() < 0) {
            fprintf(stderr, "audit_hooks: pyfreeze_install() after Py_Initialize() failed\n");
            return 1;
        }
        char code[512];
        snprintf(code, sizeof code,
                 "import sys, _pyfreeze, hooked\n"
                 "sys.audit('embedder.check')\n"
                 "print('round %d', _pyfreeze.activation_hook(), type(hooked.__loader__).__name__, end=' ', flush=True)\n",
                 round);
        if (PyRun_SimpleString(code) != 0)
            return 1;
        printf("%d %d\n", seen[0], seen[1]);
        fflush(stdout);
        if (Py_FinalizeEx() < 0)
            return 1;
    }
    return 0;
}
