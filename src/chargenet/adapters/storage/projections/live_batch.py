"""Status reports and meter samples of a whole batch at once, with the chargers' presence,
boots and data transfers among them (PostgreSQL's writer path).

One at a time (live.py) each of these events costs PostgreSQL three to five statements —
the sender's holdings, the connector's live row, its history or load quarter, the live
row's update — and each statement is a round trip and psycopg's work. Here a run of them
costs a fixed handful for the whole run: the live rows with their connectors' holders and
the chargers' rows read in one statement each, each history table (status, power limits,
meter samples, presence) written in one, the load quarters read and written in one each,
the live rows, the chargers and the sessions updated in one each.

What is written is what live.py would leave after the same events one after another, in
order: per connector the reports are folded in the run's order through the same rules
(`newest_report` for status, the meter's own recency, the load quarter's `last_us`, the
session's `as_of`), per charger its presence reports (`newest_report`) and the identity
its boots state, and only each row's final state is written. Events of different
connectors touch different rows, a status report and a meter sample of one connector
touch different columns, and a charger's events share no table with its connectors' but
the late-report counts (see `BATCHED`), so folding each on its own gives the same rows
as the interleaved order. Anything refused (an unknown connector or charger, a sender
that does not hold it, a value a column cannot hold) raises, and the caller drops the
whole attempt and goes one event at a time.

Only for PostgreSQL: on SQLite a statement is a function call, and live.py is the path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from operator import attrgetter, itemgetter
from typing import Any

import msgspec

from chargenet.adapters.storage.history import HOUR_US, MINUTE_US, is_late
from chargenet.adapters.storage.projections.live import (
    _METER_FIELDS,
    METER_FIELDS_OF,
    METER_KEEP,
    METER_READINGS,
    QUARTER_US,
    meter_readings,
)
from chargenet.adapters.storage.projections.ownership import check_senders
from chargenet.adapters.storage.raw import Raw
from chargenet.core.errors import UnknownReference
from chargenet.core.events import (
    ChargerDataTransferred,
    ChargerInventoryReported,
    ChargerPresenceChanged,
    ConnectorStatusChanged,
    Event,
    MeterSampled,
)
from chargenet.core.ownership import Holder
from chargenet.core.sessions import SessionState
from chargenet.core.status import newest_report
from chargenet.kit.timeutil import to_micros

_CONNECTOR_KINDS = (ConnectorStatusChanged, MeterSampled)
_CHARGER_KINDS = (ChargerPresenceChanged, ChargerInventoryReported, ChargerDataTransferred)
BATCHED: frozenset[type[Event]] = frozenset({*_CONNECTOR_KINDS, *_CHARGER_KINDS})
# The fold below names the live row's readings one by one, in this order.
assert _METER_FIELDS == (
    "power_w",
    "energy_register_wh",
    "current_a",
    "voltage_v",
    "soc_percent",
    "temperature_c",
), _METER_FIELDS
_CONNECTOR_ID = attrgetter("connector_id")
_CHARGER_ID = attrgetter("charger_id")
_FIRST = itemgetter(0)

# A charger's presence, its inventory (a boot) and its data transfers go in a run beside
# its connectors' reports, folded apart from them: they share no table with those but
# `history_late`, where each adds to a count, in either order the same sum. They read and
# write only the charger's own row (`chargers`: presence and identity columns, no other
# kind's), `presence_history` and `charger_inventory`; the connectors' reports read and
# write `connectors` (read only), `connector_live`, their histories, `load_quarters` and
# `sessions`; no rule joins a charger's presence to its connectors' state, and none of
# them changes who holds what (the senders' check). So folding each kind on its own, in
# the run's order, leaves what the interleaved order one at a time leaves; whether
# anything is refused is read from those same disjoint tables, and a refusal drops the
# whole attempt. `tests/adapters/storage/test_ingest_batch.py` keeps this true: random
# interleavings in batches against the same events one at a time.
#
# An inventory with items (a 2.0.1 device model, a 1.6 boot's modem and meter) ends the
# run and is applied on its own, through its Core projection (its items' rows are
# newer-only upserts): it writes the charger's identity too, which a run's boots write at
# the run's end, so applied where it comes it would be overwritten by an older boot's.


def joins_run(event: Event) -> bool:
    """Whether `apply_run` takes the event (else: applied on its own)."""
    return type(event) in BATCHED and not getattr(event, "items", ())


# Rows travel as one JSON text: psycopg quotes array items in Python, msgspec encodes the
# lot at a fraction of that (as the log's batch append does, store.py). Read as jsonb, not
# json: `->>` on a json row parses its text again for each field, jsonb parses it once
# (the server's CPU a 500-row document, µs a row: 6 fields 1.8 with json, 0.7-1.0 with
# jsonb; 3 fields 0.8, 0.6; 9 fields 9.0, 4.5 with the insert). `jsonb_to_recordset` and
# `json_to_recordset` cost more still (2.0-2.2 and 1.2 for 6 fields): they need objects,
# whose keys are parsed in every row.
_ROWS = "jsonb_array_elements(:rows ::jsonb)"

_LIVE = (
    "SELECT c.connector_id, l.connector_id, l.status, l.status_since, l.status_at,"
    " l.meter_at, c.station_id, c.operator_id, c.charger_id FROM connectors c"
    " LEFT JOIN connector_live l"
    " ON l.connector_id = c.connector_id WHERE c.connector_id = ANY(:ids)"
)
_NEW_LIVE = "INSERT INTO connector_live (connector_id) SELECT unnest(:ids ::text[])"

_STATUS_HISTORY = (
    "INSERT INTO status_history (connector_id, at_us, status, error_code, vendor_error_code,"
    " info) SELECT r->>0, (r->>1)::bigint, r->>2, r->>3, r->>4, r->>5 FROM " + _ROWS + " AS r"
    " ON CONFLICT (connector_id, at_us) DO UPDATE SET status = excluded.status,"
    " error_code = excluded.error_code, vendor_error_code = excluded.vendor_error_code,"
    " info = excluded.info"
)
# Plain first, as the meter history below (a limit comes with a sample): 4.9 → 3.3 µs of
# the server's CPU a batch's event where each sample states the power offered.
_LIMIT_NEW = (
    "INSERT INTO power_limit_history (connector_id, at_us, limit_w) SELECT r->>0,"
    " (r->>1)::bigint, (r->>2)::integer FROM " + _ROWS + " AS r"
)
_LIMIT_HISTORY = (
    f"{_LIMIT_NEW} ON CONFLICT (connector_id, at_us) DO UPDATE SET limit_w = excluded.limit_w"
)
# The readings' types, in METER_READINGS' order. Floats go through double precision, as
# psycopg binds them one at a time: the same REAL either way.
_READING_CASTS = ("text", "bigint", "integer", *["float8::real"] * 4)
# Inserted plain first (`Raw.insert_new`): a sample at an instant already held is rare (the
# run's own are merged before), and ON CONFLICT's speculative insertion walks the key
# twice a row and writes a confirmation record a row: the server's CPU a batch's event
# 6.4 → 4.7 µs in the benchmark's mix (docs/scale.md). The status history stays as it
# is: a tenth of the events, its saving (1.05 → 0.92 µs an event) about what the
# savepoint's two statements cost the writer.
_METER_NEW = (
    f"INSERT INTO meter_history (connector_id, at_us, {', '.join(METER_READINGS)})"
    " SELECT r->>0, (r->>1)::bigint, "
    + ", ".join(f"(r->>{i})::{cast}" for i, cast in enumerate(_READING_CASTS, 2))
    + " FROM "
    + _ROWS
    + " AS r"
)
_METER_HISTORY = f"{_METER_NEW} ON CONFLICT (connector_id, at_us) DO UPDATE SET {METER_KEEP}"
_LATE = (
    "INSERT INTO history_late (history, span_us, start_us, reports) SELECT r->>0,"
    " (r->>1)::bigint, (r->>2)::bigint, (r->>3)::integer FROM " + _ROWS + " AS r"
    " ON CONFLICT (span_us, start_us, history) DO UPDATE"
    " SET reports = history_late.reports + excluded.reports"
)
# The quarters as held, locked until the transaction ends: nothing else adds to them
# between this read and the write below.
_QUARTERS = (
    "SELECT q.station_id, q.at_us, q.connector_id, q.last_us"
    " FROM load_quarters q JOIN " + _ROWS + " AS r ON q.station_id = r->>0"
    " AND q.at_us = (r->>1)::bigint AND q.connector_id = r->>2 FOR UPDATE OF q"
)
# What the run's samples add, as live.py's `_LOAD_QUARTER` adds one sample (a quarter made
# meanwhile by another transaction is added to as that statement would).
_ADD_QUARTERS = (
    "INSERT INTO load_quarters (station_id, at_us, connector_id, sum_w, samples, last_us)"
    " SELECT r->>0, (r->>1)::bigint, r->>2, (r->>3)::bigint, (r->>4)::integer,"
    " (r->>5)::bigint FROM " + _ROWS + " AS r ON CONFLICT (station_id, at_us, connector_id)"
    " DO UPDATE SET sum_w = load_quarters.sum_w + excluded.sum_w,"
    " samples = load_quarters.samples + excluded.samples, last_us = excluded.last_us"
    " WHERE excluded.last_us > load_quarters.last_us"
)

_CHARGERS = (
    "SELECT charger_id, operator_id, online, presence_since, presence_at FROM chargers"
    " WHERE charger_id = ANY(:ids)"
)
_PRESENCE_HISTORY = (
    "INSERT INTO presence_history (charger_id, at_us, online, reason) SELECT r->>0,"
    " (r->>1)::bigint, (r->>2)::boolean, r->>3 FROM " + _ROWS + " AS r"
    " ON CONFLICT (charger_id, at_us) DO UPDATE SET online = excluded.online,"
    " reason = excluded.reason"
)
# A charger's presence and the identity its boots stated, each column set where the row
# names it, else left as it is.
_CHARGER_TYPES = {
    "online": "boolean",
    "presence_since": "timestamptz",
    "presence_at": "timestamptz",
    "vendor": "text",
    "model": "text",
    "serial_number": "text",
    "firmware": "text",
}


def _set_where_named(table: str, key: str, types: dict[str, str]) -> str:
    """An UPDATE of `table`'s rows by `key` from the rows given, each column in `types`
    set where the given row names it (null included), else left as it is (`?`, has the
    key, is jsonb's)."""
    sets = ", ".join(
        f"{c} = CASE WHEN r ? '{c}' THEN (r->>'{c}')::{t} ELSE t.{c} END" for c, t in types.items()
    )
    return f"UPDATE {table} t SET {sets} FROM {_ROWS} AS r WHERE t.{key} = r->>'{key}'"


_SET_CHARGERS = _set_where_named("chargers", "charger_id", _CHARGER_TYPES)
_IDENTITY = ("vendor", "model", "serial_number", "firmware")

_LIVE_TYPES = {
    "status": "text",
    "status_since": "timestamptz",
    "status_at": "timestamptz",
    "error_code": "text",
    "vendor_error_code": "text",
    "info": "text",
    "meter_at": "timestamptz",
    "power_w": "integer",
    "energy_register_wh": "bigint",
    "current_a": "double precision",
    "voltage_v": "double precision",
    "soc_percent": "double precision",
    "temperature_c": "double precision",
}
# A meter sample sets only the readings it carries.
_SET_LIVE = _set_where_named("connector_live", "connector_id", _LIVE_TYPES)
_SESSIONS = (
    "SELECT session_id, state, as_of, meter_start_wh, peak_power_w FROM sessions"
    " WHERE session_id = ANY(:ids)"
)
_SET_SESSIONS = (
    "UPDATE sessions s SET as_of = (r->>1)::timestamptz,"
    " energy_wh = COALESCE((r->>2)::integer, s.energy_wh), peak_power_w = (r->>3)::integer"
    " FROM " + _ROWS + " AS r WHERE s.session_id = r->>0"
)


def _utc(value: datetime) -> datetime:
    """The time in UTC, which msgspec writes in C as the JSON text the rows travel in
    ("…Z", `_json`), read by PostgreSQL as the instant `isoformat`'s "…+00:00" is; an
    `isoformat` costs 12,000 instructions in CPython 3.11 (its printf), a third of the
    fold's. An identity test first: nearly every time is in UTC already (msgspec would
    drop the seconds of an offset, which `astimezone` keeps)."""
    return value if value.tzinfo is UTC else value.astimezone(UTC)


_TIMES = ("status_since", "status_at", "meter_at")
_CHARGER_TIMES = ("presence_since", "presence_at")


def _times(sets: dict[str, Any], names: tuple[str, ...] = _TIMES) -> dict[str, Any]:
    """A row's columns to set, its times (`names`) in UTC for `_json` (only each row's
    last ones: the run's events fold first)."""
    for name in names:
        value = sets.get(name)
        if value is not None:
            sets[name] = _utc(value)
    return sets


def _json(rows: Any) -> dict[str, str]:
    return {"rows": msgspec.json.encode(rows).decode()}


class _Connector:
    """A connector's live row as the run's events so far have left it."""

    __slots__ = ("meter_at", "sets", "since", "station_id", "status", "status_at")

    def __init__(self, row: Any, raw: Raw) -> None:
        self.status: str | None = row[2]
        self.since = raw.read_t(row[3])
        self.status_at = raw.read_t(row[4])
        self.meter_at = raw.read_t(row[5])
        self.station_id: str | None = row[6]
        self.sets: dict[str, Any] = {}  # the columns to write, and their values


class _Charger:
    """A charger's presence as the run's events so far have left it."""

    __slots__ = ("at", "online", "sets", "since")

    def __init__(self, row: Any, raw: Raw) -> None:
        self.online: bool | None = None if row[2] is None else bool(row[2])
        self.since = raw.read_t(row[3])
        self.at = raw.read_t(row[4])
        self.sets: dict[str, Any] = {}  # the columns to write, and their values


def apply_run(raw: Raw, events: Sequence[Event]) -> None:
    """Apply status reports and meter samples, and chargers' presence, inventory without
    items and data transfers (`joins_run`), in order, as live.py and ocpp.py would."""
    about = [e for e in events if isinstance(e, _CONNECTOR_KINDS)]
    # `map` of a getter, not a generator: each item without a frame's resumption.
    ids = list(dict.fromkeys(map(_CONNECTOR_ID, about)))
    rows = {row[0]: row for row in raw.all(_LIVE, {"ids": ids})} if ids else {}
    charger_ids = list(
        dict.fromkeys(map(_CHARGER_ID, [e for e in events if isinstance(e, _CHARGER_KINDS)]))
    )
    charger_rows = (
        {row[0]: row for row in raw.all(_CHARGERS, {"ids": charger_ids})} if charger_ids else {}
    )
    # The connectors' and chargers' holders came with their rows: the senders' check asks
    # only for anything else the events name (their sessions).
    known: dict[tuple[str, str], Holder | None] = {
        ("connector", cid): Holder(rows[cid][7], rows[cid][8]) if cid in rows else None
        for cid in ids
    }
    for chid in charger_ids:
        row = charger_rows.get(chid)
        known[("charger", chid)] = None if row is None else Holder(row[1], chid)
    check_senders(raw, events, known)
    for cid in ids:
        if cid not in rows:
            raise UnknownReference("connector", cid)
    for chid in charger_ids:
        if chid not in charger_rows:
            raise UnknownReference("charger", chid)
    missing = [cid for cid in ids if rows[cid][1] is None]
    if missing:
        raw.execute(_NEW_LIVE, {"ids": missing})
    held = {cid: _Connector(rows[cid], raw) for cid in ids}
    chargers = {chid: _Charger(charger_rows[chid], raw) for chid in charger_ids}
    presence: dict[tuple[str, int], list[Any]] = {}

    status_history: dict[tuple[str, int], list[Any]] = {}
    limits: dict[tuple[str, int], list[Any]] = {}
    late: Counter[tuple[str, int, int]] = Counter()
    meters: dict[tuple[str, int], list[Any]] = {}  # (connector, at_us): the readings
    samples: list[tuple[tuple[str, int, str], int, int]] = []  # key, power, at_us
    sessions: list[tuple[str, MeterSampled]] = []

    def note_late(table: str, event: Event, newest: datetime | None) -> None:
        if is_late(event.occurred_at, event.received_at, newest):
            at_us = to_micros(event.occurred_at)
            late[(table, MINUTE_US, at_us - at_us % MINUTE_US)] += 1
            late[(table, HOUR_US, at_us - at_us % HOUR_US)] += 1

    for event in events:
        if isinstance(event, MeterSampled):  # nine in ten: asked first
            cid = event.connector_id
            occurred = event.occurred_at
            c = held[cid]
            at_us = to_micros(occurred)
            readings = meter_readings(event)
            if readings is not None:
                # Two samples at one instant: each reading the last one given (live.py).
                had = meters.setdefault((cid, at_us), readings)
                if had is not readings:
                    had[:] = [v if v is not None else h for v, h in zip(readings, had, strict=True)]
            if event.power_offered_w is not None:
                limits[(cid, at_us)] = [cid, at_us, event.power_offered_w]
                note_late("power_limit_history", event, c.meter_at)
            power = event.power_w
            if power is not None and c.station_id is not None:
                samples.append(((c.station_id, at_us - at_us % QUARTER_US, cid), power, at_us))
            if c.meter_at is None or c.meter_at <= occurred:
                c.meter_at = occurred
                sets = c.sets
                sets["meter_at"] = occurred
                # The live row's readings (`_METER_FIELDS`, in order), each where given,
                # without a loop.
                power, energy, current, voltage, soc, temperature = METER_FIELDS_OF(event)
                if power is not None:
                    sets["power_w"] = power
                if energy is not None:
                    sets["energy_register_wh"] = energy
                if current is not None:
                    sets["current_a"] = current
                if voltage is not None:
                    sets["voltage_v"] = voltage
                if soc is not None:
                    sets["soc_percent"] = soc
                if temperature is not None:
                    sets["temperature_c"] = temperature
            if event.session_id is not None:
                sessions.append((event.session_id, event))
        elif isinstance(event, ConnectorStatusChanged):
            c = held[event.connector_id]
            at_us = to_micros(event.occurred_at)
            # Two reports at one instant: the later one's row, as the upsert leaves it.
            status_history[(event.connector_id, at_us)] = [
                event.connector_id,
                at_us,
                event.status.value,
                event.error_code,
                event.vendor_error_code,
                event.info,
            ]
            note_late("status_history", event, c.status_at)
            now = newest_report(
                c.status, c.since, c.status_at, event.status.value, event.occurred_at
            )
            if now is None:
                continue  # late (the rule: core/status.py)
            c.status, c.since, c.status_at = now.value, now.since, now.as_of
            sets = c.sets
            # The times as they are: only each row's last ones are written (`_times`).
            sets["status"] = now.value
            sets["status_since"] = now.since
            sets["status_at"] = now.as_of
            sets["error_code"] = event.error_code
            sets["vendor_error_code"] = event.vendor_error_code
            sets["info"] = event.info
        elif isinstance(event, ChargerPresenceChanged):
            h = chargers[event.charger_id]
            at_us = to_micros(event.occurred_at)
            # Two reports at one instant: the later one's row, as the upsert leaves it.
            presence[(event.charger_id, at_us)] = [
                event.charger_id,
                at_us,
                event.online,
                event.reason or None,
            ]
            note_late("presence_history", event, h.at)
            was = newest_report(h.online, h.since, h.at, event.online, event.occurred_at)
            if was is None:
                continue  # late (the rule: core/status.py)
            h.online, h.since, h.at = was.value, was.since, was.as_of
            sets = h.sets
            sets["online"] = was.value
            sets["presence_since"] = was.since
            sets["presence_at"] = was.as_of
        elif isinstance(event, ChargerInventoryReported):
            # What the charger states about itself is the newest word on it (ocpp.py).
            sets = chargers[event.charger_id].sets
            for name in _IDENTITY:
                value = getattr(event, name)
                if value is not None:
                    sets[name] = value
        elif not isinstance(event, ChargerDataTransferred):  # that one: a known charger
            raise TypeError(f"{event.TYPE} is not applied in batches")

    if status_history:
        raw.execute(_STATUS_HISTORY, _json(list(status_history.values())))
    if limits:
        raw.insert_new(_LIMIT_NEW, _LIMIT_HISTORY, _json(list(limits.values())))
    if meters:
        rows = _json([[*key, *v] for key, v in meters.items()])
        raw.insert_new(_METER_NEW, _METER_HISTORY, rows)
    if presence:
        raw.execute(_PRESENCE_HISTORY, _json(list(presence.values())))
    if late:
        # In key order: the only rows two writers (or a writer's two lanes) both add to,
        # so every batch locks them in one order and none waits on another in a cycle.
        raw.execute(_LATE, _json([[*key, n] for key, n in sorted(late.items())]))
    if samples:
        _load_quarters(raw, samples)
    changed = [{"connector_id": cid, **_times(c.sets)} for cid, c in held.items() if c.sets]
    if changed:
        raw.execute(_SET_LIVE, _json(changed))
    if sessions:
        _advance_sessions(raw, sessions)
    changed_chargers = [
        {"charger_id": chid, **_times(h.sets, _CHARGER_TIMES)}
        for chid, h in chargers.items()
        if h.sets
    ]
    if changed_chargers:
        raw.execute(_SET_CHARGERS, _json(changed_chargers))


def _load_quarters(raw: Raw, samples: list[tuple[tuple[str, int, str], int, int]]) -> None:
    """Each sample adds to its quarter only when newer than the last one counted there
    (live.py's `_LOAD_QUARTER`): the newest counted of each quarter as held, then the
    samples in order, then what they add in one statement."""
    keys = list(dict.fromkeys(map(_FIRST, samples)))
    last: dict[tuple[str, int, str], int] = {
        (r[0], r[1], r[2]): r[3] for r in raw.all(_QUARTERS, _json(keys))
    }
    added: dict[tuple[str, int, str], list[int]] = {}  # sum, samples, newest counted
    for key, power, at_us in samples:
        newest = last.get(key)
        if newest is not None and at_us <= newest:
            continue
        last[key] = at_us
        a = added.setdefault(key, [0, 0, at_us])
        a[0], a[1], a[2] = a[0] + power, a[1] + 1, at_us
    if added:
        raw.execute(_ADD_QUARTERS, _json([[*key, *a] for key, a in added.items()]))


def _advance_sessions(raw: Raw, samples: list[tuple[str, MeterSampled]]) -> None:
    """The energy and peak power of the samples' active sessions, as live.py's
    `advance_session` leaves them after the samples one at a time."""
    ids = list(dict.fromkeys(map(_FIRST, samples)))
    held = {row[0]: row for row in raw.all(_SESSIONS, {"ids": ids})}
    final: dict[str, list[Any]] = {}  # session_id: [as_of, energy or None, peak or None]
    for sid, event in samples:
        row = held.get(sid)
        if row is None or row[1] != SessionState.ACTIVE.value:
            continue  # an unknown session, or a finished one: only the live reading changes
        now = final.get(sid)
        as_of = now[0] if now is not None else raw.read_t(row[2])
        peak = now[2] if now is not None else row[4]
        if as_of is not None and as_of > event.occurred_at:
            continue
        energy = None
        if event.energy_register_wh is not None and row[3] is not None:
            delivered = event.energy_register_wh - row[3]
            energy = delivered if delivered >= 0 else None
        if energy is None and now is not None:
            energy = now[1]  # COALESCE: the newest energy known stands
        final[sid] = [event.occurred_at, energy, max(peak or 0, event.power_w or 0) or None]
    if final:
        raw.execute(
            _SET_SESSIONS,
            _json([[sid, _utc(v[0]), v[1], v[2]] for sid, v in final.items()]),
        )
