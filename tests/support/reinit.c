/* Initialises and finalises the interpreter three times, importing frozen modules each time:
   the static (deep-frozen) code objects are interned on first use, finalised at exit and must
   be interned again by the next interpreter. The second round runs with -X frozen_ext=off
   (files on disk win): each interpreter follows its own config, not the first one's. Set
   constants must be frozensets in every round (deep-frozen code holds them as tuples until
   first use, and gets them back at exit), and json.dumps runs often enough to be quickened:
   on 3.11 its static code must be quickened after the loop and reset when the next round
   starts. Prints one line per round, with the loader of json. */
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
        char code[2048];
        int n = snprintf(code, sizeof code,
                 "import json, os, sys, zipimport, email.mime.text, decimal, inspect\n"
                 "r = %d\n"
                 "dumps = json.dumps.__code__\n"
                 "# 3.11 quickens code when it warms up: the static code's instructions, quickened\n"
                 "# in round 1, must have been reset at exit.\n"
                 "check = sys.version_info < (3, 12) and r != 2\n"
                 "assert not check or dumps._co_code_adaptive == dumps.co_code, r\n"
                 "for _ in range(50):\n"
                 "    assert json.loads(json.dumps({'a': [1]})) == {'a': [1]}\n"
                 "assert not check or dumps._co_code_adaptive != dumps.co_code, r\n"
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
