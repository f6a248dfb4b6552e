"""The questions views, analytics and reports ask of current state (implemented by the
storage adapter). Rows are plain dicts of JSON-ready values; times are UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from chargenet.core.access import Principal
from chargenet.core.areas import AreaLevel
from chargenet.core.registry.piles import PileCount
from chargenet.core.status import ConnectorStatus

Row = dict[str, Any]
Page = tuple[list[Row], int]  # rows, total matching


class StateQueries(Protocol):
    def areas(
        self,
        level: AreaLevel | None = None,
        parent: str | None = None,
        query: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page: ...

    def area(self, code: str) -> Row | None: ...

    def pile_count(
        self, area_code: str | None = None, operator_id: str | None = None, on: date | None = None
    ) -> PileCount: ...

    def station_count(
        self, area_code: str | None = None, operator_id: str | None = None
    ) -> int: ...

    def status_summary(
        self,
        area_code: str | None = None,
        operator_id: str | None = None,
        station_id: str | None = None,
    ) -> dict[str, int]: ...

    def operators(self, limit: int = 100, offset: int = 0) -> Page: ...

    def operator(self, operator_id: str) -> Row | None: ...

    def stations(
        self,
        area_code: str | None = None,
        operator_id: str | None = None,
        category: str | None = None,
        access: str | None = None,
        include_retired: bool = False,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> Page: ...

    def station(self, station_id: str, viewer: Principal | None = None) -> Row | None: ...

    def chargers(
        self,
        station_id: str | None = None,
        operator_id: str | None = None,
        online: bool | None = None,
        include_retired: bool = False,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> Page: ...

    def charger(self, charger_id: str, viewer: Principal | None = None) -> Row | None: ...

    def charger_inventory(self, charger_id: str) -> list[Row]:
        """What the charger reported about its hardware and firmware, item by item."""
        ...

    def connectors(
        self,
        station_id: str | None = None,
        area_code: str | None = None,
        operator_id: str | None = None,
        status: ConnectorStatus | None = None,
        charger_ids: Sequence[str] | None = None,
        include_retired: bool = False,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> Page: ...

    def connector(self, connector_id: str) -> Row | None:
        """One connector as `connectors` lists it (effective status), retired or not."""
        ...

    def swap_stations(
        self,
        area_code: str | None = None,
        operator_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> Page: ...

    def sessions(
        self,
        station_id: str | None = None,
        connector_id: str | None = None,
        state: str | None = None,
        limit: int = 100,
        offset: int = 0,
        viewer: Principal | None = None,
    ) -> Page: ...

    def targets(self, area_code: str | None = None, on: date | None = None) -> list[Row]:
        """Targets, each with its latest value; with `on`, the value in force that day (its
        revisions' own valid_from decides, R16), leaving out those not yet in force."""
        ...

    def events(
        self,
        after_seq: int = 0,
        event_type: str | None = None,
        adapter: str | None = None,
        limit: int = 100,
        operator_id: str | None = None,
    ) -> list[Row]: ...

    def last_seq(self) -> int: ...

    def rejected(
        self, limit: int = 100, offset: int = 0, operator_id: str | None = None
    ) -> Page: ...

    def counts(self, area_code: str | None = None, on: date | None = None) -> Row:
        """Table sizes; with an area or a day, what stood there that day (no log sizes)."""
        ...
