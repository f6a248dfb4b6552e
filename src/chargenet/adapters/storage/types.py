"""Column types that keep time in UTC and money exact on every database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator, TypeEngine

MICROS = Decimal("0.000001")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out. SQLite stores naive UTC text, PostgreSQL timestamptz."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def to_micro_units(value: Decimal) -> int:
    """A Decimal as an integer count of millionths, rounded half-even."""
    return int((value / MICROS).to_integral_value(rounding=ROUND_HALF_EVEN))


class MicroAmount(TypeDecorator[Decimal]):
    """A Decimal amount stored as an integer count of millionths: exact and summable in SQL.

    More than six decimals are rounded half-even (no tariff or bill goes below 0.000001).
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return to_micro_units(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) * MICROS).normalize()


class DecimalText(TypeDecorator[Decimal]):
    """An exact Decimal of any scale, stored as text (plan targets, ratios)."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def big_id() -> TypeEngine[Any]:
    """An auto-incrementing 64-bit key that SQLite also auto-increments."""
    from sqlalchemy import Integer

    return BigInteger().with_variant(Integer(), "sqlite")
