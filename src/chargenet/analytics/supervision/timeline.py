"""A connector's status history as intervals with causes, from what was reported.

The history keeps every report (status of the connector, presence of its charger). The
status at an instant is the last status reported at or before it; a charger that stopped
talking makes its connectors `offline` (no data) whatever they last reported, and before
the first report there is no data either. Reports may arrive late and in any order: the
intervals depend only on the reports' own times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise

from chargenet.analytics.supervision.statusclass import CODE, PORT_RANK
from chargenet.core.status import ConnectorStatus, effective_status


@dataclass(frozen=True, slots=True)
class StatusReport:
    at: datetime
    status: ConnectorStatus
    error_code: str | None = None
    info: str | None = None


@dataclass(frozen=True, slots=True)
class PresenceReport:
    at: datetime
    online: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime
    status: ConnectorStatus  # effective: what a driver would have found
    reported: ConnectorStatus | None  # the connector's own last report (None: never)
    cause: str  # error code, info, or why the charger went silent

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _cause(status: StatusReport | None, presence: PresenceReport | None) -> str:
    if presence is not None and not presence.online:
        return f"charger offline: {presence.reason}" if presence.reason else "charger offline"
    if status is None:
        return "no data"
    return status.error_code or status.info or ""


def intervals(
    reports: Iterable[StatusReport],
    presence: Iterable[PresenceReport],
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """The history of one connector over [start, end): consecutive intervals with the same
    effective status, report and cause are merged."""
    status_points = sorted(reports, key=lambda r: r.at)
    presence_points = sorted(presence, key=lambda p: p.at)
    times = sorted(
        {start, end}
        | {r.at for r in status_points if start < r.at < end}
        | {p.at for p in presence_points if start < p.at < end}
    )
    out: list[Interval] = []
    si = pi = 0
    current_s: StatusReport | None = None
    current_p: PresenceReport | None = None
    for a, b in pairwise(times):
        while si < len(status_points) and status_points[si].at <= a:
            current_s = status_points[si]
            si += 1
        while pi < len(presence_points) and presence_points[pi].at <= a:
            current_p = presence_points[pi]
            pi += 1
        reported = current_s.status if current_s is not None else None
        online = current_p.online if current_p is not None else None
        piece = Interval(
            a, b, effective_status(reported, online), reported, _cause(current_s, current_p)
        )
        last = out[-1] if out else None
        if last is not None and (last.status, last.reported, last.cause) == (
            piece.status,
            piece.reported,
            piece.cause,
        ):
            out[-1] = replace(last, end=b)
        else:
            out.append(piece)
    return out


def port_intervals(histories: Sequence[Sequence[Interval]]) -> list[Interval]:
    """A port's history from its connectors' (23 CFR 680.104: one vehicle at a time): at
    each instant the port is in the best status of its connectors (`PORT_RANK`), with that
    connector's cause. One connector's history is the port's as it is."""
    if len(histories) == 1:
        return list(histories[0])
    times = sorted({t for h in histories for p in h for t in (p.start, p.end)})
    out: list[Interval] = []
    cursors = [0] * len(histories)
    for a, b in pairwise(times):
        best: Interval | None = None
        for k, history in enumerate(histories):
            while cursors[k] < len(history) and history[cursors[k]].end <= a:
                cursors[k] += 1
            if cursors[k] < len(history) and history[cursors[k]].start <= a:
                piece = history[cursors[k]]
                if best is None or PORT_RANK[CODE[piece.status]] > PORT_RANK[CODE[best.status]]:
                    best = piece
        if best is None:
            continue
        last = out[-1] if out else None
        if (
            last is not None
            and last.end == a
            and (last.status, last.cause)
            == (
                best.status,
                best.cause,
            )
        ):
            out[-1] = replace(last, end=b)
        else:
            out.append(Interval(a, b, best.status, best.reported, best.cause))
    return out


@dataclass(frozen=True, slots=True)
class Window:
    """A span of time with a label (an exclusion's reason, "outside_hours")."""

    start: datetime
    end: datetime
    label: str


@dataclass(frozen=True, slots=True)
class Outage:
    """One outage of a port (NEVI module 4): a run of outage statuses, and how much of it
    is excluded, for which reasons."""

    start: datetime
    end: datetime
    status: ConnectorStatus  # the worst status in the run (faulted > unavailable > offline)
    cause: str
    excluded_seconds: float
    reasons: tuple[str, ...]

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


_WORST = {ConnectorStatus.FAULTED: 3, ConnectorStatus.UNAVAILABLE: 2, ConnectorStatus.OFFLINE: 1}


def outages(
    history: Sequence[Interval], excluded: Sequence[Window], outage_statuses: frozenset[str]
) -> list[Outage]:
    """Runs of outage statuses in a history, each with its excluded part."""
    runs: list[list[Interval]] = []
    for piece in history:
        if piece.status not in outage_statuses:
            continue
        if runs and runs[-1][-1].end == piece.start:
            runs[-1].append(piece)
        else:
            runs.append([piece])
    out = []
    for run in runs:
        start, end = run[0].start, run[-1].end
        worst = max(run, key=lambda p: _WORST.get(p.status, 0))
        overlap, reasons = _covered(start, end, excluded)
        out.append(Outage(start, end, worst.status, worst.cause, overlap, reasons))
    return out


def _covered(
    start: datetime, end: datetime, windows: Sequence[Window]
) -> tuple[float, tuple[str, ...]]:
    """Seconds of [start, end) inside the union of windows, and the windows' labels."""
    pieces = sorted(
        (max(start, w.start), min(end, w.end), w.label)
        for w in windows
        if w.start < end and w.end > start
    )
    total = 0.0
    reach = start
    labels: list[str] = []
    for a, b, label in pieces:
        if label not in labels:
            labels.append(label)
        if b <= reach:
            continue
        total += (b - max(a, reach)).total_seconds()
        reach = b
    return total, tuple(labels)
