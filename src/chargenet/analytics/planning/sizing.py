"""How many ports of which power a site needs: each power class is an M/M/c queue
(drivers arrive at random in the busy hour, ports serve them one at a time) sized to the
fewest ports that keep the probability of waiting (Erlang C) and the utilisation under
the service level. Costs per port class and per site, and the grid connection a site
needs, come with the answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from chargenet.analytics.planning.demand import erlang_b
from chargenet.core.registry.model import PowerType

AC, DC, ULTRA = "ac", "dc", "ultra"


@dataclass(frozen=True, slots=True)
class PortClass:
    """A power class of port, with what a session on it takes and what a port costs."""

    name: str
    power_kw: float  # rated power
    average_power_share: float  # mean power over a session ÷ rated (the battery tapers)
    session_kwh: float  # energy a session on this class delivers
    overhead_h: float  # plugging in, paying, leaving
    capex: Decimal  # a port, installed
    opex_year: Decimal  # a port, a year (maintenance, network, site rent share)

    def service_hours(self) -> float:
        return self.session_kwh / (self.power_kw * self.average_power_share) + self.overhead_h


# Defaults: typical Chinese public charging (2023-2025 prices, CNY). docs/planning.md
# ("Costs") gives the reasoning; a scenario replaces any of them.
PORT_CLASSES: dict[str, PortClass] = {
    AC: PortClass(AC, 7.0, 0.95, 20.0, 0.25, Decimal("4000"), Decimal("400")),
    DC: PortClass(DC, 120.0, 0.6, 25.0, 0.17, Decimal("60000"), Decimal("4000")),
    ULTRA: PortClass(ULTRA, 360.0, 0.45, 30.0, 0.17, Decimal("220000"), Decimal("12000")),
}

# Share of a site's sessions each class takes, by candidate kind (where drivers stop).
DEFAULT_MIX: dict[str, dict[str, float]] = {
    "village": {AC: 0.5, DC: 0.5},
    "township": {AC: 0.4, DC: 0.6},
    "road": {DC: 0.6, ULTRA: 0.4},
    "service_area": {DC: 0.4, ULTRA: 0.6},
    "petrol_station": {DC: 0.7, ULTRA: 0.3},
    "transport_hub": {AC: 0.3, DC: 0.6, ULTRA: 0.1},
    "parking_lot": {AC: 0.6, DC: 0.4},
    "*": {AC: 0.4, DC: 0.6},
}


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """What a driver may expect in the busy hour."""

    max_wait_probability: float = 0.2  # Erlang C: P(all ports busy on arrival)
    max_utilisation: float = 0.8  # ports busy on average, at most


def erlang_c(offered: float, servers: int) -> float:
    """Probability that an arriving driver waits (M/M/c): C = c·B / (c − A·(1 − B)),
    with B Erlang's loss formula; 1 when the queue is unstable (A ≥ c)."""
    if offered <= 0:
        return 0.0
    if servers <= offered:
        return 1.0
    b = erlang_b(offered, servers)
    return servers * b / (servers - offered * (1 - b))


def ports_needed(
    arrivals_per_hour: float, service_hours: float, level: ServiceLevel, minimum: int = 0
) -> int:
    """The fewest ports meeting the service level (and at least `minimum`): waiting
    probability falls and utilisation falls as ports are added, so the first c that
    meets both is the optimum."""
    offered = arrivals_per_hour * service_hours
    if offered <= 0:
        return minimum
    c = max(minimum, 1, int(offered / level.max_utilisation))
    while offered / c > level.max_utilisation + 1e-12 or (
        erlang_c(offered, c) > level.max_wait_probability + 1e-12
    ):
        c += 1
    return c


@dataclass
class SiteSize:
    ports: dict[str, int]  # class → ports
    arrivals: dict[str, float]  # class → sessions in the busy hour
    wait_probability: dict[str, float]
    utilisation: dict[str, float]
    connection_kw: float
    capex: Decimal
    opex_year: Decimal
    notes: list[str] = field(default_factory=list)

    @property
    def total_ports(self) -> int:
        return sum(self.ports.values())


def size_site(
    peak_sessions_hour: float,
    mix: Mapping[str, float],
    *,
    level: ServiceLevel | None = None,
    classes: Mapping[str, PortClass] | None = None,
    minimum: Mapping[str, int] | None = None,
    coincidence: float = 1.0,
) -> SiteSize:
    """Ports per class for a site whose busy hour brings `peak_sessions_hour` sessions,
    split over the classes by `mix`; `minimum` holds what the rules ask (e.g. 2 DC).
    The grid connection is the ports' rated power × `coincidence` (1.0: every port at
    full power at once; orderly charging can promise less)."""
    level = level or ServiceLevel()
    classes = classes or PORT_CLASSES
    minimum = minimum or {}
    total = sum(v for v in mix.values() if v > 0) or 1.0
    ports: dict[str, int] = {}
    arrivals: dict[str, float] = {}
    waits: dict[str, float] = {}
    util: dict[str, float] = {}
    for name in sorted(set(mix) | set(minimum)):
        pc = classes[name]
        lam = peak_sessions_hour * max(mix.get(name, 0.0), 0.0) / total
        c = ports_needed(lam, pc.service_hours(), level, minimum.get(name, 0))
        if c == 0:
            continue
        offered = lam * pc.service_hours()
        ports[name] = c
        arrivals[name] = lam
        waits[name] = erlang_c(offered, c)
        util[name] = offered / c
    kw = sum(classes[k].power_kw * n for k, n in ports.items()) * coincidence
    capex = sum((classes[k].capex * n for k, n in ports.items()), Decimal(0))
    opex = sum((classes[k].opex_year * n for k, n in ports.items()), Decimal(0))
    return SiteSize(ports, arrivals, waits, util, kw, capex, opex)


def mix_for(kind: str, mixes: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, float]:
    table = mixes or DEFAULT_MIX
    base = kind.split(":", 1)[0]
    return dict(table.get(kind) or table.get(base) or table.get("*") or DEFAULT_MIX["*"])


ULTRA_FROM_W = 250_000  # a DC pile this strong is of the ultra class (360 kW), not DC (120 kW)


def port_class(power_type: PowerType, power_w: int) -> str:
    """The power class of a pile the registry knows."""
    if power_type is not PowerType.DC:
        return AC
    return ULTRA if power_w >= ULTRA_FROM_W else DC


def minimum_ports(dc_piles: int, piles: int) -> dict[str, int]:
    """What a rule asks of a site as ports per class: its DC piles as DC ports, the rest
    of its piles as AC."""
    out = {DC: dc_piles} if dc_piles else {}
    if piles > dc_piles:
        out[AC] = piles - dc_piles
    return out


def totals(sizes: Sequence[SiteSize]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in sizes:
        for k, n in s.ports.items():
            out[k] = out.get(k, 0) + n
    return out
