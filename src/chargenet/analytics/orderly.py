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
from dataclasses import dataclass, field, replace
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
# The greedy plan leaves to cheaper slots only what this share of their time at full power
# could take (the rest of that time others will want).
DEFER_SHARE = 0.3
# What a kWh taken from a vehicle and given back later costs beyond the price spread:
# battery wear and the round trip's losses (a discharge pays only where the spread is
# wider than this).
DISCHARGE_WEAR = 0.2
# The LP plans slots this far ahead with the same price and limits as one, up to
# COARSE_MAX_S long (the plan is renewed every few minutes).
COARSE_AFTER_S = 4 * 3600.0
COARSE_MAX_S = 4 * 3600.0


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
    # Vehicle-to-grid, where charger and vehicle can both discharge: the most it may give
    # (W), and the energy above its minimum state of energy it may give in all (Wh).
    discharge_w: float = 0.0
    dischargeable_wh: float = 0.0


@dataclass(frozen=True, slots=True)
class Plan:
    """Watts per session and slot (row order of the needs), and how it was found."""

    session_ids: tuple[str, ...]
    power_w: np.ndarray  # shape (sessions, slots)
    solver: str  # "lp", "greedy", or "greedy+lp" (some trees of sites each)
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


@dataclass(frozen=True, slots=True)
class _EntryArrays:
    sess: np.ndarray  # the session of each entry
    key: np.ndarray  # node position × 3 + phase
    share: np.ndarray  # of the session's power on that node's phase
    depth: np.ndarray  # of the node, the top being 1
    top: np.ndarray  # per session: the position of its top node


def _entry_arrays(problem: Problem) -> _EntryArrays:
    """One entry per session, node above it (its own included) and phase of that node
    it draws on, as arrays (a three-phase session puts a third on each phase of a
    three-phase node; a one-phase session all on its phase; a one-phase node has one)."""
    nodes = problem.nodes
    pos = {nd.node_id: k for k, nd in enumerate(nodes)}
    parent = np.array([pos[nd.parent] if nd.parent else -1 for nd in nodes], dtype=np.int64)
    node_phases = np.array([nd.phases for nd in nodes], dtype=np.int64)
    leaf = np.array([pos[x.node] for x in problem.needs], dtype=np.int64)
    three = np.array([x.phases == 3 for x in problem.needs], dtype=bool)
    phase = np.array([x.phase % 3 for x in problem.needs], dtype=np.int64)
    chain = [leaf]
    while len(chain) <= len(nodes):  # a cycle of parents stops at the number of nodes
        up = np.where(chain[-1] >= 0, parent[np.maximum(chain[-1], 0)], -1)
        if (up < 0).all():
            break
        chain.append(up)
    levels = np.vstack(chain)  # depth from the leaf; -1 past the top
    depth_of = (levels >= 0).sum(axis=0)
    top = levels[depth_of - 1, np.arange(leaf.size)]
    sess_l, key_l, share_l, depth_l = [], [], [], []
    for d in range(levels.shape[0]):
        on = np.flatnonzero(levels[d] >= 0)
        node = levels[d][on]
        spread = three[on] & (node_phases[node] == 3)
        single = np.where(node_phases[node] == 1, 0, phase[on])
        for ph in range(3):
            mine = spread | ((single == ph) & ~spread)
            sess_l.append(on[mine])
            key_l.append(node[mine] * 3 + ph)
            share_l.append(np.where(spread[mine], 1 / 3, 1.0))
            depth_l.append(depth_of[on[mine]] - d)
    return _EntryArrays(
        np.concatenate(sess_l),
        np.concatenate(key_l),
        np.concatenate(share_l),
        np.concatenate(depth_l),
        top,
    )


# --- the linear programme ----------------------------------------------------------------


def _highs() -> highspy.Highs:
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    # HiGHS keeps one thread pool per process, made by the first solve: an instance asking
    # for another number of threads later fails ("Not Set"). Planning's siting asks for one
    # thread, so every HiGHS in the process does (analytics/planning/setcover.py).
    h.setOptionValue("threads", 1)
    return h


def _coarse_groups(problem: Problem) -> list[tuple[int, int]]:
    """Slots [start, end) planned as one: from COARSE_AFTER_S on, neighbours with the same
    price and the same limit at every node, up to COARSE_MAX_S together. The plan is sent
    again within minutes, so hours ahead need not be as fine as the next one; merging
    only equal slots keeps what the LP weighs (price, limits) as it was."""
    durations = np.asarray(problem.slots_s, dtype=float)
    begins = np.concatenate(([0.0], np.cumsum(durations)[:-1]))
    limits = np.array([[nd.limit_at(t) for nd in problem.nodes] for t in range(len(durations))])
    groups: list[tuple[int, int]] = []
    for t in range(len(durations)):
        if groups and begins[t] >= COARSE_AFTER_S:
            a = groups[-1][0]
            same = problem.prices[t] == problem.prices[a] and bool((limits[t] == limits[a]).all())
            if same and begins[a] >= COARSE_AFTER_S and durations[a : t + 1].sum() <= COARSE_MAX_S:
                groups[-1] = (a, t + 1)
                continue
        groups.append((t, t + 1))
    return groups


def _expand(problem: Problem, groups: list[tuple[int, int]], coarse: np.ndarray) -> np.ndarray:
    """Watts per fine slot from a plan over merged slots: each merged slot's energy spread
    evenly over the part of it before the session leaves."""
    durations = np.asarray(problem.slots_s, dtype=float)
    begins = np.concatenate(([0.0], np.cumsum(durations)[:-1]))
    departure = np.array([max(0.0, x.departure_s) for x in problem.needs])
    out = np.zeros((coarse.shape[0], len(durations)))
    for g, (a, b) in enumerate(groups):
        if b - a == 1:
            out[:, a] = coarse[:, g]
            continue
        span = durations[a:b]
        inside = np.clip(departure[:, None] - begins[None, a:b], 0.0, span[None, :])
        total = inside.sum(axis=1, keepdims=True)
        energy = coarse[:, g : g + 1] * span.sum()
        out[:, a:b] = np.where(total > 0, energy / np.maximum(total, 1e-9), 0.0) * (
            inside / span[None, :]
        )
    return out


def plan_lp(
    problem: Problem, time_limit_s: float = 5.0, *, coarsen: bool = True, fallback: bool = False
) -> Plan | None:
    """The HiGHS solution, or None when HiGHS found none within the time limit. Sites
    under different top nodes share nothing: each such tree is its own, smaller LP; with
    `fallback`, the trees the time limit left unsolved are planned greedily (solver
    "lp+greedy") instead of giving up on all. Slots hours ahead with the same price and
    limits are planned as one (`_coarse_groups`)."""
    started = _time.perf_counter()
    groups = _coarse_groups(problem) if coarsen else []
    if not groups or len(groups) == len(problem.slots_s):
        return _plan_lp_trees(problem, time_limit_s, fallback)
    coarse = Problem(
        problem.needs,
        [replace(nd, limits_w=tuple(nd.limit_at(a) for a, _ in groups)) for nd in problem.nodes],
        [float(sum(problem.slots_s[a:b])) for a, b in groups],
        [problem.prices[a] for a, _ in groups],
    )
    found = _plan_lp_trees(coarse, time_limit_s, fallback)
    if found is None:
        return None
    power = _expand(problem, groups, found.power_w)
    return Plan(found.session_ids, power, found.solver, _time.perf_counter() - started)


def _plan_lp_trees(problem: Problem, time_limit_s: float, fallback: bool) -> Plan | None:
    started = _time.perf_counter()
    chains = _ancestors(problem.nodes)
    trees: dict[str, list[int]] = {}
    for i, need in enumerate(problem.needs):
        trees.setdefault(chains[need.node][-1].node_id, []).append(i)
    if len(trees) <= 1 and not fallback:
        return _plan_lp_tree(problem, time_limit_s)
    power = np.zeros((len(problem.needs), len(problem.slots_s)))
    solvers = set()
    for top, members in trees.items():
        sub = Problem(
            [problem.needs[i] for i in members],
            [nd for nd in problem.nodes if chains[nd.node_id][-1].node_id == top],
            problem.slots_s,
            problem.prices,
        )
        left = time_limit_s - (_time.perf_counter() - started)
        part = _plan_lp_tree(sub, left) if left > 0 else None
        if part is None:
            if not fallback:
                return None
            part = plan_greedy(sub)
        solvers.add(part.solver)
        power[members] = part.power_w
    return Plan(
        tuple(n.session_id for n in problem.needs),
        power,
        "+".join(sorted(solvers)) or "lp",
        _time.perf_counter() - started,
    )


def _plan_lp_tree(problem: Problem, time_limit_s: float) -> Plan | None:
    started = _time.perf_counter()
    needs, nodes = problem.needs, problem.nodes
    n_slots, n = len(problem.slots_s), len(needs)
    if not needs:
        return Plan((), np.zeros((0, n_slots)), "lp", 0.0)
    slot_s = np.asarray(problem.slots_s, dtype=float)
    dur_h = slot_s / 3600.0
    price = np.asarray(problem.prices, dtype=float)
    horizon = problem.horizon()
    entries = _entry_arrays(problem)
    tops = np.array([k for k, nd in enumerate(nodes) if nd.parent is None], dtype=np.int64)
    top_pos = np.full(len(nodes), -1, dtype=np.int64)
    top_pos[tops] = np.arange(tops.size)
    total_h = float(dur_h.sum())

    # Columns: x[i,t] (kW) for t < horizon_i; then d[i,t] (kW discharged) for the sessions
    # that may discharge; then the need's quarters e[i,q] (kWh); then peak[top] (kW).
    counts = horizon.astype(np.int64)
    n_x = int(counts.sum())
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    sess = np.repeat(np.arange(n), counts)
    slot = np.arange(n_x) - np.repeat(first, counts)
    discharge_kw = np.array([max(0.0, x.discharge_w) for x in needs]) / 1000.0
    v2g = np.flatnonzero(discharge_kw > 0)
    d_of = np.isin(sess, v2g)
    d_cols = np.flatnonzero(d_of)  # the x columns that have a discharge twin
    n_d = d_cols.size
    k = len(REWARDS)
    e0 = n_x + n_d
    n_e = k * n
    n_cols = e0 + n_e + tops.size

    cost = np.zeros(n_cols)
    # Minimise: price·energy + tiny lateness − rewards + peak weight; discharging earns
    # the slot's price less the battery's wear.
    cost[:n_x] = (price[slot] + EARLY_BONUS * slot) * dur_h[slot]
    cost[n_x:e0] = (DISCHARGE_WEAR - price[slot[d_cols]]) * dur_h[slot[d_cols]]
    for q, reward in enumerate(REWARDS):
        cost[e0 + q : e0 + n_e : k] = -reward
    cost[e0 + n_e :] = PEAK_WEIGHT * total_h

    upper = np.empty(n_cols)
    max_kw = np.array([x.max_w for x in needs]) / 1000.0
    need_kwh = np.array([max(0.0, x.energy_wh) for x in needs]) / 1000.0
    # The slot in which a session leaves counts only for the part before it leaves.
    starts = np.concatenate(([0.0], np.cumsum(slot_s)))
    departure = np.array([max(0.0, x.departure_s) for x in needs])
    share = np.clip((departure[sess] - starts[slot]) / slot_s[slot], 0, 1)
    upper[:n_x] = max_kw[sess] * share
    upper[n_x:e0] = discharge_kw[sess[d_cols]] * share[d_cols]
    for q in range(k):
        upper[e0 + q : e0 + n_e : k] = need_kwh / k
    upper[e0 + n_e :] = highspy.kHighsInf
    lower = np.zeros(n_cols)

    # Net power of each session and slot: +x, and −d where it may discharge.
    net_cols = np.concatenate((np.arange(n_x), n_x + np.arange(n_d)))
    net_x = np.concatenate((np.arange(n_x), d_cols))  # the x column each belongs to
    net_sign = np.concatenate((np.ones(n_x), -np.ones(n_d)))

    rows_i: list[np.ndarray] = []
    cols_i: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row_lo: list[np.ndarray] = []
    row_hi: list[np.ndarray] = []

    # Energy: Σ_t (x − d)·dur − Σ_q e_q = 0
    ids = np.arange(n)
    rows_i += [sess[net_x]] + [ids] * k
    cols_i += [net_cols] + [e0 + k * ids + q for q in range(k)]
    vals += [net_sign * dur_h[slot[net_x]]] + [-np.ones(n)] * k
    row_lo.append(np.zeros(n))
    row_hi.append(np.zeros(n))
    n_rows = n

    # Limits: per node, phase and slot (row n_rows + (node·3 + phase)·slots + t), in both
    # directions where sessions discharge.
    es, ek, esh = entries.sess, entries.key, entries.share
    lengths = counts[es]
    owner = np.repeat(np.arange(es.size), lengths)
    t_of = _ranges(np.zeros(es.size, dtype=np.int64), lengths)
    x_of = first[es][owner] + t_of
    net_x_of = np.concatenate((x_of, x_of[d_of[x_of]]))
    net_owner = np.concatenate((owner, owner[d_of[x_of]]))
    d_index = np.full(n_x, -1, dtype=np.int64)
    d_index[d_cols] = n_x + np.arange(n_d)
    net_col_of = np.concatenate((x_of, d_index[x_of[d_of[x_of]]]))
    net_sign_of = np.concatenate((np.ones(x_of.size), -np.ones(net_x_of.size - x_of.size)))
    rows_i.append(n_rows + ek[net_owner] * n_slots + slot[net_x_of])
    cols_i.append(net_col_of)
    vals.append(esh[net_owner] * net_sign_of)
    limit = np.array([[_per_phase_limit(nd, t) for t in range(n_slots)] for nd in nodes]) / 1000
    per_key = np.repeat(limit, 3, axis=0).ravel()  # (node·3 + phase)·slots + t
    row_hi.append(per_key)
    row_lo.append(-per_key if n_d else np.full(per_key.size, -highspy.kHighsInf))
    n_rows += per_key.size

    # Each top node's net load ≤ its peak variable.
    top_of = entries.top[np.arange(n)]
    rows_i += [n_rows + top_pos[top_of[sess[net_x]]] * n_slots + slot[net_x]]
    cols_i += [net_cols]
    vals += [net_sign]
    rows_i.append(n_rows + np.arange(tops.size * n_slots))
    cols_i.append(np.repeat(e0 + n_e + np.arange(tops.size), n_slots))
    vals.append(-np.ones(tops.size * n_slots))
    row_lo.append(np.full(tops.size * n_slots, -highspy.kHighsInf))
    row_hi.append(np.zeros(tops.size * n_slots))
    n_rows += tops.size * n_slots

    # The vehicle's minimum state of energy: what it has received since now never falls
    # below what it may give (Σ_{s≤t} (x − d)·dur ≥ −dischargeable, for every slot t).
    if n_d:
        floor_kwh = np.array([max(0.0, x.dischargeable_wh) for x in needs]) / 1000.0
        pairs = np.flatnonzero(d_of[net_x])  # net columns of discharging sessions
        reach = counts[sess[net_x[pairs]]] - slot[net_x[pairs]]  # rows t ≥ its slot
        base = first[sess[net_x[pairs]]] + slot[net_x[pairs]]
        later = _ranges(base, reach)  # the x index of row t, for each later slot
        at = np.repeat(pairs, reach)
        row_of = np.cumsum(d_of) - 1  # a discharging x column's position among d_cols
        rows_i.append(n_rows + row_of[later])
        cols_i.append(net_cols[at])
        vals.append(net_sign[at] * dur_h[slot[net_x[at]]])
        row_lo.append(-floor_kwh[sess[d_cols]])
        row_hi.append(np.full(n_d, highspy.kHighsInf))
        n_rows += n_d

    # Rows nobody draws on (a phase without sessions) are left out: presolve is off.
    all_rows = np.concatenate(rows_i)
    taken = np.zeros(n_rows, dtype=bool)
    taken[all_rows] = True
    used = np.flatnonzero(taken)
    row_index = (np.cumsum(taken) - 1)[all_rows]
    matrix = sparse.csc_matrix(
        (np.concatenate(vals), (row_index, np.concatenate(cols_i))),
        shape=(used.size, n_cols),
    )
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = used.size
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = np.concatenate(row_lo)[used]
    lp.row_upper_ = np.concatenate(row_hi)[used]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    h = _highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    # The model is lean already: HiGHS's presolve took a fifth of the time and removed
    # little (benchmarks/orderly, 10,000 sessions).
    h.setOptionValue("presolve", "off")
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    col = np.asarray(h.getSolution().col_value)
    x = np.maximum(col[:n_x], 0.0)
    x[d_cols] -= np.maximum(col[n_x:e0], 0.0)
    power = np.zeros((n, n_slots))
    power[sess, slot] = x * 1000.0
    _respect_minimum(problem, power)
    return Plan(tuple(x.session_id for x in needs), power, "lp", _time.perf_counter() - started)


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
        self.problem = problem
        arrays = _entry_arrays(problem)
        self.sess, self.key, self.share = arrays.sess, arrays.key, arrays.share
        self.depth = arrays.depth
        self.levels = [self.depth == d for d in sorted(set(self.depth.tolist()), reverse=True)]
        self.n_keys = 3 * len(problem.nodes)

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
    min_w = np.array([x.min_w for x in needs])
    wanted = np.array([x.energy_wh > 0 for x in needs], dtype=bool)
    now = power[:, 0]
    low = np.flatnonzero((min_w > 0) & (now > 1e-6) & (now < min_w) & wanted)
    if low.size == 0:
        return
    e = _entry_arrays(problem)
    head = np.repeat([_per_phase_limit(nd, 0) for nd in nodes], 3)
    np.subtract.at(head, e.key, now[e.sess] * e.share)
    order = np.argsort(e.sess, kind="stable")
    bounds = np.searchsorted(e.sess[order], np.arange(len(needs) + 1))
    for i in low[np.argsort(-now[low], kind="stable")]:
        mine = order[bounds[i] : bounds[i + 1]]
        keys, shares = e.key[mine], e.share[mine]
        extra = min_w[i] - now[i]
        if (head[keys] >= extra * shares - 1e-6).all():
            head[keys] -= extra * shares
            now[i] = min_w[i]
        else:
            head[keys] += now[i] * shares
            now[i] = 0.0


# Above this many power variables (sessions × slots before they leave) HiGHS takes more
# than a second on a 2-core machine (benchmarks/orderly: 10,000 sessions have about
# 100,000): the greedy plan is used at once.
LP_MAX_COLUMNS = 150_000


def plan(problem: Problem, lp_budget_s: float = 1.0) -> Plan:
    """The LP's plan when the problem is small enough, each tree of sites that HiGHS has
    not solved within the budget planned greedily; the greedy plan for problems too large
    for the LP."""
    if problem.needs and int(problem.horizon().sum()) > LP_MAX_COLUMNS:
        return plan_greedy(problem)
    result = plan_lp(problem, time_limit_s=lp_budget_s, fallback=True)
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
