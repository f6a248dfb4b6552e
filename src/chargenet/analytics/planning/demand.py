"""Charging demand per place and hour: what the platform's own sessions show (corrected
for the drivers busy chargers turned away), what the vehicle stock and its planned growth
imply where there is nothing to observe yet, and the user's population and traffic
figures where given. Every village is weighted by the demand it carries rather than
counted as one.

The model, its parameters and its assumptions are written out in docs/planning.md
("Demand"); each function below names the step it implements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chargenet.analytics.planning.model import AreaPoint
from chargenet.core.areas import AreaLevel

HOURS = 24
# A typical public-charging day when nothing is observed: share of the day's sessions
# starting in each local hour (evening peak at 18:00-20:00, a smaller one at noon).
_PERCENT = (
    "1.0 0.6 0.4 0.3 0.3 0.6 1.6 3.4 5.0 5.4 5.6 6.0 "  # 00:00-11:00
    "6.4 5.8 5.4 5.4 5.8 6.6 7.6 7.8 6.8 5.2 3.4 2.0"  # 12:00-23:00
)
DEFAULT_PROFILE: tuple[float, ...] = tuple(float(w) / 100.0 for w in _PERCENT.split())


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One charging session as the read side holds it (UTC instants)."""

    station_id: str
    started_at: datetime
    ended_at: datetime | None
    energy_wh: int | None


@dataclass(frozen=True, slots=True)
class StationUse:
    """A station's observed use over a window, and what its busy hours hid."""

    station_id: str
    county: str | None
    ports: int
    days: float
    sessions_day: float
    kwh_day: float
    busy_hour: int  # local hour with the most port-hours in use
    carried_erlangs: float  # ports in use, on average, in the busy hour
    offered_erlangs: float  # the load drivers brought: carried / (1 - blocking)
    profile: tuple[float, ...]  # share of the day's sessions starting in each local hour

    @property
    def uplift(self) -> float:
        """Offered ÷ carried: how much more demand there was than the chargers served."""
        return self.offered_erlangs / self.carried_erlangs if self.carried_erlangs else 1.0


@dataclass(frozen=True, slots=True)
class DemandAssumptions:
    """The model's parameters; docs/planning.md gives the reasoning behind each default."""

    kwh_per_ev_day: float = 7.5  # 15,000 km a year × 0.18 kWh/km ÷ 365
    public_share: float = 0.35  # share of that energy charged at public chargers
    session_kwh: float = 25.0  # energy of one public session
    min_public_share: float = 0.05  # bounds on a county's share measured from sessions
    max_public_share: float = 1.0
    max_uplift: float = 2.0  # a saturated station's demand is at most this × what it served
    ev_share_of_traffic: float = 0.05  # EVs among passing vehicles (traffic input)
    stop_rate: float = 0.02  # share of passing EVs that stop to charge
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class PointDemand:
    """Demand at a place (a village, a township seat …) in a year."""

    code: str
    lat: float
    lon: float
    county: str | None
    kwh_day: float
    sessions_day: float
    peak_sessions_hour: float  # sessions arriving in the busiest hour
    basis: str  # observed | stock | default, plus "+traffic" where traffic added to it


@dataclass
class DemandModel:
    year: int
    points: list[PointDemand]
    counties: dict[str, dict[str, Any]] = field(default_factory=dict)
    stations: list[StationUse] = field(default_factory=list)
    profile: tuple[float, ...] = DEFAULT_PROFILE
    notes: list[str] = field(default_factory=list)

    def weights(self) -> dict[str, float]:
        return {p.code: p.kwh_day for p in self.points}

    def total_kwh_day(self) -> float:
        return sum(p.kwh_day for p in self.points)


# --- Erlang B: turned-away drivers ----------------------------------------------------


def erlang_b(offered: float, servers: int) -> float:
    """Probability that an arriving driver finds every port busy (Erlang's loss formula,
    by the stable recursion B(0)=1, B(c) = A·B(c−1) / (c + A·B(c−1)))."""
    if servers <= 0:
        return 1.0
    b = 1.0
    for c in range(1, servers + 1):
        b = offered * b / (c + offered * b)
    return b


def offered_load(carried: float, servers: int, max_uplift: float = 2.0) -> float:
    """The load drivers offered, given what the ports carried: solves A·(1 − B(A, c)) =
    carried by bisection (the left side grows with A). A station busy all the time
    cannot say how many were turned away; the answer is capped at `max_uplift` × carried."""
    if carried <= 0 or servers <= 0:
        return max(carried, 0.0)
    cap = carried * max_uplift
    if cap * (1 - erlang_b(cap, servers)) <= carried:
        return cap
    lo, hi = carried, cap
    for _ in range(60):
        mid = (lo + hi) / 2
        if mid * (1 - erlang_b(mid, servers)) < carried:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# --- observed use -----------------------------------------------------------------------


def station_use(
    sessions: Iterable[SessionRecord],
    ports: Mapping[str, int],
    counties: Mapping[str, str | None],
    start: datetime,
    end: datetime,
    assumptions: DemandAssumptions | None = None,
) -> list[StationUse]:
    """Step 1: each station's sessions, energy and busy-hour occupancy over [start, end),
    and the offered load behind that occupancy (Erlang B with the station's ports)."""
    a = assumptions or DemandAssumptions()
    tz = ZoneInfo(a.timezone)
    days = max((end - start).total_seconds() / 86_400.0, 1 / 24)
    count: dict[str, int] = {}
    energy: dict[str, float] = {}
    starts: dict[str, list[float]] = {}
    occupancy: dict[str, list[float]] = {}
    for s in sessions:
        if s.started_at < start or s.started_at >= end:
            continue
        sid = s.station_id
        count[sid] = count.get(sid, 0) + 1
        energy[sid] = energy.get(sid, 0.0) + (s.energy_wh or 0) / 1000.0
        local = s.started_at.astimezone(tz)
        starts.setdefault(sid, [0.0] * HOURS)[local.hour] += 1
        occ = occupancy.setdefault(sid, [0.0] * HOURS)
        stop = min(s.ended_at or s.started_at, end)
        # Spread the session's time over the local hours it spans.
        t = local
        left = max((stop - s.started_at).total_seconds() / 3600.0, 0.0)
        first = 1 - (t.minute * 60 + t.second) / 3600.0
        hour = t.hour
        chunk = min(left, first)
        while left > 1e-9:
            occ[hour] += chunk
            left -= chunk
            hour = (hour + 1) % HOURS
            chunk = min(left, 1.0)
    out = []
    for sid, n in sorted(count.items()):
        occ = occupancy[sid]
        busy = max(range(HOURS), key=lambda h: occ[h])
        carried = occ[busy] / days
        c = max(ports.get(sid, 1), 1)
        offered = offered_load(carried, c, a.max_uplift)
        total = sum(starts[sid])
        out.append(
            StationUse(
                station_id=sid,
                county=counties.get(sid),
                ports=c,
                days=days,
                sessions_day=n / days,
                kwh_day=energy[sid] / days,
                busy_hour=busy,
                carried_erlangs=carried,
                offered_erlangs=offered,
                profile=tuple(x / total for x in starts[sid]),
            )
        )
    return out


def pooled_profile(uses: Sequence[StationUse]) -> tuple[float, ...]:
    """The hourly profile of all observed sessions (each station weighted by its
    sessions), or the default when none was observed."""
    total = sum(u.sessions_day for u in uses)
    if total <= 0:
        return DEFAULT_PROFILE
    return tuple(sum(u.profile[h] * u.sessions_day for u in uses) / total for h in range(HOURS))


# --- vehicle stock and its growth ---------------------------------------------------------


def stock_in(
    year: int,
    known: Mapping[int, int],
    new_by_year: Mapping[int, float] | None = None,
    growth: float | None = None,
) -> tuple[float, str]:
    """Step 2: EVs in an area at the end of `year`: the statistic when recorded; else the
    latest recorded stock plus the plans' new-vehicle targets for the years after it;
    else grown at `growth` a year (default: the last recorded year's growth)."""
    if year in known:
        return float(known[year]), f"recorded {year}"
    past = sorted(y for y in known if y < year)
    if not past:
        if new_by_year:
            return float(sum(v for y, v in new_by_year.items() if y <= year)), "plan targets"
        return 0.0, "unknown"
    base_year = past[-1]
    stock = float(known[base_year])
    rate = growth
    if rate is None and len(past) >= 2 and known[past[-2]] > 0:
        rate = known[base_year] / known[past[-2]] - 1
    how = []
    for y in range(base_year + 1, year + 1):
        if new_by_year and y in new_by_year:
            stock += new_by_year[y]
            how.append(f"{y} plan")
        else:
            stock *= 1 + (rate or 0.0)
            how.append(f"{y} +{(rate or 0.0):.0%}")
    return stock, f"recorded {base_year}; " + ", ".join(how)


# --- the whole model ----------------------------------------------------------------------


def build_demand(
    year: int,
    places: Sequence[AreaPoint],
    *,
    uses: Sequence[StationUse] = (),
    evs: Mapping[str, float] | None = None,  # county → EVs at the end of `year`
    evs_now: Mapping[str, float] | None = None,  # county → EVs during the observed window
    population: Mapping[str, float] | None = None,  # place code → residents
    traffic: Mapping[str, float] | None = None,  # place code → vehicles a day passing by
    assumptions: DemandAssumptions | None = None,
    levels: Sequence[AreaLevel] = (AreaLevel.VILLAGE,),
) -> DemandModel:
    """Step 3: demand per place in `year`.

    Per county: the public energy a day = EVs(year) × kWh per EV a day × the county's
    public share. The share is measured where the county has observed sessions —
    (observed kWh a day × the Erlang-B uplift) ÷ (EVs during the window × kWh per EV),
    bounded — else the assumed share. Within the county the energy goes to places in
    proportion to their residents when given, else equally; traffic adds the sessions of
    passing EVs at that place. Sessions and the busy hour follow from the session size
    and the hourly profile (observed, else the default)."""
    a = assumptions or DemandAssumptions()
    evs = evs or {}
    evs_now = evs_now or {}
    profile = pooled_profile(uses)
    pts = [p for p in places if p.level in levels and p.lat is not None and p.lon is not None]
    by_county: dict[str, list[AreaPoint]] = {}
    for p in pts:
        by_county.setdefault(p.county or "", []).append(p)
    observed: dict[str, float] = {}
    for u in uses:
        observed[u.county or ""] = observed.get(u.county or "", 0.0) + u.kwh_day * u.uplift
    counties: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    out: list[PointDemand] = []
    for county, members in sorted(by_county.items()):
        # The county's own hourly profile where its stations were observed, else the pooled.
        own = [u for u in uses if (u.county or "") == county]
        shape = pooled_profile(own) if own else profile
        peak_share = max(shape)
        stock = float(evs.get(county, 0.0))
        now = float(evs_now.get(county, 0.0)) or stock
        share, basis = a.public_share, "default"
        if county in observed and now > 0:
            share = observed[county] / (now * a.kwh_per_ev_day)
            share = min(max(share, a.min_public_share), a.max_public_share)
            basis = "observed"
        elif stock > 0:
            basis = "stock"
        if stock > 0:
            kwh = stock * a.kwh_per_ev_day * share
        elif county in observed:
            kwh = observed[county]  # no vehicle statistics: what was used is the floor
        else:
            kwh = 0.0
        counties[county] = {
            "evs": stock,
            "public_share": share,
            "kwh_day": kwh,
            "basis": basis,
            "busy_hour": max(range(HOURS), key=lambda h: shape[h]),
            # kWh by local hour of session start: the day's demand spread by the profile
            "hourly_kwh": [round(kwh * x, 3) for x in shape],
        }
        weights = [float((population or {}).get(p.code, 0.0)) for p in members]
        if sum(weights) <= 0:
            weights = [1.0] * len(members)
        total_w = sum(weights)
        for p, w in zip(members, weights, strict=True):
            k = kwh * w / total_w
            b = basis
            passing = float((traffic or {}).get(p.code, 0.0))
            if passing > 0:
                k += passing * a.ev_share_of_traffic * a.stop_rate * a.session_kwh
                b += "+traffic"
            sessions = k / a.session_kwh
            assert p.lat is not None and p.lon is not None
            out.append(
                PointDemand(p.code, p.lat, p.lon, p.county, k, sessions, sessions * peak_share, b)
            )
    if not uses:
        notes.append("no sessions observed: the assumed public share and hourly profile")
    if not evs:
        notes.append("no vehicle statistics: demand is what was observed, where observed")
    return DemandModel(year, out, counties, list(uses), profile, notes)
