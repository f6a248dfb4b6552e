"""The read ports return what their row types say, on SQLite and on PostgreSQL: the same
keys, and values of the declared types (aware UTC datetimes, dates, Decimals, ints that are
not bools). mypy checks the callers against the types; this checks the types against the
databases."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from chargenet.app.queries import (
    AreaDetailRow,
    AreaRow,
    ChargerRow,
    ConnectorRow,
    CountsRow,
    InventoryItemRow,
    OperatorDetailRow,
    OperatorRow,
    RejectedRow,
    SessionRow,
    StationDetailRow,
    StationRow,
    StatusCounts,
    SwapStationRow,
    TargetRow,
)
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import SwapStationRegistered
from chargenet.core.ids import EventId, SwapStationId
from tests.adapters.test_codec import SAMPLES
from tests.builders import charger, small_world
from tests.rowtypes import mismatches


@pytest.fixture(scope="module")
def world(module_database_url: str) -> Iterator[Platform]:
    platform = bootstrap(Settings(database_url=module_database_url, sqlite_synchronous="OFF"))
    platform.ingestor.ingest([*small_world(), charger("C2", guns=1, dc=False, power_w=7_000)])
    platform.ingestor.ingest(SAMPLES)
    platform.ingestor.ingest(SAMPLES)  # again: duplicates and refusals fill the reject log
    [swap] = [e for e in SAMPLES if isinstance(e, SwapStationRegistered)]
    kept = dataclasses.replace(swap.swap_station, swap_station_id=SwapStationId("SW-kept"))
    platform.ingestor.ingest(
        [dataclasses.replace(swap, event_id=EventId("kept"), swap_station=kept)]
    )
    yield platform
    platform.close()


def _one(page: tuple[list[Any], int]) -> list[Any]:
    rows, total = page
    assert total >= len(rows)
    return rows


READS: dict[str, tuple[Callable[[Platform], Any], Any]] = {
    "areas": (lambda p: _one(p.read.areas()), list[AreaRow]),
    "area": (lambda p: p.read.area(p.read.areas()[0][-1]["code"]), AreaDetailRow),
    "operators": (lambda p: _one(p.read.operators()), list[OperatorRow]),
    "operator": (lambda p: p.read.operator("OP1"), OperatorDetailRow),
    "stations": (lambda p: _one(p.read.stations(include_retired=True)), list[StationRow]),
    "station": (lambda p: p.read.station("S1"), StationDetailRow),
    "chargers": (lambda p: _one(p.read.chargers(include_retired=True)), list[ChargerRow]),
    "charger": (lambda p: p.read.charger("C1"), ChargerRow),
    "inventory": (
        lambda p: p.read.charger_inventory("C2"),
        list[InventoryItemRow],
    ),
    "connectors": (lambda p: _one(p.read.connectors(include_retired=True)), list[ConnectorRow]),
    "connector": (
        lambda p: p.read.connector(p.read.connectors(include_retired=True)[0][0]["connector_id"]),
        ConnectorRow,
    ),
    "swap_stations": (lambda p: _one(p.read.swap_stations()), list[SwapStationRow]),
    "sessions": (lambda p: _one(p.read.sessions()), list[SessionRow]),
    "targets": (lambda p: p.read.targets(), list[TargetRow]),
    "targets_on": (lambda p: p.read.targets(on=date(2099, 1, 1)), list[TargetRow]),
    "rejected": (lambda p: _one(p.read.rejected()), list[RejectedRow]),
    "counts": (lambda p: p.read.counts(), CountsRow),
    "counts_on": (lambda p: p.read.counts(on=date(2099, 1, 1)), CountsRow),
    "status_summary": (lambda p: p.read.status_summary(), StatusCounts),
}


@pytest.mark.parametrize("name", list(READS))
def test_state_reads_return_their_row_types(world: Platform, name: str) -> None:
    read, row_type = READS[name]
    value = read(world)
    assert value, f"{name}: the world gives it nothing to return"
    assert mismatches(value, row_type, name) == []
