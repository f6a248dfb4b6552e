"""R01, the one place piles are counted: every connector of 2.2 kW or more is one pile.

"充电桩指2.2千瓦以上的交流或直流充电设施，每个充电枪计为1个充电桩" (seed 001, the note under
table 2): a charging pile is an AC or DC charging facility of 2.2 kW or more, and every
charging gun (connector) counts as one pile. In PRC drafting 以上 includes the number
itself (民法典 第一千二百五十九条: 所称的“以上”…包括本数), so a 2,200 W connector is a
pile. Everything that counts piles — state tables, reports, plan vs actual, the demo —
asks this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chargenet.core.registry.model import Access, PowerType

PILE_MIN_POWER_W = 2_200  # this much or more is a pile (以上 includes the number)


def is_pile(max_power_w: int) -> bool:
    return max_power_w >= PILE_MIN_POWER_W


def is_fast(power_type: PowerType) -> bool:
    """The plans' "fast" (快充) piles are DC piles; AC piles are "slow" (慢充)."""
    return power_type is PowerType.DC


@dataclass(frozen=True, slots=True)
class PileCount:
    total: int = 0
    public: int = 0
    dedicated: int = 0
    private: int = 0
    fast: int = 0
    slow: int = 0

    def __add__(self, other: PileCount) -> PileCount:
        return PileCount(
            self.total + other.total,
            self.public + other.public,
            self.dedicated + other.dedicated,
            self.private + other.private,
            self.fast + other.fast,
            self.slow + other.slow,
        )


def count_piles(connectors: Iterable[tuple[int, PowerType, Access]]) -> PileCount:
    """Count piles among (max_power_w, power_type, access) of connectors."""
    total = public = dedicated = private = fast = slow = 0
    for power_w, power_type, access in connectors:
        if not is_pile(power_w):
            continue
        total += 1
        public += access is Access.PUBLIC
        dedicated += access is Access.DEDICATED
        private += access is Access.PRIVATE
        if is_fast(power_type):
            fast += 1
        else:
            slow += 1
    return PileCount(total, public, dedicated, private, fast, slow)
