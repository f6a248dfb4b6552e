"""Filings abroad regulators take, built from the platform's own data: the NEVI quarterly
data submission to EV-ChART (23 CFR 680.112) and the UK annual reliability report (The
Public Charge Point Regulations 2023, reg. 8). The figures are supervision's own
(`SupervisionService`): the same uptime, the same exclusions, the same ports.

EV-ChART's field names, their order and their units are those of the Joint Office's EV-ChART
(github.com/US-JOET/ev-chart-open-source: `database_central_config.json`, the schema of
`module2_data_v3`, `module3_data_v3`, `module4_data_v3`, `station_registrations`,
`station_ports`; its sample uploads `tests/sample_data/*_mod_N.csv`): one CSV per module,
`station_id`, `network_provider` and the module's fields; times ISO 8601 in UTC ("…Z");
durations in minutes with two decimals; energy in kWh and power in kW with two decimals.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chargenet.analytics.supervision import timeline
from chargenet.analytics.supervision.statusclass import NEVI_OUTAGE
from chargenet.app.supervision import SupervisionService, month_edges, month_start, port_id_of
from chargenet.app.supervision_ports import FleetRow, Row, Scope
from chargenet.core.errors import Invalid
from chargenet.core.oversight import EVCHART_CODE, ExclusionReason
from chargenet.kit.timeutil import require_utc

# Module by module, the columns of EV-ChART's upload templates, in their order.
EVCHART_COLUMNS: dict[str, tuple[str, ...]] = {
    # Module 1, "Station Location" (evchart_helper.module_enums.Module1Attributes)
    "station": (
        "station_id",
        "network_provider",
        "station_address",
        "station_city",
        "station_state",
        "station_zip",
        "station_zip_extended",
        "station_longitude",
        "station_latitude",
    ),
    # The ports registered under each station (table `station_ports`)
    "port": ("station_id", "network_provider", "port_id", "port_type", "federally_funded"),
    # Module 2, "Charging Sessions" (680.112(b)(1)-(4))
    "session": (
        "station_id",
        "port_id",
        "network_provider",
        "charger_id",
        "session_id",
        "connector_id",
        "session_start",
        "session_end",
        "session_error",
        "error_other",
        "energy_kwh",
        "power_kw",
        "payment_method",
        "payment_other",
    ),
    # Module 3, "Uptime" (680.112(b)(5), computed per 680.116(b))
    "uptime": (
        "station_id",
        "port_id",
        "network_provider",
        "uptime_reporting_start",
        "uptime_reporting_end",
        "uptime",
        "total_outage",
        "total_outage_excl",
    ),
    # Module 4, "Outages" (680.112(b)(6))
    "outage": (
        "station_id",
        "network_provider",
        "port_id",
        "outage_id",
        "outage_duration",
        "excluded_outage",
        "excluded_outage_reason",
        "excluded_outage_notes",
    ),
}

# How a session ended normally (OCPP 1.6 StopTransaction.reason, 2.0.1 stoppedReason): any
# other reason given is the session's error (module 2 `session_error`).
NORMAL_ENDS = frozenset({"Local", "Remote", "EVDisconnected", "StoppedByEV", "DeAuthorized"})

# UK: the report's figures per operator (reg. 8(2)), then each charge point's.
UK_REPORT_COLUMNS = (
    "operator_id",
    "operator_name",
    "year",
    "rapid_charge_points",
    "evses",
    "reliability_percent",
    "meets_99_percent",
    "measured_hours",
    "working_hours",
    "not_working_hours",
    "ineligible_hours",
)
UK_POINT_COLUMNS = (
    "operator_id",
    "charge_point_id",
    "station_id",
    "evses",
    "reliability_percent",
    "measured_hours",
    "working_hours",
    "not_working_hours",
    "ineligible_hours",
)

_CENT = Decimal("0.01")


def _two(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)


def _minutes(hours: float) -> Decimal:
    return _two(hours * 60)


def quarter_edges(year: int, quarter: int, zone: str) -> tuple[datetime, datetime]:
    """A calendar quarter in local time, as UTC instants [start, end)."""
    if not 1 <= quarter <= 4:
        raise Invalid(f"quarter is 1 to 4, not {quarter}")
    first = 3 * (quarter - 1) + 1
    end_year, end_month = (year + 1, 1) if quarter == 4 else (year, first + 3)
    return require_utc(month_start(year, first, zone)), require_utc(
        month_start(end_year, end_month, zone)
    )


class Filings:
    def __init__(self, supervision: SupervisionService) -> None:
        self.supervision = supervision
        self.queries = supervision.queries

    # --- NEVI: EV-ChART, quarterly ----------------------------------------------------------

    def evchart(self, scope: Scope, year: int, quarter: int) -> dict[str, list[Row]]:
        """EV-ChART's modules for a calendar quarter, keyed as `EVCHART_COLUMNS`: stations
        and their ports, the sessions that ended in the quarter, each port's uptime over the
        12 months ending with the quarter (680.116(b): "calculated on a monthly basis for the
        previous 12 months"), and each outage that began in the quarter."""
        zone = self.supervision.config.uptime.local_timezone
        start, end = quarter_edges(year, quarter, zone)
        fleet = self.queries.fleet(scope)
        ports: dict[str, list[FleetRow]] = {}
        for r in fleet:
            ports.setdefault(port_id_of(r), []).append(r)
        return {
            "station": self._stations(scope),
            "port": self._ports(ports),
            "session": self._sessions(scope, start, end, fleet),
            "uptime": self._uptime(scope, year, quarter, ports),
            "outage": self._outages(scope, ports, start, end),
        }

    def _stations(self, scope: Scope) -> list[Row]:
        return [
            {
                "station_id": s["station_id"],
                "network_provider": s["operator_id"],
                # chargenet keeps one address line; city, state and ZIP are not separate.
                "station_address": s["address"],
                "station_longitude": s["lon"],
                "station_latitude": s["lat"],
            }
            for s in self.queries.station_rows(scope)
        ]

    @staticmethod
    def _ports(ports: dict[str, list[FleetRow]]) -> list[Row]:
        return [
            {
                "station_id": rows[0]["station_id"],
                "network_provider": rows[0]["operator_id"],
                "port_id": port_id,
                # DC fast charging or AC Level 2 (680.106(d) holds them to different powers).
                "port_type": "DCFC" if any(r["power_type"] == "dc" for r in rows) else "L2",
            }
            for port_id, rows in sorted(ports.items())
        ]

    def _sessions(
        self, scope: Scope, start: datetime, end: datetime, fleet: list[FleetRow]
    ) -> list[Row]:
        port_of = {r["connector_id"]: port_id_of(r) for r in fleet}
        out = []
        for s in self.queries.sessions_ended(scope, start, end):
            reason = s["stop_reason"]
            error = reason if reason and reason not in NORMAL_ENDS else None
            out.append(
                {
                    "station_id": s["station_id"],
                    "port_id": port_of.get(s["connector_id"], s["connector_id"]),
                    "network_provider": s["operator_id"],
                    "charger_id": s["charger_id"],
                    "session_id": s["session_id"],
                    "connector_id": s["connector_id"],
                    "session_start": s["started_at"],
                    "session_end": s["ended_at"],
                    "session_error": error,
                    "energy_kwh": (
                        _two(Decimal(s["energy_wh"]) / 1000) if s["energy_wh"] is not None else None
                    ),
                    "power_kw": (
                        _two(Decimal(s["peak_power_w"]) / 1000)
                        if s["peak_power_w"] is not None
                        else None
                    ),
                }
            )
        return out

    def _uptime(
        self, scope: Scope, year: int, quarter: int, ports: dict[str, list[FleetRow]]
    ) -> list[Row]:
        zone = self.supervision.config.uptime.local_timezone
        last_month = 3 * quarter
        rows = self.supervision.nevi_monthly(scope, year, last_month, by="port", unit="port")
        edges = month_edges(year, last_month, 12, zone)
        report_start, report_end = edges[0], edges[-1]
        out = []
        for r in rows:
            if r["period"] != "12m" or r["nevi_uptime"] is None or r["group"] not in ports:
                continue
            head = ports[r["group"]][0]
            out.append(
                {
                    "station_id": head["station_id"],
                    "port_id": r["group"],
                    "network_provider": head["operator_id"],
                    "uptime_reporting_start": report_start,
                    "uptime_reporting_end": report_end,
                    "uptime": _two(r["nevi_uptime"]),
                    "total_outage": _minutes(r["outage_hours"]),
                    "total_outage_excl": _minutes(r["excluded_hours"]),
                }
            )
        return out

    def _outages(
        self, scope: Scope, ports: dict[str, list[FleetRow]], start: datetime, end: datetime
    ) -> list[Row]:
        """Each outage of a port that began in [start, end), followed to its end (up to a
        month after the quarter, so that one running over the quarter's end is whole, and
        from a month before it, so that one running into the quarter is the previous
        quarter's and not counted twice). Reports are read for a batch of ports at a time."""
        service = self.supervision
        begin = start - timedelta(days=31)
        reach = max(min(end + timedelta(days=31), service.clock.now()), begin)
        exclusions = service.queries.exclusions(scope, begin, reach)
        ordered = sorted(ports.items())
        size = max(1, service.config.uptime.batch_chargers)
        out = []
        for first in range(0, len(ordered), size):
            batch = ordered[first : first + size]
            histories = service.intervals_of([r for _, rows in batch for r in rows], begin, reach)
            for port_id, rows in batch:
                history = timeline.port_intervals([histories[r["connector_id"]] for r in rows])
                windows = service.outage_windows(rows[0], begin, reach, exclusions)
                for outage in timeline.outages(history, windows, NEVI_OUTAGE):
                    if start <= outage.start < end:
                        out.append(_outage_row(rows[0], port_id, outage))
        return out

    # --- UK: the annual report, reg. 8 ------------------------------------------------------

    def uk_annual(self, scope: Scope, year: int) -> dict[str, list[Row]]:
        """PCPR 2023 reg. 8: per operator, its network of rapid charge points over the
        calendar year — how many charge points it operated (8(2)(a)) and the network's
        reliability as a percentage (8(2)(b)), against reg. 7(2)'s 99 % — and each charge
        point's own reliability behind that figure."""
        config = self.supervision.config.uptime
        networks = self.supervision.uk_reliability(scope, year, unit="port", by="operator")
        points = self.supervision.uk_reliability(scope, year, unit="port", by="charger")
        fleet = {r["charger_id"]: r for r in self.queries.fleet(scope)}
        per_operator: dict[str, int] = {}
        for p in points:
            if p["ports"]:
                owner = fleet[p["group"]]["operator_id"]
                per_operator[owner] = per_operator.get(owner, 0) + 1
        report = []
        for n in networks:
            if not n["ports"]:
                continue  # operated no rapid charge point in the year
            measured = n["uk_up_hours"] + n["uk_down_hours"] + n["uk_ineligible_hours"]
            report.append(
                {
                    "operator_id": n["group"],
                    "operator_name": n["name"],
                    "year": year,
                    "rapid_charge_points": per_operator.get(n["group"], 0),
                    "evses": n["ports"],
                    "reliability_percent": n["uk_reliability"],
                    "meets_99_percent": n["meets_uk_99"],
                    "measured_hours": round(measured, 4),
                    "working_hours": n["uk_up_hours"],
                    "not_working_hours": n["uk_down_hours"],
                    "ineligible_hours": n["uk_ineligible_hours"],
                }
            )
        charge_points = [
            {
                "operator_id": fleet[p["group"]]["operator_id"],
                "charge_point_id": p["group"],
                "station_id": fleet[p["group"]]["station_id"],
                "evses": p["ports"],
                "reliability_percent": p["uk_reliability"],
                "measured_hours": round(
                    p["uk_up_hours"] + p["uk_down_hours"] + p["uk_ineligible_hours"], 4
                ),
                "working_hours": p["uk_up_hours"],
                "not_working_hours": p["uk_down_hours"],
                "ineligible_hours": p["uk_ineligible_hours"],
            }
            for p in points
            if p["ports"]
        ]
        charge_points.sort(key=lambda r: (r["operator_id"], r["charge_point_id"]))
        basis = [
            {
                "year": year,
                "local_timezone": config.local_timezone,
                "rapid_min_kw": 50,
                "ineligible_counts_as_reliable": config.uk_ineligible_reliable,
                "restricted_hours_measured_only_when_open": config.respect_opening_hours,
            }
        ]
        return {"report": report, "charge_points": charge_points, "basis": basis}


def _outage_row(head: FleetRow, port_id: str, outage: timeline.Outage) -> dict[str, Any]:
    known = {r.value for r in ExclusionReason}
    reasons = [ExclusionReason(r) for r in outage.reasons if r in known]
    excluded = outage.excluded_seconds > 0
    notes = None
    if excluded:
        notes = f"excluded {_two(outage.excluded_seconds / 60)} of {_two(outage.seconds / 60)} min"
        if len(reasons) > 1:
            notes += ": " + ", ".join(r.value for r in reasons)
    return {
        "station_id": head["station_id"],
        "network_provider": head["operator_id"],
        "port_id": port_id,
        # "Timestamp uniquely identifying a single instance of an outage for a given
        # charging port": its start.
        "outage_id": outage.start,
        "outage_duration": _two(outage.seconds / 60),
        "excluded_outage": excluded,
        "excluded_outage_reason": EVCHART_CODE[reasons[0]] if excluded and reasons else None,
        "excluded_outage_notes": notes,
    }
