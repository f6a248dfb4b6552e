"""Daily roll-ups of status durations: what is left of a day once retention has dropped
its reports (`status_daily`), computed by the uptime rule itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, insert

from chargenet.adapters.storage import schema  # noqa: F401  (the tables, in order)
from chargenet.adapters.storage.tables_supervision import status_daily
from chargenet.analytics.statusclass import COUNTED_STATUSES
from chargenet.app.supervision import SupervisionService
from chargenet.app.supervision_ports import Scope

FLAGS = ("counted", "excluded", "closed")  # uptime.COUNTED, EXCLUDED, CLOSED


def roll_up(
    engine: Engine, supervision: SupervisionService, first: date, last: date, zone: str
) -> int:
    """Seconds per connector, status and flag of each local day `first`…`last`, by the
    uptime rule itself (`SupervisionService.measure`, per connector), into `status_daily`
    (a day rolled up again replaces its rows). Returns the rows written."""
    tz = ZoneInfo(zone)
    written = 0
    day = first
    while day <= last:
        lo = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
        hi = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        measured = supervision.measure(Scope(), [lo, hi], "connector")
        cells = measured.seconds[:, 0]  # (connectors, statuses, flags)
        rows = [
            {
                "connector_id": measured.units[u]["connector_id"],
                "day": day,
                "status": COUNTED_STATUSES[s],
                "flag": FLAGS[f],
                "seconds": float(cells[u, s, f]),
            }
            for u, s, f in zip(*cells.nonzero(), strict=True)
        ]
        with engine.begin() as conn:
            conn.execute(delete(status_daily).where(status_daily.c.day == day))
            for i in range(0, len(rows), 10_000):
                conn.execute(insert(status_daily), rows[i : i + 10_000])
        written += len(rows)
        day += timedelta(days=1)
    return written
