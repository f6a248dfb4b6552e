"""Reading values off the wire: times, meter samples, tokens — bounded, never trusted.

A charger's clock is its own: a time stamp before 2010 means its clock was never set
(1970 after a power loss), one in the future means it runs fast. Such a time is replaced
by our receive time and the event is flagged; the charger's own value stays in the log's
payload (occurred_at vs received_at) for everything else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from chargenet.core.drivers import TokenKey
from chargenet.core.events import (
    MAX_CURRENT_A,
    MAX_ENERGY_REGISTER_WH,
    MAX_POWER_W,
    MAX_VOLTAGE_V,
)
from chargenet.kit.timeutil import CLOCK_AHEAD_TOLERANCE

CLOCK_FLOOR = datetime(2010, 1, 1, tzinfo=UTC)  # before this the charger's clock is unset
_from_iso = datetime.fromisoformat


class Stamp(msgspec.Struct, frozen=True):
    """(A Struct, not a dataclass: made once a meter value or status, and a frozen
    dataclass's `__init__` sets each field through `object.__setattr__`.)"""

    at: datetime  # the time to use for the event
    unset: bool = False  # the charger's clock was not set (1970)
    ahead: bool = False  # the charger's clock is ahead of ours
    skew_s: float = 0.0  # charger minus us, when it could be judged

    @property
    def replaced(self) -> bool:
        """Whether the charger's time was not trusted and ours stands in for it: a session
        timed so is flagged `clock_unset` (its duration is not the charger's)."""
        return self.unset or self.ahead


def wire_time(at: datetime) -> str:
    """A time as the gateway sends it: RFC 3339 in UTC with milliseconds. OCPP 2.0.1
    Part 2 §2.1.4 allows at most 3 decimal places of a second; 1.6 chargers get the same
    text (Python's isoformat would give 6)."""
    utc = at.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


_encode = msgspec.json.encode


def iso_text(at: datetime) -> str:
    """`at.isoformat()`. A time in UTC (the clock's) from msgspec's text of it, which is
    the same but for the zone's spelling ("Z" for "+00:00"): a fifth of the cost of
    `isoformat`, whose zone is formatted by `PyUnicode_FromFormat` (a status without a
    time stamp names its receive time in its event's id)."""
    if at.tzinfo is UTC and type(at) is datetime:
        return _encode(at)[1:-2].decode() + "+00:00"
    return at.isoformat()


def _read_time(text: str) -> datetime | None:
    """An OCPP dateTime (RFC 3339) in UTC; None when unreadable or beyond the calendar."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def parse_time(text: str | None, received: datetime) -> Stamp:
    """A charger's time stamp of something that happened, judged against our receive time:
    a clock before 2010 is unset, one further ahead than `CLOCK_AHEAD_TOLERANCE` (shared
    with OCPI, `kit.timeutil.runs_ahead`) runs ahead. (`_read_time` written out here: read
    once a meter value, the calls were a part of the intake's CPU, docs/scale.md.)"""
    if not text:
        return Stamp(received)
    try:
        if (
            text[-1] == "Z"
            and len(text) > 19
            and text[10] == "T"
            and text.find("Z") == len(text) - 1
            and "z" not in text
        ):
            # What chargers send (a date, "T", a time of at least seconds, "Z" at the end
            # and nowhere else): Python reads "Z" as UTC itself since 3.11, the same time
            # as "+00:00" in its place, and in UTC already. (Not a date alone: "+00:00"
            # after a date is read as a time, "Z" is refused. tests/adapters/ocpp/
            # test_values.py holds the two readings equal.)
            when = _from_iso(text)
        else:
            when = _from_iso(text.replace("Z", "+00:00").replace("z", "+00:00"))
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (ValueError, OverflowError):
        return Stamp(received, unset=True)
    if when < CLOCK_FLOOR:
        return Stamp(received, unset=True)
    ahead = when - received
    if ahead > CLOCK_AHEAD_TOLERANCE:
        return Stamp(received, ahead=True, skew_s=ahead.total_seconds())
    return Stamp(when, False, False, ahead.total_seconds())  # at, unset, ahead, skew_s


def parse_planned_time(text: str | None) -> datetime | None:
    """A time the charger names in the future (a departure): not judged against our clock
    like `parse_time`, which would take any future stamp for a clock running ahead."""
    when = _read_time(text) if text else None
    return when if when is not None and when >= CLOCK_FLOOR else None


def token_hash(token: str | None, key: TokenKey) -> str | None:
    """Drivers' RFID/account tokens are never stored raw: the platform's keyed digest
    (core.drivers.TokenKey), so a session names its driver's token."""
    if not token:
        return None
    return key.digest(token)


_ENERGY_UNITS = {"Wh": 1.0, "kWh": 1000.0}
_POWER_UNITS = {"W": 1.0, "kW": 1000.0}


class Sample(msgspec.Struct):
    """One meter reading as chargenet keeps it; out-of-range values are dropped and
    counted in `dropped`. (A Struct: made in C, once a meter value.)"""

    energy_register_wh: int | None = None
    power_w: int | None = None
    current_a: float | None = None
    voltage_v: float | None = None
    soc_percent: float | None = None
    temperature_c: float | None = None
    power_offered_w: int | None = None  # Power.Offered: the most offered to the vehicle
    context: str | None = None
    dropped: list[str] = msgspec.field(default_factory=list)

    @property
    def empty(self) -> bool:
        # Spelled out, not `all(...)` over a generator: read once per meter value, and the
        # generator's frame was a few per cent of an intake's CPU (docs/scale.md).
        return (
            self.energy_register_wh is None
            and self.power_w is None
            and self.current_a is None
            and self.voltage_v is None
            and self.soc_percent is None
            and self.temperature_c is None
            and self.power_offered_w is None
        )


_INFINITY = float("inf")
_PHASES = frozenset(("L1", "L2", "L3", "L1-N", "L2-N", "L3-N"))


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != _INFINITY else None


def _unit(sampled: Any) -> str | None:
    unit = getattr(sampled, "unit", None)  # 1.6
    if unit is None:
        uom = getattr(sampled, "unitOfMeasure", None)  # 2.0.1
        if uom is not None:
            unit = uom.unit
            if uom.multiplier:
                return f"{unit}*10^{uom.multiplier}"
    return str(unit) if unit is not None else None


def _scaled(value: float, unit: str | None, units: dict[str, float], default: str) -> float | None:
    multiplier = 1.0
    if unit and "*10^" in unit:
        unit, exponent = unit.split("*10^")
        if not -9 <= int(exponent) <= 9:
            return None  # no meter reports in such units: not trusted
        multiplier = 10.0 ** int(exponent)
    factor = units.get(unit or default)
    return None if factor is None else value * factor * multiplier


def read_sample(sampled_values: list[Any]) -> Sample:
    """Fold a MeterValue's sampledValue list into one reading. Totals win over phases;
    without a total, power adds its phases, current and voltage take the highest phase."""
    # (`_number`, `_unit` and `_scaled` spelled out for the commonest values — a 1.6 unit
    # with no power of ten, a number — read three times a meter value: their calls were a
    # part of the intake's CPU, docs/scale.md; the phases' dict made only for a value of a
    # phase, and the commonest measurands asked first)
    out = Sample()
    phases: dict[str, list[float]] | None = None
    power_total: float | None = None
    for sv in sampled_values:
        measurand = sv.measurand or "Energy.Active.Import.Register"
        if sv.context and out.context is None:
            out.context = sv.context
        try:
            value = float(sv.value)
        except (TypeError, ValueError):
            out.dropped.append(measurand)
            continue
        # (not a number, or infinite: `value - value` is NaN, which is unequal to all)
        if value - value != 0.0:
            out.dropped.append(measurand)
            continue
        unit = getattr(sv, "unit", None)
        if type(unit) is not str:
            unit = _unit(sv)
        if measurand == "Energy.Active.Import.Register":
            if unit is None or "*10^" not in unit:
                factor = _ENERGY_UNITS.get(unit or "Wh")
                scaled = None if factor is None else value * factor
            else:
                scaled = _scaled(value, unit, _ENERGY_UNITS, "Wh")
            if sv.phase is None and scaled is not None:
                if 0 <= scaled <= MAX_ENERGY_REGISTER_WH:
                    out.energy_register_wh = round(scaled)
                else:
                    out.dropped.append(measurand)
        elif measurand == "Power.Active.Import":
            if unit is None or "*10^" not in unit:
                factor = _POWER_UNITS.get(unit or "W")
                scaled = None if factor is None else value * factor
            else:
                scaled = _scaled(value, unit, _POWER_UNITS, "W")
            if scaled is not None:
                phase = sv.phase
                if phase is None:
                    power_total = scaled  # the last total stands
                elif phase in _PHASES:
                    if phases is None:
                        phases = {}
                    phases.setdefault("power", []).append(scaled)
        elif measurand == "SoC":
            if 0 <= value <= 100:
                out.soc_percent = value
            else:
                out.dropped.append(measurand)
        elif measurand == "Power.Offered":
            if sv.phase is None:
                scaled = _scaled(value, unit, _POWER_UNITS, "W")
                if scaled is not None and 0 <= scaled <= MAX_POWER_W:
                    out.power_offered_w = round(scaled)
                else:
                    out.dropped.append(measurand)
        elif measurand == "Current.Import":
            if phases is None:
                phases = {}
            phases.setdefault("current_total" if sv.phase is None else "current", []).append(
                value * (0.001 if unit == "mA" else 1.0)
            )
        elif measurand == "Voltage":
            if phases is None:
                phases = {}
            phases.setdefault("voltage_total" if sv.phase is None else "voltage", []).append(value)
        elif measurand == "Temperature":
            celsius = (
                (value - 32) * 5 / 9
                if unit == "Fahrenheit"
                else value - 273.15
                if unit == "K"
                else value
            )
            if -60 <= celsius <= 300:
                out.temperature_c = round(celsius, 1)
            else:
                out.dropped.append(measurand)
    if power_total is None and phases is not None and "power" in phases:
        power_total = sum(phases["power"])  # no total: its phases add up
    if power_total is not None:
        if -MAX_POWER_W <= power_total <= MAX_POWER_W:
            out.power_w = round(power_total)
        else:
            out.dropped.append("Power.Active.Import")
    if phases is None:
        return out
    current = phases.get("current_total") or phases.get("current")
    if current is not None:
        top = max(current, key=abs)
        if -MAX_CURRENT_A <= top <= MAX_CURRENT_A:
            out.current_a = top
        else:
            out.dropped.append("Current.Import")
    voltage = phases.get("voltage_total") or phases.get("voltage")
    if voltage is not None:
        if 0 <= max(voltage) <= MAX_VOLTAGE_V:
            out.voltage_v = max(voltage)
        else:
            out.dropped.append("Voltage")
    return out
