"""Operators push Locations (at every level), Sessions, CDRs and Tariffs; each becomes
chargenet events and state exactly as OCPP data does. Driven by a client written from the
OCPI 2.2.1 specification over the ASGI interface."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.routes import ocpi_router
from chargenet.adapters.storage.schema import connector_live
from chargenet.app.ocpi import Party
from chargenet.app.settlement import DisputeRow
from chargenet.bootstrap import Platform, build_ocpi
from chargenet.core.ledger import cents
from chargenet.entrypoints.web import create_app, open_data
from tests.adapters.ocpi import spec
from tests.adapters.ocpi.spec import CPO, auth, ts
from tests.builders import operator, small_world

OTHER = Party("CN", "ABC")
BASE = "/ocpi/2.2.1/receiver"
LOC = f"{BASE}/locations/CN/XZP/LOC1"


@dataclass
class Env:
    client: TestClient
    platform: Platform
    ocpi: OcpiParty
    token: str
    other_token: str

    def put(self, path: str, body: object, token: str | None = None) -> dict[str, Any]:
        r = self.client.put(path, json=body, headers=auth(token or self.token))
        return {"http": r.status_code, **r.json()}

    def patch(self, path: str, body: object, token: str | None = None) -> dict[str, Any]:
        r = self.client.patch(path, json=body, headers=auth(token or self.token))
        return {"http": r.status_code, **r.json()}

    def status(self, connector_id: str) -> str | None:
        rows, _ = self.platform.read.connectors(limit=1000)
        found = [r for r in rows if r["connector_id"] == connector_id]
        return found[0]["status"] if found else None

    def events(self) -> int:
        return int(self.platform.read.counts()["events"])


@pytest.fixture
def env(platform: Platform) -> Iterator[Env]:
    platform.ingestor.ingest([*small_world(), operator("OP2", name="Operator Two")])
    ocpi = build_ocpi(platform)
    token = spec.registered_peer(ocpi, "CN*XZP", CPO, "OP1")
    other = spec.registered_peer(ocpi, "CN*ABC", OTHER, "OP2")
    app = create_app(platform, routers=[ocpi_router(ocpi), open_data(ocpi)])
    with TestClient(app) as client:
        yield Env(client, platform, ocpi, token, other)
    ocpi.directory.dispose()


def test_a_location_push_registers_station_chargers_connectors_and_status(env: Env) -> None:
    body = spec.location(
        evses=[spec.evse("E1", "CHARGING", connectors=2), spec.evse("E2", "OUTOFORDER")]
    )
    reply = env.put(LOC, body)
    assert reply["http"] == 201 and reply["status_code"] == 1000
    station = env.platform.read.station("CN*XZP*LOC1")
    assert station is not None
    assert station["operator_id"] == "OP1" and station["name"] == "忻州东站充电站"
    assert (station["lat"], station["lon"]) == (38.417, 112.734)  # WGS-84 as sent
    assert station["source_adapter"] == "ocpi"
    chargers = {c["charger_id"]: c for c in station["chargers"]}
    assert set(chargers) == {"CN*XZP*E1", "CN*XZP*E2"}
    assert chargers["CN*XZP*E1"]["protocol"] == "ocpi"
    statuses = {
        c["connector_id"]: c["status"] for ch in chargers.values() for c in ch["connectors"]
    }
    assert statuses == {
        "CN*XZP*E1*1": "charging",
        "CN*XZP*E1*2": "charging",
        "CN*XZP*E2*1": "faulted",
    }
    # The same push again is the same events: nothing new in the log, state unchanged.
    before = env.events()
    again = env.put(LOC, body)
    assert again["http"] == 200 and again["status_code"] == 1000
    assert env.events() == before


def test_patches_at_location_evse_and_connector_level(env: Env) -> None:
    env.put(LOC, spec.location(evses=[spec.evse("E1", "AVAILABLE")]))
    assert (
        env.patch(LOC, {"name": "忻州东站（北广场）", "last_updated": ts(5)})["status_code"] == 1000
    )
    stored = env.platform.read.station("CN*XZP*LOC1")
    assert stored is not None and stored["name"] == "忻州东站（北广场）"

    assert (
        env.patch(f"{LOC}/E1", {"status": "CHARGING", "last_updated": ts(6)})["status_code"] == 1000
    )
    assert env.status("CN*XZP*E1*1") == "charging"

    new_evse = spec.evse("E2", "AVAILABLE", minutes=7)
    put = env.put(f"{LOC}/E2", new_evse)
    assert put["http"] == 201 and put["status_code"] == 1000
    assert env.status("CN*XZP*E2*1") == "available"

    reply = env.patch(f"{LOC}/E2/1", {"max_electric_power": 60_000, "last_updated": ts(8)})
    assert reply["status_code"] == 1000
    charger = env.platform.read.charger("CN*XZP*E2")
    assert charger is not None
    assert [c["max_power_w"] for c in charger["connectors"]] == [60_000]

    put_connector = env.put(
        f"{LOC}/E2/2",
        spec.connector(
            "2",
            minutes=9,
            standard="GBT_AC",
            power_type="AC_1_PHASE",
            format="SOCKET",
            max_electric_power=7000,
        ),
    )
    assert put_connector["http"] == 201
    charger = env.platform.read.charger("CN*XZP*E2")
    assert charger is not None
    assert sorted((c["connector_id"], c["standard"]) for c in charger["connectors"]) == [
        ("CN*XZP*E2*1", "gbt_dc"),
        ("CN*XZP*E2*2", "gbt_ac"),
    ]
    # What we hold reads back as OCPI from the receiver's GET.
    got = env.client.get(f"{LOC}/E2/2", headers=auth(env.token)).json()
    assert got["data"]["max_electric_power"] == 7000 and got["data"]["standard"] == "GBT_AC"


def test_removed_and_planned_are_registry_changes(env: Env) -> None:
    env.put(LOC, spec.location(evses=[spec.evse("E1"), spec.evse("E2", "PLANNED")]))
    stored = env.platform.read.station("CN*XZP*LOC1")
    assert stored is not None
    chargers = {c["charger_id"]: c for c in stored["chargers"]}
    assert chargers["CN*XZP*E2"]["retired_at"] is not None  # planned: not yet in service
    # OP1's piles: C1's two guns (OCPP) and E1; the planned E2 is not counted.
    assert env.platform.read.pile_count(operator_id="OP1").total == 3
    env.patch(f"{LOC}/E2", {"status": "AVAILABLE", "last_updated": ts(3)})
    env.patch(f"{LOC}/E1", {"status": "REMOVED", "last_updated": ts(4)})
    stored = env.platform.read.station("CN*XZP*LOC1")
    assert stored is not None
    chargers = {c["charger_id"]: c for c in stored["chargers"]}
    assert chargers["CN*XZP*E1"]["retired_at"] is not None
    assert chargers["CN*XZP*E2"]["retired_at"] is None
    evses = env.client.get(LOC, headers=auth(env.token)).json()["data"]["evses"]
    assert {e["uid"]: e["status"] for e in evses} == {"E1": "REMOVED", "E2": "AVAILABLE"}


def test_a_status_patch_on_a_removed_evse_is_refused_and_a_put_brings_it_back(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    """mod_locations.asciidoc (Flow and Lifecycle): REMOVED deletes an EVSE from the list of
    active EVSEs, which are never deleted nor their uid reused. A status PATCH after it is
    refused (2001) and logged; the retirement, and what was accepted before, stay."""
    env.put(LOC, spec.location(evses=[spec.evse("E1"), spec.evse("E2")]))
    env.patch(f"{LOC}/E1", {"status": "CHARGING", "last_updated": ts(2)})
    assert (
        env.patch(f"{LOC}/E1", {"status": "REMOVED", "last_updated": ts(4)})["status_code"] == 1000
    )
    before = env.events()

    with caplog.at_level(logging.WARNING, logger="chargenet.adapters.ocpi.receiver"):
        refused = env.patch(f"{LOC}/E1", {"status": "AVAILABLE", "last_updated": ts(6)})
    assert refused["status_code"] == 2001 and "REMOVED" in refused["status_message"]
    assert any("CN*XZP*E1" in r.getMessage() for r in caplog.records)
    # Older than the removal: acknowledged and ignored, as any older update.
    late = env.patch(f"{LOC}/E1", {"status": "AVAILABLE", "last_updated": ts(3)})
    assert late["status_code"] == 1000 and "older" in late["status_message"]
    # Other fields with it do not bring it back either.
    full = {"status": "AVAILABLE", "floor_level": "2", "last_updated": ts(7)}
    assert env.patch(f"{LOC}/E1", full)["status_code"] == 2001
    assert env.events() == before  # nothing stored

    stored = env.platform.read.station("CN*XZP*LOC1")
    assert stored is not None
    chargers = {c["charger_id"]: c for c in stored["chargers"]}
    assert chargers["CN*XZP*E1"]["retired_at"] is not None
    assert chargers["CN*XZP*E2"]["retired_at"] is None
    with env.platform.store.engine.connect() as conn:
        kept = conn.execute(
            select(connector_live.c.status).where(connector_live.c.connector_id == "CN*XZP*E1*1")
        ).scalar_one()
    assert kept == "charging"  # the last status accepted, kept
    evses = env.client.get(LOC, headers=auth(env.token)).json()["data"]["evses"]
    assert {e["uid"]: e["status"] for e in evses} == {"E1": "REMOVED", "E2": "AVAILABLE"}

    # The CPO puts the whole EVSE again: back in service, and its statuses apply again.
    assert env.put(f"{LOC}/E1", spec.evse("E1", "AVAILABLE", minutes=8))["status_code"] == 1000
    assert (
        env.patch(f"{LOC}/E1", {"status": "CHARGING", "last_updated": ts(9)})["status_code"] == 1000
    )
    assert env.status("CN*XZP*E1*1") == "charging"
    evses = env.client.get(LOC, headers=auth(env.token)).json()["data"]["evses"]
    assert {e["uid"]: e["status"] for e in evses} == {"E1": "CHARGING", "E2": "AVAILABLE"}


def test_an_older_update_never_overwrites_a_newer_one(env: Env) -> None:
    env.put(LOC, spec.location(evses=[spec.evse("E1", "AVAILABLE")]))
    env.patch(f"{LOC}/E1", {"status": "CHARGING", "last_updated": ts(10)})
    env.patch(f"{LOC}/E1", {"status": "CHARGING", "last_updated": ts(30)})
    late = env.patch(f"{LOC}/E1", {"status": "AVAILABLE", "last_updated": ts(20)})
    assert late["status_code"] == 1000 and "older" in late["status_message"]
    assert env.status("CN*XZP*E1*1") == "charging"
    # A whole Location older than the one held changes nothing either.
    env.put(
        LOC,
        spec.location(minutes=40, name="新名字", evses=[spec.evse("E1", "CHARGING", minutes=30)]),
    )
    env.put(
        LOC,
        spec.location(minutes=35, name="旧名字", evses=[spec.evse("E1", "AVAILABLE", minutes=35)]),
    )
    stored = env.platform.read.station("CN*XZP*LOC1")
    assert stored is not None and stored["name"] == "新名字"
    assert env.status("CN*XZP*E1*1") == "charging"


def test_a_party_writes_only_its_own_objects(env: Env) -> None:
    env.put(LOC, spec.location(evses=[spec.evse("E1", "AVAILABLE")]))
    before = env.events()
    # Another operator's token, writing under CN*XZP: refused with 2001, nothing changes.
    reply = env.put(LOC, spec.location(name="hijacked"), token=env.other_token)
    assert reply["http"] == 403 and reply["status_code"] == 2001
    reply = env.patch(
        f"{LOC}/E1", {"status": "OUTOFORDER", "last_updated": ts(50)}, token=env.other_token
    )
    assert reply["status_code"] == 2001
    # Its own party, but naming CN*XZP's EVSE in the path of a location it does not have.
    reply = env.patch(
        f"{BASE}/locations/CN/ABC/LOC1/E1",
        {"status": "OUTOFORDER", "last_updated": ts(50)},
        token=env.other_token,
    )
    assert reply["status_code"] == 2003
    # A body that claims another party than the URL.
    reply = env.put(f"{BASE}/locations/CN/ABC/LOC9", spec.location("LOC9"), token=env.other_token)
    assert reply["status_code"] == 2001
    assert env.events() == before
    stored = env.platform.read.station("CN*XZP*LOC1")
    assert stored is not None and stored["name"] == "忻州东站充电站"
    assert env.status("CN*XZP*E1*1") == "available"


def test_bad_objects_are_refused_with_the_field_named(env: Env) -> None:
    bad = spec.location(coordinates={"latitude": "north", "longitude": "112.734000"})
    reply = env.put(LOC, bad)
    assert reply["status_code"] == 2001 and "latitude" in reply["status_message"]
    reply = env.put(LOC, spec.location(evses=[spec.evse("E1", "SLEEPING")]))
    assert reply["status_code"] == 2001 and "SLEEPING" in reply["status_message"]
    raw = env.client.put(
        LOC, content=b"{not json", headers={**auth(env.token), "content-type": "application/json"}
    )
    assert raw.status_code == 400 and raw.json()["status_code"] == 2001
    assert env.platform.read.station("CN*XZP*LOC1") is None
    assert env.client.put(LOC, json=spec.location(), headers=auth("nobody")).status_code == 401


def test_sessions_start_update_and_end(env: Env) -> None:
    env.put(LOC, spec.location(evses=[spec.evse("E1", "CHARGING")]))
    path = f"{BASE}/sessions/CN/XZP/S1"
    assert env.put(path, spec.session(kwh=0))["http"] == 201
    assert env.patch(path, {"kwh": 12.5, "last_updated": ts(20)})["status_code"] == 1000
    rows, _ = env.platform.read.sessions()
    assert rows[0]["session_id"] == "CN*XZP*S1" and rows[0]["state"] == "active"
    assert rows[0]["energy_wh"] == 12_500 and rows[0]["connector_id"] == "CN*XZP*E1*1"
    done = spec.session(
        status="COMPLETED",
        kwh=30.5,
        minutes=61,
        end_date_time=ts(61),
        total_cost={"excl_vat": 36.6},
    )
    assert env.put(path, done)["status_code"] == 1000
    rows, _ = env.platform.read.sessions()
    assert rows[0]["state"] == "completed" and rows[0]["energy_wh"] == 30_500
    # Another operator cannot write a session on CN*XZP's connector.
    theirs = {**spec.session("S2"), "party_id": "ABC"}
    reply = env.put(f"{BASE}/sessions/CN/ABC/S2", theirs, token=env.other_token)
    assert reply["status_code"] == 2003


def test_cdrs_and_tariffs_are_recorded_and_read_back(env: Env) -> None:
    env.put(f"{BASE}/tariffs/CN/XZP/T1", spec.tariff("T1", price=1.2))
    env.put(LOC, spec.location(evses=[spec.evse("E1", "AVAILABLE", connectors=1)]))
    env.put(f"{LOC}/E1/1", spec.connector("1", minutes=2, tariff_ids=["T1"]))
    response = env.client.post(f"{BASE}/cdrs", json=spec.cdr(), headers=auth(env.token))
    assert response.status_code == 201 and response.json()["status_code"] == 1000
    location = response.headers["location"]
    assert location.endswith("/receiver/cdrs/CN/XZP/CDR1")
    got = env.client.get(urlsplit(location).path, headers=auth(env.token)).json()
    assert got["data"]["total_energy"] == 30.5 and got["data"]["total_cost"]["excl_vat"] == 36.6
    # The price reaches the public feed, VAT included.
    sites = env.client.get("/open-data/v1/sites").json()
    ours = next(s for s in sites if s["station_id"] == "CN*XZP*LOC1")
    price = ours["evses"][0]["connectors"][0]["price"]
    assert price["currency"] == "CNY" and price["energy_per_kwh"] == "1.356"
    # Withdrawn tariffs leave the feed.
    assert (
        env.client.delete(f"{BASE}/tariffs/CN/XZP/T1", headers=auth(env.token)).json()[
            "status_code"
        ]
        == 1000
    )
    sites = env.client.get("/open-data/v1/sites").json()
    ours = next(s for s in sites if s["station_id"] == "CN*XZP*LOC1")
    assert ours["evses"][0]["connectors"][0]["price"] is None


def test_a_cdr_that_disagrees_with_the_platforms_bill_opens_a_dispute_once(env: Env) -> None:
    env.put(f"{BASE}/tariffs/CN/XZP/T1", spec.tariff("T1", price=1.2))
    env.put(LOC, spec.location(evses=[spec.evse("E1", "AVAILABLE", connectors=1)]))
    env.put(f"{LOC}/E1/1", spec.connector("1", minutes=0, tariff_ids=["T1"]))
    for sid in ("S1", "S2"):
        done = spec.session(sid, "COMPLETED", kwh=30.5, minutes=61, end_date_time=ts(61))
        assert env.put(f"{BASE}/sessions/CN/XZP/{sid}", done)["status_code"] == 1000
    # The platform's own bill of 30.5 kWh at 1.20 + 13 % VAT; the CDR of S1 agrees with
    # it, that of S2 states more energy and money.
    ours = cents(Decimal("30.5") * Decimal("1.2") * Decimal("1.13"))
    agreeing = spec.cdr("CDR1", total_cost={"excl_vat": 36.6, "incl_vat": float(ours)})
    overstated = spec.cdr(
        "CDR2", session_id="S2", total_energy=35.0, total_cost={"excl_vat": 42, "incl_vat": 47.46}
    )
    for body in (agreeing, overstated, overstated):  # the second CDR sent twice
        response = env.client.post(f"{BASE}/cdrs", json=body, headers=auth(env.token))
        assert response.json()["status_code"] == 1000

    def opened() -> list[DisputeRow]:
        return env.platform.settlement.reads.disputes(None, True, 10)

    [dispute] = spec.wait_for(opened, what="a dispute")
    assert dispute["session_id"] == "CN*XZP*S2" and dispute["origin"] == "ocpi"
    assert dispute["document_id"] == "CN*XZP*CDR2" and dispute["operator_id"] == "OP1"
    assert (dispute["stated_energy_wh"], dispute["stated_amount"]) == (35_000, Decimal("47.46"))
    assert (dispute["recorded_energy_wh"], dispute["recorded_amount"]) == (30_500, ours)
    time.sleep(0.3)  # the resend had its turn on the bus
    assert len(opened()) == 1
