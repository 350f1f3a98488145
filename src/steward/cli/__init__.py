"""The ``steward`` command. Every command that reports accepts ``--json`` and then prints one
JSON document on standard output; progress bars go to standard error."""

from steward.cli import admin, data, demo, knowledge, offers  # noqa: F401  (each registers commands)
from steward.cli.common import app

__all__ = ["app"]
