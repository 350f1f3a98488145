"""The rule language: one condition syntax for segments, offers, triggers and policy.

A rule is SQL's boolean expression over tags (``brand = 'gotone' AND arpu_3m BETWEEN 50 AND
120 AND NOT complaint_sensitive``). ``parse_rule`` checks it against the tag catalogue;
``to_sql`` compiles it for the batch engines and ``to_python`` for one subscriber online, with
the same three-valued (NULL) meaning in both.
"""

from steward.rules.service import matches, parse_rule
from steward.rules.to_python import to_python
from steward.rules.to_sql import to_expression, to_sql
from steward.rules.types import Rule, RuleError, RuleEvaluationError, TagType

__all__ = [
    "Rule",
    "RuleError",
    "RuleEvaluationError",
    "TagType",
    "matches",
    "parse_rule",
    "to_expression",
    "to_python",
    "to_sql",
]
