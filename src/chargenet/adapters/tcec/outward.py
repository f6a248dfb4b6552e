"""chargenet as the client: pulling from partners that only answer queries, and the
charging queries (auth, policy, start, status, stop) towards an operator's equipment."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from chargenet.adapters.tcec import inbound, model, supervision_data
from chargenet.adapters.tcec.client import Clients, PartnerError
from chargenet.adapters.tcec.inbound import BadParameters, Sent
from chargenet.adapters.tcec.intake import Intake, IntakeResult
from chargenet.adapters.tcec.partners import Partner, PartnerDirectory
from chargenet.app.interconnect import PartnerStore, SettlementQueries
from chargenet.app.queries import StateQueries
from chargenet.kit.aio import wait_at_most
from chargenet.kit.clock import Clock

log = logging.getLogger(__name__)

STATUS_QUERY_LIMIT = 50  # stations per query_station_status (Part 2)
PRICE_REFRESH = timedelta(days=1)  # a connector's business policy is asked again after this
STATS_BACKFILL_DAYS = 7  # whole days of statistics fetched for a station at most, per pull
STATS_SETTLE = timedelta(hours=1)  # a day's statistics are asked once it is over by this
QUERY_CONCURRENCY = 8  # per-connector and per-station queries under way at once
EARLY_KEPT = 1_000  # start/stop results and orders kept until someone waits for them


def business_seq(our_operator_id: str, clock: Clock) -> str:
    """A 27-character business sequence (StartChargeSeq, EquipAuthSeq, …): our
    OperatorID (9) + a time stamp (14) + 4 random digits, as Part 3 shapes it."""
    stamp = clock.now().strftime("%Y%m%d%H%M%S")
    return (our_operator_id[:9].ljust(9, "0") + stamp + f"{secrets.randbelow(10_000):04d}")[:27]


@dataclass
class PullReport:
    partner_id: str
    stations: IntakeResult = field(default_factory=IntakeResult)
    status: IntakeResult = field(default_factory=IntakeResult)
    tariffs: IntakeResult = field(default_factory=IntakeResult)
    stats: IntakeResult = field(default_factory=IntakeResult)
    errors: list[str] = field(default_factory=list)

    def parts(self) -> list[tuple[str, IntakeResult]]:
        return [
            ("stations", self.stations),
            ("status", self.status),
            ("prices", self.tariffs),
            ("statistics", self.stats),
        ]


class Puller:
    def __init__(
        self,
        *,
        clients: Clients,
        directory: PartnerDirectory,
        intake: Intake,
        queries: StateQueries,
        partners: PartnerStore,
        settlement: SettlementQueries,
        clock: Clock,
        our_operator_id: str,
        page_size: int = 50,
    ) -> None:
        self._clients = clients
        self._directory = directory
        self._intake = intake
        self._queries = queries
        self._partners = partners
        self._settlement = settlement
        self._clock = clock
        self._our_id = our_operator_id
        self.page_size = page_size
        # When each (partner, connector) policy was last asked; the stored prices' own
        # times cover what was asked before a restart.
        self._asked: dict[tuple[str, str], datetime] = {}

    def _sent(self) -> Sent:
        now = self._clock.now()
        return Sent(at=now, stamp=f"pull:{now.isoformat()}", received_at=now)

    async def stations(self, partner: Partner, *, full: bool = False) -> IntakeResult:
        """query_stations_info page by page; only what changed since the last pull
        (LastQueryTime) unless `full`."""
        client = self._clients.for_partner(partner.partner_id)
        started = self._clock.now()
        since = None if full or partner.last_station_pull is None else partner.last_station_pull
        result = IntakeResult()
        page = 1
        while True:
            query = model.StationsQuery(
                PageNo=page,
                PageSize=self.page_size,
                LastQueryTime=inbound.format_time(since, partner.zone) if since else None,
            )
            answer = await client.call("query_stations_info", query, model.StationsPage)
            sent = self._sent()
            for info in answer.StationInfos:
                try:
                    result.add(await self._intake.station(partner, info, sent, skip_unchanged=True))
                except BadParameters as exc:
                    result.refused.append(f"station {info.StationID}: {exc}")
            if page >= answer.PageCount or not answer.StationInfos:
                break
            page += 1
        await asyncio.to_thread(self._partners.mark_pulled, partner.partner_id, started)
        return result

    async def _station_locals(self, partner: Partner) -> list[str]:
        out: list[str] = []
        offset = 0
        while True:
            rows, total = await asyncio.to_thread(
                self._queries.stations, None, partner.operator_id, None, None, False, 1000, offset
            )
            out += [local for r in rows if (local := partner.local(r["station_id"])) is not None]
            offset += len(rows)
            if not rows or offset >= total:
                return out

    async def status(
        self, partner: Partner, station_ids: Sequence[str] | None = None
    ) -> IntakeResult:
        """query_station_status for the partner's stations, at most 50 a call; statuses that
        did not change since the last pull are not submitted again."""
        client = self._clients.for_partner(partner.partner_id)
        locals_ = (
            list(station_ids) if station_ids is not None else await self._station_locals(partner)
        )
        result = IntakeResult()
        for start in range(0, len(locals_), STATUS_QUERY_LIMIT):
            chunk = locals_[start : start + STATUS_QUERY_LIMIT]
            answer = await client.call(
                "query_station_status",
                model.StationStatusQuery(StationIDs=chunk),
                model.StationStatusAnswer,
            )
            sent = self._sent()
            facts = []
            for station in answer.StationStatusInfos:
                for info in station.ConnectorStatusInfos:
                    try:
                        facts.append(inbound.connector_status_fact(partner, info, sent))
                        parking = supervision_data.parking_fact(partner, info, sent)
                        if parking is not None:
                            facts.append(parking)
                    except BadParameters as exc:
                        result.refused.append(str(exc))
            result.add(await self._intake.submit(partner, facts, skip_unchanged=True))
        return result

    async def tariffs(
        self, partner: Partner, connectors: Sequence[tuple[str, str]]
    ) -> IntakeResult:
        """query_equip_business_policy for (station id, their ConnectorID) pairs."""
        return await self._each(
            [self._policy(partner, station_id, connector) for station_id, connector in connectors]
        )

    async def _policy(self, partner: Partner, station_id: str, connector: str) -> IntakeResult:
        result = IntakeResult()
        answer = await self._clients.for_partner(partner.partner_id).call(
            "query_equip_business_policy",
            model.PolicyQuery(
                EquipBizSeq=business_seq(self._our_id, self._clock), ConnectorID=connector
            ),
            model.PolicyAnswer,
        )
        if answer.SuccStat != 0:
            result.refused.append(f"policy of {connector}: FailReason {answer.FailReason}")
            return result
        try:
            fact = inbound.policy_fact(partner, station_id, connector, answer, self._sent())
        except BadParameters as exc:
            result.refused.append(str(exc))
            return result
        return await self._intake.submit(partner, [fact], skip_unchanged=True)

    async def _each(self, calls: Sequence[Coroutine[Any, Any, IntakeResult]]) -> IntakeResult:
        """Run one query per subject, `QUERY_CONCURRENCY` at a time, and add up the results;
        a partner error is raised once every call has ended."""
        gate = asyncio.Semaphore(QUERY_CONCURRENCY)

        async def gated(call: Coroutine[Any, Any, IntakeResult]) -> IntakeResult:
            async with gate:
                return await call

        result = IntakeResult()
        failure: BaseException | None = None
        for outcome in await asyncio.gather(*(gated(c) for c in calls), return_exceptions=True):
            if isinstance(outcome, BaseException):
                failure = failure or outcome
            else:
                result.add(outcome)
        if failure is not None:
            raise failure
        return result

    async def _connectors(self, partner: Partner) -> list[tuple[str, str]]:
        """(station id, their ConnectorID) of every connector in service of the partner."""
        out: list[tuple[str, str]] = []
        offset = 0
        while True:
            rows, total = await asyncio.to_thread(
                self._queries.connectors,
                None,
                None,
                partner.operator_id,
                None,
                None,
                False,
                1000,
                offset,
            )
            out += [
                (r["station_id"], local)
                for r in rows
                if (local := partner.local(r["connector_id"])) is not None
            ]
            offset += len(rows)
            if not rows or offset >= total:
                return out

    async def prices(self, partner: Partner, *, full: bool = False) -> IntakeResult:
        """query_equip_business_policy for each connector whose prices were not asked
        within `PRICE_REFRESH` (all of them when `full`): first seen connectors get their
        prices at the first pull, and changes show within a day. Unchanged answers are
        not submitted again."""
        now = self._clock.now()
        priced = await asyncio.to_thread(self._settlement.priced_connectors, partner.operator_id)
        due = []
        for station_id, local in await self._connectors(partner):
            times = [
                priced.get(partner.connector_id(local)),
                self._asked.get((partner.partner_id, local)),
            ]
            asked = max((t for t in times if t is not None), default=None)
            if full or asked is None or now - asked >= PRICE_REFRESH:
                due.append((station_id, local))
        result = await self.tariffs(partner, due)
        for _, local in due:
            self._asked[(partner.partner_id, local)] = now
        return result

    async def daily_stats(self, partner: Partner) -> IntakeResult:
        """query_station_stats, one whole local day at a time, for every day since the
        station's last report that is over (by `STATS_SETTLE`), at most
        `STATS_BACKFILL_DAYS` back."""
        local_now = (self._clock.now() - STATS_SETTLE).astimezone(partner.zone)
        last_whole = local_now.date() - timedelta(days=1)
        oldest = last_whole - timedelta(days=STATS_BACKFILL_DAYS - 1)
        through = await asyncio.to_thread(
            self._settlement.energy_reported_through, partner.operator_id
        )
        calls = []
        for local in await self._station_locals(partner):
            reported = through.get(partner.station_id(local))
            day = max(oldest, reported + timedelta(days=1)) if reported else oldest
            while day <= last_whole:
                calls.append(self._stat(partner, local, day, day))
                day += timedelta(days=1)
        return await self._each(calls)

    async def stats(
        self,
        partner: Partner,
        day_from: date,
        day_to: date,
        station_ids: Sequence[str] | None = None,
    ) -> IntakeResult:
        """query_station_stats over whole days, for the given stations (their StationIDs)
        or every station of the partner."""
        locals_ = (
            list(station_ids) if station_ids is not None else await self._station_locals(partner)
        )
        return await self._each([self._stat(partner, local, day_from, day_to) for local in locals_])

    async def _stat(
        self, partner: Partner, local: str, day_from: date, day_to: date
    ) -> IntakeResult:
        answer = await self._clients.for_partner(partner.partner_id).call(
            "query_station_stats",
            model.StatsQuery(
                StationID=local, StartTime=day_from.isoformat(), EndTime=day_to.isoformat()
            ),
            model.StatsAnswer,
        )
        try:
            fact = inbound.stats_fact(partner, answer.StationStats, self._sent())
        except BadParameters as exc:
            return IntakeResult(refused=[str(exc)])
        return await self._intake.submit(partner, [fact])

    async def pull(self, partner: Partner, *, full: bool = False) -> PullReport:
        """Stations (what changed), then their status; the prices of connectors first seen
        or not asked for a day (every connector's when `full`); the statistics of the whole
        days not yet reported. A part that fails does not stop the next."""
        report = PullReport(partner.partner_id)
        try:
            report.stations = await self.stations(partner, full=full)
            report.status = await self.status(partner)
        except PartnerError as exc:
            report.errors.append(str(exc))
        try:
            report.tariffs = await self.prices(partner, full=full)
        except PartnerError as exc:
            report.errors.append(f"prices: {exc}")
        try:
            report.stats = await self.daily_stats(partner)
        except PartnerError as exc:
            report.errors.append(f"statistics: {exc}")
        for _, part in report.parts():
            for problem in part.refused:
                log.warning("tcec pull from %s: %s", partner.partner_id, problem)
        return report

    async def run(self, interval_s: float) -> None:
        """The background job: pull from every partner that only answers queries."""
        while True:
            for partner in await asyncio.to_thread(self._directory.all):
                if partner.pull:
                    try:
                        report = await self.pull(partner)
                    except Exception:
                        log.exception("tcec pull from %s failed", partner.partner_id)
                        continue
                    for error in report.errors:
                        log.warning("tcec pull from %s: %s", partner.partner_id, error)
            await asyncio.sleep(interval_s)


class Charging:
    """Charging on a partner's equipment for chargenet's own users (R35), and answers to
    the notifications that follow a start or a stop."""

    def __init__(
        self, *, clients: Clients, intake: Intake, clock: Clock, our_operator_id: str
    ) -> None:
        self._clients = clients
        self._intake = intake
        self._clock = clock
        self._our_id = our_operator_id
        self._waiting: dict[tuple[str, str, type], asyncio.Future[object]] = {}
        # Results nobody waited for yet, newest last (bounded).
        self._early: dict[tuple[str, str, type], object] = {}

    def heard(self, partner: Partner, seq: str, what: object) -> None:
        """A start/stop result or an order arrived: wake whoever waits for it, or keep it
        for whoever asks next — a partner often pushes the result while its answer to the
        query is still on its way, before anyone can have started waiting."""
        key = (partner.partner_id, seq, type(what))
        future = self._waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(what)
            return
        self._early[key] = what
        while len(self._early) > EARLY_KEPT:
            self._early.pop(next(iter(self._early)))

    async def wait_for(
        self, partner: Partner, seq: str, kind: type, timeout_s: float
    ) -> object | None:
        early = self._early.pop((partner.partner_id, seq, kind), None)
        if early is not None:
            return early
        loop = asyncio.get_running_loop()
        future: asyncio.Future[object] = loop.create_future()
        self._waiting[(partner.partner_id, seq, kind)] = future
        try:
            return await wait_at_most(future, timeout_s)
        except TimeoutError:
            return None
        finally:
            self._waiting.pop((partner.partner_id, seq, kind), None)

    async def authorise(self, partner: Partner, connector: str) -> model.EquipAuthAnswer:
        return await self._clients.for_partner(partner.partner_id).call(
            "query_equip_auth",
            model.EquipAuthQuery(
                EquipAuthSeq=business_seq(self._our_id, self._clock), ConnectorID=connector
            ),
            model.EquipAuthAnswer,
        )

    async def start(
        self, partner: Partner, connector: str, timeout_s: float = 10.0
    ) -> model.StartChargeAnswer:
        return await self._clients.for_partner(partner.partner_id).call(
            "query_start_charge",
            model.StartChargeQuery(
                StartChargeSeq=business_seq(self._our_id, self._clock), ConnectorID=connector
            ),
            model.StartChargeAnswer,
            timeout=timeout_s,
        )

    async def status(self, partner: Partner, seq: str) -> IntakeResult:
        """query_equip_charge_status, recorded like a pushed snapshot."""
        snapshot = await self._clients.for_partner(partner.partner_id).call(
            "query_equip_charge_status",
            model.ChargeStatusQuery(StartChargeSeq=seq),
            model.ChargingSnapshot,
        )
        now = self._clock.now()
        sent = Sent(at=now, stamp=f"status:{now.isoformat()}", received_at=now)
        return await self._intake.submit(partner, inbound.snapshot_facts(partner, snapshot, sent))

    async def stop(
        self, partner: Partner, seq: str, connector: str, timeout_s: float = 10.0
    ) -> model.StopChargeAnswer:
        return await self._clients.for_partner(partner.partner_id).call(
            "query_stop_charge",
            model.StopChargeQuery(StartChargeSeq=seq, ConnectorID=connector),
            model.StopChargeAnswer,
            timeout=timeout_s,
        )
