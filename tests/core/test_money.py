from decimal import Decimal

import pytest

from chargenet.core.money import Money


def test_money_is_decimal_with_a_currency() -> None:
    assert Money.of("1.10") + Money.of("2.25") == Money(Decimal("3.35"), "CNY")


def test_floats_and_mixed_currencies_are_refused() -> None:
    with pytest.raises(TypeError):
        Money(1.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot add EUR to CNY"):
        Money.of("1") + Money.of("1", "EUR")
