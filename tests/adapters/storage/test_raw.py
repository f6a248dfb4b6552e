"""Rows the hot path writes on the driver's cursor equal rows SQLAlchemy Core writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import insert, select

from chargenet.adapters.storage.raw import Raw
from chargenet.adapters.storage.schema import connector_live
from chargenet.bootstrap import Platform
from tests.builders import small_world


def test_times_written_raw_and_through_core_are_the_same_text_and_value(
    any_platform: Platform,
) -> None:
    any_platform.ingestor.ingest(small_world())
    beijing = timezone(timedelta(hours=8))
    instant = datetime(2025, 5, 1, 16, 0, 0, 123, tzinfo=beijing)
    with any_platform.store.engine.begin() as conn:
        conn.execute(insert(connector_live).values(connector_id="C1-1-1", status_since=instant))
        raw = Raw(conn)
        raw.execute(
            "INSERT INTO connector_live (connector_id, status_since) VALUES (:cid, :t)",
            {"cid": "C1-2-1", "t": raw.t(instant)},
        )
        stored = (
            conn.execute(
                select(connector_live.c.status_since).order_by(connector_live.c.connector_id)
            )
            .scalars()
            .all()
        )
        texts = (
            conn.exec_driver_sql(
                "SELECT CAST(status_since AS TEXT) FROM connector_live ORDER BY connector_id"
            )
            .scalars()
            .all()
        )
    assert stored == [instant.astimezone(UTC)] * 2
    assert texts[0] == texts[1]
    assert raw.read_t(texts[0] if raw.sqlite else stored[0]) == instant
