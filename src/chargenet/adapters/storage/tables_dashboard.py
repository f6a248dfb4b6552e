"""Tables of the dashboard: users and their login sessions.

Not state derived from the log (users are access configuration, see app/accounts.py), so
they are not in STATE_TABLES and `chargenet db rebuild` leaves them alone.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, String, Table

from chargenet.adapters.storage.metadata import ID, metadata
from chargenet.adapters.storage.types import UtcDateTime

users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("operator_id", String(ID)),
    Column("area_code", String(32)),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("username", String(64), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)
