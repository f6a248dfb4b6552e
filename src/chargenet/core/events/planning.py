"""Planning: targets, candidates, scenarios, policy packs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

from chargenet.core.events.base import Event, _empty
from chargenet.core.ids import (
    AreaCode,
)


@dataclass(frozen=True, kw_only=True)
class TargetSet(Event):
    """A plan target for an area, set or revised; every revision stays in the log (R16)."""

    TYPE: ClassVar[str] = "target.set"
    target_id: str
    area_code: AreaCode
    metric: str  # e.g. new_public_piles, public_piles, ev_per_public_pile
    value: Decimal
    year: int
    month: int | None = None
    definition: str = ""  # exact meaning: which piles, which vehicles, new or cumulative
    source_ref: str = ""  # where the number comes from (document, table)
    valid_from: date | None = None

    def body_problems(self) -> list[str]:
        out = _empty(target_id=self.target_id, area_code=self.area_code, metric=self.metric)
        if not 1990 <= self.year <= 2100:
            out.append(f"year {self.year} out of range")
        if self.month is not None and not 1 <= self.month <= 12:
            out.append(f"month {self.month} out of range")
        problem = target_value_problem(self.value)
        if problem:
            out.append(problem)
        return out


def target_value_problem(value: Decimal) -> str | None:
    """A target counts piles, vehicles, stations or a ratio of them, or a reported figure:
    never negative (R15's reductions are written as the amount to cut, e.g. 14.5 %)."""
    if not value.is_finite():
        return "value must be a finite number"
    if value < 0:
        return f"value {value} is negative: a target counts piles, vehicles or a ratio of them"
    return None


@dataclass(frozen=True, kw_only=True)
class PolicyPackLoaded(Event):
    """A region's policy pack (metric definitions, coverage rules, parking ratios) put in
    force. Its targets arrive as TargetSet events beside it; the latest version of a pack
    (by `occurred_at`) is the one in force, and the log keeps every version."""

    TYPE: ClassVar[str] = "planning.pack_loaded"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"text": 1_000_000}
    pack_id: str
    region_code: AreaCode
    version: date
    title: str
    text: str  # the pack as TOML, exactly as loaded

    def body_problems(self) -> list[str]:
        # here, so this section stays self-contained
        from chargenet.core.planning.pack import PackError, parse_pack

        out = _empty(pack_id=self.pack_id, region_code=self.region_code, title=self.title)
        try:
            pack = parse_pack(self.text)
        except PackError as exc:
            return out + [f"pack: {p}" for p in exc.problems]
        # The fields name the pack the text is (app/planning.py derives them from it): an
        # event whose fields say another pack would put one pack's text in force as another.
        said = {
            "pack_id": (self.pack_id, pack.id),
            "region_code": (self.region_code, pack.region),
            "version": (self.version, pack.version),
            "title": (self.title, pack.title),
        }
        for name, (field_value, in_text) in said.items():
            if field_value != in_text:
                out.append(f"{name} {field_value!r} is not the pack's ({in_text!r})")
        return out


@dataclass(frozen=True, kw_only=True)
class PlanningScenarioSaved(Event):
    """A named planning scenario saved, or replaced (the same area and name): the
    assumptions a build plan depends on, as JSON (core/planning/scenario.py)."""

    TYPE: ClassVar[str] = "planning.scenario_saved"
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "scenario_id": 200,
        "area_code": 32,
        "name": 100,
        "parameters": 20_000,
        "saved_by": 100,
    }
    scenario_id: str
    area_code: AreaCode
    name: str
    parameters: str  # the scenario as JSON
    saved_by: str = ""

    def body_problems(self) -> list[str]:

        from chargenet.core.planning.scenario import Scenario

        out = _empty(scenario_id=self.scenario_id, area_code=self.area_code, name=self.name)
        if self.scenario_id != f"{self.area_code}|{self.name}":
            out.append("scenario_id must be the area code and the name joined by '|'")
        try:
            data = json.loads(self.parameters)
            if not isinstance(data, dict):
                return [*out, "parameters: a JSON object"]
            scenario = Scenario.from_json(data)
        except (ValueError, RecursionError) as exc:
            return [*out, f"parameters: {exc}"]
        if scenario.name != self.name or scenario.area != self.area_code:
            out.append("parameters: name and area differ from the event's")
        return out
