"""State several chargenet processes must agree on, which the embedded set-up keeps in
memory: T/CEC access tokens and the replay guard, request rate buckets, failed log-ins and
the OCPI hub's response_url tickets and parties heard from or OFFLINE.

None of it enters the log (it is not what happened, only guards around it) and all of it
is short-lived: rows older than their window are deleted as new ones come. Tokens are
stored sealed with the T/CEC master key, found by their SHA-256 digest.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, String, Table, Text

from chargenet.adapters.storage.metadata import ID, metadata
from chargenet.adapters.storage.types import big_id

shared_tokens = Table(
    "shared_tokens",
    metadata,
    Column("partner_id", String(ID), primary_key=True),  # one live token per partner
    Column("digest", String(64), nullable=False, unique=True),
    Column("sealed", Text, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
)

replay_seen = Table(
    "replay_seen",
    metadata,
    Column("partner_id", String(ID), primary_key=True),
    Column("timestamp", String(32), primary_key=True),
    Column("seq", String(32), primary_key=True),
    Column("expires_us", BigInteger, nullable=False, index=True),
)

rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("client", String(ID), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("stamp", Float, nullable=False),  # seconds since the epoch
)

login_streaks = Table(
    "login_streaks",
    metadata,
    Column("username", String(ID), primary_key=True),
    Column("address", String(ID), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_us", BigInteger, nullable=False, index=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", big_id(), primary_key=True),
    Column("kind", String(8), nullable=False),  # "address" or "user"
    Column("key", String(ID), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Index("ix_login_failures_kind_key_at", "kind", "key", "at_us"),
)

login_known = Table(
    "login_known",
    metadata,
    Column("username", String(ID), primary_key=True),
    Column("address", String(ID), primary_key=True),
    Column("at_us", BigInteger, nullable=False),
)

hub_tickets = Table(
    "hub_tickets",
    metadata,
    Column("ticket", String(64), primary_key=True),
    Column("body", Text, nullable=False),  # JSON: where the result goes, and from whom
    Column("expires_us", BigInteger, nullable=False, index=True),
)

hub_parties = Table(
    "hub_parties",
    metadata,
    Column("peer_id", String(ID), primary_key=True),
    Column("heard_us", BigInteger, nullable=True),  # the last request (or answer) seen
    Column("offline", Boolean, nullable=False),  # its last still-alive check failed
)

SHARED_TABLES = (
    shared_tokens,
    replay_seen,
    rate_buckets,
    login_streaks,
    login_failures,
    login_known,
    hub_tickets,
    hub_parties,
)
