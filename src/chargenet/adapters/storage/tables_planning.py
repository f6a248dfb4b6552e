"""Planning state: the policy pack in force per pack id (issue 7). Targets and their
revisions live in `targets` / `target_revisions` (schema.py)."""

from __future__ import annotations

from sqlalchemy import Column, Date, String, Table, Text

from chargenet.adapters.storage.schema import metadata
from chargenet.adapters.storage.types import UtcDateTime

policy_packs = Table(
    "policy_packs",
    metadata,
    Column("pack_id", String(64), primary_key=True),
    Column("region_code", String(32), nullable=False, index=True),
    Column("version", Date, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),  # the TOML as loaded
    Column("loaded_at", UtcDateTime, nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
)

PLANNING_TABLES = (policy_packs,)
