"""ocpi: objects as their operators stated them; tariffs in the order first published

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chargenet.adapters.storage.types

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stated_objects",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "as_of", chargenet.adapters.storage.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("kind", "object_id", name=op.f("pk_stated_objects")),
    )
    with op.batch_alter_table("tariffs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "registered_at",
                chargenet.adapters.storage.types.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
    # Tariffs held before this revision: their newest version stands for their first.
    op.execute("UPDATE tariffs SET registered_at = as_of")


def downgrade() -> None:
    with op.batch_alter_table("tariffs", schema=None) as batch_op:
        batch_op.drop_column("registered_at")
    op.drop_table("stated_objects")
