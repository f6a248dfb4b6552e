"""Planning state: the policy pack in force per pack id. Targets and their
revisions live in `targets` / `target_revisions` (schema.py)."""

from __future__ import annotations

from sqlalchemy import Column, Date, String, Table, Text, UniqueConstraint

from chargenet.adapters.storage.metadata import metadata
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

# Named planning scenarios (docs/planning.md, "Scenarios"): one row per area and name.
planning_scenarios = Table(
    "planning_scenarios",
    metadata,
    Column("scenario_id", String(200), primary_key=True),
    Column("area_code", String(32), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("parameters", Text, nullable=False),  # JSON
    Column("saved_by", String(100), nullable=False),
    Column("saved_at", UtcDateTime, nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
    UniqueConstraint("area_code", "name"),
)

PLANNING_TABLES = (policy_packs, planning_scenarios)
