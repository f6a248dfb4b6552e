"""What supervision needs from storage and the bus, declared by the application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chargenet.core.events import Event

Row = dict[str, Any]
Page = tuple[list[Row], int]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which equipment a question is about; every given filter applies."""

    area: str | None = None
    operator: str | None = None
    station: str | None = None
    charger: str | None = None
    connector: str | None = None


class SupervisionQueries(Protocol):
    def fleet(self, scope: Scope) -> list[Row]:
        """Connectors (retired ones too) with charger, station, operator, area chain,
        evse_no, evse_uid, registered_at, retired_at, max_power_w, power_type, access,
        opening_hours, names, the charger's commissioned_at and the first status report of
        the connector and presence report of its charger (first_status_us,
        first_presence_us; None when there is none)."""
        ...

    def status_rows(
        self, scope: Scope, start_us: int, end_us: int, among: Sequence[str] | None = None
    ) -> Iterable[tuple[str, int, str]]:
        """(connector_id, at_us, status): reports in [start, end) and each connector's last
        report before start. With `among`: of those connectors only (ids in scope)."""
        ...

    def presence_rows(
        self, scope: Scope, start_us: int, end_us: int, among: Sequence[str] | None = None
    ) -> Iterable[tuple[str, int, bool]]:
        """(charger_id, at_us, online), as status_rows (`among`: charger ids)."""
        ...

    def limit_rows(
        self, scope: Scope, start_us: int, end_us: int, among: Sequence[str] | None = None
    ) -> Iterable[tuple[str, int, int]]:
        """(connector_id, at_us, limit_w): power limits reported, as status_rows."""
        ...

    def connector_history(
        self, connector_id: str, start_us: int, end_us: int
    ) -> tuple[list[Row], list[Row]]:
        """Status reports and its charger's presence reports, as status_rows, as rows."""
        ...

    def exclusions(self, scope: Scope, start: datetime, end: datetime) -> list[Row]: ...

    def exclusion(self, exclusion_id: str) -> Row | None: ...

    def zombie_facts(self, scope: Scope, window_start: datetime, min_energy_wh: int) -> list[Row]:
        """Per charger in service: registered_at, commissioned_at, public, first_report_us,
        connectors, and per-connector live state folded: down_since, available_since;
        last_session_end; sessions and successful sessions ended since window_start."""
        ...

    def zombie_cases(self, scope: Scope, open_only: bool, limit: int, offset: int) -> Page: ...

    def zombie_case(self, case_id: str) -> Row | None: ...

    def open_alarms(self) -> list[Row]: ...

    def rated_currents(self) -> dict[str, float]: ...

    def alarms(
        self, scope: Scope, open_only: bool, severity: str | None, limit: int, offset: int
    ) -> Page: ...

    def alarm(self, alarm_id: str) -> Row | None: ...

    def stop_orders(self, scope: Scope, in_force_only: bool, limit: int, offset: int) -> Page: ...

    def stop_order(self, stop_id: str) -> Row | None: ...

    def chargers_of(self, target_kind: str, target_id: str) -> list[Row]:
        """Chargers in service a stop order for a charger or station reaches (with protocol)."""
        ...

    def owner(self, target_kind: str, target_id: str) -> Row | None:
        """station_id, operator_id and the area chain of a target, for access checks."""
        ...

    def sessions_ended(self, scope: Scope, start: datetime, end: datetime) -> list[Row]:
        """Sessions ended in [start, end) in scope: session_id, connector_id, charger_id,
        station_id, operator_id, started_at, ended_at, energy_wh, peak_power_w,
        stop_reason."""
        ...

    def station_rows(self, scope: Scope) -> list[Row]:
        """Stations in scope: station_id, operator_id, name, address, lat, lon."""
        ...

    def station_activity(
        self, scope: Scope, start: datetime, end: datetime, min_energy_wh: int
    ) -> dict[str, Row]:
        """Per station, within [start, end): sessions ended, successful sessions, alarms
        raised, incidents."""
        ...

    def operator_activity(
        self, scope: Scope, start: datetime, end: datetime, min_energy_wh: int
    ) -> dict[str, Row]:
        """Per operator, within [start, end): sessions ended, successful sessions, alarms
        raised, zombie cases open at some time (open_zombies)."""
        ...

    def latency_sample(
        self, scope: Scope, start: datetime, end: datetime, limit: int
    ) -> dict[str, list[float]]:
        """Per operator: seconds from the source's time to ours, for recent events."""
        ...


class EventFeed(Protocol):
    """A live subscription to stored events (the bus)."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    def close(self) -> None: ...


class EventBus(Protocol):
    def subscribe(self, maxsize: int = 10_000) -> Any: ...
