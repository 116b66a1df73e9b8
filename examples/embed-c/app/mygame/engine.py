"""The game engine: a world of levels that advances one tick at a time."""


class World:
    def __init__(self):
        self.levels = {}
        self.ticks = 0

    def load(self, name, size):
        self.levels[name] = size

    def tick(self):
        self.ticks += 1
        for name in self.levels:
            self.levels[name] += 1

    def status(self):
        return ", ".join(f"{name}={size}" for name, size in sorted(self.levels.items()))

    def explode(self):
        raise RuntimeError(f"the world exploded after {self.ticks} ticks")
