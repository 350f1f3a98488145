"""The campaign loop's small province serves the real-time tests too."""

from tests.campaigns.test_batch import catalogue, d, people, policy, world

__all__ = ["catalogue", "d", "people", "policy", "world"]
