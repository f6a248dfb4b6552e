"""Tables of the OCPP gateway.

`charger_credentials` holds configuration, not facts derived from the log, so it is not in
STATE_TABLES: `db rebuild` leaves it alone. `charger_inventory` is state: what chargers
report about their hardware and firmware (`charger.inventory_reported`), rebuilt from the
log like every projection.
"""

from __future__ import annotations

from sqlalchemy import Column, SmallInteger, String, Table, Text

from chargenet.adapters.storage.metadata import ID, metadata
from chargenet.adapters.storage.types import UtcDateTime

charger_credentials = Table(
    "charger_credentials",
    metadata,
    Column("charger_id", String(ID), primary_key=True),
    Column("secret_hash", String(200), nullable=False),  # kit.secrets format, never the password
    Column("updated_at", UtcDateTime, nullable=False),
)

# One row per (component, EVSE, connector, variable) a charger has reported. Key columns
# cannot be NULL: "" stands for no instance, -1 for no EVSE or connector.
charger_inventory = Table(
    "charger_inventory",
    metadata,
    Column("charger_id", String(ID), primary_key=True),
    Column("component", String(50), primary_key=True),
    Column("component_instance", String(50), primary_key=True),
    Column("evse_no", SmallInteger, primary_key=True),
    Column("connector_no", SmallInteger, primary_key=True),
    Column("variable", String(50), primary_key=True),
    Column("variable_instance", String(50), primary_key=True),
    Column("value", Text, nullable=False),
    Column("as_of", UtcDateTime, nullable=False),  # when the charger reported it
)

OCPP_STATE_TABLES: tuple[Table, ...] = (charger_inventory,)
