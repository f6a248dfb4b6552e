"""Uptime on constructed status histories, against figures computed by hand."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from chargenet.analytics.supervision import timeline, uptime
from chargenet.analytics.supervision.hours import closed_windows
from chargenet.analytics.supervision.statusclass import CODE, NEVI_OUTAGE, PORT_RANK
from chargenet.core.status import ConnectorStatus as S
from chargenet.kit.timeutil import to_micros

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def fleet(n: int = 1, registered: datetime | None = None) -> uptime.Fleet:
    since = to_micros(registered or local(2020, 1, 1))
    return uptime.Fleet(
        charger=np.zeros(n, dtype=np.int64),
        service_from=np.full(n, since, dtype=np.int64),
        service_until=np.full(n, uptime.FOREVER, dtype=np.int64),
    )


def reports(
    status: list[tuple[datetime, S]],
    presence: Sequence[tuple[datetime, bool]] = (),
    excluded: Sequence[tuple[datetime, datetime]] = (),
    closed: Sequence[tuple[datetime, datetime]] = (),
) -> uptime.Reports:
    def a(values: list[int]) -> uptime.I64:
        return np.array(values, dtype=np.int64)

    return uptime.Reports(
        status_conn=a([0] * len(status)),
        status_at=a([to_micros(t) for t, _ in status]),
        status_code=a([CODE[s] for _, s in status]),
        presence_charger=a([0] * len(presence)),
        presence_at=a([to_micros(t) for t, _ in presence]),
        presence_online=a([int(o) for _, o in presence]),
        excluded_conn=a([0] * len(excluded)),
        excluded_start=a([to_micros(s) for s, _ in excluded]),
        excluded_end=a([to_micros(e) for _, e in excluded]),
        closed_conn=a([0] * len(closed)),
        closed_start=a([to_micros(s) for s, _ in closed]),
        closed_end=a([to_micros(e) for _, e in closed]),
    )


def edges(*times: datetime) -> uptime.I64:
    return np.array([to_micros(t) for t in times], dtype=np.int64)


DAY = (local(2025, 5, 1), local(2025, 5, 2))
FAULTY_DAY = [
    (local(2025, 5, 1), S.AVAILABLE),
    (local(2025, 5, 1, 6), S.FAULTED),
    (local(2025, 5, 1, 9), S.AVAILABLE),
]
SILENT_NOON = [(local(2025, 5, 1, 12), False), (local(2025, 5, 1, 14), True)]


def test_offline_and_faulted_count_differently_in_nevi_and_uk() -> None:
    seconds = uptime.status_seconds(fleet(), reports(FAULTY_DAY, SILENT_NOON), edges(*DAY))
    nevi, uk = uptime.nevi(seconds[0, 0]), uptime.uk(seconds[0, 0])
    # NEVI: 3 h faulted + 2 h offline are outage: (24 − 5) / 24
    assert float(nevi.total) == 24 * 3600
    assert float(nevi.outage) == 5 * 3600
    assert float(nevi.uptime) == pytest.approx(19 / 24 * 100)
    # UK: faulted (OUTOFORDER) is not reliable; offline (UNKNOWN) is "ineligible for
    # measurement", which reg. 7(3)(b) counts as reliable: (19 + 2) / 24.
    assert (float(uk.up), float(uk.down), float(uk.ineligible)) == (19 * 3600, 3 * 3600, 2 * 3600)
    assert float(uk.reliability) == pytest.approx(21 / 24 * 100)
    # The other reading, on request: ineligible time left out of the measure, 19 / (19 + 3).
    left_out = uptime.uk(seconds[0, 0], ineligible_reliable=False)
    assert float(left_out.reliability) == pytest.approx(19 / 22 * 100)
    breakdown = uptime.status_breakdown(seconds[0, 0])
    assert float(breakdown["faulted"]) == 3 * 3600 and float(breakdown["offline"]) == 2 * 3600


def test_an_excluded_outage_is_given_back_to_nevi_only() -> None:
    vehicle_fault = [(local(2025, 5, 1, 5), local(2025, 5, 1, 7))]  # 1 h of it overlaps the fault
    seconds = uptime.status_seconds(
        fleet(), reports(FAULTY_DAY, SILENT_NOON, excluded=vehicle_fault), edges(*DAY)
    )
    nevi, uk = uptime.nevi(seconds[0, 0]), uptime.uk(seconds[0, 0])
    assert float(nevi.excluded) == 3600
    assert float(nevi.uptime) == pytest.approx((24 - (5 - 1)) / 24 * 100)
    assert float(uk.reliability) == pytest.approx(21 / 24 * 100)  # no exclusions in the UK


def test_before_the_first_report_there_is_no_data_which_is_an_outage() -> None:
    late_start = [(local(2025, 5, 1, 4), S.AVAILABLE)]
    seconds = uptime.status_seconds(fleet(), reports(late_start), edges(*DAY))
    assert float(uptime.status_breakdown(seconds[0, 0])["offline"]) == 4 * 3600
    assert float(uptime.nevi(seconds[0, 0]).uptime) == pytest.approx(20 / 24 * 100)
    assert float(uptime.uk(seconds[0, 0]).reliability) == 100.0


def test_time_before_registration_is_not_in_the_period() -> None:
    registered = local(2025, 5, 1, 12)
    status = [(registered, S.AVAILABLE), (local(2025, 5, 1, 18), S.FAULTED)]
    seconds = uptime.status_seconds(fleet(registered=registered), reports(status), edges(*DAY))
    nevi = uptime.nevi(seconds[0, 0])
    assert float(nevi.total) == 12 * 3600
    assert float(nevi.uptime) == pytest.approx(50.0)


def test_a_fault_across_midnight_and_the_year_end_splits_between_months() -> None:
    status = [
        (local(2024, 12, 1), S.AVAILABLE),
        (local(2024, 12, 31, 22), S.FAULTED),
        (local(2025, 1, 1, 2), S.AVAILABLE),
    ]
    bounds = edges(local(2024, 12, 1), local(2025, 1, 1), local(2025, 2, 1))
    seconds = uptime.status_seconds(fleet(), reports(status), bounds)
    nevi = uptime.nevi(seconds[0])
    hours_dec = hours_jan = 31 * 24
    assert list(nevi.total / 3600) == [hours_dec, hours_jan]
    assert list(nevi.outage / 3600) == [2, 2]
    assert nevi.uptime[0] == pytest.approx((744 - 2) / 744 * 100)  # 99.731 %
    # The two months together, as the 12-month NEVI figure adds them.
    both = uptime.nevi(seconds[0].sum(axis=0))
    assert float(both.uptime) == pytest.approx((1488 - 4) / 1488 * 100)


def test_outages_outside_opening_hours_are_excluded_for_nevi_and_not_measured_for_uk() -> None:
    status = [
        (local(2025, 5, 1), S.AVAILABLE),
        (local(2025, 5, 1, 19), S.FAULTED),  # 1 h inside opening hours, 2 h after closing
        (local(2025, 5, 1, 22), S.AVAILABLE),
    ]
    closed = closed_windows("08:00-20:00", DAY[0], DAY[1], "Asia/Shanghai")
    assert [(a.hour, b.hour) for a, b in closed] == [
        (16, 0),
        (12, 16),
    ]  # UTC: 00–08 and 20–24 local
    seconds = uptime.status_seconds(fleet(), reports(status, closed=closed), edges(*DAY))
    nevi, uk = uptime.nevi(seconds[0, 0]), uptime.uk(seconds[0, 0])
    assert float(nevi.outage) == 3 * 3600 and float(nevi.excluded) == 2 * 3600
    assert float(nevi.uptime) == pytest.approx(23 / 24 * 100)
    assert float(uk.up + uk.down) == 12 * 3600  # only the 12 opening hours are measured
    assert float(uk.reliability) == pytest.approx(11 / 12 * 100)


def test_reports_in_any_order_give_the_same_figures() -> None:
    status = [
        *FAULTY_DAY,
        (local(2025, 5, 1, 20), S.UNAVAILABLE),
        (local(2025, 5, 1, 21), S.CHARGING),
    ]
    shuffled = status[:]
    random.Random(3).shuffle(shuffled)
    a = uptime.status_seconds(fleet(), reports(status, SILENT_NOON), edges(*DAY))
    b = uptime.status_seconds(fleet(), reports(shuffled, SILENT_NOON[::-1]), edges(*DAY))
    assert np.array_equal(a, b)


def test_the_bulk_timeline_agrees_with_the_interval_history_on_random_runs() -> None:
    rng = random.Random(11)
    start, end = local(2025, 3, 1), local(2025, 3, 8)
    n = 12
    status, presence = [], []
    for c in range(n):
        t = start - timedelta(hours=rng.uniform(0, 30))
        while t < end:
            status.append((c, t, rng.choice(list(S))))
            t += timedelta(minutes=rng.expovariate(1 / 300))
    for ch in range(4):
        t = start - timedelta(hours=5)
        while t < end:
            presence.append((ch, t, rng.random() < 0.7))
            t += timedelta(minutes=rng.expovariate(1 / 900))
    charger_of = np.array([c % 4 for c in range(n)], dtype=np.int64)
    f = uptime.Fleet(
        charger=charger_of,
        service_from=np.full(n, to_micros(start - timedelta(days=9)), dtype=np.int64),
        service_until=np.full(n, uptime.FOREVER, dtype=np.int64),
    )
    r = uptime.Reports(
        status_conn=np.array([c for c, _, _ in status], dtype=np.int64),
        status_at=np.array([to_micros(t) for _, t, _ in status], dtype=np.int64),
        status_code=np.array([CODE[s] for _, _, s in status], dtype=np.int64),
        presence_charger=np.array([c for c, _, _ in presence], dtype=np.int64),
        presence_at=np.array([to_micros(t) for _, t, _ in presence], dtype=np.int64),
        presence_online=np.array([int(o) for _, _, o in presence], dtype=np.int64),
    )
    seconds = uptime.status_seconds(f, r, edges(start, end))
    for c in range(n):
        pieces = timeline.intervals(
            [timeline.StatusReport(t, s) for cc, t, s in status if cc == c],
            [timeline.PresenceReport(t, o) for ch, t, o in presence if ch == c % 4],
            start,
            end,
        )
        by_status: dict[str, float] = {}
        for p in pieces:
            by_status[p.status.value] = by_status.get(p.status.value, 0.0) + p.seconds
        bulk = uptime.status_breakdown(seconds[c, 0])
        for s in S:
            assert float(bulk[s.value]) == pytest.approx(by_status.get(s.value, 0.0), abs=1e-6)


def test_the_outage_log_lists_each_outage_with_its_excluded_part_and_reason() -> None:
    pieces = timeline.intervals(
        [
            timeline.StatusReport(t, s, "GroundFailure" if s is S.FAULTED else None)
            for t, s in FAULTY_DAY
        ],
        [
            timeline.PresenceReport(t, o, "connection lost" if not o else None)
            for t, o in SILENT_NOON
        ],
        *DAY,
    )
    assert [(p.status.value, p.seconds / 3600, p.cause) for p in pieces] == [
        ("available", 6, ""),
        ("faulted", 3, "GroundFailure"),
        ("available", 3, ""),
        ("offline", 2, "charger offline: connection lost"),
        ("available", 10, ""),
    ]
    windows = [timeline.Window(local(2025, 5, 1, 5), local(2025, 5, 1, 7), "vehicle_fault")]
    log = timeline.outages(pieces, windows, NEVI_OUTAGE)
    assert [
        (o.status.value, o.seconds / 3600, o.excluded_seconds / 3600, o.reasons) for o in log
    ] == [
        ("faulted", 3, 1, ("vehicle_fault",)),
        ("offline", 2, 0, ()),
    ]


def test_time_to_repair_runs_from_the_first_fault_report_to_the_next_usable_status() -> None:
    status = [
        (local(2025, 5, 1), S.AVAILABLE),
        (local(2025, 5, 1, 6), S.FAULTED),
        (local(2025, 5, 1, 7), S.FAULTED),  # the same fault, reported again
        (local(2025, 5, 1, 8), S.UNAVAILABLE),  # maintenance does not end the fault
        (local(2025, 5, 1, 10), S.AVAILABLE),
        (local(2025, 5, 1, 20), S.FAULTED),  # not repaired within the period
    ]
    conn, seconds = uptime.repair_seconds(reports(status), *(to_micros(t) for t in DAY))
    assert list(conn) == [0] and list(seconds / 3600) == [4.0]


# --- ports (23 CFR 680.104: a port charges one vehicle at a time, whatever its cables) ----


def two_cables(status: list[tuple[int, datetime, S]]) -> uptime.Reports:
    def a(values: list[int]) -> uptime.I64:
        return np.array(values, dtype=np.int64)

    return uptime.Reports(
        status_conn=a([c for c, _, _ in status]),
        status_at=a([to_micros(t) for _, t, _ in status]),
        status_code=a([CODE[s] for _, _, s in status]),
    )


ONE_PORT = np.array([0, 0], dtype=np.int64)


def test_a_port_with_two_cables_is_up_while_either_cable_can_charge() -> None:
    status = [
        (0, local(2025, 5, 1), S.AVAILABLE),  # CCS
        (1, local(2025, 5, 1), S.AVAILABLE),  # CHAdeMO
        (0, local(2025, 5, 1, 6), S.FAULTED),  # CCS faulted 06–09
        (0, local(2025, 5, 1, 9), S.AVAILABLE),
        (1, local(2025, 5, 1, 8), S.FAULTED),  # CHAdeMO faulted 08–10: both down 08–09
        (1, local(2025, 5, 1, 10), S.AVAILABLE),
        (0, local(2025, 5, 1, 12), S.CHARGING),  # one vehicle on CCS, 12–14; the
        (1, local(2025, 5, 1, 12), S.UNAVAILABLE),  # other cable is locked meanwhile
        (0, local(2025, 5, 1, 14), S.AVAILABLE),
        (1, local(2025, 5, 1, 14), S.AVAILABLE),
    ]
    per_connector = uptime.nevi(
        uptime.status_seconds(fleet(2), two_cables(status), edges(*DAY))[:, 0]
    )
    assert list(per_connector.outage / 3600) == [3, 4]  # 3 h + (2 h faulted + 2 h locked)
    per_port = uptime.status_seconds(fleet(2), two_cables(status), edges(*DAY), ports=ONE_PORT)
    assert per_port.shape[0] == 1
    port = uptime.nevi(per_port[0, 0])
    assert float(port.total) == 24 * 3600  # one port's day, not two connectors' days
    assert float(port.outage) == 1 * 3600  # only 08–09, when neither cable could charge
    assert float(uptime.status_breakdown(per_port[0, 0])["charging"]) == 2 * 3600


def test_ports_agree_with_the_best_connector_at_each_instant_on_random_runs() -> None:
    rng = random.Random(5)
    start, end = local(2025, 3, 1), local(2025, 3, 4)
    n, port_of = 7, [0, 0, 1, 2, 2, 2, 3]
    status = []
    for c in range(n):
        t = start - timedelta(hours=rng.uniform(-20, 10))  # some begin late: no data first
        while t < end:
            status.append((c, t, rng.choice(list(S))))
            t += timedelta(minutes=rng.expovariate(1 / 200))
    ports = np.array(port_of, dtype=np.int64)
    seconds = uptime.status_seconds(fleet(n), two_cables(status), edges(start, end), ports=ports)
    rank = {s: PORT_RANK[CODE[s]] for s in S}
    for p in range(4):
        histories = [
            timeline.intervals(
                [timeline.StatusReport(t, s) for cc, t, s in status if cc == c], [], start, end
            )
            for c in range(n)
            if port_of[c] == p
        ]
        cuts = sorted({x for h in histories for piece in h for x in (piece.start, piece.end)})
        expected: dict[str, float] = {}
        for lo, hi in pairwise(cuts):
            best = max(
                (piece.status for h in histories for piece in h if piece.start <= lo < piece.end),
                key=rank.__getitem__,
            )
            expected[best.value] = expected.get(best.value, 0.0) + (hi - lo).total_seconds()
        bulk = uptime.status_breakdown(seconds[p, 0])
        for s in S:
            assert float(bulk[s.value]) == pytest.approx(expected.get(s.value, 0.0), abs=1e-6)


# --- minimum power (23 CFR 680.116(b), 680.106(d)) ----------------------------------------


def test_time_below_the_minimum_power_the_charger_reports_is_a_nevi_outage_only() -> None:
    status = [
        (local(2025, 5, 1), S.AVAILABLE),
        (local(2025, 5, 1, 10), S.CHARGING),
        (local(2025, 5, 1, 12), S.AVAILABLE),  # the session ends: its limit with it
    ]
    base = reports(status)
    limits = uptime.Reports(
        **{
            **{f: getattr(base, f) for f in base.__dataclass_fields__},
            "limit_conn": np.array([0, 0], dtype=np.int64),
            "limit_at": np.array(
                [to_micros(local(2025, 5, 1, 10, 30)), to_micros(local(2025, 5, 1, 11))]
            ),
            "limit_below": np.array([0, 1], dtype=np.int64),  # enough, then too little
        }
    )
    seconds = uptime.status_seconds(fleet(), limits, edges(*DAY))
    nevi, uk = uptime.nevi(seconds[0, 0]), uptime.uk(seconds[0, 0])
    assert float(nevi.outage) == 1 * 3600  # 11–12, charging below the minimum
    assert float(uptime.status_breakdown(seconds[0, 0])["below_min_power"]) == 3600
    assert float(uk.reliability) == 100.0  # the UK measures status: it was charging


# --- batches of chargers ------------------------------------------------------------------


def _random_world(seed: int) -> tuple[uptime.Fleet, uptime.Reports, uptime.I64]:
    """Chargers of one to three connectors, ports of one or two, with every kind of report."""
    rng = np.random.default_rng(seed)
    lo, hi = to_micros(local(2025, 3, 1)), to_micros(local(2025, 3, 9))
    sizes = rng.integers(1, 4, 9)
    charger_of = np.repeat(np.arange(len(sizes)), sizes)
    n = len(charger_of)
    within = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    ports = np.unique(charger_of * 2 + within // 2, return_inverse=True)[1]

    def times(k: int) -> uptime.I64:
        return rng.integers(lo - 86_400_000_000, hi, k, dtype=np.int64)

    s_n, p_n, x_n, l_n = 40 * n, 10 * len(sizes), 2 * n, 3 * n
    x_start, c_start = times(x_n), times(x_n)
    f = uptime.Fleet(
        charger=charger_of,
        service_from=lo + rng.integers(-(10**11), 10**11, n, dtype=np.int64),
        service_until=np.where(rng.random(n) < 0.2, hi - 10**10, uptime.FOREVER),
    )
    r = uptime.Reports(
        status_conn=rng.integers(0, n, s_n, dtype=np.int64),
        status_at=times(s_n),
        status_code=rng.integers(0, len(S), s_n, dtype=np.int64),
        presence_charger=rng.integers(0, len(sizes), p_n, dtype=np.int64),
        presence_at=times(p_n),
        presence_online=rng.integers(0, 2, p_n, dtype=np.int64),
        excluded_conn=rng.integers(0, n, x_n, dtype=np.int64),
        excluded_start=x_start,
        excluded_end=x_start + rng.integers(1, 10**10, x_n, dtype=np.int64),
        closed_conn=rng.integers(0, n, x_n, dtype=np.int64),
        closed_start=c_start,
        closed_end=c_start + rng.integers(1, 10**10, x_n, dtype=np.int64),
        limit_conn=rng.integers(0, n, l_n, dtype=np.int64),
        limit_at=times(l_n),
        limit_below=rng.integers(0, 2, l_n, dtype=np.int64),
    )
    return f, r, ports


def _batches(
    f: uptime.Fleet, r: uptime.Reports, ports: uptime.I64 | None, size: int
) -> list[uptime.Batch]:
    """The world cut into batches of `size` whole chargers, renumbered within each."""
    out = []
    n_chargers = int(f.charger.max()) + 1
    for first in range(0, n_chargers, size):
        chargers = np.arange(first, min(first + size, n_chargers))
        conns = np.flatnonzero(np.isin(f.charger, chargers))
        local_conn = np.full(f.size, -1, dtype=np.int64)
        local_conn[conns] = np.arange(len(conns))

        def pick(
            conn: uptime.I64, a: uptime.I64, b: uptime.I64, renumber: uptime.I64 = local_conn
        ) -> tuple[uptime.I64, uptime.I64, uptime.I64]:
            keep = renumber[conn] >= 0
            return renumber[conn[keep]], a[keep], b[keep]

        s = pick(r.status_conn, r.status_at, r.status_code)
        p_keep = np.isin(r.presence_charger, chargers)
        x = pick(r.excluded_conn, r.excluded_start, r.excluded_end)
        c = pick(r.closed_conn, r.closed_start, r.closed_end)
        lim = pick(r.limit_conn, r.limit_at, r.limit_below)
        batch_reports = uptime.Reports(
            *s,
            r.presence_charger[p_keep] - first,
            r.presence_at[p_keep],
            r.presence_online[p_keep],
            *x,
            *c,
            *lim,
        )
        batch_fleet = uptime.Fleet(
            f.charger[conns] - first, f.service_from[conns], f.service_until[conns]
        )
        if ports is None:
            out.append(uptime.Batch(batch_fleet, batch_reports, conns))
        else:
            units, local_ports = np.unique(ports[conns], return_inverse=True)
            out.append(uptime.Batch(batch_fleet, batch_reports, units, local_ports))
    return out


@pytest.mark.parametrize("per_port", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batches_of_chargers_add_up_to_one_pass_over_all(seed: int, per_port: bool) -> None:
    f, r, ports = _random_world(seed)
    the_ports = ports if per_port else None
    bounds = edges(local(2025, 3, 1), local(2025, 3, 4), local(2025, 3, 9))
    whole = uptime.status_seconds(f, r, bounds, ports=the_ports)
    n_units = whole.shape[0]
    assert whole[..., uptime.EXCLUDED].sum() > 0 and whole[..., uptime.CLOSED].sum() > 0
    for size in (1, 2, 4, 100):
        batched = uptime.status_seconds_batched(_batches(f, r, the_ports, size), bounds, n_units)
        assert np.allclose(batched, whole, rtol=0, atol=1e-6)
