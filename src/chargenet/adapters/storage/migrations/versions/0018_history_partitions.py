"""scale: monthly history partitions (PostgreSQL); state shared by several processes

Tables for the state several processes share (T/CEC tokens and replay guard, rate
buckets, failed log-ins) and for daily roll-ups of status durations (status_daily). On
PostgreSQL each history table becomes a table partitioned by range of at_us, with one
partition per month that holds rows (and the next three) and a default partition; its rows
are copied over. SQLite keeps its plain tables.

Revision ID: 0018
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from chargenet.adapters.storage import history

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _shared_tables() -> None:
    op.create_table(
        "shared_tokens",
        sa.Column("partner_id", sa.String(length=128), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("expires_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_shared_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_shared_tokens_digest")),
    )
    op.create_table(
        "replay_seen",
        sa.Column("partner_id", sa.String(length=128), nullable=False),
        sa.Column("timestamp", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.String(length=32), nullable=False),
        sa.Column("expires_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "timestamp", "seq", name=op.f("pk_replay_seen")),
    )
    op.create_index(op.f("ix_replay_seen_expires_us"), "replay_seen", ["expires_us"])
    op.create_table(
        "rate_buckets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("stamp", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", "client", name=op.f("pk_rate_buckets")),
    )
    op.create_table(
        "login_streaks",
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("username", "address", name=op.f("pk_login_streaks")),
    )
    op.create_index(op.f("ix_login_streaks_last_us"), "login_streaks", ["last_us"])
    op.create_table(
        "login_failures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_kind_key_at", "login_failures", ["kind", "key", "at_us"])
    op.create_table(
        "login_known",
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("username", "address", name=op.f("pk_login_known")),
    )


def _daily() -> None:
    op.create_table(
        "status_daily",
        sa.Column("connector_id", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("flag", sa.String(length=8), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "connector_id", "day", "status", "flag", name=op.f("pk_status_daily")
        ),
    )


_SHARED = (
    "status_daily",
    "login_known",
    "login_failures",
    "login_streaks",
    "rate_buckets",
    "replay_seen",
    "shared_tokens",
)


def upgrade() -> None:
    _shared_tables()
    _daily()
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    now = datetime.now(UTC)
    for table, key in history.HISTORY:
        history.partition_by_month(bind, table, f"{key}, at_us", now)


def downgrade() -> None:
    for table in _SHARED:
        op.drop_table(table)
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, key in history.HISTORY:
        history.unpartition(bind, table, f"{key}, at_us")
