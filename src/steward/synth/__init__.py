"""The synthetic province: operator interface files for N subscribers over D days."""

from steward.synth.service import GenerateSummary, generate

__all__ = ["GenerateSummary", "generate"]
