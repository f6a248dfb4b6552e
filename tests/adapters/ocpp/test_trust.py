"""A charger writes only about its own connectors, and what it says is stored on every backend."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

from ocpp.v16 import call as c16
from sqlalchemy import select

from chargenet.adapters.storage.schema import rejected_events
from chargenet.app.queries import ConnectorRow
from chargenet.bootstrap import Platform
from chargenet.core.events import Event
from chargenet.core.ids import ConnectorId
from chargenet.core.registry.model import EvseRecord
from chargenet.kit.secrets import hash_secret
from tests.adapters.ocpp.peers import PASSWORD, boot16, connect, running
from tests.adapters.ocpp.test_gateway import sessions
from tests.builders import T0, charger, operator, station


def _connector(platform: Platform, charger_id: str, connector_id: str) -> ConnectorRow:
    rows, _ = platform.read.connectors(charger_ids=[charger_id])
    return next(r for r in rows if r["connector_id"] == connector_id)


def _rejected(platform: Platform) -> list[str]:
    with platform.store.engine.connect() as conn:
        return list(conn.execute(select(rejected_events.c.reason)).scalars())


def _neighbours() -> list[Event]:
    """Charger PRIV-A of operator OPA; charger XB of operator OPB, whose connector was
    registered with the id PRIV-A's connector 9 would have if it had one."""
    xb = charger("XB", "SB")
    guns = (
        EvseRecord(
            evse_no=1,
            connectors=(
                dataclasses.replace(
                    xb.charger.evses[0].connectors[0], connector_id=ConnectorId("PRIV-A-9-1")
                ),
            ),
        ),
    )
    return [
        operator("OPA"),
        operator("OPB"),
        station("SA", "OPA"),
        station("SB", "OPB"),
        charger("PRIV-A", "SA"),
        dataclasses.replace(xb, charger=dataclasses.replace(xb.charger, evses=guns)),
    ]


def test_a_charger_cannot_write_onto_another_operators_connector(platform: Platform) -> None:
    async def scenario() -> None:
        async with running(platform) as gateway:
            platform.ingestor.ingest(_neighbours())
            assert platform.ocpp_queries is not None
            platform.ocpp_queries.set_secret("PRIV-A", hash_secret(PASSWORD), T0)
            async with connect(gateway, "PRIV-A") as cp:
                await cp.call(boot16())
                await cp.call(
                    c16.StatusNotification(
                        connector_id=9, error_code="GroundFailure", status="Faulted"
                    )
                )
                start = await cp.call(
                    c16.StartTransaction(
                        connector_id=9,
                        id_tag="TAG",
                        meter_start=0,
                        timestamp=datetime.now(UTC).isoformat(),
                    )
                )
                assert start.id_tag_info["status"] == "Accepted"  # answered, not trusted
        xb = _connector(platform, "XB", "PRIV-A-9-1")
        assert xb["reported_status"] is None  # XB's connector heard nothing from PRIV-A
        assert [s for s in sessions(platform) if s["connector_id"] == "PRIV-A-9-1"] == []
        reasons = _rejected(platform)
        assert any("belongs to charger XB, not to the sender PRIV-A" in r for r in reasons)
        assert len([r for r in reasons if "PRIV-A" in r]) == 2  # the status and the start

    asyncio.run(scenario())


def test_a_status_report_with_nul_in_its_text_is_stored_on_every_backend(
    any_platform: Platform,
) -> None:
    async def scenario() -> None:
        async with running(any_platform) as gateway, connect(gateway, "C1") as cp:
            await cp.call(boot16())
            await cp.call(
                c16.StatusNotification(
                    connector_id=2,
                    error_code="OtherError",
                    status="Faulted",
                    info="bad\u0000info",
                    vendor_error_code="E\u00007",
                )
            )
            # The answer came after storage: the report is there, in storable text.
            assert _connector(any_platform, "C1", "C1-2-1")["status"] == "faulted"
            history, _ = any_platform.supervision.queries.connector_history("C1-2-1", 0, 2**62)
            assert [(r["info"], r["vendor_error_code"]) for r in history] == [("badinfo", "E7")]
        assert _rejected(any_platform) == []

    asyncio.run(scenario())
