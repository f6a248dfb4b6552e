"""T/CEC 102 payloads → chargenet events (the tables are in docs/tcec.md).

Mapping checks everything the payload itself can get wrong (codes, ranges, times, ids)
and raises `BadParameters` naming the field: the envelope answers 4003 and nothing is
stored. What only state can refuse (an unknown connector) is left to the ingest path.

Each fact carries the key and content digest that make a resent notification map to the
same event id (see intake.py).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from chargenet.adapters.tcec import codes, model
from chargenet.adapters.tcec.partners import Partner
from chargenet.adapters.tcec.status import FROM_TCEC, from_tcec
from chargenet.core.billing import Bill, BilledPeriod, bill_problems, kwh_to_wh
from chargenet.core.events import (
    ChargerRegistered,
    ConnectorStatusChanged,
    EnergyStatsReported,
    Event,
    EventMeta,
    MeterSampled,
    SessionBilled,
    SessionEnded,
    SessionStarted,
    SessionUpdated,
    Source,
    StationPricesPublished,
    StationRegistered,
    StationRetired,
    event_meta,
)
from chargenet.core.ids import AreaCode, ConnectorId, StationId
from chargenet.core.money import Money
from chargenet.core.registry.model import (
    ChargerRecord,
    ConnectorRecord,
    EvseRecord,
    PowerType,
    SiteCategory,
    StationRecord,
    opening_hours_problems,
)
from chargenet.core.status import ConnectorStatus
from chargenet.core.tariffs import TariffPeriod
from chargenet.kit.geo import to_wgs84
from chargenet.kit.ids import stable_id
from chargenet.kit.timeutil import CLOCK_AHEAD_TOLERANCE, runs_ahead

PROTOCOL = "tcec"
MAX_LOCAL_ID = 64
_LOCAL_ID = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces
_AREA_CODE = re.compile(r"^\d{6}$")
_HOURS = re.compile(r"(\d{1,2}):(\d{2})\s*[-~至到]\s*(\d{1,2}):(\d{2})")
_ALL_DAY = ("24小时", "24h", "全天", "00:00-24:00", "0:00-24:00", "00:00-23:59")


class BadParameters(ValueError):
    """A payload field that breaks the standard; answered with Ret 4003."""


@dataclass(frozen=True, slots=True)
class Sent:
    """When and how a message came: the sender's time, a stamp unique to the message,
    and our time of receipt."""

    at: datetime
    stamp: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Fact:
    event: Event
    key: str | None = None  # what the fact is about, for recognising resends
    digest: str | None = None  # its content


def digest_of(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def local_id(value: str, field: str) -> str:
    if not value or len(value) > MAX_LOCAL_ID or not _LOCAL_ID.match(value):
        raise BadParameters(f"{field} {value!r} must be 1..{MAX_LOCAL_ID} visible ASCII characters")
    return value


def parse_time(text: str, zone: ZoneInfo, field: str) -> datetime:
    """`yyyy-MM-dd HH:mm:ss` in the partner's wall clock, as UTC."""
    try:
        value = datetime.strptime(text.strip().replace("T", " "), "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=zone
        )
    except ValueError:
        raise BadParameters(f"{field} {text!r} is not yyyy-MM-dd HH:mm:ss") from None
    return value.astimezone(UTC)


def reported_time(text: str, partner: Partner, sent: Sent, field: str) -> datetime:
    """A time the partner reports for a fact (a start, a reading, an end), refused when it
    lies more than `CLOCK_AHEAD_TOLERANCE` ahead of our clock: believed, it would outrank every
    honest later report (the rule the OCPP gateway applies to chargers' clocks)."""
    value = parse_time(text, partner.zone, field)
    if runs_ahead(value, sent.received_at):
        ahead = int((value - sent.received_at).total_seconds())
        raise BadParameters(
            f"{field} {text!r} is {ahead} s ahead of our clock "
            f"(at most {int(CLOCK_AHEAD_TOLERANCE.total_seconds())} s allowed)"
        )
    return value


def format_time(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise BadParameters(f"{field} {text!r} is not yyyy-MM-dd") from None


def _money(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0:
        raise BadParameters(f"{field} {value} must be a non-negative amount")
    return value


def _energy_wh(kwh: Decimal, field: str) -> int:
    if not kwh.is_finite() or kwh < 0:
        raise BadParameters(f"{field} {kwh} must be a non-negative energy in kWh")
    return kwh_to_wh(kwh)


def _meta(partner: Partner, sent: Sent, occurred: datetime, *parts: object) -> EventMeta:
    source = Source(adapter=PROTOCOL, operator_id=partner.operator_id)
    ident = stable_id(PROTOCOL, partner.partner_id, *parts)
    return event_meta(ident, source, occurred, sent.received_at)


# --- stations -----------------------------------------------------------------------------


def opening_hours(text: str | None) -> str:
    """BusineHours is free text; ranges that can be read are kept, anything else is 24/7
    (the standard's default: a station is open unless it says otherwise)."""
    if not text or any(word in text for word in _ALL_DAY):
        return "24/7"
    ranges = [f"{int(h1):02d}:{m1}-{int(h2):02d}:{m2}" for h1, m1, h2, m2 in _HOURS.findall(text)]
    joined = ",".join(ranges)
    if not ranges or opening_hours_problems(joined):
        return "24/7"
    return joined


def station_record(partner: Partner, info: model.StationInfo) -> StationRecord:
    station_id = partner.station_id(local_id(info.StationID, "StationID"))
    if info.StationType not in codes.STATION_TYPE_ACCESS:
        raise BadParameters(
            f"StationType {info.StationType} is not 1, 50, 100, 101, 102, 103 or 255"
        )
    if info.StationStatus not in {s.value for s in codes.StationStatus}:
        raise BadParameters(f"StationStatus {info.StationStatus} is not 0, 1, 5, 6 or 50")
    if info.Construction not in codes.CONSTRUCTION_CATEGORY:
        raise BadParameters(f"Construction {info.Construction} is not 1..11 or 255")
    if not _AREA_CODE.match(info.AreaCode):
        raise BadParameters(f"AreaCode {info.AreaCode!r} is not a 6-digit GB/T 2260 code")
    lat, lon = float(info.StationLat), float(info.StationLng)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        raise BadParameters(f"StationLat/StationLng {lat},{lon} is not a position")
    lat, lon = to_wgs84(lat, lon, partner.datum)
    category = codes.CONSTRUCTION_CATEGORY[info.Construction]
    if info.StationType in codes.FLEET_STATION_TYPES and category is SiteCategory.OTHER:
        category = SiteCategory.FLEET_DEPOT
    record = StationRecord(
        station_id=station_id,
        operator_id=partner.operator_id,
        name=info.StationName.strip(),
        lat=round(lat, 7),
        lon=round(lon, 7),
        category=category,
        access=codes.STATION_TYPE_ACCESS[info.StationType],
        area_code=AreaCode(info.AreaCode),
        address=(info.Address or "").strip()[:300] or None,
        # ParkNums counts the spaces where a car can park to charge; 0 means unknown.
        charging_spaces=info.ParkNums or None,
        opening_hours=opening_hours(info.BusineHours),
    )
    problems = record.problems()
    if problems:
        raise BadParameters(f"StationInfo {info.StationID}: {'; '.join(problems)}")
    return record


def _connector(partner: Partner, equipment: model.EquipmentInfo, n: int) -> EvseRecord:
    info = equipment.ConnectorInfos[n]
    where = f"EquipmentInfo {equipment.EquipmentID} ConnectorInfos[{n}]"
    if info.ConnectorType not in codes.CONNECTOR_TYPE:
        raise BadParameters(f"{where}.ConnectorType {info.ConnectorType} is not 1..6")
    standard, power_type = codes.CONNECTOR_TYPE[info.ConnectorType]
    if info.ConnectorType in (5, 6) and equipment.EquipmentType == codes.EquipmentType.DC:
        power_type = PowerType.DC
    if not info.Power.is_finite() or info.Power <= 0:
        raise BadParameters(f"{where}.Power {info.Power} must be more than 0 kW")
    local = local_id(info.ConnectorID, f"{where}.ConnectorID")
    connector = ConnectorRecord(
        connector_no=1,
        standard=standard,
        power_type=power_type,
        max_power_w=int((info.Power * 1000).to_integral_value()),
        connector_id=partner.connector_id(local),
        max_voltage_v=info.VoltageUpperLimits or None,
        max_current_a=info.Current or None,
    )
    # Each T/CEC connector charges on its own: one EVSE per connector.
    return EvseRecord(evse_no=n + 1, connectors=(connector,), evse_uid=local)


def charger_record(
    partner: Partner, station: StationRecord, equipment: model.EquipmentInfo
) -> ChargerRecord:
    local = local_id(equipment.EquipmentID, "EquipmentID")
    if equipment.EquipmentType not in {t.value for t in codes.EquipmentType}:
        raise BadParameters(f"EquipmentInfo {local}: EquipmentType {equipment.EquipmentType}")
    if not equipment.ConnectorInfos:
        raise BadParameters(f"EquipmentInfo {local} lists no ConnectorInfos")
    record = ChargerRecord(
        charger_id=partner.charger_id(local),
        station_id=station.station_id,
        evses=tuple(
            _connector(partner, equipment, n) for n in range(len(equipment.ConnectorInfos))
        ),
        vendor=(equipment.ManufacturerName or equipment.ManufacturerID or None),
        model=equipment.EquipmentModel or None,
        protocol=PROTOCOL,
    )
    problems = record.problems()
    if problems:
        raise BadParameters(f"EquipmentInfo {local}: {'; '.join(problems)}")
    return record


def station_facts(partner: Partner, info: model.StationInfo, sent: Sent) -> list[Fact]:
    """A StationInfo as events. StationStatus decides the station's life:
    50 in use, 0 unknown → registered with its chargers; 6 maintenance → also every
    connector unavailable; 1 under construction → the station without chargers (not yet
    piles in service); 5 closed → registered, then retired with its chargers."""
    station = station_record(partner, info)
    chargers = [charger_record(partner, station, e) for e in info.EquipmentInfos]
    status = codes.StationStatus(info.StationStatus)
    local = info.StationID
    station_digest = digest_of(station, status)
    facts = [
        Fact(
            StationRegistered(
                **_meta(partner, sent, sent.at, "station", local, station_digest, sent.stamp),
                station=station,
            ),
            key=f"station:{local}",
            digest=station_digest,
        )
    ]
    if status is not codes.StationStatus.BUILDING:
        for charger in chargers:
            # The station's status is part of the charger's digest: coming back from
            # closed re-registers chargers that closing retired.
            digest = digest_of(charger, status)
            facts.append(
                Fact(
                    ChargerRegistered(
                        **_meta(
                            partner,
                            sent,
                            sent.at,
                            "charger",
                            charger.charger_id,
                            digest,
                            sent.stamp,
                        ),
                        charger=charger,
                    ),
                    key=f"charger:{charger.charger_id}",
                    digest=digest,
                )
            )
    if status is codes.StationStatus.MAINTENANCE:
        for charger in chargers:
            for connector_id, _, _ in charger.connector_ids():
                facts.append(
                    status_fact(
                        partner,
                        connector_id,
                        ConnectorStatus.UNAVAILABLE,
                        sent,
                        info="station under maintenance (StationStatus 6)",
                    )
                )
    if status is codes.StationStatus.CLOSED:
        facts.append(
            Fact(
                StationRetired(
                    **_meta(partner, sent, sent.at, "retired", local, station_digest, sent.stamp),
                    station_id=station.station_id,
                    reason="closed (StationStatus 5)",
                ),
                key=f"retired:{local}",
                digest=station_digest,
            )
        )
    fees = [
        (info.ElectricityFee or "").strip(),
        (info.ServiceFee or "").strip(),
        (info.ParkFee or "").strip(),
    ]
    if any(fees):
        digest = digest_of(*fees)
        facts.append(
            Fact(
                StationPricesPublished(
                    **_meta(partner, sent, sent.at, "fees", local, digest, sent.stamp),
                    station_id=station.station_id,
                    electricity_fee=fees[0][:2000],
                    service_fee=fees[1][:2000],
                    parking_fee=fees[2][:2000],
                ),
                key=f"fees:{local}",
                digest=digest,
            )
        )
    return facts


def charger_ids(facts: Sequence[Fact]) -> set[str]:
    return {f.event.charger.charger_id for f in facts if isinstance(f.event, ChargerRegistered)}


# --- status -------------------------------------------------------------------------------


def status_fact(
    partner: Partner,
    connector_id: ConnectorId,
    status: ConnectorStatus,
    sent: Sent,
    info: str | None = None,
) -> Fact:
    digest = digest_of(status, info)
    return Fact(
        ConnectorStatusChanged(
            **_meta(partner, sent, sent.at, "status", connector_id, digest, sent.stamp),
            connector_id=connector_id,
            status=status,
            info=info,
        ),
        key=f"status:{connector_id}",
        digest=digest,
    )


def connector_status_fact(partner: Partner, info: model.ConnectorStatusInfo, sent: Sent) -> Fact:
    local = local_id(info.ConnectorID, "ConnectorID")
    if info.Status not in FROM_TCEC:
        raise BadParameters(f"Status {info.Status} of {local} is not 0, 1, 2, 3, 4 or 255")
    return status_fact(partner, partner.connector_id(local), from_tcec(info.Status), sent)


# --- sessions -----------------------------------------------------------------------------


def _charge_seq(value: str) -> str:
    return local_id(value, "StartChargeSeq")


def session_started_fact(
    partner: Partner, seq: str, connector_local: str, started: datetime, sent: Sent
) -> Fact:
    return Fact(
        SessionStarted(
            **_meta(partner, sent, started, "session", seq, "started"),
            session_id=partner.session_id(seq),
            connector_id=partner.connector_id(connector_local),
        )
    )


def start_result_facts(partner: Partner, result: model.StartChargeResult, sent: Sent) -> list[Fact]:
    seq = _charge_seq(result.StartChargeSeq)
    connector = local_id(result.ConnectorID, "ConnectorID")
    if result.StartChargeSeqStat not in {s.value for s in codes.ChargeState}:
        raise BadParameters(f"StartChargeSeqStat {result.StartChargeSeqStat} is not 1..5")
    started = reported_time(result.StartTime, partner, sent, "StartTime")
    if result.StartChargeSeqStat in (codes.ChargeState.STARTING, codes.ChargeState.CHARGING):
        return [session_started_fact(partner, seq, connector, started, sent)]
    return []


def _phase_power(snapshot: model.ChargingSnapshot) -> int | None:
    """Power from each phase's voltage × current (DC sends phase A only)."""
    total = 0.0
    for v, i in (
        (snapshot.VoltageA, snapshot.CurrentA),
        (snapshot.VoltageB, snapshot.CurrentB),
        (snapshot.VoltageC, snapshot.CurrentC),
    ):
        if v is not None and i is not None and v > 0 and i > 0:
            total += v * i
    if not math.isfinite(total):  # 1e308 V × 400 A: no power at all, and round() would raise
        raise BadParameters("Voltage × Current is past any real power")
    return round(total) if total else None


def session_energy_fact(
    partner: Partner, sent: Sent, seq: str, connector_id: ConnectorId, at: datetime, wh: int
) -> Fact:
    """The session's energy so far at a time, as a meter sample of the session: T/CEC 102
    sends no meter register, only each session's energy since its start (TotalPower, kWh,
    in a charging snapshot and in the order; each ChargeDetails period's DetailPower). Its
    rises between samples are the hourly energy (adapters/storage/rollup.py); 0 at
    StartTime, so that the energy up to the first snapshot counts too. The id is the
    session's and the time's: the same point sent again is one sample."""
    return Fact(
        MeterSampled(
            **_meta(partner, sent, at, "session-energy", seq, at.isoformat(), wh),
            connector_id=connector_id,
            session_id=partner.session_id(seq),
            session_energy_wh=wh,
        )
    )


def _bill_points(bill: Bill, started: datetime, ended: datetime) -> list[tuple[datetime, int]]:
    """The session's energy at the end of each ChargeDetails period (the energy of the
    periods up to it), when the periods follow one another within the session and add up to
    its TotalPower (to the Wh per period, as `bill_flags` allows); else none: a bill that
    does not add up says nothing sure about when its energy was delivered."""
    periods = sorted(bill.periods, key=lambda p: p.start)
    if not periods or abs(sum(p.energy_wh for p in periods) - bill.energy_wh) > len(periods):
        return []
    points: list[tuple[datetime, int]] = []
    so_far, last_end = 0, started
    for p in periods:
        if p.start < last_end or p.end < p.start or p.end > ended:
            return []
        so_far += p.energy_wh
        last_end = p.end
        if p.end < ended:
            points.append((p.end, min(so_far, bill.energy_wh)))
    return points


def snapshot_facts(partner: Partner, snapshot: model.ChargingSnapshot, sent: Sent) -> list[Fact]:
    seq = _charge_seq(snapshot.StartChargeSeq)
    connector = local_id(snapshot.ConnectorID, "ConnectorID")
    if snapshot.StartChargeSeqStat not in {s.value for s in codes.ChargeState}:
        raise BadParameters(f"StartChargeSeqStat {snapshot.StartChargeSeqStat} is not 1..5")
    if snapshot.ConnectorStatus not in FROM_TCEC:
        raise BadParameters(f"ConnectorStatus {snapshot.ConnectorStatus} is not a T/CEC status")
    if snapshot.Soc is not None and not 0 <= snapshot.Soc <= 100:
        raise BadParameters(f"Soc {snapshot.Soc} is not 0..100")
    started = reported_time(snapshot.StartTime, partner, sent, "StartTime")
    read_at = (
        reported_time(snapshot.EndTime, partner, sent, "EndTime") if snapshot.EndTime else sent.at
    )
    energy = _energy_wh(snapshot.TotalPower, "TotalPower")
    total = _money(snapshot.TotalMoney, "TotalMoney")
    session_id = partner.session_id(seq)
    connector_id = partner.connector_id(connector)
    reading = ("snapshot", seq, read_at.isoformat(), energy)
    facts = [
        session_started_fact(partner, seq, connector, started, sent),
        session_energy_fact(partner, sent, seq, connector_id, started, 0),
        status_fact(partner, connector_id, from_tcec(snapshot.ConnectorStatus), sent),
        Fact(
            MeterSampled(
                **_meta(partner, sent, read_at, *reading, "meter"),
                connector_id=connector_id,
                session_id=session_id,
                power_w=_phase_power(snapshot),
                current_a=snapshot.CurrentA,
                voltage_v=snapshot.VoltageA,
                soc_percent=snapshot.Soc,
                session_energy_wh=energy,
            )
        ),
        Fact(
            SessionUpdated(
                **_meta(partner, sent, read_at, *reading, "session"),
                session_id=session_id,
                energy_wh=energy,
                cost=Money(total) if total is not None else None,
            )
        ),
    ]
    return facts


def bill_of(partner: Partner, order: model.ChargeOrderInfo) -> Bill:
    periods = []
    for n, detail in enumerate(order.ChargeDetails):
        where = f"ChargeDetails[{n}]"
        periods.append(
            BilledPeriod(
                start=parse_time(detail.DetailStartTime, partner.zone, f"{where}.DetailStartTime"),
                end=parse_time(detail.DetailEndTime, partner.zone, f"{where}.DetailEndTime"),
                energy_wh=_energy_wh(detail.DetailPower, f"{where}.DetailPower"),
                energy_price=_money(detail.ElecPrice, f"{where}.ElecPrice") or Decimal(0),
                service_price=_money(detail.ServicePrice, f"{where}.ServicePrice") or Decimal(0),
                energy_amount=_money(detail.DetailElecMoney, f"{where}.DetailElecMoney")
                or Decimal(0),
                service_amount=_money(detail.DetailServiceMoney, f"{where}.DetailServiceMoney")
                or Decimal(0),
            )
        )
    return Bill(
        energy_wh=_energy_wh(order.TotalPower, "TotalPower"),
        energy_amount=_money(order.TotalElecMoney, "TotalElecMoney") or Decimal(0),
        service_amount=_money(order.TotalServiceMoney, "TotalServiceMoney") or Decimal(0),
        total=_money(order.TotalMoney, "TotalMoney") or Decimal(0),
        periods=tuple(periods),
    )


def order_facts(partner: Partner, order: model.ChargeOrderInfo, sent: Sent) -> list[Fact]:
    seq = _charge_seq(order.StartChargeSeq)
    connector = local_id(order.ConnectorID, "ConnectorID")
    started = reported_time(order.StartTime, partner, sent, "StartTime")
    ended = reported_time(order.EndTime, partner, sent, "EndTime")
    if ended < started:
        raise BadParameters("EndTime is before StartTime")
    for n, detail in enumerate(order.ChargeDetails):
        reported_time(detail.DetailEndTime, partner, sent, f"ChargeDetails[{n}].DetailEndTime")
    bill = bill_of(partner, order)
    problems = bill_problems(bill)
    if problems:
        raise BadParameters("; ".join(problems))
    session_id = partner.session_id(seq)
    connector_id = partner.connector_id(connector)
    digest = digest_of(bill)
    # The session's energy at its start, at each billed period's end and at its end: what
    # the hourly energy has of a session no snapshot was pushed for, and the rest of one
    # after its last snapshot.
    points = [(started, 0), *_bill_points(bill, started, ended), (ended, bill.energy_wh)]
    return [
        session_started_fact(partner, seq, connector, started, sent),
        Fact(
            SessionEnded(
                **_meta(partner, sent, ended, "session", seq, "ended"),
                session_id=session_id,
                energy_wh=bill.energy_wh,
                stop_reason=codes.stop_reason_text(order.StopReason),
                cost=Money(bill.total),
            )
        ),
        Fact(
            SessionBilled(
                **_meta(partner, sent, ended, "session", seq, "billed", digest),
                session_id=session_id,
                bill=bill,
            )
        ),
        *(session_energy_fact(partner, sent, seq, connector_id, at, wh) for at, wh in points),
    ]


# --- tariffs and statistics ---------------------------------------------------------------


def policy_fact(
    partner: Partner, station_id: str, connector_local: str, answer: model.PolicyAnswer, sent: Sent
) -> Fact:
    periods = []
    for n, info in enumerate(answer.PolicyInfos):
        text = info.StartTime.strip()
        if not re.match(r"^\d{6}$", text):
            raise BadParameters(f"PolicyInfos[{n}].StartTime {text!r} is not HHmmss")
        try:
            start = time(int(text[:2]), int(text[2:4]), int(text[4:]))
        except ValueError:
            raise BadParameters(f"PolicyInfos[{n}].StartTime {text!r} is not a time") from None
        periods.append(
            TariffPeriod(
                start=start,
                energy_price=_money(info.ElecPrice, f"PolicyInfos[{n}].ElecPrice") or Decimal(0),
                service_price=_money(info.ServicePrice, f"PolicyInfos[{n}].ServicePrice")
                or Decimal(0),
            )
        )
    connector_id = partner.connector_id(connector_local)
    digest = digest_of(*periods)
    return Fact(
        StationPricesPublished(
            **_meta(partner, sent, sent.at, "policy", connector_id, digest, sent.stamp),
            station_id=StationId(station_id),
            connector_id=connector_id,
            periods=tuple(periods),
        ),
        key=f"policy:{connector_id}",
        digest=digest,
    )


def stats_fact(partner: Partner, stats: model.StationStats, sent: Sent) -> Fact:
    local = local_id(stats.StationID, "StationID")
    day_from = parse_day(stats.StartTime, "StartTime")
    day_to = parse_day(stats.EndTime, "EndTime")
    per_connector = [
        (
            partner.connector_id(local_id(c.ConnectorID, "ConnectorID")),
            _energy_wh(c.ConnectorElectricity, "ConnectorElectricity"),
        )
        for e in stats.EquipmentStatsInfos
        for c in e.ConnectorStatsInfos
    ]
    energy = _energy_wh(stats.StationElectricity, "StationElectricity")
    digest = digest_of(energy, *per_connector)
    return Fact(
        EnergyStatsReported(
            **_meta(partner, sent, sent.at, "stats", local, day_from, day_to, digest),
            station_id=partner.station_id(local),
            day_from=day_from,
            day_to=day_to,
            energy_wh=energy,
            connectors=tuple(per_connector),
        )
    )
