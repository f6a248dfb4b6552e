"""Policy packs: one region's plan as data (TOML), every value with its source.

A pack holds the planning units that have no GB/T 2260 code, metric and ratio
definitions, target tables (partial tables welcome: "/" or a missing row means "not
given"), single targets with their revisions, coverage rules and parking-space ratios.
`parse_pack` reads and checks one; the shipped packs
are in `packs/` beside this module and the format is described in docs/planning.md.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from chargenet.core.areas import AreaLevel, code_problems
from chargenet.core.errors import Invalid
from chargenet.core.planning.metrics import (
    STANDARD_METRICS,
    Basis,
    Comparator,
    Counted,
    Metric,
    MetricKind,
    Notation,
    Power,
    Quantity,
    Strength,
)
from chargenet.core.planning.rules import (
    ALL,
    CoverageRule,
    ParkingRatio,
    RuleKind,
    StationFilter,
)
from chargenet.core.registry.model import Access, SiteCategory

MAX_PACK_BYTES = 2_000_000
NOT_GIVEN = "/"  # how the seed tables write an empty cell


class PackError(Invalid):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:10]))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Unit:
    """A planning unit without a GB/T 2260 code (a scenic area, a development zone)."""

    code: str
    level: AreaLevel
    parent: str
    name_zh: str
    name_en: str = ""
    note: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class TargetEntry:
    area_code: str
    metric: str
    year: int
    value: Decimal
    source: str
    month: int | None = None
    label: str = ""  # the row's name in the source table
    revised_on: date | None = None  # its own date (set_on, a revision); None: the pack's

    @property
    def target_id(self) -> str:
        return target_id(self.area_code, self.metric, self.year, self.month)


def target_id(area_code: str, metric: str, year: int, month: int | None = None) -> str:
    base = f"{area_code}|{metric}|{year}"
    return base if month is None else f"{base}|{month}"


@dataclass(frozen=True)
class PolicyPack:
    id: str
    region: str  # area code the pack governs
    title: str
    version: date  # the date its figures were set: the revision date of its targets
    sources: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    units: tuple[Unit, ...] = ()
    metrics: Mapping[str, Metric] = field(default_factory=dict)
    targets: tuple[TargetEntry, ...] = ()
    rules: tuple[CoverageRule, ...] = ()
    parking: tuple[ParkingRatio, ...] = ()

    def metric(self, metric_id: str) -> Metric | None:
        return self.metrics.get(metric_id) or STANDARD_METRICS.get(metric_id)

    def unit_codes(self) -> frozenset[str]:
        return frozenset(u.code for u in self.units)

    def governs(self, area_code: str, chain: tuple[str | None, ...] = ()) -> bool:
        return area_code == self.region or self.region in chain


# --- parsing ------------------------------------------------------------------------------

E = TypeVar("E", bound=StrEnum)


class _Reader:
    """Collects every problem in a pack instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(
        self, data: Mapping[str, Any], key: str, where: str, default: str | None = None
    ) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            self.fail(where, f"{key} must be a non-empty string")
            return ""
        return value

    def integer(self, data: Mapping[str, Any], key: str, where: str, default: int | None) -> int:
        value = data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(where, f"{key} must be a whole number")
            return 0
        return value

    def number(self, value: Any, where: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(where, f"{value!r} is not a number")
            return None
        if isinstance(value, str) and value.strip().lower() == "all":
            return ALL
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(where, f"{value!r} is not a number")
            return None
        if not number.is_finite() or number < 0:
            self.fail(where, f"{value!r} must be a finite number ≥ 0")
            return None
        return number

    def enum(self, kind: type[E], value: Any, where: str) -> E | None:
        try:
            return kind(value)
        except ValueError:
            choices = ", ".join(m.value for m in kind)
            self.fail(where, f"{value!r} is not one of {choices}")
            return None

    def enums(self, kind: type[E], values: Any, where: str) -> tuple[E, ...]:
        if not isinstance(values, list):
            self.fail(where, "expected a list")
            return ()
        found = [self.enum(kind, v, where) for v in values]
        return tuple(v for v in found if v is not None)

    def year_map(self, data: Mapping[str, Any], key: str, where: str) -> dict[int, Decimal]:
        raw = data.get(key, {})
        if not isinstance(raw, dict):
            self.fail(where, f"{key} must be a table of year = value")
            return {}
        out: dict[int, Decimal] = {}
        for year_text, value in raw.items():
            if not str(year_text).isdigit() or not 1990 <= int(year_text) <= 2100:
                self.fail(where, f"{key}: {year_text!r} is not a year")
                continue
            number = self.number(value, f"{where} {key}.{year_text}")
            if number is not None:
                out[int(year_text)] = number
        return out


def _quantity(r: _Reader, data: Any, where: str) -> Quantity | None:
    if not isinstance(data, dict):
        r.fail(where, "expected a table")
        return None
    counted = r.enum(Counted, data.get("counted"), f"{where} counted")
    if counted is None:
        return None
    quantity = Quantity(
        counted=counted,
        access=r.enums(Access, data.get("access", []), f"{where} access"),
        power=r.enum(Power, data.get("power", "any"), f"{where} power") or Power.ANY,
        basis=r.enum(Basis, data.get("basis", "stock"), f"{where} basis") or Basis.STOCK,
        since_year=data.get("since_year"),
        name=str(data.get("name", "")),
    )
    for problem in quantity.problems():
        r.fail(where, problem)
    return quantity


def _metric(r: _Reader, metric_id: str, data: Any) -> Metric | None:
    where = f"metrics.{metric_id}"
    if not isinstance(data, dict):
        r.fail(where, "expected a table")
        return None
    kind = r.enum(MetricKind, data.get("kind", "count"), f"{where} kind")
    if kind is None:
        return None
    common: dict[str, Any] = {
        "id": metric_id,
        "kind": kind,
        "definition": r.text(data, "definition", where),
        "strength": r.enum(Strength, data.get("strength", "binding"), where) or Strength.BINDING,
        "written_as": str(data.get("written_as", "")),
        "unit": str(data.get("unit", "")),
    }
    default_comparator = "at_least" if kind is MetricKind.COUNT else "at_most"
    common["comparator"] = (
        r.enum(Comparator, data.get("comparator", default_comparator), where) or Comparator.AT_LEAST
    )
    if "tolerance" in data:
        common["tolerance"] = r.number(data["tolerance"], f"{where} tolerance") or Decimal("0.1")
    if kind is MetricKind.COUNT:
        # A count's fields sit on the metric itself: counted, access, power, basis …
        metric = Metric(**common, quantity=_quantity(r, data, where))
    else:
        metric = Metric(
            **common,
            numerator=_quantity(r, data.get("numerator"), f"{where}.numerator"),
            denominator=_quantity(r, data.get("denominator"), f"{where}.denominator"),
            notation=r.enum(Notation, data.get("notation", "N:1"), f"{where} notation")
            or Notation.VEHICLES_FIRST,
        )
    for problem in metric.problems():
        r.fail(where, problem)
    return metric


def _tables(r: _Reader, tables: Any) -> list[TargetEntry]:
    out: list[TargetEntry] = []
    if not isinstance(tables, list):
        r.fail("tables", "expected an array of tables")
        return out
    for n, table in enumerate(tables, 1):
        where = f"tables[{n}]"
        metric = r.text(table, "metric", where)
        source = r.text(table, "source", where)
        set_on = _set_on(r, table, where)
        years = table.get("years")
        rows = table.get("rows")
        if not isinstance(years, list) or not all(isinstance(y, int) for y in years):
            r.fail(where, "years must be a list of years")
            continue
        if not isinstance(rows, list):
            r.fail(where, "rows must be a list of [code, name, value per year…]")
            continue
        total_code = table.get("total")
        sums = dict.fromkeys(years, Decimal(0))
        complete = dict.fromkeys(years, True)
        totals: dict[int, Decimal] = {}
        for i, row in enumerate(rows, 1):
            at = f"{where} row {i}"
            if not isinstance(row, list) or len(row) != 2 + len(years):
                r.fail(at, f"expected [code, name, {len(years)} values]")
                continue
            code, label, *values = row
            if not isinstance(code, str) or not code:
                r.fail(at, "the area code must be a non-empty string")
                continue
            for year, cell in zip(years, values, strict=True):
                if cell == NOT_GIVEN:  # a partial table: this cell is not given
                    complete[year] = complete[year] and code == total_code
                    continue
                value = r.number(cell, f"{at} {year}")
                if value is None:
                    continue
                if code == total_code:
                    totals[year] = value
                else:
                    sums[year] += value
                out.append(
                    TargetEntry(
                        code, metric, year, value, source, label=str(label), revised_on=set_on
                    )
                )
        for year, total in totals.items():
            if complete[year] and sums[year] != total:
                r.fail(where, f"{year}: rows add up to {sums[year]}, the total row says {total}")
    return out


def _set_on(r: _Reader, item: Mapping[str, Any], where: str) -> date | None:
    """A table's or target's own date, when its source is dated apart from the pack."""
    on = item.get("set_on")
    if on is not None and not isinstance(on, date):
        r.fail(where, "set_on must be a date (YYYY-MM-DD)")
        return None
    return on


def _targets(r: _Reader, targets: Any) -> list[TargetEntry]:
    out: list[TargetEntry] = []
    if not isinstance(targets, list):
        r.fail("targets", "expected an array of tables")
        return out
    for n, item in enumerate(targets, 1):
        where = f"targets[{n}]"
        area = r.text(item, "area", where)
        metric = r.text(item, "metric", where)
        year = r.integer(item, "year", where, None)
        month = item.get("month")
        if month is not None and (not isinstance(month, int) or not 1 <= month <= 12):
            r.fail(where, f"month {month!r} is not 1..12")
            month = None
        value = r.number(item.get("value"), f"{where} value")
        source = r.text(item, "source", where)
        set_on = _set_on(r, item, where)
        if value is not None:
            out.append(
                TargetEntry(
                    area,
                    metric,
                    year,
                    value,
                    source,
                    month,
                    str(item.get("label", "")),
                    revised_on=set_on,
                )
            )
        for k, revision in enumerate(item.get("revisions", []), 1):
            at = f"{where} revision {k}"
            on = revision.get("on") if isinstance(revision, dict) else None
            if not isinstance(on, date):
                r.fail(at, "on must be a date (YYYY-MM-DD)")
                continue
            new_value = r.number(revision.get("value"), f"{at} value")
            if new_value is not None:
                out.append(
                    TargetEntry(
                        area,
                        metric,
                        year,
                        new_value,
                        str(revision.get("source", source)),
                        month,
                        revised_on=on,
                    )
                )
    return out


def _stations(r: _Reader, data: Any, where: str) -> StationFilter:
    if data is None:
        return StationFilter()
    if not isinstance(data, dict):
        r.fail(where, "stations must be a table")
        return StationFilter()
    return StationFilter(
        access=r.enums(Access, data.get("access", ["public"]), f"{where} access"),
        categories=r.enums(SiteCategory, data.get("categories", []), f"{where} categories"),
        min_piles=r.integer(data, "min_piles", where, 1),
        min_dc_piles=r.integer(data, "min_dc_piles", where, 0),
        min_dc_power_w=r.integer(data, "min_dc_power_w", where, 0),
        scenic_grades=tuple(data.get("scenic_grades", [])),
    )


def _decimal(r: _Reader, data: Mapping[str, Any], key: str, where: str, default: str) -> Decimal:
    return r.number(data.get(key, default), f"{where} {key}") or Decimal(default)


def _rule(r: _Reader, n: int, data: Any) -> CoverageRule | None:
    where = f"rules[{n}]"
    if not isinstance(data, dict):
        r.fail(where, "expected a table")
        return None
    rule_id = r.text(data, "id", where)
    where = f"rules[{n}] ({rule_id})"
    kind = r.enum(RuleKind, data.get("kind"), f"{where} kind")
    level = data.get("level")
    if kind is None:
        return None
    maps = {
        name: r.year_map(data, name, where)
        for name in (
            "max_km",
            "min_areas",
            "min_average",
            "min_stations",
            "min_piles",
            "max_gap_km",
            "min_sites",
            "min_share",
            "from_year",
        )
    }
    rule = CoverageRule(
        id=rule_id,
        kind=kind,
        requirement=r.text(data, "requirement", where),
        source=r.text(data, "source", where),
        description=r.text(data, "description", where),
        stations=_stations(r, data.get("stations"), where),
        level=r.enum(AreaLevel, level, f"{where} level") if level is not None else None,
        name_suffixes=tuple(data.get("name_suffixes", [])),
        centre=data.get("centre"),
        inner_km=_decimal(r, data, "inner_km", where, "0"),
        outer_km=_decimal(r, data, "outer_km", where, "0"),
        grid_km=_decimal(r, data, "grid_km", where, "0.5"),
        road_classes=tuple(data.get("road_classes", [])),
        snap_km=_decimal(r, data, "snap_km", where, "1"),
        include_road_ends=bool(data.get("include_road_ends", True)),
        expected_sites=data.get("expected_sites"),
        assumption=str(data.get("assumption", "")),
        **maps,
    )
    for problem in rule.problems():
        r.fail(where, problem)
    return rule


def _parking(r: _Reader, n: int, data: Any) -> ParkingRatio | None:
    where = f"parking[{n}]"
    if not isinstance(data, dict):
        r.fail(where, "expected a table")
        return None
    ratio = ParkingRatio(
        id=r.text(data, "id", where),
        categories=r.enums(SiteCategory, data.get("categories", []), f"{where} categories"),
        min_share=r.year_map(data, "min_share", where),
        aim=r.year_map(data, "aim", where),
        requirement=r.text(data, "requirement", where),
        source=r.text(data, "source", where),
        description=str(data.get("description", "")),
        scenic_grades=tuple(data.get("scenic_grades", [])),
    )
    for problem in ratio.problems():
        r.fail(where, problem)
    return ratio


def _each(
    r: _Reader, items: Any, name: str, parse: Callable[[_Reader, int, Any], Any]
) -> list[Any]:
    if items is None:
        return []
    if not isinstance(items, list):
        r.fail(name, "expected an array of tables")
        return []
    return [x for x in (parse(r, n, item) for n, item in enumerate(items, 1)) if x is not None]


def _unit(r: _Reader, n: int, data: Any) -> Unit | None:
    where = f"units[{n}]"
    if not isinstance(data, dict):
        r.fail(where, "expected a table")
        return None
    level = r.enum(AreaLevel, data.get("level", "county"), f"{where} level")
    unit = Unit(
        code=r.text(data, "code", where),
        level=level or AreaLevel.COUNTY,
        parent=r.text(data, "parent", where),
        name_zh=r.text(data, "name_zh", where),
        name_en=str(data.get("name_en", "")),
        note=str(data.get("note", "")),
        source=str(data.get("source", "")),
    )
    for problem in code_problems(unit.code, unit.level, unit.parent):
        r.fail(where, problem)
    return unit


def parse_pack(text: str) -> PolicyPack:
    """Read a pack from TOML text; PackError lists every problem found."""
    if len(text.encode()) > MAX_PACK_BYTES:
        raise PackError([f"a pack is at most {MAX_PACK_BYTES} bytes"])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError([f"not valid TOML: {exc}"]) from exc
    r = _Reader()
    head = data.get("pack")
    if not isinstance(head, dict):
        raise PackError(["[pack] table is missing"])
    version = head.get("version")
    if not isinstance(version, date):
        r.fail("pack", "version must be a date (YYYY-MM-DD)")
        version = date(1990, 1, 1)
    raw_metrics = data.get("metrics", {})
    metrics = {
        m.id: m
        for m in (_metric(r, key, value) for key, value in (raw_metrics or {}).items())
        if m is not None
    }
    targets = _tables(r, data.get("tables", [])) + _targets(r, data.get("targets", []))
    pack = PolicyPack(
        id=r.text(head, "id", "pack"),
        region=r.text(head, "region", "pack"),
        title=r.text(head, "title", "pack"),
        version=version,
        sources={str(k): str(v) for k, v in head.get("sources", {}).items()},
        notes=tuple(str(n) for n in head.get("notes", [])),
        units=tuple(_each(r, data.get("units"), "units", _unit)),
        metrics=metrics,
        targets=tuple(targets),
        rules=tuple(_each(r, data.get("rules"), "rules", _rule)),
        parking=tuple(_each(r, data.get("parking"), "parking", _parking)),
    )
    for entry in pack.targets:
        if pack.metric(entry.metric) is None:
            r.fail("targets", f"{entry.target_id}: metric {entry.metric!r} is not defined")
        if entry.value == ALL:
            r.fail("targets", f"{entry.target_id}: a target value cannot be 'all'")
    for section, ids in (
        ("rules", [rule.id for rule in pack.rules]),
        ("parking", [ratio.id for ratio in pack.parking]),
    ):
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            r.fail(section, f"id {dup!r} is used twice")
    seen: dict[tuple[str, date | None], Decimal] = {}
    for entry in pack.targets:
        key = (entry.target_id, entry.revised_on)
        if key in seen and seen[key] != entry.value:
            r.fail("targets", f"{entry.target_id} is given twice with different values")
        seen[key] = entry.value
    if r.problems:
        raise PackError(r.problems)
    return pack


def pack_problems(text: str) -> list[str]:
    try:
        parse_pack(text)
    except PackError as exc:
        return exc.problems
    return []
