"""The live charger index: every station's position and its connectors' live status in
memory, on a grid, so that "the nearest available DC connector" is answered without a
database round trip.

It is loaded from state once, then kept current from the bus (`app/finder_feed.py`):
status and presence events change it in place, registry events and stop orders reload the
stations they concern (a charger under a stop order in force shows `unavailable`). Reports
are applied by the store's own rule (`core.status.newest_report`), so after any order of
arrival it holds what the store holds.

Nearest search walks rings of grid cells outwards from the query point and stops as soon
as the ring still to visit cannot hold anything closer than the k-th best found so far.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypedDict
from zoneinfo import ZoneInfo

from chargenet.core.access import Principal, Role
from chargenet.core.registry import public_hours
from chargenet.core.registry.model import Access, PowerType
from chargenet.core.registry.public_hours import PublicHours
from chargenet.core.status import ConnectorStatus, effective_status, newest_report
from chargenet.core.tariffs import DayTariff
from chargenet.kit.aio import wait_at_most
from chargenet.kit.geo import haversine_m

CELL_DEG = 0.02  # about 2.2 km north-south: a few stations per cell in a city
METRES_PER_DEG = 111_195.0  # along a meridian, mean Earth radius
MAX_RADIUS_M = 300_000.0


class FinderConnectorRow(TypedDict):
    """A connector in service with its live status and its charger's presence."""

    connector_id: str
    charger_id: str
    standard: str
    power_type: str  # a `PowerType` value
    max_power_w: int
    reported_status: str | None  # a `ConnectorStatus` value, as reported
    status_since: datetime | None
    status_at: datetime | None  # the newest status report applied
    charger_online: bool | None  # None: presence not tracked
    presence_since: datetime | None
    presence_at: datetime | None
    stopped: bool  # its charger is under a stop order in force


class FinderRow(TypedDict):
    """A station in service with one of its connectors in service (a row per connector),
    or with None when it has none (`FinderSource.finder_rows`)."""

    station_id: str
    operator_id: str
    name: str
    name_en: str | None
    address: str | None
    lat: float
    lon: float
    access: str  # an `Access` value
    category: str
    opening_hours: str
    public_hours: str | None
    province_code: str | None
    city_code: str | None
    county_code: str | None
    township_code: str | None
    village_code: str | None
    connector: FinderConnectorRow | None


@dataclass(slots=True)
class ConnectorEntry:
    connector_id: str
    charger_id: str
    standard: str
    power_type: PowerType
    max_power_w: int
    reported: ConnectorStatus | None
    status_since: datetime | None
    status_at: datetime | None  # the newest status report applied


@dataclass(slots=True)
class StationEntry:
    station_id: str
    operator_id: str
    name: str
    name_en: str | None
    address: str | None
    lat: float
    lon: float
    access: Access
    category: str
    opening_hours: str
    chain: tuple[str | None, ...]  # province, city, county, township, village codes
    public_hours: PublicHours | None = None  # when it is open to the public (R39)
    connectors: list[ConnectorEntry] = field(default_factory=list)

    @property
    def area_code(self) -> str | None:
        return next((c for c in reversed(self.chain) if c), None)


@dataclass(frozen=True, slots=True)
class Price:
    """A price per kWh (energy and service together) where one is known, with its origin."""

    per_kwh: Decimal
    currency: str
    source: str  # "tariff" (from the operator) or "observed" (recent sessions' cost / energy)


@dataclass(frozen=True, slots=True)
class ParkingFee:
    """What parking at a station costs, as its operator published it: a price per hour
    (an OCPI tariff's PARKING_TIME component, OCPI 2.2.1 §11.4.2, VAT included where
    stated) or the operator's own words (T/CEC 102 StationInfo ParkFee, free text). A
    station without either has no entry: unknown, never free."""

    source: str  # "ocpi_tariff" or "tcec"
    per_hour: Decimal | None = None
    currency: str | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Filters:
    open_now: bool = False  # only stations open to the public now (their public hours)
    available_now: bool = False
    dc_only: bool = False
    min_power_w: int = 0
    operator_id: str | None = None
    standard: str | None = None

    def keeps(self, connector: ConnectorEntry, status: ConnectorStatus) -> bool:
        if self.available_now and status is not ConnectorStatus.AVAILABLE:
            return False
        if self.dc_only and connector.power_type is not PowerType.DC:
            return False
        if connector.max_power_w < self.min_power_w:
            return False
        return self.standard is None or connector.standard == self.standard


@dataclass(frozen=True, slots=True)
class Hit:
    station: StationEntry
    distance_m: float
    connectors: list[tuple[ConnectorEntry, ConnectorStatus]]  # those that pass the filters


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG)


HEARD_KEPT = 10_000  # ids of applied changes kept for pages waiting on one


class LiveIndex:
    def __init__(self, zone: str = "Asia/Shanghai") -> None:
        self.zone = ZoneInfo(zone)  # stations' local time: when a time-of-use price applies
        self.stations: dict[str, StationEntry] = {}
        self._grid: dict[tuple[int, int], list[StationEntry]] = {}
        self._by_connector: dict[str, tuple[StationEntry, ConnectorEntry]] = {}
        self._charger_station: dict[str, str] = {}
        self._online: dict[str, bool | None] = {}
        self._presence_since: dict[str, datetime | None] = {}
        self._presence_at: dict[str, datetime | None] = {}  # the newest presence report applied
        self._stopped: set[str] = set()  # chargers under a stop order in force
        self.prices: dict[str, Price] = {}
        self.tariffs: dict[str, DayTariff] = {}  # operators' day tariffs, by station
        self.parking: dict[str, ParkingFee] = {}  # published parking fees, by station
        self.loaded = False
        # The ids of the newest changes people make (registry, stop orders, prices) that
        # the index has applied, oldest first: a page waits on one (`caught_up`) to show
        # what its action changed. Status and presence reports are not kept: they come in
        # storms and would push an action's id out before its page asks.
        self._heard: dict[str, None] = {}
        self._news: asyncio.Event | None = None
        # Occupied cells lie within these cell indices: a search that has covered them stops.
        self._bounds = (0, -1, 0, -1)

    def price(self, station_id: str, at: datetime) -> Price | None:
        """The price in force at a station at a time: its operator's day tariff (energy
        plus service, for the local time of day) where one is published and in force,
        else what its recent sessions cost per kWh."""
        tariff = self.tariffs.get(station_id)
        if tariff is not None:
            local = at.astimezone(self.zone)
            total = tariff.total_at(local.time()) if tariff.in_force(local.date()) else None
            if total is not None:
                return Price(per_kwh=total, currency=tariff.currency, source="tariff")
        return self.prices.get(station_id)

    # --- filling and keeping current --------------------------------------------------------

    def load(self, rows: Iterable[FinderRow]) -> None:
        """Replace the whole index with these rows (one per connector, station fields on
        each, as `FinderSource.finder_rows` gives them)."""
        self.stations.clear()
        self._grid.clear()
        self._by_connector.clear()
        self._charger_station.clear()
        self._online.clear()
        self._presence_since.clear()
        self._presence_at.clear()
        self._stopped.clear()
        self._bounds = (0, -1, 0, -1)
        self._add_rows(rows)
        self.loaded = True

    def replace_stations(self, station_ids: Iterable[str], rows: Iterable[FinderRow]) -> None:
        """Reload some stations (after registry events) from fresh rows; stations with no
        rows left (retired) drop out."""
        for station_id in station_ids:
            self._remove(station_id)
        self._add_rows(rows)

    def _add_rows(self, rows: Iterable[FinderRow]) -> None:
        for row in rows:
            station = self.stations.get(row["station_id"])
            if station is None:
                station = StationEntry(
                    station_id=row["station_id"],
                    operator_id=row["operator_id"],
                    name=row["name"],
                    name_en=row["name_en"],
                    address=row["address"],
                    lat=row["lat"],
                    lon=row["lon"],
                    access=Access(row["access"]),
                    category=row["category"],
                    opening_hours=row["opening_hours"],
                    public_hours=_public_hours(row["public_hours"]),
                    chain=(
                        row["province_code"],
                        row["city_code"],
                        row["county_code"],
                        row["township_code"],
                        row["village_code"],
                    ),
                )
                self.stations[station.station_id] = station
                i, j = _cell(station.lat, station.lon)
                self._grid.setdefault((i, j), []).append(station)
                if self._bounds[0] > self._bounds[1]:
                    self._bounds = (i, i, j, j)
                else:
                    lo_i, hi_i, lo_j, hi_j = self._bounds
                    self._bounds = (min(lo_i, i), max(hi_i, i), min(lo_j, j), max(hi_j, j))
            part = row["connector"]
            if part is None:
                continue
            reported = part["reported_status"]
            connector = ConnectorEntry(
                connector_id=part["connector_id"],
                charger_id=part["charger_id"],
                standard=part["standard"],
                power_type=PowerType(part["power_type"]),
                max_power_w=part["max_power_w"],
                reported=ConnectorStatus(reported) if reported else None,
                status_since=part["status_since"],
                status_at=part["status_at"],
            )
            station.connectors.append(connector)
            self._by_connector[connector.connector_id] = (station, connector)
            self._charger_station[connector.charger_id] = station.station_id
            self._online[connector.charger_id] = part["charger_online"]
            self._presence_since[connector.charger_id] = part["presence_since"]
            self._presence_at[connector.charger_id] = part["presence_at"]
            if part["stopped"]:
                self._stopped.add(connector.charger_id)

    def _remove(self, station_id: str) -> None:
        station = self.stations.pop(station_id, None)
        if station is None:
            return
        cell = self._grid.get(_cell(station.lat, station.lon), [])
        if station in cell:
            cell.remove(station)
        for connector in station.connectors:
            self._by_connector.pop(connector.connector_id, None)
            self._charger_station.pop(connector.charger_id, None)
            self._stopped.discard(connector.charger_id)

    def heard(self, event_ids: Iterable[str]) -> None:
        """These events are applied: what they changed is what the index now answers."""
        for event_id in event_ids:
            self._heard[event_id] = None
        while len(self._heard) > HEARD_KEPT:
            del self._heard[next(iter(self._heard))]
        if self._news is not None:
            self._news.set()
            self._news = None

    async def caught_up(self, event_id: str, within_s: float) -> bool:
        """Whether the index has applied the event `event_id` (one `heard` names), waiting
        for it at most `within_s`; False when it has not by then."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while event_id not in self._heard:
            left = deadline - loop.time()
            if left <= 0:
                return False
            if self._news is None:
                self._news = asyncio.Event()
            try:
                await wait_at_most(self._news.wait(), left)
            except TimeoutError:
                return False
        return True

    def station_of_charger(self, charger_id: str) -> str | None:
        return self._charger_station.get(charger_id)

    def stopped_stations(self) -> set[str]:
        """Stations with a charger under a stop order in force."""
        return {s for c in self._stopped if (s := self._charger_station.get(c)) is not None}

    def stopped(self, charger_id: str) -> bool:
        return charger_id in self._stopped

    def set_status(self, connector_id: str, status: ConnectorStatus, at: datetime) -> bool:
        """Apply a status report that occurred at `at`; False when the connector is unknown
        here or the report is late (`newest_report`)."""
        found = self._by_connector.get(connector_id)
        if found is None:
            return False
        connector = found[1]
        now = newest_report(
            connector.reported, connector.status_since, connector.status_at, status, at
        )
        if now is None:
            return False
        connector.reported, connector.status_since, connector.status_at = now
        return True

    def set_presence(self, charger_id: str, online: bool, at: datetime) -> bool:
        """Apply a presence change that occurred at `at`; False when the charger is unknown
        here or the change is late (`newest_report`)."""
        if charger_id not in self._charger_station:
            return False
        now = newest_report(
            self._online.get(charger_id),
            self._presence_since.get(charger_id),
            self._presence_at.get(charger_id),
            online,
            at,
        )
        if now is None:
            return False
        (
            self._online[charger_id],
            self._presence_since[charger_id],
            self._presence_at[charger_id],
        ) = now
        return True

    # --- reading ----------------------------------------------------------------------------

    def status(self, connector: ConnectorEntry) -> ConnectorStatus:
        charger_id = connector.charger_id
        return effective_status(
            connector.reported, self._online.get(charger_id), charger_id in self._stopped
        )

    def online(self, charger_id: str) -> bool | None:
        return self._online.get(charger_id)

    def summary(self, station: StationEntry) -> dict[str, int]:
        counts = {s.value: 0 for s in ConnectorStatus}
        for connector in station.connectors:
            counts[self.status(connector).value] += 1
        return counts

    def open_now(self, station: StationEntry, at: datetime | None = None) -> bool:
        """Whether the public may charge there at `at` (now): always at a public station
        without public hours; in its public hours otherwise (local time of the zone)."""
        if station.public_hours is None:
            return station.access is Access.PUBLIC
        local = (at or datetime.now(UTC)).astimezone(self.zone)
        return public_hours.open_at(station.public_hours, local.replace(tzinfo=None))

    @staticmethod
    def visible(station: StationEntry, viewer: Principal | None) -> bool:
        """Public-access stations, and those open to the public in stated hours, for
        everyone; the rest for those whose scope holds them (None: an internal caller,
        who sees everything)."""
        if station.access is Access.PUBLIC or station.public_hours is not None:
            return True
        if viewer is None or viewer.everywhere:
            return True
        if viewer.role is Role.REGULATOR and viewer.area_code:
            return viewer.area_code in station.chain or viewer.sees_area(station.area_code)
        return viewer.in_scope(station.operator_id, station.area_code)

    def matching(
        self, station: StationEntry, filters: Filters, at: datetime | None = None
    ) -> list[tuple[ConnectorEntry, ConnectorStatus]]:
        if filters.operator_id is not None and station.operator_id != filters.operator_id:
            return []
        if filters.open_now and not self.open_now(station, at):
            return []
        # Free right now means free to the public right now: a station outside its public
        # hours has nothing available to a driver, whatever its connectors report.
        if (
            filters.available_now
            and station.public_hours is not None
            and not self.open_now(station, at)
        ):
            return []
        out = []
        for connector in station.connectors:
            status = self.status(connector)
            if filters.keeps(connector, status):
                out.append((connector, status))
        return out

    def nearest(
        self,
        lat: float,
        lon: float,
        filters: Filters,
        *,
        limit: int = 10,
        radius_m: float = 50_000.0,
        viewer: Principal | None = None,
        at: datetime | None = None,
    ) -> list[Hit]:
        """The `limit` nearest stations within `radius_m` with a connector passing `filters`
        (at `at`, now by default: whether a station is open to the public)."""
        radius_m = min(radius_m, MAX_RADIUS_M)
        best: list[tuple[float, int, Hit]] = []  # max-heap by distance (negated)
        ci, cj = _cell(lat, lon)
        ring = 0
        seq = 0
        while True:
            for cell in _ring(ci, cj, ring):
                for station in self._grid.get(cell, ()):
                    if not self.visible(station, viewer):
                        continue
                    distance = haversine_m(lat, lon, station.lat, station.lon)
                    if distance > radius_m:
                        continue
                    if len(best) == limit and distance >= -best[0][0]:
                        continue
                    passing = self.matching(station, filters, at)
                    if not passing:
                        continue
                    seq += 1
                    item = (-distance, seq, Hit(station, distance, passing))
                    if len(best) < limit:
                        heapq.heappush(best, item)
                    else:
                        heapq.heapreplace(best, item)
            # Everything in rings beyond `ring` is at least `ring` whole cells away.
            reach = ring * _min_cell_m(lat, ring + 1)
            if (len(best) == limit and reach >= -best[0][0]) or reach > radius_m:
                break
            lo_i, hi_i, lo_j, hi_j = self._bounds
            if ci - ring <= lo_i and ci + ring >= hi_i and cj - ring <= lo_j and cj + ring >= hi_j:
                break  # every occupied cell has been visited
            ring += 1
        return [hit for _, _, hit in sorted(best, key=lambda item: -item[0])]

    def in_area(self, area_code: str | None, viewer: Principal | None) -> Iterator[StationEntry]:
        for station in self.stations.values():
            if area_code is not None and area_code not in station.chain:
                continue
            if self.visible(station, viewer):
                yield station

    def search(self, text: str, viewer: Principal | None, *, limit: int = 10) -> list[StationEntry]:
        """Stations whose name (Chinese or English), address or id holds `text` (any case),
        those whose name starts with it first, then by name."""
        needle = text.strip().casefold()
        if not needle:
            return []
        found: list[tuple[int, str, StationEntry]] = []
        for station in self.stations.values():
            names = (station.name.casefold(), (station.name_en or "").casefold())
            where = (station.address or "").casefold()
            if any(n.startswith(needle) for n in names):
                rank = 0
            elif any(needle in n for n in names):
                rank = 1
            elif needle in where or needle == station.station_id.casefold():
                rank = 2
            else:
                continue
            if self.visible(station, viewer):
                found.append((rank, station.name, station))
        found.sort(key=lambda item: (item[0], item[1]))
        return [station for _, _, station in found[:limit]]

    def linear_nearest(
        self,
        lat: float,
        lon: float,
        filters: Filters,
        *,
        limit: int = 10,
        radius_m: float = 50_000.0,
    ) -> list[Hit]:
        """The same answer by scanning every station: the baseline the benchmark compares."""
        hits = []
        for station in self.stations.values():
            distance = haversine_m(lat, lon, station.lat, station.lon)
            if distance > radius_m:
                continue
            passing = self.matching(station, filters)
            if passing:
                hits.append(Hit(station, distance, passing))
        hits.sort(key=lambda h: h.distance_m)
        return hits[:limit]


def _public_hours(text: str | None) -> PublicHours | None:
    return public_hours.parse(text) if text else None


def _min_cell_m(lat: float, rings: int) -> float:
    """The shortest side of a cell anywhere within `rings` cells of latitude `lat`."""
    worst_lat = min(89.0, abs(lat) + rings * CELL_DEG)
    return CELL_DEG * METRES_PER_DEG * math.cos(math.radians(worst_lat))


def _ring(ci: int, cj: int, r: int) -> Iterator[tuple[int, int]]:
    if r == 0:
        yield ci, cj
        return
    for dj in range(-r, r + 1):
        yield ci - r, cj + dj
        yield ci + r, cj + dj
    for di in range(-r + 1, r):
        yield ci + di, cj - r
        yield ci + di, cj + r
