"""Run by a stock interpreter: which of the given modules import? One JSON object out.
Usage: import_all.py [--path DIR]... NAME...; each DIR goes on sys.path first."""
import json
import sys

names = sys.argv[1:]
while names[:1] == ["--path"]:
    sys.path.insert(0, names[1])
    names = names[2:]
errors = {}
for name in names:
    try:
        __import__(name)
    except BaseException as e:  # noqa: BLE001
        errors[name] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(errors))
