"""The one table registry every table module adds its tables to, and the length of
identifiers from the outside world. The tables themselves are in `schema` (the log and
the core state) and the `tables_*` modules (a feature each); `schema` imports them all, so
importing `schema.metadata` gives every table."""

from __future__ import annotations

from sqlalchemy import MetaData

metadata: MetaData = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID: int = 128  # length of identifiers from the outside world
