"""The open-data feed's rows (adapters/api/opendata.py serves them): public stations in
service with their EVSEs named as OCPI names them, connectors with OCPI's standard and
status beside chargenet's, and the ad-hoc price; every connector's live status."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any

from chargenet.adapters.ocpi import outbound, vocab
from chargenet.adapters.ocpi.status import evse_status, to_ocpi
from chargenet.adapters.ocpi.wire import OcpiError, parse_time, utc_text
from chargenet.app.ocpi import OcpiConnectorRow, OcpiLocationRow, OcpiQueries, TariffPriceRow
from chargenet.core.errors import Invalid
from chargenet.core.status import ConnectorStatus


def _money(value: Any) -> str | None:
    return None if value is None else format(value, "f")


def _price(connector: OcpiConnectorRow, prices: dict[str, TariffPriceRow]) -> dict[str, Any] | None:
    known = [prices[t] for t in connector["tariff_ids"] if t in prices]
    if not known:
        return None
    chosen = next((t for t in known if t["kind"] == "AD_HOC_PAYMENT"), known[0])
    return {
        "tariff_id": chosen["tariff_id"],
        "currency": chosen["currency"],
        "energy_per_kwh": _money(chosen["energy_per_kwh"]),
        "per_session": _money(chosen["per_session"]),
        "time_per_hour": _money(chosen["time_per_hour"]),
        "parking_per_hour": _money(chosen["parking_per_hour"]),
        "text": chosen["alt_text"] or None,
    }


def site(row: OcpiLocationRow, prices: dict[str, TariffPriceRow]) -> dict[str, Any]:
    evses = []
    active = [
        c for c in row["connectors"] if c["retired_at"] is None and c["charger_retired_at"] is None
    ]
    for (charger_id, evse_no), group in groupby(
        active, key=lambda c: (c["charger_id"], c["evse_no"])
    ):
        connectors = list(group)
        evses.append(
            {
                "evse_id": outbound.evse_uid(connectors[0]),
                "charger_id": charger_id,
                "evse_no": evse_no,
                "status": evse_status([ConnectorStatus(c["status"]) for c in connectors]),
                "connectors": [
                    {
                        "connector_id": c["connector_id"],
                        "standard": c["standard"],
                        "ocpi_standard": vocab.standard_out(c["standard"], c["power_type"]),
                        "power_type": c["power_type"],
                        "max_power_w": c["max_power_w"],
                        "status": c["status"],
                        "ocpi_status": to_ocpi(ConnectorStatus(c["status"])),
                        "price": _price(c, prices),
                    }
                    for c in connectors
                ],
            }
        )
    return {
        "station_id": row["station_id"],
        "name": row["name"],
        "operator": {"id": row["operator_id"], "name": row["operator_name"]},
        "address": row["address"],
        "city": row["city_name"],
        "area_code": row["area_code"],
        "lat": row["lat"],
        "lon": row["lon"],
        "opening_hours": row["opening_hours"],
        "category": row["category"],
        "last_updated": utc_text(row["last_updated"]),
        "evses": evses,
    }


class OcpiOpenData:
    """The feed (adapters/api/opendata.py's `Feed`) from the OCPI party's reads."""

    def __init__(self, reads: OcpiQueries) -> None:
        self.reads = reads

    def sites(
        self, updated_since: str | None, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        since = _time(updated_since, "updated_since")
        rows, total = self.reads.locations(
            date_from=since,
            public_only=True,
            include_retired=False,
            offset=offset,
            limit=limit,
        )
        tariff_ids = sorted({t for r in rows for c in r["connectors"] for t in c["tariff_ids"]})
        prices = self.reads.tariff_prices(tariff_ids)
        return [site(r, prices) for r in rows], total

    def status(
        self, since: str | None, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        when = _time(since, "since")
        rows, total = self.reads.live_status(since=when, offset=offset, limit=limit)
        return [
            {
                "connector_id": r["connector_id"],
                "station_id": r["station_id"],
                "charger_id": r["charger_id"],
                "status": r["status"],
                "ocpi_status": to_ocpi(ConnectorStatus(r["status"])),
                "since": utc_text(r["status_since"]) if r["status_since"] else None,
            }
            for r in rows
        ], total


def _time(text: str | None, field: str) -> datetime | None:
    if not text:
        return None
    try:
        return parse_time(text, field)
    except OcpiError as exc:
        raise Invalid(exc.message) from None
