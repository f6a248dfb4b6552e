"""The user's own planning inputs as CSV text: candidate sites (with their class), grid
headroom per site or feeder, population and traffic per place (formats in
docs/import-formats.md, "Planning inputs"). Every bad row is reported with its line."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from chargenet.analytics.planning.investment import Feeder
from chargenet.analytics.planning.siting import Candidate
from chargenet.core.errors import Invalid
from chargenet.core.planning.scenario import CANDIDATE_CLASSES

T = TypeVar("T")
MAX_ROWS = 200_000


class InputError(Invalid):
    def __init__(self, what: str, problems: list[str]) -> None:
        super().__init__(f"{what}: " + "; ".join(problems[:20]))
        self.problems = problems


def _rows(text: str, what: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(what, [f"header lacks {', '.join(missing)} (has {', '.join(header)})"])
    out = []
    for n, row in enumerate(reader, start=2):
        if n - 1 > MAX_ROWS:
            raise InputError(what, [f"more than {MAX_ROWS:,} rows"])
        out.append((n, {(k or "").strip(): (v or "").strip() for k, v in row.items()}))
    return out


def _number(value: str, name: str, low: float, high: float) -> float:
    x = float(value)
    if not math.isfinite(x) or not low <= x <= high:
        raise ValueError(f"{name} {value!r} is not within {low} to {high}")
    return x


def _parse(
    text: str, what: str, required: tuple[str, ...], one: Callable[[dict[str, str]], T]
) -> list[T]:
    out, problems = [], []
    for line, row in _rows(text, what, required):
        try:
            out.append(one(row))
        except (ValueError, InvalidOperation) as exc:
            problems.append(f"line {line}: {exc}")
    if problems:
        raise InputError(what, problems)
    return out


def _position(row: dict[str, str]) -> tuple[float, float]:
    return _number(row["lat"], "lat", -90, 90), _number(row["lon"], "lon", -180, 180)


def read_candidates(text: str) -> list[Candidate]:
    """`id,lat,lon[,name][,class][,area_code]`; class is one of the candidate classes
    (petrol_station, transport_hub, parking_lot, service_area, …; default user)."""

    def one(row: dict[str, str]) -> Candidate:
        if not row["id"] or len(row["id"]) > 64:
            raise ValueError("id: 1 to 64 characters")
        kind = row.get("class") or "user"
        if kind not in CANDIDATE_CLASSES:
            raise ValueError(f"class {kind!r}: one of {', '.join(CANDIDATE_CLASSES)}")
        lat, lon = _position(row)
        name = row.get("name") or row["id"]
        return Candidate(
            f"user:{row['id']}", kind, lat, lon, name[:200], row.get("area_code") or None
        )

    return _parse(text, "candidates", ("id", "lat", "lon"), one)


def read_feeders(text: str) -> list[Feeder]:
    """`feeder,lat,lon,headroom_kw[,radius_km][,upgrade_per_kw]`: what the grid company
    can give new charging there; a site-level figure is a feeder with a small radius.
    An empty upgrade_per_kw takes the cost model's; `none` means no upgrade offered."""

    def one(row: dict[str, str]) -> Feeder:
        if not row["feeder"] or len(row["feeder"]) > 64:
            raise ValueError("feeder: 1 to 64 characters")
        lat, lon = _position(row)
        up_text = row.get("upgrade_per_kw", "")
        upgrade = None
        if up_text and up_text.lower() != "none":
            upgrade = Decimal(up_text)
            if not upgrade.is_finite() or upgrade < 0:
                raise ValueError(f"upgrade_per_kw {up_text!r}: a non-negative amount")
        elif up_text.lower() == "none":
            upgrade = Decimal("Infinity")
        return Feeder(
            row["feeder"],
            lat,
            lon,
            _number(row["headroom_kw"], "headroom_kw", 0, 10_000_000),
            _number(row.get("radius_km") or "3", "radius_km", 0.01, 100),
            upgrade,
        )

    return _parse(text, "grid", ("feeder", "lat", "lon", "headroom_kw"), one)


def read_figures(text: str, column: str) -> dict[str, float]:
    """`code,<column>`: a figure per place (population, vehicles_per_day)."""

    def one(row: dict[str, str]) -> tuple[str, float]:
        if not row["code"] or len(row["code"]) > 32:
            raise ValueError("code: 1 to 32 characters")
        return row["code"], _number(row[column], column, 0, 1e9)

    return dict(_parse(text, column, ("code", column), one))
