"""The durable outbox (app/outbox.py): deliveries to partners, written in the same
transaction as the event that causes them. Not state derived from the log and not in
STATE_TABLES: `chargenet db rebuild` leaves it alone, so a rebuild resends nothing."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from chargenet.adapters.storage.metadata import ID, metadata
from chargenet.adapters.storage.types import UtcDateTime, big_id

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", big_id(), primary_key=True, autoincrement=True),
    Column("delivery_id", String(ID), nullable=False, unique=True),  # the receiver's dedup key
    Column("kind", String(64), nullable=False),  # picks the sender: "webhook.order", "tcec.…"
    Column("destination", String(ID), nullable=False),  # an operator, a partner's OperatorID
    Column("ref", String(ID), nullable=False),  # what it is about (an order id), or ""
    Column("payload", Text, nullable=False),  # JSON; the sender formats it for its wire
    Column("event_id", String(ID)),  # the event that caused it
    Column("state", String(16), nullable=False),  # pending | delivered | answered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),  # also the lease of an attempt
    Column("last_error", Text),
    Column("answer", Text),  # the receiver's answer (JSON), the latest one
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    # Deliveries of one non-empty queue go out one after another in id order, the next
    # only once the one before is settled ("ocpi:<peer>": a partner's pushes in order).
    Column("queue", String(ID), nullable=False, server_default=""),
    Index("ix_deliveries_due", "state", "next_attempt_at"),
    Index("ix_deliveries_ref", "kind", "ref"),
    Index("ix_deliveries_queue", "queue", "state", "id"),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(ID), primary_key=True),  # the job: "supervise.zombies"
    Column("holder", String(ID), nullable=False),  # the node running it
    Column("expires_at", UtcDateTime, nullable=False),  # others may take it from then on
)
