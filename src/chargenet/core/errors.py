"""Domain errors. Adapters map them to their wire (OCPP CallError, OCPI status, HTTP)."""


class DomainError(Exception):
    """Something the domain refuses; the message says what and why."""

    # The event field at fault, when one is: an import names it beside the row's line.
    field: str | None = None


class UnknownReference(DomainError):
    """An event that names something the registry does not hold."""

    def __init__(self, kind: str, ident: str, field: str | None = None) -> None:
        super().__init__(f"unknown {kind} {ident!r}")
        self.kind = kind
        self.ident = ident
        self.field = field


class Conflict(DomainError):
    """An event that contradicts current state (for example a second owner for a station)."""
