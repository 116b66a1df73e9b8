"""The world: a level's entities, advanced one tick at a time."""

import json
from importlib import resources

from game.entities import Entity


class World:
    def __init__(self, name, entities):
        self.name = name
        self.entities = entities

    @classmethod
    def load(cls, level):
        text = resources.files("game").joinpath("levels", f"{level}.json").read_text(encoding="utf-8")
        data = json.loads(text)
        return cls(data["name"], [Entity(**e) for e in data["entities"]])

    def describe(self):
        names = ", ".join(e.name for e in self.entities)
        return f"level {self.name!r}: {len(self.entities)} entities ({names})"

    def tick(self, n):
        for entity in self.entities:
            entity.update(n)
        alive = [e for e in self.entities if e.hp > 0]
        return f"tick {n}: " + "; ".join(str(e) for e in alive)
