"""Filings from a known world: EV-ChART's quarterly modules (23 CFR 680.112, uptime per
680.116(b)) and the UK annual reliability report (PCPR 2023 reg. 7 and 8)."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from chargenet.adapters import tabular
from chargenet.app.filings import EVCHART_COLUMNS
from chargenet.app.supervision_ports import Scope
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    MeterSampled,
    SessionEnded,
    SessionStarted,
)
from chargenet.core.ids import ChargerId, ConnectorId, SessionId
from chargenet.core.oversight import ExclusionReason
from chargenet.core.status import ConnectorStatus as S
from chargenet.core.supervision import TargetKind
from chargenet.kit.clock import FixedClock
from tests import migrated
from tests.builders import charger, meta, operator, small_world, station

APRIL = datetime(2025, 3, 31, 16, tzinfo=UTC)  # 1 April 2025, 00:00 in Shanghai
NOW = datetime(2025, 7, 10, 16, tzinfo=UTC)  # 11 July 2025, 00:00 in Shanghai


def local(month: int, day: int, hour: int = 0) -> datetime:
    """A Shanghai wall-clock time in 2025, as UTC."""
    return datetime(2025, month, day, hour, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Platform]:
    p = bootstrap(
        Settings(database_url=migrated.sqlite_url(tmp_path / "f.db"), sqlite_synchronous="OFF"),
        clock=FixedClock(NOW),
    )
    p.ingestor.ingest(
        [*small_world(), operator("OP2", name="Two"), station("S2", "OP2"), charger("C9", "S2")]
    )
    p.ingestor.ingest(
        [
            *(
                ChargerPresenceChanged(**meta(APRIL), charger_id=ChargerId(c), online=True)
                for c in ("C1", "C9")
            ),
            *(
                ConnectorStatusChanged(
                    **meta(APRIL), connector_id=ConnectorId(c), status=S.AVAILABLE
                )
                for c in ("C1-1-1", "C1-2-1", "C9-1-1", "C9-2-1")
            ),
            # Port C1-1: faulted four hours on 10 May, one of them the utility's.
            ConnectorStatusChanged(
                **meta(local(5, 10, 10)), connector_id=ConnectorId("C1-1-1"), status=S.FAULTED
            ),
            ConnectorStatusChanged(
                **meta(local(5, 10, 14)), connector_id=ConnectorId("C1-1-1"), status=S.AVAILABLE
            ),
            # Port C1-2: out of service across the quarter's end, 30 June 22:00 to 02:00.
            ConnectorStatusChanged(
                **meta(local(6, 30, 22)), connector_id=ConnectorId("C1-2-1"), status=S.UNAVAILABLE
            ),
            ConnectorStatusChanged(
                **meta(local(7, 1, 2)), connector_id=ConnectorId("C1-2-1"), status=S.AVAILABLE
            ),
            # Two sessions in the quarter: one ends normally, one by an emergency stop.
            SessionStarted(
                **meta(local(5, 2, 9)),
                session_id=SessionId("T1"),
                connector_id=ConnectorId("C1-1-1"),
            ),
            MeterSampled(
                **meta(local(5, 2, 9)),
                connector_id=ConnectorId("C1-1-1"),
                session_id=SessionId("T1"),
                power_w=55_000,
            ),
            SessionEnded(
                **meta(local(5, 2, 10)),
                session_id=SessionId("T1"),
                energy_wh=12_345,
                stop_reason="Local",
            ),
            SessionStarted(
                **meta(local(6, 3, 9)),
                session_id=SessionId("T2"),
                connector_id=ConnectorId("C9-1-1"),
            ),
            SessionEnded(
                **meta(local(6, 3, 9)),
                session_id=SessionId("T2"),
                energy_wh=10,
                stop_reason="EmergencyStop",
            ),
            # Ended in July: the next quarter's.
            SessionStarted(
                **meta(local(7, 2, 9)),
                session_id=SessionId("T3"),
                connector_id=ConnectorId("C9-1-1"),
            ),
            SessionEnded(**meta(local(7, 2, 10)), session_id=SessionId("T3"), energy_wh=5_000),
        ]
    )
    loop = asyncio.new_event_loop()
    loop.run_until_complete(p.start())
    loop.run_until_complete(
        p.supervision.exclude(
            TargetKind.CHARGER,
            "C1",
            local(5, 10, 11),
            local(5, 10, 12),
            ExclusionReason.UTILITY_OUTAGE,
            "feeder trip",
            "op",
        )
    )
    yield p
    loop.run_until_complete(p.stop())
    loop.close()
    p.close()


def test_evchart_modules_for_a_quarter_carry_the_known_world(world: Platform) -> None:
    modules = world.filings.evchart(Scope(), 2025, 2)
    assert [p["port_id"] for p in modules["port"]] == ["C1-1", "C1-2", "C9-1", "C9-2"]
    assert {p["port_type"] for p in modules["port"]} == {"DCFC"}

    sessions = {s["session_id"]: s for s in modules["session"]}
    assert set(sessions) == {"T1", "T2"}  # T3 ended in July
    t1 = sessions["T1"]
    assert (t1["port_id"], t1["network_provider"], t1["energy_kwh"], t1["power_kw"]) == (
        "C1-1",
        "OP1",
        Decimal("12.35"),
        Decimal("55.00"),
    )
    assert t1["session_error"] is None and sessions["T2"]["session_error"] == "EmergencyStop"

    # 680.116(b): the 12 months ending with the quarter; in service from 1 April.
    uptime = {u["port_id"]: u for u in modules["uptime"]}
    hours = (30 + 31 + 30) * 24
    c11 = uptime["C1-1"]
    assert c11["uptime_reporting_start"] == datetime(2024, 6, 30, 16, tzinfo=UTC)
    assert c11["uptime_reporting_end"] == datetime(2025, 6, 30, 16, tzinfo=UTC)
    assert (c11["total_outage"], c11["total_outage_excl"]) == (Decimal("240.00"), Decimal("60.00"))
    assert c11["uptime"] == Decimal(str(round((hours - 3) / hours * 100, 2)))
    c12 = uptime["C1-2"]  # two of its four hours fall in the quarter
    assert (c12["total_outage"], c12["total_outage_excl"]) == (Decimal("120.00"), Decimal("0.00"))
    assert uptime["C9-1"]["uptime"] == Decimal("100.00")

    # Module 4: each outage once, by its start, whole even when it runs past the quarter.
    outages = [(o["port_id"], o["outage_id"], o["outage_duration"]) for o in modules["outage"]]
    assert outages == [
        ("C1-1", local(5, 10, 10), Decimal("240.00")),
        ("C1-2", local(6, 30, 22), Decimal("240.00")),
    ]
    first, second = modules["outage"]
    assert (first["excluded_outage"], first["excluded_outage_reason"]) == (True, 1)
    assert first["excluded_outage_notes"] == "excluded 60.00 of 240.00 min"
    assert (second["excluded_outage"], second["excluded_outage_reason"]) == (False, None)
    # The next quarter does not report C1-2's outage again.
    assert world.filings.evchart(Scope(), 2025, 3)["outage"] == []


def test_evchart_files_have_the_templates_columns(world: Platform) -> None:
    modules = world.filings.evchart(Scope(operator="OP1"), 2025, 2)
    archive = tabular.to_zip_csv(
        {name: (rows, EVCHART_COLUMNS[name]) for name, rows in modules.items()}, "evchart-"
    )
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert sorted(z.namelist()) == [f"evchart-{m}.csv" for m in sorted(EVCHART_COLUMNS)]
        text = z.read("evchart-outage.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == EVCHART_COLUMNS["outage"]
    assert rows[1] == [
        "S1",
        "OP1",
        "C1-1",
        "2025-05-10T02:00:00Z",
        "240.00",
        "True",
        "1",
        "excluded 60.00 of 240.00 min",
    ]


def test_the_uk_annual_report_gives_each_operators_rapid_network_and_points(
    world: Platform,
) -> None:
    report = world.filings.uk_annual(Scope(), 2025)
    by_operator = {r["operator_id"]: r for r in report["report"]}
    hours = 101 * 24  # 1 April to 11 July, local; the year counts up to now
    op1 = by_operator["OP1"]
    assert (op1["rapid_charge_points"], op1["evses"]) == (1, 2)
    assert op1["not_working_hours"] == 8  # 4 h faulted, 4 h out of service
    assert op1["measured_hours"] == 2 * hours
    assert op1["reliability_percent"] == pytest.approx((2 * hours - 8) / (2 * hours) * 100, 1e-6)
    assert op1["meets_99_percent"] is True
    assert (by_operator["OP2"]["reliability_percent"], by_operator["OP2"]["meets_99_percent"]) == (
        100.0,
        True,
    )
    points = {(p["operator_id"], p["charge_point_id"]) for p in report["charge_points"]}
    assert points == {("OP1", "C1"), ("OP2", "C9")}
    # A year in which no rapid charge point was operated has nothing to report.
    assert world.filings.uk_annual(Scope(), 2024)["report"] == []
