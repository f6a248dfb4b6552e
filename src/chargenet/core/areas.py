"""Administrative areas: province › city › county/district › township › village."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chargenet.core.ids import AreaCode


class AreaLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"  # county, county-level city or district
    TOWNSHIP = "township"  # town, township or subdistrict (street)
    VILLAGE = "village"  # administrative village or community

    @property
    def depth(self) -> int:
        return _ORDER.index(self)

    @property
    def parent_level(self) -> AreaLevel | None:
        return None if self is AreaLevel.PROVINCE else _ORDER[self.depth - 1]


_ORDER = (
    AreaLevel.PROVINCE,
    AreaLevel.CITY,
    AreaLevel.COUNTY,
    AreaLevel.TOWNSHIP,
    AreaLevel.VILLAGE,
)

# Length of an official code at each level: GB/T 2260 for the first three (6 digits), the
# National Bureau of Statistics' division codes below (9 and 12 digits).
OFFICIAL_CODE_LENGTH = {
    AreaLevel.PROVINCE: 6,
    AreaLevel.CITY: 6,
    AreaLevel.COUNTY: 6,
    AreaLevel.TOWNSHIP: 9,
    AreaLevel.VILLAGE: 12,
}


def code_problems(code: str, level: AreaLevel, parent_code: str | None) -> list[str]:
    """Why a code cannot stand at this level under this parent (empty when it can).

    Non-numeric codes are allowed for units that have no official code (a scenic area, a
    development zone); numeric codes must follow the official pattern.
    """
    problems: list[str] = []
    if not code:
        return ["area code is empty"]
    if level is AreaLevel.PROVINCE:
        if parent_code:
            problems.append("a province has no parent")
    elif not parent_code:
        problems.append(f"a {level.value} needs a parent area")
    if code.isdigit():
        want = OFFICIAL_CODE_LENGTH[level]
        if len(code) != want:
            problems.append(f"a numeric {level.value} code has {want} digits, got {len(code)}")
        elif parent_code and parent_code.isdigit():
            prefix = official_prefix(parent_code)
            if not code.startswith(prefix):
                problems.append(f"code {code} does not lie under parent {parent_code}")
    return problems


def official_prefix(code: str) -> str:
    """The prefix every official descendant code shares: 140000→14, 140900→1409, 140902→140902."""
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


@dataclass(frozen=True, slots=True)
class AreaChain:
    """An area's place in the hierarchy: the code at each level above and including it."""

    province: AreaCode | None = None
    city: AreaCode | None = None
    county: AreaCode | None = None
    township: AreaCode | None = None
    village: AreaCode | None = None

    def at(self, level: AreaLevel) -> AreaCode | None:
        value: AreaCode | None = getattr(self, level.value)
        return value
