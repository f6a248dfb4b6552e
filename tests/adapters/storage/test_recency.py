"""Newest report wins, in Python and in SQL: the same random reports (late, duplicated,
at one instant) give the same current status and presence in the rule itself
(`core.status.newest_report`), in the store's live rows, and in the SQL that reads the
newest report from the status and presence history (supervision's uptime and reports
start from it). On SQLite and PostgreSQL. Swap stations' status follows the same rule."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime
from typing import Any

from chargenet.adapters.storage.queries_supervision import SupervisionReads
from chargenet.app.supervision_ports import Scope
from chargenet.bootstrap import Platform
from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    Event,
    SwapStationRegistered,
    SwapStationStatusChanged,
)
from chargenet.core.ids import ChargerId, ConnectorId, OperatorId, SwapStationId
from chargenet.core.registry.model import SwapStationRecord
from chargenet.core.status import ConnectorStatus, newest_report
from chargenet.kit.timeutil import to_micros
from tests.builders import T0, at, charger, meta, small_world

CHARGERS = 12
STATUSES = list(ConnectorStatus)
AVAILABLE, FAULTED = ConnectorStatus.AVAILABLE, ConnectorStatus.FAULTED


def reports(rng: random.Random) -> list[Event]:
    """Status and presence reports over a few minutes, so that many share an instant;
    some arrive late, some twice (the same event, or the same report under a new id)."""
    out: list[Event] = []
    for _ in range(400):
        k = rng.randrange(CHARGERS)
        when = at(1 + rng.randrange(20) / 2)
        if rng.random() < 0.7:
            connector = f"K{k}-{1 + rng.randrange(2)}-1"
            # Mostly two statuses, so that repeats (and late news between them) are common.
            status = rng.choice(STATUSES if rng.random() < 0.2 else (AVAILABLE, FAULTED))
            out.append(
                ConnectorStatusChanged(
                    **meta(when), connector_id=ConnectorId(connector), status=status
                )
            )
        else:
            out.append(
                ChargerPresenceChanged(
                    **meta(when), charger_id=ChargerId(f"K{k}"), online=rng.random() < 0.6
                )
            )
        if rng.random() < 0.15:  # sent again later: the same event, or the same report anew
            again = out[rng.randrange(len(out))]
            out.append(again if rng.random() < 0.5 else replace(again, event_id=meta()["event_id"]))
    return out


State = tuple[Any, datetime | None, datetime | None]  # value, since, as_of


def by_the_rule(events: list[Event]) -> tuple[dict[str, State], dict[str, State]]:
    """Fold the reports through the rule in log order (the log refuses a second copy of
    an event). A charger registered with presence tracked is offline since then (T0), with
    no presence report yet."""
    status: dict[str, State] = {}
    presence: dict[str, State] = {f"K{k}": (False, T0, None) for k in range(CHARGERS)}
    seen: set[str] = set()
    for event in events:
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        held: dict[str, State]
        key: str
        value: Any
        if isinstance(event, ConnectorStatusChanged):
            held, key, value = status, event.connector_id, event.status.value
        elif isinstance(event, ChargerPresenceChanged):
            held, key, value = presence, event.charger_id, event.online
        else:
            continue
        now = newest_report(*held.get(key, (None, None, None)), value, event.occurred_at)
        if now is not None:
            held[key] = (now.value, now.since, now.as_of)
    return status, presence


def test_the_store_and_the_history_sql_keep_the_newest_report(any_platform: Platform) -> None:
    rng = random.Random(20250501)
    any_platform.ingestor.ingest(
        [*small_world(), *(charger(f"K{k}", guns=2) for k in range(CHARGERS))]
    )
    events = reports(rng)
    start = 0
    while start < len(events):  # batches of any size: one transaction each
        size = rng.randint(1, 40)
        any_platform.ingestor.ingest(events[start : start + size])
        start += size
    status, presence = by_the_rule(events)

    rows, _ = any_platform.read.connectors(station_id="S1", limit=1000)
    live = {r["connector_id"]: (r["reported_status"], r["status_since"]) for r in rows}
    assert live == {
        f"{c}-{g}-1": status.get(f"{c}-{g}-1", (None, None, None))[:2]
        for c in ("C1", *presence)
        for g in (1, 2)
    }
    online = {}
    for charger_id in presence:
        row = any_platform.read.charger(charger_id)
        assert row is not None
        online[charger_id] = (row["online"], row["presence_since"])
    assert online == {k: held[:2] for k, held in presence.items()}

    # The SQL side: the newest history row of each connector and charger.
    history = SupervisionReads(any_platform.store.read_engine)
    after_all = to_micros(at(60))
    newest_status = history.status_rows(Scope(), after_all, after_all + 1)
    assert {cid: value for cid, _, value in newest_status} == {
        k: held[0] for k, held in status.items()
    }
    newest_presence = history.presence_rows(Scope(), after_all, after_all + 1)
    assert {cid: value for cid, _, value in newest_presence} == {
        k: held[0] for k, held in presence.items() if held[2] is not None
    }


def test_a_late_swap_station_report_older_than_a_newer_repeat_does_not_win(
    any_platform: Platform,
) -> None:
    """Swap stations follow the same rule: A@10, A@30, then F@20 late leaves A since 10."""
    record = SwapStationRecord(
        swap_station_id=SwapStationId("W1"),
        operator_id=OperatorId("OP1"),
        name="Swap",
        lat=38.41,
        lon=112.75,
    )
    any_platform.ingestor.ingest(
        [*small_world(), SwapStationRegistered(**meta(), swap_station=record)]
    )
    for minute, status, ready in ((10, AVAILABLE, 5), (30, AVAILABLE, 4), (20, FAULTED, 0)):
        any_platform.ingestor.ingest(
            [
                SwapStationStatusChanged(
                    **meta(at(minute)),
                    swap_station_id=SwapStationId("W1"),
                    status=status,
                    batteries_ready=ready,
                )
            ]
        )
    [row], _ = any_platform.read.swap_stations()
    assert (row["status"], row["status_since"], row["batteries_ready"]) == ("available", at(10), 4)
