"""The writer's faster ways agree with the plain ones they replaced (same values, same rows,
same refusals): each against its reference, on any input."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargenet.adapters import codec
from chargenet.adapters.bus import jetstream as js
from chargenet.adapters.storage.projections import live_batch
from chargenet.adapters.storage.projections.ownership import check_senders
from chargenet.adapters.storage.raw import Raw
from chargenet.core.events import Event, MeterSampled, Source, event_meta
from chargenet.core.ids import ChargerId, ConnectorId, OperatorId, SessionId
from chargenet.core.ownership import Holder, NotTheSenders, references, refusal
from chargenet.kit.timeutil import to_micros
from tests.adapters.test_codec import SAMPLES

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZONES = [
    UTC,
    ZoneInfo("Etc/UTC"),
    ZoneInfo("UTC"),
    ZoneInfo("Asia/Shanghai"),
    ZoneInfo("Europe/London"),
    timezone(timedelta(0)),
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=-3, minutes=-30, seconds=-7)),
]
_TIMES = st.datetimes(
    min_value=datetime(1900, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(_ZONES),
)


@given(_TIMES)
def test_to_micros_counts_what_the_division_by_a_microsecond_counts(value: datetime) -> None:
    assert to_micros(value) == (value - _EPOCH) // timedelta(microseconds=1)


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1)))
def test_to_micros_refuses_a_naive_time_as_before(value: datetime) -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        to_micros(value)


@given(_TIMES, st.booleans())
def test_read_t_is_the_time_in_utc_as_astimezone_makes_it(value: datetime, fold: bool) -> None:
    value = value.replace(fold=int(fold))
    read = Raw.read_t(None, value)  # type: ignore[arg-type]  # `self` unused for a time
    expected = value.astimezone(UTC)
    assert read == expected
    assert read is not None and read.tzinfo is UTC
    assert (read.isoformat(), read.fold, type(read)) == (
        expected.isoformat(),
        expected.fold,
        type(expected),
    )


@pytest.mark.postgres
def test_the_live_rows_times_in_json_are_the_instants_isoformat_wrote(postgres_url: str) -> None:
    """`_utc` and msgspec's "…Z" against `isoformat`'s "…+00:00" as the batch statements read
    them: PostgreSQL takes each pair for the same instant, any time in any zone."""
    rng = random.Random(7)
    values = []
    for _ in range(3_000):
        zone = rng.choice(_ZONES)
        at = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(
            microseconds=rng.randrange(0, 200 * 365 * 86_400 * 10**6)
        )
        if rng.random() < 0.2:
            at = at.replace(microsecond=0)
        values.append(at.astimezone(zone))
    rows = msgspec.json.encode(
        [[live_batch._utc(v), v.astimezone(UTC).isoformat()] for v in values]
    ).decode()
    with psycopg.connect(postgres_url.replace("+psycopg", "")) as conn:
        differ = conn.execute(
            "SELECT count(*) FILTER (WHERE (r->>0)::timestamptz IS DISTINCT FROM"
            " (r->>1)::timestamptz), count(*) FROM jsonb_array_elements(%s::jsonb) AS r",
            (rows,),
        ).fetchone()
    assert differ == (0, len(values))


_ITEM = st.tuples(
    st.sampled_from(["connector.meter_sampled", "charger.registered"]),
    st.just(1),
    st.integers(min_value=0, max_value=js._RELAY_BYTES + 10).map(lambda n: msgspec.Raw(b"x" * n)),
)


def _parts_one_by_one(items: list[Any]) -> list[list[Any]]:
    """`_by_size` as a loop over every item (its former body)."""
    out: list[list[Any]] = []
    part: list[Any] = []
    size = 0
    for item in items:
        length = len(item[2])
        if part and size + length > js._RELAY_BYTES:
            out.append(part)
            part, size = [], 0
        part.append(item)
        size += length
    if part:
        out.append(part)
    return out


@settings(max_examples=200)
@given(st.lists(_ITEM, max_size=6), st.integers(min_value=0, max_value=400))
def test_relay_parts_are_the_ones_the_loop_makes(items: list[Any], small: int) -> None:
    small_items = [(t, v, msgspec.Raw(b"y" * ((len(r) + small) % 5000))) for t, v, r in items]
    for given_items in (items, small_items):
        assert [[(t, v, bytes(r)) for t, v, r in part] for part in js._by_size(given_items)] == [
            [(t, v, bytes(r)) for t, v, r in part] for part in _parts_one_by_one(given_items)
        ]


@settings(max_examples=100)
@given(st.lists(st.sampled_from(range(len(SAMPLES))), max_size=12), st.data())
def test_encode_all_is_encode_of_each(picks: list[int], data: st.DataObject) -> None:
    events = [SAMPLES[i] for i in picks]
    assert codec.encode_all(events) == [codec.encode(e) for e in events]
    # Within `reusing`: known events answer their bytes (here, deliberately other bytes, so
    # that the test tells them from an encoding anew), the rest are encoded.
    known = data.draw(st.lists(st.booleans(), min_size=len(events), max_size=len(events)))
    pairs = enumerate(zip(events, known, strict=True))
    marked = [(e, b'{"kept":%d}' % n) for n, (e, k) in pairs if k]
    with codec.reusing(marked):
        assert codec.encode_all(events) == [codec.encode(e) for e in events]


@settings(max_examples=100)
@given(st.lists(st.sampled_from(range(len(SAMPLES))), max_size=12), st.data())
def test_a_batch_decodes_as_each_of_its_events_alone(picks: list[int], data: st.DataObject) -> None:
    """`decode_all_kept`'s way past `decode_kept` (a type's decoder made already) gives the
    same events and kept bytes, for today's versions and older ones, first met or not."""
    items = []
    for i in picks:
        event = SAMPLES[i]
        version = data.draw(st.sampled_from([event.VERSION, event.VERSION + 1, 0]))
        items.append((event.TYPE, version, msgspec.Raw(codec.encode(event))))

    def one_by_one() -> list[Any]:
        out: list[Any] = []
        for t, v, r in items:
            try:
                out.append(codec.decode_kept(t, v, bytes(r)))
            except Exception as exc:  # an unknown version: the same refusal either way
                out.append(type(exc))
        return out

    def batch() -> list[Any]:
        out: list[Any] = []
        for item in items:  # one at a time: a refusal of one does not hide the others
            try:
                out += codec.decode_all_kept([item])
            except Exception as exc:
                out.append(type(exc))
        return out

    expected = one_by_one()
    got = batch()
    assert [x if isinstance(x, type) else (x[0], x[1]) for x in got] == [
        x if isinstance(x, type) else (x[0], x[1]) for x in expected
    ]
    for x, y in zip(got, expected, strict=True):
        if not isinstance(x, type):
            assert type(x[0]) is type(y[0]) and vars(x[0]) == vars(y[0])
    decodable = [i for i, e in zip(items, expected, strict=True) if not isinstance(e, type)]
    whole = codec.decode_all_kept(decodable)
    assert whole == [e for e in expected if not isinstance(e, type)]


_WHO = st.sampled_from([None, "A", "B"])
_OPERATOR = st.sampled_from([None, "o1", "o2"])


class _NoReads:
    def all(self, sql: str, params: Any = None) -> list[Any]:
        raise AssertionError("every holder was given")


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(_WHO, _OPERATOR, st.sampled_from(["C1", "C2"]), st.booleans()),
        min_size=1,
        max_size=6,
    ),
    st.dictionaries(
        st.tuples(st.sampled_from(["connector", "session"]), st.sampled_from(["C1", "C2", "S1"])),
        st.one_of(st.none(), st.builds(Holder, _OPERATOR, _WHO)),
    ),
)
def test_the_senders_check_refuses_what_refusal_refuses(
    specs: list[tuple[str | None, str | None, str, bool]],
    holders: dict[tuple[str, str], Holder | None],
) -> None:
    """The check's way past `refusal` (a holder the sender matches) lets through exactly
    what `refusal` lets through, and raises its first refusal."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    events: list[Event] = []
    for charger, operator, connector, in_session in specs:
        source = Source(
            adapter="ocpp",
            charger_id=None if charger is None else ChargerId(charger),
            operator_id=None if operator is None else OperatorId(operator),
        )
        events.append(
            MeterSampled(
                **event_meta(uuid.uuid4().hex, source, at),
                connector_id=ConnectorId(connector),
                session_id=SessionId("S1") if in_session else None,
                power_w=1,
            )
        )
    known = {ref: holders.get(ref) for e in events for ref in references(e)}
    expected: str | None = None
    for e in events:
        if e.source.charger_id is None and e.source.operator_id is None:
            continue
        for kind, ident in references(e):
            holder = known[(kind, ident)]
            if holder is None:
                continue
            refused = refusal(e.source, kind, ident, holder)
            if refused is not None and expected is None:
                expected = str(refused)
    if expected is None:
        check_senders(_NoReads(), events, known)  # type: ignore[arg-type]
    else:
        with pytest.raises(NotTheSenders) as raised:
            check_senders(_NoReads(), events, known)  # type: ignore[arg-type]
        assert str(raised.value) == expected
