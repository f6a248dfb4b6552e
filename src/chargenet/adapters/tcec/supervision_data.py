"""The supervision data municipal platforms take from operator platforms over the T/CEC
envelope (docs/tcec.md, "Supervision data"): alarms, station events, the BMS during a
charge, and the parking bay and lock of each connector. Each becomes an ordinary event the
safety rules read like any OCPP notice or reading."""

from __future__ import annotations

from decimal import Decimal

from chargenet.adapters.tcec import codes, model
from chargenet.adapters.tcec.inbound import (
    BadParameters,
    Fact,
    Sent,
    _meta,
    digest_of,
    local_id,
    reported_time,
)
from chargenet.adapters.tcec.partners import Partner
from chargenet.core.events import (
    BatteryReported,
    EquipmentNoticed,
    ParkingReported,
    StationNoticed,
)
from chargenet.core.oversight import NoticeKind

MAX_NOTE = 500


def _text(value: str | int | None) -> str:
    return "" if value is None else str(value).strip()


def _number(value: Decimal | None) -> float | None:
    if value is None:
        return None
    if not value.is_finite():
        raise BadParameters(f"{value} is not a number")
    return float(value)


def parking_fact(partner: Partner, info: model.ConnectorStatusInfo, sent: Sent) -> Fact | None:
    """ParkStatus / LockStatus of a status report, when it states either."""
    if info.ParkStatus is None and info.LockStatus is None:
        return None
    local = local_id(info.ConnectorID, "ConnectorID")
    for name, value, table in (
        ("ParkStatus", info.ParkStatus, codes.PARK_OCCUPIED),
        ("LockStatus", info.LockStatus, codes.LOCK_UP),
    ):
        if value is not None and value not in table:
            raise BadParameters(f"{name} {value} of {local} is not 0, 10 or 50")
    occupied = codes.PARK_OCCUPIED.get(info.ParkStatus) if info.ParkStatus is not None else None
    locked = codes.LOCK_UP.get(info.LockStatus) if info.LockStatus is not None else None
    if occupied is None and locked is None:
        return None  # both unknown: nothing to say
    connector_id = partner.connector_id(local)
    digest = digest_of(occupied, locked)
    return Fact(
        ParkingReported(
            **_meta(partner, sent, sent.at, "parking", connector_id, digest, sent.stamp),
            connector_id=connector_id,
            occupied=occupied,
            locked=locked,
        ),
        key=f"parking:{connector_id}",
        digest=digest,
    )


def _battery(
    partner: Partner, connector_local: str, bms: model.BmsInfo, sent: Sent, *parts: object
) -> BatteryReported:
    soc = _number(bms.Soc)
    if soc is not None and not 0 <= soc <= 100:
        raise BadParameters(f"Soc {soc} is not 0..100")
    return BatteryReported(
        **_meta(partner, sent, sent.at, "bms", connector_local, *parts),
        connector_id=partner.connector_id(connector_local),
        soc_percent=soc,
        voltage_v=_number(bms.TatalVoltage),
        current_a=_number(bms.TotalCurrent),
        cell_voltage_max_v=_number(bms.VoltageH),
        cell_voltage_min_v=_number(bms.VoltageL),
        cell_voltage_limit_v=_number(bms.MaxChargeCellVoltage),
        temperature_max_c=_number(bms.TemptureH),
        temperature_min_c=_number(bms.TemptureL),
        temperature_limit_c=_number(bms.MaxTemp),
    )


def bms_facts(partner: Partner, notice: model.BmsNotice, sent: Sent) -> list[Fact]:
    local = local_id(notice.ConnectorID, "ConnectorID")
    return [Fact(_battery(partner, local, notice.BmsInfo, sent, sent.stamp))]


def alarm_facts(partner: Partner, notice: model.AlarmNotice, sent: Sent) -> list[Fact]:
    facts: list[Fact] = []
    for n, alarm in enumerate(notice.AlarmInfos):
        where = f"AlarmInfos[{n}]"
        code = _text(alarm.AlarmCode)
        if not code or len(code) > 64:
            raise BadParameters(f"{where}.AlarmCode must be 1..64 characters")
        status = _text(alarm.AlarmStatus)
        if status not in codes.ALARM_CLEARED:
            raise BadParameters(f"{where}.AlarmStatus {status!r} is not 0 or 1")
        cleared = codes.ALARM_CLEARED[status]
        level = _text(alarm.AlarmLevel)
        severity = codes.ALARM_LEVEL_SEVERITY.get(level, codes.ALARM_DEFAULT_SEVERITY)
        at = (
            reported_time(alarm.AlarmTime, partner, sent, f"{where}.AlarmTime")
            if alarm.AlarmTime
            else sent.at
        )
        kind = _text(alarm.AlarmType)
        note = _text(alarm.NoteString)[:MAX_NOTE]
        info = "; ".join(p for p in (f"AlarmType {kind}" if kind else "", note) if p)
        ident = ("alarm", code, status, at.isoformat())
        if alarm.EquipmentID:
            equipment = local_id(alarm.EquipmentID, f"{where}.EquipmentID")
            connector = (
                partner.connector_id(local_id(alarm.ConnectorID, f"{where}.ConnectorID"))
                if alarm.ConnectorID
                else None
            )
            facts.append(
                Fact(
                    EquipmentNoticed(
                        **_meta(partner, sent, at, *ident, equipment, connector),
                        charger_id=partner.charger_id(equipment),
                        kind=NoticeKind.ALARM,
                        code=code,
                        connector_id=connector,
                        cleared=cleared,
                        severity=severity,
                        info=info,
                    )
                )
            )
            if alarm.BmsInfo is not None and alarm.ConnectorID:
                facts.append(
                    Fact(
                        _battery(
                            partner,
                            local_id(alarm.ConnectorID, f"{where}.ConnectorID"),
                            alarm.BmsInfo,
                            sent,
                            *ident,
                        )
                    )
                )
        elif alarm.StationID:
            station = local_id(alarm.StationID, f"{where}.StationID")
            facts.append(
                Fact(
                    StationNoticed(
                        **_meta(partner, sent, at, *ident, station),
                        station_id=partner.station_id(station),
                        code=f"alarm {code}" + (" cleared" if cleared else ""),
                        info=info,
                    )
                )
            )
        else:
            raise BadParameters(f"{where} names neither EquipmentID nor StationID")
    return facts


def event_facts(partner: Partner, notice: model.EventNotice, sent: Sent) -> list[Fact]:
    facts: list[Fact] = []
    for n, item in enumerate(notice.EventInfos):
        where = f"EventInfos[{n}]"
        code = _text(item.EventCode)
        if not code or len(code) > 48:
            raise BadParameters(f"{where}.EventCode must be 1..48 characters")
        kind = _text(item.EventType)
        station = local_id(item.StationID, f"{where}.StationID")
        at = (
            reported_time(item.EventTime, partner, sent, f"{where}.EventTime")
            if item.EventTime
            else sent.at
        )
        note = _text(item.NoteString)[:MAX_NOTE]
        word = f"event {kind}/{code}" if kind else f"event {code}"
        ident = ("event", station, kind, code, at.isoformat())
        if item.EquipmentID:
            equipment = local_id(item.EquipmentID, f"{where}.EquipmentID")
            connector = (
                partner.connector_id(local_id(item.ConnectorID, f"{where}.ConnectorID"))
                if item.ConnectorID
                else None
            )
            facts.append(
                Fact(
                    EquipmentNoticed(
                        **_meta(partner, sent, at, *ident, equipment),
                        charger_id=partner.charger_id(equipment),
                        kind=NoticeKind.MONITORING,
                        code=word,
                        connector_id=connector,
                        info=note,
                    )
                )
            )
        else:
            facts.append(
                Fact(
                    StationNoticed(
                        **_meta(partner, sent, at, *ident),
                        station_id=partner.station_id(station),
                        code=word,
                        info=note,
                    )
                )
            )
    return facts
