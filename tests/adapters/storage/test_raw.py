"""Rows the hot path writes on the driver's cursor equal rows SQLAlchemy Core writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select

from chargenet.adapters.storage import raw as raw_module
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


@pytest.mark.postgres
def test_a_plain_insert_meeting_a_held_row_goes_the_careful_way_and_loses_nothing(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`insert_new` inserts without a key check first; where a row is held already it rolls
    that try back and runs the careful statement, the transaction still usable, and the
    connection's next few go the careful way at once."""
    monkeypatch.setattr(raw_module, "CAREFUL_AFTER", 2)
    plain = (
        "INSERT INTO t (k, v) SELECT k, :v ::text FROM generate_series(:lo ::int, :hi ::int) AS k"
    )
    careful = f"{plain} ON CONFLICT (k) DO NOTHING RETURNING k"
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TEMP TABLE t (k integer PRIMARY KEY, v text NOT NULL)")
            raw = Raw(conn)

            def insert(lo: int, hi: int, v: str | None = "x") -> list[Any] | None:
                return raw.insert_new(plain, careful, {"lo": lo, "hi": hi, "v": v})

            assert insert(1, 3) is None  # all new: nothing to return
            assert insert(3, 5) == [(4,), (5,)]  # 3 held: the careful way
            assert insert(6, 6) == [(6,)]  # the next two at once the careful way
            assert insert(6, 7) == [(7,)]
            assert insert(8, 9) is None  # then plain again
            held = conn.exec_driver_sql("SELECT k FROM t ORDER BY k").scalars().all()
            assert held == list(range(1, 10))  # each once
            with pytest.raises(Exception, match="null value"):
                insert(10, 10, None)  # any other refusal is the caller's
            conn.rollback()
    finally:
        engine.dispose()
