"""R01: every connector of 2.2 kW or more is one pile, counted in one place."""

from chargenet.core.registry.model import Access, PowerType
from chargenet.core.registry.piles import PILE_MIN_POWER_W, count_piles, is_fast, is_pile


def test_a_connector_of_exactly_2_2_kw_is_a_pile_but_one_watt_less_is_not() -> None:
    """Seed 001, the note under table 2: "充电桩指2.2千瓦以上的交流或直流充电设施，每个充电枪
    计为1个充电桩". In PRC drafting 以上 includes the number itself, so 2,200 W is a pile."""
    assert PILE_MIN_POWER_W == 2_200
    assert is_pile(2_200)
    assert not is_pile(2_199)
    assert is_pile(7_000)
    count = count_piles(
        [(2_200, PowerType.AC, Access.PUBLIC), (2_000, PowerType.AC, Access.PUBLIC)]
    )
    assert (count.total, count.public, count.slow) == (1, 1, 1)


def test_dc_piles_are_fast_and_ac_piles_slow() -> None:
    assert is_fast(PowerType.DC)
    assert not is_fast(PowerType.AC)


def test_each_connector_counts_once_by_access_and_speed() -> None:
    count = count_piles(
        [
            (120_000, PowerType.DC, Access.PUBLIC),  # one gun of a dual-gun DC charger
            (120_000, PowerType.DC, Access.PUBLIC),  # the other gun: a second pile
            (7_000, PowerType.AC, Access.PRIVATE),
            (7_000, PowerType.AC, Access.DEDICATED),
            (2_000, PowerType.AC, Access.PUBLIC),  # household socket: not a pile
        ]
    )
    assert (count.total, count.public, count.private, count.dedicated) == (4, 2, 1, 1)
    assert (count.fast, count.slow) == (2, 2)


def test_counts_add_up() -> None:
    a = count_piles([(60_000, PowerType.DC, Access.PUBLIC)])
    b = count_piles([(7_000, PowerType.AC, Access.PRIVATE)])
    total = a + b
    assert (total.total, total.public, total.private, total.fast, total.slow) == (2, 1, 1, 1, 1)
