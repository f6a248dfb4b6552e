"""What the interconnection with operator platforms (T/CEC 102) needs from storage.

Partner configuration is not a fact about the infrastructure and holds keys: it lives
beside the log, never in it (pushes to partners: the durable outbox, app/outbox.py).
Settlement questions read state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, TypedDict

from chargenet.core.billing import OrderTotals


class ReconciliationRow(TypedDict):
    """An operator's settlement statement checked against what chargenet recorded."""

    reconciliation_id: str
    operator_id: str
    period_start: datetime
    period_end: datetime
    stated_orders: int
    stated_energy_wh: int
    stated_amount: Decimal
    recorded_orders: int
    recorded_energy_wh: int
    recorded_amount: Decimal
    differences: int
    checked_at: datetime


class DifferenceRow(TypedDict):
    reconciliation_id: str
    order_id: str
    kind: str  # missing | unknown | energy | amount …
    stated_energy_wh: int | None
    stated_amount: Decimal | None
    recorded_energy_wh: int | None
    recorded_amount: Decimal | None


class ReconciliationDetailRow(ReconciliationRow):
    items: list[DifferenceRow]  # by order id


class PricePeriodRow(TypedDict):
    """A price period as stored: exact decimals kept as text."""

    start: str  # "HH:MM"
    energy_price: str
    service_price: str


class TariffRow(TypedDict):
    station_id: str
    scope: str  # a connector id, or "" for the station
    operator_id: str
    electricity_fee: str
    service_fee: str
    parking_fee: str
    currency: str
    periods: list[PricePeriodRow]
    as_of: datetime


class BillPeriodRow(TypedDict):
    session_id: str
    period_no: int
    starts_at: datetime
    ends_at: datetime
    energy_wh: int
    energy_price: Decimal
    service_price: Decimal
    energy_amount: Decimal
    service_amount: Decimal


class BillRow(TypedDict):
    session_id: str
    station_id: str
    operator_id: str
    energy_wh: int
    energy_amount: Decimal
    service_amount: Decimal
    total_amount: Decimal
    currency: str
    periods: int
    flags: str  # `BillFlag` values, comma-separated, sorted
    as_of: datetime
    items: list[BillPeriodRow]  # by period_no


class StationScopeRow(TypedDict):
    operator_id: str
    area_code: str | None
    access: str  # an `Access` value


class EnergyReportRow(TypedDict):
    day_from: date
    day_to: date
    scope: str  # a connector id, or "" for the station
    energy_wh: int
    as_of: datetime


@dataclass(frozen=True, kw_only=True)
class PartnerRecord:
    """A partner platform as stored: keys sealed, the inbound secret hashed."""

    partner_id: str  # their OperatorID
    operator_id: str  # the chargenet operator they speak for
    name: str
    base_url: str | None
    pull: bool
    datum: str
    enabled: bool
    inbound_secret_hash: str
    inbound_keys: str
    outbound_keys: str | None
    created_at: datetime
    updated_at: datetime
    last_station_pull: datetime | None = None


class PartnerStore(Protocol):
    def partners(self) -> list[PartnerRecord]: ...

    def partner(self, partner_id: str) -> PartnerRecord | None: ...

    def save(self, record: PartnerRecord) -> None:
        """Insert or replace the partner's configuration."""
        ...

    def remove(self, partner_id: str) -> bool: ...

    def mark_pulled(self, partner_id: str, when: datetime) -> None: ...


class SettlementQueries(Protocol):
    def station_energy(
        self, station_id: str, start: datetime, end: datetime
    ) -> list[tuple[str, str, int]]:
        """(connector, charger, Wh) delivered by the station's sessions that ended in
        [start, end] (what chargenet answers query_station_stats with)."""
        ...

    def recorded_orders(
        self,
        operator_id: str,
        session_prefix: str,
        period: tuple[datetime, datetime],
        also: Sequence[str],
    ) -> list[OrderTotals]:
        """The operator's sessions (ids starting with `session_prefix`) that ended inside
        `period`, plus those of the ids in `also`, with the money each bill says."""
        ...

    def reconciliations(
        self, operator_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[ReconciliationRow], int]: ...

    def reconciliation(self, reconciliation_id: str) -> ReconciliationDetailRow | None: ...

    def tariffs(self, station_id: str) -> list[TariffRow]: ...

    def bill(self, session_id: str) -> BillRow | None: ...

    def station_scope(self, station_id: str) -> StationScopeRow | None:
        """operator_id, area_code and access of a station, for who may see its prices and
        bills; None when unknown."""
        ...

    def priced_connectors(self, operator_id: str) -> dict[str, datetime]:
        """The operator's connectors that have prices of their own, and as of when."""
        ...

    def energy_reported_through(self, operator_id: str) -> dict[str, date]:
        """Per station of the operator: the last day its energy report covers."""
        ...

    def energy_reports(
        self, station_id: str, day_from: date | None = None, day_to: date | None = None
    ) -> list[EnergyReportRow]:
        """A station's energy reports (station and connectors) within the days given."""
        ...
