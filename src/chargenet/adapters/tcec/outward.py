"""chargenet as the client: pulling from partners that only answer queries, and the
charging queries (auth, policy, start, status, stop) towards an operator's equipment."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from chargenet.adapters.tcec import mapping, wire
from chargenet.adapters.tcec.client import Clients, PartnerError
from chargenet.adapters.tcec.intake import Intake, IntakeResult
from chargenet.adapters.tcec.mapping import BadParameters, Sent
from chargenet.adapters.tcec.partners import Partner, PartnerDirectory
from chargenet.app.interconnect import PartnerStore
from chargenet.app.queries import StateQueries
from chargenet.kit.clock import Clock

log = logging.getLogger(__name__)

STATUS_QUERY_LIMIT = 50  # stations per query_station_status (Part 2)
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
    errors: list[str] = field(default_factory=list)


class Puller:
    def __init__(
        self,
        *,
        clients: Clients,
        directory: PartnerDirectory,
        intake: Intake,
        queries: StateQueries,
        partners: PartnerStore,
        clock: Clock,
        our_operator_id: str,
        page_size: int = 50,
    ) -> None:
        self._clients = clients
        self._directory = directory
        self._intake = intake
        self._queries = queries
        self._partners = partners
        self._clock = clock
        self._our_id = our_operator_id
        self.page_size = page_size

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
            query = wire.StationsQuery(
                PageNo=page,
                PageSize=self.page_size,
                LastQueryTime=mapping.format_time(since, partner.zone) if since else None,
            )
            answer = await client.call("query_stations_info", query, wire.StationsPage)
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
                wire.StationStatusQuery(StationIDs=chunk),
                wire.StationStatusAnswer,
            )
            sent = self._sent()
            facts = []
            for station in answer.StationStatusInfos:
                for info in station.ConnectorStatusInfos:
                    try:
                        facts.append(mapping.connector_status_fact(partner, info, sent))
                    except BadParameters as exc:
                        result.refused.append(str(exc))
            result.add(await self._intake.submit(partner, facts, skip_unchanged=True))
        return result

    async def tariffs(
        self, partner: Partner, connectors: Sequence[tuple[str, str]]
    ) -> IntakeResult:
        """query_equip_business_policy for (station id, their ConnectorID) pairs."""
        client = self._clients.for_partner(partner.partner_id)
        result = IntakeResult()
        for station_id, connector in connectors:
            answer = await client.call(
                "query_equip_business_policy",
                wire.PolicyQuery(
                    EquipBizSeq=business_seq(self._our_id, self._clock), ConnectorID=connector
                ),
                wire.PolicyAnswer,
            )
            if answer.SuccStat != 0:
                result.refused.append(f"policy of {connector}: FailReason {answer.FailReason}")
                continue
            try:
                fact = mapping.policy_fact(partner, station_id, connector, answer, self._sent())
            except BadParameters as exc:
                result.refused.append(str(exc))
                continue
            result.add(await self._intake.submit(partner, [fact], skip_unchanged=True))
        return result

    async def stats(self, partner: Partner, day_from: date, day_to: date) -> IntakeResult:
        """query_station_stats for every station of the partner over whole days."""
        client = self._clients.for_partner(partner.partner_id)
        result = IntakeResult()
        for local in await self._station_locals(partner):
            answer = await client.call(
                "query_station_stats",
                wire.StatsQuery(
                    StationID=local, StartTime=day_from.isoformat(), EndTime=day_to.isoformat()
                ),
                wire.StatsAnswer,
            )
            try:
                fact = mapping.stats_fact(partner, answer.StationStats, self._sent())
            except BadParameters as exc:
                result.refused.append(str(exc))
                continue
            result.add(await self._intake.submit(partner, [fact]))
        return result

    async def pull(self, partner: Partner, *, full: bool = False) -> PullReport:
        """Stations (what changed), then their status; tariffs of connectors first seen."""
        report = PullReport(partner.partner_id)
        try:
            report.stations = await self.stations(partner, full=full)
            report.status = await self.status(partner)
        except PartnerError as exc:
            report.errors.append(str(exc))
        for problem in report.stations.refused + report.status.refused:
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
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            return None
        finally:
            self._waiting.pop((partner.partner_id, seq, kind), None)

    async def authorise(self, partner: Partner, connector: str) -> wire.EquipAuthAnswer:
        return await self._clients.for_partner(partner.partner_id).call(
            "query_equip_auth",
            wire.EquipAuthQuery(
                EquipAuthSeq=business_seq(self._our_id, self._clock), ConnectorID=connector
            ),
            wire.EquipAuthAnswer,
        )

    async def start(
        self, partner: Partner, connector: str, timeout_s: float = 10.0
    ) -> wire.StartChargeAnswer:
        return await self._clients.for_partner(partner.partner_id).call(
            "query_start_charge",
            wire.StartChargeQuery(
                StartChargeSeq=business_seq(self._our_id, self._clock), ConnectorID=connector
            ),
            wire.StartChargeAnswer,
            timeout=timeout_s,
        )

    async def status(self, partner: Partner, seq: str) -> IntakeResult:
        """query_equip_charge_status, recorded like a pushed snapshot."""
        snapshot = await self._clients.for_partner(partner.partner_id).call(
            "query_equip_charge_status",
            wire.ChargeStatusQuery(StartChargeSeq=seq),
            wire.ChargingSnapshot,
        )
        now = self._clock.now()
        sent = Sent(at=now, stamp=f"status:{now.isoformat()}", received_at=now)
        return await self._intake.submit(partner, mapping.snapshot_facts(partner, snapshot, sent))

    async def stop(
        self, partner: Partner, seq: str, connector: str, timeout_s: float = 10.0
    ) -> wire.StopChargeAnswer:
        return await self._clients.for_partner(partner.partner_id).call(
            "query_stop_charge",
            wire.StopChargeQuery(StartChargeSeq=seq, ConnectorID=connector),
            wire.StopChargeAnswer,
            timeout=timeout_s,
        )
