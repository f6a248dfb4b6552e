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
from functools import cached_property

import numpy as np
import numpy.typing as npt

from chargenet.core.oversight import ZombieRule
from chargenet.kit.timeutil import from_micros, to_micros


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


MISSING = np.iinfo(np.int64).min  # an instant that is not known (None)
_RULES = (
    ZombieRule.NEVER_CONNECTED,
    ZombieRule.LONG_DOWN,
    ZombieRule.IDLE_AVAILABLE,
    ZombieRule.FAILING_SESSIONS,
)
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


def _us(t: datetime | None) -> int:
    return MISSING if t is None else to_micros(t)


@dataclass(frozen=True)
class FactColumns:
    """Many chargers' facts as columns (instants in µs, MISSING for None): what the rules
    run over, a whole province in one pass."""

    charger_id: list[str]
    registered_at: I64
    commissioned_at: I64
    public: B
    first_report_at: I64
    down_since: I64
    available_since: I64
    last_session_end: I64
    sessions: I64
    successful: I64

    @classmethod
    def of(cls, facts: Iterable[ChargerFacts]) -> FactColumns:
        rows = list(facts)

        def col(name: str) -> I64:
            return np.array([_us(getattr(f, name)) for f in rows], dtype=np.int64)

        return cls(
            charger_id=[f.charger_id for f in rows],
            registered_at=col("registered_at"),
            commissioned_at=col("commissioned_at"),
            public=np.array([f.public for f in rows], dtype=bool),
            first_report_at=col("first_report_at"),
            down_since=col("down_since"),
            available_since=col("available_since"),
            last_session_end=col("last_session_end"),
            sessions=np.array([f.sessions for f in rows], dtype=np.int64),
            successful=np.array([f.successful for f in rows], dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.charger_id)

    @cached_property
    def _ids(self) -> npt.NDArray[np.object_]:
        return np.array(self.charger_id, dtype=object)

    def ids_where(self, mask: B) -> list[str]:
        """The charger ids of the rows `mask` selects."""
        return list(self._ids[mask].tolist())


@dataclass(frozen=True)
class Detection:
    """Which rules each charger meets now, one mask per rule."""

    never_connected: B
    long_down: B
    idle_available: B
    failing_sessions: B
    now: datetime

    @property
    def any(self) -> B:
        return np.asarray(
            self.never_connected | self.long_down | self.idle_available | self.failing_sessions
        )


def _cutoff(now_us: int, days: float) -> int:
    """The latest instant at least `days` before now (µs)."""
    return now_us - round(days * 86_400_000_000)


def detect_all(facts: FactColumns, now: datetime, rules: ZombieRules) -> Detection:
    """The zombie rules each charger meets now, all chargers at once (MISSING is the
    smallest instant: "no commissioning" is never later than the registration, and "no
    session ended" is long enough ago)."""
    now_us = to_micros(now)
    never = facts.first_report_at == MISSING
    silent_since = np.maximum(facts.commissioned_at, facts.registered_at)
    idle_cut = _cutoff(now_us, rules.idle_days)
    idle = (
        (facts.available_since != MISSING)
        & (facts.available_since <= idle_cut)
        & (facts.last_session_end <= idle_cut)
    )
    if rules.idle_public_only:
        idle &= facts.public
    enough = facts.sessions >= rules.min_sessions
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = facts.successful / facts.sessions
    return Detection(
        never_connected=never & (silent_since <= _cutoff(now_us, rules.never_connected_days)),
        long_down=~never
        & (facts.down_since != MISSING)
        & (facts.down_since <= _cutoff(now_us, rules.down_days)),
        idle_available=idle,
        failing_sessions=enough & (rate <= rules.max_success_rate),
        now=now,
    )


def findings(
    facts: FactColumns, found: Detection, rows: list[int], rules: ZombieRules
) -> list[Finding | None]:
    """The rows of a detection as findings with their evidence (None: no rule met)."""
    pick = np.asarray(rows, dtype=np.int64)
    columns = [
        found.never_connected[pick].tolist(),
        found.long_down[pick].tolist(),
        found.idle_available[pick].tolist(),
        found.failing_sessions[pick].tolist(),
        facts.registered_at[pick].tolist(),
        facts.commissioned_at[pick].tolist(),
        facts.down_since[pick].tolist(),
        facts.available_since[pick].tolist(),
        facts.last_session_end[pick].tolist(),
        facts.sessions[pick].tolist(),
        facts.successful[pick].tolist(),
    ]
    now_us = to_micros(found.now)
    window = to_micros(found.now - timedelta(days=rules.session_window_days))
    out: list[Finding | None] = []
    for i, never, down, idle, failing, reg, comm, down_at, avail, last, n, ok in zip(
        rows, *columns, strict=True
    ):
        hits: list[tuple[ZombieRule, int, str]] = []
        if never:
            since, what = (comm, "commissioning") if comm > reg else (reg, "registration")
            hits.append(
                (ZombieRule.NEVER_CONNECTED, since, f"silent since {what} ({_d(now_us, since)} d)")
            )
        if down:
            hits.append(
                (
                    ZombieRule.LONG_DOWN,
                    down_at,
                    f"every connector down for {_d(now_us, down_at)} d",
                )
            )
        if idle:
            idle_from = max(avail, last)
            hits.append(
                (
                    ZombieRule.IDLE_AVAILABLE,
                    idle_from,
                    f"available, no session ended for {_d(now_us, idle_from)} d",
                )
            )
        if failing:
            hits.append(
                (ZombieRule.FAILING_SESSIONS, window, f"{ok} of {n} sessions delivered energy")
            )
        if not hits:
            out.append(None)
            continue
        out.append(
            Finding(
                facts.charger_id[i],
                tuple(h[0] for h in hits),
                from_micros(min(h[1] for h in hits)),
                "; ".join(h[2] for h in hits),
            )
        )
    return out


def _d(now_us: int, since_us: int) -> str:
    return f"{(now_us - since_us) / 86_400_000_000:.0f}"


def detect(facts: ChargerFacts, now: datetime, rules: ZombieRules) -> Finding | None:
    """The zombie rules a charger meets now, or None."""
    columns = FactColumns.of([facts])
    return findings(columns, detect_all(columns, now, rules), [0], rules)[0]


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
    facts: Iterable[ChargerFacts] | FactColumns,
    open_cases: Mapping[str, OpenCase],
    now: datetime,
    rules: ZombieRules,
) -> Sweep:
    """Detect zombies and move open cases on. `open_cases` is keyed by charger id. The
    rules run over all chargers at once; only zombies and open cases become steps."""
    columns = facts if isinstance(facts, FactColumns) else FactColumns.of(facts)
    found = detect_all(columns, now, rules)
    rows = set(np.flatnonzero(found.any).tolist())
    seen: set[str] = set()
    if open_cases:
        for i, charger_id in enumerate(columns.charger_id):
            if charger_id in open_cases:
                rows.add(i)
                seen.add(charger_id)
    out = Sweep()
    ordered = sorted(rows)
    notify_by = now + timedelta(days=rules.rectify_days)
    for i, hit in zip(ordered, findings(columns, found, ordered, rules), strict=True):
        charger_id = columns.charger_id[i]
        case = open_cases.get(charger_id)
        if case is None:
            if hit is not None:
                out.steps.append(Step("detect", charger_id, finding=hit))
                out.steps.append(Step("notify", charger_id, deadline=notify_by))
            continue
        if hit is None:
            out.steps.append(
                Step("rectified", charger_id, case.case_id, note="the zombie rules no longer hold")
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
