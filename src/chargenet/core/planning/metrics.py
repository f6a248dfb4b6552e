"""What a target counts, exactly (R03): which piles, which vehicles, new or in place, and
which way round a ratio is written. Two targets with different definitions never mix."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from chargenet.core.registry.model import Access, PowerType


class Counted(StrEnum):
    PILES = "piles"  # connectors of 2.2 kW or more (R01)
    STATIONS = "stations"
    EVS = "evs"  # new-energy vehicles registered (area statistics)
    MOTOR_VEHICLES = "motor_vehicles"
    REPORTED = "reported"  # a figure the platform cannot count: it must be reported


class Basis(StrEnum):
    STOCK = "stock"  # in place at the end of the period
    NEW = "new"  # added during the period (piles: commissioned in it)


class Power(StrEnum):
    ANY = "any"
    DC = "dc"  # the plans' "fast" piles
    AC = "ac"  # "slow" piles

    def admits(self, power_type: PowerType) -> bool:
        return self is Power.ANY or self.value == power_type.value


class Comparator(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    ABOUT = "about"  # within the metric's tolerance either way


class Strength(StrEnum):
    BINDING = "binding"
    AIM = "aim"  # 力争: strive for
    INDICATIVE = "indicative"  # 仅供参考: for reference


class MetricKind(StrEnum):
    COUNT = "count"
    RATIO = "ratio"


class Notation(StrEnum):
    """Which way round a plan writes a vehicle-to-pile ratio (R03). The value is always
    vehicles per pile; only its written form follows the plan."""

    PILES_FIRST = "1:N"  # Xinzhou "公共充电桩数量与电动汽车比例不低于1:8": one pile to N vehicles
    VEHICLES_FIRST = "N:1"  # Guangxi "车桩比保持不低于2.3：1": N vehicles to one pile

    def write(self, per_pile: Decimal | float | None, digits: int = 1) -> str | None:
        """The ratio as the plan writes it: "1 : 4.8" or "4.8 : 1"; None when unknown."""
        if per_pile is None:
            return None
        n = f"{float(per_pile):,.{digits}f}"
        if "." in n:
            n = n.rstrip("0").rstrip(".")
        return f"1 : {n}" if self is Notation.PILES_FIRST else f"{n} : 1"


@dataclass(frozen=True, slots=True)
class Quantity:
    """Something counted in an area over a period."""

    counted: Counted
    access: tuple[Access, ...] = ()  # piles/stations: () = every access kind
    power: Power = Power.ANY
    basis: Basis = Basis.STOCK
    since_year: int | None = None  # NEW over a plan period: from 1 Jan of this year on
    name: str = ""  # REPORTED: the name of the reported figure

    def describe(self) -> str:
        if self.counted is Counted.REPORTED:
            return f"reported {self.name or 'figure'}"
        words = []
        if self.access and self.counted in (Counted.PILES, Counted.STATIONS):
            words.append("/".join(a.value for a in self.access))
        if self.power is not Power.ANY:
            words.append(self.power.value.upper())
        words.append(self.counted.value.replace("_", " "))
        if self.basis is Basis.NEW:
            span = f"since {self.since_year}" if self.since_year else "in the period"
            return "new " + " ".join(words) + f" ({span})"
        return " ".join(words) + " in place at the end of the period"

    def problems(self) -> list[str]:
        out = []
        if self.access and self.counted not in (Counted.PILES, Counted.STATIONS):
            out.append(f"access filters apply to piles and stations, not {self.counted.value}")
        if self.power is not Power.ANY and self.counted is not Counted.PILES:
            out.append("a power filter applies to piles only")
        if self.since_year is not None and self.basis is not Basis.NEW:
            out.append("since_year needs basis new")
        if self.counted is Counted.REPORTED and not self.name:
            out.append("a reported quantity needs a name")
        return out


@dataclass(frozen=True, slots=True)
class Metric:
    """A target's measure. A ratio is numerator ÷ denominator as the target states it
    (e.g. EVs per public pile = 8 for "public piles : EVs ≥ 1:8")."""

    id: str
    kind: MetricKind
    definition: str
    quantity: Quantity | None = None  # COUNT
    numerator: Quantity | None = None  # RATIO
    denominator: Quantity | None = None
    comparator: Comparator = Comparator.AT_LEAST
    strength: Strength = Strength.BINDING
    written_as: str = ""  # the source's own wording, e.g. "公共充电桩 : 电动汽车 ≥ 1:8"
    tolerance: Decimal = Decimal("0.1")  # ABOUT: relative band either way
    unit: str = ""
    notation: Notation = Notation.VEHICLES_FIRST  # RATIO: how the plan writes it

    def problems(self) -> list[str]:
        out = []
        if not self.id or len(self.id) > 64:
            out.append("metric id must be 1..64 characters")
        if not self.definition.strip():
            out.append(f"metric {self.id}: the definition is empty")
        if self.kind is MetricKind.COUNT:
            if self.quantity is None:
                out.append(f"metric {self.id}: a count needs a quantity")
            else:
                out += [f"metric {self.id}: {p}" for p in self.quantity.problems()]
        else:
            if self.numerator is None or self.denominator is None:
                out.append(f"metric {self.id}: a ratio needs a numerator and a denominator")
            else:
                for part in (self.numerator, self.denominator):
                    out += [f"metric {self.id}: {p}" for p in part.problems()]
        return out

    def quantities(self) -> tuple[Quantity, ...]:
        parts = (
            (self.quantity,)
            if self.kind is MetricKind.COUNT
            else (
                self.numerator,
                self.denominator,
            )
        )
        return tuple(q for q in parts if q is not None)

    def compare(self, actual: Decimal, target: Decimal) -> bool:
        """Whether `actual` meets `target` under this metric's comparator."""
        if self.comparator is Comparator.AT_LEAST:
            return actual >= target
        if self.comparator is Comparator.AT_MOST:
            return actual <= target
        return abs(actual - target) <= abs(target) * self.tolerance


def _count(
    metric_id: str,
    definition: str,
    counted: Counted,
    basis: Basis,
    access: tuple[Access, ...] = (),
    power: Power = Power.ANY,
) -> Metric:
    return Metric(
        id=metric_id,
        kind=MetricKind.COUNT,
        definition=definition,
        quantity=Quantity(counted, access, power, basis),
        unit="vehicles" if counted in (Counted.EVS, Counted.MOTOR_VEHICLES) else counted.value,
    )


_PUBLIC = (Access.PUBLIC,)

# Metrics understood without a pack (imported targets use these names). A pack may define
# more, or redefine these for its region.
STANDARD_METRICS: dict[str, Metric] = {
    m.id: m
    for m in (
        _count(
            "new_public_piles",
            "new public piles (connectors ≥ 2.2 kW, R01) commissioned in the year",
            Counted.PILES,
            Basis.NEW,
            _PUBLIC,
        ),
        _count(
            "public_piles",
            "public piles (connectors ≥ 2.2 kW) in service at the end of the year",
            Counted.PILES,
            Basis.STOCK,
            _PUBLIC,
        ),
        _count(
            "new_charging_piles",
            "new piles of every access kind (public, dedicated, private) commissioned in the year",
            Counted.PILES,
            Basis.NEW,
        ),
        _count(
            "charging_piles",
            "piles of every access kind in service at the end of the year",
            Counted.PILES,
            Basis.STOCK,
        ),
        _count(
            "new_public_fast_piles",
            "new public DC piles commissioned in the year",
            Counted.PILES,
            Basis.NEW,
            _PUBLIC,
            Power.DC,
        ),
        _count(
            "new_public_slow_piles",
            "new public AC piles commissioned in the year",
            Counted.PILES,
            Basis.NEW,
            _PUBLIC,
            Power.AC,
        ),
        _count("new_nev", "new-energy vehicles added in the year", Counted.EVS, Basis.NEW),
        _count("ev_count", "new-energy vehicles registered at year end", Counted.EVS, Basis.STOCK),
        Metric(
            id="evs_per_public_pile",
            kind=MetricKind.RATIO,
            definition="EVs registered at year end ÷ public piles in service at year end",
            numerator=Quantity(Counted.EVS),
            denominator=Quantity(Counted.PILES, _PUBLIC),
            comparator=Comparator.AT_MOST,
            unit="EVs per pile",
        ),
    )
}
