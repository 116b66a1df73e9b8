"""Entities and their per-tick behaviour."""


class Entity:
    def __init__(self, name, x, y, dx=0, dy=0, hp=10, fuse=None):
        self.name = name
        self.x, self.y = x, y
        self.dx, self.dy = dx, dy
        self.hp = hp
        self.fuse = fuse

    def update(self, tick):
        self.x += self.dx
        self.y += self.dy
        if self.fuse is not None:
            # A trap's blast weakens with the ticks left on its fuse.
            blast = 10 // (self.fuse - tick)
            self.hp -= blast

    def __str__(self):
        return f"{self.name}@({self.x},{self.y}) hp={self.hp}"
