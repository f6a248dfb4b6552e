"""Tables of drivers, their tokens and the settlement ledger (docs/settlement.md).

State (rebuilt from the log): `drivers`, `driver_tokens`, `ledger_accounts`,
`ledger_entries`, `ledger_postings`. A balance is the sum of an account's postings, never
a counter, so applying an entry twice cannot change it and a rebuild gives it back.

Configuration (not in the log, not rebuilt): `token_uids`, the text of the RFID and VIN
tokens that the platform must hand to chargers in their local authorisation lists (OCPP
SendLocalList) and to partners (OCPI Tokens). These identifiers travel in the clear on
every charge; they are kept out of the log so that deleting one really deletes it. App
tokens, which are secrets, are never kept: only their digests.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table

from chargenet.adapters.storage.metadata import ID, metadata
from chargenet.adapters.storage.types import MicroAmount, UtcDateTime

drivers = Table(
    "drivers",
    metadata,
    Column("driver_id", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("credit_limit", MicroAmount, nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
)

driver_tokens = Table(
    "driver_tokens",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("driver_id", String(64), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    Column("label", String(64), nullable=False),
    Column("blocked", Boolean, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
    # Set on a token registered under the unkeyed digest once it is held under the keyed
    # one (driver.token_rekeyed): kept for the sessions that name it, never listed.
    Column("rekeyed_to", String(64), nullable=True),
)

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("account", String(200), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("floor", MicroAmount, nullable=False),  # a wallet's −limit; 0 elsewhere
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("entry_id", String(200), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(200), nullable=False, index=True),
    Column("memo", String(500), nullable=False),
    Column("posted_at", UtcDateTime, nullable=False, index=True),
)

ledger_postings = Table(
    "ledger_postings",
    metadata,
    Column("entry_id", String(200), primary_key=True),
    Column("account", String(200), primary_key=True),
    Column("amount", MicroAmount, nullable=False),
    Column("posted_at", UtcDateTime, nullable=False),
    # The entry's kind again, so that a statement sums an account's postings by kind from
    # this index alone (no row and no entry read per posting); null only on rows written
    # before migration 0025 filled it.
    Column("kind", String(16), nullable=True),
    Index("ix_ledger_postings_statement", "account", "posted_at", "kind", "amount"),
)

session_claims = Table(
    "session_claims",
    metadata,
    Column("session_id", String(ID), primary_key=True),
    Column("token_digest", String(64), nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
)

token_uids = Table(
    "token_uids",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("uid", String(ID), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

ledger_disputes = Table(
    # Disputes opened on an operator's figures (settlement.dispute_opened): both sides'
    # figures, and the dispute entry that decided it once an administrator has.
    "ledger_disputes",
    metadata,
    Column("dispute_id", String(200), primary_key=True),
    Column("session_id", String(ID), nullable=False, index=True),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("origin", String(16), nullable=False),
    Column("document_id", String(200), nullable=False),
    Column("stated_energy_wh", Integer, nullable=True),
    Column("stated_amount", MicroAmount, nullable=True),
    Column("recorded_energy_wh", Integer, nullable=True),
    Column("recorded_amount", MicroAmount, nullable=True),
    Column("currency", String(3), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("decided_by", String(200), nullable=True),
)

# An account's balance at a month's boundary (the sum of its postings before `at`), so a
# statement's opening balance is the newest checkpoint plus the postings since, not every
# posting of the account's life. Written when a statement of a closed month is first
# asked (queries_settlement.py); the projection deletes an account's checkpoints after a
# posting that lands before them (a late entry in a closed month), and a rebuild empties
# the table: it is refilled as statements are asked.
ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("account", String(200), primary_key=True),
    Column("at", UtcDateTime, primary_key=True),
    Column("balance", MicroAmount, nullable=False),
    Column("written_at", UtcDateTime, nullable=False),
)

SETTLEMENT_STATE_TABLES: tuple[Table, ...] = (
    ledger_checkpoints,
    ledger_disputes,
    session_claims,
    ledger_postings,
    ledger_entries,
    ledger_accounts,
    driver_tokens,
    drivers,
)
