"""Two arms' success rates compared: the lift, its confidence interval and a p-value (R-EVAL-5).

The interval of the difference is Newcombe's hybrid score interval (method 10 of Newcombe 1998,
Statistics in Medicine 17:873-890), built from each arm's Wilson score interval. Unlike the
textbook Wald interval it stays inside [-1, 1] and keeps its coverage for small arms and for
rates at 0 or 1, which a campaign's order rate often is. The p-value is the two-sided pooled
two-proportion z-test (the uncorrected chi-square test of a 2 x 2 table). The standard library
is enough: the normal CDF is ``math.erfc``, its quantile ``statistics.NormalDist.inv_cdf``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

METHOD = "newcombe-hybrid-score-interval; pooled-two-proportion-z-test"


@dataclass(frozen=True)
class ArmComparison:
    """One arm against the control; ``lift`` is ``rate_arm - rate_control`` (absolute)."""

    arm: str
    control: str
    n_arm: int
    successes_arm: int
    n_control: int
    successes_control: int
    rate_arm: float
    rate_control: float
    lift: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(
    *,
    arm: str,
    n_arm: int,
    successes_arm: int,
    control: str,
    n_control: int,
    successes_control: int,
    confidence: float = 0.95,
) -> ArmComparison:
    """Compare an arm's success rate with the control's.

    Raises ``ValueError`` for an empty arm (n = 0 has no rate, and an interval made up for it
    would look like evidence), for successes outside ``0..n`` and for a confidence level
    outside (0, 1). When both arms are all failures or all successes the pooled variance is 0
    and there is no evidence of a difference: the p-value is 1.0.
    """
    _check_arm(arm, n_arm, successes_arm)
    _check_arm(control, n_control, successes_control)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    z = NormalDist().inv_cdf((1.0 + confidence) / 2.0)
    rate_arm = successes_arm / n_arm
    rate_control = successes_control / n_control
    low, high = _newcombe(successes_arm, n_arm, successes_control, n_control, z)
    return ArmComparison(
        arm=arm,
        control=control,
        n_arm=n_arm,
        successes_arm=successes_arm,
        n_control=n_control,
        successes_control=successes_control,
        rate_arm=rate_arm,
        rate_control=rate_control,
        lift=rate_arm - rate_control,
        ci_low=low,
        ci_high=high,
        p_value=_pooled_z_p_value(successes_arm, n_arm, successes_control, n_control),
        method=METHOD,
        confidence=confidence,
    )


def _check_arm(name: str, n: int, successes: int) -> None:
    if n <= 0:
        raise ValueError(f"arm {name!r} is empty (n = {n}): it has no rate to compare")
    if not 0 <= successes <= n:
        raise ValueError(f"arm {name!r}: successes = {successes} is outside 0..{n}")


def wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of one rate, clamped so that it holds the rate itself."""
    rate = successes / n
    z2 = z * z
    centre = (rate + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At a rate of 0 or 1 rounding can leave the bound a hair past the rate.
    return max(0.0, min(rate, centre - half)), min(1.0, max(rate, centre + half))


def _newcombe(s1: int, n1: int, s2: int, n2: int, z: float) -> tuple[float, float]:
    p1, p2 = s1 / n1, s2 / n2
    l1, u1 = wilson(s1, n1, z)
    l2, u2 = wilson(s2, n2, z)
    lift = p1 - p2
    low = lift - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = lift + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


def _pooled_z_p_value(s1: int, n1: int, s2: int, n2: int) -> float:
    pooled = (s1 + s2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance == 0.0:  # both arms all failures or all successes
        return 1.0
    z = (s1 / n1 - s2 / n2) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))
