"""Uptime in bulk: seconds per effective status for many connectors over many periods.

One vectorised pass (numpy) turns every status report, presence report, exclusion window
and closed-hours window into a timeline per connector, cuts it at the period edges and
sums the seconds per (group, period, effective status, flag). NEVI and UK figures are
then arithmetic on that table (`nevi`, `uk`). The per-connector, human-readable version
of the same timeline is `analytics.supervision.timeline.intervals`; a test holds the two equal.

Times are integer microseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from chargenet.analytics.supervision.statusclass import (
    CODE,
    COUNTED_STATUSES,
    LIMITED,
    NEVI_OUTAGE_CODES,
    NO_DATA,
    PORT_RANK,
    STATUSES,
    UK_CLASS,
    UkClass,
)
from chargenet.core.status import ConnectorStatus, effective_status

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]
FOREVER = np.iinfo(np.int64).max // 2

# Flags of a stretch of time: counted as it is, excluded by a marked exclusion (NEVI
# T_excluded), or outside the station's opening hours.
COUNTED, EXCLUDED, CLOSED = 0, 1, 2
N_FLAGS = 3
N_STATUSES = len(COUNTED_STATUSES)  # the reported statuses and LIMITED

# effective status code for (reported code or NO_DATA, presence 0 offline / 1 online / 2 unknown)
_EFFECTIVE = np.array(
    [
        [
            CODE[
                effective_status(
                    STATUSES[s] if s != NO_DATA else None, (False, True, None)[presence]
                )
            ]
            for presence in range(3)
        ]
        for s in range(NO_DATA + 1)
    ],
    dtype=np.int64,
)
_PRESENCE_UNKNOWN = 2
# Which effective statuses a reported limit below the minimum power turns into LIMITED.
_USABLE = np.zeros(N_STATUSES, dtype=bool)
_USABLE[[CODE[s] for s in STATUSES if s.usable]] = True
# Port ranks by effective status (higher is better), and back.
_RANK = np.array([PORT_RANK[c] for c in range(N_STATUSES)], dtype=np.int64)
_FROM_RANK = np.zeros(int(_RANK.max()) + 1, dtype=np.int64)
_FROM_RANK[_RANK] = np.arange(N_STATUSES)

_START, _STATUS, _PRESENCE, _EXCLUSION, _CLOSURE, _EDGE, _LIMIT = range(7)


def _empty_i64() -> I64:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Fleet:
    """The connectors measured, one row each: their charger and when they were in service."""

    charger: I64  # charger index of each connector
    service_from: I64  # µs; before it the connector did not exist
    service_until: I64  # µs; FOREVER when not retired

    @property
    def size(self) -> int:
        return len(self.charger)


@dataclass(frozen=True)
class Reports:
    """What happened, as parallel arrays (indices refer to Fleet rows and charger indices)."""

    status_conn: I64 = field(default_factory=_empty_i64)
    status_at: I64 = field(default_factory=_empty_i64)
    status_code: I64 = field(default_factory=_empty_i64)  # statusclass.CODE
    presence_charger: I64 = field(default_factory=_empty_i64)
    presence_at: I64 = field(default_factory=_empty_i64)
    presence_online: I64 = field(default_factory=_empty_i64)  # 0 / 1
    excluded_conn: I64 = field(default_factory=_empty_i64)
    excluded_start: I64 = field(default_factory=_empty_i64)
    excluded_end: I64 = field(default_factory=_empty_i64)
    closed_conn: I64 = field(default_factory=_empty_i64)
    closed_start: I64 = field(default_factory=_empty_i64)
    closed_end: I64 = field(default_factory=_empty_i64)
    # Power limits the charger reported: 1 when below the port's minimum power, 0 when not.
    # A limit holds until the connector's next limit or status report.
    limit_conn: I64 = field(default_factory=_empty_i64)
    limit_at: I64 = field(default_factory=_empty_i64)
    limit_below: I64 = field(default_factory=_empty_i64)


def _presence_per_connector(fleet: Fleet, reports: Reports) -> tuple[I64, I64, I64]:
    """Each charger presence report, repeated for every connector of that charger."""
    if not len(reports.presence_at):
        return _empty_i64(), _empty_i64(), _empty_i64()
    n_chargers = int(max(fleet.charger.max(initial=-1), reports.presence_charger.max())) + 1
    by_charger = np.argsort(fleet.charger, kind="stable")
    counts = np.bincount(fleet.charger, minlength=n_chargers)
    firsts = np.cumsum(counts) - counts
    repeat = counts[reports.presence_charger]
    point = np.repeat(np.arange(len(repeat)), repeat)
    within = np.arange(int(repeat.sum())) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    conn = by_charger[firsts[reports.presence_charger][point] + within]
    return conn, reports.presence_at[point], reports.presence_online[point]


def status_seconds(
    fleet: Fleet,
    reports: Reports,
    edges: I64,
    groups: I64 | None = None,
    n_groups: int | None = None,
    ports: I64 | None = None,
) -> F64:
    """Seconds per (group, period, effective status, flag).

    `edges` are k+1 increasing instants bounding k periods. Time is counted per connector,
    or with `ports` (each connector's port index, 0…P−1) per port: at each instant a port
    counts in the best status of its connectors (`statusclass.PORT_RANK`). `groups` gives
    each connector's (or port's) group (default: each its own); the result has shape
    (n_groups, k, N_STATUSES, 3), statuses in `statusclass.COUNTED_STATUSES` order and
    flags COUNTED, EXCLUDED, CLOSED (closed wins over excluded).
    """
    n = fleet.size
    k = len(edges) - 1
    n_units = n if ports is None else int(ports.max(initial=-1)) + 1
    own_groups = groups is None
    if groups is None:
        groups, n_groups = np.arange(n_units, dtype=np.int64), n_units
    elif n_groups is None:
        n_groups = int(groups.max(initial=-1)) + 1
    out_shape = (n_groups, k, N_STATUSES, N_FLAGS)
    if n == 0 or k <= 0:
        return np.zeros(out_shape)
    lo_all, hi_all = int(edges[0]), int(edges[-1])
    keep: Any = reports.status_at < hi_all
    if keep.all():
        keep = slice(None)  # no copies: most batches have nothing after the end
    p_conn, p_at, p_online = _presence_per_connector(fleet, reports)
    p_keep = p_at < hi_all
    l_keep = reports.limit_at < hi_all
    has_limits = bool(l_keep.any())
    conns = np.arange(n, dtype=np.int64)
    parts_conn = [
        conns,  # a start sentinel per connector, before everything: "no data yet"
        reports.status_conn[keep],
        p_conn[p_keep],
        reports.excluded_conn,
        reports.excluded_conn,
        reports.closed_conn,
        reports.closed_conn,
        np.repeat(conns, k - 1),
        reports.limit_conn[l_keep],
    ]
    first = min(
        lo_all,
        int(reports.status_at.min(initial=lo_all)),
        int(p_at.min(initial=lo_all)),
        int(reports.limit_at.min(initial=lo_all)),
    )
    parts_at = [
        np.full(n, first - 1, dtype=np.int64),
        reports.status_at[keep],
        p_at[p_keep],
        np.clip(reports.excluded_start, first, hi_all),
        np.clip(reports.excluded_end, first, hi_all),
        np.clip(reports.closed_start, first, hi_all),
        np.clip(reports.closed_end, first, hi_all),
        np.tile(edges[1:-1], n),
        reports.limit_at[l_keep],
    ]
    parts_kind = [
        np.full(len(p), kind, dtype=np.int8)
        for kind, p in zip(
            (
                _START,
                _STATUS,
                _PRESENCE,
                _EXCLUSION,
                _EXCLUSION,
                _CLOSURE,
                _CLOSURE,
                _EDGE,
                _LIMIT,
            ),
            parts_conn,
            strict=True,
        )
    ]
    parts_value = [
        np.zeros(n, dtype=np.int64),
        reports.status_code[keep],
        p_online[p_keep],
        np.ones(len(reports.excluded_conn), dtype=np.int64),
        -np.ones(len(reports.excluded_conn), dtype=np.int64),
        np.ones(len(reports.closed_conn), dtype=np.int64),
        -np.ones(len(reports.closed_conn), dtype=np.int64),
        np.zeros(n * (k - 1), dtype=np.int64),
        reports.limit_below[l_keep],
    ]
    conn = np.concatenate(parts_conn)
    at = np.concatenate(parts_at)
    kind = np.concatenate(parts_kind)
    value = np.concatenate(parts_value)

    span = hi_all - first + 2
    if n * span < 2**62:
        order = np.argsort(conn * span + (at - first + 1), kind="stable")
    else:
        order = np.lexsort((at, conn))
    conn, at, kind, value = conn[order], at[order], kind[order], value[order]

    index = np.arange(len(at))
    is_start = kind == _START
    status_src = np.maximum.accumulate(np.where(is_start | (kind == _STATUS), index, 0))
    status = np.where(is_start, NO_DATA, value)[status_src]
    # Kinds of report a batch does not have cost nothing (most have status reports only).
    presence: I64 | None = None
    if bool(p_keep.any()):
        presence_src = np.maximum.accumulate(np.where(is_start | (kind == _PRESENCE), index, 0))
        presence = np.where(is_start, _PRESENCE_UNKNOWN, value)[presence_src]
    excluded = closed = None
    if len(reports.excluded_conn):
        excluded = np.cumsum(np.where(kind == _EXCLUSION, value, 0)) > 0
    if len(reports.closed_conn):
        closed = np.cumsum(np.where(kind == _CLOSURE, value, 0)) > 0
    limited = None
    if has_limits:
        # The latest limit report, unless a status report came after it.
        is_limit = kind == _LIMIT
        limit_src = np.maximum.accumulate(
            np.where(is_start | (kind == _STATUS) | is_limit, index, 0)
        )
        limited = np.where(is_limit, value, 0)[limit_src] > 0

    same_next = np.empty(len(at), dtype=bool)
    same_next[:-1] = conn[1:] == conn[:-1]
    same_next[-1] = False
    nxt = np.empty_like(at)
    nxt[:-1] = at[1:]
    nxt = np.where(same_next, nxt, FOREVER)
    lo_c = np.maximum(fleet.service_from, lo_all)
    hi_c = np.minimum(fleet.service_until, hi_all)
    if (lo_c == lo_all).all() and (hi_c == hi_all).all():  # all in service throughout
        a, b = np.clip(at, lo_all, hi_all), np.clip(nxt, lo_all, hi_all)
    else:
        lo, hi = lo_c[conn], hi_c[conn]
        a = np.minimum(np.maximum(at, lo), hi)
        b = np.minimum(np.maximum(nxt, lo), hi)
    eff = (
        _EFFECTIVE[status, _PRESENCE_UNKNOWN] if presence is None else _EFFECTIVE[status, presence]
    )
    if limited is not None:
        eff = np.where(limited & _USABLE[eff], LIMITED, eff)
    flag = np.zeros(len(a), dtype=np.int64)
    if excluded is not None:
        flag[excluded] = EXCLUDED
    if closed is not None:
        flag[closed] = CLOSED  # closed wins over excluded
    unit = conn
    if ports is not None:
        useful = b > a
        unit, a, b, eff, flag = _merge_ports(
            ports, n_units, conn[useful], a[useful], b[useful], eff[useful], flag[useful]
        )
    # Empty pieces (b ≤ a: cut off by the period or the service) weigh nothing.
    micros = np.subtract(b, a, dtype=np.float64)
    np.maximum(micros, 0.0, out=micros)
    cell = unit if own_groups else groups[unit]
    if k > 1:
        cell = cell * k + np.clip(np.searchsorted(edges, a, side="right") - 1, 0, k - 1)
    cell = (cell * N_STATUSES + eff) * N_FLAGS + flag
    total = np.bincount(cell, weights=micros, minlength=int(np.prod(out_shape))) / 1e6
    return np.asarray(total, dtype=np.float64).reshape(out_shape)


@dataclass(frozen=True)
class Batch:
    """Some chargers' connectors and what happened to them, numbered within the batch
    (Fleet rows, charger indices, Reports indices). `units` gives the measured unit of
    each row of the batch's result: with `ports` (each connector's port, 0…P−1 within the
    batch) one per port, else one per connector, in the measure's own numbering."""

    fleet: Fleet
    reports: Reports
    units: I64
    ports: I64 | None = None


def status_seconds_batched(batches: Iterable[Batch], edges: I64, n_units: int) -> F64:
    """`status_seconds` per unit, one batch of chargers at a time: shape (n_units, k,
    N_STATUSES, 3). A connector's time depends only on its own reports and its charger's
    (a port's, on its charger's connectors), so batches of whole chargers add up to the
    figures of one pass over the lot, while memory holds one batch of reports and the
    per-unit result only (a test holds the two equal)."""
    k = max(len(edges) - 1, 0)
    out = np.zeros((n_units, k, N_STATUSES, N_FLAGS))
    for batch in batches:
        part = status_seconds(batch.fleet, batch.reports, edges, ports=batch.ports)
        out[batch.units] += part  # each unit lies in one batch: no index repeats
    return out


def _merge_ports(
    ports: I64, n_ports: int, conn: I64, a: I64, b: I64, eff: I64, flag: I64
) -> tuple[I64, I64, I64, I64, I64]:
    """Connector pieces [a, b) → port pieces. A port of one connector keeps its pieces; a
    port of several counts, at each instant, the best of its connectors' pieces (and of
    equals the counted one before the excluded, before the closed)."""
    port = ports[conn]
    size = np.bincount(ports, minlength=n_ports)
    multi = size[port] > 1
    if not multi.any():
        return port, a, b, eff, flag
    # Each connector's place (slot) within its port.
    by_port = np.argsort(ports, kind="stable")
    slot = np.empty(len(ports), dtype=np.int64)
    slot[by_port] = np.arange(len(ports)) - (np.cumsum(size) - size)[ports[by_port]]
    m = np.flatnonzero(multi)
    key = _RANK[eff[m]] * N_FLAGS + (N_FLAGS - 1 - flag[m])
    # A piece sets its connector's slot at its start and empties it at its end; at equal
    # times ends go first, so that a connector's next piece takes over.
    ev_port = np.concatenate([port[m], port[m]])
    ev_at = np.concatenate([a[m], b[m]])
    ev_slot = np.concatenate([slot[conn[m]], slot[conn[m]]])
    ev_key = np.concatenate([key, np.full(len(m), -1, dtype=np.int64)])
    ev_start = np.concatenate([np.ones(len(m), dtype=np.int8), np.zeros(len(m), dtype=np.int8)])
    lo = int(ev_at.min())
    span = 2 * (int(ev_at.max()) - lo + 1)
    if n_ports * span < 2**62:  # one integer key sorts much faster than three
        order = np.argsort(ev_port * span + (ev_at - lo) * 2 + ev_start, kind="stable")
    else:
        order = np.lexsort((ev_start, ev_at, ev_port))
    ev_port, ev_at, ev_slot, ev_key = ev_port[order], ev_at[order], ev_slot[order], ev_key[order]
    index = np.arange(len(ev_at))
    new_port = np.ones(len(ev_at), dtype=bool)
    new_port[1:] = ev_port[1:] != ev_port[:-1]
    port_first = np.maximum.accumulate(np.where(new_port, index, 0))
    best = np.full(len(ev_at), -1, dtype=np.int64)
    for j in range(int(size.max())):
        last = np.maximum.accumulate(np.where(ev_slot == j, index, -1))
        held = np.where(last >= port_first, ev_key[np.maximum(last, 0)], -1)
        best = np.maximum(best, held)
    piece = np.flatnonzero(~new_port[1:] & (ev_at[1:] > ev_at[:-1]) & (best[:-1] >= 0))
    key = best[piece]
    single = ~multi
    return (
        np.concatenate([port[single], ev_port[piece]]),
        np.concatenate([a[single], ev_at[piece]]),
        np.concatenate([b[single], ev_at[piece + 1]]),
        np.concatenate([eff[single], _FROM_RANK[key // N_FLAGS]]),
        np.concatenate([flag[single], N_FLAGS - 1 - key % N_FLAGS]),
    )


_OUTAGE_CODES = list(NEVI_OUTAGE_CODES)
# Below its minimum power a port is still working in the UK's sense (its status is).
_UK_CODES = {
    c: [CODE[s] for s in STATUSES if UK_CLASS[s] is c] + ([LIMITED] if c is UkClass.UP else [])
    for c in UkClass
}


@dataclass(frozen=True)
class Nevi:
    """23 CFR 680.116(b): uptime = (T − (T_outage − T_excluded)) / T × 100. Seconds."""

    total: F64
    outage: F64
    excluded: F64

    @property
    def uptime(self) -> F64:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(
                self.total > 0,
                (self.total - (self.outage - self.excluded)) / self.total * 100,
                np.nan,
            )


def nevi(seconds: F64) -> Nevi:
    """NEVI figures from `status_seconds` output (over its last two axes)."""
    outage = seconds[..., _OUTAGE_CODES, :]
    return Nevi(
        total=seconds.sum(axis=(-1, -2)),
        outage=outage.sum(axis=(-1, -2)),
        excluded=outage[..., (EXCLUDED, CLOSED)].sum(axis=(-1, -2)),
    )


@dataclass(frozen=True)
class Uk:
    """PCPR 2023 reg. 7: reliable share of the time; closed hours are not measured (7(5))
    and NEVI-style exclusions do not apply. Seconds.

    Reg. 7(3): a rapid charge point "is considered to be reliable … where it is either (a)
    working … or (b) ineligible for measurement, indicated by an EVSE object status of
    unknown or blocked". So by default ineligible time counts as reliable time;
    `ineligible_reliable=False` leaves it out of the measure instead (the other reading)."""

    up: F64  # working: AVAILABLE, CHARGING, RESERVED
    down: F64  # not working: INOPERATIVE, OUTOFORDER
    ineligible: F64  # UNKNOWN, BLOCKED
    ineligible_reliable: bool = True

    @property
    def reliable(self) -> F64:
        return self.up + self.ineligible if self.ineligible_reliable else self.up

    @property
    def reliability(self) -> F64:
        measured = self.reliable + self.down
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(measured > 0, self.reliable / measured * 100, np.nan)


def uk(seconds: F64, ineligible_reliable: bool = True) -> Uk:
    open_hours = seconds[..., (COUNTED, EXCLUDED)]
    return Uk(
        up=open_hours[..., _UK_CODES[UkClass.UP], :].sum(axis=(-1, -2)),
        down=open_hours[..., _UK_CODES[UkClass.DOWN], :].sum(axis=(-1, -2)),
        ineligible=open_hours[..., _UK_CODES[UkClass.INELIGIBLE], :].sum(axis=(-1, -2)),
        ineligible_reliable=ineligible_reliable,
    )


def status_breakdown(seconds: F64) -> dict[str, Any]:
    """Seconds per counted status (all flags), keyed by `COUNTED_STATUSES` name."""
    per_status = seconds.sum(axis=-1)
    return {name: per_status[..., code] for code, name in enumerate(COUNTED_STATUSES)}


def repair_seconds(reports: Reports, start: int, end: int) -> tuple[I64, F64]:
    """Time to repair: for each fault (a run of `faulted` reports) that ended with a usable
    status inside [start, end), the connector and the seconds from the fault's first report
    to the usable one. Reports in between that are neither (offline, out of service) do not
    end the fault."""
    faulted_code = CODE[ConnectorStatus.FAULTED]
    usable_codes = [CODE[s] for s in STATUSES if s.usable]
    f = reports.status_code == faulted_code
    u = np.isin(reports.status_code, usable_codes)
    keep = (f | u) & (reports.status_at < end)
    conn, at, f = reports.status_conn[keep], reports.status_at[keep], f[keep]
    order = np.lexsort((at, conn))
    conn, at, f = conn[order], at[order], f[order]
    if len(at) < 2:
        return _empty_i64(), np.zeros(0)
    same_prev = np.zeros(len(at), dtype=bool)
    same_prev[1:] = conn[1:] == conn[:-1]
    prev_f = np.zeros(len(at), dtype=bool)
    prev_f[1:] = f[:-1]
    run_start = f & ~(same_prev & prev_f)
    index = np.arange(len(at))
    start_of_run = np.maximum.accumulate(np.where(run_start, index, 0))
    repaired = ~f & same_prev & prev_f & (at >= start) & (at < end)
    first_fault = start_of_run[np.flatnonzero(repaired) - 1]
    return conn[repaired], (at[repaired] - at[first_fault]) / 1e6
