"""HTTP face of the OCPI party (FastAPI): versions, credentials, receivers and senders
under /ocpi. Every call needs `Authorization: Token <base64>` (401 otherwise); replies use
the OCPI envelope with status codes (1000, 2001, 2003, 3001 …) and UTC time stamps, and
carry the caller's X-Request-ID and X-Correlation-ID back (fresh ones when it sent none),
which are logged with every refusal (OCPI 2.2.1 4.2)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from chargenet.adapters.ocpi import outbound
from chargenet.adapters.ocpi import tokens as ocpi_tokens
from chargenet.adapters.ocpi.hub import header_party, status_code
from chargenet.adapters.ocpi.ids import local_part, party, same_id
from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.receiver import Reply
from chargenet.adapters.ocpi.wire import (
    CORRELATION_ID,
    DEFAULT_LIMIT,
    FROM_COUNTRY,
    FROM_PARTY,
    MAX_LIMIT,
    REQUEST_ID,
    TO_COUNTRY,
    TO_PARTY,
    VERSION,
    OcpiError,
    Status,
    echoed_id,
    envelope,
    page_headers,
    parse_time,
)
from chargenet.app.ocpi import Caller, CredentialKind, Party, PeerKind, PeerStatus
from chargenet.app.settlement import PublishedTokenRow
from chargenet.core.access import Audience, declared
from chargenet.core.text import storable_text
from chargenet.kit.bounds import INT64_MAX, DocumentRefused, loads, read_capped
from chargenet.kit.ids import stable_id

log = logging.getLogger(__name__)
R = TypeVar("R")  # the row type a sender pages through

MODULES = ("locations", "sessions", "cdrs", "tariffs")
# OCPI sets no size; a Location with hundreds of EVSEs is well under 1 MiB.
MAX_BODY = 4 * 1024 * 1024
_PARSE_IN_THREAD = 64 * 1024  # larger bodies are parsed off the event loop
_PATH_PARAM = re.compile(r"{(\w+)}")
_RECEIVER = f"/ocpi/{VERSION}/receiver/"

# (X-Request-ID, X-Correlation-ID) of the request being answered, for its log lines.
_message_ids: ContextVar[tuple[str, str]] = ContextVar("ocpi_message_ids", default=("-", "-"))


def _ids_text() -> str:
    request_id, correlation_id = _message_ids.get()
    return f"X-Request-ID {request_id}, X-Correlation-ID {correlation_id}"


class OcpiRoute(APIRoute):
    """Every OCPI reply carries the request's X-Request-ID and X-Correlation-ID (4.2: "the
    response to this request SHALL contain the same ID"); a request without them gets
    fresh ones, so that each reply still names itself in both our logs and the caller's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_ids(request: Request) -> Response:
            ids = (
                echoed_id(request.headers.get(REQUEST_ID)),
                echoed_id(request.headers.get(CORRELATION_ID)),
            )
            token = _message_ids.set(ids)
            try:
                response = await handler(request)
            finally:
                _message_ids.reset(token)
            response.headers[REQUEST_ID], response.headers[CORRELATION_ID] = ids
            if log.isEnabledFor(logging.DEBUG):  # request.url is built anew on each call
                log.debug(
                    "OCPI %s %s → %d (X-Request-ID %s, X-Correlation-ID %s)",
                    request.method,
                    request.url.path,
                    response.status_code,
                    *ids,
                )
            return response

        return with_ids


def _respond(p: OcpiParty, reply: Reply) -> Response:
    return JSONResponse(
        envelope(reply.data, Status.SUCCESS, reply.message, now=p.clock.now()),
        status_code=reply.http_status,
        headers=reply.headers,
    )


def _error(p: OcpiParty, exc: OcpiError) -> Response:
    return JSONResponse(
        envelope(None, exc.status, exc.message, now=p.clock.now()), status_code=exc.http_status
    )


_CALLER_KEY = "chargenet.ocpi_caller"  # the checked caller, kept in the request's scope


async def _caller(p: OcpiParty, request: Request, *, registration: bool = False) -> Caller:
    if not registration:
        known: Caller | None = request.scope.get(_CALLER_KEY)
        if known is not None:  # the hub checked this request already (hub_first)
            return known
    header = request.headers.get("authorization")
    cached = p.cached_caller(header)
    found, _ = cached if cached is not None else await asyncio.to_thread(p.caller, header)
    if found is None:
        raise OcpiError(Status.CLIENT_ERROR, "unknown or revoked credentials token", 401)
    if not registration and (
        found.credential is not CredentialKind.C or found.peer.status is not PeerStatus.REGISTERED
    ):
        raise OcpiError(
            Status.CLIENT_ERROR, "register first: token A opens only versions and credentials", 401
        )
    given = [*request.path_params.values(), *request.query_params.keys()]
    given += request.query_params.values()
    if any(storable_text(str(value)) != str(value) for value in given):
        # Ids and filters go to the store as they are; PostgreSQL cannot take a NUL.
        raise OcpiError(Status.INVALID_PARAMETERS, "the URL carries a control character")
    if p.hub is not None:
        p.hub.heard(found.peer.peer_id)
    if not registration:
        request.scope[_CALLER_KEY] = found
    return found


async def _body(request: Request) -> Any:
    """The request's JSON. status_codes.asciidoc: a message that is not valid JSON gets
    HTTP 400; one nested too deep is refused the same way (2001) before it is parsed, and
    one over MAX_BODY with 413 (2000) before it is all read."""
    try:
        raw = await read_capped(request.stream(), MAX_BODY, request.headers.get("content-length"))
        if not raw:
            return None
        if len(raw) > _PARSE_IN_THREAD:
            return await asyncio.to_thread(loads, raw)
        return loads(raw)
    except DocumentRefused as exc:
        if exc.too_large:
            raise OcpiError(Status.CLIENT_ERROR, str(exc), 413) from None
        raise OcpiError(Status.INVALID_PARAMETERS, f"the body is {exc}", 400) from None


async def _guard(p: OcpiParty, work: Callable[[], Awaitable[Reply]]) -> Response:
    try:
        return _respond(p, await work())
    except OcpiError as exc:
        log.info("OCPI refused: %s %s (%s)", int(exc.status), exc.message, _ids_text())
        return _error(p, exc)
    except Exception:
        log.exception("OCPI request failed (%s)", _ids_text())
        return _error(p, OcpiError(Status.SERVER_ERROR, "internal error; nothing was lost", 500))


def _endpoints(p: OcpiParty) -> list[dict[str, str]]:
    base = p.settings.identity.version_url
    out = [{"identifier": "credentials", "role": "RECEIVER", "url": f"{base}/credentials"}]
    for module in MODULES:
        out.append({"identifier": module, "role": "SENDER", "url": f"{base}/sender/{module}"})
        # The trailing slash lets parties that append CC/PID/ID to the URL reach the object.
        out.append({"identifier": module, "role": "RECEIVER", "url": f"{base}/receiver/{module}/"})
    # as a hub: the parties connected to us (mod_hub_client_info 15.3.2, Sender interface)
    out.append({"identifier": "hubclientinfo", "role": "SENDER", "url": f"{base}/hubclientinfo"})
    if p.tokens is not None:
        # as eMSP: the drivers' tokens (mod_tokens: the eMSP is the Sender)
        out.append({"identifier": "tokens", "role": "SENDER", "url": f"{base}/sender/tokens"})
    if p.hub is not None:
        # as a hub: the Receiver interfaces only the parties connected to us implement,
        # which we route to them (transport_and_format 4.1.8)
        for module in ("commands", "tokens", "chargingprofiles"):
            out.append(
                {"identifier": module, "role": "RECEIVER", "url": f"{base}/receiver/{module}"}
            )
    if p.profile_results is not None:
        # as SCSP: orderly charging's limits (mod_charging_profiles: the SCSP is the
        # Sender; its interface takes the Receiver's updated ActiveChargingProfiles)
        out.append(
            {"identifier": "chargingprofiles", "role": "SENDER", "url": f"{base}/chargingprofiles"}
        )
    return out


def _window(request: Request) -> tuple[datetime | None, datetime | None, int, int, dict[str, str]]:
    q = request.query_params
    given = {k: q[k] for k in ("date_from", "date_to") if k in q}
    date_from = parse_time(q["date_from"], "date_from") if "date_from" in q else None
    date_to = parse_time(q["date_to"], "date_to") if "date_to" in q else None
    try:
        offset = int(q.get("offset", "0"))
        limit = int(q.get("limit", str(DEFAULT_LIMIT)))
    except ValueError:
        raise OcpiError(Status.INVALID_PARAMETERS, "offset and limit are whole numbers") from None
    if not 0 <= offset <= INT64_MAX or not 1 <= limit <= INT64_MAX:
        raise OcpiError(Status.INVALID_PARAMETERS, f"offset 0 to {INT64_MAX}, limit from 1")
    return date_from, date_to, offset, min(limit, MAX_LIMIT), given


def ocpi_router(p: OcpiParty) -> APIRouter:
    router = APIRouter(prefix="/ocpi", tags=["OCPI 2.2.1"], route_class=OcpiRoute)
    identity = p.settings.identity
    receiver = p.receiver

    def routed(
        endpoint: Callable[[Request], Awaitable[Response]], module: str, interface: str
    ) -> Callable[[Request], Awaitable[Response]]:
        """The endpoint of a Functional Module, as a hub: a request addressed to another
        connected party is passed on to it; a push to us (or to nobody) that others of
        the opposite role share is broadcast once accepted; a real-time authorization of
        a token we do not know is asked around (adapters/ocpi/hub.py)."""

        async def hub_first(request: Request) -> Response:
            hub = p.hub
            if hub is None:
                return await endpoint(request)
            try:
                caller = await _caller(p, request)
            except OcpiError:
                return await endpoint(request)  # which refuses it the same way
            try:
                relayed = await hub.intercept(request, caller, module, interface)
                if relayed is not None:
                    return relayed
                broadcast = hub.may_broadcast(request, module, interface)
                if broadcast:
                    await hub.body(request)  # kept: the endpoint reads it, then the hub
                response = await endpoint(request)
                status = status_code(response)
                if broadcast and status == Status.SUCCESS:
                    await hub.broadcast(request, caller, module, origin(request, caller))
                if (
                    status == Status.UNKNOWN_TOKEN
                    and module == "tokens"
                    and request.method == "POST"
                    and header_party(request, TO_COUNTRY, TO_PARTY) is None
                ):
                    asked = await hub.ask_around(request, caller, module, interface)
                    if asked is not None:
                        return asked
                return response
            except OcpiError as exc:
                log.info("OCPI hub refused: %s %s (%s)", int(exc.status), exc.message, _ids_text())
                return _error(p, exc)

        hub_first.__name__ = endpoint.__name__
        return hub_first

    def origin(request: Request, caller: Caller) -> Party | None:
        """Whose push it is: OCPI-from-*, else the party in the URL, else the caller's."""
        assert p.hub is not None
        given = header_party(request, FROM_COUNTRY, FROM_PARTY)
        params = request.path_params
        if given is None and "cc" in params and "pid" in params:
            named = party(params["cc"], params["pid"])
            given = named if named in caller.peer.parties() else None
        return given or p.hub.sender(request, caller)

    def route(
        path: str,
        methods: list[str],
        endpoint: Callable[..., Any],
        module: tuple[str, str] | None = None,
    ) -> None:
        if module is not None:
            endpoint = routed(endpoint, *module)
        # The endpoints read their path parameters from the request: declare them for the
        # OpenAPI document (a path naming undeclared parameters is not valid OpenAPI), and
        # one route per method so that each operation has an id of its own.
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PATH_PARAM.findall(path)
        ]
        extra = declared(Audience.PARTNER)["openapi_extra"] | (
            {"parameters": parameters} if parameters else {}
        )
        for variant in (path, path + "/"):
            for method in methods:
                router.add_api_route(
                    variant,
                    endpoint,
                    methods=[method],
                    name=f"{endpoint.__name__}_{method.lower()}",
                    include_in_schema=variant == path,
                    openapi_extra=extra,
                )

    # --- versions and credentials ---------------------------------------------------------

    async def versions(request: Request) -> Response:
        async def work() -> Reply:
            await _caller(p, request, registration=True)
            return Reply(data=[{"version": VERSION, "url": identity.version_url}])

        return await _guard(p, work)

    async def details(request: Request) -> Response:
        async def work() -> Reply:
            await _caller(p, request, registration=True)
            return Reply(data={"version": VERSION, "endpoints": _endpoints(p)})

        return await _guard(p, work)

    route("/versions", ["GET"], versions)
    route(f"/{VERSION}", ["GET"], details)
    route(f"/{VERSION}/details", ["GET"], details)

    async def credentials(request: Request) -> Response:
        async def work() -> Reply:
            caller = await _caller(p, request, registration=True)
            registration = p.registration
            if request.method == "GET":
                _, token = await asyncio.to_thread(p.caller, request.headers.get("authorization"))
                return Reply(data=await registration.credentials(token or "", caller.peer.kind))
            if request.method == "DELETE":
                await registration.delete(caller)
                p.forget_callers()
                if p.hub is not None:
                    p.hub.reconcile_soon()
                return Reply()
            body = await _body(request)
            if request.method == "POST":
                data = await registration.post(caller, body)
            else:
                data = await registration.put(caller, body)
            p.forget_callers()
            if p.hub is not None:  # the others hear of the party (HubClientInfo push)
                p.hub.reconcile_soon()
            return Reply(data=data)

        return await _guard(p, work)

    route(f"/{VERSION}/credentials", ["GET", "POST", "PUT", "DELETE"], credentials)

    async def hub_client_info(request: Request) -> Response:
        """The parties connected to us, with their status (HubClientInfo Sender, 15.3.2),
        last updated in [date_from, date_to), paginated. A configuration module: read during
        registration too (a province reads it on our credentials), never routed (4.1.8.2)."""

        async def work() -> Reply:
            await _caller(p, request, registration=True)
            date_from, date_to, offset, limit, given = _window(request)
            infos = [
                c
                for c in await p.registration.client_infos()
                if (date_from is None or parse_time(c["last_updated"]) >= date_from)
                and (date_to is None or parse_time(c["last_updated"]) < date_to)
            ]
            page = infos[offset : offset + limit]
            headers = page_headers(
                f"{identity.version_url}/hubclientinfo", given, offset, limit, len(page), len(infos)
            )
            return Reply(data=page, headers=headers)

        return await _guard(p, work)

    route(f"/{VERSION}/hubclientinfo", ["GET"], hub_client_info)

    # --- receivers ------------------------------------------------------------------------

    def receive(
        action: Callable[..., Awaitable[Reply]], *, with_body: bool = True
    ) -> Callable[..., Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            async def work() -> Reply:
                caller = await _caller(p, request)
                params = dict(request.path_params)
                writer = receiver.writer(caller.peer, party(params.pop("cc"), params.pop("pid")))
                if with_body and request.method in ("PUT", "PATCH", "POST"):
                    return await action(writer, *params.values(), await _body(request))
                return await action(writer, *params.values())

            return await _guard(p, work)

        return endpoint

    loc = f"/{VERSION}/receiver/locations/{{cc}}/{{pid}}/{{location_id}}"
    route(loc, ["PUT"], receive(receiver.put_location), RECEIVING["locations"])
    route(loc, ["PATCH"], receive(receiver.patch_location), RECEIVING["locations"])
    route(loc, ["GET"], receive(receiver.get_location, with_body=False), RECEIVING["locations"])
    route(loc + "/{evse_uid}", ["PUT"], receive(receiver.put_evse), RECEIVING["locations"])
    route(loc + "/{evse_uid}", ["PATCH"], receive(receiver.patch_evse), RECEIVING["locations"])
    route(
        loc + "/{evse_uid}",
        ["GET"],
        receive(receiver.get_location, with_body=False),
        RECEIVING["locations"],
    )
    con = loc + "/{evse_uid}/{connector_id}"
    route(con, ["PUT"], receive(receiver.put_connector), RECEIVING["locations"])
    route(con, ["PATCH"], receive(receiver.patch_connector), RECEIVING["locations"])
    route(con, ["GET"], receive(receiver.get_location, with_body=False), RECEIVING["locations"])
    ses = f"/{VERSION}/receiver/sessions/{{cc}}/{{pid}}/{{session_id}}"
    route(ses, ["PUT"], receive(receiver.put_session), RECEIVING["sessions"])
    route(ses, ["PATCH"], receive(receiver.patch_session), RECEIVING["sessions"])
    route(ses, ["GET"], receive(receiver.get_session, with_body=False), RECEIVING["sessions"])
    tar = f"/{VERSION}/receiver/tariffs/{{cc}}/{{pid}}/{{tariff_id}}"
    route(tar, ["PUT"], receive(receiver.put_tariff), RECEIVING["tariffs"])
    route(tar, ["DELETE"], receive(receiver.delete_tariff, with_body=False), RECEIVING["tariffs"])
    route(tar, ["GET"], receive(receiver.get_tariff, with_body=False), RECEIVING["tariffs"])
    route(
        f"/{VERSION}/receiver/cdrs/{{cc}}/{{pid}}/{{cdr_id}}",
        ["GET"],
        receive(receiver.get_cdr, with_body=False),
        RECEIVING["cdrs"],
    )

    async def post_cdr(request: Request) -> Response:
        async def work() -> Reply:
            caller = await _caller(p, request)
            body = await _body(request)
            if not isinstance(body, dict):
                raise OcpiError(Status.INVALID_PARAMETERS, "a CDR is a JSON object")
            owner = party(str(body.get("country_code", "")), str(body.get("party_id", "")))
            writer = receiver.writer(caller.peer, owner)
            url = f"{identity.version_url}/receiver/cdrs/{owner.country_code}/{owner.party_id}"
            return await receiver.post_cdr(writer, body, url)

        return await _guard(p, work)

    route(f"/{VERSION}/receiver/cdrs", ["POST"], post_cdr, RECEIVING["cdrs"])

    # --- senders --------------------------------------------------------------------------

    def scope(caller: Caller) -> list[str] | None:
        """Operators see their own objects; platforms we feed or that feed us see all."""
        if caller.peer.kind is PeerKind.CPO:
            return sorted(set(caller.peer.writable.values()))
        return None

    def sender(
        fetch: Callable[..., tuple[list[R], int]],
        render: Callable[[R, Any], dict[str, Any]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            async def work() -> Reply:
                caller = await _caller(p, request)
                date_from, date_to, offset, limit, given = _window(request)
                rows, total = await asyncio.to_thread(
                    fetch,
                    operator_ids=scope(caller),
                    date_from=date_from,
                    date_to=date_to,
                    offset=offset,
                    limit=limit,
                )
                book = await receiver.book()
                base = f"{identity.base_url.rstrip('/')}{request.url.path}"
                headers = page_headers(base, given, offset, limit, len(rows), total)
                return Reply(data=[render(r, book) for r in rows], headers=headers)

            return await _guard(p, work)

        return endpoint

    tz, currency = p.settings.time_zone, p.settings.currency
    reads = p.reads
    route(
        f"/{VERSION}/sender/locations",
        ["GET"],
        sender(reads.locations, lambda r, b: outbound.location(r, b, tz)),
        SENDING["locations"],
    )
    route(
        f"/{VERSION}/sender/sessions",
        ["GET"],
        sender(reads.sessions, lambda r, b: outbound.session(r, b, currency)),
        SENDING["sessions"],
    )
    route(
        f"/{VERSION}/sender/cdrs",
        ["GET"],
        sender(reads.cdrs, lambda r, b: outbound.cdr(r, b, tz)),
        SENDING["cdrs"],
    )
    route(
        f"/{VERSION}/sender/tariffs",
        ["GET"],
        sender(reads.tariffs, outbound.tariff),
        SENDING["tariffs"],
    )

    async def sender_location(request: Request) -> Response:
        async def work() -> Reply:
            caller = await _caller(p, request)
            params = request.path_params
            location_id = params["location_id"]
            book = await receiver.book()
            candidates = await asyncio.to_thread(reads.find_station_ids, location_id)
            rows, _ = await asyncio.to_thread(
                reads.locations, station_ids=candidates, operator_ids=scope(caller), limit=10
            )
            rows = [
                r
                for r in rows
                if same_id(
                    local_part(r["station_id"], outbound.station_party(r, book)), location_id
                )
            ]
            if not rows:
                raise OcpiError(Status.UNKNOWN_LOCATION, f"unknown Location {location_id!r}", 404)
            data: dict[str, Any] = outbound.location(rows[0], book, tz)
            if "evse_uid" in params:
                found = [e for e in data["evses"] if same_id(e["uid"], params["evse_uid"])]
                if not found:
                    raise OcpiError(Status.UNKNOWN_LOCATION, "unknown EVSE", 404)
                data = found[0]
                if "connector_id" in params:
                    connectors = [
                        c for c in data["connectors"] if same_id(c["id"], params["connector_id"])
                    ]
                    if not connectors:
                        raise OcpiError(Status.UNKNOWN_LOCATION, "unknown Connector", 404)
                    data = connectors[0]
            return Reply(data=data)

        return await _guard(p, work)

    if p.tokens is not None and p.authoriser is not None:
        _token_routes(p, route)

    def async_result(
        name: str,
        endpoint_name: str,
        deliver: Callable[[], Callable[[str, dict[str, Any]], bool] | None],
    ) -> Callable[[Request], Awaitable[Response]]:
        """An asynchronous result POSTed to one of our response_urls, for whoever waits
        for it (mod_commands § 13.2.2; mod_charging_profiles § 15.2.1: the answer is the
        response format with no data)."""

        async def endpoint(request: Request) -> Response:
            async def work() -> Reply:
                await _caller(p, request)
                body = await _body(request)
                if not isinstance(body, dict) or not isinstance(body.get("result"), str):
                    raise OcpiError(Status.INVALID_PARAMETERS, f"a {name} has a result")
                waiting = deliver()
                if waiting is None or not waiting(request.path_params["uid"], body):
                    raise OcpiError(Status.INVALID_PARAMETERS, "no request awaits this result", 404)
                return Reply()

            return await _guard(p, work)

        endpoint.__name__ = endpoint_name
        return endpoint

    route(
        f"/{VERSION}/commands/{{command}}/{{uid}}",
        ["POST"],
        async_result("CommandResult", "command_result", lambda: p.command_results),
    )
    route(
        f"/{VERSION}/chargingprofiles/{{kind}}/{{uid}}",
        ["POST"],
        async_result("ChargingProfileResult", "profile_result", lambda: p.profile_results),
    )

    async def active_profile_update(request: Request) -> Response:
        """The Receiver's updated ActiveChargingProfile of a session we set a profile on
        (mod_charging_profiles § 15.2.2). The next re-plan sends our limit again where it
        changed; the update itself is logged, not planned with."""

        async def work() -> Reply:
            caller = await _caller(p, request)
            body = await _body(request)
            if not isinstance(body, dict) or not isinstance(body.get("charging_profile"), dict):
                raise OcpiError(Status.INVALID_PARAMETERS, "an ActiveChargingProfile")
            log.info(
                "OCPI %s: ActiveChargingProfile of session %s updated (%s)",
                caller.peer.peer_id,
                request.path_params["session_id"],
                _ids_text(),
            )
            return Reply()

        return await _guard(p, work)

    if p.profile_results is not None:
        route(f"/{VERSION}/chargingprofiles/{{session_id}}", ["PUT"], active_profile_update)

    one = f"/{VERSION}/sender/locations/{{location_id}}"
    route(one, ["GET"], sender_location, SENDING["locations"])
    route(one + "/{evse_uid}", ["GET"], sender_location, SENDING["locations"])
    route(one + "/{evse_uid}/{connector_id}", ["GET"], sender_location, SENDING["locations"])
    if p.hub is not None:
        _hub_routes(p, route)
    # Partners' pushes first: FastAPI tries the routes in order, and a status PATCH used to
    # be compared with every versions, credentials and hub route (two each, with and
    # without the slash) before its own. No other route lies under /receiver/, so the
    # order changes which route answers nothing, only how soon it is found.
    receiving = [r for r in router.routes if getattr(r, "path", "").startswith(_RECEIVER)]
    router.routes[:] = receiving + [r for r in router.routes if r not in receiving]
    return router


Router = Callable[..., None]  # route(path, methods, endpoint, module=None)
# (module, interface) of a Functional Module's endpoints: routed when we are a hub.
RECEIVING = {m: (m, "RECEIVER") for m in (*MODULES, "tokens", "commands", "chargingprofiles")}
SENDING = {m: (m, "SENDER") for m in (*MODULES, "tokens")}


def _hub_routes(p: OcpiParty, route: Router) -> None:
    """As a hub: the Receiver interfaces only the parties connected to us implement (a
    CPO's Commands, Tokens and ChargingProfiles), answered by routing alone; and the
    response_urls we give for the requesting party's (adapters/ocpi/hub.py)."""
    hub = p.hub
    assert hub is not None

    def hub_only(module: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                caller = await _caller(p, request)
                if hub.may_broadcast(request, module, "RECEIVER"):
                    hub.own_objects(request, caller)
                    return _respond(p, Reply())  # broadcast once answered (`routed`)
                if module in ("commands", "chargingprofiles"):
                    return await hub.open_route(request, caller, module, "RECEIVER")
                raise OcpiError(
                    Status.UNKNOWN_RECEIVER, "name the receiving party in OCPI-to-*", 404
                )
            except OcpiError as exc:
                log.info("OCPI hub refused: %s %s (%s)", int(exc.status), exc.message, _ids_text())
                return _error(p, exc)

        endpoint.__name__ = f"hub_{module}"
        return endpoint

    base = f"/{VERSION}/receiver"
    route(f"{base}/commands/{{command}}", ["POST"], hub_only("commands"), RECEIVING["commands"])
    tokens = f"{base}/tokens/{{cc}}/{{pid}}/{{token_uid}}"
    route(tokens, ["GET", "PUT", "PATCH"], hub_only("tokens"), RECEIVING["tokens"])
    profiles = f"{base}/chargingprofiles/{{session_id}}"
    route(
        profiles,
        ["GET", "PUT", "DELETE"],
        hub_only("chargingprofiles"),
        RECEIVING["chargingprofiles"],
    )

    async def hub_result(request: Request) -> Response:
        try:
            caller = await _caller(p, request)
            return await hub.result(request, caller, request.path_params["ticket"])
        except OcpiError as exc:
            log.info("OCPI hub refused: %s %s (%s)", int(exc.status), exc.message, _ids_text())
            return _error(p, exc)

    route(f"/{VERSION}/hub/results/{{ticket}}", ["POST"], hub_result)


def _token_routes(p: OcpiParty, route: Router) -> None:
    """OCPI Tokens, Sender interface of the eMSP (mod_tokens.asciidoc § 12.2.1)."""
    book, authoriser = p.tokens, p.authoriser
    assert book is not None and authoriser is not None
    identity = p.settings.identity

    async def token_list(request: Request) -> Response:
        async def work() -> Reply:
            await _caller(p, request)
            date_from, date_to, offset, limit, given = _window(request)
            rows, total = await asyncio.to_thread(
                book.published_tokens, date_from, date_to, offset, limit
            )
            now = p.clock.now()
            base = f"{identity.base_url.rstrip('/')}{request.url.path}"
            headers = page_headers(base, given, offset, limit, len(rows), total)
            data = [ocpi_tokens.token(r, identity.party, now) for r in rows]
            return Reply(data=data, headers=headers)

        return await _guard(p, work)

    async def authorize(request: Request) -> Response:
        """Real-time authorization: AuthorizationInfo, or 2004 Unknown Token (HTTP 404).
        LocationReferences in the body are not needed: a token is good at any Location."""

        async def work() -> Reply:
            await _caller(p, request)
            uid = request.path_params["token_uid"]
            kind = ocpi_tokens.KINDS.get(request.query_params.get("type", "RFID"))
            if kind is None:
                raise OcpiError(Status.INVALID_PARAMETERS, "type is RFID, APP_USER or OTHER")
            digest = await asyncio.to_thread(authoriser.known_digest, uid)
            state = await asyncio.to_thread(book.token, digest)
            if state is None or state.kind is not kind:
                raise OcpiError(Status.UNKNOWN_TOKEN, f"unknown Token {uid!r}", 404)
            verdict = await asyncio.to_thread(authoriser.authorise_digest, digest)
            now = p.clock.now()
            row = PublishedTokenRow(
                uid=uid,
                token_digest=digest,
                driver_id=state.driver_id,
                kind=kind.value,
                label="",
                blocked=state.blocked,
                expires_at=state.expires_at,
                as_of=now,
                closed=state.driver_closed,
            )
            token = ocpi_tokens.token(row, identity.party, now)
            reference = stable_id("ocpi-authorization", digest, now.isoformat())[:36]
            return Reply(data=ocpi_tokens.authorization_info(verdict, token, reference))

        return await _guard(p, work)

    route(f"/{VERSION}/sender/tokens", ["GET"], token_list, SENDING["tokens"])
    route(
        f"/{VERSION}/sender/tokens/{{token_uid}}/authorize", ["POST"], authorize, SENDING["tokens"]
    )
