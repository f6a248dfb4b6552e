"""Domain errors. Adapters map them to their wire (OCPP CallError, OCPI status, HTTP).

Each error says what kind of failure it is by the class it derives from; an adapter maps
the kind, never the individual class (the HTTP API in adapters/api/errors.py):

- `UnknownReference`: the request names something that does not exist (HTTP 404);
- `NotPermitted`: the caller may not see or change it (403);
- `Conflict`: the request is well formed but contradicts the current state, and the same
  request may succeed once the state changes (a case already closed, a refund beyond
  what is left of a charge) (409);
- `Invalid`: the request's content breaks a rule, whatever the state (422);
- a bare `DomainError`: refused by a rule, kind unsaid; answered as `Invalid`.
"""


class DomainError(Exception):
    """Something the domain refuses; the message says what and why."""

    # The event field at fault, when one is: an import names it beside the row's line.
    field: str | None = None


class Invalid(DomainError, ValueError):
    """Content that breaks a rule whatever the state: a malformed value, a period that
    ends before it starts, an event the store refuses for its content. Also a ValueError,
    so parsers and callers that catch ValueError keep working."""


class UnknownReference(DomainError):
    """An event or request that names something the registry does not hold."""

    def __init__(self, kind: str, ident: str, field: str | None = None) -> None:
        super().__init__(f"unknown {kind} {ident!r}")
        self.kind = kind
        self.ident = ident
        self.field = field


class Conflict(DomainError):
    """An event that contradicts current state (for example a second owner for a station,
    a case that is closed already)."""


class NotPermitted(DomainError):
    """Something the caller or sender may not see or do (outside its scope, not its own)."""
