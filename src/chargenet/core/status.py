"""The one connector status vocabulary, the one rule for which report is current, and what
a user sees (see docs/status.md).

"Offline" (no data from the equipment) is kept apart from "faulted" (the equipment says it
is broken): a regulator treats a silent pile and a broken pile differently.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Generic, NamedTuple, TypeVar

V = TypeVar("V")


class ConnectorStatus(StrEnum):
    OFFLINE = "offline"  # no communication: we do not know
    AVAILABLE = "available"  # idle and ready
    OCCUPIED = (
        "occupied"  # a vehicle is plugged in, not drawing energy (preparing, suspended, finishing)
    )
    CHARGING = "charging"  # delivering energy
    RESERVED = "reserved"
    BLOCKED = "blocked"  # the bay is blocked (for example by a fuel car), connector itself fine
    UNAVAILABLE = "unavailable"  # taken out of service on purpose (maintenance, stop order)
    FAULTED = "faulted"  # the equipment reports a fault

    @property
    def usable(self) -> bool:
        """Could serve a driver now or is serving one."""
        return self in _USABLE


_USABLE = frozenset(
    {
        ConnectorStatus.AVAILABLE,
        ConnectorStatus.OCCUPIED,
        ConnectorStatus.CHARGING,
        ConnectorStatus.RESERVED,
    }
)


def effective_status(
    reported: ConnectorStatus | None,
    charger_online: bool | None,
    stopped: bool = False,
    retired: bool = False,
) -> ConnectorStatus:
    """What a user should see: the last report, unless the connector is retired, the
    charger has stopped talking or a regulator's stop order is in force for it (or its
    station).

    A retired connector (taken out of the registry: removed from its charger, or retired
    with its charger or station) is `unavailable` whatever it last reported: it is out of
    service on purpose and for good, so it is never offered as available nor counted among
    the faulted; its last report stays in its history (`reported_status`).

    `charger_online` is None where presence is not tracked (equipment reported through an
    operator platform): then the operator's report stands — except under a stop order,
    which shows the connector out of service (`unavailable`) whatever was reported or
    whether it talks: an OCPI or T/CEC operator cannot be commanded, only told, so this is
    the one place that keeps drivers away from it.
    """
    if stopped or retired:
        return ConnectorStatus.UNAVAILABLE
    if charger_online is False or reported is None:
        return ConnectorStatus.OFFLINE
    return reported


# --- which report is current --------------------------------------------------------------


class Held(NamedTuple, Generic[V]):
    """A piece of live state as held: the value reported, since when it has held (the first
    report of the unbroken run of equal values), and `as_of`, the time of the newest report
    applied."""

    value: V
    since: datetime
    as_of: datetime


def superseded(as_of: datetime | None, at: datetime) -> bool:
    """True when news from `at` is late: what is held was reported strictly after it.
    A report at the very instant held is not late (see `newest_report`)."""
    return as_of is not None and as_of > at


def newest_report(
    held: V | None, since: datetime | None, as_of: datetime | None, value: V, at: datetime
) -> Held[V] | None:
    """Newest report wins: the state after a report of `value` that occurred at `at`, or
    None when the report is late and changes nothing.

    One rule for every copy of live state (the store's projections, the finder's live
    index, the OCPI receiver's early answer), for a connector's reported status, a
    charger's presence and a swap station's status alike:

    - *Newer* compares the report's `occurred_at` (`at`) with `as_of`, the time of the
      newest report applied — never with `since`, never with when it arrived. A report
      strictly older than `as_of` is late and loses, also when it is newer than `since`:
      after A@10, A@30 a late F@20 leaves A (since 10, as of 30).
    - A report that wins and repeats the held value keeps `since` and moves `as_of`; one
      with another value starts anew (`since` = `as_of` = `at`).
    - Ties: a report at exactly `as_of` wins. Of two different reports at one instant the
      one applied later stands; every copy applies events in the log's order (the
      projection in `seq` order, the bus in commit order, a rebuild by `seq`), so all
      agree.
    - Duplicates: a second copy of an event (same `event_id`) is refused by the log and
      reaches no copy; the same report sent again under a new id is a repeat at a tie and
      changes nothing visible.
    - Nothing held yet, or a value held without `since`: the report wins and starts anew.
      A state held without `as_of` (written before it was kept) is as of its `since`.
    - Status and presence are separate facts, each with its own `as_of`, never compared
      with each other. A status report carries the source's time (the charger's or the
      operator platform's clock, bounded by the adapter: an OCPP time stamp ahead of
      ours is replaced by our receive time, so a fast clock cannot freeze a status);
      presence is the platform's own detection (connect, disconnect, missed heartbeats,
      gateway restart) on our clock. A status report does not bring a silent charger
      online, and going offline does not touch the held status: `effective_status`
      combines the two.
    - A stop order is not a report: it neither wins nor loses against reports. While it is
      in force `effective_status` shows `unavailable`; reports keep being applied beneath
      it, and once it is lifted the newest report shows.
    """
    if as_of is None:
        as_of = since
    if superseded(as_of, at):
        return None
    if since is not None and held == value:
        return Held(value, since, at)
    return Held(value, at, at)
