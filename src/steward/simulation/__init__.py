"""Simulations that play the world outside Steward, for the demo; never used by decisions."""
