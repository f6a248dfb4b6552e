"""What an operator pushes is what anyone reads back, to the letter of OCPI 2.2.1: every
field of Location, EVSE, Connector, Session, CDR and Tariff (objects built from the
spec's object tables), ids matched without regard to case (types: CiString), DateTimes
within string(25), X-Request-ID / X-Correlation-ID both ways (4.2), and no last_updated
from a clock running days ahead."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text as sql

from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.routes import ocpi_router
from chargenet.app.ocpi import PeerKind
from chargenet.bootstrap import Platform, build_ocpi
from chargenet.core.drivers import TokenKey
from chargenet.entrypoints.web import create_app
from tests.adapters.ocpi import spec
from tests.adapters.ocpi.spec import CPO, auth, ts
from tests.builders import small_world

BASE = "/ocpi/2.2.1/receiver"
LOC = f"{BASE}/locations/CN/XZP/LOC1"


@dataclass
class Env:
    client: TestClient
    platform: Platform
    ocpi: OcpiParty
    token: str
    reader: str  # a platform that reads every sender

    def call(self, method: str, path: str, body: object = None, **kw: Any) -> Any:
        token = kw.pop("token", self.token)
        return self.client.request(method, path, json=body, headers=auth(token), **kw)

    def put(self, path: str, body: object) -> dict[str, Any]:
        r = self.call("PUT", path, body)
        return {"http": r.status_code, **r.json()}

    def patch(self, path: str, body: object) -> dict[str, Any]:
        r = self.call("PATCH", path, body)
        return {"http": r.status_code, **r.json()}

    def get(self, path: str, token: str | None = None) -> Any:
        reply = self.call("GET", path, token=token or self.token).json()
        assert reply["status_code"] == 1000, reply
        return reply["data"]

    def events(self) -> int:
        return int(self.platform.read.counts()["events"])


@pytest.fixture
def env(platform: Platform) -> Iterator[Env]:
    platform.ingestor.ingest(small_world())
    ocpi = build_ocpi(platform)
    token = spec.registered_peer(ocpi, "CN*XZP", CPO, "OP1")
    reader = spec.registered_peer(ocpi, "province", None, None, PeerKind.UPSTREAM)
    with TestClient(create_app(platform, routers=[ocpi_router(ocpi)])) as client:
        yield Env(client, platform, ocpi, token, reader)
    ocpi.directory.dispose()


# --- objects with every field of the 2.2.1 object tables ----------------------------------


def _text(language: str, text: str) -> dict[str, str]:
    return {"language": language, "text": text}


def _image(category: str) -> dict[str, Any]:
    return {
        "url": f"https://cpo.example/img/{category.lower()}.jpg",
        "thumbnail": f"https://cpo.example/img/{category.lower()}-t.jpg",
        "category": category,
        "type": "jpeg",
        "width": 640,
        "height": 480,
    }


ENERGY_MIX = {
    "is_green_energy": False,
    "energy_sources": [
        {"source": "COAL", "percentage": 60.5},
        {"source": "SOLAR", "percentage": 39.5},
    ],
    "environ_impact": [{"category": "CARBON_DIOXIDE", "amount": 540.2}],
    "supplier_name": "国网山西",
    "energy_product_name": "居民电价",
}


def full_connector(cid: str, *, minutes: float = 0) -> dict[str, Any]:
    return {
        "id": cid,
        "standard": "IEC_62196_T2",
        "format": "CABLE",  # a tethered Type 2 cable: AC does not imply SOCKET
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "max_electric_power": 22000,
        "tariff_ids": ["T1"],
        "terms_and_conditions": "https://cpo.example/terms",
        "last_updated": ts(minutes),
    }


def full_evse(uid: str, *, minutes: float = 0, status: str = "AVAILABLE") -> dict[str, Any]:
    return {
        "uid": uid,
        "evse_id": f"CN*XZP*E{uid}",
        "status": status,
        "status_schedule": [
            {"period_begin": ts(600), "period_end": ts(720), "status": "INOPERATIVE"}
        ],
        "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE", "CREDIT_CARD_PAYABLE"],
        "connectors": [full_connector("1", minutes=minutes), full_connector("2", minutes=minutes)],
        "floor_level": "-1",
        "coordinates": {"latitude": "38.41710", "longitude": "112.73420"},
        "physical_reference": "7号桩",
        "directions": [_text("zh", "地下一层B区")],
        "parking_restrictions": ["EV_ONLY", "CUSTOMERS"],
        "images": [_image("CHARGER")],
        "last_updated": ts(minutes),
    }


def full_location(
    *, minutes: float = 0, evses: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "country_code": "CN",
        "party_id": "XZP",
        "id": "LOC1",
        "publish": False,
        "publish_allowed_to": [{"uid": "FLEET-1", "type": "RFID", "issuer": "忻州公交"}],
        "name": "忻州东站充电站",
        "address": "和平街1号",
        "city": "忻州",  # not the area's name: what the operator says
        "postal_code": "034000",
        "state": "山西",
        "country": "CHN",
        "coordinates": {"latitude": "38.417000", "longitude": "112.734000"},
        "related_locations": [
            {
                "latitude": "38.41650",
                "longitude": "112.73390",
                "name": _text("zh", "北入口"),
            }
        ],
        "parking_type": "UNDERGROUND_GARAGE",
        "evses": evses if evses is not None else [full_evse("E1"), full_evse("E2")],
        "directions": [_text("zh", "车站北广场地下"), _text("en", "Under the north square")],
        "operator": {
            "name": "晋北充电",
            "website": "https://cpo.example",
            "logo": _image("OPERATOR"),
        },
        "suboperator": {"name": "忻州站场管理"},
        "owner": {"name": "忻州市交通投资集团"},
        "facilities": ["TRAIN_STATION", "CAFE"],
        "time_zone": "Asia/Shanghai",
        "opening_times": {
            "twentyfourseven": False,
            "regular_hours": [
                {"weekday": day, "period_begin": "06:00", "period_end": "23:00"}
                for day in range(1, 8)
            ],
            "exceptional_openings": [],
            "exceptional_closings": [{"period_begin": ts(-600), "period_end": ts(-480)}],
        },
        "charging_when_closed": False,
        "images": [_image("ENTRANCE")],
        "energy_mix": ENERGY_MIX,
        "last_updated": ts(minutes),
    }


def full_tariff() -> dict[str, Any]:
    return {
        "country_code": "CN",
        "party_id": "XZP",
        "id": "T1",
        "currency": "CNY",
        "type": "AD_HOC_PAYMENT",
        "tariff_alt_text": [_text("zh", "1.20元/度，含服务费"), _text("en", "1.20 CNY/kWh")],
        "tariff_alt_url": "https://cpo.example/tariffs/t1",
        "min_price": {"excl_vat": 1.0, "incl_vat": 1.13},
        "max_price": {"excl_vat": 300.0, "incl_vat": 339.0},
        "elements": [
            {
                "price_components": [
                    {"type": "ENERGY", "price": 1.2, "vat": 13.0, "step_size": 1},
                    {"type": "PARKING_TIME", "price": 5.0, "vat": 13.0, "step_size": 900},
                ],
                "restrictions": {
                    "start_time": "08:00",
                    "end_time": "22:00",
                    "start_date": "2025-01-01",
                    "end_date": "2026-01-01",
                    "min_kwh": 0.5,
                    "max_kwh": 200.0,
                    "min_current": 6.0,
                    "max_current": 250.0,
                    "min_power": 1.0,
                    "max_power": 120.0,
                    "min_duration": 60,
                    "max_duration": 36000,
                    "day_of_week": ["MONDAY", "TUESDAY"],
                },
            },
            {"price_components": [{"type": "FLAT", "price": 2.0, "step_size": 1}]},
        ],
        "start_date_time": ts(-1440),
        "end_date_time": "2099-12-31T16:00:00Z",  # a validity period may lie in the future
        "energy_mix": ENERGY_MIX,
        "last_updated": ts(0),
    }


TOKEN = {
    "country_code": "CN",
    "party_id": "EMP",
    "uid": "RFID-0001",
    "type": "RFID",
    "contract_id": "CN-EMP-C00001",
}
PERIODS = [
    {
        "start_date_time": ts(1),
        "dimensions": [{"type": "ENERGY", "volume": 10.5}, {"type": "MAX_CURRENT", "volume": 32}],
        "tariff_id": "T1",
    },
    {
        "start_date_time": ts(31),
        "dimensions": [{"type": "ENERGY", "volume": 20.0}, {"type": "PARKING_TIME", "volume": 0.5}],
        "tariff_id": "T1",
    },
]


def full_session(status: str, *, minutes: float) -> dict[str, Any]:
    body = {
        "country_code": "CN",
        "party_id": "XZP",
        "id": "S1",
        "start_date_time": ts(1),
        "kwh": 30.5,
        "cdr_token": dict(TOKEN),
        "auth_method": "WHITELIST",
        "authorization_reference": "AUTH-REF-77",
        "location_id": "LOC1",
        "evse_uid": "E1",
        "connector_id": "1",
        "meter_id": "METER-0042",
        "currency": "CNY",
        "charging_periods": PERIODS,
        "total_cost": {"excl_vat": 36.6, "incl_vat": 41.36},
        "status": status,
        "last_updated": ts(minutes),
    }
    if status != "ACTIVE":
        body["end_date_time"] = ts(61)
    return body


def full_cdr() -> dict[str, Any]:
    return {
        "country_code": "CN",
        "party_id": "XZP",
        "id": "CDR1",
        "start_date_time": ts(1),
        "end_date_time": ts(61),
        "session_id": "S1",
        "cdr_token": dict(TOKEN),
        "auth_method": "WHITELIST",
        "authorization_reference": "AUTH-REF-77",
        "cdr_location": {
            "id": "LOC1",
            "name": "忻州东站充电站",
            "address": "和平街1号",
            "city": "忻州",
            "postal_code": "034000",
            "state": "山西",
            "country": "CHN",
            "coordinates": {"latitude": "38.417000", "longitude": "112.734000"},
            "evse_uid": "E1",
            "evse_id": "CN*XZP*EE1",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "CABLE",
            "connector_power_type": "AC_3_PHASE",
        },
        "meter_id": "METER-0042",
        "currency": "CNY",
        "tariffs": [full_tariff()],
        "charging_periods": PERIODS,
        "signed_data": {
            "encoding_method": "OCMF",
            "encoding_method_version": 1,
            "public_key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
            "signed_values": [
                {"nature": "Start", "plain_data": "OCMF|start", "signed_data": "c2lnbmVk"},
                {"nature": "End", "plain_data": "OCMF|end", "signed_data": "c2lnbmVkMg=="},
            ],
            "url": "https://cpo.example/verify",
        },
        "total_cost": {"excl_vat": 36.6, "incl_vat": 41.36},
        "total_fixed_cost": {"excl_vat": 2.0, "incl_vat": 2.26},
        "total_energy": 30.5,
        "total_energy_cost": {"excl_vat": 32.1, "incl_vat": 36.27},
        "total_time": 1.0,
        "total_time_cost": {"excl_vat": 0.0, "incl_vat": 0.0},
        "total_parking_time": 0.5,
        "total_parking_cost": {"excl_vat": 2.5, "incl_vat": 2.83},
        "total_reservation_cost": {"excl_vat": 0.0, "incl_vat": 0.0},
        "remark": "车主主动结束",
        "invoice_reference_id": "INV-2025-05-0001",
        "credit": False,
        "home_charging_compensation": False,
        "last_updated": ts(62),
    }


def _private(body: dict[str, Any], key: TokenKey) -> dict[str, Any]:
    """Drivers' token ids are personal: they come back as digests (the platform's keyed
    digest, cut to the CiString(36) they had), everything else as sent."""

    def _digest(value: str) -> str:
        return key.digest(value)[:36]

    out = copy.deepcopy(body)
    if "cdr_token" in out:
        token = out["cdr_token"]
        token["uid"], token["contract_id"] = _digest(token["uid"]), _digest(token["contract_id"])
    for allowed in out.get("publish_allowed_to", ()):
        allowed["uid"] = _digest(allowed["uid"])
    return out


def _by_uid(location: dict[str, Any]) -> dict[str, Any]:
    out = dict(location)
    out["evses"] = {e["uid"]: e for e in out["evses"]}
    return out


# --- 2, 3: every field comes back as pushed ------------------------------------------------


def test_location_evse_connector_and_tariff_come_back_as_pushed(env: Env) -> None:
    tariff = full_tariff()
    assert env.put(f"{BASE}/tariffs/CN/XZP/T1", tariff)["http"] == 201
    location = full_location()
    assert env.put(LOC, location)["http"] == 201

    assert env.get(f"{BASE}/tariffs/CN/XZP/T1") == tariff
    assert _by_uid(env.get(LOC)) == _by_uid(_private(location, env.platform.token_key))
    assert env.get(f"{LOC}/E1") == location["evses"][0]
    assert env.get(f"{LOC}/E2/2") == location["evses"][1]["connectors"][1]
    # Senders (a platform reading everything, the operator reading its own) say the same.
    sent = env.get("/ocpi/2.2.1/sender/locations/LOC1", token=env.reader)
    assert _by_uid(sent) == _by_uid(_private(location, env.platform.token_key))
    [listed] = env.get("/ocpi/2.2.1/sender/tariffs", token=env.reader)
    assert listed == tariff

    # A PATCH changes what it names and nothing else.
    env.patch(f"{LOC}/E1", {"physical_reference": "8号桩", "last_updated": ts(5)})
    expected = {**location["evses"][0], "physical_reference": "8号桩", "last_updated": ts(5)}
    assert env.get(f"{LOC}/E1") == expected
    env.patch(LOC, {"postal_code": "034001", "last_updated": ts(6)})
    got = env.get(LOC)
    assert got["postal_code"] == "034001" and got["city"] == "忻州"
    assert got["energy_mix"] == ENERGY_MIX and got["last_updated"] == ts(6)


def test_sessions_and_cdrs_come_back_as_pushed_invalid_included(env: Env) -> None:
    env.put(f"{BASE}/tariffs/CN/XZP/T1", full_tariff())
    env.put(LOC, full_location())
    active = full_session("ACTIVE", minutes=2)
    assert env.put(f"{BASE}/sessions/CN/XZP/S1", active)["http"] == 201
    assert env.get(f"{BASE}/sessions/CN/XZP/S1") == _private(active, env.platform.token_key)
    # The operator declares the session INVALID: it must not be sent on as COMPLETED.
    invalid = full_session("INVALID", minutes=70)
    assert env.put(f"{BASE}/sessions/CN/XZP/S1", invalid)["status_code"] == 1000
    assert env.get(f"{BASE}/sessions/CN/XZP/S1") == _private(invalid, env.platform.token_key)
    [sent] = env.get("/ocpi/2.2.1/sender/sessions", token=env.reader)
    assert sent == _private(invalid, env.platform.token_key)
    assert sent["status"] == "INVALID" and sent["auth_method"] == "WHITELIST"
    # The raw token is nowhere in the log.
    assert not _log_holds(env, "RFID-0001") and not _log_holds(env, "CN-EMP-C00001")

    cdr = full_cdr()
    created = env.call("POST", f"{BASE}/cdrs", cdr)
    assert created.status_code == 201 and created.json()["status_code"] == 1000
    assert env.get(f"{BASE}/cdrs/CN/XZP/CDR1") == _private(cdr, env.platform.token_key)
    [sent_cdr] = env.get("/ocpi/2.2.1/sender/cdrs", token=env.reader)
    assert sent_cdr == _private(cdr, env.platform.token_key)
    assert sent_cdr["charging_periods"] == PERIODS


def _log_holds(env: Env, text: str) -> bool:
    with env.platform.store.engine.connect() as conn:
        rows = conn.execute(sql("SELECT payload FROM events")).all()
    return any(text in row[0] for row in rows)


def test_a_rebuild_gives_back_the_same_objects(env: Env) -> None:
    env.put(f"{BASE}/tariffs/CN/XZP/T1", full_tariff())
    env.put(LOC, full_location())
    env.put(f"{BASE}/sessions/CN/XZP/S1", full_session("INVALID", minutes=70))
    before = (env.get(LOC), env.get(f"{BASE}/sessions/CN/XZP/S1"))
    env.platform.store.rebuild()
    assert (env.get(LOC), env.get(f"{BASE}/sessions/CN/XZP/S1")) == before


# --- 4: ids are case-insensitive (types: CiString) ------------------------------------------


def test_ids_are_matched_without_regard_to_case(env: Env) -> None:
    env.put(f"{BASE}/locations/CN/XZP/P4", spec.location("P4", evses=[spec.evse("P4-E1")]))
    before = env.events()
    reply = env.patch(
        f"{BASE}/locations/cn/xzp/p4/p4-e1", {"status": "CHARGING", "last_updated": ts(3)}
    )
    assert reply["status_code"] == 1000, reply
    statuses = {c["connector_id"]: c["status"] for c in env.platform.read.connectors(limit=100)[0]}
    assert [s for cid, s in statuses.items() if cid.upper().startswith("CN*XZP*P4-E1")] == [
        "charging"
    ]
    assert env.get(f"{BASE}/locations/CN/XZP/p4/P4-e1/1")["id"] == "1"

    # PUT of p3 while P3 exists is the same Location, not a second one.
    env.put(f"{BASE}/locations/CN/XZP/P3", spec.location("P3", name="三号"))
    reply = env.put(f"{BASE}/locations/CN/XZP/p3", spec.location("p3", name="三号站", minutes=5))
    assert reply["http"] == 200 and reply["status_code"] == 1000
    stations = [s for s in env.platform.read.stations()[0] if "P3" in s["station_id"].upper()]
    assert len(stations) == 1 and stations[0]["name"] == "三号站"
    assert env.events() > before
    # Sessions, tariffs and CDRs name their Location, EVSE, connector and tariff in any case.
    env.put(f"{BASE}/tariffs/CN/XZP/t9", spec.tariff("t9"))
    assert env.get(f"{BASE}/tariffs/CN/XZP/T9")["id"] == "t9"
    session = {**spec.session("s7"), "location_id": "p4", "evse_uid": "P4-E1"}
    assert env.put(f"{BASE}/sessions/CN/XZP/S7", session)["status_code"] == 1000
    assert env.get(f"{BASE}/sessions/cn/xzp/S7")["id"] == "s7"


# --- 5, 6: message ids and time stamps ------------------------------------------------------


def test_every_reply_carries_request_and_correlation_ids(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    sent = {"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"}
    reply = env.client.get(LOC, headers={**auth(env.token), **sent})
    assert reply.headers["x-request-id"] == "req-1"
    assert reply.headers["x-correlation-id"] == "corr-1"
    # A caller that sent none still gets unique ids back (errors too: 2003, 401).
    first = env.client.get(LOC, headers=auth(env.token))
    second = env.client.get("/ocpi/versions", headers=auth("nobody"))
    assert second.status_code == 401
    ids = [r.headers.get(h) for r in (first, second) for h in ("x-request-id", "x-correlation-id")]
    assert all(ids) and len(set(ids)) == 4
    # They are logged with the refusal.
    with caplog.at_level(logging.INFO, logger="chargenet.adapters.ocpi"):
        env.client.put(LOC, json={"id": "LOC1"}, headers={**auth(env.token), **sent})
    assert any("req-1" in r.getMessage() and "corr-1" in r.getMessage() for r in caplog.records)


def test_every_time_chargenet_sends_fits_ocpi_datetime(env: Env) -> None:
    env.put(LOC, spec.location(evses=[spec.evse("E1")]))
    # A status change at a time with microseconds, as an OCPP charger might report it.
    env.patch(f"{LOC}/E1", {"status": "CHARGING", "last_updated": "2025-05-01T08:09:10.123456Z"})
    reply = env.call("GET", LOC).json()
    stamps = [reply["timestamp"], *_times(reply["data"])]
    assert stamps and all(len(s) <= 25 and s.endswith("Z") for s in stamps), stamps
    assert reply["data"]["last_updated"] == "2025-05-01T08:09:10.123Z"
    # A party's own over-long or offset times are sent on as the same instant, fitted.
    tariff = {**spec.tariff("T1"), "last_updated": "2025-05-01T08:00:00.654321Z"}
    tariff["start_date_time"] = "2025-05-01T16:00:00+08:00"
    env.put(f"{BASE}/tariffs/CN/XZP/T1", tariff)
    got = env.get(f"{BASE}/tariffs/CN/XZP/T1")
    assert got["last_updated"] == "2025-05-01T08:00:00.654Z"
    assert got["start_date_time"] == "2025-05-01T08:00:00Z"


def _times(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [
            t
            for k, v in value.items()
            for t in ([v] if k.endswith(("last_updated", "date_time")) else _times(v))
        ]
    if isinstance(value, list):
        return [t for v in value for t in _times(v)]
    return []


# --- 7: a clock days ahead cannot freeze a port ---------------------------------------------


def test_a_last_updated_far_in_the_future_is_refused(env: Env) -> None:
    env.put(LOC, spec.location(evses=[spec.evse("E1", "AVAILABLE")]))
    ahead = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = env.events()
    reply = env.patch(f"{LOC}/E1", {"status": "OUTOFORDER", "last_updated": ahead})
    assert reply["status_code"] == 2001 and "last_updated" in reply["status_message"]
    for path, body in (
        (LOC, spec.location(evses=[spec.evse("E1", "OUTOFORDER")], last_updated=ahead)),
        (f"{LOC}/E1", spec.evse("E1", "OUTOFORDER", last_updated=ahead)),
        (f"{BASE}/sessions/CN/XZP/S1", spec.session(last_updated=ahead)),
        (f"{BASE}/tariffs/CN/XZP/T1", {**spec.tariff("T1"), "last_updated": ahead}),
    ):
        refused = env.put(path, body)
        assert refused["status_code"] == 2001, (path, refused)
    assert env.events() == before
    # An honest report a moment later is taken: the port is not frozen.
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    honest = env.patch(f"{LOC}/E1", {"status": "OUTOFORDER", "last_updated": now})
    assert honest["status_code"] == 1000 and "older" not in honest["status_message"]
    rows, _ = env.platform.read.connectors(limit=100)
    assert [r["status"] for r in rows if r["connector_id"] == "CN*XZP*E1*1"] == ["faulted"]
    # A clock a little ahead (within the OCPP gateway's tolerance) is accepted.
    near = (datetime.now(UTC) + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        env.patch(f"{LOC}/E1", {"status": "AVAILABLE", "last_updated": near})["status_code"] == 1000
    )
