"""Roaming (OCPI): charge detail records and tariffs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from chargenet.core.events.base import Event, _empty
from chargenet.core.ids import (
    ConnectorId,
    OperatorId,
    SessionId,
)
from chargenet.core.money import Money
from chargenet.core.sessions import MAX_SESSION_ENERGY_WH
from chargenet.core.tariffs import TariffElement, TariffKind

MAX_TARIFF_ELEMENTS = 100


@dataclass(frozen=True, kw_only=True)
class ChargeDetailRecorded(Event):
    """An operator's final, billable record of one charging session (OCPI CDR). Records are
    never changed: a correction is a new record that credits the old one."""

    TYPE: ClassVar[str] = "cdr.recorded"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"auth_method": 32, "token_hash": 128}
    cdr_id: str  # global: country*party*id of the issuing operator
    connector_id: ConnectorId
    started_at: datetime
    ended_at: datetime
    energy_wh: int
    cost: Money  # total, excluding VAT
    cost_incl_vat: Decimal | None = None
    session_id: SessionId | None = None
    charging_time_s: int | None = None
    parking_time_s: int | None = None
    auth_method: str = ""
    token_hash: str | None = None  # never the raw token uid
    tariff_ids: tuple[str, ...] = ()
    credit: bool = False
    credit_reference_id: str | None = None
    remark: str | None = None

    def body_problems(self) -> list[str]:
        out = _empty(cdr_id=self.cdr_id, connector_id=self.connector_id)
        if self.ended_at < self.started_at:
            out.append("a record cannot end before it starts")
        if not -MAX_SESSION_ENERGY_WH <= self.energy_wh <= MAX_SESSION_ENERGY_WH:
            out.append(f"energy {self.energy_wh} Wh out of range")
        if self.energy_wh < 0 and not self.credit:
            out.append("negative energy is only allowed on a credit record")
        for name in ("charging_time_s", "parking_time_s"):
            value = getattr(self, name)
            if value is not None and value < 0:
                out.append(f"{name} is negative")
        if self.credit and not self.credit_reference_id:
            out.append("a credit record names the record it credits")
        return out


@dataclass(frozen=True, kw_only=True)
class TariffPublished(Event):
    """An operator's price list, published or changed."""

    TYPE: ClassVar[str] = "tariff.published"
    tariff_id: str  # global: country*party*id
    operator_id: OperatorId
    currency: str
    elements: tuple[TariffElement, ...]
    kind: TariffKind | None = None
    alt_text: str = ""  # what drivers read
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def body_problems(self) -> list[str]:
        out = _empty(tariff_id=self.tariff_id, operator_id=self.operator_id)
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            out.append(f"currency must be an ISO 4217 code, got {self.currency!r}")
        if not 1 <= len(self.elements) <= MAX_TARIFF_ELEMENTS:
            out.append(f"a tariff has 1..{MAX_TARIFF_ELEMENTS} elements, got {len(self.elements)}")
        for n, element in enumerate(self.elements, 1):
            out += [f"element {n}: {p}" for p in element.problems()]
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            out.append("valid_until is not after valid_from")
        return out


@dataclass(frozen=True, kw_only=True)
class TariffWithdrawn(Event):
    TYPE: ClassVar[str] = "tariff.withdrawn"
    tariff_id: str

    def body_problems(self) -> list[str]:
        return _empty(tariff_id=self.tariff_id)


@dataclass(frozen=True, kw_only=True)
class ConnectorTariffsSet(Event):
    """Which tariffs apply at a connector (empty: none stated)."""

    TYPE: ClassVar[str] = "connector.tariffs_set"
    connector_id: ConnectorId
    tariff_ids: tuple[str, ...] = ()

    def body_problems(self) -> list[str]:
        out = _empty(connector_id=self.connector_id)
        if len(self.tariff_ids) > MAX_TARIFF_ELEMENTS:
            out.append(f"at most {MAX_TARIFF_ELEMENTS} tariffs per connector")
        return out
