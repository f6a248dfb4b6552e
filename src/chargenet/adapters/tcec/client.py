"""chargenet calling a partner platform: token, envelope, answer checks.

One `PartnerClient` per partner keeps the partner's access token until shortly before it
expires and fetches a new one when the partner answers 4002. Answers are verified (Sig)
before they are opened; a partner that answers with a Ret other than 0 raises
`PartnerError` with its Ret and Msg.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
import msgspec

from chargenet.adapters.tcec import model, wire
from chargenet.adapters.tcec.codes import Ret
from chargenet.adapters.tcec.crypto import CryptoError
from chargenet.adapters.tcec.partners import Partner, PartnerDirectory
from chargenet.kit.clock import Clock

T = TypeVar("T")
_TOKEN_MARGIN = timedelta(seconds=60)


class PartnerError(Exception):
    """The partner could not be reached, or answered with an error."""

    def __init__(self, message: str, ret: int | None = None) -> None:
        super().__init__(message)
        self.ret = ret


class PartnerClient:
    def __init__(
        self,
        partner_id: str,
        directory: PartnerDirectory,
        http: httpx.AsyncClient,
        our_operator_id: str,
        clock: Clock,
    ) -> None:
        self.partner_id = partner_id
        self._directory = directory
        self._http = http
        self._our_id = our_operator_id
        self._clock = clock
        self._seq = wire.SeqCounter()
        self._token: tuple[str, datetime] | None = None
        self._token_lock = asyncio.Lock()

    def _partner(self) -> Partner:
        partner = self._directory.get(self.partner_id)
        if partner is None:
            raise PartnerError(f"partner {self.partner_id} is unknown or disabled")
        if partner.outbound_keys is None or not partner.outbound_secret or not partner.base_url:
            raise PartnerError(
                f"partner {self.partner_id} has no base URL or keys for calling it: "
                "`chargenet tcec set-keys`"
            )
        return partner

    async def call(self, endpoint: str, payload: Any, answer: type[T], timeout: float = 10.0) -> T:
        """Send a request and return the partner's decoded answer."""
        for attempt in (1, 2):
            token = await self._access_token(timeout)
            try:
                return await self._send(endpoint, payload, answer, token, timeout)
            except PartnerError as exc:
                if exc.ret == Ret.TOKEN and attempt == 1:
                    self._token = None  # expired or revoked on their side: ask again
                    continue
                raise
        raise AssertionError("unreachable")

    async def _access_token(self, timeout: float) -> str:
        async with self._token_lock:
            now = self._clock.now()
            if self._token is not None and self._token[1] - _TOKEN_MARGIN > now:
                return self._token[0]
            partner = await asyncio.to_thread(self._partner)
            assert partner.outbound_secret is not None
            got = await self._send(
                "query_token",
                model.TokenRequest(OperatorID=self._our_id, OperatorSecret=partner.outbound_secret),
                model.TokenAnswer,
                None,
                timeout,
            )
            if got.SuccStat != 0 or not got.AccessToken:
                raise PartnerError(
                    f"partner {self.partner_id} refused a token (FailReason {got.FailReason})",
                    Ret.TOKEN,
                )
            ttl = max(got.TokenAvailableTime, 1)
            self._token = (got.AccessToken, now + timedelta(seconds=ttl))
            return got.AccessToken

    async def _send(
        self, endpoint: str, payload: Any, answer: type[T], token: str | None, timeout: float
    ) -> T:
        partner = await asyncio.to_thread(self._partner)
        keys = partner.outbound_keys
        assert keys is not None and partner.base_url is not None
        stamp = wire.format_timestamp(self._clock.now(), partner.zone)
        body = wire.build_request(self._our_id, payload, keys, stamp, self._seq.next(stamp))
        headers = {"Content-Type": "application/json;charset=utf-8"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = f"{partner.base_url.rstrip('/')}/{endpoint}"
        try:
            response = await self._http.post(
                url, content=msgspec.json.encode(body), headers=headers, timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise PartnerError(f"{endpoint}: {type(exc).__name__}: {exc}") from exc
        try:
            reply = msgspec.json.decode(response.content, type=wire.Reply)
        except msgspec.MsgspecError as exc:
            raise PartnerError(
                f"{endpoint}: HTTP {response.status_code}, not a T/CEC answer"
            ) from exc
        if reply.Sig and not wire.reply_signed(reply, keys):
            raise PartnerError(f"{endpoint}: the answer's signature does not match", Ret.SIGNATURE)
        if reply.Ret != Ret.OK:
            raise PartnerError(f"{endpoint}: Ret {reply.Ret} {reply.Msg}", reply.Ret)
        if not reply.Sig:
            raise PartnerError(f"{endpoint}: the answer is not signed", Ret.SIGNATURE)
        try:
            return model.decode(wire.open_data(reply.Data, keys), answer)
        except (CryptoError, model.PayloadError) as exc:
            raise PartnerError(f"{endpoint}: {exc}", Ret.PARAMETERS) from exc


class Clients:
    """One client per partner, sharing one HTTP connection pool."""

    def __init__(self, directory: PartnerDirectory, our_operator_id: str, clock: Clock) -> None:
        self._directory = directory
        self._our_id = our_operator_id
        self._clock = clock
        self._http: httpx.AsyncClient | None = None
        self._clients: dict[str, PartnerClient] = {}

    def for_partner(self, partner_id: str) -> PartnerClient:
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        client = self._clients.get(partner_id)
        if client is None:
            client = self._clients[partner_id] = PartnerClient(
                partner_id, self._directory, self._http, self._our_id, self._clock
            )
        return client

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
            self._clients.clear()
