"""Tables of the OCPP gateway: charger credentials (configuration, not derived from the log,
so not in STATE_TABLES: `db rebuild` leaves them alone)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from chargenet.adapters.storage.schema import ID, metadata
from chargenet.adapters.storage.types import UtcDateTime

charger_credentials = Table(
    "charger_credentials",
    metadata,
    Column("charger_id", String(ID), primary_key=True),
    Column("secret_hash", String(200), nullable=False),  # kit.secrets format, never the password
    Column("updated_at", UtcDateTime, nullable=False),
)
