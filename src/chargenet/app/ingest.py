"""The one way in: validate, append to the log, apply to state, publish — in that order.

An event is either wholly applied or not at all: each runs inside a savepoint, and a
refusal (a rule it breaks, a thing it names that does not exist) rolls back only that
event and is recorded with its reason. A batch commits once, which is what makes bulk
ingest fast on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from chargenet.app.outbox import DeliveryRule, NewDelivery
from chargenet.app.ports import EventPublisher, EventStore, UnitOfWork
from chargenet.core.errors import DomainError, Invalid
from chargenet.core.events import Event
from chargenet.core.text import storable_all

log = logging.getLogger(__name__)


class Disposition(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # already in the log: nothing changed
    REJECTED = "rejected"
    WITHHELD = "withheld"  # valid, but not applied because its all-or-nothing batch was refused


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: str
    disposition: Disposition
    reason: str = ""
    field: str | None = None  # the event field a refusal is about, when the domain says

    @property
    def ok(self) -> bool:
        """Accepted now or before: the sender may stop resending."""
        return self.disposition is not _REJECTED


_REJECTED = Disposition.REJECTED  # read once (an enum class's attributes are not cheap)


class Refused(Invalid):
    """The pipeline refused an event a service submitted for a request (the message is
    the refusal's reason). The pipeline judges the event the request became, so this is
    a request the rules do not admit (HTTP 422). A state the request may conflict with (a
    case closed already, an order lifted) is checked by the service before it submits and
    raised as `Conflict`."""


def _outcomes_maker() -> Callable[[str, Disposition], Outcome]:
    """`Outcome(event_id, disposition)` with the other fields' defaults, at half the cost:
    its slots set straight (a frozen dataclass's `__init__` goes through
    `object.__setattr__` by name a field), for the batch path's outcome an event.
    tests/app/test_ingest_outcomes.py keeps the two equal."""
    new = object.__new__
    fields = dataclasses.fields(Outcome)
    set_id, set_disposition, set_reason, set_field = (
        getattr(Outcome, f.name).__set__ for f in fields
    )
    reason, field = fields[2].default, fields[3].default

    def make(event_id: str, disposition: Disposition) -> Outcome:
        outcome: Outcome = new(Outcome)
        set_id(outcome, event_id)
        set_disposition(outcome, disposition)
        set_reason(outcome, reason)
        set_field(outcome, field)
        return outcome

    return make


_outcome = _outcomes_maker()


Attached = Mapping[str, Sequence[NewDelivery]]
"""Deliveries a submission causes, by the event_id of their cause (app/outbox.py)."""


class EventIngestor:
    def __init__(
        self, store: EventStore, publisher: EventPublisher, rules: Sequence[DeliveryRule] = ()
    ) -> None:
        self._store = store
        self._publisher = publisher
        # Deliveries accepted events cause, queued in the event's own savepoint: the
        # delivery exists exactly when its cause is in the log (app/outbox.py).
        self.rules: list[DeliveryRule] = list(rules)

    def ingest(
        self,
        events: Sequence[Event],
        *,
        atomic: bool = False,
        progress: Callable[[int], None] | None = None,
        deliveries: Attached | None = None,
    ) -> list[Outcome]:
        """Ingest a batch. With `atomic`, one refusal withholds the whole batch (imports:
        a file goes in whole or not at all); the refusals are still recorded.
        `deliveries` are queued with their cause when it is accepted (not when it is a
        duplicate or refused)."""
        # What is validated, stored, published and acknowledged is the storable text,
        # identical on every backend (core/text.py).
        events = storable_all(events)
        if not atomic and progress is None and len(events) > 1:
            at_once = self._all_at_once(events, deliveries or {})
            if at_once is not None:
                outcomes, accepted = at_once
                if accepted:
                    self._publisher.publish(accepted)
                return outcomes
        outcomes = []
        accepted = []
        with self._store.unit_of_work() as uow:
            for done, event in enumerate(events, 1):
                outcome = self._one(uow, event, (deliveries or {}).get(event.event_id, ()))
                outcomes.append(outcome)
                if outcome.disposition is Disposition.ACCEPTED:
                    accepted.append(event)
                if progress is not None and done % 500 == 0:
                    progress(done)
            refused = [o for o in outcomes if o.disposition is Disposition.REJECTED]
            if not (atomic and refused):
                uow.commit()
        if progress is not None:
            progress(len(events))
        if atomic and refused:
            return self._withhold(events, outcomes)
        if accepted:
            self._publisher.publish(accepted)
        return outcomes

    def _all_at_once(
        self, events: Sequence[Event], deliveries: Attached
    ) -> tuple[list[Outcome], list[Event]] | None:
        """A batch where nothing is refused, at a fraction of the round trips: its log rows
        in one statement, then each new event applied, with no savepoint around each (on
        PostgreSQL a savepoint and its release are two round trips an event), applied together
        so that the store may group their statements. The outcome
        is the one-at-a-time path's: anything refused (a problem, a rule the event breaks,
        a value the database will not hold) drops the whole attempt, rolled back, and the
        batch goes one event at a time, each in its savepoint. None then, or where the
        store appends one at a time."""
        for event in events:  # a loop, not `any` of a generator: a frame less an event
            if event.problems():
                return None
        outcomes: list[Outcome] = []
        accepted: list[Event] = []
        # An enum class's attribute is read through its metaclass's `__getattr__` hook,
        # not specialised: once, not once an event.
        duplicate, accepting = Disposition.DUPLICATE, Disposition.ACCEPTED
        with self._store.unit_of_work() as uow:
            try:
                fresh = uow.append_all(events)
                if fresh is None:
                    return None
                for event, new in zip(events, fresh, strict=True):
                    if not new:
                        outcomes.append(_outcome(event.event_id, duplicate))
                        continue
                    outcomes.append(_outcome(event.event_id, accepting))
                    accepted.append(event)
                # The new events applied together, in order (the store may group them).
                uow.apply_all(accepted)
                rules = self.rules
                for event in accepted:
                    # As `_one` gathers them (attached first, then each rule's), without
                    # a generator an event: most events cause nothing.
                    caused = list(deliveries.get(event.event_id, ())) if deliveries else []
                    for rule in rules:
                        made = rule(event)
                        if made:
                            caused += made
                    if caused:
                        uow.enqueue(event, caused)
            except DomainError:
                return None  # rolled back as the unit of work closes uncommitted
            uow.commit()
        return outcomes, accepted

    def _withhold(self, events: Sequence[Event], outcomes: list[Outcome]) -> list[Outcome]:
        by_id: dict[str, Event] = {e.event_id: e for e in events}
        with self._store.unit_of_work() as uow:
            for outcome in outcomes:
                if outcome.disposition is Disposition.REJECTED:
                    uow.reject(by_id[outcome.event_id], outcome.reason)
            uow.commit()
        return [
            o
            if o.disposition is not Disposition.ACCEPTED
            else Outcome(o.event_id, Disposition.WITHHELD, "batch refused")
            for o in outcomes
        ]

    def _one(self, work: UnitOfWork, event: Event, attached: Sequence[NewDelivery]) -> Outcome:
        problems = event.problems()
        if problems:
            return self._refuse(work, event, "; ".join(problems))
        try:
            with work.savepoint():
                if not work.append(event):
                    return Outcome(event.event_id, Disposition.DUPLICATE)
                work.apply(event)
                caused = [*attached, *(d for rule in self.rules for d in rule(event))]
                if caused:
                    work.enqueue(event, caused)
        except DomainError as exc:
            return self._refuse(work, event, str(exc), exc.field)
        return Outcome(event.event_id, Disposition.ACCEPTED)

    @staticmethod
    def _refuse(uow: UnitOfWork, event: Event, reason: str, field: str | None = None) -> Outcome:
        log.warning(
            "rejected %s %s from %s: %s", event.TYPE, event.event_id, event.source.adapter, reason
        )
        with uow.savepoint():
            uow.reject(event, reason)
        return Outcome(event.event_id, Disposition.REJECTED, reason, field)
