"""Domain errors. Adapters map them to their wire (OCPP CallError, OCPI status, HTTP)."""


class DomainError(Exception):
    """Something the domain refuses; the message says what and why."""


class UnknownReference(DomainError):
    """An event that names something the registry does not hold."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"unknown {kind} {ident!r}")
        self.kind = kind
        self.ident = ident


class Conflict(DomainError):
    """An event that contradicts current state (for example a second owner for a station)."""
