"""The ``adscreen`` command (``adscreen.cli:app``): one module per command group over the library.

Importing a group's module registers its commands on ``app`` (``cli.app``), in the order ``--help``
lists them; rendering for the terminal lives in ``cli.render``.
"""

# isort: skip_file
from adscreen.cli import scoring, training, models, feedback, serving, analysis  # noqa: F401
from adscreen.cli.app import app

__all__ = ["app"]
