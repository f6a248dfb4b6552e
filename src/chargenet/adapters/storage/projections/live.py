"""Live state of equipment: presence, connector status, last meter reading (hot path: raw
SQL, see storage/raw.py)."""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import Any

from chargenet.adapters.storage.history import NOTE_LATE, is_late, late_params
from chargenet.adapters.storage.raw import Raw
from chargenet.core.errors import UnknownReference
from chargenet.core.events import (
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    Event,
    MeterSampled,
)
from chargenet.core.money import Money
from chargenet.core.sessions import SessionState
from chargenet.core.status import newest_report
from chargenet.kit.timeutil import to_micros

_CONNECTOR_LIVE = """
SELECT c.connector_id, l.connector_id, l.status, l.status_since, l.meter_at, l.session_id,
       l.status_at, c.charger_id, c.station_id, c.operator_id
FROM connectors c LEFT JOIN connector_live l ON l.connector_id = c.connector_id
WHERE c.connector_id = :cid"""


# Status and presence history: one row per report. Two reports at the same
# instant: the one applied last wins, as in connector_live, so replay gives the same rows.
_STATUS_HISTORY = (
    "INSERT INTO status_history (connector_id, at_us, status, error_code, vendor_error_code,"
    " info) VALUES (:cid, :at, :status, :error, :vendor, :info) ON CONFLICT (connector_id, at_us)"
    " DO UPDATE SET status = excluded.status, error_code = excluded.error_code,"
    " vendor_error_code = excluded.vendor_error_code, info = excluded.info"
)
_LIMIT_HISTORY = (
    "INSERT INTO power_limit_history (connector_id, at_us, limit_w) VALUES (:cid, :at, :limit)"
    " ON CONFLICT (connector_id, at_us) DO UPDATE SET limit_w = excluded.limit_w"
)
# Metered load per quarter hour (orderly charging's load curves, peaks and demand-response
# measurement): each connector's samples add up in its quarter. A sample counts only when it
# is newer than the last one counted there (`last_us`), so applying an event again adds
# nothing (projections are idempotent) and a rebuild from the log, in the log's order, gives
# the same rows; a sample arriving after a newer one of its quarter is left out of the mean.
QUARTER_US = 900_000_000
_LOAD_QUARTER = (
    "INSERT INTO load_quarters (station_id, at_us, connector_id, sum_w, samples, last_us)"
    " VALUES (:sid, :at, :cid, :w, 1, :last) ON CONFLICT (station_id, at_us, connector_id)"
    " DO UPDATE SET sum_w = load_quarters.sum_w + excluded.sum_w,"
    " samples = load_quarters.samples + 1, last_us = excluded.last_us"
    " WHERE excluded.last_us > load_quarters.last_us"
)
# Meter history: one row per connector and instant. Two samples at one instant (a charger
# sending its measurands in separate messages, the same sample again): each reading is the
# last one given, the others stay, as in connector_live; whatever the order samples of
# different instants arrive in, their rows are the same.
METER_READINGS = (
    "session_id",
    "energy_register_wh",
    "power_w",
    "current_a",
    "voltage_v",
    "soc_percent",
    "temperature_c",
)
_ENERGY = METER_READINGS.index("energy_register_wh")
METER_KEEP = ", ".join(f"{c} = COALESCE(excluded.{c}, meter_history.{c})" for c in METER_READINGS)
_METER_HISTORY = (
    f"INSERT INTO meter_history (connector_id, at_us, {', '.join(METER_READINGS)})"
    f" VALUES (:cid, :at, {', '.join(':' + c for c in METER_READINGS)})"
    f" ON CONFLICT (connector_id, at_us) DO UPDATE SET {METER_KEEP}"
)
_PRESENCE_HISTORY = (
    "INSERT INTO presence_history (charger_id, at_us, online, reason) VALUES (:id, :at,"
    " :online, :reason) ON CONFLICT (charger_id, at_us) DO UPDATE SET online = excluded.online,"
    " reason = excluded.reason"
)


def _note_late(raw: Raw, table: str, event: Event, newest_held: datetime | None) -> None:
    """Count a late report (the rule and why: adapters/storage/history.py)."""
    if is_late(event.occurred_at, event.received_at, newest_held):
        raw.execute(NOTE_LATE, late_params(table, to_micros(event.occurred_at)))


def connector_live(raw: Raw, connector_id: str) -> Any:
    """(id, live id or None, status, status_since, meter_at, session_id, status_at,
    charger_id, station_id, operator_id); refuses an unknown connector."""
    row = raw.one(_CONNECTOR_LIVE, {"cid": connector_id})
    if row is None:
        raise UnknownReference("connector", connector_id)
    if row[1] is None:
        raw.execute(
            "INSERT INTO connector_live (connector_id) VALUES (:cid)", {"cid": connector_id}
        )
    return row


def _apply_presence(raw: Raw, event: ChargerPresenceChanged) -> None:
    row = raw.one(
        "SELECT online, presence_since, presence_at FROM chargers WHERE charger_id = :id",
        {"id": event.charger_id},
    )
    if row is None:
        raise UnknownReference("charger", event.charger_id)
    # History first: a late report is history even when it no longer changes the present.
    raw.execute(
        _PRESENCE_HISTORY,
        {
            "id": event.charger_id,
            "at": to_micros(event.occurred_at),
            "online": raw.flag(event.online),
            "reason": event.reason or None,
        },
    )
    held = None if row[0] is None else bool(row[0])
    since, as_of = raw.read_t(row[1]), raw.read_t(row[2])
    _note_late(raw, "presence_history", event, as_of)
    now = newest_report(held, since, as_of, event.online, event.occurred_at)
    if now is None:
        return  # late (the rule: core/status.py)
    t = raw.t(now.as_of)
    raw.execute(
        "UPDATE chargers SET online = :online, presence_since = :since, presence_at = :t"
        " WHERE charger_id = :id",
        {
            "online": raw.flag(now.value),
            "since": t if now.since == now.as_of else raw.t(now.since),
            "t": t,
            "id": event.charger_id,
        },
    )


def _apply_status(raw: Raw, event: ConnectorStatusChanged) -> None:
    row = connector_live(raw, event.connector_id)
    params = {
        "cid": event.connector_id,
        "error": event.error_code,
        "vendor": event.vendor_error_code,
        "info": event.info,
    }
    # History first: a late report is history even when it no longer changes the present.
    raw.execute(
        _STATUS_HISTORY,
        {**params, "at": to_micros(event.occurred_at), "status": event.status.value},
    )
    held, since, as_of = row[2], raw.read_t(row[3]), raw.read_t(row[6])
    _note_late(raw, "status_history", event, as_of)
    now = newest_report(held, since, as_of, event.status.value, event.occurred_at)
    if now is None:
        return  # late (the rule: core/status.py)
    t = raw.t(now.as_of)
    if now.since != now.as_of:
        # A repeat: the status and when it began stay; the details are the newest report's.
        raw.execute(
            "UPDATE connector_live SET status_at = :t, error_code = :error,"
            " vendor_error_code = :vendor, info = :info WHERE connector_id = :cid",
            {**params, "t": t},
        )
        return
    raw.execute(
        "UPDATE connector_live SET status = :status, status_since = :t, status_at = :t,"
        " error_code = :error, vendor_error_code = :vendor, info = :info"
        " WHERE connector_id = :cid",
        {**params, "status": now.value, "t": t},
    )


_METER_FIELDS = (
    "power_w",
    "energy_register_wh",
    "current_a",
    "voltage_v",
    "soc_percent",
    "temperature_c",
)


# The fields read together, in C (a writer reads them for every sample it stores).
_READINGS_OF = attrgetter(*METER_READINGS)
METER_FIELDS_OF = attrgetter(*_METER_FIELDS)


def meter_readings(event: MeterSampled) -> list[Any] | None:
    """The sample's `METER_READINGS`, or None when it carries none of the meter's own (only
    an offered power: power_limit_history's). Without a register, the session's energy so
    far stands in the history's energy column (a register restarting at 0 with each
    session, which the hourly rule counts as such: rollup.py); the live state's register
    is the meter's only."""
    values = list(_READINGS_OF(event))
    if values[_ENERGY] is None:
        values[_ENERGY] = event.session_energy_wh
    return values if values[1:].count(None) < len(values) - 1 else None


def write_meter_row(raw: Raw, connector_id: str, at: datetime, readings: dict[str, Any]) -> None:
    """One row of meter history: `readings` by name (METER_READINGS), the rest not given."""
    row = {name: readings.get(name) for name in METER_READINGS}
    raw.execute(_METER_HISTORY, {"cid": connector_id, "at": to_micros(at), **row})


def _apply_meter(raw: Raw, event: MeterSampled) -> None:
    row = connector_live(raw, event.connector_id)
    readings = meter_readings(event)
    if readings is not None:
        write_meter_row(
            raw,
            event.connector_id,
            event.occurred_at,
            dict(zip(METER_READINGS, readings, strict=True)),
        )
    if event.power_offered_w is not None:  # history for uptime, late reports included
        raw.execute(
            _LIMIT_HISTORY,
            {
                "cid": event.connector_id,
                "at": to_micros(event.occurred_at),
                "limit": event.power_offered_w,
            },
        )
        _note_late(raw, "power_limit_history", event, raw.read_t(row[4]))
    if event.power_w is not None and row[8] is not None:
        at = to_micros(event.occurred_at)
        raw.execute(
            _LOAD_QUARTER,
            {
                "sid": row[8],
                "at": at - at % QUARTER_US,
                "cid": event.connector_id,
                "w": event.power_w,
                "last": at,
            },
        )
    meter_at = raw.read_t(row[4])
    if meter_at is None or meter_at <= event.occurred_at:
        given = [name for name in _METER_FIELDS if getattr(event, name) is not None]
        sets = "".join(f", {name} = :{name}" for name in given)
        raw.execute(
            f"UPDATE connector_live SET meter_at = :t{sets} WHERE connector_id = :cid",
            {
                "t": raw.t(event.occurred_at),
                "cid": event.connector_id,
                **{name: getattr(event, name) for name in given},
            },
        )
    if event.session_id is None:
        return
    session = raw.one(
        "SELECT state, as_of, meter_start_wh, peak_power_w FROM sessions WHERE session_id = :sid",
        {"sid": event.session_id},
    )
    if session is None:
        return  # samples of an unknown session change only the live reading
    energy = None
    if event.energy_register_wh is not None and session[2] is not None:
        delivered = event.energy_register_wh - session[2]
        energy = delivered if delivered >= 0 else None
    advance_session(
        raw,
        event.session_id,
        session[0],
        session[1],
        session[3],
        event.occurred_at,
        energy_wh=energy,
        power_w=event.power_w,
    )


def advance_session(
    raw: Raw,
    session_id: str,
    state: str,
    as_of: Any,
    peak_power_w: int | None,
    at: datetime,
    *,
    energy_wh: int | None,
    power_w: int | None,
    cost: Money | None = None,
) -> None:
    """Move an active session forward: energy so far, peak power, cost. A finished session,
    or news older than what the session holds, changes nothing."""
    stored = raw.read_t(as_of)
    if state != SessionState.ACTIVE.value or (stored is not None and stored > at):
        return
    peak = max(peak_power_w or 0, power_w or 0)
    raw.execute(
        "UPDATE sessions SET as_of = :t, energy_wh = COALESCE(:energy, energy_wh),"
        " peak_power_w = :peak, cost_amount = COALESCE(:cost, cost_amount),"
        " currency = COALESCE(:currency, currency) WHERE session_id = :sid",
        {
            "t": raw.t(at),
            "energy": energy_wh,
            "peak": peak or None,
            "cost": raw.money(cost.amount) if cost else None,
            "currency": cost.currency if cost else None,
            "sid": session_id,
        },
    )


APPLIERS: dict[type[Event], Any] = {
    ChargerPresenceChanged: _apply_presence,
    ConnectorStatusChanged: _apply_status,
    MeterSampled: _apply_meter,
}
