"""Zombie piles (R34): which chargers are zombies, and what each open case needs next.

A zombie pile is a charger registered as public infrastructure that does not serve
drivers. The rules and their defaults (all configurable, `ZombieRules`):

- never_connected: registered `never_connected_days` (30) ago — or commissioned that long
  ago, when its operator states a later commissioning — and never a status or presence
  report;
- long_down: every connector offline, faulted or out of service for `down_days` (7);
- idle_available: every connector claims available for `idle_days` (30), yet no session
  ended in that time (public stations only, unless `idle_public_only` is off);
- failing_sessions: at least `min_sessions` (5) sessions ended in `session_window_days`
  (30), of which at most `max_success_rate` (10 %) delivered `min_success_energy_wh`
  (100 Wh).

Each zombie is a case: detected → operator notified with a deadline (`rectify_days`) →
escalated when the deadline passes (`escalate_days` more, up to `max_escalations` levels)
→ closed: rectified (the rules stop holding: automatic), retired (the exit mechanism: the
pile leaves the registry) or dismissed (a regulator's judgement).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chargenet.core.oversight import ZombieRule


@dataclass(frozen=True)
class ZombieRules:
    never_connected_days: float = 30
    down_days: float = 7
    idle_days: float = 30
    idle_public_only: bool = True
    session_window_days: float = 30
    min_sessions: int = 5
    max_success_rate: float = 0.10
    min_success_energy_wh: int = 100
    rectify_days: float = 15
    escalate_days: float = 15
    max_escalations: int = 2
    auto_retire: bool = False  # retire when the last escalation's deadline passes


@dataclass(frozen=True, slots=True)
class ChargerFacts:
    """What the rules look at, for one charger (times UTC)."""

    charger_id: str
    registered_at: datetime
    public: bool
    first_report_at: datetime | None  # first status or presence report ever
    down_since: datetime | None  # every connector down (offline/faulted/unavailable) since
    available_since: datetime | None  # every connector claims available since
    last_session_end: datetime | None
    sessions: int = 0  # ended within the session window
    successful: int = 0  # of those, delivering at least min_success_energy_wh
    commissioned_at: datetime | None = None  # when its operator says it entered service


@dataclass(frozen=True, slots=True)
class Finding:
    charger_id: str
    rules: tuple[ZombieRule, ...]
    since: datetime
    evidence: str


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86_400


def detect(facts: ChargerFacts, now: datetime, rules: ZombieRules) -> Finding | None:
    """The zombie rules a charger meets now, or None."""
    hits: list[tuple[ZombieRule, datetime, str]] = []
    if facts.first_report_at is None:
        # Registered ahead of its installation, it is silent only from its commissioning.
        since, what = facts.registered_at, "registration"
        if facts.commissioned_at is not None and facts.commissioned_at > since:
            since, what = facts.commissioned_at, "commissioning"
        age = _days(now - since)
        if age >= rules.never_connected_days:
            hits.append((ZombieRule.NEVER_CONNECTED, since, f"silent since {what} ({age:.0f} d)"))
    elif facts.down_since is not None and _days(now - facts.down_since) >= rules.down_days:
        hits.append(
            (
                ZombieRule.LONG_DOWN,
                facts.down_since,
                f"every connector down for {_days(now - facts.down_since):.0f} d",
            )
        )
    if (
        facts.available_since is not None
        and (facts.public or not rules.idle_public_only)
        and _days(now - facts.available_since) >= rules.idle_days
    ):
        last = facts.last_session_end
        idle_from = max(facts.available_since, last) if last is not None else facts.available_since
        if last is None or _days(now - last) >= rules.idle_days:
            hits.append(
                (
                    ZombieRule.IDLE_AVAILABLE,
                    idle_from,
                    f"available, no session ended for {_days(now - idle_from):.0f} d",
                )
            )
    if facts.sessions >= rules.min_sessions:
        rate = facts.successful / facts.sessions
        if rate <= rules.max_success_rate:
            hits.append(
                (
                    ZombieRule.FAILING_SESSIONS,
                    now - timedelta(days=rules.session_window_days),
                    f"{facts.successful} of {facts.sessions} sessions delivered energy",
                )
            )
    if not hits:
        return None
    return Finding(
        facts.charger_id,
        tuple(h[0] for h in hits),
        min(h[1] for h in hits),
        "; ".join(h[2] for h in hits),
    )


@dataclass(frozen=True, slots=True)
class OpenCase:
    case_id: str
    charger_id: str
    notified: bool
    deadline: datetime | None
    escalation_level: int


@dataclass(frozen=True, slots=True)
class Step:
    """What a case needs now. `kind`: detect, notify, escalate, rectified, retire."""

    kind: str
    charger_id: str
    case_id: str | None = None
    finding: Finding | None = None
    deadline: datetime | None = None
    level: int = 0
    note: str = ""


@dataclass
class Sweep:
    """The steps one sweep takes, in order."""

    steps: list[Step] = field(default_factory=list)

    def of(self, kind: str) -> list[Step]:
        return [s for s in self.steps if s.kind == kind]


def sweep(
    facts: Iterable[ChargerFacts],
    open_cases: Mapping[str, OpenCase],
    now: datetime,
    rules: ZombieRules,
) -> Sweep:
    """Detect zombies and move open cases on. `open_cases` is keyed by charger id."""
    out = Sweep()
    seen: set[str] = set()
    for fact in facts:
        seen.add(fact.charger_id)
        finding = detect(fact, now, rules)
        case = open_cases.get(fact.charger_id)
        if case is None:
            if finding is not None:
                out.steps.append(Step("detect", fact.charger_id, finding=finding))
                out.steps.append(
                    Step(
                        "notify",
                        fact.charger_id,
                        deadline=now + timedelta(days=rules.rectify_days),
                    )
                )
            continue
        if finding is None:
            out.steps.append(
                Step(
                    "rectified",
                    fact.charger_id,
                    case.case_id,
                    note="the zombie rules no longer hold",
                )
            )
            continue
        out.steps += _follow_up(case, now, rules)
    for charger_id, case in open_cases.items():
        if charger_id not in seen:  # retired or gone from the registry meanwhile
            out.steps.append(Step("retire", charger_id, case.case_id, note="no longer in service"))
    return out


def _follow_up(case: OpenCase, now: datetime, rules: ZombieRules) -> list[Step]:
    if not case.notified:
        return [
            Step(
                "notify",
                case.charger_id,
                case.case_id,
                deadline=now + timedelta(days=rules.rectify_days),
            )
        ]
    if case.deadline is None or now < case.deadline:
        return []
    if case.escalation_level < rules.max_escalations:
        level = case.escalation_level + 1
        last = level == rules.max_escalations
        return [
            Step(
                "escalate",
                case.charger_id,
                case.case_id,
                deadline=now + timedelta(days=rules.escalate_days),
                level=level,
                note="final notice: rectify or the pile exits the registry"
                if last
                else "deadline passed",
            )
        ]
    if rules.auto_retire:
        return [
            Step("retire", case.charger_id, case.case_id, note="exit mechanism: deadlines passed")
        ]
    return []
