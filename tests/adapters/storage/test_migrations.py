"""Migrations build exactly the schema the code declares."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from chargenet.adapters.storage import migrate
from chargenet.adapters.storage.schema import metadata
from chargenet.adapters.storage.store import SqlEventStore
from chargenet.core.ids import AreaCode


def test_upgrading_an_empty_database_gives_the_declared_schema(database_url: str) -> None:
    store = SqlEventStore(database_url)
    assert migrate.current_revision(store.engine) is None
    store.upgrade()
    assert store.is_current()
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": migrate.include_name})
        diff = compare_metadata(context, metadata)
    store.dispose()
    assert diff == [], "schema.py changed without a migration: add one"


def test_0010_dates_each_revision_by_its_valid_from_and_counts_2_2_kw_as_a_pile(
    database_url: str,
) -> None:
    """Seed 001 表2 注: "充电桩指2.2千瓦以上的交流或直流充电设施" (以上 includes 2.2 kW), and
    seed 002 四、（三）滚动调整: revised targets take effect on their own date. A database
    made before 0010 gets both right when it is upgraded, without a rebuild."""
    from datetime import date
    from decimal import Decimal

    from alembic import command
    from sqlalchemy import select

    from chargenet.adapters.storage.schema import connectors, target_revisions
    from chargenet.bootstrap import bootstrap
    from chargenet.config import Settings
    from chargenet.core.events import TargetSet
    from tests.builders import charger, meta, small_world

    platform = bootstrap(Settings(database_url=database_url))
    platform.ingestor.ingest(
        [
            *small_world(),
            charger("C9", "S1", guns=1, power_w=2_200, dc=False),
            TargetSet(
                **meta(),
                target_id="140902|new_public_piles|2025",
                area_code=AreaCode("140902"),
                metric="new_public_piles",
                value=Decimal(3),
                year=2025,
                valid_from=date(2025, 10, 1),
            ),
        ]
    )
    platform.close()
    store = SqlEventStore(database_url)
    engine = store.engine
    config = migrate.alembic_config(engine)

    def state() -> tuple[object, object]:
        kept = migrate.current_revision(engine) != "0009"
        with engine.connect() as conn:
            pile = conn.execute(
                select(connectors.c.is_pile).where(connectors.c.charger_id == "C9")
            ).scalar_one()
            if not kept:
                return pile, None
            return pile, conn.execute(select(target_revisions.c.valid_from)).scalar_one()

    assert state() == (True, date(2025, 10, 1))
    command.downgrade(config, "0009")  # as it was: 2.2 kW no pile, no valid_from kept
    assert state() == (False, None)
    command.upgrade(config, "head")
    assert state() == (True, date(2025, 10, 1))
    store.dispose()


def test_0022_carries_pushes_still_pending_into_the_durable_outbox(database_url: str) -> None:
    """A T/CEC order push waiting for its resend before the upgrade is resent after it."""
    from alembic import command
    from sqlalchemy import text

    store = SqlEventStore(database_url)
    store.upgrade()
    engine = store.engine
    config = migrate.alembic_config(engine)
    command.downgrade(config, "0021")
    with engine.begin() as conn:
        for state in ("pending", "delivered"):
            conn.execute(
                text(
                    "INSERT INTO tcec_outbox (partner_id, endpoint, payload, purpose, state,"
                    " attempts, next_attempt_at, created_at) VALUES ('MA59J8YL8',"
                    " 'notification_supervision_order', '{}', 'order:O1', :state, 2,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"state": state},
            )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT kind, destination, ref, state, attempts FROM deliveries")
        ).all()
    store.dispose()
    assert [tuple(r) for r in rows] == [
        ("tcec.notification_supervision_order", "MA59J8YL8", "O1", "pending", 2)
    ]


def test_0025_gives_existing_postings_their_kind_for_statements(database_url: str) -> None:
    """Postings written before 0025 have no kind of their own: the upgrade copies their
    entry's, so the month's statement sums them by kind as it sums new ones."""
    from datetime import timedelta
    from decimal import Decimal

    from alembic import command

    from chargenet.bootstrap import bootstrap
    from chargenet.config import Settings
    from chargenet.core.events import DriverRegistered, LedgerPosted
    from chargenet.core.ledger import charge, topup
    from tests.builders import T0, meta

    platform = bootstrap(Settings(database_url=database_url))
    paid = topup("topup:manual:1", "lina", Decimal("50.00"), "manual", Decimal(0), "CNY")
    spent = charge(
        "charge:S1", "lina", "OP1", Decimal("20.00"), Decimal("0.01"), Decimal(50), "CNY", "S1"
    )
    platform.ingestor.ingest(
        [
            DriverRegistered(**meta(T0), driver_id="lina"),
            LedgerPosted(**meta(T0), entry=paid),
            LedgerPosted(**meta(T0 + timedelta(hours=1)), entry=spent),
        ]
    )
    platform.close()
    store = SqlEventStore(database_url)
    config = migrate.alembic_config(store.engine)
    command.downgrade(config, "0024")
    command.upgrade(config, "head")
    store.dispose()
    platform = bootstrap(Settings(database_url=database_url))
    assert platform.settlement_reads is not None
    _, totals = platform.settlement_reads.operator_totals(T0, T0 + timedelta(days=1))
    platform.close()
    assert totals == [("operator:OP1", "charge", 1, Decimal("19.80"))]


def test_0033_analyzes_the_log_without_its_payload_and_event_id(database_url: str) -> None:
    """ANALYZE of the log (autovacuum's) skips the columns no plan uses, keeps the others."""
    import pytest
    from sqlalchemy import text

    from chargenet.bootstrap import bootstrap
    from chargenet.config import Settings
    from tests.builders import small_world

    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's ANALYZE keeps index statistics only")
    platform = bootstrap(Settings(database_url=database_url))
    platform.ingestor.ingest(small_world())
    with platform.store.engine.connect() as conn:
        conn.execute(text("ANALYZE events"))
        analyzed = set(
            conn.execute(text("SELECT attname FROM pg_stats WHERE tablename = 'events'")).scalars()
        )
    platform.close()
    assert analyzed >= {"seq", "type", "occurred_at", "received_at"}
    assert analyzed.isdisjoint({"payload", "event_id"})
