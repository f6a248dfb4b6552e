"""The demo city: a reproducible (seeded) world built from the seeds.

Real: area names and codes (NBS 2023), county-seat positions, the plans' targets and
baselines (Xinzhou R10/R11, Liuzhou R12). Generated: township and village positions,
operators, stations and their equipment, vehicle counts per county, and all activity.
Stations per county and year follow the targets times a seeded factor, so plan vs actual
shows counties ahead and behind. See README "The demo city" and data/SOURCES.md.
"""

from __future__ import annotations

import csv
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chargenet.adapters.files.importer import ImportKind, read_file
from chargenet.app.planning import pack_events, shipped_packs
from chargenet.core.events import (
    AreaStatisticsRecorded,
    ChargerRegistered,
    Event,
    OperatorRegistered,
    Source,
    StationRegistered,
    SwapStationRegistered,
    SwapStationStatusChanged,
)
from chargenet.core.ids import (
    AreaCode,
    ChargerId,
    ConnectorId,
    EventId,
    OperatorId,
    StationId,
    SwapStationId,
)
from chargenet.core.registry.model import (
    Access,
    ChargerRecord,
    ConnectorRecord,
    ConnectorStandard,
    EvseRecord,
    OperatorRecord,
    PowerType,
    SiteCategory,
    StationRecord,
    SwapStationRecord,
    SwapVehicleType,
    connector_key,
)
from chargenet.core.registry.piles import is_pile
from chargenet.core.status import ConnectorStatus
from chargenet.demo.history import Equipment, history
from chargenet.kit.geo import haversine_m
from chargenet.kit.ids import stable_id

SOURCE = Source(adapter="demo")
LOCAL = ZoneInfo("Asia/Shanghai")
XINZHOU = "140900"
LIUZHOU = "450200"
DEMO_PROTOCOL = "demo"  # presence is tracked by the demo's own activity


def data_dir() -> Path:
    return Path(str(resources.files("chargenet.demo") / "data"))


# --- reading the shipped data -------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    code: str
    level: str
    parent: str | None
    name_zh: str
    name_en: str
    lat: float
    lon: float


def load_places() -> dict[str, Place]:
    with (data_dir() / "areas.csv").open(encoding="utf-8") as handle:
        return {
            row["code"]: Place(
                row["code"],
                row["level"],
                row["parent_code"] or None,
                row["name_zh"],
                row["name_en"],
                float(row["lat"] or "nan"),
                float(row["lon"] or "nan"),
            )
            for row in csv.DictReader(handle)
        }


def _target_rows(name: str) -> list[dict[str, str]]:
    path = data_dir() / "targets" / name
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=LOCAL).astimezone(UTC)


# --- station templates --------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A kind of station: where it goes, what stands there, who may use it."""

    kind: str
    category: SiteCategory
    access: Access
    chargers: tuple[int, int]  # min, max chargers
    guns: int  # connectors (EVSEs) per charger
    power_w: int
    power_type: PowerType
    place: str  # seat | township | village | city
    weight: float
    parking: tuple[int, int] = (10, 60)


PUBLIC_TEMPLATES = (
    Template(
        "hub",
        SiteCategory.PUBLIC_CAR_PARK,
        Access.PUBLIC,
        (3, 8),
        2,
        120_000,
        PowerType.DC,
        "seat",
        3.0,
        (40, 200),
    ),
    Template(
        "mall",
        SiteCategory.COMMERCIAL,
        Access.PUBLIC,
        (2, 6),
        2,
        60_000,
        PowerType.DC,
        "seat",
        2.0,
        (60, 400),
    ),
    Template(
        "hub_rail",
        SiteCategory.TRANSPORT_HUB,
        Access.PUBLIC,
        (2, 5),
        2,
        160_000,
        PowerType.DC,
        "seat",
        0.6,
        (100, 500),
    ),
    Template(
        "pr",
        SiteCategory.PARK_AND_RIDE,
        Access.PUBLIC,
        (2, 4),
        2,
        60_000,
        PowerType.DC,
        "seat",
        0.3,
        (50, 300),
    ),
    Template(
        "township",
        SiteCategory.PUBLIC_CAR_PARK,
        Access.PUBLIC,
        (1, 3),
        2,
        60_000,
        PowerType.DC,
        "township",
        3.0,
        (10, 60),
    ),
    Template(
        "village",
        SiteCategory.VILLAGE_POINT,
        Access.PUBLIC,
        (1, 2),
        1,
        7_000,
        PowerType.AC,
        "village",
        2.5,
        (4, 20),
    ),
    Template(
        "village_dc",
        SiteCategory.VILLAGE_POINT,
        Access.PUBLIC,
        (1, 1),
        2,
        40_000,
        PowerType.DC,
        "village",
        1.0,
        (4, 20),
    ),
    Template(
        "old_res",
        SiteCategory.RESIDENTIAL_OLD,
        Access.PUBLIC,
        (2, 6),
        1,
        7_000,
        PowerType.AC,
        "seat",
        1.2,
        (80, 400),
    ),
    Template(
        "institution",
        SiteCategory.INSTITUTION,
        Access.PUBLIC,
        (2, 5),
        1,
        7_000,
        PowerType.AC,
        "seat",
        0.8,
        (30, 150),
    ),
    Template(
        "park",
        SiteCategory.INDUSTRIAL_PARK,
        Access.PUBLIC,
        (2, 4),
        2,
        120_000,
        PowerType.DC,
        "township",
        0.5,
        (50, 300),
    ),
    Template(
        "trunk",
        SiteCategory.TRUNK_ROAD_PARKING,
        Access.PUBLIC,
        (1, 2),
        2,
        160_000,
        PowerType.DC,
        "township",
        0.4,
        (20, 80),
    ),
)

OTHER_TEMPLATES = (
    Template(
        "bus_depot",
        SiteCategory.FLEET_DEPOT,
        Access.DEDICATED,
        (4, 10),
        2,
        120_000,
        PowerType.DC,
        "seat",
        1.0,
        (40, 120),
    ),
    Template(
        "new_res",
        SiteCategory.RESIDENTIAL_NEW,
        Access.PRIVATE,
        (10, 30),
        1,
        7_000,
        PowerType.AC,
        "seat",
        2.0,
        (200, 1200),
    ),
)

OPERATORS = {
    XINZHOU: [
        ("XZ-JB", "晋北充电服务有限公司（演示）", "Jinbei Charging (demo)", 0.30),
        ("XZ-WT", "五台新能源科技有限公司（演示）", "Wutai New Energy (demo)", 0.15),
        ("XZ-FY", "汾源电动出行有限公司（演示）", "Fenyuan E-Mobility (demo)", 0.20),
        ("XZ-YM", "雁门充换电有限公司（演示）", "Yanmen Charge & Swap (demo)", 0.15),
        ("XZ-XC", "忻城公交能源有限公司（演示）", "Xincheng Transit Energy (demo)", 0.10),
        ("XZ-HH", "河曲黄河绿能有限公司（演示）", "Hequ Yellow River Green Energy (demo)", 0.10),
    ],
    LIUZHOU: [
        ("LZ-LJ", "柳江快充网络有限公司（演示）", "Liujiang Fast Charge (demo)", 0.30),
        ("LZ-LC", "龙城智慧充电有限公司（演示）", "Longcheng Smart Charging (demo)", 0.25),
        ("LZ-WL", "五菱桥充电服务有限公司（演示）", "Wulingqiao Charging (demo)", 0.20),
        ("LZ-SJ", "三江侗乡新能源有限公司（演示）", "Sanjiang Dong Village Energy (demo)", 0.10),
        ("LZ-GX", "桂中公交能源有限公司（演示）", "Guizhong Transit Energy (demo)", 0.15),
    ],
}

# Xinzhou's A-grade scenic spots (approximate positions near their county seats).
SCENIC = {
    XINZHOU: [
        ("五台山", "140922", 5),
        ("雁门关", "140923", 5),
        ("芦芽山", "140925", 4),
        ("老牛湾", "140932", 4),
        ("禹王洞", "140902", 3),
    ],
    LIUZHOU: [
        ("程阳八寨", "450226", 5),
        ("元宝山", "450225", 4),
        ("百朋荷苑", "450221", 3),
        ("窑埠古镇", "450202", 4),
    ],
}

# Schematic expressway corridors between county seats (not surveyed roads): used for the
# highway service areas of R23 and road-spacing checks of R22.
CORRIDORS = {
    XINZHOU: [
        ("G55", ["140902", "140981", "140923", "140924"]),
        ("G5512", ["140902", "140921", "140922"]),
        ("S45", ["140981", "140925", "140927", "140928", "140929"]),
        ("G1812", ["140932", "140930", "140931"]),
        ("S60", ["140902", "140926", "140929"]),
    ],
    LIUZHOU: [
        ("G72", ["450206", "450202", "450223"]),
        ("G65", ["450205", "450222", "450224", "450225", "450226"]),
    ],
}

HIGHWAY_SERVICE_AREAS = {XINZHOU: 18, LIUZHOU: 8}


@dataclass
class WorldBuilder:
    seed: int
    now: datetime
    places: dict[str, Place] = field(default_factory=load_places)
    events: list[Event] = field(default_factory=list)
    connectors: list[tuple[ConnectorId, ChargerId, PowerType]] = field(default_factory=list)
    chargers: list[ChargerId] = field(default_factory=list)
    built: dict[tuple[str, int], int] = field(default_factory=dict)  # public piles by city, year
    equipment: list[Equipment] = field(default_factory=list)  # for the recent past
    _n: int = 0
    _children: dict[tuple[str | None, str], list[Place]] | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # --- helpers --------------------------------------------------------------------------

    def meta(self, *parts: object, at: datetime | None = None) -> dict[str, Any]:
        return {
            "event_id": EventId(stable_id("demo", self.seed, *parts)),
            "source": SOURCE,
            "occurred_at": at or self.now,
            "received_at": self.now,
        }

    def children(self, code: str, level: str) -> list[Place]:
        # Indexed once: a scan of the ~4,400 places for each of the ~2,000 asks was a
        # tenth of the build.
        if self._children is None:
            self._children = {}
            for place in self.places.values():
                self._children.setdefault((place.parent, place.level), []).append(place)
        return list(self._children.get((code, level), ()))

    def counties(self, city: str) -> list[Place]:
        return sorted(self.children(city, "county"), key=lambda p: p.code)

    def jitter(self, lat: float, lon: float, metres: float) -> tuple[float, float]:
        angle = self.rng.uniform(0, 2 * math.pi)
        dist = metres * math.sqrt(self.rng.random())
        dlat = dist * math.cos(angle) / 111_320
        dlon = dist * math.sin(angle) / (111_320 * math.cos(math.radians(lat)))
        return round(lat + dlat, 6), round(lon + dlon, 6)

    def spot(self, county: Place, where: str) -> tuple[float, float, str]:
        """A position (and the area code it belongs to) for a station of this kind."""
        if where == "seat":
            lat, lon = self.jitter(county.lat, county.lon, 2_500)
            return lat, lon, county.code
        townships = self.children(county.code, "township")
        if not townships:
            lat, lon = self.jitter(county.lat, county.lon, 8_000)
            return lat, lon, county.code
        township = self.rng.choice(townships)
        if where == "township":
            lat, lon = self.jitter(township.lat, township.lon, 600)
            return lat, lon, township.code
        villages = self.children(township.code, "village") or [township]
        village = self.rng.choice(villages)
        lat, lon = self.jitter(village.lat, village.lon, 300)
        return lat, lon, village.code

    def day_in(self, year: int) -> date:
        start = date(year, 1, 1)
        end = min(date(year, 12, 31), self.now.astimezone(LOCAL).date() - timedelta(days=1))
        return start + timedelta(days=self.rng.randint(0, max((end - start).days, 0)))

    # --- world ----------------------------------------------------------------------------

    def build(self) -> list[Event]:
        self.areas()
        for city in (XINZHOU, LIUZHOU):
            self.operators(city)
        for city in (XINZHOU, LIUZHOU):
            self.highway(city)
            self.scenic(city)
            self.swap_stations(city)
        self.xinzhou()
        self.liuzhou()
        self.policy_packs()
        self.initial_status()
        return self.events

    def policy_packs(self) -> None:
        """The plans' targets and rules come from the shipped policy packs."""
        for text in shipped_packs().values():
            self.events += pack_events(text, self.now)

    def areas(self) -> None:
        result = read_file(data_dir() / "areas.csv", ImportKind.AREAS, self.now, adapter="demo")
        if result.errors:
            raise ValueError(f"shipped areas.csv has errors: {result.errors[:3]}")
        self.events += result.events

    def operators(self, city: str) -> None:
        for op_id, name, name_en, _ in OPERATORS[city]:
            uscc = (
                "91"
                + city
                + "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10))
            )
            record = OperatorRecord(
                operator_id=OperatorId(op_id),
                name=name,
                name_en=name_en,
                uscc=uscc,
                service_phone=f"0{350 if city == XINZHOU else 772}-{self.rng.randint(2, 9)}"
                f"{self.rng.randint(0, 999_999):06d}",
                licence_valid_until=date(2028, self.rng.randint(1, 12), 1),
                insurance_valid_until=date(
                    2026 + self.rng.randint(0, 2), self.rng.randint(1, 12), 1
                ),
            )
            at = _local_noon(date(2019, 1, 1))
            self.events.append(OperatorRegistered(**self.meta("op", op_id, at=at), operator=record))

    def pick_operator(self, city: str, kind: str) -> str:
        if kind == "bus_depot":
            return next(op_id for op_id, name, *_ in OPERATORS[city] if "公交" in name)
        ops = OPERATORS[city]
        return self.rng.choices([o[0] for o in ops], weights=[o[3] for o in ops])[0]

    def station(
        self,
        city: str,
        county: Place,
        template: Template,
        when: date,
        *,
        name: str | None = None,
        position: tuple[float, float, str] | None = None,
        scenic_grade: int | None = None,
        chargers: int | None = None,
        max_piles: int | None = None,
    ) -> int:
        """Register a station with its chargers; returns the piles it adds."""
        self._n += 1
        lat, lon, area = position or self.spot(county, template.place)
        station_id = StationId(f"{city[:4]}-{county.code}-{self._n:05d}")
        operator = self.pick_operator(city, template.kind)
        parking = self.rng.randint(*template.parking)
        n_chargers = chargers or self.rng.randint(*template.chargers)
        guns = template.guns
        if max_piles is not None:  # the last station of a year: no more than still needed
            n_chargers = max(1, min(n_chargers, -(-max_piles // guns)))
        charging_spaces = min(parking, n_chargers * guns)
        area_name = self.places[area].name_zh if area in self.places else county.name_zh
        label = name or f"{area_name}{_KIND_ZH[template.kind]}充电站"
        record = StationRecord(
            station_id=station_id,
            operator_id=OperatorId(operator),
            name=label,
            name_en=f"{self.places[area].name_en if area in self.places else county.name_en} "
            f"{_KIND_EN[template.kind]} charging station",
            lat=lat,
            lon=lon,
            area_code=AreaCode(area),
            category=template.category,
            access=template.access,
            scenic_grade=scenic_grade,
            parking_spaces=parking,
            charging_spaces=charging_spaces,
            opening_hours="24/7" if template.kind not in ("institution", "mall") else "07:00-22:00",
            commissioned_on=when,
            address=f"{county.name_zh}{area_name}",
        )
        at = _local_noon(when)
        self.events.append(StationRegistered(**self.meta("st", station_id, at=at), station=record))
        piles = 0
        for i in range(1, n_chargers + 1):
            charger_id = ChargerId(f"{station_id}-C{i:02d}")
            standard = (
                ConnectorStandard.GBT_DC
                if template.power_type is PowerType.DC
                else ConnectorStandard.GBT_AC
            )
            # A few village sockets are household 2 kW: registered, but not piles (R01).
            power = template.power_w
            if template.kind == "village" and self.rng.random() < 0.08:
                power, standard = 2_000, ConnectorStandard.HOUSEHOLD
            vendor, model = self.rng.choice(_VENDORS[template.power_type])
            evses = tuple(
                EvseRecord(
                    evse_no=g,
                    connectors=(
                        ConnectorRecord(
                            connector_no=1,
                            standard=standard,
                            power_type=template.power_type,
                            max_power_w=power,
                            max_voltage_v=750 if template.power_type is PowerType.DC else 220,
                            max_current_a=max(
                                1, power // (750 if template.power_type is PowerType.DC else 220)
                            ),
                        ),
                    ),
                )
                for g in range(1, guns + 1)
            )
            record_c = ChargerRecord(
                charger_id=charger_id,
                station_id=station_id,
                evses=evses,
                vendor=vendor,
                model=model,
                serial_number=f"SN{self.rng.randint(10**9, 10**10 - 1)}",
                firmware=".".join(str(self.rng.randint(0, 20)) for _ in range(3)),
                protocol=DEMO_PROTOCOL,
            )
            self.events.append(
                ChargerRegistered(**self.meta("ch", charger_id, at=at), charger=record_c)
            )
            self.chargers.append(charger_id)
            for g in range(1, guns + 1):
                self.connectors.append(
                    (connector_key(charger_id, g, 1), charger_id, template.power_type)
                )
                piles += is_pile(power)
            dc = template.power_type is PowerType.DC
            self.equipment.append(
                Equipment(
                    charger_id=charger_id,
                    operator_id=operator,
                    station_id=station_id,
                    public=template.access is Access.PUBLIC,
                    registered_at=at,
                    connectors=tuple(
                        (connector_key(charger_id, g, 1), power, dc) for g in range(1, guns + 1)
                    ),
                )
            )
        if template.access is Access.PUBLIC:
            self.built[(city, when.year)] = self.built.get((city, when.year), 0) + piles
        return piles

    def fill(
        self, city: str, county: Place, year: int, piles: int, templates: tuple[Template, ...]
    ) -> None:
        """Add stations in `county` commissioned in `year` until `piles` piles stand."""
        built = 0
        weights = [t.weight for t in templates]
        while built < piles:
            template = self.rng.choices(templates, weights=weights)[0]
            built += self.station(
                city, county, template, self.day_in(year), max_piles=piles - built
            )

    def xinzhou(self) -> None:
        counties = self.counties(XINZHOU)
        plan: dict[str, dict[int, int]] = {}
        for row in _target_rows("xinzhou_new_public_piles.csv"):
            if row["area_code"]:
                plan.setdefault(row["area_code"], {})[int(row["year"])] = int(row["value"])
        total_plan = sum(sum(v.values()) for v in plan.values())
        # End-2022 baseline: 720 piles (R10), spread like the plan, less what the service
        # areas and scenic spots already hold.
        before = sum(
            n for (city, year), n in self.built.items() if city == XINZHOU and year <= 2022
        )
        for county in counties:
            share = sum(plan.get(county.code, {}).values()) / total_plan
            baseline = round((720 - before) * share)
            for year in (2019, 2020, 2021, 2022):
                self.fill(
                    XINZHOU,
                    county,
                    year,
                    baseline // 4 + (year == 2022) * (baseline % 4),
                    PUBLIC_TEMPLATES,
                )
            for year in (2023, 2024, 2025):
                target = plan.get(county.code, {}).get(year, 0)
                factor = self.rng.uniform(0.7, 1.2)
                self.fill(XINZHOU, county, year, round(target * factor), PUBLIC_TEMPLATES)
            self.fill(
                XINZHOU,
                county,
                self.now.astimezone(LOCAL).year,
                round(sum(plan.get(county.code, {}).values()) * 0.08),
                PUBLIC_TEMPLATES,
            )
            self.fill(XINZHOU, county, 2024, round(60 * share * 14), OTHER_TEMPLATES)
        self.vehicles(
            XINZHOU,
            counties,
            {c.code: sum(plan.get(c.code, {}).values()) for c in counties},
            {2022: 12_407, 2023: 16_000, 2024: 21_000, 2025: 30_000},
            530_000,
        )

    def liuzhou(self) -> None:
        counties = self.counties(LIUZHOU)
        plan: dict[str, dict[int, int]] = {}
        for row in _target_rows("liuzhou_new_charging.csv"):
            if row["area_code"]:
                plan.setdefault(row["area_code"], {})[int(row["year"])] = int(row["value"])
        total_plan = sum(sum(v.values()) for v in plan.values()) or 1
        for county in counties:
            share = sum(plan.get(county.code, {}).values()) / total_plan
            for year in (2020, 2021, 2022):
                self.fill(LIUZHOU, county, year, round(1_500 * share), PUBLIC_TEMPLATES)
            for year in (2023, 2024, 2025):
                # The plan counts all new charging infrastructure; about 60% of it public.
                target = plan.get(county.code, {}).get(year, 0)
                factor = self.rng.uniform(0.75, 1.15)
                self.fill(LIUZHOU, county, year, round(target * 0.6 * factor), PUBLIC_TEMPLATES)
                self.fill(LIUZHOU, county, year, round(target * 0.4 * factor), OTHER_TEMPLATES)
        nevs: dict[str, dict[int, int]] = {}
        for row in _target_rows("liuzhou_new_nevs.csv"):
            if row["area_code"]:
                nevs.setdefault(row["area_code"], {})[int(row["year"])] = int(row["value"])
        weights = {c.code: sum(nevs.get(c.code, {}).values()) or 1 for c in counties}
        cumulative, totals = 150_000, {2022: 150_000}
        for year in (2023, 2024, 2025):
            cumulative += sum(v.get(year, 0) for v in nevs.values())
            totals[year] = cumulative
        self.vehicles(LIUZHOU, counties, weights, totals, 1_100_000)

    def vehicles(
        self,
        city: str,
        counties: list[Place],
        weights: dict[str, int],
        totals: dict[int, int],
        motor_2022: int,
    ) -> None:
        """Year-end EV and motor-vehicle counts per county (generated around real totals)."""
        total_weight = sum(weights.values()) or 1
        for year, total in totals.items():
            for county in counties:
                share = weights.get(county.code, 0) / total_weight
                ev = round(total * share * self.rng.uniform(0.9, 1.1))
                motor = round(
                    motor_2022 * share * (1.04 ** (year - 2022)) * self.rng.uniform(0.95, 1.05)
                )
                self.events.append(
                    AreaStatisticsRecorded(
                        **self.meta("stat", county.code, year, at=_local_noon(date(year, 12, 31))),
                        area_code=AreaCode(county.code),
                        year=year,
                        ev_count=ev,
                        motor_vehicles=motor,
                    )
                )
            self.events.append(
                AreaStatisticsRecorded(
                    **self.meta("stat", city, year, at=_local_noon(date(year, 12, 31))),
                    area_code=AreaCode(city),
                    year=year,
                    ev_count=total,
                    motor_vehicles=round(motor_2022 * 1.04 ** (year - 2022)),
                )
            )

    def highway(self, city: str) -> None:
        """Service areas spaced evenly along the corridors; the last ones not yet built."""
        points: list[tuple[float, float, str]] = []
        for _, seats in CORRIDORS[city]:
            path = [self.places[c] for c in seats if c in self.places]
            for a, b in itertools.pairwise(path):
                points.append(((a.lat + b.lat) / 2, (a.lon + b.lon) / 2, a.code))
        count = HIGHWAY_SERVICE_AREAS[city]
        years = (
            [2021] * (count // 2)
            + [2023] * (count // 4)
            + [2024] * (count - count // 2 - count // 4 - 1)
        )
        template = Template(
            "highway",
            SiteCategory.HIGHWAY_SERVICE_AREA,
            Access.PUBLIC,
            (2, 4),
            2,
            160_000,
            PowerType.DC,
            "seat",
            0,
            (60, 200),
        )
        for i in range(count):
            lat, lon, county_code = points[i % len(points)]
            lat, lon = self.jitter(lat, lon, 4_000 + 1_500 * (i // len(points)))
            county = self.places[county_code]
            name = f"{county.name_zh}服务区{i + 1}号"
            if i < len(years):  # the last service area has no charger yet (a gap to find)
                self.station(
                    city,
                    county,
                    template,
                    self.day_in(years[i]),
                    name=name,
                    position=(lat, lon, county_code),
                )

    def scenic(self, city: str) -> None:
        template = Template(
            "scenic",
            SiteCategory.SCENIC_SPOT,
            Access.PUBLIC,
            (1, 3),
            2,
            60_000,
            PowerType.DC,
            "seat",
            0,
            (80, 600),
        )
        for name, county_code, grade in SCENIC[city]:
            county = self.places.get(county_code)
            if county is None:
                continue
            lat, lon = self.jitter(county.lat, county.lon, 15_000)
            self.station(
                city,
                county,
                template,
                self.day_in(2023),
                name=f"{name}景区充电站",
                position=(lat, lon, county_code),
                scenic_grade=grade,
            )

    def swap_stations(self, city: str) -> None:
        plans = {
            XINZHOU: [
                ("140981", SwapVehicleType.MINING),
                ("140925", SwapVehicleType.HEAVY_TRUCK),
                ("140902", SwapVehicleType.TAXI),
                ("140931", SwapVehicleType.HEAVY_TRUCK),
            ],
            LIUZHOU: [
                ("450202", SwapVehicleType.TAXI),
                ("450204", SwapVehicleType.PASSENGER),
                ("450205", SwapVehicleType.LOGISTICS),
            ],
        }
        for n, (county_code, vehicle) in enumerate(plans[city], 1):
            county = self.places.get(county_code)
            if county is None:
                continue
            lat, lon = self.jitter(county.lat, county.lon, 5_000)
            ident = SwapStationId(f"{city[:4]}-SWAP-{n:02d}")
            record = SwapStationRecord(
                swap_station_id=ident,
                operator_id=OperatorId(self.pick_operator(city, "swap")),
                name=f"{county.name_zh}{_VEHICLE_ZH[vehicle]}换电站",
                lat=lat,
                lon=lon,
                vehicle_types=(vehicle,),
                bays=2 if vehicle in (SwapVehicleType.MINING, SwapVehicleType.HEAVY_TRUCK) else 1,
                battery_slots=self.rng.randint(8, 20),
                area_code=AreaCode(county_code),
                commissioned_on=self.day_in(2023),
                max_power_w=self.rng.choice((630_000, 1_250_000)),
            )
            at = _local_noon(record.commissioned_on or date(2023, 1, 1))
            self.events.append(
                SwapStationRegistered(**self.meta("swap", ident, at=at), swap_station=record)
            )
            self.events.append(
                SwapStationStatusChanged(
                    **self.meta("swap-status", ident),
                    swap_station_id=ident,
                    status=ConnectorStatus.AVAILABLE,
                    batteries_ready=record.battery_slots // 2,
                )
            )

    def initial_status(self) -> None:
        """The last 35 days, as the live city would have made them (demo/history.py):
        connections, faults and repairs, sessions; a few silent chargers and a few
        connectors broken or out of service now."""
        self.events += history(self.equipment, self.now, self.seed)


_KIND_ZH = {
    "hub": "中心",
    "mall": "商业",
    "hub_rail": "枢纽",
    "pr": "换乘",
    "township": "镇区",
    "village": "村",
    "village_dc": "村快充",
    "old_res": "小区",
    "institution": "机关",
    "park": "园区",
    "trunk": "国道停车区",
    "bus_depot": "公交场站",
    "new_res": "新建小区",
    "highway": "服务区",
    "scenic": "景区",
}
_KIND_EN = {
    "hub": "hub",
    "mall": "commercial",
    "hub_rail": "transport hub",
    "pr": "park and ride",
    "township": "township",
    "village": "village",
    "village_dc": "village fast",
    "old_res": "residential",
    "institution": "institution",
    "park": "industrial park",
    "trunk": "trunk-road parking",
    "bus_depot": "bus depot",
    "new_res": "new residential",
    "highway": "service area",
    "scenic": "scenic spot",
}
_VEHICLE_ZH = {
    SwapVehicleType.MINING: "矿卡",
    SwapVehicleType.HEAVY_TRUCK: "重卡",
    SwapVehicleType.TAXI: "出租车",
    SwapVehicleType.PASSENGER: "乘用车",
    SwapVehicleType.LOGISTICS: "物流车",
    SwapVehicleType.BUS: "公交",
    SwapVehicleType.OTHER: "",
}
_VENDORS = {
    PowerType.DC: [
        ("DemoPower", "DP-120D"),
        ("NorthGrid Tech", "NG-DC60"),
        ("Yellow River EV", "YR-160"),
    ],
    PowerType.AC: [("DemoPower", "DP-7A"), ("HomeVolt", "HV-AC7"), ("NorthGrid Tech", "NG-AC7")],
}


def demo_roads() -> list[dict[str, Any]]:
    """The schematic corridors as polylines [(lat, lon), …] for maps and road checks."""
    places = load_places()
    out = []
    for city, corridors in CORRIDORS.items():
        for ref, seats in corridors:
            path = [(places[c].lat, places[c].lon) for c in seats if c in places]
            length = sum(haversine_m(*a, *b) for a, b in itertools.pairwise(path))
            out.append({"city": city, "ref": ref, "points": path, "length_m": round(length)})
    return out


def build_world(seed: int, now: datetime) -> list[Event]:
    from chargenet.demo.ocpp_world import demo_fleet_events  # after the rest: ids stay

    builder = WorldBuilder(seed=seed, now=now)
    return builder.build() + demo_fleet_events(builder.places, seed, now)
