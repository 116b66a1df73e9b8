/* Initialises and finalises the interpreter three times, importing frozen modules each time:
   the static (deep-frozen) code objects are interned on first use, finalised at exit and must
   be interned again by the next interpreter. The second round runs with -X frozen_ext=off
   (files on disk win): each interpreter follows its own config, not the first one's. Set
   constants must be frozensets in every round (deep-frozen code holds them as tuples until
   first use, and gets them back at exit), and json.dumps runs often enough to be quickened:
   on 3.11 its static code must be quickened after the loop and reset when the next round
   starts; on 3.13 its call of a static function must be specialised after the loop (which
   needs the version that function got) and it must start each round as quickening leaves it
   (as freshly unmarshalled code is), although the first round ends with sys.monitoring
   instrumenting it. The same for a function of CPython's bootstrap modules (deep-frozen on
   3.13 too), which start-up does not run: specialised by round 1, as unmarshalled when each
   round starts. Prints one line per round, with the loader of json. */
#include <Python.h>

int
main(void)
{
    for (int round = 1; round <= 3; round++) {
        PyConfig config;
        PyConfig_InitIsolatedConfig(&config);
        PyStatus status = PyStatus_Ok();
        if (round == 2) {
            status = PyWideStringList_Append(&config.xoptions, L"frozen_ext=off");
        }
        if (!PyStatus_Exception(status)) {
            status = Py_InitializeFromConfig(&config);
        }
        PyConfig_Clear(&config);
        if (PyStatus_Exception(status)) {
            Py_ExitStatusException(status);
        }
        char code[8192];
        int n = snprintf(code, sizeof code,
                 "import sys\n"
                 "r = %d\n"
                 "if sys.version_info >= (3, 13):\n"
                 "    import _frozen_importlib_external as ext, _imp, marshal\n"
                 "    data = _imp.find_frozen('_frozen_importlib_external', withdata=True)[0]\n"
                 "    boot = [c for c in marshal.loads(data).co_consts\n"
                 "            if getattr(c, 'co_name', '') == 'decode_source'][0]\n"
                 "    served = ext.decode_source.__code__\n"
                 "    assert served._co_code_adaptive == boot._co_code_adaptive, r\n"
                 "    for _ in range(50):\n"
                 "        assert ext.decode_source(b'x = 1\\r\\n') == 'x = 1\\n'\n"
                 "    assert served._co_code_adaptive != boot._co_code_adaptive, r\n"
                 "import json, os, zipimport, email.mime.text, decimal, inspect\n"
                 "dumps = json.dumps.__code__\n"
                 "# 3.11 quickens code when it warms up: the static code's instructions, quickened\n"
                 "# in round 1, must have been reset at exit.\n"
                 "check = sys.version_info < (3, 12) and r != 2\n"
                 "assert not check or dumps._co_code_adaptive == dumps.co_code, r\n"
                 "# 3.13 specialises it, and must have put back the quickened instructions at exit.\n"
                 "check13 = sys.version_info >= (3, 13) and r != 2\n"
                 "if check13:\n"
                 "    import marshal, _imp\n"
                 "    top = marshal.loads(_imp.find_frozen('json', withdata=True)[0])\n"
                 "    fresh = [c for c in top.co_consts if getattr(c, 'co_name', '') == 'dumps'][0]\n"
                 "    assert dumps._co_code_adaptive == fresh._co_code_adaptive, r\n"
                 "for _ in range(50):\n"
                 "    assert json.loads(json.dumps({'a': [1]})) == {'a': [1]}\n"
                 "assert not check or dumps._co_code_adaptive != dumps.co_code, r\n"
                 "if check13:\n"
                 "    # Specialised calls of static code: they need the version a function made\n"
                 "    # from it was given (patch 0005, PyFunction_NewWithQualName).\n"
                 "    import dis\n"
                 "    ops = {i.opname for i in dis.get_instructions(json.dumps, adaptive=True)}\n"
                 "    assert ops & {'CALL_PY_EXACT_ARGS', 'CALL_BOUND_METHOD_EXACT_ARGS'}, (r, ops)\n"
                 "if r == 1 and sys.version_info >= (3, 12):\n"
                 "    m = sys.monitoring\n"
                 "    m.use_tool_id(3, 'reinit')\n"
                 "    m.register_callback(3, m.events.LINE, lambda *a: None)\n"
                 "    m.set_events(3, m.events.LINE)\n"
                 "    json.dumps([1])\n"
                 "assert 'def dumps' in inspect.getsource(json)\n"
                 "import _markupbase\n"
                 "code = _markupbase.ParserBase.parse_marked_section.__code__\n"
                 "sets = [c for c in code.co_consts if type(c) is frozenset]\n"
                 "assert frozenset({'if', 'else', 'endif'}) in sets, code.co_consts\n"
                 "loader = json.__loader__\n"
                 "print('round %d', decimal.Decimal('1.5') * 2, os.path.basename(json.__file__),\n"
                 "      getattr(loader, '__name__', type(loader).__name__))\n",
                 round, round);
        if (n < 0 || (size_t)n >= sizeof code) {
            return 3;
        }
        if (PyRun_SimpleString(code) != 0) {
            return 1;
        }
        if (Py_FinalizeEx() < 0) {
            return 2;
        }
    }
    return 0;
}
