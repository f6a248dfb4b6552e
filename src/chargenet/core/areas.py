"""Administrative areas: province › city › county/district › township › village."""

from __future__ import annotations

from enum import StrEnum


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


def official_level(code: str) -> AreaLevel | None:
    """The level an official code stands at, read from its structure; None if the code is
    not official (a planning unit, a scenic area without a GB/T 2260 code)."""
    if not code.isdigit():
        return None
    if len(code) == 12:
        return AreaLevel.VILLAGE
    if len(code) == 9:
        return AreaLevel.TOWNSHIP
    if len(code) != 6:
        return None
    if code.endswith("0000"):
        return AreaLevel.PROVINCE
    return AreaLevel.CITY if code.endswith("00") else AreaLevel.COUNTY


def official_chain(code: str) -> dict[AreaLevel, str]:
    """The official code at each level from the province down to `code`'s own level."""
    level = official_level(code)
    if level is None:
        return {}
    cuts = {
        AreaLevel.PROVINCE: code[:2] + "0000",
        AreaLevel.CITY: code[:4] + "00",
        AreaLevel.COUNTY: code[:6],
        AreaLevel.TOWNSHIP: code[:9],
        AreaLevel.VILLAGE: code,
    }
    return {lvl: cut for lvl, cut in cuts.items() if lvl.depth <= level.depth}


def official_prefix(code: str) -> str:
    """The prefix every official descendant code shares: 140000→14, 140900→1409, 140902→140902."""
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code
