"""``python -m adscreen.cli``: the same command as ``adscreen``."""

from adscreen.cli import app

app()
