"""Fuzzing import files: rows of every kind with junk in their cells, as CSV and as JSON,
and files that are no table at all. Reading reports bad rows and never raises; importing
what was read (as `--skip-bad` does) never raises either, and rows imported before are
still there, unchanged, after."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargenet.adapters.files.importer import ImportKind, read_file
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from tests.builders import small_world
from tests.fuzzing import JSON_DOCUMENTS, fuzz, mutated

pytestmark = pytest.mark.fuzz

NOW = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)

# One valid row of each kind; the fuzzed ones name other ids than the kept world.
ROWS: dict[ImportKind, dict[str, Any]] = {
    ImportKind.AREAS: {
        "code": "149901",
        "level": "county",
        "name_zh": "测试县",
        "parent_code": "140900",
        "lat": 38.5,
        "lon": 112.5,
    },
    ImportKind.AREA_STATISTICS: {
        "area_code": "140902",
        "year": 2024,
        "ev_count": 5000,
        "population": 500000,
    },
    ImportKind.OPERATORS: {"operator_id": "OPF", "name": "测试运营商", "uscc": "91140900XXXX"},
    ImportKind.STATIONS: {
        "station_id": "SF",
        "operator_id": "OP1",
        "name": "测试站",
        "lat": 38.41,
        "lon": 112.73,
        "area_code": "140902",
        "parking_spaces": 10,
        "commissioned_on": "2024-05-01",
    },
    ImportKind.CHARGERS: {
        "charger_id": "CF",
        "station_id": "S1",
        "evse_no": 1,
        "connector_no": 1,
        "standard": "gbt_dc",
        "power_type": "dc",
        "max_power_w": 120000,
        "max_voltage_v": 750,
        "max_current_a": 250,
    },
    ImportKind.SWAP_STATIONS: {
        "swap_station_id": "WF",
        "operator_id": "OP1",
        "name": "换电站",
        "lat": 38.42,
        "lon": 112.74,
        "bays": 2,
        "battery_slots": 20,
        "max_power_w": 500000,
    },
    ImportKind.TARGETS: {
        "area_code": "140902",
        "metric": "public_piles",
        "year": 2025,
        "value": 300,
    },
}


@pytest.fixture(scope="module")
def platform(module_database_url: str) -> Iterator[Platform]:
    p = bootstrap(Settings(database_url=module_database_url, sqlite_synchronous="OFF"))
    p.ingestor.ingest(small_world())
    yield p
    p.close()


def _csv(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def _kept(platform: Platform) -> Any:
    """The world imported before, as registered: station S1 and its charger C1, operator
    OP1 (counts derived from new rows, such as a new charger at S1, may change)."""
    station = platform.read.station("S1")
    operator = platform.read.operator("OP1")
    assert station is not None and operator is not None
    chargers = {c["charger_id"]: c for c in station["chargers"]}
    # Counts derived from new rows may change; the rest must not.
    kept_station = {k: v for k, v in station.items() if k not in ("chargers", "piles", "status")}
    kept_operator = {k: v for k, v in operator.items() if k not in ("piles", "status", "stations")}
    return kept_station, chargers["C1"], kept_operator


@pytest.mark.parametrize("kind", list(ROWS))
def test_rows_with_junk_are_reported_and_lose_nothing(
    platform: Platform, tmp_path: Path, kind: ImportKind
) -> None:
    before = _kept(platform)
    rows = st.lists(mutated(ROWS[kind]), min_size=1, max_size=3)

    @fuzz(40)
    @given(rows, st.sampled_from(["csv", "json"]))
    def read_and_import(table: list[dict[str, Any]], form: str) -> None:
        path = tmp_path / f"{kind.value}.{form}"
        if form == "csv":
            path.write_text(_csv(table), encoding="utf-8")
        else:
            path.write_text(json.dumps({"rows": table}, ensure_ascii=False), encoding="utf-8")
        result = read_file(path, kind, NOW)
        assert all(e.reason for e in result.errors)
        platform.ingestor.ingest(result.events)  # the good rows, as --skip-bad imports them

    read_and_import()
    assert _kept(platform) == before


@fuzz(60)
@given(
    st.sampled_from(list(ROWS)),
    st.sampled_from(["csv", "json"]),
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        JSON_DOCUMENTS.map(lambda d: json.dumps(d).encode()),
        st.sampled_from([b"[" * 5000, b'{"rows": ' + b"[" * 5000, b"\xef\xbb\xbf", b'"a\x00b"']),
    ),
)
def test_files_that_are_no_table_are_one_error_not_a_crash(
    tmp_path_factory: pytest.TempPathFactory, kind: ImportKind, form: str, content: bytes
) -> None:
    path = tmp_path_factory.mktemp("junk") / f"{kind.value}.{form}"
    path.write_bytes(content)
    result = read_file(path, kind, NOW)
    assert all(e.reason for e in result.errors)
