"""Tables of the T/CEC 102 interconnection.

Two kinds live here:
- state derived from the log (tariffs, bills, reconciliations, energy reports): rebuilt by
  `chargenet db rebuild`, listed in `TCEC_STATE_TABLES`;
- configuration that must never enter the log (partner platforms and their keys); pushes
  waiting to be resent are the durable outbox's (tables_outbox.py, since migration 0022).
  The log is readable through the API and copied
  around; keys are not. Secrets are stored encrypted or hashed (docs/tcec.md, Security).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Integer, SmallInteger, String, Table, Text

from chargenet.adapters.storage.metadata import ID, metadata
from chargenet.adapters.storage.types import MicroAmount, UtcDateTime

# --- state ---------------------------------------------------------------------------------

station_prices = Table(
    "station_prices",
    metadata,
    Column("station_id", String(ID), primary_key=True),
    Column("scope", String(ID), primary_key=True),  # a connector id, or "" for the station
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("electricity_fee", Text, nullable=False),
    Column("service_fee", Text, nullable=False),
    Column("parking_fee", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("periods", Text, nullable=False),  # JSON [{start, energy_price, service_price}]
    Column("as_of", UtcDateTime, nullable=False),
)

session_bills = Table(
    "session_bills",
    metadata,
    Column("session_id", String(ID), primary_key=True),
    Column("station_id", String(ID), nullable=False, index=True),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("energy_wh", Integer, nullable=False),
    Column("energy_amount", MicroAmount, nullable=False),
    Column("service_amount", MicroAmount, nullable=False),
    Column("total_amount", MicroAmount, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("periods", SmallInteger, nullable=False),
    Column("flags", String(200), nullable=False),  # chargenet.core.billing.BillFlag, sorted
    Column("as_of", UtcDateTime, nullable=False),
)

session_bill_periods = Table(
    "session_bill_periods",
    metadata,
    Column("session_id", String(ID), primary_key=True),
    Column("period_no", SmallInteger, primary_key=True),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("energy_wh", Integer, nullable=False),
    Column("energy_price", MicroAmount, nullable=False),
    Column("service_price", MicroAmount, nullable=False),
    Column("energy_amount", MicroAmount, nullable=False),
    Column("service_amount", MicroAmount, nullable=False),
)

reconciliations = Table(
    "reconciliations",
    metadata,
    Column("reconciliation_id", String(ID), primary_key=True),
    Column("operator_id", String(ID), nullable=False, index=True),
    Column("period_start", UtcDateTime, nullable=False),
    Column("period_end", UtcDateTime, nullable=False),
    Column("stated_orders", Integer, nullable=False),
    Column("stated_energy_wh", Integer, nullable=False),
    Column("stated_amount", MicroAmount, nullable=False),
    Column("recorded_orders", Integer, nullable=False),
    Column("recorded_energy_wh", Integer, nullable=False),
    Column("recorded_amount", MicroAmount, nullable=False),
    Column("differences", Integer, nullable=False),
    Column("checked_at", UtcDateTime, nullable=False),
)

reconciliation_differences = Table(
    "reconciliation_differences",
    metadata,
    Column("reconciliation_id", String(ID), primary_key=True),
    Column("order_id", String(ID), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("stated_energy_wh", Integer),
    Column("stated_amount", MicroAmount),
    Column("recorded_energy_wh", Integer),
    Column("recorded_amount", MicroAmount),
)

energy_reports = Table(
    "energy_reports",
    metadata,
    Column("station_id", String(ID), primary_key=True),
    Column("day_from", Date, primary_key=True),
    Column("day_to", Date, primary_key=True),
    Column("scope", String(ID), primary_key=True),  # a connector id, or "" for the station
    Column("energy_wh", Integer, nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
)

# --- configuration and delivery (not derived from the log) ---------------------------------

tcec_partners = Table(
    "tcec_partners",
    metadata,
    Column("partner_id", String(32), primary_key=True),  # the partner's own OperatorID
    Column("operator_id", String(ID), nullable=False, unique=True),  # chargenet's operator
    Column("name", String(200), nullable=False),
    Column("base_url", String(500)),  # where their endpoints live; None: push-only partner
    Column("pull", Boolean, nullable=False),  # they only answer queries: chargenet polls
    Column("datum", String(8), nullable=False),  # coordinates they send: GCJ02 or WGS84
    Column("enabled", Boolean, nullable=False),
    # They call us: their OperatorSecret only needs verifying (scrypt hash); the data and
    # signature keys must be usable, so they are encrypted under the master key (Fernet).
    Column("inbound_secret_hash", String(200), nullable=False),
    Column("inbound_keys", Text, nullable=False),
    # We call them: everything must be sent or used, so all of it is encrypted.
    Column("outbound_keys", Text),
    Column("last_station_pull", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Children first, like schema.STATE_TABLES (none of these has a foreign key).
TCEC_STATE_TABLES = (
    reconciliation_differences,
    reconciliations,
    session_bill_periods,
    session_bills,
    station_prices,
    energy_reports,
)
