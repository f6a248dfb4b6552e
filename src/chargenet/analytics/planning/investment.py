"""What to build, where, at what cost, within what the grid can take.

Each candidate site has a cost: the site itself (by candidate class: a petrol station's
forecourt is cheaper than new land by a road), its grid connection (fixed + per kW
within the feeder's headroom), the ports the rules ask of it (capital, and operating
cost over the horizon as a present value). Sites on one feeder share its headroom; kW
beyond it is an upgrade at its own price, or impossible when the grid company offers
none.

The siting programme (HiGHS):
- without a money budget: the cheapest set of sites putting every coverable demand
  point within its charging distance (weighted set cover with feeder rows);
- with a money budget and/or a site count: the most demand (kWh a day) within reach
  for the money and the count (maximum coverage), cheapest among equals.
Then each demand point goes to its nearest site within reach (a new one or a station
already there), and each new site is sized for the busy-hour sessions it receives
(`sizing.size_site`): ports per class, kW, capital and operating cost. With a money
budget, the ports' cost beyond the rules' minimum is taken off the money left for sites
and the programme solved again (at most three rounds), so the whole plan fits.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from scipy.sparse import bmat, csc_matrix, eye

from chargenet.analytics.planning.setcover import highs_mip
from chargenet.analytics.planning.siting import Candidate
from chargenet.analytics.planning.sizing import (
    DEFAULT_MIX,
    PORT_CLASSES,
    PortClass,
    ServiceLevel,
    SiteSize,
    mix_for,
    size_site,
)
from chargenet.analytics.planning.spatial import DistanceModel, PointIndex

# Site costs by candidate class (CNY): land, civil works, canopy, signage. Sites the
# registry already knows have a connection and a car park (`registry:`).
SITE_COST: dict[str, Decimal] = {
    "petrol_station": Decimal("40000"),
    "service_area": Decimal("60000"),
    "transport_hub": Decimal("60000"),
    "parking_lot": Decimal("50000"),
    "registry": Decimal("20000"),
    "village": Decimal("50000"),
    "township": Decimal("60000"),
    "road": Decimal("150000"),
    "zone": Decimal("80000"),
    "user": Decimal("80000"),
    "*": Decimal("80000"),
}


@dataclass(frozen=True, slots=True)
class Feeder:
    """Grid capacity the grid company can give new charging at a place (a feeder, a
    substation, or one site): candidates within `radius_km` draw on it."""

    id: str
    lat: float
    lon: float
    headroom_kw: float
    radius_km: float = 3.0
    upgrade_per_kw: Decimal | None = None  # the feeder's own price; None: the model's;
    # Infinity: the grid company offers no upgrade here


def upgrade_price(feeder: Feeder, costs: CostModel) -> Decimal | None:
    """The price of a kW beyond the feeder's headroom, or None when none is offered."""
    price = feeder.upgrade_per_kw if feeder.upgrade_per_kw is not None else costs.upgrade_per_kw
    return price if price is not None and price.is_finite() else None


@dataclass(frozen=True)
class CostModel:
    currency: str = "CNY"
    classes: Mapping[str, PortClass] = field(default_factory=lambda: dict(PORT_CLASSES))
    site: Mapping[str, Decimal] = field(default_factory=lambda: dict(SITE_COST))
    connection_fixed: Decimal = Decimal("30000")
    connection_per_kw: Decimal = Decimal("300")
    upgrade_per_kw: Decimal | None = Decimal("1500")  # None: no kW beyond headroom
    opex_years: int = 10
    discount_rate: float = 0.06
    coincidence: float = 1.0  # share of the ports' rated power drawn at once
    upgrade_works: Decimal = Decimal("10000")  # ports added at a standing station: cabling, cabinet

    def site_cost(self, kind: str) -> Decimal:
        base = kind.split(":", 1)[0]
        return self.site.get(kind) or self.site.get(base) or self.site.get("*") or Decimal(0)

    def opex_factor(self) -> Decimal:
        """Present value of 1 a year over the horizon."""
        r, n = self.discount_rate, self.opex_years
        f = n if r == 0 else (1 - (1 + r) ** -n) / r
        return Decimal(str(round(f, 6)))

    def ports_cost(self, ports: Mapping[str, int]) -> Decimal:
        f = self.opex_factor()
        return sum(
            ((self.classes[k].capex + self.classes[k].opex_year * f) * n for k, n in ports.items()),
            Decimal(0),
        )

    def kw(self, ports: Mapping[str, int]) -> float:
        return sum(self.classes[k].power_kw * n for k, n in ports.items()) * self.coincidence


@dataclass(frozen=True, slots=True)
class DemandPoint:
    id: str
    lat: float
    lon: float
    radius_m: float  # charging distance it must be within
    kwh_day: float
    peak_sessions_hour: float
    rule: str = ""


@dataclass(frozen=True, slots=True)
class StationNow:
    """A station in service the plan may resize: its ports per class today and the kW
    its grid connection can still take beyond what they draw (0: none)."""

    id: str
    kind: str  # the candidate class its site is (where drivers stop: the class mix)
    lat: float
    lon: float
    ports: Mapping[str, int]
    headroom_kw: float = 0.0
    area_code: str | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class SiteOption:
    candidate: Candidate
    minimum: Mapping[str, int]  # ports the rules ask of it (an upgrade: the ports it adds)
    feeder: str | None
    kw: float  # the minimum ports' connection
    cost: Decimal  # site + connection + minimum ports (capital and operating PV)
    station: StationNow | None = None  # an upgrade of this standing station


@dataclass
class PlannedSite:
    candidate: Candidate
    feeder: str | None
    size: SiteSize
    cost: Decimal  # site + connection + ports (capital + operating PV)
    capex: Decimal
    opex_year: Decimal
    demand_kwh_day: float
    covers: list[str]
    upgrade_of: StationNow | None = None  # ports added at a standing station (size: added)


@dataclass
class FeederLoad:
    id: str
    headroom_kw: float
    load_kw: float
    upgrade_kw: float
    upgrade_cost: Decimal


@dataclass
class InvestmentPlan:
    sites: list[PlannedSite]
    method: str
    status: str
    objective: float
    bound: float
    gap: float
    seconds: float
    currency: str
    total_cost: Decimal
    capex: Decimal
    opex_year: Decimal
    ports: dict[str, int]
    feeders: list[FeederLoad]
    demand_kwh_day: float
    covered_kwh_day: float
    uncovered: list[str]  # points left out of reach (no candidate, or beyond the budget)
    uncoverable: list[str]  # points no candidate reaches at all
    rounds: int = 1
    notes: list[str] = field(default_factory=list)
    solver_objective: float = math.nan  # HiGHS's own best (nan when it did not run)


def site_options(
    candidates: Sequence[Candidate],
    costs: CostModel,
    feeders: Sequence[Feeder] = (),
    minimum: Mapping[str, Mapping[str, int]] | None = None,
    mixes: Mapping[str, Mapping[str, float]] | None = None,
) -> list[SiteOption]:
    """Each candidate with its feeder (the nearest within its radius) and its cost. A
    site serving anyone has at least one port of each class its kind offers (its mix),
    and what the rules ask of it (`minimum`, by candidate id)."""
    feeder_of: list[str | None] = [None] * len(candidates)
    if feeders and candidates:
        index = PointIndex(np.array([f.lat for f in feeders]), np.array([f.lon for f in feeders]))
        dist, nearest = index.nearest(
            np.array([c.lat for c in candidates]), np.array([c.lon for c in candidates])
        )
        for i, (d, k) in enumerate(zip(dist.tolist(), nearest.tolist(), strict=True)):
            if k >= 0 and d <= feeders[k].radius_km * 1000.0:
                feeder_of[i] = feeders[k].id
    out = []
    first: dict[str, tuple[dict[str, int], float, Decimal]] = {}
    for c, feeder in zip(candidates, feeder_of, strict=True):
        asked = (minimum or {}).get(c.id)
        if asked is None and c.kind in first:
            m, kw, port_cost = first[c.kind]
        else:
            m = {k: 1 for k, share in mix_for(c.kind, mixes).items() if share > 0}
            for k, n in (asked or {}).items():
                m[k] = max(m.get(k, 0), n)
            kw, port_cost = costs.kw(m), costs.ports_cost(m)
            if asked is None:
                first[c.kind] = (m, kw, port_cost)
        cost = (
            costs.site_cost(c.kind)
            + costs.connection_fixed
            + costs.connection_per_kw * Decimal(str(round(kw, 3)))
            + port_cost
        )
        out.append(SiteOption(c, m, feeder, kw, cost))
    return out


def port_cost_of(
    peak_sessions_hour: float,
    costs: CostModel,
    level: ServiceLevel,
    mixes: Mapping[str, Mapping[str, float]],
) -> float:
    """The ports a place's busy-hour sessions need, priced linearly: each class's share
    of the load (erlangs) ÷ the utilisation ceiling × the class's port cost (capital and
    operating PV). The programme counts this for every place it brings within reach, so
    a money budget pays for ports as well as sites; sizing then rounds up per site."""
    mix = mix_for("*", mixes)
    total = sum(mix.values()) or 1.0
    f = float(costs.opex_factor())
    out = 0.0
    for k, share in mix.items():
        pc = costs.classes[k]
        erlangs = peak_sessions_hour * share / total * pc.service_hours()
        out += erlangs / level.max_utilisation * (float(pc.capex) + float(pc.opex_year) * f)
    return out


def upgrade_size(
    station: StationNow,
    peak_sessions_hour: float,
    costs: CostModel,
    level: ServiceLevel,
    mixes: Mapping[str, Mapping[str, float]],
) -> SiteSize:
    """The ports to add at a standing station so that its busy hour meets the service
    level: what sizing asks for its whole demand less what it has, per class (its
    queueing figures are the whole station's)."""
    whole = size_site(
        peak_sessions_hour,
        mix_for(station.kind, mixes),
        level=level,
        classes=costs.classes,
        coincidence=costs.coincidence,
    )
    added = {
        k: n - station.ports.get(k, 0)
        for k, n in whole.ports.items()
        if n > station.ports.get(k, 0)
    }
    return SiteSize(
        added,
        whole.arrivals,
        whole.wait_probability,
        whole.utilisation,
        costs.kw(added),
        sum((costs.classes[k].capex * n for k, n in added.items()), Decimal(0)),
        sum((costs.classes[k].opex_year * n for k, n in added.items()), Decimal(0)),
    )


def upgrade_capex(station: StationNow, added: Mapping[str, int], costs: CostModel) -> Decimal:
    """Works, ports, and a grid connection only for the added ports' kW (at the
    coincidence) beyond the station's headroom."""
    if not added:
        return Decimal(0)
    over = costs.kw(added) - station.headroom_kw
    connection = (
        costs.connection_fixed + costs.connection_per_kw * Decimal(str(round(over, 3)))
        if over > 1e-9
        else Decimal(0)
    )
    ports = sum((costs.classes[k].capex * n for k, n in added.items()), Decimal(0))
    return costs.upgrade_works + connection + ports


def _upgrade_option(
    station: StationNow, size: SiteSize, costs: CostModel, feeder: str | None, credit: float
) -> SiteOption:
    """The programme's price of an upgrade: what it costs, less `credit` — the ports
    its villages' busy hour needs wherever they are served (`port_cost_of`), which a
    new site's price leaves out (it holds the rules' minimum only). So upgrade and new
    site compete on what differs: the ports the station already has, the site, the
    connection."""
    opex = sum((costs.classes[k].opex_year * n for k, n in size.ports.items()), Decimal(0))
    cost = upgrade_capex(station, size.ports, costs) + opex * costs.opex_factor()
    return SiteOption(
        Candidate(
            f"upgrade:{station.id}",
            station.kind,
            station.lat,
            station.lon,
            station.name,
            station.area_code,
        ),
        dict(size.ports),
        feeder,
        size.connection_kw,
        max(cost - Decimal(str(round(credit, 2))), Decimal(0)),
        station,
    )


def _money(x: Decimal) -> Decimal:
    return x.quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def _greedy(
    covers_by: list[set[int]],
    weights: np.ndarray,
    cost: np.ndarray,
    must: set[int],
    money: float | None,
    max_sites: int | None,
    feeder_rows: list[tuple[list[int], float, float | None]],
    kw: np.ndarray,
    point_cost: np.ndarray,
    forced: Sequence[int] = (),
) -> list[int]:
    """Cost-effectiveness greedy: the site with the most newly reached weight per unit of
    cost (set cover: per-point count), while money and count allow and feeders hold.
    Lazy evaluation: a site's ratio only falls as points are reached and feeders fill,
    so a ratio recomputed and still the best on the heap is the best overall."""
    left = set(must)
    chosen: list[int] = []
    spent = 0.0
    feeder_of = {j: f for f, (members, _, _) in enumerate(feeder_rows) for j in members}
    load = [0.0] * len(feeder_rows)
    budgeted = money is not None or max_sites is not None

    def price(j: int) -> float | None:
        c = float(cost[j])
        f = feeder_of.get(j)
        if f is not None:
            _, head, up = feeder_rows[f]
            over = max(load[f] + kw[j] - head, 0.0) - max(load[f] - head, 0.0)
            if over > 0:
                if up is None:
                    return None
                c += over * up
        return c

    def ratio(j: int) -> tuple[float, float]:
        c = price(j)
        gain_set = covers_by[j] & left
        if c is None or not gain_set:
            return 0.0, 0.0
        if money is not None:
            c += float(point_cost[list(gain_set)].sum())
            if spent + c > money + 1e-6:
                return 0.0, 0.0
        gain = float(weights[list(gain_set)].sum()) if budgeted else float(len(gain_set))
        return gain / max(c, 1e-9), c

    for j in forced:  # sites the rules fix, built first
        chosen.append(j)
        spent += price(j) or float(cost[j])
        f = feeder_of.get(j)
        if f is not None:
            load[f] += kw[j]
        left -= covers_by[j]
    heap = [(-ratio(j)[0], j) for j in range(len(covers_by)) if covers_by[j] & left]
    heapq.heapify(heap)
    while heap and left and (max_sites is None or len(chosen) < max_sites):
        _, j = heapq.heappop(heap)
        r, c = ratio(j)
        if r <= 0:
            continue
        if heap and r < -heap[0][0] - 1e-15:
            heapq.heappush(heap, (-r, j))
            continue
        chosen.append(j)
        spent += c
        f = feeder_of.get(j)
        if f is not None:
            load[f] += kw[j]
        left -= covers_by[j]
    return chosen


def _solve(
    covers: list[list[int]],
    weights: np.ndarray,
    options: Sequence[SiteOption],
    feeders: Mapping[str, Feeder],
    costs: CostModel,
    money: float | None,
    max_sites: int | None,
    time_limit: float,
    use_highs: bool,
    point_cost: np.ndarray,
    forced: Sequence[int] = (),
) -> tuple[list[int], str, str, float, float, float, float]:
    """(chosen, method, status, objective, bound, gap, HiGHS's own objective)."""
    keep = [d for d, c in enumerate(covers) if c]
    n = len(options)
    cost = np.array([float(o.cost) for o in options])
    kw = np.array([o.kw for o in options])
    fids = sorted({o.feeder for o in options if o.feeder is not None})
    feeder_rows: list[tuple[list[int], float, float | None]] = []
    for fid in fids:
        up = upgrade_price(feeders[fid], costs)
        members = [j for j, o in enumerate(options) if o.feeder == fid]
        head = feeders[fid].headroom_kw
        feeder_rows.append((members, head, float(up) if up is not None else None))
    budgeted = money is not None or max_sites is not None
    if not keep:
        return list(forced), "none", "nothing a candidate can reach", 0.0, 0.0, 0.0, math.nan
    covers_by: list[set[int]] = [set() for _ in range(n)]
    for d in keep:
        for c in covers[d]:
            covers_by[c].add(d)
    greedy = _greedy(
        covers_by, weights, cost, set(keep), money, max_sites, feeder_rows, kw, point_cost, forced
    )
    x_lower = np.zeros(n)
    x_lower[list(forced)] = 1.0
    status = "asked for"
    if use_highs:
        m, nf = len(keep), len(feeder_rows)
        rows = [d for d in keep for _ in covers[d]]
        cols = [c for d in keep for c in covers[d]]
        cover_m = csc_matrix((np.ones(len(rows)), (np.searchsorted(keep, rows), cols)), (m, n))
        # Feeder rows: Σ kW_j x_j − u_f ≤ headroom_f; u_f (upgrade kW) priced per kW.
        f_rows, f_cols, f_vals = [], [], []
        up_cost, up_max = [], []
        for r, (members, _head, price) in enumerate(feeder_rows):
            for j in members:
                f_rows.append(r)
                f_cols.append(j)
                f_vals.append(kw[j])
            up_cost.append(price if price is not None else 0.0)
            up_max.append(np.inf if price is not None else 0.0)
        feeder_m = csc_matrix((f_vals, (f_rows, f_cols)), (nf, n))
        heads = np.array([h for _, h, _ in feeder_rows])
        if not budgeted:
            # min Σ c_j x_j + Σ p_f u_f  s.t. cover ≥ 1, feeder rows
            a = bmat([[cover_m, None], [feeder_m, -eye(nf)]], format="csc") if nf else cover_m
            lower = np.concatenate([np.ones(m), np.full(nf, -np.inf)])
            upper = np.concatenate([np.full(m, np.inf), heads])
            solved = highs_mip(
                np.concatenate([cost, up_cost]),
                csc_matrix(a),
                lower,
                upper,
                np.concatenate([np.ones(n, dtype=bool), np.zeros(nf, dtype=bool)]),
                np.concatenate([np.ones(n), up_max]),
                False,
                time_limit,
                0.0,
                np.concatenate([x_lower, np.zeros(nf)]),
            )
        else:
            # max Σ w_d y_d − ε·cost  s.t. y_d ≤ Σ x_j, money, count, feeder rows
            eps = 1e-7 * float(weights[keep].sum() or 1.0) / max(float(cost.sum()), 1.0)
            blocks: list[list[object]] = [[-cover_m, eye(m), None]]
            lower_parts = [np.full(m, -np.inf)]
            upper_parts = [np.zeros(m)]
            if nf:
                blocks.append([feeder_m, None, -eye(nf)])
                lower_parts.append(np.full(nf, -np.inf))
                upper_parts.append(heads)
            if money is not None:
                # Sites, the ports the reached villages need (linearised), upgrades.
                served = csc_matrix(point_cost[keep][None, :])
                blocks.append(
                    [csc_matrix(cost[None, :]), served, csc_matrix(np.array(up_cost)[None, :])]
                    if nf
                    else [csc_matrix(cost[None, :]), served]
                )
                lower_parts.append(np.array([-np.inf]))
                upper_parts.append(np.array([money]))
            if max_sites is not None:
                blocks.append([csc_matrix(np.ones((1, n))), None] + ([None] if nf else []))
                lower_parts.append(np.array([-np.inf]))
                upper_parts.append(np.array([float(max_sites)]))
            if not nf:
                blocks = [row[:2] for row in blocks]
            a = bmat(blocks, format="csc")
            solved = highs_mip(
                np.concatenate([-eps * cost, weights[keep], -eps * np.array(up_cost)]),
                csc_matrix(a),
                np.concatenate(lower_parts),
                np.concatenate(upper_parts),
                np.concatenate([np.ones(n, dtype=bool), np.zeros(m + nf, dtype=bool)]),
                np.concatenate([np.ones(n + m), up_max]),
                True,
                time_limit,
                0.0,
                np.concatenate([x_lower, np.zeros(m + nf)]),
            )
        if not isinstance(solved, str):
            values, status, objective, bound, gap = solved
            chosen = [int(j) for j in np.nonzero(values[:n] > 0.5)[0]]
            # At a time limit HiGHS's best may be worse than greedy's: keep the better,
            # measured against HiGHS's proven bound either way.
            g_value = _value(greedy, covers_by, weights, cost, budgeted)
            tol = 1e-6 * max(1.0, abs(objective))
            if (g_value > objective + tol) if budgeted else (g_value < objective - tol):
                gap = abs(g_value - bound) / max(abs(g_value), 1e-9)
                why = f"{status}; greedy's answer was better than HiGHS's ({objective:.6g})"
                return greedy, "greedy", why, g_value, bound, gap, objective
            return chosen, "highs", status, objective, bound, max(gap, 0.0), objective
        status = solved
    value = _value(greedy, covers_by, weights, cost, budgeted)
    return greedy, "greedy", status, value, math.nan, math.nan, math.nan


def _value(
    chosen: list[int],
    covers_by: list[set[int]],
    weights: np.ndarray,
    cost: np.ndarray,
    budgeted: bool,
) -> float:
    """The programme's objective for a set of sites: demand reached, or sites' cost."""
    if budgeted:
        reached = set().union(*(covers_by[j] for j in chosen)) if chosen else set()
        return float(weights[list(reached)].sum())
    return float(cost[chosen].sum())


def plan_investment(
    points: Sequence[DemandPoint],
    candidates: Sequence[Candidate],
    distance: DistanceModel,
    *,
    costs: CostModel | None = None,
    feeders: Sequence[Feeder] = (),
    existing: Sequence[tuple[float, float]] = (),
    level: ServiceLevel | None = None,
    mixes: Mapping[str, Mapping[str, float]] | None = None,
    minimum: Mapping[str, Mapping[str, int]] | None = None,
    money_budget: Decimal | None = None,
    max_sites: int | None = None,
    time_limit: float = 30.0,
    use_highs: bool = True,
    forced: Sequence[Candidate] = (),
    stations: Sequence[StationNow] = (),
) -> InvestmentPlan:
    """Sites, ports and money for the demand points: see the module's docstring.
    `forced` sites are built whatever the demand (what the other rules fix: a station
    every 10 km along a road, one in each empty township …), sized and priced like the
    rest; their ports per class come from `minimum`. `existing` stations serve the
    points they reach as they are; `stations` serve them up to their ports, and one
    short of ports may be upgraded (module docstring)."""
    started = time.perf_counter()
    costs = costs or CostModel()
    level = level or ServiceLevel()
    mixes = mixes or DEFAULT_MIX
    feeder_by = {f.id: f for f in feeders}
    lat = np.array([p.lat for p in points], dtype=np.float64)
    lon = np.array([p.lon for p in points], dtype=np.float64)
    radius = np.array([p.radius_m for p in points], dtype=np.float64)
    # Points a station already reaches need no new site.
    served_already = np.zeros(len(points), dtype=bool)
    if existing and len(points):
        ex = distance.covering(
            np.array([e[0] for e in existing]), np.array([e[1] for e in existing]), lat, lon, radius
        )
        served_already = np.array([bool(e) for e in ex])
    upgrades = _short_stations(
        points, stations, served_already, distance, costs, level, mixes, feeders
    )
    candidates = [*forced, *candidates, *(u.candidate for u in upgrades)]
    forced_idx = list(range(len(forced)))
    options = site_options(
        candidates[: len(candidates) - len(upgrades)], costs, feeders, minimum, mixes
    )
    options += upgrades
    need = [i for i in range(len(points)) if not served_already[i]]
    covers = (
        distance.covering(
            np.array([c.lat for c in candidates]),
            np.array([c.lon for c in candidates]),
            lat[need],
            lon[need],
            radius[need],
        )
        if need and candidates
        else [[] for _ in need]
    )
    weights = np.array([max(points[i].kwh_day, 1e-3) for i in need])
    uncoverable = [points[need[d]].id for d, c in enumerate(covers) if not c]
    money = float(money_budget) if money_budget is not None else None
    point_cost = np.array(
        [port_cost_of(points[i].peak_sessions_hour, costs, level, mixes) for i in need]
    )
    rounds = 0
    notes: list[str] = []
    while True:
        rounds += 1
        chosen, method, status, objective, bound, gap, solver_objective = _solve(
            covers,
            weights,
            options,
            feeder_by,
            costs,
            money,
            max_sites,
            time_limit,
            use_highs,
            point_cost,
            forced_idx,
        )
        plan = _finish(
            points,
            need,
            covers,
            chosen,
            options,
            costs,
            level,
            mixes,
            feeder_by,
            existing,
            distance,
        )
        if money_budget is None or plan[1] <= money_budget or rounds >= 3:
            break
        over = float(plan[1] - money_budget)
        money = max((money or 0.0) - over, 0.0)
        notes.append(f"round {rounds}: ports beyond the minimum cost {over:,.0f} more; re-solved")
    sites, total, feeder_loads = plan
    while money_budget is not None and total > money_budget and len(chosen) > len(forced_idx):
        # Still over after the rounds: drop the free site serving the least per yuan.
        at = {options[j].candidate.id: j for j in chosen}
        free = [s for s in sites if at[s.candidate.id] not in forced_idx]
        if not free:
            break
        worst = min(free, key=lambda s: s.demand_kwh_day / max(float(s.cost), 1e-9))
        dropped = at[worst.candidate.id]
        chosen.remove(dropped)
        notes.append(f"dropped {options[dropped].candidate.id} to fit the budget")
        sites, total, feeder_loads = _finish(
            points,
            need,
            covers,
            chosen,
            options,
            costs,
            level,
            mixes,
            feeder_by,
            existing,
            distance,
        )
    chosen_set = set(chosen)
    reached = {points[need[d]].id for d, c in enumerate(covers) if chosen_set.intersection(c)}
    uncovered = [points[i].id for i in need if points[i].id not in reached]
    capex = sum((s.capex for s in sites), Decimal(0))
    opex = sum((s.opex_year for s in sites), Decimal(0))
    ports: dict[str, int] = {}
    for s in sites:
        for k, v in s.size.ports.items():
            ports[k] = ports.get(k, 0) + v
    if money_budget is not None and total > money_budget:
        notes.append(
            "over budget: the sites the rules fix cost more than the money given"
            if len(chosen) == len(forced_idx)
            else "the sized ports exceed the budget after three rounds"
        )
    return InvestmentPlan(
        sites=sites,
        method=method,
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=time.perf_counter() - started,
        currency=costs.currency,
        total_cost=_money(total),
        capex=_money(capex),
        opex_year=_money(opex),
        ports=ports,
        feeders=feeder_loads,
        demand_kwh_day=float(sum(p.kwh_day for p in points)),
        covered_kwh_day=float(
            sum(p.kwh_day for i, p in enumerate(points) if served_already[i] or p.id in reached)
        ),
        uncovered=uncovered,
        uncoverable=uncoverable,
        rounds=rounds,
        notes=notes,
        solver_objective=solver_objective,
    )


def _short_stations(
    points: Sequence[DemandPoint],
    stations: Sequence[StationNow],
    served: np.ndarray,
    distance: DistanceModel,
    costs: CostModel,
    level: ServiceLevel,
    mixes: Mapping[str, Mapping[str, float]],
    feeders: Sequence[Feeder],
) -> list[SiteOption]:
    """Each point a standing station reaches goes to its nearest such station; a station
    whose ports meet its points' busy hour serves them (`served` is set), one short of
    ports leaves them to the programme and becomes an upgrade option."""
    if not stations or not len(points):
        return []
    reach = distance.covering(
        np.array([s.lat for s in stations]),
        np.array([s.lon for s in stations]),
        np.array([p.lat for p in points]),
        np.array([p.lon for p in points]),
        np.array([p.radius_m for p in points]),
    )
    mine: dict[int, list[int]] = {}
    for i, ks in enumerate(reach):
        if ks and not served[i]:
            k = min(ks, key=lambda k: _km2(stations[k].lat, stations[k].lon, points[i]))
            mine.setdefault(k, []).append(i)
    short: list[tuple[StationNow, SiteSize, float]] = []
    for k, members in sorted(mine.items()):
        size = upgrade_size(
            stations[k], sum(points[i].peak_sessions_hour for i in members), costs, level, mixes
        )
        if size.ports:
            credit = sum(
                port_cost_of(points[i].peak_sessions_hour, costs, level, mixes) for i in members
            )
            short.append((stations[k], size, credit))
        else:
            served[members] = True
    placed = site_options(
        [Candidate(s.id, s.kind, s.lat, s.lon) for s, _, _ in short], costs, feeders
    )
    return [
        _upgrade_option(s, size, costs, o.feeder, credit)
        for (s, size, credit), o in zip(short, placed, strict=True)
    ]


def _finish(
    points: Sequence[DemandPoint],
    need: list[int],
    covers: list[list[int]],
    chosen: list[int],
    options: Sequence[SiteOption],
    costs: CostModel,
    level: ServiceLevel,
    mixes: Mapping[str, Mapping[str, float]],
    feeders: Mapping[str, Feeder],
    existing: Sequence[tuple[float, float]],
    distance: DistanceModel,
) -> tuple[list[PlannedSite], Decimal, list[FeederLoad]]:
    """Assign each point to its nearest open site within reach (a station already there
    keeps its own), size each new site, and price the sites and the feeders."""
    chosen_set = set(chosen)
    demand: dict[int, list[int]] = {j: [] for j in chosen}
    if chosen:
        opened = [(options[j].candidate.lat, options[j].candidate.lon) for j in chosen]
        sites_lat = np.array([o[0] for o in opened] + [e[0] for e in existing])
        sites_lon = np.array([o[1] for o in opened] + [e[1] for e in existing])
        index = PointIndex(sites_lat, sites_lon)
        _, nearest = index.nearest(
            np.array([points[i].lat for i in need]), np.array([points[i].lon for i in need])
        )
        for d, i in enumerate(need):
            if not any(c in chosen_set for c in covers[d]):
                continue
            k = int(nearest[d])
            if k < len(chosen) and chosen[k] in covers[d]:
                demand[chosen[k]].append(i)
            else:  # the nearest open site is out of its reach: the nearest that reaches it
                reach = [j for j in covers[d] if j in chosen_set]
                demand[
                    min(
                        reach,
                        key=lambda j: _km2(
                            options[j].candidate.lat, options[j].candidate.lon, points[i]
                        ),
                    )
                ].append(i)
    f = costs.opex_factor()
    sites: list[PlannedSite] = []
    load: dict[str, float] = {}
    total = Decimal(0)
    for j in chosen:
        o = options[j]
        peak = sum(points[i].peak_sessions_hour for i in demand[j])
        if o.station is not None:
            size = upgrade_size(o.station, peak, costs, level, mixes)
            if not size.ports:
                continue  # new sites took its points: the station serves the rest as it is
            capex = upgrade_capex(o.station, size.ports, costs)
        else:
            size = size_site(
                peak,
                mix_for(o.candidate.kind, mixes),
                level=level,
                classes=costs.classes,
                minimum=o.minimum,
                coincidence=costs.coincidence,
            )
            capex = (
                costs.site_cost(o.candidate.kind)
                + costs.connection_fixed
                + costs.connection_per_kw * Decimal(str(round(size.connection_kw, 3)))
                + size.capex
            )
        cost = capex + size.opex_year * f
        total += cost
        if o.feeder is not None:
            load[o.feeder] = load.get(o.feeder, 0.0) + size.connection_kw
        sites.append(
            PlannedSite(
                o.candidate,
                o.feeder,
                size,
                _money(cost),
                _money(capex),
                _money(size.opex_year),
                float(sum(points[i].kwh_day for i in demand[j])),
                [points[i].id for i in demand[j]],
                o.station,
            )
        )
    loads = []
    for fid, kw in sorted(load.items()):
        fd = feeders[fid]
        over = max(kw - fd.headroom_kw, 0.0)
        price = upgrade_price(fd, costs)
        up_cost = _money(Decimal(str(round(over, 3))) * price) if price is not None else Decimal(0)
        total += up_cost
        loads.append(FeederLoad(fid, fd.headroom_kw, kw, over, up_cost))
        if over > 0:
            for s in sites:
                if s.feeder == fid:
                    s.size.notes.append(
                        f"feeder {fid}: {kw:.0f} kW asked of {fd.headroom_kw:.0f} kW headroom"
                        + ("" if price is not None else " (no upgrade offered)")
                    )
    return sites, total, loads


def _km2(lat: float, lon: float, p: DemandPoint) -> float:
    return (lat - p.lat) ** 2 + ((lon - p.lon) * math.cos(math.radians(p.lat))) ** 2
