"""The app package."""
from app.core import run
