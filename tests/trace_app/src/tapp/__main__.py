"""The app that tests/trace.rs runs under `pyfreeze trace -m tapp`."""
import importlib
import json
import sys

from tapp import util


def main():
    import pathlib  # imported only when main() runs

    print(json.dumps({"path": str(pathlib.PurePosixPath("a", "b")), "n": util.twice(2)}))
    import csv  # loaded, then deleted from sys.modules: it still counts

    del sys.modules["csv"]
    importlib.import_module("colorsys")  # through importlib, then deleted too
    del sys.modules["colorsys"]
    if sys.argv[1:] == ["fail"]:
        sys.stderr.write("tapp: asked to fail\n")
        sys.exit(3)


main()
