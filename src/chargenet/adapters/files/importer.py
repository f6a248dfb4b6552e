"""Read import files into events, reporting every bad row (file, line, field, reason).

A file is read whole before anything is ingested: the caller decides whether a file with
bad rows is refused (the default) or imported without them (`--skip-bad`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from chargenet.adapters.files.rows import (
    AreaRow,
    AreaStatisticsRow,
    ConnectorRow,
    FeederRow,
    GridConnectionRow,
    OperatorRow,
    StationRow,
    SwapStationRow,
    TargetRow,
)
from chargenet.core.events import (
    AreaRegistered,
    AreaStatisticsRecorded,
    ChargerRegistered,
    Event,
    EventMeta,
    FeederStated,
    GridConnectionStated,
    OperatorRegistered,
    Source,
    StationPublicHoursSet,
    StationRegistered,
    SwapStationRegistered,
    TargetSet,
    event_meta,
)
from chargenet.core.ids import (
    AreaCode,
    ChargerId,
    ConnectorId,
    OperatorId,
    StationId,
    SwapStationId,
)
from chargenet.core.registry.model import (
    ChargerRecord,
    ConnectorRecord,
    EvseRecord,
    OperatorRecord,
    StationRecord,
    SwapStationRecord,
    SwapVehicleType,
)
from chargenet.kit.geo import to_wgs84
from chargenet.kit.ids import stable_id

MAX_FILE_BYTES = 200 * 1024 * 1024


class ImportKind(StrEnum):
    AREAS = "areas"
    AREA_STATISTICS = "area_statistics"
    OPERATORS = "operators"
    STATIONS = "stations"
    CHARGERS = "chargers"
    SWAP_STATIONS = "swap_stations"
    TARGETS = "targets"
    FEEDERS = "feeders"  # orderly charging: shared feeders and transformers
    GRID_CONNECTIONS = "grid_connections"  # orderly charging: stations' grid connections


# Order in which kinds are imported when several files are given: what is referred to first.
IMPORT_ORDER = tuple(ImportKind)


@dataclass(frozen=True, slots=True)
class RowError:
    file: str
    line: int  # CSV: physical line of the row (header is line 1); JSON: item number (1-based)
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


@dataclass
class FileResult:
    path: Path
    kind: ImportKind
    rows: int = 0
    events: list[Event] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    lines: dict[str, list[int]] = field(default_factory=dict)  # event_id → source lines


def guess_kind(path: Path) -> ImportKind | None:
    """From the file name: `stations.csv`, `xinzhou-stations.json`, `area_statistics.csv`…"""
    stem = path.stem.lower().replace("-", "_")
    for kind in sorted(ImportKind, key=lambda k: -len(k.value)):
        if stem == kind.value or stem.endswith("_" + kind.value) or stem.startswith(kind.value):
            return kind
    if "connectors" in stem:
        return ImportKind.CHARGERS
    return None


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except RecursionError:
            # The parser recurses once per level: a file this deep is no table of rows.
            raise ValueError("JSON nested too deep: a list of row objects is expected") from None
        items = data.get("rows") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise ValueError('JSON must be a list of objects or {"rows": [...]}')
        for number, item in enumerate(items, 1):
            yield number, item if isinstance(item, dict) else {"__not_an_object__": item}
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        line = 1
        for record in reader:
            yield line + 1, record
            line = reader.line_num
        if reader.fieldnames is None:
            raise ValueError("CSV file has no header row")


def _errors_of(path: Path, line: int, exc: ValidationError) -> list[RowError]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"]) or "(row)"
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = "unknown column"
        out.append(RowError(path.name, line, loc, reason))
    return out


@dataclass
class _Reader:
    path: Path
    kind: ImportKind
    now: datetime
    adapter: str = "import"
    result: FileResult = field(init=False)

    def __post_init__(self) -> None:
        self.result = FileResult(self.path, self.kind)

    def error(self, line: int, fld: str, reason: str) -> None:
        self.result.errors.append(RowError(self.path.name, line, fld, reason))

    def add(self, event: Event, *lines: int) -> None:
        problems = event.problems()
        if problems:
            for p in problems:
                self.error(lines[0], "(record)", p)
            return
        self.result.events.append(event)
        self.result.lines[event.event_id] = list(lines)

    def meta(self, *parts: object) -> EventMeta:
        event_id = stable_id("import", self.kind.value, *parts)
        return event_meta(event_id, Source(adapter=self.adapter), self.now)


def _content_key(row: BaseModel, exclude: frozenset[str] = frozenset()) -> str:
    return json.dumps(
        row.model_dump(mode="json", exclude=set(exclude)), sort_keys=True, ensure_ascii=False
    )


def _areas(r: _Reader, rows: list[tuple[int, AreaRow]]) -> None:
    # Parents before children, whatever the order in the file.
    rows.sort(key=lambda item: item[1].level.depth)
    for line, row in rows:
        lat, lon = row.lat, row.lon
        if lat is not None and lon is not None:
            lat, lon = to_wgs84(lat, lon, row.datum)
        r.add(
            AreaRegistered(
                **r.meta(_content_key(row)),
                code=AreaCode(row.code),
                level=row.level,
                name_zh=row.name_zh,
                parent_code=AreaCode(row.parent_code) if row.parent_code else None,
                name_en=row.name_en,
                lat=round(lat, 6) if lat is not None else None,
                lon=round(lon, 6) if lon is not None else None,
            ),
            line,
        )


def _statistics(r: _Reader, rows: list[tuple[int, AreaStatisticsRow]]) -> None:
    for line, row in rows:
        r.add(
            AreaStatisticsRecorded(
                **r.meta(_content_key(row)),
                area_code=AreaCode(row.area_code),
                year=row.year,
                ev_count=row.ev_count,
                motor_vehicles=row.motor_vehicles,
                population=row.population,
            ),
            line,
        )


def _operators(r: _Reader, rows: list[tuple[int, OperatorRow]]) -> None:
    for line, row in rows:
        record = OperatorRecord(
            operator_id=OperatorId(row.operator_id),
            name=row.name,
            name_en=row.name_en,
            uscc=row.uscc,
            service_phone=row.service_phone,
            licence_valid_until=row.licence_valid_until,
            insurance_valid_until=row.insurance_valid_until,
        )
        r.add(OperatorRegistered(**r.meta(_content_key(row)), operator=record), line)


def _stations(r: _Reader, rows: list[tuple[int, StationRow]]) -> None:
    for line, row in rows:
        lat, lon = to_wgs84(row.lat, row.lon, row.datum)
        record = StationRecord(
            station_id=StationId(row.station_id),
            operator_id=OperatorId(row.operator_id),
            name=row.name,
            name_en=row.name_en,
            lat=round(lat, 6),
            lon=round(lon, 6),
            address=row.address,
            area_code=AreaCode(row.area_code) if row.area_code else None,
            category=row.category,
            scenic_grade=row.scenic_grade,
            access=row.access,
            parking_spaces=row.parking_spaces,
            charging_spaces=row.charging_spaces,
            opening_hours=row.opening_hours,
            commissioned_on=row.commissioned_on,
        )
        # The station's own key leaves public hours out: they are an event of their own,
        # and a file without them registers the station as it did before they existed.
        key = _content_key(row, frozenset({"public_hours"}))
        r.add(StationRegistered(**r.meta(key), station=record), line)
        if row.public_hours:
            r.add(
                StationPublicHoursSet(
                    **r.meta("public_hours", row.station_id, row.public_hours, key),
                    station_id=StationId(row.station_id),
                    hours=row.public_hours,
                    set_by="import",
                ),
                line,
            )


_CHARGER_FIELDS = (
    "station_id",
    "vendor",
    "model",
    "serial_number",
    "firmware",
    "protocol",
    "commissioned_at",
)


def _chargers(r: _Reader, rows: list[tuple[int, ConnectorRow]]) -> None:
    groups: dict[str, list[tuple[int, ConnectorRow]]] = {}
    for line, row in rows:
        groups.setdefault(row.charger_id, []).append((line, row))
    for charger_id, items in groups.items():
        first_line, first = items[0]
        clash = False
        for line, row in items[1:]:
            for name in _CHARGER_FIELDS:
                if getattr(row, name) != getattr(first, name):
                    r.error(line, name, f"differs from line {first_line} for charger {charger_id}")
                    clash = True
        if clash:
            continue
        evses: dict[int, list[ConnectorRow]] = {}
        for _, row in items:
            evses.setdefault(row.evse_no, []).append(row)
        record = ChargerRecord(
            charger_id=ChargerId(charger_id),
            station_id=StationId(first.station_id),
            vendor=first.vendor,
            model=first.model,
            serial_number=first.serial_number,
            firmware=first.firmware,
            protocol=first.protocol,
            commissioned_at=first.commissioned_at,
            evses=tuple(
                EvseRecord(
                    evse_no=evse_no,
                    evse_uid=next((c.evse_uid for c in cons if c.evse_uid), None),
                    connectors=tuple(
                        ConnectorRecord(
                            connector_no=c.connector_no,
                            connector_id=ConnectorId(c.connector_id) if c.connector_id else None,
                            standard=c.standard,
                            power_type=c.power_type,
                            max_power_w=c.max_power_w,
                            max_voltage_v=c.max_voltage_v,
                            max_current_a=c.max_current_a,
                        )
                        for c in cons
                    ),
                )
                for evse_no, cons in sorted(evses.items())
            ),
        )
        key = "|".join(_content_key(row) for _, row in items)
        r.add(ChargerRegistered(**r.meta(key), charger=record), *(line for line, _ in items))


def _swap_stations(r: _Reader, rows: list[tuple[int, SwapStationRow]]) -> None:
    for line, row in rows:
        lat, lon = to_wgs84(row.lat, row.lon, row.datum)
        record = SwapStationRecord(
            swap_station_id=SwapStationId(row.swap_station_id),
            operator_id=OperatorId(row.operator_id),
            name=row.name,
            lat=round(lat, 6),
            lon=round(lon, 6),
            vehicle_types=tuple(SwapVehicleType(v) for v in row.vehicle_types.split(",")),
            bays=row.bays,
            battery_slots=row.battery_slots,
            access=row.access,
            area_code=AreaCode(row.area_code) if row.area_code else None,
            address=row.address,
            opening_hours=row.opening_hours,
            commissioned_on=row.commissioned_on,
            max_power_w=row.max_power_w,
        )
        r.add(SwapStationRegistered(**r.meta(_content_key(row)), swap_station=record), line)


def _targets(r: _Reader, rows: list[tuple[int, TargetRow]]) -> None:
    for line, row in rows:
        # The same id shape as policy packs use, so an imported value revises a pack's.
        parts: list[object] = [row.area_code, row.metric, row.year]
        if row.month is not None:
            parts.append(row.month)
        target_id = row.target_id or "|".join(str(p) for p in parts)
        r.add(
            TargetSet(
                **r.meta(_content_key(row)),
                target_id=target_id,
                area_code=AreaCode(row.area_code),
                metric=row.metric,
                value=row.value,
                year=row.year,
                month=row.month,
                definition=row.definition,
                source_ref=row.source,
                valid_from=row.valid_from,
            ),
            line,
        )


def _feeders(r: _Reader, rows: list[tuple[int, FeederRow]]) -> None:
    for line, row in rows:
        r.add(
            FeederStated(
                **r.meta(_content_key(row)),
                feeder_id=row.feeder_id,
                name=row.name,
                valid_from=row.valid_from or r.now,
                capacity_w=row.capacity_w,
                phases=row.phases,
                area_code=AreaCode(row.area_code) if row.area_code else None,
            ),
            line,
        )


def _grid_connections(r: _Reader, rows: list[tuple[int, GridConnectionRow]]) -> None:
    for line, row in rows:
        r.add(
            GridConnectionStated(
                **r.meta(_content_key(row)),
                station_id=StationId(row.station_id),
                valid_from=row.valid_from or r.now,
                capacity_w=row.capacity_w,
                capacity_va=row.capacity_va,
                phases=row.phases,
                voltage_v=row.voltage_v,
                feeder_id=row.feeder_id,
                pv_peak_w=row.pv_peak_w,
                storage_wh=row.storage_wh,
                storage_power_w=row.storage_power_w,
            ),
            line,
        )


_KINDS: dict[ImportKind, tuple[type[BaseModel], Callable[[_Reader, Any], None]]] = {
    ImportKind.AREAS: (AreaRow, _areas),
    ImportKind.AREA_STATISTICS: (AreaStatisticsRow, _statistics),
    ImportKind.OPERATORS: (OperatorRow, _operators),
    ImportKind.STATIONS: (StationRow, _stations),
    ImportKind.CHARGERS: (ConnectorRow, _chargers),
    ImportKind.SWAP_STATIONS: (SwapStationRow, _swap_stations),
    ImportKind.TARGETS: (TargetRow, _targets),
    ImportKind.FEEDERS: (FeederRow, _feeders),
    ImportKind.GRID_CONNECTIONS: (GridConnectionRow, _grid_connections),
}


def read_file(path: Path, kind: ImportKind, now: datetime, adapter: str = "import") -> FileResult:
    """Parse and check a whole file; events for the good rows, an error for every bad one."""
    reader = _Reader(path, kind, now, adapter)
    model, build = _KINDS[kind]
    good: list[tuple[int, Any]] = []
    try:
        for line, record in _records(path):
            reader.result.rows += 1
            if "__not_an_object__" in record:
                reader.error(line, "(row)", "not a JSON object")
                continue
            if None in record:  # csv.DictReader puts surplus cells under None
                reader.error(line, "(row)", "more cells than header columns")
                continue
            # A blank cell means "not given": the column's default applies, and a blank
            # required cell is reported as missing.
            given = {k: v for k, v in record.items() if not (isinstance(v, str) and not v.strip())}
            try:
                good.append((line, model.model_validate(given)))
            except ValidationError as exc:
                reader.result.errors.extend(_errors_of(path, line, exc))
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        reader.error(0, "(file)", str(exc))
        return reader.result
    build(reader, good)
    return reader.result
