"""What a stop order in force means for the state users read: every connector of the
charger it names, or of every charger of the station it names, shows `unavailable`
(out of service) until the order is lifted — whatever the equipment or its operator
platform reports (see `chargenet.core.status.effective_status`).

The rule is derived at read time from supervision's `stop_orders` table, not copied into
the live tables, so a charger added to a stopped station is stopped too, lifting needs no
undo, and `chargenet db rebuild` cannot disagree with it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, type_coerce

from chargenet.adapters.storage.schema import chargers
from chargenet.adapters.storage.tables_supervision import stop_orders
from chargenet.adapters.storage.types import UtcDateTime


def stopped(charger_id: Any = None, station_id: Any = None) -> ColumnElement[bool]:
    """True for a charger (columns of the enclosing query, by default `chargers`') under a
    stop order in force. `stop_orders.station_id` is the target's station for both kinds,
    so one indexed lookup per station answers it."""
    charger_id = chargers.c.charger_id if charger_id is None else charger_id
    station_id = chargers.c.station_id if station_id is None else station_id
    return exists().where(
        stop_orders.c.station_id == station_id,
        stop_orders.c.lifted_at.is_(None),
        or_(
            stop_orders.c.target_kind == "station",
            and_(stop_orders.c.target_kind == "charger", stop_orders.c.target_id == charger_id),
        ),
    )


def stop_changed(station_id: Any, charger_id: Any = None) -> ColumnElement[Any]:
    """The newest time a stop order for this station (or one of its chargers; with
    `charger_id`, for that charger or its whole station) was issued or lifted: what a
    client asking for changes since a time must see as a change. Typed as stored times."""
    stmt = select(func.max(func.coalesce(stop_orders.c.lifted_at, stop_orders.c.issued_at))).where(
        stop_orders.c.station_id == station_id
    )
    if charger_id is not None:
        stmt = stmt.where(
            or_(stop_orders.c.target_kind == "station", stop_orders.c.target_id == charger_id)
        )
    return type_coerce(stmt.scalar_subquery(), UtcDateTime)
