"""The one event path on a real database: append, apply, refuse, stay idempotent."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select

from chargenet.adapters.storage.projections import Ctx, apply_event
from chargenet.adapters.storage.schema import STATE_TABLES, rejected_events
from chargenet.app.ingest import Disposition
from chargenet.bootstrap import Platform
from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    MeterSampled,
    SessionEnded,
    SessionStarted,
    StationRetired,
)
from chargenet.core.ids import ChargerId, ConnectorId, SessionId, StationId
from chargenet.core.registry.model import ConnectorRecord, ConnectorStandard, PowerType
from chargenet.core.status import ConnectorStatus
from tests.builders import at, charger, meta, operator, small_world, station


def snapshot(platform: Platform) -> dict[str, list[tuple[Any, ...]]]:
    with platform.store.engine.connect() as conn:
        return {t.name: sorted(conn.execute(select(t)).all(), key=repr) for t in STATE_TABLES}


def test_the_same_event_twice_is_a_duplicate_and_changes_nothing(any_platform: Platform) -> None:
    world = small_world()
    status = ConnectorStatusChanged(
        **meta(at(5)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.CHARGING
    )
    any_platform.ingestor.ingest([*world, status])
    before = snapshot(any_platform)
    outcomes = any_platform.ingestor.ingest([*world, status])
    assert {o.disposition for o in outcomes} == {Disposition.DUPLICATE}
    assert snapshot(any_platform) == before


def test_applying_an_event_twice_bypassing_the_log_leaves_state_as_it_was(
    any_platform: Platform,
) -> None:
    """Projections themselves are idempotent, not only the log's duplicate check."""
    events = [
        *small_world(),
        ChargerPresenceChanged(**meta(at(1)), charger_id=ChargerId("C1"), online=True),
        ConnectorStatusChanged(
            **meta(at(2)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.CHARGING
        ),
        SessionStarted(
            **meta(at(2)),
            session_id=SessionId("T1"),
            connector_id=ConnectorId("C1-1-1"),
            meter_start_wh=1_000,
        ),
        MeterSampled(
            **meta(at(10)),
            connector_id=ConnectorId("C1-1-1"),
            session_id=SessionId("T1"),
            energy_register_wh=6_000,
            power_w=40_000,
        ),
        SessionEnded(**meta(at(20)), session_id=SessionId("T1"), meter_stop_wh=11_000),
    ]
    any_platform.ingestor.ingest(events)
    before = snapshot(any_platform)
    with any_platform.store.engine.begin() as conn:
        ctx = Ctx.on(conn)
        for event in events:
            apply_event(ctx, event)
    assert snapshot(any_platform) == before


def test_an_event_naming_an_unknown_connector_is_refused_and_recorded(
    any_platform: Platform,
) -> None:
    any_platform.ingestor.ingest(small_world())
    [outcome] = any_platform.ingestor.ingest(
        [
            ConnectorStatusChanged(
                **meta(), connector_id=ConnectorId("nope"), status=ConnectorStatus.FAULTED
            )
        ]
    )
    assert outcome.disposition is Disposition.REJECTED
    assert outcome.reason == "unknown connector 'nope'"
    rows, total = any_platform.read.rejected()
    assert total == 1 and rows[0]["reason"] == "unknown connector 'nope'"
    assert any_platform.read.last_seq() == len(small_world())  # not in the log


def test_a_refused_event_is_never_half_applied(any_platform: Platform) -> None:
    """A charger whose second connector clashes with another charger's leaves no trace."""
    any_platform.ingestor.ingest(small_world())
    clash = charger("C2", guns=1)
    connector = replace(clash.charger.evses[0].connectors[0], connector_id=ConnectorId("C1-2-1"))
    evse = replace(
        clash.charger.evses[0],
        connectors=(
            ConnectorRecord(
                connector_no=2,
                standard=ConnectorStandard.GBT_DC,
                power_type=PowerType.DC,
                max_power_w=60_000,
                connector_id=ConnectorId("C2-new"),
            ),
            replace(connector, connector_no=1),
        ),
    )
    bad = replace(clash, charger=replace(clash.charger, evses=(evse,)))
    before = snapshot(any_platform)
    [outcome] = any_platform.ingestor.ingest([bad])
    assert outcome.disposition is Disposition.REJECTED
    assert "already belongs to charger C1" in outcome.reason
    assert snapshot(any_platform) == before  # not even connector C2-new


def test_invalid_events_are_recorded_with_every_reason(platform: Platform) -> None:
    bad = MeterSampled(**meta(), connector_id=ConnectorId(""), power_w=-(10**8))
    [outcome] = platform.ingestor.ingest([bad])
    assert outcome.disposition is Disposition.REJECTED
    assert "connector_id is empty" in outcome.reason and "power" in outcome.reason
    with platform.store.engine.connect() as conn:
        assert (
            conn.execute(select(rejected_events.c.type)).scalar_one() == "connector.meter_sampled"
        )


def test_an_older_status_never_overwrites_a_newer_one(any_platform: Platform) -> None:
    any_platform.ingestor.ingest(small_world())
    any_platform.ingestor.ingest(
        [
            ConnectorStatusChanged(
                **meta(at(10)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.FAULTED
            ),
            ConnectorStatusChanged(
                **meta(at(5)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.AVAILABLE
            ),
        ]
    )
    [row], _ = any_platform.read.connectors(station_id="S1", status=None, limit=1)
    assert row["reported_status"] == "faulted"
    assert row["status_since"] == at(10)


def test_an_older_station_update_never_overwrites_a_newer_one(platform: Platform) -> None:
    platform.ingestor.ingest([*small_world(), station(name="New name", when=at(60))])
    platform.ingestor.ingest([station(name="Stale name", when=at(30))])
    stored = platform.read.station("S1")
    assert stored is not None and stored["name"] == "New name"


def test_a_silent_charger_shows_offline_while_its_last_report_is_kept(platform: Platform) -> None:
    platform.ingestor.ingest(
        [
            *small_world(),
            ChargerPresenceChanged(**meta(at(1)), charger_id=ChargerId("C1"), online=True),
            ConnectorStatusChanged(
                **meta(at(1)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.AVAILABLE
            ),
            ChargerPresenceChanged(**meta(at(2)), charger_id=ChargerId("C1"), online=False),
        ]
    )
    row = platform.read.connectors(station_id="S1")[0][0]
    assert (row["status"], row["reported_status"]) == ("offline", "available")


def test_retiring_a_station_retires_its_chargers_and_its_piles(platform: Platform) -> None:
    platform.ingestor.ingest(small_world())
    assert platform.read.pile_count(area_code="140902").total == 2
    two_days = 2 * 24 * 60
    platform.ingestor.ingest(
        [StationRetired(**meta(at(two_days)), station_id=StationId("S1"), reason="closed")]
    )
    assert platform.read.pile_count(area_code="140902").total == 0
    stored = platform.read.charger("C1")
    assert stored is not None and stored["retired_at"] == at(two_days)
    # Counting as of an earlier day still sees them; before registration, not yet.
    assert platform.read.pile_count(area_code="140902", on=at(0).date()).total == 2
    assert platform.read.pile_count(area_code="140902", on=at(two_days).date()).total == 0
    assert platform.read.pile_count(area_code="140902", on=at(-24 * 60).date()).total == 0


def test_stations_are_placed_by_code_by_position_or_left_unplaced(platform: Platform) -> None:
    platform.ingestor.ingest(
        [
            *small_world(),
            station("S-near-village", lat=38.561, lon=112.811),
            station("S-code", area_code="140981", lat=38.73, lon=112.71),
            station("S-unloaded-county", area_code="141002", lat=36.0, lon=111.5),
            station("S-far", lat=30.0, lon=100.0),
        ]
    )
    near = platform.read.station("S-near-village")
    assert near is not None
    assert (near["area_code"], near["area_placed"], near["county_code"]) == (
        "140902100201",
        "nearest",
        "140902",
    )
    stored = platform.read.station("S-code")
    assert stored is not None and stored["area_placed"] == "given"
    unloaded = platform.read.station("S-unloaded-county")
    assert unloaded is not None
    assert (unloaded["area_placed"], unloaded["county_code"]) == ("code", "141002")
    stored = platform.read.station("S-far")
    assert stored is not None and stored["area_code"] is None
    assert platform.read.station_count(area_code="140902100") == 1  # township level
    assert platform.read.station_count(area_code="140900") == 3  # city level


def test_a_station_of_an_unknown_operator_is_refused(platform: Platform) -> None:
    platform.ingestor.ingest([operator("OP1")])
    [outcome] = platform.ingestor.ingest([station(operator_id="OP2")])
    assert outcome.reason == "unknown operator 'OP2'"


def test_a_resent_stop_does_not_change_the_session(platform: Platform) -> None:
    platform.ingestor.ingest(
        [
            *small_world(),
            SessionStarted(
                **meta(at(0)),
                session_id=SessionId("T1"),
                connector_id=ConnectorId("C1-1-1"),
                meter_start_wh=0,
            ),
            SessionEnded(**meta(at(30)), session_id=SessionId("T1"), meter_stop_wh=20_000),
        ]
    )
    # The charger resends its stop with a different message id and a later reading.
    platform.ingestor.ingest(
        [SessionEnded(**meta(at(31)), session_id=SessionId("T1"), meter_stop_wh=25_000)]
    )
    [session], _ = platform.read.sessions()
    assert (session["state"], session["energy_wh"], session["ended_at"]) == (
        "completed",
        20_000,
        at(30),
    )


def test_an_implausible_meter_start_is_not_billed(platform: Platform) -> None:
    platform.ingestor.ingest(
        [
            *small_world(),
            SessionStarted(
                **meta(at(0)),
                session_id=SessionId("T1"),
                connector_id=ConnectorId("C1-1-1"),
                meter_start_wh=0,
            ),
            SessionEnded(**meta(at(5)), session_id=SessionId("T1"), meter_stop_wh=910_031),
        ]
    )
    [session], _ = platform.read.sessions()
    assert session["energy_wh"] is None
    assert session["flags"] == ["energy_exceeds_power"]


def test_a_late_report_older_than_a_repeat_of_the_current_status_does_not_win(
    any_platform: Platform,
) -> None:
    """A@10, A@30 arrive; then F@20 arrives late: the connector is still A (seen at 30)."""
    any_platform.ingestor.ingest(small_world())
    available, faulted = ConnectorStatus.AVAILABLE, ConnectorStatus.FAULTED
    for minute, status in ((10, available), (30, available), (20, faulted)):
        any_platform.ingestor.ingest(
            [
                ConnectorStatusChanged(
                    **meta(at(minute)), connector_id=ConnectorId("C1-1-1"), status=status
                )
            ]
        )
    [row], _ = any_platform.read.connectors(station_id="S1", limit=1)
    assert (row["reported_status"], row["status_since"]) == ("available", at(10))
    # Presence likewise: online@10, online@30, a late offline@20 leaves it online.
    for minute, online in ((10, True), (30, True), (20, False)):
        any_platform.ingestor.ingest(
            [ChargerPresenceChanged(**meta(at(minute)), charger_id=ChargerId("C1"), online=online)]
        )
    charger = any_platform.read.charger("C1")
    assert charger is not None
    assert (charger["online"], charger["presence_since"]) == (True, at(10))
