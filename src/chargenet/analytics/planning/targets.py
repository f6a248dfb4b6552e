"""Plan vs actual: each target beside what was built, with a year-end forecast.

Actuals follow the target's own metric definition (R03): which piles (access, DC/AC),
which vehicles, new in the period or in place at its end. Piles are counted from their
commissioning and retirement days (R01 piles only). Vehicle counts are year-end
statistics: on a day inside a year the latest year end that has passed stands in (the
stock known that day, `core/planning/vehicles.py`), and the row says so.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from chargenet.analytics.planning.model import PileRecord
from chargenet.core.planning.metrics import Basis, Comparator, Counted, Metric, MetricKind, Quantity
from chargenet.core.planning.vehicles import (
    VEHICLE_STOCK_METHOD,
    latest_known_year,
    year_end_known,
)


class Progress(StrEnum):
    MET = "met"  # the period is over and the target was met
    MISSED = "missed"
    ON_TRACK = "on_track"  # in progress, at or ahead of the pro-rata pace
    BEHIND = "behind"
    NOT_STARTED = "not_started"
    NO_DATA = "no_data"  # the figure is not counted by the platform or not yet reported


class ForecastMethod(StrEnum):
    RUN_RATE = "run_rate"  # built so far × period length ÷ time elapsed
    LAST_YEAR_PACE = "last_year_pace"  # built so far ÷ share of last year's build done by now


FORECAST_EXPLAIN = {
    ForecastMethod.RUN_RATE: "piles built so far × days in the period ÷ days elapsed",
    ForecastMethod.LAST_YEAR_PACE: (
        "piles built so far ÷ the share of last year's piles built by the same day"
    ),
}
EV_TREND = (
    "vehicles: the last year-end count known on the day plus last year's growth (linear trend)"
)


@dataclass(frozen=True, slots=True)
class TargetRow:
    target_id: str
    area_code: str
    metric: str
    year: int
    value: Decimal
    month: int | None = None
    definition: str = ""
    source_ref: str = ""


@dataclass
class Actuals:
    """Piles (R01) of one region and its year-end vehicle statistics by (area, year)."""

    piles: Sequence[PileRecord]
    evs: Mapping[tuple[str, int], int] = field(default_factory=dict)
    motor_vehicles: Mapping[tuple[str, int], int] = field(default_factory=dict)

    def _piles(self, q: Quantity, area: str) -> list[PileRecord]:
        return [
            p
            for p in self.piles
            if p.in_area(area)
            and (not q.access or p.access in q.access)
            and q.power.admits(p.power_type)
        ]

    def piles_stock(self, q: Quantity, area: str, day: date) -> int:
        return sum(p.in_service(day) for p in self._piles(q, area))

    def piles_new(self, q: Quantity, area: str, start: date, end: date) -> int:
        """Piles commissioned in [start, end] (gross: later retirement does not undo a build)."""
        return sum(start <= p.commissioned <= end for p in self._piles(q, area))

    def vehicles(self, counted: Counted, area: str, year: int) -> int | None:
        table = self.evs if counted is Counted.EVS else self.motor_vehicles
        return table.get((area, year))

    def known_vehicles(self, counted: Counted, area: str, on: date) -> tuple[int, int] | None:
        """(count, year) of the stock known on day `on`: the latest year end that has passed
        (VEHICLE_STOCK_METHOD), looking back at most five years."""
        latest = latest_known_year(on)
        for y in range(latest, latest - 5, -1):
            value = self.vehicles(counted, area, y)
            if value is not None:
                return value, y
        return None


@dataclass(frozen=True, slots=True)
class Measure:
    value: Decimal | None
    note: str = ""
    vehicles_year: int | None = None  # vehicle counts: the year end they were taken at


def period_of(year: int, month: int | None) -> tuple[date, date]:
    if month is None:
        return date(year, 1, 1), date(year, 12, 31)
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def measure(actuals: Actuals, q: Quantity, area: str, start: date, end: date) -> Measure:
    """The quantity over [start, end] (stock: on `end`), as far as it is known."""
    if q.counted is Counted.REPORTED:
        return Measure(None, f"{q.name}: reported, not counted by the platform")
    if q.counted is Counted.PILES:
        if q.basis is Basis.STOCK:
            return Measure(Decimal(actuals.piles_stock(q, area, end)))
        begin = date(q.since_year, 1, 1) if q.since_year else start
        return Measure(Decimal(actuals.piles_new(q, area, begin, end)))
    if q.counted is Counted.STATIONS:
        return Measure(None, "station counts are not a plan metric yet")
    known = actuals.known_vehicles(q.counted, area, end)
    if known is None:
        return Measure(None, f"no {q.counted.value} statistics for {area} by {end}")
    value, year = known
    note = (
        ""
        if year == end.year
        else f"{q.counted.value} at end-{year} (latest known on {end}; {VEHICLE_STOCK_METHOD})"
    )
    if q.basis is Basis.STOCK:
        return Measure(Decimal(value), note, year)
    base_year = (q.since_year or end.year) - 1
    base = actuals.vehicles(q.counted, area, base_year)
    if base is None:
        return Measure(None, f"no {q.counted.value} statistics for end-{base_year}")
    if year != end.year:
        if year_end_known(end.year, end):
            return Measure(None, f"{q.counted.value} for {end.year} not yet recorded")
        return Measure(None, f"{q.counted.value} added in {end.year}: known at end-{end.year}")
    return Measure(Decimal(value - base), note, year)


@dataclass
class Forecast:
    method: str
    explain: str
    value: Decimal | None
    meets_target: bool | None


@dataclass
class PlanVsActual:
    target_id: str
    area_code: str
    metric: str
    kind: str
    definition: str
    strength: str
    comparator: str
    written_as: str
    unit: str
    year: int
    month: int | None
    target: Decimal
    actual: Decimal | None
    as_of: date
    status: Progress
    expected_to_date: Decimal | None = None  # pro-rata share of the target by `as_of`
    progress: float | None = None  # actual ÷ target (counts)
    forecast: Forecast | None = None
    numerator: Decimal | None = None  # ratios: the two sides as counted
    denominator: Decimal | None = None
    source_ref: str = ""
    notes: list[str] = field(default_factory=list)
    # Vehicle counts: the year end taken and how it was chosen (VEHICLE_STOCK_METHOD).
    vehicles_year: int | None = None
    vehicles_method: str | None = None
    # Ratios as the plan writes them ("1 : 6" for Xinzhou, "2.3 : 1" for Guangxi).
    notation: str | None = None
    target_written: str | None = None
    actual_written: str | None = None


def _ratio(num: Decimal | None, den: Decimal | None) -> Decimal | None:
    if num is None or den is None or den == 0:
        return None
    return (num / den).quantize(Decimal("0.001"))


def _forecast_piles(
    actuals: Actuals,
    q: Quantity,
    area: str,
    start: date,
    end: date,
    as_of: date,
    method: ForecastMethod,
) -> Decimal:
    """Year-end forecast of a pile quantity from its pace so far."""
    built = actuals.piles_new(q, area, start, as_of)
    elapsed = (as_of - start).days + 1
    total = (end - start).days + 1
    if method is ForecastMethod.LAST_YEAR_PACE:
        last_start = start.replace(year=start.year - 1)
        last_end = end.replace(year=end.year - 1)
        last_by_now = actuals.piles_new(q, area, last_start, as_of.replace(year=as_of.year - 1))
        last_total = actuals.piles_new(q, area, last_start, last_end)
        ahead = (
            Decimal(built * last_total) / last_by_now
            if last_by_now
            else Decimal(built * total) / elapsed
        )
    else:
        ahead = Decimal(built * total) / elapsed
    if q.basis is Basis.STOCK:
        return (Decimal(actuals.piles_stock(q, area, start - timedelta(days=1))) + ahead).quantize(
            Decimal(1)
        )
    if q.since_year:
        before = actuals.piles_new(q, area, date(q.since_year, 1, 1), start - timedelta(days=1))
        return (Decimal(before) + ahead).quantize(Decimal(1))
    return ahead.quantize(Decimal(1))


def _forecast_vehicles(
    actuals: Actuals, q: Quantity, area: str, year: int, as_of: date
) -> Decimal | None:
    """The year-end stock from what is known on `as_of`: the last year end passed plus
    last year's growth per year still to come (a linear trend)."""
    last = actuals.known_vehicles(q.counted, area, min(as_of, date(year, 12, 31)))
    if last is None:
        return None
    value, y = last
    if y == year:
        stock = Decimal(value)
    else:
        before = actuals.vehicles(q.counted, area, y - 1)
        growth = value - before if before is not None else 0
        stock = Decimal(value + growth * (year - y))
    if q.basis is Basis.STOCK:
        return stock
    base = actuals.vehicles(q.counted, area, (q.since_year or year) - 1)
    return None if base is None else stock - base


def _forecast(
    actuals: Actuals,
    q: Quantity,
    area: str,
    start: date,
    end: date,
    as_of: date,
    method: ForecastMethod,
) -> Decimal | None:
    if q.counted is Counted.PILES:
        return _forecast_piles(actuals, q, area, start, end, as_of, method)
    if q.counted in (Counted.EVS, Counted.MOTOR_VEHICLES):
        return _forecast_vehicles(actuals, q, area, end.year, as_of)
    return None


def plan_vs_actual(
    target: TargetRow,
    metric: Metric,
    actuals: Actuals,
    as_of: date,
    method: ForecastMethod = ForecastMethod.RUN_RATE,
) -> PlanVsActual:
    start, end = period_of(target.year, target.month)
    upto = min(as_of, end)
    row = PlanVsActual(
        target_id=target.target_id,
        area_code=target.area_code,
        metric=target.metric,
        kind=metric.kind.value,
        definition=metric.definition,
        strength=metric.strength.value,
        comparator=metric.comparator.value,
        written_as=metric.written_as,
        unit=metric.unit,
        year=target.year,
        month=target.month,
        target=target.value,
        actual=None,
        as_of=as_of,
        status=Progress.NO_DATA,
        source_ref=target.source_ref,
    )
    if as_of < start and not any(q.since_year for q in metric.quantities()):
        row.status = Progress.NOT_STARTED
        return row
    if metric.kind is MetricKind.COUNT:
        assert metric.quantity is not None
        m = measure(actuals, metric.quantity, target.area_code, start, upto)
        row.actual = m.value
        if m.note:
            row.notes.append(m.note)
        measured = [m]
    else:
        assert metric.numerator is not None and metric.denominator is not None
        num = measure(actuals, metric.numerator, target.area_code, start, upto)
        den = measure(actuals, metric.denominator, target.area_code, start, upto)
        row.numerator, row.denominator = num.value, den.value
        row.actual = _ratio(num.value, den.value)
        row.notes += [n for n in (num.note, den.note) if n]
        measured = [num, den]
    year_ends = [m.vehicles_year for m in measured if m.vehicles_year is not None]
    if year_ends:
        row.vehicles_year, row.vehicles_method = max(year_ends), VEHICLE_STOCK_METHOD
    if metric.kind is MetricKind.RATIO:
        row.notation = metric.notation.value
        row.target_written = metric.notation.write(target.value)
        row.actual_written = metric.notation.write(row.actual)
    if row.actual is None:
        return row
    if target.value:
        row.progress = round(float(row.actual / target.value), 4)
    met = metric.compare(row.actual, target.value)
    if as_of >= end:
        row.status = Progress.MET if met else Progress.MISSED
        return row
    fraction = Decimal((as_of - start).days + 1) / Decimal((end - start).days + 1)
    if metric.kind is MetricKind.COUNT and metric.comparator is Comparator.AT_LEAST:
        q = metric.quantity
        assert q is not None
        baseline = Decimal(0)
        if q.basis is Basis.STOCK and q.counted is Counted.PILES:
            baseline = Decimal(actuals.piles_stock(q, target.area_code, start - timedelta(days=1)))
        elif q.since_year:
            baseline = (
                Decimal(
                    actuals.piles_new(
                        q, target.area_code, date(q.since_year, 1, 1), start - timedelta(days=1)
                    )
                )
                if q.counted is Counted.PILES
                else Decimal(0)
            )
        row.expected_to_date = (baseline + (target.value - baseline) * fraction).quantize(
            Decimal(1)
        )
        row.status = Progress.ON_TRACK if row.actual >= row.expected_to_date else Progress.BEHIND
    else:
        row.status = Progress.ON_TRACK if met else Progress.BEHIND
    if metric.kind is MetricKind.COUNT:
        assert metric.quantity is not None
        value = _forecast(actuals, metric.quantity, target.area_code, start, end, as_of, method)
        explain = FORECAST_EXPLAIN[method] if metric.quantity.counted is Counted.PILES else EV_TREND
    else:
        assert metric.numerator is not None and metric.denominator is not None
        num_f = _forecast(actuals, metric.numerator, target.area_code, start, end, as_of, method)
        den_f = _forecast(actuals, metric.denominator, target.area_code, start, end, as_of, method)
        value = _ratio(num_f, den_f)
        explain = f"ratio of the two sides' forecasts: {FORECAST_EXPLAIN[method]}; {EV_TREND}"
    name = (
        method.value
        if metric.kind is MetricKind.RATIO
        or (metric.quantity is not None and metric.quantity.counted is Counted.PILES)
        else "linear_trend"
    )
    row.forecast = Forecast(
        name, explain, value, metric.compare(value, target.value) if value is not None else None
    )
    return row


@dataclass(frozen=True, slots=True)
class MonthProgress:
    month: int
    new: int  # built in the month
    cumulative: int  # built in the year so far
    expected: int  # pro-rata share of the year's target by the month's end
    on_track: bool


def monthly(
    target: TargetRow, metric: Metric, actuals: Actuals, as_of: date
) -> list[MonthProgress]:
    """Month by month for a yearly pile target: built, cumulative, expected by then."""
    q = metric.quantity
    if q is None or q.counted is not Counted.PILES or target.month is not None:
        return []
    out = []
    total = 0
    for month in range(1, 13):
        start, end = period_of(target.year, month)
        if start > as_of:
            break
        new = actuals.piles_new(q, target.area_code, start, min(end, as_of))
        total += new
        expected = int(
            (
                target.value
                * Decimal(end.timetuple().tm_yday)
                / Decimal(365 + calendar.isleap(target.year))
            ).quantize(Decimal(1))
        )
        if q.basis is Basis.STOCK:
            base = actuals.piles_stock(q, target.area_code, date(target.year - 1, 12, 31))
            expected = base + int(
                (
                    (target.value - base)
                    * Decimal(end.timetuple().tm_yday)
                    / Decimal(365 + calendar.isleap(target.year))
                ).quantize(Decimal(1))
            )
            cumulative = actuals.piles_stock(q, target.area_code, min(end, as_of))
        else:
            cumulative = total
        out.append(MonthProgress(month, new, cumulative, expected, cumulative >= expected))
    return out
