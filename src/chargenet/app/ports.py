"""What the application needs from the outside world, declared by the application."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from chargenet.app.outbox import NewDelivery
from chargenet.core.events import Event


class UnitOfWork(Protocol):
    """One transaction on the event log and the state tables."""

    def append(self, event: Event) -> bool:
        """Append to the durable log; False when an event with this id is logged already."""
        ...

    def append_all(self, events: Sequence[Event]) -> list[bool] | None:
        """Append a batch at once, in order: for each, whether it is new; None when the
        store appends one at a time. Raises DomainError when one cannot be appended."""
        ...

    def apply(self, event: Event) -> None:
        """Apply to current state; raises DomainError when the event cannot apply."""
        ...

    def apply_all(self, events: Sequence[Event]) -> None:
        """`apply` on each event in turn, ending in the same state, perhaps in fewer
        statements; raises DomainError when one cannot apply, and the whole unit of work
        must then be rolled back (what was applied of the batch is not known)."""
        ...

    def reject(self, event: Event, reason: str) -> None:
        """Record an event that was refused, with the reason."""
        ...

    def enqueue(self, event: Event, deliveries: Sequence[NewDelivery]) -> None:
        """Queue the deliveries `event` causes, in its transaction (app/outbox.py)."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """Undo everything inside the block if it raises."""
        ...

    def commit(self) -> None: ...


@dataclass(frozen=True, slots=True)
class RebuildReport:
    applied: int
    skipped: int  # logged events today's rules refuse (each is logged with its reason)


class EventStore(Protocol):
    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]: ...

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> RebuildReport:
        """Empty current state and re-apply the whole log in order."""
        ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[Event]) -> None:
        """Hand events that are durably stored to whoever listens. Must not block."""
        ...
