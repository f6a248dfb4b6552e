"""planning: a target revision's own valid_from; R01 piles include 2.2 kW itself

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: a migration must not change when the code's constant does.
PILE_MIN_POWER_W = 2_200

_revisions = sa.table(
    "target_revisions", sa.column("event_id", sa.String), sa.column("valid_from", sa.Date)
)
_events = sa.table("events", sa.column("event_id", sa.String), sa.column("payload", sa.Text))
_connectors = sa.table(
    "connectors", sa.column("is_pile", sa.Boolean), sa.column("max_power_w", sa.Integer)
)


def upgrade() -> None:
    with op.batch_alter_table("target_revisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
    # Each revision's valid_from is in its TargetSet event: copy it over.
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_revisions.c.event_id, _events.c.payload).join(
            _events, _events.c.event_id == _revisions.c.event_id
        )
    ).all()
    for event_id, payload in rows:
        valid_from = json.loads(payload).get("valid_from")
        if valid_from:
            conn.execute(
                _revisions.update()
                .where(_revisions.c.event_id == event_id)
                .values(valid_from=date.fromisoformat(valid_from))
            )
    # R01: "2.2千瓦以上" includes 2.2 kW itself (以上 includes the number).
    op.execute(
        _connectors.update()
        .where(_connectors.c.max_power_w >= PILE_MIN_POWER_W)
        .values(is_pile=True)
    )


def downgrade() -> None:
    op.execute(
        _connectors.update()
        .where(_connectors.c.max_power_w <= PILE_MIN_POWER_W)
        .values(is_pile=False)
    )
    with op.batch_alter_table("target_revisions", schema=None) as batch_op:
        batch_op.drop_column("valid_from")
