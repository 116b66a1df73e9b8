"""A top-level module."""
VALUE = 1
