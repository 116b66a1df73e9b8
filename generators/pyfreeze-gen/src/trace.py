# pyfreeze trace: runs an app under the *target* interpreter and records every module it
# loads. Runs as a file with -I (and -S unless the user asks for site); it must work on 3.8+
# and import nothing of its own while the app runs, so what it records is the app's.
#
#   python -I [-S] -B trace.py RESULT MODE TARGET TRACEBACK NROOTS ROOT... ARG...
#
# MODE is "module" (run TARGET as __main__, like -m), "script" (run the file TARGET as
# __main__) or "import" (import each comma-separated name of TARGET). The ROOTs go first on
# sys.path. With TRACEBACK "hook", once the app has returned, sys.excepthook prints a
# traceback into a buffer, so what the interpreter needs to report an error (3.13: traceback
# and its imports) is recorded too; "runtime" also prints one with traceback.print_exception,
# as pyfreeze's stock-libpython runtime does on every version; "0" does neither. RESULT receives, one per line, tab-separated:
#   S name origin    in sys.modules before the app ran (interpreter start-up)
#   M name origin    in sys.modules when the app finished
#   I name           an import the app started (audit hook "import", and a recording
#                    meta-path finder for importlib.import_module), even if later deleted
#   X status         the app's exit status
# origin is the module spec's origin (a path, "frozen", "built-in") or __file__, or empty.
# Aliases (a sys.modules key that is not the module's own name, as importlib._bootstrap for
# _frozen_importlib or os.path) are left out: nothing imports them from a file or table.
import sys

_STARTUP = list(sys.modules.items())


def _origin(module):
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) if spec is not None else None
    if origin is None:
        origin = getattr(module, "__file__", None)
    return origin if isinstance(origin, str) else ""


class _Recorder:
    """A meta-path finder that finds nothing and records what was looked for: imports
    through importlib (import_module), which raise no "import" audit event."""

    def __init__(self, names, recording):
        self.names = names
        self.recording = recording

    def find_spec(self, name, path=None, target=None):
        if self.recording[0]:
            self.names.append(name)
        return None

    def find_module(self, name, path=None):  # 3.8, 3.9 fall back to it
        return None

    def invalidate_caches(self):
        pass


def _run_main(code, origin, spec, args):
    main = type(sys)("__main__")
    main.__file__ = origin
    main.__spec__ = spec
    main.__loader__ = getattr(spec, "loader", None)
    main.__package__ = spec.parent if spec is not None else None
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    sys.argv[:] = [origin] + args
    exec(code, main.__dict__)


def _run(mode, target, args):
    if mode == "import":
        for name in target.split(","):
            __import__(name)
        return
    if mode == "script":
        sys.path.insert(0, target.rpartition("/")[0] or ".")
        with open(target, "rb") as f:
            source = f.read()
        _run_main(compile(source, target, "exec", dont_inherit=True), target, None, args)
        return
    # -m: what runpy does, without importing runpy (which the app may not need).
    bootstrap = sys.modules["_frozen_importlib"]
    name = target
    for _ in range(2):
        parent = name.rpartition(".")[0]
        path = None
        if parent:
            __import__(parent)
            path = sys.modules[parent].__path__
        spec = bootstrap._find_spec(name, path)
        if spec is None:
            raise ImportError("No module named %r" % name, name=name)
        if spec.submodule_search_locations is None:
            break
        __import__(name)
        name += ".__main__"
    else:
        raise ImportError("%s is a package and cannot be executed" % target, name=target)
    code = spec.loader.get_code(name)
    _run_main(code, spec.origin, spec, args)


def _print_a_traceback(runtime):
    io = sys.modules["io"]  # loaded by start-up
    try:
        raise RuntimeError("pyfreeze trace: what printing a traceback imports")
    except RuntimeError:
        saved, sys.stderr = sys.stderr, io.StringIO()
        try:
            sys.excepthook(*sys.exc_info())
            if runtime:  # _pyfreeze_runtime's excepthook
                import traceback

                traceback.print_exception(*sys.exc_info())
        finally:
            sys.stderr = saved


def _records(tag, items):
    lines = []
    for name, module in items:
        spec = getattr(module, "__spec__", None)
        if spec is not None and getattr(spec, "name", name) != name and name != "__main__":
            continue
        lines.append("%s\t%s\t%s" % (tag, name, _origin(module)))
    return lines


def _exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write("%s\n" % (code,))
    return 1


def main():
    argv = sys.argv[1:]
    result, mode, target, with_traceback = argv[0], argv[1], argv[2], argv[3]
    nroots = int(argv[4])
    roots = argv[5:5 + nroots]
    args = argv[5 + nroots:]
    events = []
    recording = [True]

    def hook(event, event_args):
        if event == "import" and recording[0]:
            events.append(event_args[0])

    sys.addaudithook(hook)
    sys.meta_path.insert(0, _Recorder(events, recording))
    sys.path[0:0] = roots
    status, error = 0, None
    try:
        _run(mode, target, args)
    except SystemExit as e:
        status = _exit_status(e.code)
    except BaseException as e:
        status, error = 1, e
    if status == 0 and error is None and with_traceback != "0":
        _print_a_traceback(with_traceback == "runtime")
    recording[0] = False
    loaded = _records("M", list(sys.modules.items()))
    if error is not None:
        import traceback

        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # the tracer's own frames
        traceback.print_exception(type(error), error, tb)
    lines = _records("S", _STARTUP) + loaded
    lines += ["I\t%s" % name for name in events]
    lines.append("X\t%d" % status)
    with open(result, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("\n".join(lines) + "\n")
    return status


sys.exit(main())
