"""``python -m steward.cli``: the same command as ``steward``."""

from steward.cli import app

app()
