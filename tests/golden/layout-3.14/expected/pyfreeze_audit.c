/* pyfreeze: removing the stock runtime's activation audit hook once its work is done. Copied
 * verbatim into every output folder that has the stock runtime (pyfreeze_runtime.c), and
 * compiled like it, against the target interpreter's headers.
 *
 * pyfreeze_install() before Py_Initialize() registers a C audit hook, the only way to run code
 * at the first import of initialisation; the C API cannot remove one. While any hook is
 * registered, every audited operation of the process builds its event's arguments, and
 * `marshal.loads` (every unmarshalled module) copies the whole marshalled code into a `bytes`
 * for it: 1.5 % of an import loop of the stdlib. The hook's work ends early in initialisation,
 * so the runtime unlinks it from the runtime's hook list through CPython's internal layout of
 * `_PyRuntime`, which is why this file is compiled as core code, on its own: the rest of the
 * runtime keeps to the public API.
 *
 * It only ever unlinks: the entry is never freed (sys_audit_tstate is walking the list, through
 * this very entry, while the hook runs, and other threads may walk it too; the entry keeps its
 * `next`), and it is kept reachable below. It does nothing unless the running libpython is
 * exactly the version of these headers, since the layout of `_PyRuntime` is internal.
 *
 * A patched CPython compiles the generated files without Python's headers (its objects.mk):
 * there this file is empty, as that CPython's runtime registers no hook.
 */
#if defined(__has_include)
#if __has_include(<Python.h>)
#define PYFREEZE_AUDIT_WITH_PYTHON 1
#endif
#endif

#ifndef PYFREEZE_AUDIT_WITH_PYTHON
typedef int pyfreeze_audit_compiled_without_python_h; /* (ISO C wants a declaration) */
#else

#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_audit.h" /* (3.14 moved _Py_AuditHookEntry there) */
#endif
#include "internal/pycore_runtime.h"
#if PY_VERSION_HEX >= 0x030C0000
#define PF_HEAD (_PyRuntime.audit_hooks.head)
#else
#define PF_HEAD (_PyRuntime.audit_hook_head)
#endif

/* Whether the running libpython is the one these headers describe. */
static int same_version(void)
{
#if PY_VERSION_HEX >= 0x030B0000
    return Py_Version == PY_VERSION_HEX;
#else
    const char *running = Py_GetVersion();
    size_t n = strlen(PY_VERSION);
    return strncmp(running, PY_VERSION, n) == 0 && (running[n] == ' ' || running[n] == '\0');
#endif
}

/* The entries unlinked so far, kept reachable (one per initialisation that activated through
 * the hook). */
static _Py_AuditHookEntry **unlinked;
static size_t unlinked_count;

/* Unlinks every entry of (hook, data) from the runtime's list (pyfreeze_install() called twice
 * registers two): "removed", or "kept: " and why. Called by the hook itself, with the GIL. */
const char *pyfreeze_audit_hook_remove(Py_AuditHookFunction hook, void *data)
{
    if (!same_version())
        return "kept: the running libpython is not the version of the headers it was compiled with";
    const char *result = "kept: not in the runtime's list of audit hooks";
#if PY_VERSION_HEX >= 0x030D0000
    PyMutex_Lock(&_PyRuntime.audit_hooks.mutex);
#elif PY_VERSION_HEX >= 0x030C0000
    PyThread_type_lock lock = _PyRuntime.audit_hooks.mutex;
    if (lock != NULL)
        PyThread_acquire_lock(lock, WAIT_LOCK);
#endif
    _Py_AuditHookEntry **link = &PF_HEAD;
    while (*link != NULL) {
        _Py_AuditHookEntry *e = *link;
        if (e->hookCFunction != hook || e->userData != data) {
            link = &e->next;
            continue;
        }
        _Py_AuditHookEntry **room = realloc(unlinked, (unlinked_count + 1) * sizeof *unlinked);
        if (room == NULL) {
            result = "kept: out of memory";
            break;
        }
        unlinked = room;
        unlinked[unlinked_count++] = e;
        *link = e->next; /* e->next stays as it is, for whoever stands at e */
        result = "removed";
    }
#if PY_VERSION_HEX >= 0x030D0000
    PyMutex_Unlock(&_PyRuntime.audit_hooks.mutex);
#elif PY_VERSION_HEX >= 0x030C0000
    if (lock != NULL)
        PyThread_release_lock(lock);
#endif
    return result;
}

#endif /* PYFREEZE_AUDIT_WITH_PYTHON */
