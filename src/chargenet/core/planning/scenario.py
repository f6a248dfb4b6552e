"""A planning scenario: a named set of assumptions a build plan depends on (growth,
detour, budget, candidate classes, service level …), saved and compared side by side
(docs/planning.md, "Scenarios")."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from chargenet.core.errors import Invalid

CANDIDATE_CLASSES = (
    "petrol_station",
    "transport_hub",
    "parking_lot",
    "service_area",
    "village",
    "township",
    "road",
    "user",
)


class ScenarioError(Invalid):
    """A scenario's parameters do not make sense; the message says which and why."""


@dataclass(frozen=True)
class Scenario:
    """A named set of planning assumptions: everything a build plan depends on."""

    name: str
    area: str
    year: int
    years: tuple[int, ...] = ()  # phases: default, the years the distance rule names
    start: int | None = None  # phases: the first year still to plan (default: this year)
    growth: float | None = None  # EV stock growth a year beyond the plans' targets
    detour: float = 1.3
    money_budget: Decimal | None = None
    yearly_budget: Decimal | None = None  # phases: money a year
    max_sites: int | None = None
    within_km: float = 10.0  # charging distance when the area's pack gives none
    villages: bool = True
    townships: bool = True
    road_every_km: float | None = 5.0
    registry: bool = True  # the registry's hubs, car parks, service areas
    classes: tuple[str, ...] = ()  # only these candidate classes; () = every class
    max_wait_probability: float = 0.2
    max_utilisation: float = 0.8
    kwh_per_ev_day: float = 7.5
    public_share: float = 0.35
    window_days: int = 90
    time_limit: float = 30.0

    def problems(self) -> list[str]:
        out = []
        if not self.name or len(self.name) > 100:
            out.append("name: 1 to 100 characters")
        if not 1990 <= self.year <= 2100:
            out.append("year: 1990 to 2100")
        if any(not 1990 <= y <= 2100 for y in self.years) or len(self.years) > 15:
            out.append("years: at most 15, each 1990 to 2100")
        if self.growth is not None and not -0.5 <= self.growth <= 5:
            out.append("growth: -0.5 to 5 (a share a year)")
        if not 1.0 <= self.detour <= 5.0:
            out.append("detour: 1.0 to 5.0")
        for name in ("money_budget", "yearly_budget"):
            v = getattr(self, name)
            if v is not None and not (v.is_finite() and 0 < v < Decimal("1e13")):
                out.append(f"{name}: a positive amount below 10^13")
        if self.max_sites is not None and not 1 <= self.max_sites <= 100_000:
            out.append("max_sites: 1 to 100,000")
        if not 0.5 <= self.within_km <= 500:
            out.append("within_km: 0.5 to 500")
        if self.road_every_km is not None and not 0.5 <= self.road_every_km <= 1000:
            out.append("road_every_km: 0.5 to 1000")
        unknown = [c for c in self.classes if c not in CANDIDATE_CLASSES]
        if unknown:
            out.append(f"classes: unknown {unknown}; known: {', '.join(CANDIDATE_CLASSES)}")
        if not 0.001 <= self.max_wait_probability <= 0.99:
            out.append("max_wait_probability: 0.001 to 0.99")
        if not 0.05 <= self.max_utilisation <= 0.99:
            out.append("max_utilisation: 0.05 to 0.99")
        if not 0.1 <= self.kwh_per_ev_day <= 200:
            out.append("kwh_per_ev_day: 0.1 to 200")
        if not 0.01 <= self.public_share <= 1:
            out.append("public_share: 0.01 to 1")
        if not 1 <= self.window_days <= 3660:
            out.append("window_days: 1 to 3660")
        if not 0 < self.time_limit <= 600:
            out.append("time_limit: above 0, at most 600 s")
        return out

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for k in ("money_budget", "yearly_budget"):
            if out[k] is not None:
                out[k] = str(out[k])
        out["years"] = list(self.years)
        out["classes"] = list(self.classes)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scenario:
        """A scenario from JSON (an API body, a stored row): unknown keys and wrong types
        are refused with the field named."""
        known = {f.name: f for f in fields(cls)}
        extra = sorted(set(data) - set(known))
        if extra:
            raise ScenarioError(f"unknown fields: {', '.join(extra)}")
        values: dict[str, Any] = {}
        try:
            for key, value in data.items():
                if value is None:
                    values[key] = None
                elif key in ("money_budget", "yearly_budget"):
                    values[key] = Decimal(str(value))
                elif key in ("years", "classes"):
                    if not isinstance(value, list | tuple):
                        raise ScenarioError(f"{key}: a list")
                    values[key] = tuple(int(v) if key == "years" else str(v) for v in value)
                elif key in ("name", "area"):
                    if not isinstance(value, str):
                        raise ScenarioError(f"{key}: text")
                    values[key] = value
                elif key in ("villages", "townships", "registry"):
                    if not isinstance(value, bool):
                        raise ScenarioError(f"{key}: true or false")
                    values[key] = value
                elif key in ("year", "start", "max_sites", "window_days"):
                    if isinstance(value, bool) or int(value) != value:
                        raise ScenarioError(f"{key}: a whole number")
                    values[key] = int(value)
                else:
                    if isinstance(value, bool):
                        raise ScenarioError(f"{key}: a number")
                    values[key] = float(value)
                    if not math.isfinite(values[key]):
                        raise ScenarioError(f"{key}: a finite number")
        except (TypeError, ValueError, InvalidOperation) as exc:
            if isinstance(exc, ScenarioError):
                raise
            raise ScenarioError(f"{key}: {exc}") from exc
        for required in ("name", "area", "year"):
            if values.get(required) is None:
                raise ScenarioError(f"{required} is required")
        scenario = cls(**values)
        problems = scenario.problems()
        if problems:
            raise ScenarioError("; ".join(problems))
        return scenario
