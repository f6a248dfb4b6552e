"""A charger's time stamps: the fast reading of a UTC "Z" stamp agrees with the reading
every other stamp gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chargenet.adapters.ocpp.values import (
    _ENERGY_UNITS,
    _INFINITY,
    _POWER_UNITS,
    CLOCK_FLOOR,
    Sample,
    Stamp,
    _scaled,
    _unit,
    iso_text,
    parse_time,
    read_sample,
)
from chargenet.core.events import (
    MAX_CURRENT_A,
    MAX_ENERGY_REGISTER_WH,
    MAX_POWER_W,
    MAX_VOLTAGE_V,
)
from chargenet.kit.timeutil import CLOCK_AHEAD_TOLERANCE

RECEIVED = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


def former(text: str | None, received: datetime) -> Stamp:
    """`parse_time` as it read every stamp before "Z" stamps were read directly."""
    if not text:
        return Stamp(received)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (ValueError, OverflowError):
        return Stamp(received, unset=True)
    if when < CLOCK_FLOOR:
        return Stamp(received, unset=True)
    ahead = when - received
    if ahead > CLOCK_AHEAD_TOLERANCE:
        return Stamp(received, ahead=True, skew_s=ahead.total_seconds())
    return Stamp(when, skew_s=ahead.total_seconds())


_SPECS = ("auto", "hours", "minutes", "seconds", "milliseconds", "microseconds")


@st.composite
def stamps(draw: st.DrawFn) -> str:
    """Time stamps as chargers write them, and broken ones: any zone or none, any
    precision, "Z" or "z" for UTC, a "Z" inside, cut short, date-only, odd text."""
    kind = draw(st.integers(0, 3))
    if kind == 3:
        return draw(st.text(alphabet="0123456789-:T.Zz+ W", max_size=32))
    when = draw(
        st.datetimes(
            min_value=datetime(1, 1, 2),
            max_value=datetime(9999, 12, 30),
            timezones=st.one_of(st.none(), st.timezones()),
        )
    )
    sep = draw(st.sampled_from("TTTt +"))
    text = when.isoformat(sep=sep, timespec=draw(st.sampled_from(_SPECS)))
    if kind == 1:
        text = when.date().isoformat()
    if draw(st.booleans()):
        if text.endswith("+00:00"):
            text = text[:-6]
        text += draw(st.sampled_from(("Z", "Z", "z", "ZZ", "Zz", "+00:00Z", "")))
    if kind == 2 and text:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(("Z", "", "z"))) + text[at + 1 :]
    return text


@settings(max_examples=1000, deadline=None)
@given(text=stamps(), skew=st.integers(-(10**9), 10**9))
def test_a_utc_stamp_read_directly_is_read_as_any_other_stamp(text: str, skew: int) -> None:
    received = RECEIVED + timedelta(seconds=skew)
    new, old = parse_time(text, received), former(text, received)
    assert new == old
    assert new.at.tzinfo is old.at.tzinfo


def test_chargers_utc_stamps_are_read() -> None:
    stamp = parse_time("2026-12-06T14:59:59.123456Z", RECEIVED)
    assert stamp.at == datetime(2026, 12, 6, 14, 59, 59, 123456, tzinfo=UTC)
    assert not stamp.replaced
    assert parse_time("1970-01-01T00:00:00Z", RECEIVED).unset
    assert parse_time("2030-01-01T00:00:00Z", RECEIVED).ahead


def former_read_sample(sampled_values: list[Any]) -> Sample:
    """`read_sample` as it was before a total power was kept without a list."""
    out = Sample()
    phases: dict[str, list[float]] = {}
    for sv in sampled_values:
        measurand = sv.measurand or "Energy.Active.Import.Register"
        if sv.context and out.context is None:
            out.context = sv.context
        try:
            value = float(sv.value)
        except (TypeError, ValueError):
            value = None
        else:
            if value != value or value == _INFINITY or value == -_INFINITY:
                value = None
        if value is None:
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
                if sv.phase is None:
                    phases["power_total"] = [scaled]
                elif sv.phase in ("L1", "L2", "L3", "L1-N", "L2-N", "L3-N"):
                    phases.setdefault("power", []).append(scaled)
        elif measurand == "Power.Offered" and sv.phase is None:
            scaled = _scaled(value, unit, _POWER_UNITS, "W")
            if scaled is not None and 0 <= scaled <= MAX_POWER_W:
                out.power_offered_w = round(scaled)
            else:
                out.dropped.append(measurand)
        elif measurand == "Current.Import":
            phases.setdefault("current_total" if sv.phase is None else "current", []).append(
                value * (0.001 if unit == "mA" else 1.0)
            )
        elif measurand == "Voltage":
            phases.setdefault("voltage_total" if sv.phase is None else "voltage", []).append(value)
        elif measurand == "SoC":
            if 0 <= value <= 100:
                out.soc_percent = value
            else:
                out.dropped.append(measurand)
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
    power = phases.get("power_total") or ([sum(phases["power"])] if "power" in phases else None)
    if power is not None:
        if -MAX_POWER_W <= power[0] <= MAX_POWER_W:
            out.power_w = round(power[0])
        else:
            out.dropped.append("Power.Active.Import")
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


_MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Power.Offered",
    "Current.Import",
    "Voltage",
    "SoC",
    "Temperature",
    "Frequency",
    None,
)
_UNITS = ("Wh", "kWh", "W", "kW", "A", "mA", "V", "Percent", "Celsius", "K", "Fahrenheit")


@st.composite
def sampled_values(draw: st.DrawFn) -> SimpleNamespace:
    """A sampledValue of either version: any measurand, phase, unit (with a power of ten in
    2.0.1's), number, broken number or out-of-range value."""
    value = draw(
        st.one_of(
            st.integers(-(10**12), 10**12).map(str),
            st.floats(allow_nan=True, allow_infinity=True).map(str),
            st.sampled_from(("", "x", "1e400", "-0", "7.5")),
        )
    )
    fields: dict[str, Any] = {
        "value": value,
        "measurand": draw(st.sampled_from(_MEASURANDS)),
        "context": draw(st.sampled_from((None, "Sample.Periodic", "Transaction.End"))),
        "phase": draw(st.sampled_from((None, None, "L1", "L2", "L3", "L1-N", "N", "L1-L2"))),
    }
    unit = draw(st.sampled_from((None, *_UNITS)))
    if draw(st.booleans()):
        fields["unit"] = unit
    elif unit is not None:
        multiplier = draw(st.sampled_from((0, 0, 3, -3, 12)))
        fields["unitOfMeasure"] = SimpleNamespace(unit=unit, multiplier=multiplier)
    return SimpleNamespace(**fields)


@settings(max_examples=1500, deadline=None)
@given(values=st.lists(sampled_values(), max_size=8))
def test_a_sample_is_read_as_it_was(values: list[SimpleNamespace]) -> None:
    assert read_sample(values) == former_read_sample(values)


@settings(max_examples=1000, deadline=None)
@given(
    when=st.datetimes(timezones=st.one_of(st.none(), st.just(UTC), st.timezones())),
    fold=st.integers(0, 1),
)
def test_a_time_is_written_as_isoformat_writes_it(when: datetime, fold: int) -> None:
    # A status without a time stamp names its receive time in its event's id: the same
    # text (so the same id) as before it was written from msgspec's for a time in UTC.
    when = when.replace(fold=fold)
    assert iso_text(when) == when.isoformat()
    assert iso_text(when.astimezone(UTC)) == when.astimezone(UTC).isoformat()
