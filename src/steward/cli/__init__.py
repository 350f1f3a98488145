"""The ``steward`` command. Every command that reports accepts ``--json`` and then prints one
JSON document on standard output; progress bars go to standard error."""

from steward.cli import (  # noqa: F401  (each module registers its commands)
    admin,
    campaigns,
    data,
    demo,
    evaluate,
    events,
    knowledge,
    models,
    offers,
    ops,
    policy,
    simulate,
)
from steward.cli.common import app

__all__ = ["app"]
