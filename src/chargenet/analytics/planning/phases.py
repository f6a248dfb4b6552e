"""A multi-year build plan: which sites to build in which year so that every year's rule
holds in that year — the village charging distance tightening 50 → 30 → 10 km, the
counties' yearly new-pile targets — at the least discounted cost, within each year's
money and site count, counting what was actually built.

One programme over all the years (HiGHS), not one year after another: a year-by-year
plan that closes 2023's 50 km gaps with sites of no use for 2025's 10 km pays twice.
Variables: b[j,t] = 1 when site j is built in year t (at most once); Q[c,t] ≥ 0 piles
added at county c's stations in year t (only once a station stands there: one in
service, or a planned site built by then). For each year t:
- each demand point i not reached by a station in service by then:
  Σ_{j reaches i at year t's distance} Σ_{s ≤ t} b[j,s] ≥ 1;
- each county c: Σ_{j in c} piles_j · b[j,t] + Q[c,t] ≥ target[c,t] − built[c,t];
- Σ_j cost_j b[j,t] + pile_cost Σ_c Q[c,t] ≤ money[t];  Σ_j b[j,t] ≤ sites[t];
- each site another rule fixes (a station every G km along a road, one in each empty
  township, the stations a county lacks) stands by the year that rule asks it:
  Σ_{s ≤ due_j} b[j,s] ≥ 1;
minimising Σ_t (Σ_j cost_j b[j,t] + pile_cost Σ_c Q[c,t]) / (1 + r)^(t − t0).

Re-planning as actuals arrive: the years before `start` are history — what was built is
in `existing` (with its year) and in `built` (new piles per county and year) — and the
programme plans from `start` on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from scipy.sparse import coo_matrix, csc_matrix

from chargenet.analytics.planning.investment import SiteOption
from chargenet.analytics.planning.setcover import highs_mip
from chargenet.analytics.planning.spatial import DistanceModel


@dataclass(frozen=True, slots=True)
class PhasePoint:
    """A place a distance rule names, with the distance it must be within each year
    (metres; a year absent: the rule is not in force)."""

    id: str
    lat: float
    lon: float
    radius_m: Mapping[int, float]
    rule: str = ""
    county: str | None = None


@dataclass(frozen=True, slots=True)
class Existing:
    lat: float
    lon: float
    since: int  # the year it entered service
    county: str | None = None


@dataclass
class Claim:
    """What the plan says holds in a year, with the figures that show it."""

    year: int
    rule: str
    kind: str  # distance | county_piles | a coverage rule's kind (road_spacing, …)
    subject: str  # the rule's places, the county, or the rule's description
    required: float
    achieved: float
    met: bool
    detail: str = ""


@dataclass
class PhaseYear:
    year: int
    sites: list[tuple[str, int]]  # (candidate id, piles) built this year
    extra_piles: dict[str, int]  # county → piles added at its stations (built or planned)
    cost: Decimal
    positions: list[tuple[float, float]] = field(default_factory=list)  # (lat, lon) per site


@dataclass
class PhasePlan:
    start: int
    years: list[PhaseYear]
    claims: list[Claim]
    method: str
    status: str
    objective: float
    bound: float
    gap: float
    seconds: float
    uncoverable: dict[int, list[str]]  # year → points no candidate reaches that year
    notes: list[str] = field(default_factory=list)

    def built_by(self, year: int) -> list[str]:
        return [c for y in self.years if y.year <= year for c, _ in y.sites]


def _reach(
    distance: DistanceModel,
    options: Sequence[SiteOption],
    points: Sequence[PhasePoint],
    year: int,
    extra: Sequence[tuple[float, float]] = (),
) -> tuple[list[int], list[list[int]]]:
    """Points with a distance in force in `year`, and for each the sites reaching it
    (`extra` sites are indexed after the options)."""
    idx = [i for i, p in enumerate(points) if year in p.radius_m]
    if not idx:
        return [], []
    lats = np.array([o.candidate.lat for o in options] + [e[0] for e in extra])
    lons = np.array([o.candidate.lon for o in options] + [e[1] for e in extra])
    if not len(lats):
        return idx, [[] for _ in idx]
    covers = distance.covering(
        lats,
        lons,
        np.array([points[i].lat for i in idx]),
        np.array([points[i].lon for i in idx]),
        np.array([points[i].radius_m[year] for i in idx]),
    )
    return idx, covers


def plan_phases(
    years: Sequence[int],
    points: Sequence[PhasePoint],
    options: Sequence[SiteOption],
    distance: DistanceModel,
    *,
    start: int | None = None,
    existing: Sequence[Existing] = (),
    county_of: Mapping[str, str | None] | None = None,  # candidate id → county
    pile_targets: Mapping[tuple[str, int], int] | None = None,  # (county, year) → new piles
    built: Mapping[tuple[str, int], int] | None = None,  # (county, year) → piles built
    pile_cost: Decimal = Decimal("7000"),
    money: Mapping[int, Decimal] | None = None,
    max_sites: Mapping[int, int] | None = None,
    discount_rate: float = 0.06,
    max_piles_per_site: int = 200,
    time_limit: float = 60.0,
    due: Mapping[str, int] | None = None,  # candidate id → the year it must stand by
    rule_claims: Callable[[int, Sequence[str]], list[Claim]] | None = None,
) -> PhasePlan:
    """`rule_claims(year, ids)` measures the other rules the plan claims in a year with
    the candidates standing by then (`ids`): the caller re-runs their coverage checks."""
    started = time.perf_counter()
    years = sorted(years)
    start = start if start is not None else years[0]
    plan_years = [y for y in years if y >= start]
    if not plan_years:
        return PhasePlan(
            start,
            [],
            [],
            "none",
            "no year left to plan",
            0.0,
            0.0,
            0.0,
            0.0,
            {},
            [f"every year of {years} is before {start}: nothing left to plan"],
        )
    n, t_n = len(options), len(plan_years)
    county_of = county_of or {}
    pile_targets = pile_targets or {}
    built = built or {}
    piles = np.array([sum(o.minimum.values()) for o in options], dtype=np.float64)
    cost = np.array([float(o.cost) for o in options])
    disc = np.array([(1 + discount_rate) ** -(y - plan_years[0]) for y in plan_years])
    # Columns: b[j,t] at j*T + t, then Q[c,t] (piles added in county c) at n*T + c*T + t.
    nb = n * t_n
    counties = sorted({c for (c, y) in pile_targets if y in plan_years})
    nq = len(counties) * t_n
    rows: list[tuple[list[int], list[float], float, float]] = []
    uncoverable: dict[int, list[str]] = {}
    notes: list[str] = []
    members_of = {
        c: [j for j, o in enumerate(options) if county_of.get(o.candidate.id) == c]
        for c in counties
    }
    for t, year in enumerate(plan_years):
        standing = [(e.lat, e.lon) for e in existing if e.since <= year]
        idx, covers = _reach(distance, options, points, year, standing)
        for i, reach in zip(idx, covers, strict=True):
            if any(k >= n for k in reach):
                continue  # a station in service by then reaches it
            if not reach:
                uncoverable.setdefault(year, []).append(points[i].id)
                continue
            cols = [j * t_n + s for j in reach for s in range(t + 1)]
            rows.append((cols, [1.0] * len(cols), 1.0, np.inf))
        for k, county in enumerate(counties):
            target = pile_targets.get((county, year))
            q_col = nb + k * t_n + t
            members = members_of[county]
            stations_there = any(e.county == county and e.since <= year for e in existing)
            if not stations_there:
                # Piles go to a station: none stands in the county yet, so only where a
                # planned site stands by then.
                cols = [q_col] + [j * t_n + s for j in members for s in range(t + 1)]
                vals = [1.0] + [-float(max_piles_per_site)] * (len(cols) - 1)
                rows.append((cols, vals, -np.inf, 0.0))
            if target is None:
                continue
            need = target - built.get((county, year), 0)
            if need <= 0:
                continue
            if not members and not stations_there:
                notes.append(f"{county} {year}: {need} piles asked, no station or candidate in it")
                rows.pop()
                continue
            cols = [j * t_n + t for j in members] + [q_col]
            vals = [float(piles[j]) for j in members] + [1.0]
            rows.append((cols, vals, float(need), np.inf))
        if money and year in money:
            cols = [j * t_n + t for j in range(n)] + [
                nb + k * t_n + t for k in range(len(counties))
            ]
            vals = list(cost) + [float(pile_cost)] * len(counties)
            rows.append((cols, vals, -np.inf, float(money[year])))
        if max_sites and year in max_sites:
            rows.append(([j * t_n + t for j in range(n)], [1.0] * n, -np.inf, max_sites[year]))
    for j in range(n):
        rows.append(([j * t_n + t for t in range(t_n)], [1.0] * t_n, -np.inf, 1.0))
        when = (due or {}).get(options[j].candidate.id)
        if when is not None:
            # Due before the plan starts (history left it open): due in the first year.
            by = max(t for t, y in enumerate(plan_years) if y <= max(when, plan_years[0]))
            rows.append(([j * t_n + s for s in range(by + 1)], [1.0] * (by + 1), 1.0, np.inf))
    r_idx = [r for r, (cols, _, _, _) in enumerate(rows) for _ in cols]
    c_idx = [c for cols, _, _, _ in rows for c in cols]
    v = [x for _, vals, _, _ in rows for x in vals]
    matrix = csc_matrix(coo_matrix((v, (r_idx, c_idx)), shape=(len(rows), nb + nq)))
    objective = np.concatenate(
        [
            np.repeat(cost[:, None], t_n, axis=1).ravel() * np.tile(disc, n),
            np.full(nq, float(pile_cost)) * np.tile(disc, len(counties)),
        ]
    )
    solved = highs_mip(
        objective,
        matrix,
        np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows]),
        np.ones(nb + nq, dtype=bool),
        np.concatenate([np.ones(nb), np.full(nq, np.inf)]),
        False,
        time_limit,
        0.0,
    )
    if isinstance(solved, str):
        notes.append("no plan meets every year's rules within the money and counts given")
        return PhasePlan(
            start,
            [],
            [],
            "none",
            solved,
            0.0,
            0.0,
            0.0,
            time.perf_counter() - started,
            uncoverable,
            notes,
        )
    values, status, obj, bound, gap = solved
    b = np.rint(values[:nb]).reshape(n, t_n)
    q = np.rint(values[nb:]).reshape(len(counties), t_n)
    out_years = []
    for t, year in enumerate(plan_years):
        sites = [(options[j].candidate.id, int(piles[j])) for j in range(n) if b[j, t]]
        extra = {c: int(q[k, t]) for k, c in enumerate(counties) if q[k, t]}
        spent = sum((options[j].cost for j in range(n) if b[j, t]), Decimal(0)) + pile_cost * int(
            q[:, t].sum()
        )
        where = [(options[j].candidate.lat, options[j].candidate.lon) for j in range(n) if b[j, t]]
        out_years.append(PhaseYear(year, sites, extra, spent, where))
    plan = PhasePlan(
        start,
        out_years,
        [],
        "highs",
        status,
        obj,
        bound,
        max(gap, 0.0),
        time.perf_counter() - started,
        uncoverable,
        notes,
    )
    plan.claims = claims(plan, points, options, distance, existing, county_of, pile_targets, built)
    if rule_claims is not None:
        for y in plan.years:
            plan.claims += rule_claims(y.year, plan.built_by(y.year))
    return plan


def claims(
    plan: PhasePlan,
    points: Sequence[PhasePoint],
    options: Sequence[SiteOption],
    distance: DistanceModel,
    existing: Sequence[Existing],
    county_of: Mapping[str, str | None],
    pile_targets: Mapping[tuple[str, int], int],
    built: Mapping[tuple[str, int], int],
) -> list[Claim]:
    """Every rule the plan claims in each planned year, measured on the plan itself:
    the places within the year's distance of a station standing by then (built or
    planned), and each county's new piles against its target."""
    by_id = {o.candidate.id: o for o in options}
    out: list[Claim] = []
    for y in plan.years:
        standing = [(e.lat, e.lon) for e in existing if e.since <= y.year]
        standing += [
            (by_id[c].candidate.lat, by_id[c].candidate.lon) for c in plan.built_by(y.year)
        ]
        rules = sorted({p.rule for p in points if y.year in p.radius_m})
        for rule in rules:
            pts = [p for p in points if p.rule == rule and y.year in p.radius_m]
            if standing:
                near = distance.nearest(
                    np.array([p.lat for p in pts]),
                    np.array([p.lon for p in pts]),
                    np.array([s[0] for s in standing]),
                    np.array([s[1] for s in standing]),
                )
                ok = int(sum(d <= p.radius_m[y.year] for d, p in zip(near, pts, strict=True)))
            else:
                ok = 0
            beyond = set(plan.uncoverable.get(y.year, []))
            out_of_reach = sum(p.id in beyond for p in pts)
            out.append(
                Claim(
                    y.year,
                    rule,
                    "distance",
                    rule,
                    float(len(pts) - out_of_reach),
                    float(ok),
                    ok >= len(pts) - out_of_reach,
                    f"{ok} of {len(pts)} within the year's distance"
                    + (f"; {out_of_reach} beyond every candidate" if out_of_reach else ""),
                )
            )
        for (county, year), target in sorted(pile_targets.items()):
            if year != y.year:
                continue
            planned = sum(n for c, n in y.sites if county_of.get(c) == county)
            planned += y.extra_piles.get(county, 0)
            have = built.get((county, year), 0) + planned
            out.append(
                Claim(
                    year,
                    f"new_piles:{county}",
                    "county_piles",
                    county,
                    float(target),
                    float(have),
                    have >= target,
                    f"{built.get((county, year), 0)} built + {planned} planned",
                )
            )
    return out
