"""The receiver interfaces (Locations at Location, EVSE and Connector level; Sessions; CDRs;
Tariffs) as a service, used by the HTTP routes and by the pull job alike.

Every write is checked before anything is submitted, so a refusal changes nothing: the
party must be one the caller registered (else 2001), the objects it names must exist
(else 2003), each event must pass its own checks (else 2001, naming the field), and no
time it states may lie further ahead than a clock may drift (else 2001). A REMOVED EVSE
comes back only by a PUT of it: a PATCH to another status is refused (2001, `_on_removed`).
`last_updated` decides ordering: an object older than the one held is acknowledged and
ignored; status-only EVSE updates, which leave no newer `as_of` on any registry row, are
remembered here so that a late one cannot overwrite a newer status.

Every object written is also kept whole as the party stated it (`inbound.stated`); a PATCH
is merged into what we hold, so the statement kept is always the whole object. Ids are
matched without regard to case (OCPI CiString): global ids hold them upper-cased.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chargenet.adapters.ocpi import inbound, model, outbound
from chargenet.adapters.ocpi.ids import PartyBook, connector_global, global_id, same_id
from chargenet.adapters.ocpi.inbound import Writer, stated
from chargenet.adapters.ocpi.lookups import EvseLookups
from chargenet.adapters.ocpi.status import LIFECYCLE_STATUSES
from chargenet.adapters.ocpi.wire import OcpiError, Status, parse_time, stated_time
from chargenet.app.ingest import Disposition, Outcome
from chargenet.app.ocpi import (
    EvseConnectorsRow,
    OcpiDirectory,
    OcpiQueries,
    OcpiSessionRow,
    OcpiStationRow,
    OcpiTariffRow,
    Party,
    Peer,
)
from chargenet.core.drivers import TokenKey
from chargenet.core.events import Event, OperatorUpdated, Source, StatedKind, event_meta
from chargenet.core.ids import OperatorId
from chargenet.core.registry.model import OperatorRecord
from chargenet.core.status import superseded
from chargenet.kit.clock import Clock
from chargenet.kit.ids import stable_id

log = logging.getLogger(__name__)

Submit = Callable[[Sequence[Event]], Awaitable[list[Outcome]]]
_STATUS_ONLY = frozenset({"status", "last_updated"})
_REMEMBERED = 200_000  # EVSEs whose newest status time is kept in memory


@dataclass(frozen=True, slots=True)
class Reply:
    http_status: int = 200
    message: str = "Success"
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)


IGNORED_OLDER = Reply(message="older than the version held (last_updated); nothing changed")


def _unknown(what: str) -> OcpiError:
    return OcpiError(Status.UNKNOWN_LOCATION, f"unknown {what}", http_status=404)


def _require_last_updated(body: dict[str, Any], writer: Writer) -> datetime:
    text = body.get("last_updated")
    if not isinstance(text, str):
        raise OcpiError(Status.INVALID_PARAMETERS, "last_updated is required")
    return stated_time(text, "last_updated", writer.received_at)


def _last_updated(text: str, writer: Writer) -> datetime:
    return stated_time(text, "last_updated", writer.received_at)


def _newest_text(a: str, b: str) -> str:
    return b if parse_time(b, "last_updated") > parse_time(a, "last_updated") else a


def _same(expected: str, given: str, what: str) -> None:
    if not same_id(expected, given):
        raise OcpiError(
            Status.INVALID_PARAMETERS,
            f"{what} {given!r} in the body differs from {expected!r} in the URL",
        )


def _without_evses(location: dict[str, Any]) -> dict[str, Any]:
    """A Location as kept: its EVSEs are kept one by one, each with its own last_updated."""
    return {k: v for k, v in location.items() if k != "evses"}


class Receiver:
    def __init__(
        self,
        reads: OcpiQueries,
        directory: OcpiDirectory,
        submit: Submit,
        clock: Clock,
        *,
        time_zone: str,
        country_code: str,
        token_key: TokenKey,
    ) -> None:
        self._key = token_key
        self._reads = reads
        self._directory = directory
        self._submit_events = submit
        self._clock = clock
        self._tz = time_zone
        self._country = country_code
        self._newest: OrderedDict[str, datetime] = OrderedDict()
        # The facts a status PATCH needs, per EVSE, forgotten when the store changes them
        # (`heard`, a listener on the bus): lookups.py.
        self.evses = EvseLookups(reads.evse_connectors)

    def heard(self, events: Sequence[Event]) -> None:
        """What the store accepted, from this node or (cluster) any other: a bus listener."""
        self.evses.heard(events)

    async def _evse_info(self, charger_id: str) -> EvseConnectorsRow | None:
        found = self.evses.cached(charger_id)
        if found is not None:
            return found
        return await asyncio.to_thread(self.evses.read, charger_id)

    # --- who writes -----------------------------------------------------------------------

    def writer(self, peer: Peer, owner: Party, adapter: str = "ocpi") -> Writer:
        operator_id = peer.writable.get(owner)
        if operator_id is None:
            raise OcpiError(
                Status.INVALID_PARAMETERS,
                f"party {owner} is not registered with your credentials:"
                " you write only your own objects",
                http_status=403,
            )
        source = Source(adapter=adapter, operator_id=OperatorId(operator_id))
        return Writer(owner, operator_id, source, self._clock.now(), self._key)

    async def book(self) -> PartyBook:
        rows = await asyncio.to_thread(self._directory.parties)
        assigned = {Party(r["country_code"], r["party_id"]): r["operator_id"] for r in rows}
        return PartyBook(assigned, self._country)

    async def _submit(self, events: list[Event]) -> None:
        problems = [f"{e.TYPE}: {p}" for e in events for p in e.problems()]
        if problems:
            raise OcpiError(Status.INVALID_PARAMETERS, "; ".join(problems))
        if not events:
            return
        # Whatever this changes about an EVSE is forgotten before and after it is stored:
        # no request of ours reads the old facts once this returns, even before the bus
        # brings the same news (the pipeline answers once the events are committed). A
        # way in that answered sooner would leave the old row readable a while longer,
        # but not held past the store's news of it (lookups.py).
        self.evses.heard(events)
        try:
            outcomes = await self._submit_events(events)
        finally:
            self.evses.heard(events)
        refused = [o.reason for o in outcomes if o.disposition is Disposition.REJECTED]
        if refused:
            log.warning("OCPI push partly refused: %s", "; ".join(refused))
            raise OcpiError(Status.INVALID_PARAMETERS, "; ".join(refused))

    def _remember(self, key: str, when: datetime) -> None:
        held = self._newest.get(key)
        if held is None or when > held:
            self._newest[key] = when
            self._newest.move_to_end(key)
            while len(self._newest) > _REMEMBERED:
                self._newest.popitem(last=False)

    def _newer_held(self, key: str, as_of: datetime | None, when: datetime) -> bool:
        return superseded(as_of, when) or superseded(self._newest.get(key), when)

    # --- locations ------------------------------------------------------------------------

    async def put_location(self, writer: Writer, location_id: str, body: Any) -> Reply:
        loc = model.parse(body, model.Location)
        _same(writer.party.country_code, loc.country_code, "country_code")
        _same(writer.party.party_id, loc.party_id, "party_id")
        _same(location_id, loc.id, "id")
        station_id = global_id(writer.party, loc.id)
        station = await asyncio.to_thread(self._reads.station, station_id)
        when = _last_updated(loc.last_updated, writer)
        if station is not None and station["as_of"] > when:
            return IGNORED_OLDER
        events = inbound.station_events(
            loc, writer, known=station is not None and station["retired_at"] is None
        )
        kept = inbound.private(_without_evses(body), self._key)
        events.append(stated(StatedKind.LOCATION, station_id, kept, writer, when))
        named = loc.operator.name if loc.operator is not None else ""
        if named and writer.operator_id == str(writer.party):
            # An operator we know only by its party (a hub's client: HubClientInfo names
            # nobody) takes the name its Locations give it; the same name again is a
            # duplicate in the log.
            events.append(
                OperatorUpdated(
                    **event_meta(
                        stable_id("ocpi", "operator-name", writer.operator_id, named),
                        writer.source,
                        writer.received_at,  # when we learned it: newer than the placeholder
                    ),
                    operator=OperatorRecord(
                        operator_id=OperatorId(writer.operator_id), name=named[:200]
                    ),
                )
            )
        noted: list[tuple[str, datetime]] = []
        for raw, evse in zip(body.get("evses") or (), loc.evses or (), strict=True):
            events += await self._evse_events(writer, station_id, evse, raw, noted)
        await self._submit(events)
        for key, at in noted:
            self._remember(key, at)
        return Reply(http_status=201 if station is None else 200)

    async def _station(self, writer: Writer, location_id: str) -> OcpiStationRow:
        station = await asyncio.to_thread(self._reads.station, global_id(writer.party, location_id))
        if station is None:
            raise _unknown(f"Location {location_id!r}: PUT it first")
        return station

    async def patch_location(self, writer: Writer, location_id: str, body: Any) -> Reply:
        if not isinstance(body, dict):
            raise OcpiError(Status.INVALID_PARAMETERS, "a PATCH body is a JSON object")
        when = _require_last_updated(body, writer)
        station = await self._station(writer, location_id)
        if station["as_of"] > when:
            return IGNORED_OLDER
        rows, _ = await asyncio.to_thread(
            self._reads.locations, station_ids=[station["station_id"]], limit=1
        )
        current = outbound.location(rows[0], await self.book(), self._tz, with_evses=False)
        merged = {**current, **inbound.private(_without_evses(body), self._key)}
        loc = model.parse(merged, model.Location)
        events = inbound.station_events(loc, writer, known=station["retired_at"] is None)
        events.append(stated(StatedKind.LOCATION, station["station_id"], merged, writer, when))
        noted: list[tuple[str, datetime]] = []
        for evse_body in body.get("evses") or ():
            evse = model.parse(evse_body, model.Evse)
            events += await self._evse_events(writer, station["station_id"], evse, evse_body, noted)
        await self._submit(events)
        for key, at in noted:
            self._remember(key, at)
        return Reply()

    async def _evse_events(
        self,
        writer: Writer,
        station_id: str,
        evse: model.Evse,
        raw: dict[str, Any],
        noted: list[tuple[str, datetime]],
    ) -> list[Event]:
        charger_id = global_id(writer.party, evse.uid)
        info = await self._evse_info(charger_id)
        if info is not None and info["operator_id"] != writer.operator_id:
            raise OcpiError(
                Status.INVALID_PARAMETERS, f"EVSE {evse.uid} belongs to another operator", 403
            )
        when = _last_updated(evse.last_updated, writer)
        if info is not None and self._newer_held(charger_id, info["as_of"], when):
            return []  # this EVSE is older than what we hold
        noted.append((charger_id, when))
        events = inbound.evse_events(
            evse,
            station_id,
            writer,
            known=info is not None,
            retired=info is not None and info["retired_at"] is not None,
        )
        return [*events, stated(StatedKind.EVSE, charger_id, raw, writer, when)]

    async def _current_evse(
        self, writer: Writer, location_id: str, evse_uid: str
    ) -> tuple[OcpiStationRow, dict[str, Any]]:
        station = await self._station(writer, location_id)
        charger = await asyncio.to_thread(self._reads.charger, global_id(writer.party, evse_uid))
        if charger is None or charger["station_id"] != station["station_id"]:
            raise _unknown(f"EVSE {evse_uid!r} at Location {location_id!r}: PUT it first")
        return station, outbound.evse(charger["connectors"])

    async def put_evse(self, writer: Writer, location_id: str, evse_uid: str, body: Any) -> Reply:
        station = await self._station(writer, location_id)
        evse = model.parse(body, model.Evse)
        _same(evse_uid, evse.uid, "uid")
        noted: list[tuple[str, datetime]] = []
        known = await self._evse_info(global_id(writer.party, evse.uid))
        events = await self._evse_events(writer, station["station_id"], evse, body, noted)
        if not events and known is not None:
            return IGNORED_OLDER
        await self._submit(events)
        for key, at in noted:
            self._remember(key, at)
        return Reply(http_status=201 if known is None else 200)

    async def patch_evse(self, writer: Writer, location_id: str, evse_uid: str, body: Any) -> Reply:
        if not isinstance(body, dict):
            raise OcpiError(Status.INVALID_PARAMETERS, "a PATCH body is a JSON object")
        when = _require_last_updated(body, writer)
        charger_id = global_id(writer.party, evse_uid)
        status = body.get("status")
        if (
            set(body) <= _STATUS_ONLY
            and isinstance(status, str)
            and status not in LIFECYCLE_STATUSES
        ):
            # The hot path: a status change needs no merge, only the connectors' ids.
            info = await self._evse_info(charger_id)
            if info is None or info["station_id"] != global_id(writer.party, location_id):
                raise _unknown(f"EVSE {evse_uid!r} at Location {location_id!r}: PUT it first")
            if info["operator_id"] != writer.operator_id:
                raise OcpiError(
                    Status.INVALID_PARAMETERS, f"EVSE {evse_uid} belongs to another operator", 403
                )
            if info["retired_at"] is None:
                if self._newer_held(charger_id, info["as_of"], when):
                    return IGNORED_OLDER
                await self._submit(
                    inbound.status_events(info["connector_ids"], status, when, writer)
                )
                self._remember(charger_id, when)
                return Reply()
        station, current = await self._current_evse(writer, location_id, evse_uid)
        merged = {**current, **body}
        evse = model.parse(merged, model.Evse)
        if current["status"] == "REMOVED" and evse.status != "REMOVED":
            # Older than the removal: acknowledged and ignored; else refused (raises).
            return await self._on_removed(writer, charger_id, when, evse.status, evse_uid)
        noted: list[tuple[str, datetime]] = []
        events = await self._evse_events(writer, station["station_id"], evse, merged, noted)
        if not events:
            return IGNORED_OLDER
        await self._submit(events)
        for key, at in noted:
            self._remember(key, at)
        return Reply()

    async def _on_removed(
        self, writer: Writer, charger_id: str, when: datetime, status: str, evse_uid: str
    ) -> Reply:
        """A PATCH that would take a REMOVED EVSE back to another status is refused (2001);
        one older than the removal is acknowledged and ignored, as any older update.

        mod_locations.asciidoc, Flow and Lifecycle: a CPO deletes an EVSE "from the list of
        active EVSEs" by setting its status to REMOVED, and EVSEs are never deleted, their
        uid never reused (EVSE object, uid): a status that follows is about an EVSE that no
        longer exists, not a sign that it came back. The CPO brings one back by PUTting the
        whole EVSE again (or its Location with it). Not 2003 (unknown Location): the EVSE
        and its Location remain known; 2001, invalid parameters, with the reason."""
        info = await self._evse_info(charger_id)
        if info is not None and info["operator_id"] != writer.operator_id:
            raise OcpiError(
                Status.INVALID_PARAMETERS, f"EVSE {evse_uid} belongs to another operator", 403
            )
        if info is not None and self._newer_held(charger_id, info["as_of"], when):
            return IGNORED_OLDER
        log.warning(
            "OCPI %s: status %s for EVSE %s refused: the EVSE is REMOVED (retired); PUT it"
            " again to bring it back",
            writer.party,
            status,
            charger_id,
        )
        raise OcpiError(
            Status.INVALID_PARAMETERS,
            f"EVSE {evse_uid} is REMOVED: a status PATCH does not bring it back;"
            " PUT the whole EVSE again to return it to service",
        )

    async def _write_connector(
        self,
        writer: Writer,
        location_id: str,
        evse_uid: str,
        connector_id: str,
        body: Any,
        *,
        patch: bool,
    ) -> Reply:
        if not isinstance(body, dict):
            raise OcpiError(Status.INVALID_PARAMETERS, "a body is a JSON object")
        station, current = await self._current_evse(writer, location_id, evse_uid)
        connectors = list(current["connectors"])
        place = next((n for n, c in enumerate(connectors) if same_id(c["id"], connector_id)), None)
        if patch:
            _require_last_updated(body, writer)
            if place is None:
                raise _unknown(f"Connector {connector_id!r} of EVSE {evse_uid!r}: PUT it first")
            merged = {**connectors[place], **body}
        else:
            merged = body
        con = model.parse(merged, model.Connector)
        _same(connector_id, con.id, "id")
        _last_updated(con.last_updated, writer)
        if place is None:
            connectors.append(merged)
        else:
            connectors[place] = merged  # in its place: the EVSE's order is the party's
        current["connectors"] = connectors
        current["last_updated"] = _newest_text(current["last_updated"], con.last_updated)
        evse = model.parse(current, model.Evse)
        noted: list[tuple[str, datetime]] = []
        events = await self._evse_events(writer, station["station_id"], evse, current, noted)
        await self._submit(events)
        for key, at in noted:
            self._remember(key, at)
        return Reply(http_status=201 if place is None and not patch else 200)

    async def put_connector(
        self, writer: Writer, location_id: str, evse_uid: str, connector_id: str, body: Any
    ) -> Reply:
        return await self._write_connector(
            writer, location_id, evse_uid, connector_id, body, patch=False
        )

    async def patch_connector(
        self, writer: Writer, location_id: str, evse_uid: str, connector_id: str, body: Any
    ) -> Reply:
        return await self._write_connector(
            writer, location_id, evse_uid, connector_id, body, patch=True
        )

    async def get_location(
        self,
        writer: Writer,
        location_id: str,
        evse_uid: str | None = None,
        connector_id: str | None = None,
    ) -> Reply:
        station_id = global_id(writer.party, location_id)
        rows, _ = await asyncio.to_thread(self._reads.locations, station_ids=[station_id], limit=1)
        if not rows:
            raise _unknown(f"Location {location_id!r}")
        data = outbound.location(rows[0], await self.book(), self._tz)
        if evse_uid is not None:
            evses = [e for e in data["evses"] if same_id(e["uid"], evse_uid)]
            if not evses:
                raise _unknown(f"EVSE {evse_uid!r}")
            data = evses[0]
            if connector_id is not None:
                connectors = [c for c in data["connectors"] if same_id(c["id"], connector_id)]
                if not connectors:
                    raise _unknown(f"Connector {connector_id!r}")
                data = connectors[0]
        return Reply(data=data)

    # --- sessions -------------------------------------------------------------------------

    async def _connector_of(
        self, writer: Writer, location_id: str, evse_uid: str, connector_id: str
    ) -> str:
        cid = connector_global(global_id(writer.party, evse_uid), connector_id)
        owner = await asyncio.to_thread(self._reads.connector_owner, cid)
        if owner is None or owner["station_id"] != global_id(writer.party, location_id):
            raise _unknown(f"Location/EVSE/Connector {location_id}/{evse_uid}/{connector_id}")
        if owner["operator_id"] != writer.operator_id:
            raise OcpiError(
                Status.INVALID_PARAMETERS, "that connector belongs to another operator", 403
            )
        return cid

    async def _session_row(self, writer: Writer, session_id: str) -> OcpiSessionRow | None:
        rows, _ = await asyncio.to_thread(
            self._reads.sessions, session_ids=[global_id(writer.party, session_id)], limit=1
        )
        return rows[0] if rows else None

    async def put_session(
        self, writer: Writer, session_id: str, body: Any, as_stated: dict[str, Any] | None = None
    ) -> Reply:
        s = model.parse(body, model.Session)
        _same(writer.party.country_code, s.country_code, "country_code")
        _same(writer.party.party_id, s.party_id, "party_id")
        _same(session_id, s.id, "id")
        existing = await self._session_row(writer, s.id)
        if existing is not None and existing["operator_id"] != writer.operator_id:
            raise OcpiError(
                Status.INVALID_PARAMETERS, "that session belongs to another operator", 403
            )
        when = _last_updated(s.last_updated, writer)
        if existing is not None and existing["as_of"] > when:
            return IGNORED_OLDER
        cid = await self._connector_of(writer, s.location_id, s.evse_uid, s.connector_id)
        events = inbound.session_events(s, cid, writer, known=existing is not None)
        if events:  # a PENDING session is not held until it turns ACTIVE
            sid = global_id(writer.party, s.id)
            kept = as_stated if as_stated is not None else inbound.private(body, self._key)
            events.append(stated(StatedKind.SESSION, sid, kept, writer, when))
        await self._submit(events)
        return Reply(http_status=201 if existing is None else 200)

    async def patch_session(self, writer: Writer, session_id: str, body: Any) -> Reply:
        if not isinstance(body, dict):
            raise OcpiError(Status.INVALID_PARAMETERS, "a PATCH body is a JSON object")
        _require_last_updated(body, writer)
        existing = await self._session_row(writer, session_id)
        if existing is None:
            raise OcpiError(
                Status.INVALID_PARAMETERS, f"unknown session {session_id!r}: PUT it first", 404
            )
        current = outbound.session(existing, await self.book(), existing["currency"] or "CNY")
        # What we hold has its token already as digests: only the patch's own token is new.
        kept = {**current, **inbound.private(body, self._key)}
        return await self.put_session(writer, session_id, {**current, **body}, kept)

    async def get_session(self, writer: Writer, session_id: str) -> Reply:
        existing = await self._session_row(writer, session_id)
        if existing is None:
            raise OcpiError(Status.INVALID_PARAMETERS, f"unknown session {session_id!r}", 404)
        return Reply(
            data=outbound.session(existing, await self.book(), existing["currency"] or "CNY")
        )

    # --- charge detail records ------------------------------------------------------------

    async def post_cdr(self, writer: Writer, body: Any, location_url: str) -> Reply:
        c = model.parse(body, model.Cdr)
        _same(writer.party.country_code, c.country_code, "country_code")
        _same(writer.party.party_id, c.party_id, "party_id")
        loc = c.cdr_location
        cid = await self._connector_of(writer, loc.id, loc.evse_uid, loc.connector_id)
        record = inbound.cdr_event(c, cid, writer)
        kept = inbound.private(body, self._key)
        as_stated = stated(StatedKind.CDR, record.cdr_id, kept, writer, record.occurred_at)
        await self._submit([record, as_stated])
        return Reply(http_status=201, headers={"Location": f"{location_url}/{c.id}"})

    async def get_cdr(self, writer: Writer, cdr_id: str) -> Reply:
        records, _ = await asyncio.to_thread(
            self._reads.cdrs, cdr_ids=[global_id(writer.party, cdr_id)], limit=1
        )
        if not records:
            raise OcpiError(Status.INVALID_PARAMETERS, f"unknown CDR {cdr_id!r}", 404)
        return Reply(data=outbound.cdr(records[0], await self.book(), self._tz))

    # --- tariffs --------------------------------------------------------------------------

    async def _tariff_row(self, writer: Writer, tariff_id: str) -> OcpiTariffRow | None:
        rows, _ = await asyncio.to_thread(
            self._reads.tariffs, tariff_ids=[global_id(writer.party, tariff_id)], limit=1
        )
        return rows[0] if rows else None

    async def put_tariff(self, writer: Writer, tariff_id: str, body: Any) -> Reply:
        t = model.parse(body, model.Tariff)
        _same(writer.party.country_code, t.country_code, "country_code")
        _same(writer.party.party_id, t.party_id, "party_id")
        _same(tariff_id, t.id, "id")
        existing = await self._tariff_row(writer, t.id)
        when = _last_updated(t.last_updated, writer)
        if existing is not None and existing["as_of"] > when:
            return IGNORED_OLDER
        published = inbound.tariff_event(t, writer)
        kept = stated(StatedKind.TARIFF, published.tariff_id, body, writer, when)
        await self._submit([published, kept])
        return Reply(http_status=201 if existing is None else 200)

    async def delete_tariff(self, writer: Writer, tariff_id: str) -> Reply:
        existing = await self._tariff_row(writer, tariff_id)
        if existing is None:
            raise OcpiError(Status.INVALID_PARAMETERS, f"unknown tariff {tariff_id!r}", 404)
        gid = global_id(writer.party, tariff_id)
        await self._submit([inbound.tariff_withdrawn(gid, writer, self._clock.now())])
        return Reply()

    async def get_tariff(self, writer: Writer, tariff_id: str) -> Reply:
        existing = await self._tariff_row(writer, tariff_id)
        if existing is None or existing["withdrawn_at"] is not None:
            raise OcpiError(Status.INVALID_PARAMETERS, f"unknown tariff {tariff_id!r}", 404)
        return Reply(data=outbound.tariff(existing, await self.book()))

    # --- objects from a pull --------------------------------------------------------------

    async def take(self, peer: Peer, module: str, obj: Any, adapter: str = "ocpi") -> None:
        """An object fetched from a peer's sender, applied as if it had been pushed whole."""
        if not isinstance(obj, dict):
            raise OcpiError(Status.INVALID_PARAMETERS, f"a {module} object is a JSON object")
        owner = Party(
            str(obj.get("country_code", "")).upper(), str(obj.get("party_id", "")).upper()
        )
        writer = self.writer(peer, owner, adapter)
        object_id = str(obj.get("id", ""))
        if module == "locations":
            await self.put_location(writer, object_id, obj)
        elif module == "sessions":
            await self.put_session(writer, object_id, obj)
        elif module == "cdrs":
            await self.post_cdr(writer, obj, "")
        elif module == "tariffs":
            await self.put_tariff(writer, object_id, obj)
        else:
            raise ValueError(f"not a module chargenet pulls: {module}")
