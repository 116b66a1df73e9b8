"""A tiny game whose rules live in Python, frozen into the game-embed binary.

The Rust host calls `new_world(level)` once, then `World.tick(n)` once per frame.
"""

import json
import sys

from game.world import World

__all__ = ["World", "new_world", "info"]


def new_world(level):
    """Loads `levels/<level>.json`, a data file frozen with the package."""
    return World.load(level)


def info():
    """Where things come from, as JSON: the host prints it for `--info`."""
    import importlib.resources

    return json.dumps(
        {
            "python": ".".join(map(str, sys.version_info[:3])),
            "sys_path": sys.path,
            "game_file": __file__,
            "loader": getattr(__loader__, "__name__", type(__loader__).__name__),
            "json_file": json.__file__,
            "levels": sorted(
                p.name for p in importlib.resources.files(__name__).joinpath("levels").iterdir()
            ),
            "source_lines": len(__loader__.get_source(__name__).splitlines()),
        },
        sort_keys=True,
    )
