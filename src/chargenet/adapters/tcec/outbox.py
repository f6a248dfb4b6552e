"""Pushes to partners that must arrive: kept in the outbox table and resent, a minute
apart, more than three times (T/CEC 102 Part 4), until the partner answers Ret 0.

Each attempt is a new envelope (new TimeStamp, Seq, encryption): the receiver recognises
the resend by the payload's own ids. What to do with the final answer is named by the
item's purpose (e.g. "order:<id>" records the order's outcome).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import msgspec

from chargenet.adapters.tcec.client import Clients, PartnerError
from chargenet.adapters.tcec.codes import Ret
from chargenet.app.interconnect import Outbox, OutboxItem
from chargenet.kit.clock import Clock

log = logging.getLogger(__name__)

# Answers that will not change by asking again: given up at once instead of resent.
PERMANENT = frozenset({Ret.SIGNATURE, Ret.PARAMETERS, Ret.BUSINESS})

Settled = Callable[[OutboxItem, dict[str, Any] | None, str | None], Awaitable[None]]
"""Told once an item is settled: (item, the partner's answer or None, error or None)."""


class Delivery:
    def __init__(
        self,
        outbox: Outbox,
        clients: Clients,
        clock: Clock,
        *,
        retries: int = 5,
        interval_s: float = 60.0,
        timeout_s: float = 10.0,
    ) -> None:
        self._outbox = outbox
        self._clients = clients
        self._clock = clock
        self.retries = retries  # resends after the first attempt
        self.interval_s = interval_s
        self._timeout = timeout_s
        self._wake = asyncio.Event()
        self._settled: dict[str, Settled] = {}

    def on_settled(self, purpose_prefix: str, callback: Settled) -> None:
        self._settled[purpose_prefix] = callback

    async def push(
        self,
        partner_id: str,
        endpoint: str,
        payload: Any,
        purpose: str,
        *,
        timeout_s: float | None = None,
    ) -> tuple[OutboxItem, dict[str, Any] | None, str | None]:
        """Queue a push and make the first attempt now. Returns the item with the answer,
        or with the error (the item then stays queued for its resends)."""
        text = msgspec.json.encode(payload).decode()
        now = self._clock.now()
        # Due only after the first resend interval: the first attempt is made right here,
        # and the background round must not make it a second time meanwhile.
        retry_at = now + timedelta(seconds=self.interval_s)
        item = await asyncio.to_thread(
            self._outbox.enqueue, partner_id, endpoint, text, purpose, now, retry_at
        )
        answer, error = await self._attempt(item, timeout_s, settle=False)
        self._wake.set()
        return item, answer, error

    async def _attempt(
        self, item: OutboxItem, timeout_s: float | None = None, *, settle: bool = True
    ) -> tuple[dict[str, Any] | None, str | None]:
        client = self._clients.for_partner(item.partner_id)
        payload = msgspec.json.decode(item.payload)
        try:
            answer = await client.call(
                item.endpoint, payload, dict[str, Any], timeout=timeout_s or self._timeout
            )
        except PartnerError as exc:
            attempts = item.attempts + 1
            give_up = attempts > self.retries or exc.ret in PERMANENT
            retry_at = None if give_up else self._clock.now() + timedelta(seconds=self.interval_s)
            await asyncio.to_thread(
                self._outbox.attempt_failed, item.id, self._clock.now(), str(exc), retry_at
            )
            log.warning(
                "tcec push %s #%d to %s failed (attempt %d): %s%s",
                item.endpoint,
                item.id,
                item.partner_id,
                attempts,
                exc,
                "; giving up" if give_up else "",
            )
            if give_up and settle:
                await self._settle(item, None, str(exc))
            return None, str(exc)
        await asyncio.to_thread(
            self._outbox.delivered,
            item.id,
            self._clock.now(),
            msgspec.json.encode(answer).decode(),
        )
        if settle:
            await self._settle(item, answer, None)
        return answer, None

    async def _settle(
        self, item: OutboxItem, answer: dict[str, Any] | None, error: str | None
    ) -> None:
        for prefix, callback in self._settled.items():
            if item.purpose.startswith(prefix):
                try:
                    await callback(item, answer, error)
                except Exception:
                    log.exception("settling outbox item %d failed", item.id)

    async def run_once(self) -> int:
        """Attempt every item that is due; how many were attempted."""
        due = await asyncio.to_thread(self._outbox.due, self._clock.now())
        for item in due:
            await self._attempt(item)
        return len(due)

    async def run(self) -> None:
        """The background job: attempt due items, sleep until the next is due."""
        while True:
            try:
                await self.run_once()
                next_due = await asyncio.to_thread(self._outbox.next_due)
            except Exception:
                log.exception("tcec outbox round failed")
                next_due = None
            wait = 5.0
            if next_due is not None:
                wait = min(wait, max((next_due - self._clock.now()).total_seconds(), 0.01))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
