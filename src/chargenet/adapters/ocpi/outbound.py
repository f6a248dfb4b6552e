"""chargenet state → OCPI 2.2.1 objects, for the senders, receiver GETs, PATCH merges and
forwarding. Every charger appears, whatever protocol it speaks; its status is the
effective status mapped by `status.to_ocpi` (docs/status.md).

An object received over OCPI is sent as its party stated it (the `stated` column: the
newest whole object pushed), with only what chargenet itself knows better laid over it:
an EVSE's live status (status PATCHes, stop orders, retirement) and the `last_updated`
of a Location and an EVSE, which move with it. Objects chargenet holds from elsewhere
(OCPP chargers, imports) are rendered from state."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

from chargenet.adapters.ocpi import vocab
from chargenet.adapters.ocpi.ids import PartyBook, local_id, local_part, split_global
from chargenet.adapters.ocpi.status import LIFECYCLE_STATUSES, evse_status
from chargenet.adapters.ocpi.wire import OcpiError, parse_time, utc_text
from chargenet.app.ocpi import (
    OcpiCdrRow,
    OcpiConnectorRow,
    OcpiLocationRow,
    OcpiSessionRow,
    OcpiTariffRow,
    Party,
)
from chargenet.core.status import ConnectorStatus

COUNTRY = "CHN"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _newest(*values: datetime | None) -> datetime:
    return max((v for v in values if v is not None), default=_EPOCH)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _stated(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else None


def _time_text(stated: Any, actual: datetime) -> str:
    """The party's own spelling of a time when it is the time we hold; ours otherwise."""
    if isinstance(stated, str):
        try:
            if parse_time(stated) == actual:
                return stated
        except OcpiError:
            pass
    return utc_text(actual)


def station_party(row: OcpiLocationRow, book: PartyBook) -> Party:
    """Stations received over OCPI keep their party; others take their operator's."""
    if row["source_adapter"] == "ocpi":
        split = split_global(row["station_id"])
        if split is not None:
            return split[0]
    return book.party_of(row["operator_id"])


def evse_uid(connector: Mapping[str, Any]) -> str:  # a connector's row, or a session's
    if connector.get("evse_uid"):
        return str(connector["evse_uid"])
    return local_id(f"{connector['charger_id']}-{connector['evse_no']}")


def connector_local_id(connector: Mapping[str, Any]) -> str:
    prefix = f"{connector['charger_id']}*"
    if connector["connector_id"].startswith(prefix):
        return str(connector["connector_id"][len(prefix) :])
    return str(connector["connector_no"])


def tariff_local_ids(ids: Sequence[str]) -> list[str]:
    out = []
    for tid in ids:
        split = split_global(tid)
        out.append(split[1] if split else local_id(tid))
    return out


def connector(row: OcpiConnectorRow) -> dict[str, Any]:
    power_type, volts, amps = vocab.electrical_out(
        row["power_type"], row["max_power_w"], row["max_voltage_v"], row["max_current_a"]
    )
    out: dict[str, Any] = {
        "id": connector_local_id(row),
        "standard": vocab.standard_out(row["standard"], row["power_type"]),
        "format": vocab.format_out(row["power_type"]),
        "power_type": power_type,
        "max_voltage": volts,
        "max_amperage": amps,
        "max_electric_power": row["max_power_w"],
        "last_updated": utc_text(_newest(row["as_of"], row["tariffs_as_of"])),
    }
    if row["tariff_ids"]:
        out["tariff_ids"] = tariff_local_ids(row["tariff_ids"])
    return out


def evse(rows: list[OcpiConnectorRow]) -> dict[str, Any]:
    """One EVSE from its connector rows (one chargenet charger EVSE)."""
    first = rows[0]
    stated = _stated(first["evse_stated"])
    active = [r for r in rows if r["retired_at"] is None] or rows
    if first["charger_retired_at"] is not None or all(r["retired_at"] for r in rows):
        # Retired: as the party put it (PLANNED is registered but not yet in service).
        said = stated.get("status") if stated else None
        status = said if said in LIFECYCLE_STATUSES else "REMOVED"
    else:
        status = evse_status([ConnectorStatus(r["status"]) for r in active])
    last = _newest(
        first["charger_as_of"],
        first["presence_since"],
        *(r["as_of"] for r in rows),
        *(r["status_since"] for r in rows),
        *(r["tariffs_as_of"] for r in rows),
        *(r["stop_changed_at"] for r in rows),
    )
    if stated is not None:
        return {
            **stated,
            "status": status,
            "last_updated": _time_text(stated.get("last_updated"), last),
        }
    return {
        "uid": evse_uid(first),
        "status": status,
        "connectors": [connector(r) for r in active],
        "last_updated": utc_text(last),
    }


def evses(connectors: list[OcpiConnectorRow]) -> list[dict[str, Any]]:
    return [
        evse(list(group))
        for _, group in groupby(connectors, key=lambda r: (r["charger_id"], r["evse_no"]))
    ]


def location(
    row: OcpiLocationRow, book: PartyBook, time_zone: str, *, with_evses: bool = True
) -> dict[str, Any]:
    owner = station_party(row, book)
    last_updated = row["last_updated"]
    stated = _stated(row["stated"])
    if stated is not None:
        out = {k: v for k, v in stated.items() if k != "evses"}
        out["last_updated"] = _time_text(stated.get("last_updated"), last_updated)
        if with_evses:
            out["evses"] = evses(row["connectors"])
        return out
    parking_type, facilities = vocab.category_out(row["category"])
    out = {
        "country_code": owner.country_code,
        "party_id": owner.party_id,
        "id": local_part(row["station_id"], owner),
        "publish": row["access"] == "public",
        "name": row["name"],
        "address": (row["address"] or row["name"])[:45],
        "city": (row["city_name"] or "")[:45],
        "country": COUNTRY,
        "coordinates": {"latitude": f"{row['lat']:.6f}", "longitude": f"{row['lon']:.6f}"},
        "time_zone": time_zone,
        "operator": {"name": row["operator_name"] or row["operator_id"]},
        "opening_times": vocab.hours_out(row["opening_hours"]),
        "last_updated": utc_text(last_updated),
    }
    if parking_type:
        out["parking_type"] = parking_type
    if facilities:
        out["facilities"] = facilities
    if with_evses:
        out["evses"] = evses(row["connectors"])
    return out


def _session_status(row: OcpiSessionRow) -> str:
    if row["state"] == "active":
        return "ACTIVE"
    return "INVALID" if row["stop_reason"] == "invalid" else "COMPLETED"


def session(row: OcpiSessionRow, book: PartyBook, currency: str) -> dict[str, Any]:
    stated = _stated(row["stated"])
    if stated is not None:
        return stated
    owner = book.party_of(row["operator_id"])
    if row["source_adapter"] == "ocpi":
        split = split_global(row["session_id"])
        owner = split[0] if split else owner
    station_owner = split_global(row["station_id"]) if row["station_source"] == "ocpi" else None
    station_party_ = station_owner[0] if station_owner else owner
    uid = (row["token_hash"] or "unknown")[:36]
    out: dict[str, Any] = {
        "country_code": owner.country_code,
        "party_id": owner.party_id,
        "id": local_part(row["session_id"], owner),
        "start_date_time": utc_text(row["started_at"]),
        "kwh": round((row["energy_wh"] or 0) / 1000, 3),
        "cdr_token": {
            "uid": uid,
            "type": "OTHER",
            "contract_id": uid,
            "country_code": owner.country_code,
            "party_id": owner.party_id,
        },
        "auth_method": "AUTH_REQUEST",
        "location_id": local_part(row["station_id"], station_party_),
        "evse_uid": evse_uid(row),
        "connector_id": connector_local_id(row),
        "currency": row["currency"] or currency,
        "status": _session_status(row),
        "last_updated": utc_text(row["as_of"]),
    }
    if row["ended_at"] is not None:
        out["end_date_time"] = utc_text(row["ended_at"])
    if row["cost_amount"] is not None:
        out["total_cost"] = {"excl_vat": _number(row["cost_amount"])}
    return out


def cdr(row: OcpiCdrRow, book: PartyBook, time_zone: str) -> dict[str, Any]:
    stated = _stated(row["stated"])
    if stated is not None:
        return stated
    split = split_global(row["cdr_id"])
    owner, local = split if split else (book.party_of(row["operator_id"]), local_id(row["cdr_id"]))
    station_owner = split_global(row["station_id"]) if row["station_source"] == "ocpi" else None
    power_type, _, _ = vocab.electrical_out(row["power_type"], row["max_power_w"], None, None)
    uid = (row["token_hash"] or "unknown")[:36]
    hours = (
        Decimal(
            row["charging_time_s"] or int((row["ended_at"] - row["started_at"]).total_seconds())
        )
        / 3600
    )
    kwh = round(row["energy_wh"] / 1000, 3)
    out: dict[str, Any] = {
        "country_code": owner.country_code,
        "party_id": owner.party_id,
        "id": local,
        "start_date_time": utc_text(row["started_at"]),
        "end_date_time": utc_text(row["ended_at"]),
        "cdr_token": {
            "uid": uid,
            "type": "OTHER",
            "contract_id": uid,
            "country_code": owner.country_code,
            "party_id": owner.party_id,
        },
        "auth_method": row["auth_method"] or "AUTH_REQUEST",
        "cdr_location": {
            "id": station_owner[1] if station_owner else local_id(row["station_id"]),
            "name": row["station_name"],
            "address": (row["address"] or row["station_name"])[:45],
            "city": (row["city_name"] or "")[:45],
            "country": COUNTRY,
            "coordinates": {"latitude": f"{row['lat']:.6f}", "longitude": f"{row['lon']:.6f}"},
            "evse_uid": evse_uid(row),
            "evse_id": evse_uid(row),
            "connector_id": connector_local_id(row),
            "connector_standard": vocab.standard_out(row["standard"], row["power_type"]),
            "connector_format": vocab.format_out(row["power_type"]),
            "connector_power_type": power_type,
        },
        "currency": row["currency"],
        "charging_periods": [
            {
                "start_date_time": utc_text(row["started_at"]),
                "dimensions": [{"type": "ENERGY", "volume": kwh}],
            }
        ],
        "total_cost": {
            "excl_vat": _number(row["cost_amount"]),
            **(
                {"incl_vat": _number(row["cost_incl_vat"])}
                if row["cost_incl_vat"] is not None
                else {}
            ),
        },
        "total_energy": kwh,
        "total_time": round(float(hours), 4),
        "last_updated": utc_text(row["as_of"]),
    }
    if row["session_id"]:
        out["session_id"] = local_part(row["session_id"], owner)
    if row["parking_time_s"] is not None:
        out["total_parking_time"] = round(row["parking_time_s"] / 3600, 4)
    if row["tariff_ids"]:
        out["tariffs"] = [{"id": t} for t in tariff_local_ids(row["tariff_ids"].split(","))]
    if row["credit"]:
        out["credit"] = True
        out["credit_reference_id"] = row["credit_reference_id"]
    if row["remark"]:
        out["remark"] = row["remark"]
    return out


def tariff(row: OcpiTariffRow, book: PartyBook) -> dict[str, Any]:
    stated = _stated(row["stated"])
    if stated is not None:
        return stated
    split = split_global(row["tariff_id"])
    owner, local = (
        split if split else (book.party_of(row["operator_id"]), local_id(row["tariff_id"]))
    )
    elements = []
    for element in json.loads(row["elements"]):
        out_element: dict[str, Any] = {
            "price_components": [
                {
                    "type": c["dimension"],
                    "price": float(Decimal(str(c["price"]))),
                    "step_size": c["step_size"],
                    **({"vat": float(Decimal(str(c["vat"])))} if c.get("vat") is not None else {}),
                }
                for c in element["components"]
            ]
        }
        if element.get("restrictions"):
            out_element["restrictions"] = {k: json.loads(v) for k, v in element["restrictions"]}
        elements.append(out_element)
    out: dict[str, Any] = {
        "country_code": owner.country_code,
        "party_id": owner.party_id,
        "id": local,
        "currency": row["currency"],
        "elements": elements,
        "last_updated": utc_text(row["as_of"]),
    }
    if row["kind"]:
        out["type"] = row["kind"]
    if row["alt_text"]:
        out["tariff_alt_text"] = [{"language": "zh", "text": row["alt_text"]}]
    if row["valid_from"]:
        out["start_date_time"] = utc_text(row["valid_from"])
    if row["valid_until"]:
        out["end_date_time"] = utc_text(row["valid_until"])
    return out
