"""What chargers say about themselves: the hardware and firmware inventory (BootNotification,
2.0.1 NotifyReport) and how firmware updates and diagnostics uploads went — kept as events,
applied to state, readable through the HTTP API, and raised as alarms when they fail."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any

from ocpp.v16 import call as c16
from ocpp.v201 import call as c201

from chargenet.app.supervision_ports import Scope
from chargenet.bootstrap import Platform
from chargenet.core.events import ChargerUpdated
from tests.adapters.ocpp.peers import api, connect, eventually, running, stamp
from tests.builders import charger, meta


def test_boot_and_device_model_reports_build_the_chargers_inventory(platform: Platform) -> None:
    """1.6 BootNotification.req: chargePointSerialNumber, firmwareVersion, iccid, meterType…;
    2.0.1 BootNotificationRequest.chargingStation and NotifyReportRequest.reportData (the
    standardized ChargingStation/Controller variables of Part 2 Appendices)."""

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with (
            running(platform) as gateway,
            connect(gateway, "C1") as cp16,
            connect(gateway, "C2", "ocpp2.0.1") as cp,
        ):
            await cp16.call(
                c16.BootNotification(
                    charge_point_vendor="Peer",
                    charge_point_model="DC120",
                    charge_point_serial_number="SN-16-0001",
                    firmware_version="1.6.9",
                    iccid="8986001234567890123",
                    meter_type="DTSD1352",
                )
            )
            await cp.call(
                c201.BootNotification(
                    charging_station={
                        "model": "M2",
                        "vendor_name": "Peer",
                        "serial_number": "SN-201-0002",
                        "firmware_version": "4.2.0",
                        "modem": {"iccid": "8986009876543210987"},
                    },
                    reason="PowerUp",
                )
            )
            report = [
                ("Controller", None, "FirmwareVersion", "Actual", "4.2.1"),
                ("Connector", {"id": 1, "connector_id": 1}, "ConnectorType", None, "cGBT"),
                ("EVSE", {"id": 2}, "Power", "MaxSet", "60000"),  # a setting: not kept
            ]
            await cp.call(
                c201.NotifyReport(
                    request_id=7,
                    generated_at=stamp(),
                    seq_no=0,
                    report_data=[
                        {
                            "component": {"name": name, **({"evse": evse} if evse else {})},
                            "variable": {"name": variable},
                            "variable_attribute": [
                                {"value": value, **({"type": kind} if kind else {})}
                            ],
                        }
                        for name, evse, variable, kind, value in report
                    ],
                )
            )
        # A registry record that says nothing of serial or firmware does not unsay them.
        record = charger("C1").charger
        platform.ingestor.ingest(
            [ChargerUpdated(**meta(), charger=dataclasses.replace(record, model="DC120"))]
        )
        async with api(platform) as client:
            c1 = (await client.get("/api/v1/chargers/C1")).json()
            inv1 = (await client.get("/api/v1/chargers/C1/inventory")).json()
            inv2 = (await client.get("/api/v1/chargers/C2/inventory")).json()
        return c1, inv1, inv2

    c1, inv1, inv2 = asyncio.run(scenario())
    assert (c1["vendor"], c1["model"], c1["serial_number"], c1["firmware"]) == (
        "Peer",
        "DC120",
        "SN-16-0001",
        "1.6.9",
    )
    assert {(i["variable"], i["value"]) for i in inv1["items"]} == {
        ("iccid", "8986001234567890123"),
        ("meterType", "DTSD1352"),
    }
    # The device-model report is newer than the boot: its firmware version stands.
    assert (inv2["serial_number"], inv2["firmware"], inv2["model"]) == (
        "SN-201-0002",
        "4.2.1",
        "M2",
    )
    items = {
        (i["component"], i["evse_no"], i["connector_no"], i["variable"]): i for i in inv2["items"]
    }
    assert items[("Connector", 1, 1, "ConnectorType")]["value"] == "cGBT"
    assert items[("BootNotification", None, None, "modem.iccid")]["value"] == "8986009876543210987"
    assert ("EVSE", 2, None, "Power") not in items
    assert len(platform.read.events(event_type="charger.inventory_reported")) == 3


def test_failed_firmware_updates_and_uploads_raise_alarms_until_the_next_success(
    platform: Platform,
) -> None:
    """1.6 FirmwareStatusNotification InstallationFailed, DiagnosticsStatusNotification
    UploadFailed; 2.0.1 FirmwareStatusNotification InvalidSignature, LogStatusNotification
    UploadFailure: each an alarm through the safety rules; Installed clears its alarm."""

    def open_alarms() -> set[tuple[str, str, str]]:
        rows = platform.supervision.queries.alarms(Scope(), True, None, 100, 0)[0]
        return {(a["target_id"], a["code"], a["severity"]) for a in rows}

    async def scenario() -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
        async with running(platform) as gateway:
            rules = asyncio.create_task(platform.supervision.run_alarms(platform.bus.subscribe()))
            async with connect(gateway, "C1") as cp16, connect(gateway, "C2", "ocpp2.0.1") as cp:
                await cp16.call(c16.FirmwareStatusNotification(status="Downloading"))
                await cp16.call(c16.FirmwareStatusNotification(status="InstallationFailed"))
                await cp16.call(c16.DiagnosticsStatusNotification(status="UploadFailed"))
                await cp.call(
                    c201.FirmwareStatusNotification(status="InvalidSignature", request_id=5)
                )
                await cp.call(c201.LogStatusNotification(status="UploadFailure", request_id=6))
                await eventually(lambda: len(open_alarms()) == 4)
                raised = open_alarms()
                await cp16.call(c16.FirmwareStatusNotification(status="Installed"))
                await eventually(lambda: len(open_alarms()) == 3)
                after = open_alarms()
            rules.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await rules
        return raised, after

    raised, after = asyncio.run(scenario())
    assert raised == {
        ("C1", "firmware_update_failed", "major"),
        ("C1", "diagnostics_upload_failed", "warning"),
        ("C2", "firmware_update_failed", "major"),
        ("C2", "diagnostics_upload_failed", "warning"),
    }
    assert after == raised - {("C1", "firmware_update_failed", "major")}
    notices = platform.read.events(event_type="equipment.noticed")
    assert [n["info"] for n in notices if n["charger_id"] == "C1" and n["kind"] == "firmware"] == [
        "Downloading",
        "InstallationFailed",
        "Installed",
    ]
