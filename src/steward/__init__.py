"""Steward: a dedicated, intelligent customer manager for every subscriber."""
