"""A package frozen by the build-support tests."""

from app.util import double
