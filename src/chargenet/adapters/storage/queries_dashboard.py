"""Read queries of the dashboard and the finder: the live index's rows, observed prices,
alarm and order lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, RowMapping, and_, func, select

from chargenet.adapters.storage.readmodel import ReadModel
from chargenet.adapters.storage.rows import row_of
from chargenet.adapters.storage.schema import (
    alarms,
    chargers,
    connector_live,
    connectors,
    orders,
    sessions,
    stations,
)
from chargenet.adapters.storage.stopped import stopped
from chargenet.adapters.storage.tables_ocpi import connector_tariffs, tariffs
from chargenet.adapters.storage.tables_tcec import station_prices
from chargenet.app.finder import FinderConnectorRow, FinderRow, ParkingFee, Price
from chargenet.app.supervision_ports import AreaAlarmRow, AreaOrderRow
from chargenet.core.access import Principal
from chargenet.core.tariffs import DayTariff, TariffPeriod, tariff_from_tcec


class DashboardQueries:
    def __init__(self, engine: Engine, read: ReadModel) -> None:
        self._engine = engine
        self._read = read

    def finder_rows(self, station_ids: Sequence[str] | None = None) -> list[FinderRow]:
        """One row per connector in service with its station's fields, live status and its
        charger's presence; a station without connectors comes once with connector None."""
        in_service = and_(
            connectors.c.station_id == stations.c.station_id, connectors.c.retired_at.is_(None)
        )
        stmt = (
            select(
                stations.c.station_id,
                stations.c.operator_id,
                stations.c.name,
                stations.c.name_en,
                stations.c.address,
                stations.c.lat,
                stations.c.lon,
                stations.c.access,
                stations.c.category,
                stations.c.opening_hours,
                stations.c.public_hours,
                stations.c.province_code,
                stations.c.city_code,
                stations.c.county_code,
                stations.c.township_code,
                stations.c.village_code,
                connectors.c.connector_id,
                connectors.c.charger_id,
                connectors.c.standard,
                connectors.c.power_type,
                connectors.c.max_power_w,
                connector_live.c.status.label("reported_status"),
                connector_live.c.status_since,
                connector_live.c.status_at,
                chargers.c.online.label("charger_online"),
                chargers.c.presence_since,
                chargers.c.presence_at,
                stopped().label("stopped"),
            )
            .select_from(
                stations.outerjoin(connectors, in_service)
                .outerjoin(chargers, chargers.c.charger_id == connectors.c.charger_id)
                .outerjoin(
                    connector_live, connector_live.c.connector_id == connectors.c.connector_id
                )
            )
            .where(stations.c.retired_at.is_(None))
            .order_by(stations.c.station_id, connectors.c.connector_id)
        )
        if station_ids is not None:
            stmt = stmt.where(stations.c.station_id.in_(list(station_ids)))
        with self._engine.connect() as conn:
            return [
                row_of(
                    FinderRow,
                    r,
                    connector=None
                    if r["connector_id"] is None
                    else row_of(FinderConnectorRow, r, stopped=bool(r["stopped"])),
                )
                for r in conn.execute(stmt).mappings()
            ]

    def station_tariffs(self) -> dict[str, DayTariff]:
        """Whole-station day tariffs published by operators (T/CEC business policies)."""
        out: dict[str, DayTariff] = {}
        query = select(
            station_prices.c.station_id, station_prices.c.currency, station_prices.c.periods
        )
        query = query.where(station_prices.c.scope == "")
        with self._engine.connect() as conn:
            for station_id, currency, periods in conn.execute(query).all():
                try:
                    parsed = tuple(
                        TariffPeriod(
                            start=time.fromisoformat(p["start"]),
                            energy_price=Decimal(p["energy_price"]),
                            service_price=Decimal(p["service_price"]),
                        )
                        for p in json.loads(periods or "[]")
                    )
                except (ValueError, KeyError, TypeError, ArithmeticError):
                    continue
                tariff = tariff_from_tcec(parsed, currency)
                if tariff is not None and not tariff.problems():
                    out[station_id] = tariff
        return out

    def station_parking(self) -> dict[str, ParkingFee]:
        """Parking fees operators published, by station: the hourly PARKING_TIME price of
        the first tariff in force named at one of the station's connectors (OCPI), else
        the whole station's fee text (T/CEC ParkFee)."""
        out: dict[str, ParkingFee] = {}
        with self._engine.connect() as conn:
            texts = select(station_prices.c.station_id, station_prices.c.parking_fee).where(
                station_prices.c.scope == "", station_prices.c.parking_fee != ""
            )
            for station_id, text in conn.execute(texts).all():
                out[station_id] = ParkingFee(source="tcec", text=text)
            t = tariffs
            priced = {
                row.tariff_id: row
                for row in conn.execute(
                    select(t.c.tariff_id, t.c.parking_per_hour, t.c.currency).where(
                        t.c.parking_per_hour.is_not(None), t.c.withdrawn_at.is_(None)
                    )
                )
            }
            if not priced:
                return out
            named = select(connectors.c.station_id, connector_tariffs.c.tariff_ids).join(
                connector_tariffs, connector_tariffs.c.connector_id == connectors.c.connector_id
            )
            for station_id, ids in conn.execute(named.order_by(connectors.c.connector_id)):
                first = next((priced[i] for i in ids.split(",") if i in priced), None)
                if (
                    first is not None
                    and out.get(station_id, ParkingFee("")).source != "ocpi_tariff"
                ):
                    out[station_id] = ParkingFee(
                        source="ocpi_tariff",
                        per_hour=Decimal(first.parking_per_hour).quantize(Decimal("0.01")),
                        currency=first.currency,
                    )
        return out

    def station_prices(self, since: datetime) -> dict[str, Price]:
        """Average price per kWh of each station's sessions that ended since `since` with
        a cost and a trusted energy figure."""
        stmt = (
            select(
                sessions.c.station_id,
                sessions.c.currency,
                func.sum(sessions.c.cost_amount).label("cost"),
                func.sum(sessions.c.energy_wh).label("energy"),
            )
            .where(
                sessions.c.ended_at >= since,
                sessions.c.cost_amount.is_not(None),
                sessions.c.currency.is_not(None),
                sessions.c.energy_wh > 0,
            )
            .group_by(sessions.c.station_id, sessions.c.currency)
        )
        out: dict[str, Price] = {}
        with self._engine.connect() as conn:
            for station_id, currency, cost, energy in conn.execute(stmt).all():
                # Summed MicroAmount comes back as an integer count of millionths.
                amount = Decimal(cost) / Decimal(1_000_000) if isinstance(cost, int) else cost
                per_kwh = (Decimal(amount) * 1000 / Decimal(energy)).quantize(Decimal("0.01"))
                out[station_id] = Price(per_kwh=per_kwh, currency=currency, source="observed")
        return out

    def _supervision_rows(
        self,
        table: Any,
        time_column: Any,
        viewer: Principal | None,
        area_code: str | None,
        open_only: bool,
        limit: int,
    ) -> tuple[list[RowMapping], int]:
        stmt = (
            select(table, stations.c.name.label("station_name"), stations.c.county_code)
            .select_from(table.outerjoin(stations, stations.c.station_id == table.c.station_id))
            .order_by(time_column.desc())
        )
        if open_only:
            stmt = stmt.where(
                table.c.cleared_at.is_(None) if table is alarms else table.c.outcome.is_(None)
            )
        with self._engine.connect() as conn:
            if area_code:
                stmt = stmt.where(self._read.area_column(conn, area_code, stations))
            visible = self._read.scope(conn, viewer, stations, public_too=False)
            if visible is not None:
                stmt = stmt.where(visible)
            total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
            rows = list(conn.execute(stmt.limit(limit)).mappings())
        return rows, int(total)

    def alarms(
        self,
        viewer: Principal | None = None,
        area_code: str | None = None,
        open_only: bool = True,
        limit: int = 100,
    ) -> tuple[list[AreaAlarmRow], int]:
        rows, total = self._supervision_rows(
            alarms, alarms.c.raised_at, viewer, area_code, open_only, limit
        )
        return [row_of(AreaAlarmRow, r) for r in rows], total

    def orders(
        self,
        viewer: Principal | None = None,
        area_code: str | None = None,
        open_only: bool = False,
        limit: int = 100,
    ) -> tuple[list[AreaOrderRow], int]:
        rows, total = self._supervision_rows(
            orders, orders.c.issued_at, viewer, area_code, open_only, limit
        )
        return [row_of(AreaOrderRow, r) for r in rows], total
