"""Orderly charging: how many watts each active session may draw, now and over the next
hours, under the limits of the electrical system above it and the time-of-use price.

The model (docs/orderly.md):

- *Nodes* are the electrical system: a station's grid connection, a shared feeder or
  transformer above several stations. Each has a limit in W (per slot when it changes:
  PV adds to it, a demand-response event lowers it) and 1 or 3 phases; a three-phase
  node's limit holds per phase, a third each.
- *Needs* are the active sessions: the leaf node they hang under, the phase(s) they draw
  on, their maximum and minimum power, the energy still wanted and the departure (stated
  by the vehicle through ISO 15118 / OCPP 2.0.1 NotifyEVChargingNeeds or by the driver;
  otherwise estimated from the site's history by the caller).
- *Slots* are the horizon: durations in seconds, the first being "now" (what is sent to
  chargers), with a price per kWh each.

Two solvers give the same kind of answer: `plan_lp` (a linear programme solved by HiGHS:
deliver as much energy as possible, each quarter of every session's need before the next
quarter of anyone's, then cheapest slots, then a flat peak) and `plan_greedy` (least
laxity first, deferring what cheaper slots before departure can still take). `plan` runs
the LP within a time budget and falls back to the greedy one.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import highspy
import numpy as np
from scipy import sparse

SQRT3 = math.sqrt(3)

# Objective weights per kWh. Energy dominates price (a session's energy is worth more than
# any price gap); each quarter of a need is worth more than the next quarter of anyone's
# (fair shares when power is short: a late arrival is not starved by early ones).
REWARDS = (100.0, 85.0, 72.0, 60.0)
EARLY_BONUS = 0.05  # per kWh and slot: sooner at equal price (less left to the last hour)
PEAK_WEIGHT = 0.1  # per kW of the highest slot load at each top node, per hour of horizon
# Later slots are planned against this share of their limit: sessions that have not
# arrived yet will want some of it (an online plan that counts on all of it defers too
# much and leaves later arrivals short).
FUTURE_SHARE = 0.85
# The greedy plan leaves to cheaper slots only what this share of their time at full power
# could take (the rest of that time others will want).
DEFER_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class Node:
    node_id: str
    limit_w: float
    phases: int = 3
    parent: str | None = None
    limits_w: tuple[float, ...] | None = None  # per slot, overrides limit_w where given

    def limit_at(self, slot: int) -> float:
        if self.limits_w is not None and slot < len(self.limits_w):
            return self.limits_w[slot]
        return self.limit_w


@dataclass(frozen=True, slots=True)
class Need:
    session_id: str
    node: str  # the leaf node it draws from
    max_w: float
    energy_wh: float  # still wanted
    departure_s: float  # from now
    min_w: float = 0.0  # below this a charger pauses (IEC 61851-1: 6 A); 0 or ≥ min_w
    phases: int = 1  # 1 or 3 conductors
    phase: int = 0  # for one-phase sessions: which phase of the node (0, 1, 2)
    arrived_s: float = 0.0  # seconds ago


@dataclass(frozen=True, slots=True)
class Plan:
    """Watts per session and slot (row order of the needs), and how it was found."""

    session_ids: tuple[str, ...]
    power_w: np.ndarray  # shape (sessions, slots)
    solver: str  # "lp" or "greedy"
    seconds: float

    def now(self) -> dict[str, float]:
        """What each session may draw in the first slot."""
        if not self.session_ids:
            return {}
        return dict(zip(self.session_ids, self.power_w[:, 0].tolist(), strict=True))


@dataclass(frozen=True)
class Problem:
    needs: Sequence[Need]
    nodes: Sequence[Node]
    slots_s: Sequence[float]  # durations, first = now
    prices: Sequence[float]  # per kWh, one per slot
    _index: dict[str, int] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.slots_s) != len(self.prices):
            raise ValueError("one price per slot")
        known = {n.node_id for n in self.nodes}
        for n in self.nodes:
            if n.parent is not None and n.parent not in known:
                raise ValueError(f"node {n.node_id}: unknown parent {n.parent}")
        for need in self.needs:
            if need.node not in known:
                raise ValueError(f"session {need.session_id}: unknown node {need.node}")

    def horizon(self) -> np.ndarray:
        """Number of slots each session can use (it leaves during the last one)."""
        ends = np.cumsum(np.asarray(self.slots_s, dtype=float))
        dep = np.array([max(0.0, n.departure_s) for n in self.needs], dtype=float)
        # A session leaving within a slot may draw during it (the profile ends at departure).
        return np.minimum(np.searchsorted(ends, dep, side="left") + 1, len(ends))


def slots(step_s: float, fine: int, horizon_s: float, coarse_s: float = 3600.0) -> list[float]:
    """Slot durations: `fine` slots of `step_s`, then `coarse_s` ones up to the horizon."""
    out = [step_s] * fine
    total = step_s * fine
    while total < horizon_s:
        out.append(min(coarse_s, horizon_s - total))
        total += out[-1]
    return out


def _ancestors(nodes: Sequence[Node]) -> dict[str, list[Node]]:
    by_id = {n.node_id: n for n in nodes}
    out: dict[str, list[Node]] = {}
    for n in nodes:
        chain: list[Node] = []
        seen: set[str] = set()
        cur: Node | None = n
        while cur is not None and cur.node_id not in seen:
            seen.add(cur.node_id)
            chain.append(cur)
            cur = by_id.get(cur.parent) if cur.parent else None
        out[n.node_id] = chain
    return out


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices start..start+length-1 of every (start, length), concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return offsets + np.arange(total)


def _phase_rows(need: Need, node: Node) -> list[tuple[int, float]]:
    """(phase of the node, share of the session's power on it)."""
    if node.phases == 1:
        return [(0, 1.0)]
    if need.phases == 3:
        return [(0, 1 / 3), (1, 1 / 3), (2, 1 / 3)]
    return [(need.phase % 3, 1.0)]


def _per_phase_limit(node: Node, slot: int) -> float:
    return max(0.0, node.limit_at(slot)) / node.phases


# --- the linear programme ----------------------------------------------------------------


def _highs() -> highspy.Highs:
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    # HiGHS keeps one thread pool per process, made by the first solve: an instance asking
    # for another number of threads later fails ("Not Set"). Planning's siting asks for one
    # thread, so every HiGHS in the process does (analytics/planning/setcover.py).
    h.setOptionValue("threads", 1)
    return h


def plan_lp(problem: Problem, time_limit_s: float = 5.0) -> Plan | None:
    """The HiGHS solution, or None when HiGHS found none within the time limit. Sites
    under different top nodes share nothing: each such tree is its own, smaller LP."""
    started = _time.perf_counter()
    chains = _ancestors(problem.nodes)
    trees: dict[str, list[int]] = {}
    for i, need in enumerate(problem.needs):
        trees.setdefault(chains[need.node][-1].node_id, []).append(i)
    if len(trees) <= 1:
        return _plan_lp_tree(problem, time_limit_s)
    power = np.zeros((len(problem.needs), len(problem.slots_s)))
    for top, members in trees.items():
        left = time_limit_s - (_time.perf_counter() - started)
        if left <= 0:
            return None
        sub = Problem(
            [problem.needs[i] for i in members],
            [nd for nd in problem.nodes if chains[nd.node_id][-1].node_id == top],
            problem.slots_s,
            problem.prices,
        )
        part = _plan_lp_tree(sub, left)
        if part is None:
            return None
        power[members] = part.power_w
    return Plan(
        tuple(n.session_id for n in problem.needs),
        power,
        "lp",
        _time.perf_counter() - started,
    )


def _plan_lp_tree(problem: Problem, time_limit_s: float) -> Plan | None:
    started = _time.perf_counter()
    needs, nodes = problem.needs, problem.nodes
    n_slots = len(problem.slots_s)
    if not needs:
        return Plan((), np.zeros((0, n_slots)), "lp", 0.0)
    dur_h = np.asarray(problem.slots_s, dtype=float) / 3600.0
    price = np.asarray(problem.prices, dtype=float)
    horizon = problem.horizon()
    chains = _ancestors(nodes)
    tops = [n for n in nodes if n.parent is None]
    top_pos = {n.node_id: k for k, n in enumerate(tops)}
    total_h = float(dur_h.sum())

    # Columns: x[i,t] (kW) for t < horizon_i, then the need's quarters e[i,q] (kWh), then
    # peak[top] (kW).
    counts = horizon.astype(np.int64)
    n_x = int(counts.sum())
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    sess = np.repeat(np.arange(len(needs)), counts)
    slot = np.arange(n_x) - np.repeat(first, counts)
    k = len(REWARDS)
    n_e = k * len(needs)
    n_cols = n_x + n_e + len(tops)

    cost = np.zeros(n_cols)
    # Minimise: price·energy + tiny lateness − rewards + peak weight.
    cost[:n_x] = (price[slot] + EARLY_BONUS * slot) * dur_h[slot]
    for q, reward in enumerate(REWARDS):
        cost[n_x + q : n_x + n_e : k] = -reward
    cost[n_x + n_e :] = PEAK_WEIGHT * total_h

    upper = np.empty(n_cols)
    max_kw = np.array([n.max_w for n in needs]) / 1000.0
    need_kwh = np.array([max(0.0, n.energy_wh) for n in needs]) / 1000.0
    # The slot in which a session leaves counts only for the part before it leaves.
    starts = np.concatenate(([0.0], np.cumsum(np.asarray(problem.slots_s, dtype=float))))
    departure = np.array([max(0.0, n.departure_s) for n in needs])
    share = np.clip(
        (departure[sess] - starts[slot]) / np.asarray(problem.slots_s, dtype=float)[slot], 0, 1
    )
    upper[:n_x] = max_kw[sess] * share
    for q in range(k):
        upper[n_x + q : n_x + n_e : k] = need_kwh / k
    upper[n_x + n_e :] = highspy.kHighsInf
    lower = np.zeros(n_cols)

    rows_i: list[np.ndarray] = []
    cols_i: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row_lo: list[np.ndarray] = []
    row_hi: list[np.ndarray] = []
    n_rows = 0

    # Energy: Σ_t x·dur − Σ_q e_q = 0
    ids = np.arange(len(needs))
    rows_i += [sess + n_rows] + [ids + n_rows] * k
    cols_i += [np.arange(n_x)] + [n_x + k * ids + q for q in range(k)]
    vals += [dur_h[slot]] + [-np.ones(len(needs))] * k
    row_lo.append(np.zeros(len(needs)))
    row_hi.append(np.zeros(len(needs)))
    n_rows += len(needs)

    # Limits: per node, phase and slot; and each top node's load ≤ its peak variable.
    members: dict[str, list[int]] = {}
    for i, need in enumerate(needs):
        for a in chains[need.node]:
            members.setdefault(a.node_id, []).append(i)
    for node in nodes:
        inside = members.get(node.node_id)
        if not inside:
            continue
        phase_of = np.zeros(len(inside), dtype=np.int64)
        share_of = np.ones(len(inside))
        three = np.zeros(len(inside), dtype=bool)
        for j, i in enumerate(inside):
            rows = _phase_rows(needs[i], node)
            if len(rows) == 3:
                three[j] = True
                share_of[j] = 1 / 3
            else:
                phase_of[j] = rows[0][0]
        idx = np.array(inside)
        xs = _ranges(first[idx], counts[idx])
        owner = np.repeat(np.arange(len(inside)), counts[idx])
        for phase in range(node.phases):
            on_j = three | (phase_of == phase)
            on = xs[on_j[owner]]
            if on.size == 0:
                continue
            rows_i.append(n_rows + slot[on])
            cols_i.append(on)
            vals.append(share_of[owner[on_j[owner]]])
            row_lo.append(np.full(n_slots, -highspy.kHighsInf))
            row_hi.append(np.array([_per_phase_limit(node, t) / 1000.0 for t in range(n_slots)]))
            n_rows += n_slots
        if node.node_id in top_pos:
            rows_i += [n_rows + slot[xs], n_rows + np.arange(n_slots)]
            cols_i += [xs, np.full(n_slots, n_x + n_e + top_pos[node.node_id])]
            vals += [np.ones(xs.size), -np.ones(n_slots)]
            row_lo.append(np.full(n_slots, -highspy.kHighsInf))
            row_hi.append(np.zeros(n_slots))
            n_rows += n_slots

    matrix = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows_i), np.concatenate(cols_i))),
        shape=(n_rows, n_cols),
    )
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = np.concatenate(row_lo)
    lp.row_upper_ = np.concatenate(row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    h = _highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x = np.asarray(h.getSolution().col_value)[:n_x]
    power = np.zeros((len(needs), n_slots))
    power[sess, slot] = np.maximum(x, 0.0) * 1000.0
    _respect_minimum(problem, power)
    return Plan(tuple(n.session_id for n in needs), power, "lp", _time.perf_counter() - started)


# --- the greedy fallback -----------------------------------------------------------------


def plan_greedy(problem: Problem) -> Plan:
    """Least laxity first, slot by slot. In each slot a session takes what it cannot
    leave to cheaper slots before its departure, then, where this slot is the cheapest it
    has left, its share for finishing evenly, then the rest of the cheapest slots; never
    above what the nodes and phases above it have left. Vectorised: in each pass, every
    node and phase admits the wants of its sessions in priority order up to its room,
    the leaves first, then the nodes above them."""
    started = _time.perf_counter()
    needs = problem.needs
    n, n_slots = len(needs), len(problem.slots_s)
    power = np.zeros((n, n_slots))
    if n == 0:
        return Plan((), power, "greedy", 0.0)
    dur_h = np.asarray(problem.slots_s, dtype=float) / 3600.0
    price = np.asarray(problem.prices, dtype=float)
    horizon = problem.horizon()
    remaining = np.array([max(0.0, x.energy_wh) for x in needs]) / 1000.0
    max_kw = np.array([x.max_w for x in needs]) / 1000.0
    arrived = np.array([x.arrived_s for x in needs])
    entries = _Entries(problem)
    cum_dur = np.concatenate(([0.0], np.cumsum(dur_h)))
    for t in range(n_slots):
        live = (horizon > t) & (remaining > 1e-9)
        if not live.any():
            continue
        head = entries.room(t)
        after = np.minimum(horizon, n_slots)
        left_h = np.maximum(cum_dur[after] - cum_dur[t + 1], 0.0)
        cheap = np.concatenate(([0.0], np.cumsum(dur_h * (price < price[t] - 1e-12))))
        cheaper_h = np.maximum(cheap[after] - cheap[t + 1], 0.0)
        laxity = left_h + dur_h[t] - remaining / np.maximum(max_kw, 1e-9)
        rank = np.empty(n, dtype=np.int64)
        rank[np.lexsort((-arrived, laxity))] = np.arange(n)
        cap = np.where(live, np.minimum(max_kw, remaining / dur_h[t]), 0.0)
        must = np.maximum(0.0, remaining - DEFER_SHARE * max_kw * cheaper_h) / dur_h[t]
        even = np.where(cheaper_h <= 0, remaining / (left_h + dur_h[t]), 0.0)
        full = np.where(cheaper_h <= 0, cap, 0.0)
        given = np.zeros(n)
        for target in (must, np.maximum(must, even), full):
            want = np.clip(np.minimum(target, cap) - given, 0.0, None)
            got = entries.admit(want, rank, head)
            given += got
        power[:, t] = given * 1000.0
        remaining = np.maximum(remaining - given * dur_h[t], 0.0)
    _respect_minimum(problem, power)
    return Plan(tuple(x.session_id for x in needs), power, "greedy", _time.perf_counter() - started)


class _Entries:
    """Each session's (node, phase, share) entries, by depth of node, for admitting wants
    in priority order against what each node and phase has left."""

    def __init__(self, problem: Problem) -> None:
        nodes = problem.nodes
        self.problem = problem
        chains = _ancestors(nodes)
        pos = {nd.node_id: k for k, nd in enumerate(nodes)}
        sess, key, share, depth = [], [], [], []
        for i, need in enumerate(problem.needs):
            chain = chains[need.node]
            for d, node in enumerate(chain):
                for ph, s in _phase_rows(need, node):
                    sess.append(i)
                    key.append(pos[node.node_id] * 3 + ph)
                    share.append(s)
                    depth.append(len(chain) - d)  # leaves deepest
        self.sess = np.array(sess, dtype=np.int64)
        self.key = np.array(key, dtype=np.int64)
        self.share = np.array(share)
        self.depth = np.array(depth, dtype=np.int64)
        self.levels = [self.depth == d for d in sorted(set(depth), reverse=True)]
        self.n_keys = 3 * len(nodes)

    def room(self, slot: int) -> np.ndarray:
        out = np.zeros(self.n_keys)
        for k, node in enumerate(self.problem.nodes):
            out[3 * k : 3 * k + 3] = _per_phase_limit(node, slot) / 1000.0
        return out

    def admit(self, want: np.ndarray, rank: np.ndarray, head: np.ndarray) -> np.ndarray:
        """What of `want` (kW per session) fits, in `rank` order; `head` is reduced."""
        give = want.copy()
        for level in self.levels:
            es, ek, sh = self.sess[level], self.key[level], self.share[level]
            order = np.lexsort((rank[es], ek))
            es, ek, sh = es[order], ek[order], sh[order]
            contrib = give[es] * sh
            cum = np.cumsum(contrib)
            starts = np.r_[True, ek[1:] != ek[:-1]]
            base = np.maximum.accumulate(np.where(starts, cum - contrib, 0.0))
            before = cum - contrib - base
            allowed = np.clip(head[ek] - before, 0.0, contrib) / sh
            cut = np.full(give.size, np.inf)
            np.minimum.at(cut, es, allowed)
            give = np.minimum(give, cut)
        np.subtract.at(head, self.key, give[self.sess] * self.share)
        return give


def _respect_minimum(problem: Problem, power: np.ndarray) -> None:
    """In the first slot (the one sent to chargers) a session draws 0 or at least its
    minimum: raised to it where every node above has room, else paused."""
    needs, nodes = problem.needs, problem.nodes
    chains = _ancestors(nodes)
    node_pos = {nd.node_id: k for k, nd in enumerate(nodes)}
    head = np.array([[_per_phase_limit(nd, 0)] * 3 for nd in nodes], dtype=float)
    shares = [
        [(node_pos[a.node_id], ph, s) for a in chains[x.node] for ph, s in _phase_rows(x, a)]
        for x in needs
    ]
    for i in range(len(needs)):
        for k, ph, s in shares[i]:
            head[k, ph] -= power[i, 0] * s
    low = [
        i
        for i, x in enumerate(needs)
        if x.min_w > 0 and 1e-6 < power[i, 0] < x.min_w and x.energy_wh > 0
    ]
    low.sort(key=lambda i: -power[i, 0])
    for i in low:
        extra = needs[i].min_w - power[i, 0]
        if all(head[k, ph] >= extra * s - 1e-6 for k, ph, s in shares[i]):
            for k, ph, s in shares[i]:
                head[k, ph] -= extra * s
            power[i, 0] = needs[i].min_w
        else:
            for k, ph, s in shares[i]:
                head[k, ph] += power[i, 0] * s
            power[i, 0] = 0.0


# Above this many power variables (sessions × slots before they leave) HiGHS takes more
# than a second on a 2-core machine (benchmarks/orderly): the greedy plan is used at once.
LP_MAX_COLUMNS = 60_000


def plan(problem: Problem, lp_budget_s: float = 1.0) -> Plan:
    """The LP's plan when the problem is small enough and HiGHS finds it within the
    budget, else the greedy one."""
    if problem.needs and int(problem.horizon().sum()) > LP_MAX_COLUMNS:
        return plan_greedy(problem)
    result = plan_lp(problem, time_limit_s=lp_budget_s)
    return result if result is not None else plan_greedy(problem)


def load_w(problem: Problem, power: np.ndarray, node_id: str, slot: int = 0) -> list[float]:
    """Load per phase of a node in a slot (W)."""
    chains = _ancestors(problem.nodes)
    out = [0.0, 0.0, 0.0]
    for i, need in enumerate(problem.needs):
        for a in chains[need.node]:
            if a.node_id == node_id:
                for ph, s in _phase_rows(need, a):
                    out[ph] += power[i, slot] * s
    return out


# --- figures for officials -----------------------------------------------------------------


def valley_energy_wh(
    start: datetime,
    end: datetime,
    energy_wh: float,
    is_valley: Callable[[datetime], bool],
    step: timedelta = timedelta(minutes=15),
) -> float:
    """The part of a session's energy charged in valley hours, the energy spread evenly
    over its time (sessions record their total, not when each kWh flowed)."""
    if energy_wh <= 0:
        return 0.0
    if end <= start:
        return float(energy_wh) if is_valley(start) else 0.0
    total = (end - start).total_seconds()
    inside, at = 0.0, start
    while at < end:
        nxt = min(end, at + step)
        if is_valley(at + (nxt - at) / 2):
            inside += (nxt - at).total_seconds()
        at = nxt
    return float(energy_wh) * inside / total
