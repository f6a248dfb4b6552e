"""The read ports return what their row types say, on SQLite and on PostgreSQL: the same
keys, and values of the declared types (aware UTC datetimes, dates, Decimals, ints that are
not bools). mypy checks the callers against the types; this checks the types against the
databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from chargenet.adapters.storage.interface_log import SqlInterfaceLog
from chargenet.adapters.storage.queries_credit import CreditReads
from chargenet.adapters.storage.queries_dashboard import DashboardQueries
from chargenet.adapters.storage.queries_incidents import IncidentReads
from chargenet.adapters.storage.queries_inspections import InspectionReads
from chargenet.adapters.storage.queries_monthly import MonthlyReads
from chargenet.adapters.storage.queries_ocpi import OcpiReads, SqlOcpiDirectory
from chargenet.adapters.storage.queries_parking import GROUPS, ParkingReads
from chargenet.adapters.storage.queries_planning import PlanningQueries
from chargenet.adapters.storage.queries_settlement import SqlSettlementReads
from chargenet.adapters.storage.queries_swap import SwapReads
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.schema import connector_live, sessions
from chargenet.app.compliance import Refusal, RefusalRow
from chargenet.app.credit import DemonstrationRow, PenaltyRow
from chargenet.app.finder import FinderRow
from chargenet.app.incidents import IncidentRow
from chargenet.app.inspections import DrawRow, InspectionResultRow
from chargenet.app.interconnect import (
    BillRow,
    EnergyReportRow,
    ReconciliationDetailRow,
    ReconciliationRow,
    StationScopeRow,
    TariffRow,
)
from chargenet.app.monthly import OversightCountsRow
from chargenet.app.ocpi import (
    ConnectorOwnerRow,
    EvseConnectorsRow,
    LiveStatusRow,
    OcpiCdrRow,
    OcpiChargerRow,
    OcpiLocationRow,
    OcpiOperatorRow,
    OcpiSessionRow,
    OcpiStationRow,
    OcpiTariffRow,
    Party,
    PartyOwnerRow,
    PartyRow,
    PeerKind,
    StatementRow,
    TariffPriceRow,
)
from chargenet.app.planning import (
    AreaChainRow,
    AreaTargetRow,
    PolicyPackRow,
    TargetRevisionRow,
    VehicleCountRow,
    pack_events,
    shipped_packs,
)
from chargenet.app.planning_build import ScenarioRow
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
from chargenet.app.settlement import (
    ConnectorTargetRow,
    DisputeRow,
    DriverRow,
    DriverTokenRow,
    LedgerEntryRow,
    LiveRow,
    MovementRow,
    PublishedTokenRow,
    SettlementReads,
)
from chargenet.app.supervision_ports import (
    ActivityRow,
    AlarmListRow,
    AlarmRow,
    AreaAlarmRow,
    AreaOrderRow,
    ChargerTargetRow,
    ExclusionRow,
    FleetRow,
    OwnerRow,
    ParkingFiguresRow,
    PresenceReportRow,
    Scope,
    SessionEndedRow,
    StationBriefRow,
    StatusReportRow,
    StopOrderListRow,
    StopOrderRow,
    SupervisionQueries,
    ZombieCaseDetailRow,
    ZombieCaseListRow,
    ZombieFactsRow,
)
from chargenet.app.swap import PackRow, SwapFiguresRow, SwapOwnerRow
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import (
    AlarmRaised,
    Event,
    OutageExcluded,
    ParkingReported,
    SwapStationRegistered,
    TariffPublished,
)
from chargenet.core.ids import EventId
from chargenet.core.ledger import wallet
from tests.adapters.test_codec import SAMPLES
from tests.builders import charger, small_world, station
from tests.rowtypes import mismatches


@pytest.fixture(scope="module")
def world(module_database_url: str) -> Iterator[Platform]:
    platform = bootstrap(Settings(database_url=module_database_url, sqlite_synchronous="OFF"))
    platform.ingestor.ingest([*small_world(), charger("C2", guns=1, dc=False, power_w=7_000)])
    platform.ingestor.ingest(SAMPLES)
    platform.ingestor.ingest(SAMPLES)  # again: duplicates and refusals fill the reject log
    # What the samples retire, withdraw or clear, once more under new ids, kept.
    platform.ingestor.ingest(
        [
            charger("C3", guns=1),
            _again(SwapStationRegistered, swap_station=lambda r: replace(r, swap_station_id="SW9")),
            _again(AlarmRaised, alarm_id=lambda _: "A9"),
            _again(OutageExcluded, exclusion_id=lambda _: "X9"),
            _again(TariffPublished, tariff_id=lambda _: "CN*XZP*T9"),
            station("S9"),  # public and in service: its connectors have a live status
            charger("C9", "S9", guns=1),
            station("S8"),  # no connector: the finder has it with connector None
            _again(ParkingReported, connector_id=lambda _: "C9-1-1"),  # the sample's is retired
        ]
    )
    # A pack in force (the sample's text is refused: not a whole pack), its units and targets.
    platform.ingestor.ingest(
        pack_events(shipped_packs()["xinzhou"], datetime(2026, 1, 1, tzinfo=UTC))
    )
    yield platform
    platform.close()


def _again(kind: type[Event], **changes: Callable[[Any], Any]) -> Event:
    """The sample of this event type, with new values from `changes` and a new event id."""
    [sample] = [e for e in SAMPLES if type(e) is kind]
    new = {name: change(getattr(sample, name)) for name, change in changes.items()}
    return replace(sample, event_id=EventId(f"again-{kind.TYPE}"), **new)


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
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
SUPERVISION_READS: dict[str, tuple[Callable[[SupervisionQueries], Any], Any]] = {
    "fleet": (lambda q: q.fleet(Scope()), list[FleetRow]),
    "connector_history": (
        lambda q: q.connector_history("C1-1-1", 0, 2**62),
        tuple[list[StatusReportRow], list[PresenceReportRow]],
    ),
    "zombie_facts": (lambda q: q.zombie_facts(Scope(), EVER[0], 1), list[ZombieFactsRow]),
    "station_activity": (
        lambda q: q.station_activity(Scope(), *EVER, 1),
        dict[str, ActivityRow],
    ),
    "operator_activity": (
        lambda q: q.operator_activity(Scope(), *EVER, 1),
        dict[str, ActivityRow],
    ),
    "exclusions": (lambda q: q.exclusions(Scope(), *EVER), list[ExclusionRow]),
    "exclusion": (
        lambda q: q.exclusion(q.exclusions(Scope(), *EVER)[0]["exclusion_id"]),
        ExclusionRow,
    ),
    "zombie_cases": (
        lambda q: _one(q.zombie_cases(Scope(), False, 100, 0)),
        list[ZombieCaseListRow],
    ),
    "zombie_case": (
        lambda q: q.zombie_case(q.zombie_cases(Scope(), False, 1, 0)[0][0]["case_id"]),
        ZombieCaseDetailRow,
    ),
    "open_alarms": (lambda q: q.open_alarms(), list[AlarmRow]),
    "alarms": (lambda q: _one(q.alarms(Scope(), False, None, 100, 0)), list[AlarmListRow]),
    "alarm": (lambda q: q.alarm(q.alarms(Scope(), False, None, 1, 0)[0][0]["alarm_id"]), AlarmRow),
    "stop_orders": (lambda q: _one(q.stop_orders(Scope(), False, 100, 0)), list[StopOrderListRow]),
    "stop_order": (
        lambda q: q.stop_order(q.stop_orders(Scope(), False, 1, 0)[0][0]["stop_id"]),
        StopOrderRow,
    ),
    "chargers_of": (lambda q: q.chargers_of("station", "S1"), list[ChargerTargetRow]),
    "owner": (lambda q: q.owner("connector", "C1-1-1"), OwnerRow),
    "sessions_ended": (lambda q: q.sessions_ended(Scope(), *EVER), list[SessionEndedRow]),
    "station_rows": (lambda q: q.station_rows(Scope()), list[StationBriefRow]),
}


@pytest.mark.parametrize("name", list(READS))
def test_state_reads_return_their_row_types(world: Platform, name: str) -> None:
    read, row_type = READS[name]
    value = read(world)
    assert value, f"{name}: the world gives it nothing to return"
    assert mismatches(value, row_type, name) == []


SWAP_READS: dict[str, tuple[Callable[[SwapReads], Any], Any]] = {
    "packs": (lambda q: q.packs("W1"), list[PackRow]),
    "owner": (lambda q: q.owner("SW9"), SwapOwnerRow),
    "figures": (lambda q: q.figures(None, None, *EVER), list[SwapFiguresRow]),
}


@pytest.mark.parametrize("name", list(SWAP_READS))
def test_swap_reads_return_their_row_types(world: Platform, name: str) -> None:
    read, row_type = SWAP_READS[name]
    value = read(world.swap)
    assert value, f"{name}: the world gives it nothing to return"
    assert mismatches(value, row_type, name) == []


def _incidents(p: Platform) -> IncidentReads:
    return IncidentReads(p.store.read_engine)


def _dashboard(p: Platform) -> DashboardQueries:
    return DashboardQueries(p.store.read_engine, p.read)


def _refusals(p: Platform) -> list[RefusalRow]:
    log = SqlInterfaceLog(p.store.engine, p.store.read_engine)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    log.record(
        [], [Refusal("tcec", "MA59J8YL8", "OP1", at, "notification_stationStatus", 4003, "")]
    )
    return log.refusals("MA59J8YL8")


def _parking(
    area: str | None, operator: str | None, by: str
) -> Callable[[Platform], list[ParkingFiguresRow]]:
    return lambda p: ParkingReads(p.store.read_engine).figures(area, operator, by)


OTHER_READS: dict[str, tuple[Callable[[Platform], Any], Any]] = {
    "incident": (lambda p: _incidents(p).incident("I1"), IncidentRow),
    "incidents": (lambda p: _one(_incidents(p).incidents(None, None, 10, 0)), list[IncidentRow]),
    "penalty": (lambda p: CreditReads(p.store.read_engine).penalty("P1"), PenaltyRow),
    "penalties": (
        lambda p: CreditReads(p.store.read_engine).penalties(None, None, 10),
        list[PenaltyRow],
    ),
    "demonstrations": (
        lambda p: CreditReads(p.store.read_engine).demonstrations(None),
        list[DemonstrationRow],
    ),
    "draw": (lambda p: InspectionReads(p.store.read_engine).draw("D1"), DrawRow),
    "oversight_counts": (
        lambda p: MonthlyReads(p.store.read_engine, p.read).oversight_counts(
            "140900", "county", *EVER
        ),
        dict[str, OversightCountsRow],
    ),
    "reconciliations": (
        lambda p: _one(p.tcec.settlement.reconciliations()),
        list[ReconciliationRow],
    ),
    "reconciliation": (
        lambda p: p.tcec.settlement.reconciliation("R1"),
        ReconciliationDetailRow,
    ),
    "tariffs": (lambda p: p.tcec.settlement.tariffs("S1"), list[TariffRow]),
    "bill": (lambda p: p.tcec.settlement.bill("T1"), BillRow),
    "energy_reports": (lambda p: p.tcec.settlement.energy_reports("S1"), list[EnergyReportRow]),
    "station_scope": (lambda p: p.tcec.settlement.station_scope("S1"), StationScopeRow),
    "results": (
        lambda p: _one(InspectionReads(p.store.read_engine).results(None, 10, 0)),
        list[InspectionResultRow],
    ),
    "refusals": (_refusals, list[RefusalRow]),
    **{f"parking_by_{by}": (_parking(None, None, by), list[ParkingFiguresRow]) for by in GROUPS},
    "parking_of": (_parking("140900", "OP1", "station"), list[ParkingFiguresRow]),
    "finder_rows": (lambda p: _dashboard(p).finder_rows(), list[FinderRow]),
    "finder_rows_of": (lambda p: _dashboard(p).finder_rows(["S1", "S9"]), list[FinderRow]),
    "area_alarms": (lambda p: _one(_dashboard(p).alarms(open_only=False)), list[AreaAlarmRow]),
    "area_orders": (lambda p: _one(_dashboard(p).orders()), list[AreaOrderRow]),
    "area_alarms_of": (
        lambda p: _one(_dashboard(p).alarms(area_code="140900", open_only=False)),
        list[AreaAlarmRow],
    ),
}


@pytest.mark.parametrize("name", list(OTHER_READS))
def test_other_reads_return_their_row_types(world: Platform, name: str) -> None:
    read, row_type = OTHER_READS[name]
    value = read(world)
    assert value, f"{name}: the world gives it nothing to return"
    assert mismatches(value, row_type, name) == []


def _published(q: SettlementReads) -> list[PublishedTokenRow]:
    # The text of a card is configuration, not in the log: kept as the OCPI intake does.
    [(digest, _)] = [(t["token_digest"], t) for t in q.tokens_of("D1")]
    assert isinstance(q, SqlSettlementReads)
    q.keep_uid(digest, "04A1B2C3", datetime(2026, 1, 1, tzinfo=UTC))
    return _one(q.published_tokens(None, None, 0, 10))


def _live(q: SettlementReads) -> LiveRow | None:
    assert isinstance(q, SqlSettlementReads)
    with q._read.connect() as conn:
        session_ids = conn.execute(
            select(sessions.c.session_id).join(
                connector_live, connector_live.c.connector_id == sessions.c.connector_id
            )
        ).scalars()
        session_id = next(iter(session_ids))
    return q.live(session_id)


SETTLEMENT_READS: dict[str, tuple[Callable[[SettlementReads], Any], Any]] = {
    "driver": (lambda q: q.driver("D1"), DriverRow),
    "tokens_of": (lambda q: q.tokens_of("D1"), list[DriverTokenRow]),
    "published_tokens": (_published, list[PublishedTokenRow]),
    "entry": (lambda q: q.entry("topup:manual:1"), LedgerEntryRow),
    "entries_of": (lambda q: q.entries_of("D1", 10), list[LedgerEntryRow]),
    "account_movements": (
        lambda q: q.account_movements(wallet("D1"), *EVER),
        tuple[Decimal, list[MovementRow]],
    ),
    "disputes": (lambda q: q.disputes(None, False, 10), list[DisputeRow]),
    "live": (_live, LiveRow),
    "connector_target": (lambda q: q.connector_target("C9-1-1"), ConnectorTargetRow),
}


@pytest.mark.parametrize("name", list(SETTLEMENT_READS))
def test_settlement_reads_return_their_row_types(world: Platform, name: str) -> None:
    read, row_type = SETTLEMENT_READS[name]
    value = read(world.settlement.reads)
    assert value, f"{name}: the world gives it nothing to return"
    assert mismatches(value, row_type, name) == []


PLANNING_READS: dict[str, tuple[Callable[[PlanningQueries], Any], Any]] = {
    "area": (lambda q: q.area("140902"), AreaChainRow),
    "statistics": (lambda q: q.statistics("140900"), list[VehicleCountRow]),
    "targets": (lambda q: q.targets("140900"), list[AreaTargetRow]),
    "revisions": (lambda q: q.revisions("140900"), list[TargetRevisionRow]),
    "packs": (lambda q: q.packs(), list[PolicyPackRow]),
    "scenarios": (lambda q: q.scenarios("140900"), list[ScenarioRow]),
}


@pytest.mark.parametrize("name", list(PLANNING_READS))
def test_planning_reads_return_their_row_types(world: Platform, name: str) -> None:
    read, row_type = PLANNING_READS[name]
    value = read(PlanningQueries(world.store.read_engine))
    assert value, f"{name}: the world gives it nothing to return"
    assert mismatches(value, row_type, name) == []


def _prices(q: OcpiReads) -> dict[str, TariffPriceRow]:
    rows, _ = q.tariffs(tariff_ids=None)
    return q.tariff_prices([r["tariff_id"] for r in rows])


OCPI_READS: dict[str, tuple[Callable[[OcpiReads], Any], Any]] = {
    "operators": (lambda q: q.operators(), list[OcpiOperatorRow]),
    "statements": (lambda q: q.statements("evse"), list[StatementRow]),  # the sample's kind
    "evse_connectors": (lambda q: q.evse_connectors("C1"), EvseConnectorsRow),
    "connector_owner": (lambda q: q.connector_owner("C1-1-1"), ConnectorOwnerRow),
    "live_status": (lambda q: _one(q.live_status()), list[LiveStatusRow]),
    "tariff_prices": (_prices, dict[str, TariffPriceRow]),
    "sessions": (lambda q: _one(q.sessions()), list[OcpiSessionRow]),
    "station": (lambda q: q.station("S1"), OcpiStationRow),
    "charger": (lambda q: q.charger("C1"), OcpiChargerRow),
    "locations": (lambda q: _one(q.locations()), list[OcpiLocationRow]),
    "public_locations": (
        lambda q: _one(q.locations(public_only=True, include_retired=False)),
        list[OcpiLocationRow],
    ),
    "cdrs": (lambda q: _one(q.cdrs()), list[OcpiCdrRow]),
    "tariffs": (
        lambda q: _one(q.tariffs(tariff_ids=["CN*XZP*T1", "CN*XZP*T9"])),
        list[OcpiTariffRow],
    ),
}


@pytest.mark.parametrize("name", list(OCPI_READS))
def test_ocpi_reads_return_their_row_types(world: Platform, name: str) -> None:
    read, row_type = OCPI_READS[name]
    value = read(OcpiReads(world.store.read_engine))
    assert value, f"{name}: the world gives it nothing to return"
    assert mismatches(value, row_type, name) == []


def test_ocpi_directory_returns_its_row_types(world: Platform) -> None:
    directory = SqlOcpiDirectory(world.settings.database_url)
    try:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        directory.add_peer("rows-peer", PeerKind.CPO, "a CPO", now)
        directory.set_party(Party("CN", "ROW"), "OP1", "rows-peer", now)
        directory.set_party(Party("CN", "US"), "OP1", None, now)
        assert mismatches(directory.party(Party("CN", "ROW")), PartyOwnerRow, "party") == []
        assert mismatches(directory.party(Party("CN", "US")), PartyOwnerRow, "party") == []
        parties = directory.parties()
        assert len(parties) >= 2
        assert mismatches(parties, list[PartyRow], "parties") == []
    finally:
        directory.dispose()


@pytest.mark.parametrize("name", list(SUPERVISION_READS))
def test_supervision_reads_return_their_row_types(world: Platform, name: str) -> None:
    read, row_type = SUPERVISION_READS[name]
    value = read(world.supervision.queries)
    assert value, f"{name}: the world gives it nothing to return"
    assert mismatches(value, row_type, name) == []


def test_the_check_finds_a_row_that_is_not_its_type() -> None:
    right = PresenceReportRow(at_us=1, online=True, reason=None)
    assert mismatches(right, PresenceReportRow) == []
    assert mismatches({"at_us": 1, "online": 1, "reason": None}, PresenceReportRow) == [
        "row.online: 1 is int, not bool"
    ]
    assert mismatches({"at_us": True, "online": True}, PresenceReportRow) == [
        "row.reason: missing",
        "row.at_us: True is a bool, not an int",
    ]
    assert mismatches({**right, "extra": 1}, PresenceReportRow) == [
        "row.extra: not in PresenceReportRow"
    ]
    naive = datetime(2026, 1, 1)
    assert mismatches([naive], list[datetime]) == [f"row[0]: {naive!r} is naive"]


def test_a_row_has_its_fields_in_the_order_its_type_declares() -> None:
    # JSON of a row an API returns as it is keeps one order, whatever the hash seed.
    r = {"reason": "r", "online": True, "at_us": 1, "extra": 0}
    assert list(row_of(PresenceReportRow, r)) == ["at_us", "online", "reason"]
    assert list(row_of(PresenceReportRow, r, online=False)) == ["at_us", "online", "reason"]
    with pytest.raises(AssertionError, match="onlin"):
        row_of(PresenceReportRow, r, onlin=False)
