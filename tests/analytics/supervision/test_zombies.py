"""Zombie-pile rules and the case life cycle, on constructed facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chargenet.analytics.supervision.zombies import (
    ChargerFacts,
    OpenCase,
    ZombieRules,
    detect,
    sweep,
)
from chargenet.core.oversight import ZombieRule

NOW = datetime(2025, 6, 1, tzinfo=UTC)
RULES = ZombieRules()


def facts(**kw: object) -> ChargerFacts:
    base: dict[str, object] = {
        "charger_id": "C1",
        "registered_at": NOW - timedelta(days=400),
        "public": True,
        "first_report_at": NOW - timedelta(days=399),
        "down_since": None,
        "available_since": None,
        "last_session_end": NOW - timedelta(days=1),
    }
    return ChargerFacts(**{**base, **kw})  # type: ignore[arg-type]


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def test_each_rule_fires_at_its_threshold_and_not_before() -> None:
    assert detect(facts(first_report_at=None, registered_at=days_ago(29)), NOW, RULES) is None
    never = detect(facts(first_report_at=None, registered_at=days_ago(30)), NOW, RULES)
    assert never is not None and never.rules == (ZombieRule.NEVER_CONNECTED,)
    assert detect(facts(down_since=days_ago(6.9)), NOW, RULES) is None
    down = detect(facts(down_since=days_ago(7)), NOW, RULES)
    assert down is not None and down.rules == (ZombieRule.LONG_DOWN,)
    assert down.since == days_ago(7)
    idle = detect(facts(available_since=days_ago(45), last_session_end=days_ago(31)), NOW, RULES)
    assert idle is not None and idle.rules == (ZombieRule.IDLE_AVAILABLE,)
    assert idle.since == days_ago(31)  # idle since the last session ended
    assert (
        detect(facts(available_since=days_ago(45), last_session_end=days_ago(29)), NOW, RULES)
        is None
    )
    failing = detect(facts(sessions=8, successful=0), NOW, RULES)
    assert failing is not None and failing.rules == (ZombieRule.FAILING_SESSIONS,)
    assert detect(facts(sessions=8, successful=2), NOW, RULES) is None  # 25 % succeed
    assert detect(facts(sessions=4, successful=0), NOW, RULES) is None  # too few to judge


def test_private_piles_are_not_idle_zombies_unless_configured() -> None:
    private_idle = facts(public=False, available_since=days_ago(60), last_session_end=None)
    assert detect(private_idle, NOW, RULES) is None
    strict = ZombieRules(idle_public_only=False, idle_days=10)
    found = detect(private_idle, NOW, strict)
    assert found is not None and found.rules == (ZombieRule.IDLE_AVAILABLE,)


def test_a_case_is_detected_notified_escalated_and_rectified() -> None:
    zombie = facts(down_since=days_ago(10))
    first = sweep([zombie], {}, NOW, RULES)
    assert [s.kind for s in first.steps] == ["detect", "notify"]
    assert first.steps[1].deadline == NOW + timedelta(days=15)

    case = OpenCase(
        "K1", "C1", notified=True, deadline=NOW + timedelta(days=15), escalation_level=0
    )
    assert sweep([zombie], {"C1": case}, NOW + timedelta(days=14), RULES).steps == []
    late = sweep([zombie], {"C1": case}, NOW + timedelta(days=15), RULES).steps
    assert [(s.kind, s.level, s.deadline) for s in late] == [
        ("escalate", 1, NOW + timedelta(days=30))
    ]
    final = OpenCase("K1", "C1", True, NOW + timedelta(days=30), 1)
    [last] = sweep([zombie], {"C1": final}, NOW + timedelta(days=31), RULES).steps
    assert (last.kind, last.level) == ("escalate", 2) and "exits the registry" in last.note
    exhausted = OpenCase("K1", "C1", True, NOW + timedelta(days=46), 2)
    assert sweep([zombie], {"C1": exhausted}, NOW + timedelta(days=50), RULES).steps == []
    auto = ZombieRules(auto_retire=True)
    [retire] = sweep([zombie], {"C1": exhausted}, NOW + timedelta(days=50), auto).steps
    assert retire.kind == "retire"

    repaired = facts(down_since=None)
    [fixed] = sweep([repaired], {"C1": case}, NOW + timedelta(days=3), RULES).steps
    assert (fixed.kind, fixed.case_id) == ("rectified", "K1")


def test_a_case_whose_charger_left_the_registry_is_closed_as_retired() -> None:
    case = OpenCase("K9", "GONE", True, NOW, 0)
    [step] = sweep([], {"GONE": case}, NOW, RULES).steps
    assert (step.kind, step.case_id) == ("retire", "K9")


def test_a_charger_registered_before_its_commissioning_is_silent_only_from_then() -> None:
    """Imported ahead of installation, a charger is not a zombie for its wait: "never
    connected" counts from the commissioning its operator states."""
    waiting = facts(first_report_at=None, registered_at=days_ago(90), commissioned_at=days_ago(10))
    assert detect(waiting, NOW, RULES) is None
    late = detect(replace(waiting, commissioned_at=days_ago(31)), NOW, RULES)
    assert late is not None and late.rules == (ZombieRule.NEVER_CONNECTED,)
    assert late.since == days_ago(31) and "commissioning" in late.evidence
