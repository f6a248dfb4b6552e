"""Tariffs, bills, settlement statements and energy statistics operator
platforms report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from chargenet.core.billing import Bill, Difference, bill_problems
from chargenet.core.events.base import MAX_ENERGY_REGISTER_WH, Event, _empty
from chargenet.core.ids import (
    ConnectorId,
    OperatorId,
    SessionId,
    StationId,
)
from chargenet.core.tariffs import TariffPeriod, tariff_problems

# Protocol-neutral facts that operator platforms report beside registry and live data.


@dataclass(frozen=True, kw_only=True)
class StationPricesPublished(Event):
    """An operator's prices at a station (or one connector): time-of-use periods and the
    fee texts it shows drivers (T/CEC StationInfo words fees as free text)."""

    TYPE: ClassVar[str] = "station.prices_published"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"currency": 3}
    station_id: StationId
    connector_id: ConnectorId | None = None  # None: the whole station
    periods: tuple[TariffPeriod, ...] = ()
    electricity_fee: str = ""
    service_fee: str = ""
    parking_fee: str = ""
    currency: str = "CNY"

    def body_problems(self) -> list[str]:
        out = _empty(station_id=self.station_id) + tariff_problems(self.periods)
        if not (self.periods or self.electricity_fee or self.service_fee or self.parking_fee):
            out.append("a tariff needs periods or a fee text")
        for name in ("electricity_fee", "service_fee", "parking_fee"):
            if len(getattr(self, name)) > 2000:
                out.append(f"{name} longer than 2000 characters")
        return out


@dataclass(frozen=True, kw_only=True)
class SessionBilled(Event):
    """What the operator charged for a session, split by time-of-use period."""

    TYPE: ClassVar[str] = "session.billed"
    session_id: SessionId
    bill: Bill

    def body_problems(self) -> list[str]:
        return _empty(session_id=self.session_id) + bill_problems(self.bill)


@dataclass(frozen=True, kw_only=True)
class ChargeOrdersReconciled(Event):
    """An operator's statement of its orders for a period, checked against chargenet's
    records at the time; the differences found are part of the fact."""

    TYPE: ClassVar[str] = "settlement.reconciled"
    reconciliation_id: str
    operator_id: OperatorId
    period_start: datetime
    period_end: datetime
    stated_orders: int
    stated_energy_wh: int
    stated_amount: Decimal
    recorded_orders: int
    recorded_energy_wh: int
    recorded_amount: Decimal
    differences: tuple[Difference, ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(reconciliation_id=self.reconciliation_id, operator_id=self.operator_id)
        if self.period_end < self.period_start:
            out.append("period ends before it starts")
        if self.stated_orders < 0 or self.recorded_orders < 0:
            out.append("order counts cannot be negative")
        ids = [d.order_id for d in self.differences]
        if len(set(ids)) != len(ids):
            out.append("an order appears twice among the differences")
        return out


@dataclass(frozen=True, kw_only=True)
class EnergyStatsReported(Event):
    """Energy an operator says a station delivered over whole local days (inclusive)."""

    TYPE: ClassVar[str] = "station.energy_reported"
    station_id: StationId
    day_from: date
    day_to: date
    energy_wh: int
    connectors: tuple[tuple[ConnectorId, int], ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(station_id=self.station_id)
        if self.day_to < self.day_from:
            out.append("day_to is before day_from")
        elif (self.day_to - self.day_from).days > 366:
            out.append("a report covers at most a year")
        for name, value in (("station", self.energy_wh), *self.connectors):
            if not 0 <= value <= MAX_ENERGY_REGISTER_WH:
                out.append(f"energy of {name} {value} Wh out of range")
        return out
