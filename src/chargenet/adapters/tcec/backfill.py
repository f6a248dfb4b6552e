"""Back-fill (补采): asking an operator's platform for what chargenet may have missed
while the link was down, and taking it in under the one recency rule.

T/CEC 102 pushes are resent by their sender a few times (Part 4) and then lost; a status
change that was never pushed again leaves chargenet showing the old status. So when the
link looks to have been down, chargenet queries the partner:

- `query_station_status` (Part 3) for every station of the partner: what each connector
  is now. The answer is stamped with the time of the query; a push from during the outage
  that arrives later carries its own (older) TimeStamp, and `core.status.newest_report`
  — applied by the projection like to every report — keeps the newer state.
- `query_station_stats` for each whole day since the station's last energy report
  (`Puller.daily_stats`).

The 2016 standard has no query for charge orders: a missed `notification_charge_order_info`
is the operator's to resend until it is confirmed (Part 4), and `check_charge_orders`
shows what is still missing on either side (docs/tcec.md, Reconciliation).

When the link looks down: a partner heard from again after more than `gap_s` of silence;
a push chargenet answered with a server error (Ret 500: it was refused, not stored); and
chargenet's own start (it was not listening). A back-fill that cannot reach the partner is
tried again every `retry_s` until it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from chargenet.adapters.tcec.client import PartnerError
from chargenet.adapters.tcec.codes import Ret
from chargenet.adapters.tcec.outward import Puller
from chargenet.adapters.tcec.partners import Partner, PartnerDirectory
from chargenet.app.interconnect import PartnerStore
from chargenet.kit.aio import wait_at_most
from chargenet.kit.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Filled:
    partner_id: str
    reason: str
    statuses: int  # status reports taken in (accepted, not duplicates)
    stats: int
    at: datetime


class Backfill:
    def __init__(
        self,
        *,
        puller: Puller,
        directory: PartnerDirectory,
        partners: PartnerStore,
        clock: Clock,
        gap_s: float = 600.0,
        retry_s: float = 60.0,
    ) -> None:
        self._puller = puller
        self._directory = directory
        self._partners = partners
        self._clock = clock
        self._gap = timedelta(seconds=gap_s)
        self.retry_s = retry_s
        self._heard: dict[str, datetime] = {}
        self._due: dict[str, str] = {}  # partner → why
        self._stats_only: dict[str, int] = {}  # status back-filled (how many), stats not yet
        self._wake: asyncio.Event | None = None
        self.done: list[Filled] = []  # the latest back-fills, newest last (kept short)

    def heard(self, partner: Partner, ret: int) -> None:
        """Every message a partner sent (inbound.py calls this with our answer's Ret)."""
        now = self._clock.now()
        last = self._heard.get(partner.partner_id)
        self._heard[partner.partner_id] = now
        if ret == Ret.SERVER:
            self.request(partner.partner_id, "a push was refused with a server error")
        elif last is not None and now - last > self._gap:
            silent = int((now - last).total_seconds())
            self.request(partner.partner_id, f"heard again after {silent} s of silence")

    def request(self, partner_id: str, reason: str) -> None:
        self._due.setdefault(partner_id, reason)
        if self._wake is not None:
            self._wake.set()

    @property
    def due(self) -> dict[str, str]:
        return dict(self._due)

    def _callable(self) -> list[str]:
        """Partners that push to chargenet and can be asked (pulled ones are polled)."""
        return [
            r.partner_id
            for r in self._partners.partners()
            if r.enabled and not r.pull and r.base_url and r.outbound_keys
        ]

    async def run_once(self) -> list[Filled]:
        """Back-fill every partner that is due; what could not be asked stays due (the
        status first: once it is in, only the statistics are asked again)."""
        filled = []
        for partner_id, reason in list(self._due.items()):
            partner = await asyncio.to_thread(self._directory.get, partner_id)
            if partner is None or partner.base_url is None or partner.outbound_keys is None:
                self._due.pop(partner_id, None)  # nothing to ask it with
                continue
            try:
                if partner_id not in self._stats_only:
                    status = await self._puller.status(partner)
                    self._stats_only[partner_id] = status.accepted
                stats = await self._puller.daily_stats(partner)
            except PartnerError as exc:
                log.warning("back-fill from %s (%s) failed, retrying: %s", partner_id, reason, exc)
                continue
            self._due.pop(partner_id, None)
            statuses = self._stats_only.pop(partner_id)
            filled.append(Filled(partner_id, reason, statuses, stats.accepted, self._clock.now()))
            log.info("back-filled %s (%s): %d statuses", partner_id, reason, statuses)
        self.done = [*self.done, *filled][-100:]
        return filled

    async def run(self) -> None:
        """The background job: at start every partner (chargenet was not listening), then
        whenever a gap is noticed."""
        self._wake = asyncio.Event()
        for partner_id in await asyncio.to_thread(self._callable):
            self.request(partner_id, "chargenet started")
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("back-fill round failed")
            wait = self.retry_s if self._due else None
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await wait_at_most(self._wake.wait(), wait)
