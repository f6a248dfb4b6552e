"""Charging sessions (hot path: raw SQL, see storage/raw.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargenet.adapters.storage.projections.live import (
    advance_session,
    connector_live,
    write_meter_row,
)
from chargenet.adapters.storage.raw import Raw
from chargenet.core.errors import Conflict, UnknownReference
from chargenet.core.events import Event, SessionEnded, SessionStarted, SessionUpdated
from chargenet.core.sessions import SessionFlag, SessionState, session_energy


def _flags(*groups: Any) -> str:
    seen: list[str] = []
    for group in groups:
        for flag in group:
            value = flag.value if isinstance(flag, SessionFlag) else str(flag)
            if value and value not in seen:
                seen.append(value)
    return ",".join(sorted(seen))


def _split(flags: str) -> list[str]:
    return [f for f in flags.split(",") if f]


_SESSION = """SELECT connector_id, state, as_of, meter_start_wh, peak_power_w, flags, started_at
FROM sessions WHERE session_id = :sid"""


def _apply_started(raw: Raw, event: SessionStarted) -> None:
    live = connector_live(raw, event.connector_id)
    existing = raw.one(_SESSION, {"sid": event.session_id})
    if existing is not None:
        if existing[0] != event.connector_id:
            raise Conflict(f"session {event.session_id} is on connector {existing[0]}")
        return  # a second start of the same session changes nothing
    owner = live[7:10]  # charger_id, station_id, operator_id of the connector
    raw.execute(
        "INSERT INTO sessions (session_id, connector_id, charger_id, station_id, operator_id,"
        " state, started_at, meter_start_wh, energy_wh, flags, token_hash, source_adapter,"
        " as_of) VALUES (:sid, :cid, :charger, :station, :operator, :state, :t, :start, 0,"
        " :flags, :token, :adapter, :t)",
        {
            "sid": event.session_id,
            "cid": event.connector_id,
            "charger": owner[0],
            "station": owner[1],
            "operator": owner[2],
            "state": SessionState.ACTIVE.value,
            "t": raw.t(event.occurred_at),
            "start": event.meter_start_wh,
            "flags": _flags(event.flags),
            "token": event.token_hash,
            "adapter": event.source.adapter,
        },
    )
    if event.meter_start_wh is not None:
        # The register at the start (OCPP 1.6 sends it in StartTransaction, not as a meter
        # value): the energy up to the session's first sample counts from here, in its hour.
        write_meter_row(
            raw,
            event.connector_id,
            event.occurred_at,
            {"session_id": event.session_id, "energy_register_wh": event.meter_start_wh},
        )
    if live[5] is None:
        raw.execute(
            "UPDATE connector_live SET session_id = :sid WHERE connector_id = :cid",
            {"sid": event.session_id, "cid": event.connector_id},
        )


def _require_session(raw: Raw, session_id: str) -> Any:
    row = raw.one(_SESSION, {"sid": session_id})
    if row is None:
        raise UnknownReference("session", session_id)
    return row


def _apply_updated(raw: Raw, event: SessionUpdated) -> None:
    session = _require_session(raw, event.session_id)
    advance_session(
        raw,
        event.session_id,
        session[1],
        session[2],
        session[4],
        event.occurred_at,
        energy_wh=event.energy_wh,
        power_w=event.power_w,
        cost=event.cost,
    )


def _apply_ended(raw: Raw, event: SessionEnded) -> None:
    session = _require_session(raw, event.session_id)
    if session[1] == SessionState.COMPLETED.value:
        return  # a resent stop changes nothing
    connector_id, meter_start, started_at = session[0], session[3], raw.read_t(session[6])
    assert started_at is not None
    max_power = raw.one(
        "SELECT max_power_w FROM connectors WHERE connector_id = :cid", {"cid": connector_id}
    )
    energy = event.energy_wh
    flags = _split(session[5]) + [f.value for f in event.flags]
    if event.meter_stop_wh is not None and meter_start is not None:
        verdict = session_energy(
            meter_start,
            event.meter_stop_wh,
            started_at,
            event.occurred_at,
            max_power[0] if max_power else None,
        )
        energy = verdict.energy_wh
        flags += [f.value for f in verdict.flags]
    as_of = raw.read_t(session[2]) or event.occurred_at
    raw.execute(
        "UPDATE sessions SET state = :state, ended_at = :ended, meter_stop_wh = :stop,"
        " energy_wh = :energy, stop_reason = :reason, flags = :flags, as_of = :as_of,"
        " cost_amount = COALESCE(:cost, cost_amount), currency = COALESCE(:currency, currency)"
        " WHERE session_id = :sid",
        {
            "state": SessionState.COMPLETED.value,
            "ended": raw.t(max(event.occurred_at, started_at)),
            "stop": event.meter_stop_wh,
            "energy": energy,
            "reason": event.stop_reason,
            "flags": _flags(flags),
            "as_of": raw.t(max(event.occurred_at, as_of)),
            "cost": raw.money(event.cost.amount) if event.cost else None,
            "currency": event.cost.currency if event.cost else None,
            "sid": event.session_id,
        },
    )
    raw.execute(
        "UPDATE connector_live SET session_id = NULL"
        " WHERE connector_id = :cid AND session_id = :sid",
        {"cid": connector_id, "sid": event.session_id},
    )
    _flow_stopped(raw, connector_id, event.session_id, max(event.occurred_at, started_at))


def _flow_stopped(raw: Raw, connector_id: str, session_id: str, ended: datetime) -> None:
    """The end of a session is the end of its energy flow: the connector's live power and
    current read 0 from then on, not the last charging sample. Not when a newer reading
    is held, nor when another session has begun on the connector since."""
    live = raw.one(
        "SELECT session_id, meter_at FROM connector_live WHERE connector_id = :cid",
        {"cid": connector_id},
    )
    if live is None or live[0] not in (None, session_id):
        return
    meter_at = raw.read_t(live[1])
    if meter_at is None or meter_at > ended:
        return
    raw.execute(
        "UPDATE connector_live SET meter_at = :t,"
        " power_w = CASE WHEN power_w IS NULL THEN NULL ELSE 0 END,"
        " current_a = CASE WHEN current_a IS NULL THEN NULL ELSE 0 END"
        " WHERE connector_id = :cid",
        {"t": raw.t(ended), "cid": connector_id},
    )


APPLIERS: dict[type[Event], Any] = {
    SessionStarted: _apply_started,
    SessionUpdated: _apply_updated,
    SessionEnded: _apply_ended,
}
