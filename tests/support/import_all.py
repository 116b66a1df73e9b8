"""Run by a stock interpreter: which of the given modules import? One JSON object out."""
import json
import sys

errors = {}
for name in sys.argv[1:]:
    try:
        __import__(name)
    except BaseException as e:  # noqa: BLE001
        errors[name] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(errors))
