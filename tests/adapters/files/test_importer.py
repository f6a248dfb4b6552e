"""Imports report every bad row and import nothing from a bad file unless told to."""

from __future__ import annotations

from pathlib import Path

from chargenet.adapters.files.importer import ImportKind, guess_kind, read_file
from chargenet.core.events import ChargerRegistered, StationPublicHoursSet, StationRegistered
from chargenet.core.ids import ChargerId
from chargenet.kit.geo import haversine_m
from tests.builders import T0


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_bad_row_is_reported_with_file_line_field_and_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "stations.csv",
        "station_id,operator_id,name,lat,lon,category,access\n"
        "S1,OP1,Good,38.4,112.7,public_car_park,public\n"
        "S2,OP1,Bad lat,95,112.7,public_car_park,public\n"
        "S3,OP1,Bad category,38.4,112.7,petrol_station,public\n"
        ",OP1,No id,38.4,112.7,,\n",
    )
    result = read_file(path, ImportKind.STATIONS, T0)
    found = {(e.line, e.field) for e in result.errors}
    assert found == {(3, "lat"), (4, "category"), (5, "station_id")}
    assert all(e.file == "stations.csv" and e.reason for e in result.errors)
    assert [e.station.station_id for e in result.events if isinstance(e, StationRegistered)] == [
        "S1"
    ]


def test_unknown_columns_and_extra_cells_are_errors_not_silence(tmp_path: Path) -> None:
    path = write(tmp_path, "operators.csv", "operator_id,name,colour\nOP1,One,blue\n")
    [error] = read_file(path, ImportKind.OPERATORS, T0).errors
    assert (error.line, error.field, error.reason) == (2, "colour", "unknown column")
    path = write(tmp_path, "operators2.csv", "operator_id,name\nOP1,One,extra\n")
    [error] = read_file(path, ImportKind.OPERATORS, T0).errors
    assert error.reason == "more cells than header columns"


def test_gcj02_positions_are_converted_to_wgs84_on_the_way_in(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "stations.csv",
        "station_id,operator_id,name,lat,lon,datum\nS1,OP1,A,38.405,112.752,GCJ02\n",
    )
    [event] = read_file(path, ImportKind.STATIONS, T0).events
    assert isinstance(event, StationRegistered)
    shift = haversine_m(38.405, 112.752, event.station.lat, event.station.lon)
    assert 100 < shift < 1_000


def test_connector_rows_are_grouped_into_chargers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "chargers.csv",
        "charger_id,station_id,evse_no,connector_no,standard,power_type,max_power_w,vendor\n"
        "C1,S1,1,1,gbt_dc,dc,120000,V\n"
        "C1,S1,2,1,gbt_dc,dc,120000,V\n"
        "C2,S1,1,1,gbt_ac,ac,7000,V\n",
    )
    result = read_file(path, ImportKind.CHARGERS, T0)
    assert result.errors == []
    chargers = {
        e.charger.charger_id: e.charger for e in result.events if isinstance(e, ChargerRegistered)
    }
    assert len(chargers[ChargerId("C1")].evses) == 2 and len(chargers[ChargerId("C2")].evses) == 1
    assert result.lines[result.events[0].event_id] == [2, 3]


def test_conflicting_charger_fields_across_rows_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "chargers.csv",
        "charger_id,station_id,evse_no,standard,power_type,max_power_w\n"
        "C1,S1,1,gbt_dc,dc,120000\nC1,S2,2,gbt_dc,dc,120000\n",
    )
    [error] = read_file(path, ImportKind.CHARGERS, T0).errors
    assert (error.line, error.field) == (3, "station_id")


def test_json_files_and_kind_guessing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "xinzhou-area_statistics.json",
        '{"rows": [{"area_code": "140902", "year": 2024, "ev_count": 5000}, 7]}',
    )
    assert guess_kind(path) is ImportKind.AREA_STATISTICS
    result = read_file(path, ImportKind.AREA_STATISTICS, T0)
    assert len(result.events) == 1
    assert [(e.line, e.reason) for e in result.errors] == [(2, "not a JSON object")]
    assert guess_kind(Path("stuff.csv")) is None


def test_the_same_file_read_twice_gives_the_same_event_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "operators.csv", "operator_id,name\nOP1,One\n")
    first = read_file(path, ImportKind.OPERATORS, T0).events
    second = read_file(path, ImportKind.OPERATORS, T0).events
    assert [e.event_id for e in first] == [e.event_id for e in second]


def test_feeders_and_grid_connections_import_with_their_limits(tmp_path: Path) -> None:
    from chargenet.core.events import FeederStated, GridConnectionStated

    feeders = write(
        tmp_path,
        "feeders.csv",
        "feeder_id,name,capacity_w,phases\nF1,10 kV 1号变,630000,3\n",
    )
    [feeder] = read_file(feeders, guess_kind(feeders) or ImportKind.AREAS, T0).events
    assert isinstance(feeder, FeederStated) and feeder.capacity_w == 630_000
    assert feeder.valid_from == T0  # none given: from the import's time
    grid = write(
        tmp_path,
        "xinzhou-grid_connections.csv",
        "station_id,capacity_w,phases,feeder_id,valid_from\n"
        "S1,200000,3,F1,2026-01-01T00:00:00+08:00\n"
        "S2,-5,2,,\n",
    )
    assert guess_kind(grid) is ImportKind.GRID_CONNECTIONS
    result = read_file(grid, ImportKind.GRID_CONNECTIONS, T0)
    [event] = result.events
    assert isinstance(event, GridConnectionStated) and event.feeder_id == "F1"
    assert {(e.line, e.field) for e in result.errors} == {(3, "capacity_w"), (3, "phases")}


def test_a_stations_public_hours_import_as_an_event_of_their_own(tmp_path: Path) -> None:
    header = "station_id,operator_id,name,lat,lon,access,category"
    row = "S1,OP1,机关大院,38.4,112.7,dedicated,institution"
    with_hours = write(
        tmp_path,
        "with.csv",
        f"{header},public_hours\n{row},Mo-Fr 18:00-08:00; Sa-Su 00:00-24:00\n"
        "S2,OP1,Wrong,38.4,112.7,dedicated,institution,after work\n",
    )
    result = read_file(with_hours, ImportKind.STATIONS, T0)
    hours = [e for e in result.events if isinstance(e, StationPublicHoursSet)]
    assert [(e.station_id, e.hours, e.set_by) for e in hours] == [
        ("S1", "Mo-Fr 18:00-08:00; Sa-Su 00:00-24:00", "import")
    ]
    assert [(e.line, e.reason[:26]) for e in result.errors] == [(3, "public hours 'after work':")]
    # The station itself is the same event with or without the column.
    plain = write(tmp_path, "plain.csv", f"{header}\n{row}\n")
    [registered] = read_file(plain, ImportKind.STATIONS, T0).events
    assert registered.event_id == result.events[0].event_id
