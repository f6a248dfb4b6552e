"""The in-memory stores of the unit tier (tests/fakes.py) answer as the SQL stores do: the
same calls, made on a fake and on the platform's store, give the same answers. A rule the
SQL store gains that its fake lacks fails here, not in production."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from chargenet.adapters.storage.leases import SqlLeases
from chargenet.adapters.storage.outbox import insert_deliveries
from chargenet.adapters.storage.raw import Raw
from chargenet.adapters.storage.tcec_config import SqlPartnerStore
from chargenet.app.accounts import LoginSession, User, UserStore
from chargenet.app.channels import ChannelRecord, ChannelStore
from chargenet.app.interconnect import PartnerRecord, PartnerStore
from chargenet.app.leases import Leases
from chargenet.app.outbox import DeliveryRecord, DeliveryStore, NewDelivery
from chargenet.bootstrap import Platform
from chargenet.core.access import Role
from chargenet.core.events import OrderIssued
from chargenet.core.ids import OrderId
from chargenet.core.supervision import OrderKind, TargetKind
from tests.builders import T0, at, meta, small_world
from tests.fakes import (
    FakeChannelStore,
    FakeDeliveryStore,
    FakeLeases,
    FakePartnerStore,
    FakeUserStore,
)


def _user(name: str, role: Role = Role.ADMIN, **kw: Any) -> User:
    return User(username=name, role=role, password_hash=f"h-{name}", created_at=T0, **kw)


def _session(digest: str, username: str, hours: int) -> LoginSession:
    return LoginSession(digest, username, f"csrf-{digest}", T0, T0 + timedelta(hours=hours))


def _users_scenario(store: UserStore) -> list[object]:
    seen: list[object] = []
    store.save_user(_user("zoe", Role.REGULATOR, area_code="140900"))
    store.save_user(_user("amy", Role.OPERATOR, operator_id="OP1"))
    # saving again changes everything but when the user was created
    store.save_user(
        dataclasses.replace(
            _user("zoe", display_name="Zoë", disabled=True), created_at=T0 + timedelta(days=9)
        )
    )
    seen += [store.user("zoe"), store.user("nobody"), store.users()]
    for digest, name, hours in [("s1", "zoe", 1), ("s2", "zoe", 3), ("s3", "amy", 2)]:
        store.save_session(_session(digest, name, hours))
    seen += [store.session("s1"), store.session("s9")]
    seen.append(store.delete_expired_sessions(T0 + timedelta(hours=1)))  # expiry is inclusive
    seen += [store.session("s1"), store.session("s2")]
    store.delete_sessions_of("zoe")
    store.delete_session("s9")  # nothing to delete is no error
    seen += [store.session("s2"), store.session("s3")]
    store.delete_session("s3")
    seen += [store.session("s3"), store.delete_user("amy"), store.delete_user("amy")]
    seen.append(store.users())
    return seen


def test_the_fake_user_store_answers_as_the_sql_one(any_platform: Platform) -> None:
    real = _users_scenario(any_platform.accounts.store)
    fake = _users_scenario(FakeUserStore())
    assert fake == real
    zoe = real[0]
    assert isinstance(zoe, User) and zoe.created_at == T0 and zoe.disabled  # not vacuous
    assert real[5] == 1  # one session had expired


Enqueue = Callable[[str, datetime, Sequence[NewDelivery]], None]


def _note(delivery_id: str, *, kind: str = "test.notice", held: bool = False) -> NewDelivery:
    return NewDelivery(
        delivery_id=delivery_id, kind=kind, destination="OP1", payload="{}", ref="r", held=held
    )


def _without_id(records: Sequence[DeliveryRecord | None]) -> list[object]:
    """Records as a caller compares them: ids are the database's own (PostgreSQL spends
    one on an insert its ON CONFLICT skips), only their order matters."""
    return [None if r is None else dataclasses.replace(r, id=0) for r in records]


def _deliveries_scenario(store: DeliveryStore, enqueue: Enqueue) -> list[object]:
    seen: list[object] = []
    lease = T0 + timedelta(minutes=5)
    enqueue("E1", T0, [_note("D1"), _note("H1", held=True), _note("X1", kind="other.x")])
    enqueue("E2", T0, [_note("D1")])  # the same delivery again is not queued twice
    seen.append(store.next_due())
    due = store.claim_due(T0, lease, 10)
    seen += [_without_id(due), _without_id(store.claim_due(T0, lease, 10))]
    seen.append(_without_id([store.claim("D1", T0, lease)]))  # leased by the round
    seen.append(_without_id([store.claim("H1", T0, lease), store.claim("H1", T0, lease)]))
    seen.append(store.next_due())
    d1, x1 = due
    store.attempt_failed(d1.id, T0, "HTTP 503 " + "x" * 3000, T0 + timedelta(seconds=10))
    store.delivered(x1.id, T0 + timedelta(seconds=1), '{"ok": true}')
    enqueue("E3", T0 + timedelta(seconds=2), [_note("D2")])
    [d2] = [r for r in store.items() if r.delivery_id == "D2"]
    [d1] = [r for r in store.items() if r.delivery_id == "D1"]
    seen += [store.newer_pending(d1), store.newer_pending(d2)]
    seen.append(_without_id(store.claim_due(T0 + timedelta(seconds=10), lease, 1)))  # oldest due
    store.attempt_failed(d1.id, T0 + timedelta(seconds=11), "gone", None)  # given up
    seen.append(store.answered("test.notice", "r", T0 + timedelta(seconds=12), '{"a": 1}'))
    seen.append(store.answered("test.notice", "nothing", T0, "{}"))
    seen.append(_without_id(store.items()))
    seen += [_without_id(store.items(state="answered")), _without_id(store.items(kind="other"))]
    seen.append(_without_id(store.items(kind="test.", limit=2)))
    seen.append(store.prune(T0 + timedelta(seconds=12)))  # finished before: X1 only
    seen.append([r.delivery_id for r in store.items()])
    return seen


def test_the_fake_delivery_store_answers_as_the_sql_one(any_platform: Platform) -> None:
    def into_sql(event_id: str, when: datetime, items: Sequence[NewDelivery]) -> None:
        with any_platform.store.engine.begin() as conn:
            insert_deliveries(Raw(conn), event_id, when, items)

    fake_store = FakeDeliveryStore()
    real = _deliveries_scenario(any_platform.outbox.store, into_sql)
    fake = _deliveries_scenario(fake_store, fake_store.enqueue)
    assert fake == real
    assert real[-1] == ["D2", "H1", "D1"]  # not vacuous: the scenario did what it says


def _queued(delivery_id: str, ref: str, queue: str = "ocpi:P1") -> NewDelivery:
    return NewDelivery(
        delivery_id=delivery_id,
        kind="ocpi.location",
        destination="P1",
        payload="{}",
        ref=ref,
        queue=queue,
    )


def _queues_scenario(store: DeliveryStore, enqueue: Enqueue) -> list[object]:
    """Queues: taken only from their head, in order, at most a batch a round; a failed
    head holds its queue back; a stalled queue's superseded rows collapse."""
    seen: list[object] = []
    lease = T0 + timedelta(minutes=5)
    items = [_queued(f"Q{i}", ref=f"L{i % 3}") for i in range(8)]
    enqueue("E1", T0, [*items, _queued("R0", ref="L0", queue="ocpi:P2")])
    store.add([_queued("A0", ref="L9", queue="ocpi:P2")], T0)
    seen.append(store.next_due())
    first = store.claim_due(T0, lease, 20)
    seen.append(sorted(r.delivery_id for r in first))
    seen.append(_without_id(store.claim_due(T0, lease, 20)))  # all leased: nothing
    q0 = next(r for r in first if r.delivery_id == "Q0")
    rest = [r.id for r in first if r.delivery_id != "Q0"]
    store.attempt_failed(q0.id, T0, "HTTP 503", T0 + timedelta(seconds=30))
    store.release(rest, lease, T0)  # not attempted: given back, due now
    seen.append(sorted(r.delivery_id for r in store.claim_due(T0, lease, 20)))
    seen.append(store.collapse("ocpi:P1", ["ocpi."], T0 + timedelta(seconds=1)))
    seen.append(sorted(r.delivery_id for r in store.items(state="pending")))
    seen.append(store.next_due())
    return seen


def test_the_fake_queues_answer_as_the_sql_ones(any_platform: Platform) -> None:
    def into_sql(event_id: str, when: datetime, items: Sequence[NewDelivery]) -> None:
        with any_platform.store.engine.begin() as conn:
            insert_deliveries(Raw(conn), event_id, when, items)

    fake_store = FakeDeliveryStore()
    real = _queues_scenario(any_platform.outbox.store, into_sql)
    fake = _queues_scenario(fake_store, fake_store.enqueue)
    assert fake == real
    assert real[1] == ["A0", "Q0", "Q1", "Q2", "Q3", "Q4", "R0"]  # a batch of 5 from P1


def _leases_scenario(store: Leases) -> list[object]:
    minute = timedelta(minutes=1)
    seen: list[object] = [
        store.acquire("zombies", "A", T0, T0 + minute),
        store.acquire("zombies", "B", T0, T0 + minute),  # held by A
        store.acquire("zombies", "A", T0 + minute / 2, T0 + 2 * minute),  # renewed
        store.acquire("zombies", "B", T0 + minute * 1.5, T0 + minute * 2.5),
        store.holder("zombies", T0 + minute * 1.5),
        store.holder("zombies", T0 + 2 * minute),  # expiry is exclusive: nobody
        store.holder("alarms", T0),
        # A stops renewing: once its lease has run out, B takes it, and A is refused
        store.acquire("zombies", "B", T0 + 2 * minute, T0 + 3 * minute),
        store.acquire("zombies", "A", T0 + 2 * minute, T0 + 3 * minute),
        store.acquire("alarms", "A", T0, T0 + minute),  # another job, its own lease
    ]
    store.release("zombies", "A")  # not A's any more: nothing changes
    seen.append(store.holder("zombies", T0 + 2 * minute))
    store.release("zombies", "B")
    store.release("nothing", "B")
    seen.append(store.holder("zombies", T0 + 2 * minute))
    seen.append(store.acquire("zombies", "A", T0 + 2 * minute, T0 + 3 * minute))
    seen.append(store.holder("alarms", T0 + minute / 2))
    return seen


def test_the_fake_leases_answer_as_the_sql_ones(any_platform: Platform) -> None:
    real = _leases_scenario(SqlLeases(any_platform.store.engine))
    fake = _leases_scenario(FakeLeases())
    assert fake == real
    assert real[:5] == [True, False, True, False, "A"]  # not vacuous


def _channels_scenario(store: ChannelStore) -> list[object]:
    first = ChannelRecord("OP1", "https://op1.example/orders", "sealed-1", True, T0)
    store.save(first)
    store.save(ChannelRecord("OP2", "https://op2.example/", "sealed-2", False, T0))
    seen: list[object] = [store.channel("OP1"), store.channel("OP9")]
    # saving again replaces everything but the operator
    store.save(ChannelRecord("OP1", "http://10.0.0.7/hook", "sealed-3", False, at(60)))
    seen += [store.channel("OP1"), store.channel("OP2")]
    seen += [store.remove("OP2"), store.remove("OP2"), store.channel("OP2")]
    seen += [store.order_operator("O1"), store.order_operator("O9")]
    return seen


def test_the_fake_channel_store_answers_as_the_sql_one(any_platform: Platform) -> None:
    order = OrderIssued(
        **meta(),
        order_id=OrderId("O1"),
        kind=OrderKind.STOP,
        target_kind=TargetKind.CHARGER,
        target_id="C1",
        issued_by="inspector",
    )
    outcomes = any_platform.ingestor.ingest([*small_world(), order])
    assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]
    channels = any_platform.channels
    assert channels is not None
    real = _channels_scenario(channels.store)
    fake_store = FakeChannelStore()
    fake_store.order("O1", "OP1")  # as the orders projection keeps the order
    fake = _channels_scenario(fake_store)
    assert fake == real
    assert real[-2:] == ["OP1", None]  # not vacuous


def _partner(partner_id: str, operator_id: str, **kw: Any) -> PartnerRecord:
    values: dict[str, Any] = {
        "partner_id": partner_id,
        "operator_id": operator_id,
        "name": f"platform {partner_id}",
        "base_url": None,
        "pull": False,
        "datum": "GCJ02",
        "enabled": True,
        "inbound_secret_hash": f"hash-{partner_id}",
        "inbound_keys": f"sealed-{partner_id}",
        "outbound_keys": None,
        "created_at": T0,
        "updated_at": T0,
        **kw,
    }
    return PartnerRecord(**values)


def _partners_scenario(store: PartnerStore) -> list[object]:
    store.save(_partner("P2", "OPY"))
    store.save(_partner("P1", "OPX", base_url="https://p1.example", pull=True))
    seen: list[object] = [store.partners(), store.partner("P1"), store.partner("P9")]
    store.mark_pulled("P1", at(30))
    store.mark_pulled("P9", at(30))  # nobody: nothing happens
    seen.append(store.partner("P1"))
    # saving again replaces the whole record, its last pull too
    store.save(_partner("P1", "OPX", name="renamed", outbound_keys="sealed-out", updated_at=at(60)))
    seen += [store.partner("P1"), store.remove("P2"), store.remove("P2"), store.partners()]
    return seen


def test_the_fake_partner_store_answers_as_the_sql_one(any_platform: Platform) -> None:
    real = _partners_scenario(SqlPartnerStore(any_platform.store.engine, any_platform.store.engine))
    fake = _partners_scenario(FakePartnerStore())
    assert fake == real
    pulled = real[3]
    assert isinstance(pulled, PartnerRecord) and pulled.last_station_pull == at(30)  # not vacuous
    listed = real[0]
    assert isinstance(listed, list) and [p.partner_id for p in listed] == ["P1", "P2"]
