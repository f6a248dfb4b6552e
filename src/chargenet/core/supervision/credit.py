"""Operators' credit records (信用惩戒, R38) and designations of demonstration townships,
villages and roads.

A penalty is a fact a regulator records: against which operator, why, how many points,
decided when, on what source (an inspection, an incident, a decision's number). The
operator may appeal; the appeal's decision upholds or overturns it. Points that stand,
decided in a period, lower the operator's scorecard (`credit` metric).
"""

from __future__ import annotations

from enum import StrEnum

MAX_POINTS = 100


class AppealState(StrEnum):
    NONE = "none"
    PENDING = "pending"
    UPHELD = "upheld"  # the penalty stands
    OVERTURNED = "overturned"  # the penalty is withdrawn: its points no longer count


class DemonstrationKind(StrEnum):
    """示范乡镇 / 示范村 / 示范路: the places plans designate as demonstrations (R38)."""

    TOWNSHIP = "township"
    VILLAGE = "village"
    ROAD = "road"
