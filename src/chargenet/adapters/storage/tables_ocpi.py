"""Tables of the OCPI party.

State derived from the log (emptied and refilled by `chargenet db rebuild`): charge detail
records, tariffs, which tariffs apply at a connector, and the objects as their operators
stated them.

Configuration that is not derived from the log and survives a rebuild: the platforms we
exchange data with (`ocpi_peers`), the credentials they present to us (`ocpi_credentials`,
SHA-256 digests only), which OCPI party (country code + party id) is which chargenet operator
and which peer may write its objects (`ocpi_parties`), and how far each pull has got.
Secrets never enter the event log: the log is replicated, forwarded and read by regulators.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from chargenet.adapters.storage.metadata import ID, metadata
from chargenet.adapters.storage.types import MicroAmount, UtcDateTime

# --- state (from the log) -----------------------------------------------------------------

cdrs = Table(
    "cdrs",
    metadata,
    Column("cdr_id", String(ID), primary_key=True),
    Column("connector_id", String(ID), nullable=False),
    Column("charger_id", String(ID), nullable=False),
    Column("station_id", String(ID), nullable=False, index=True),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("session_id", String(ID), index=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=False),
    Column("energy_wh", Integer, nullable=False),
    Column("charging_time_s", Integer),
    Column("parking_time_s", Integer),
    Column("cost_amount", MicroAmount, nullable=False),
    Column("cost_incl_vat", MicroAmount),
    Column("currency", String(3), nullable=False),
    Column("auth_method", String(32), nullable=False),
    Column("token_hash", String(128)),
    Column("tariff_ids", Text, nullable=False),  # comma-separated global tariff ids
    Column("credit", Boolean, nullable=False),
    Column("credit_reference_id", String(ID)),
    Column("remark", Text),
    Column("source_adapter", String(32), nullable=False),
    Column("as_of", UtcDateTime, nullable=False, index=True),  # the record's last_updated
)

tariffs = Table(
    "tariffs",
    metadata,
    Column("tariff_id", String(ID), primary_key=True),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("kind", String(32)),
    Column("alt_text", Text, nullable=False),
    Column("elements", Text, nullable=False),  # JSON, as published
    # Headline prices (VAT included where stated), for price boards and open data.
    Column("energy_per_kwh", MicroAmount),
    Column("per_session", MicroAmount),
    Column("time_per_hour", MicroAmount),
    Column("parking_per_hour", MicroAmount),
    Column("valid_from", UtcDateTime),
    Column("valid_until", UtcDateTime),
    Column("withdrawn_at", UtcDateTime),
    Column("source_adapter", String(32), nullable=False),
    # First published: senders page in this order, which an update never changes.
    Column("registered_at", UtcDateTime),
    Column("as_of", UtcDateTime, nullable=False, index=True),
)

connector_tariffs = Table(
    "connector_tariffs",
    metadata,
    Column("connector_id", String(ID), primary_key=True),
    Column("tariff_ids", Text, nullable=False),  # comma-separated, in the operator's order
    Column("as_of", UtcDateTime, nullable=False),
)

stated_objects = Table(
    "stated_objects",
    metadata,
    # An operator platform's own statement of one of its objects (`ObjectStated`): the
    # newest whole object as pushed, given back and forwarded as stated; and (clientinfo)
    # the hub's own statement of a party connected to it.
    Column("kind", String(16), primary_key=True),  # location | evse | … | clientinfo
    Column("object_id", String(ID), primary_key=True),  # station, charger, session … id
    Column("protocol", String(16), nullable=False),
    Column("body", Text, nullable=False),  # JSON object
    Column("as_of", UtcDateTime, nullable=False),  # its last_updated
)

# --- configuration (not from the log) -----------------------------------------------------

ocpi_peers = Table(
    "ocpi_peers",
    metadata,
    Column("peer_id", String(ID), primary_key=True),
    # cpo: an operator's back-end (writes its own objects); platform: another chargenet that
    # feeds us (a city, for a province); upstream: a platform we feed.
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # pending | registered | revoked
    Column("versions_url", Text),  # theirs
    Column("version", String(8)),
    Column("endpoints", Text, nullable=False),  # JSON list of their endpoints
    Column("roles", Text, nullable=False),  # JSON list of their credentials roles
    # The token we present to them. Kept as given because we must send it; never logged.
    Column("token_out", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

ocpi_credentials = Table(
    "ocpi_credentials",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 hex of the token
    Column("peer_id", String(ID), ForeignKey("ocpi_peers.peer_id"), nullable=False, index=True),
    Column("kind", String(1), nullable=False),  # A: registration only; C: everything
    Column("issued_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

ocpi_parties = Table(
    "ocpi_parties",
    metadata,
    Column("country_code", String(2), primary_key=True),
    Column("party_id", String(3), primary_key=True),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("peer_id", String(ID), ForeignKey("ocpi_peers.peer_id")),  # who may write; None: us
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_ocpi_parties_peer", "peer_id"),
)

ocpi_pull_cursors = Table(
    "ocpi_pull_cursors",
    metadata,
    Column("peer_id", String(ID), ForeignKey("ocpi_peers.peer_id"), primary_key=True),
    Column("module", String(32), primary_key=True),
    Column("synced_to", UtcDateTime),  # newest last_updated received
    Column("last_run_at", UtcDateTime),
    Column("objects", BigInteger, nullable=False),
    Column("last_error", Text),
)

STATE: tuple[Table, ...] = (stated_objects, cdrs, connector_tariffs, tariffs)
