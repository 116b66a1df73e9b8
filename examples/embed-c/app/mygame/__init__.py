"""A tiny "game" whose code and data are frozen into the embed-c binary."""

import importlib.resources
import sys

from mygame import engine


def levels():
    """The level list, read from package data with importlib.resources."""
    text = importlib.resources.files(__name__).joinpath("data/levels.txt").read_text(encoding="utf-8")
    return [line.split(":", 1) for line in text.splitlines() if line and not line.startswith("#")]


def main(argv):
    world = engine.World()
    for name, size in levels():
        world.load(name, int(size))
    for tick in range(3):
        world.tick()
        print(f"tick {tick}: {world.status()}")
    if "--crash" in argv:
        world.explode()
    return 0
