# pyfreeze compile worker. Runs under the *target* interpreter (3.10+), never the host's, and
# also under a CPython build's `_bootstrap_python`, so it imports as little as possible.
#
#   python -S -s -B worker.py probe          -> one JSON object on stdout, then exit
#   python -S -s -B worker.py compile OPT    -> serve compile batches on stdin/stdout
#
# Batch protocol (all integers big-endian u32):
#   request  = len, count, count * (len origin-utf8, len source-bytes)
#   response = len, count, count * (status u8, len payload)
#   status 0: payload = marshal.dumps(code); 1: SyntaxError, 2: other error, payload = "line\ncol\nmessage"
# The source is compiled from bytes, so PEP 263 cookies and BOMs are honoured exactly as the
# import system does; co_filename is the origin the Rust side chose (its prefix map applied).
import sys


def probe():
    import importlib.util
    import json
    import marshal

    keys = ("LIBPL", "LIBRARY", "LDLIBRARY", "LIBS", "SYSLIBS", "LINKFORSHARED",
            "INCLUDEPY", "DESTSHARED", "VERSION", "Py_ENABLE_SHARED", "EXT_SUFFIX")
    try:
        import sysconfig

        stdlib = sysconfig.get_paths()["stdlib"]
        config = {k: str(sysconfig.get_config_var(k) or "") for k in keys}
    except Exception:  # a build tree's _bootstrap_python has no _sysconfigdata yet
        import os

        stdlib = os.path.dirname(os.__file__)
        config = {}
    info = {
        "implementation": sys.implementation.name,
        "version": list(sys.version_info[:3]),
        "releaselevel": sys.version_info.releaselevel,
        "hexversion": sys.hexversion,
        "magic": int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little"),
        "marshal_version": marshal.version,
        "cache_tag": sys.implementation.cache_tag,
        "executable": sys.executable,
        "stdlib": stdlib,
        "config": config,
    }
    sys.stdout.write(json.dumps(info, sort_keys=True))


def serve(optimize):
    import marshal

    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer

    def u32(n):
        return n.to_bytes(4, "big")

    def at(data, pos):
        return int.from_bytes(data[pos:pos + 4], "big")

    def read_exact(n):
        chunks = []
        while n:
            chunk = stdin.read(n)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    while True:
        header = stdin.read(4)
        if not header:
            return
        body = read_exact(at(header, 0))
        pos = 0

        def take():
            nonlocal pos
            n = at(body, pos)
            pos += 4 + n
            return body[pos - n:pos]

        count = at(body, 0)
        pos = 4
        out = [u32(count)]
        for _ in range(count):
            origin = take().decode("utf-8", "surrogateescape")
            source = take()
            try:
                code = compile(source, origin, "exec", dont_inherit=True, optimize=optimize)
                status, payload = 0, marshal.dumps(code)
            except SyntaxError as e:
                status = 1
                payload = "%s\n%s\n%s" % (e.lineno or 0, e.offset or 0, e.msg)
            except Exception as e:  # ValueError for NUL bytes on 3.10, for example
                status = 2
                payload = "0\n0\n%s: %s" % (type(e).__name__, e)
            if status:
                payload = payload.encode("utf-8", "backslashreplace")
            out.append(bytes((status,)))
            out.append(u32(len(payload)))
            out.append(payload)
        data = b"".join(out)
        stdout.write(u32(len(data)))
        stdout.write(data)
        stdout.flush()


if sys.argv[1] == "probe":
    probe()
else:
    serve(int(sys.argv[2]))
