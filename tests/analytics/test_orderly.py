"""The orderly-charging scheduler: limits, phases, minimum current, prices, fairness."""

from collections.abc import Callable

import numpy as np
import pytest

from chargenet.analytics.orderly import (
    Need,
    Node,
    Plan,
    Problem,
    load_w,
    plan_greedy,
    plan_lp,
    slots,
)

HOUR = 3600.0
Solver = Callable[[Problem], Plan | None]
SOLVERS = [pytest.param(plan_lp, id="lp"), pytest.param(plan_greedy, id="greedy")]


def _need(sid: str, node: str = "site", **kw: float) -> Need:
    values = {"max_w": 7000.0, "energy_wh": 20000.0, "departure_s": 8 * HOUR, **kw}
    phase = int(values.pop("phase", 0))
    phases = int(values.pop("phases", 1))
    return Need(session_id=sid, node=node, phase=phase, phases=phases, **values)


def _flat(n: int) -> list[float]:
    return [1.0] * n


def _solve(solver: Solver, problem: Problem) -> Plan:
    result = solver(problem)
    assert result is not None
    return result


@pytest.mark.parametrize("solver", SOLVERS)
def test_no_phase_of_the_site_is_loaded_beyond_its_share_in_any_slot(solver: Solver) -> None:
    site = Node(node_id="site", limit_w=30000.0, phases=3)
    needs = [_need(f"s{i}", phase=i % 3) for i in range(12)] + [
        _need("tri", phases=3, max_w=22000.0)
    ]
    horizon = slots(900, 4, 8 * HOUR)
    problem = Problem(needs, [site], horizon, _flat(len(horizon)))
    plan = _solve(solver, problem)
    for t in range(len(horizon)):
        assert max(load_w(problem, plan.power_w, "site", t)) <= 10000.0 + 1e-3
    assert plan.power_w[:, 0].sum() > 25000.0  # and the limit is used, not wasted


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_shared_feeder_holds_its_stations_together(solver: Solver) -> None:
    nodes = [
        Node(node_id="feeder", limit_w=20000.0, phases=1),
        Node(node_id="a", limit_w=15000.0, phases=1, parent="feeder"),
        Node(node_id="b", limit_w=15000.0, phases=1, parent="feeder"),
    ]
    needs = [_need(f"a{i}", node="a") for i in range(3)] + [
        _need(f"b{i}", node="b") for i in range(3)
    ]
    problem = Problem(needs, nodes, [900.0] * 8, _flat(8))
    plan = _solve(solver, problem)
    now = plan.now()
    assert sum(now.values()) <= 20000.0 + 1e-3
    assert sum(v for k, v in now.items() if k.startswith("a")) <= 15000.0 + 1e-3


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_session_draws_nothing_or_at_least_its_minimum(solver: Solver) -> None:
    site = Node(node_id="site", limit_w=10000.0, phases=1)
    needs = [_need(f"s{i}", min_w=1380.0, max_w=7000.0) for i in range(9)]
    problem = Problem(needs, [site], [900.0] * 4, _flat(4))
    now = _solve(solver, problem).now()
    assert all(v == 0 or v >= 1380.0 - 1e-6 for v in now.values()), now
    assert sum(now.values()) <= 10000.0 + 1e-3


@pytest.mark.parametrize("solver", SOLVERS)
def test_energy_that_can_wait_for_the_valley_waits(solver: Solver) -> None:
    site = Node(node_id="site", limit_w=50000.0, phases=1)
    prices = [1.2] * 4 + [0.3] * 8  # peak now, valley from the fifth hour
    needs = [_need("s", energy_wh=14000.0, departure_s=12 * HOUR)]
    plan = _solve(solver, Problem(needs, [site], [HOUR] * 12, prices))
    energy = plan.power_w[0] / 1000.0
    assert energy[:4].sum() == pytest.approx(0.0, abs=1e-6)
    assert energy.sum() == pytest.approx(14.0, rel=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_energy_that_cannot_wait_is_delivered_before_departure(solver: Solver) -> None:
    site = Node(node_id="site", limit_w=50000.0, phases=1)
    prices = [1.2] * 3 + [0.3] * 9
    needs = [_need("s", energy_wh=14000.0, departure_s=2 * HOUR)]
    plan = _solve(solver, Problem(needs, [site], [HOUR] * 12, prices))
    assert plan.power_w[0, :2].sum() / 1000.0 == pytest.approx(14.0, rel=1e-6)
    assert plan.power_w[0, 2:].sum() == pytest.approx(0.0, abs=1e-6)


def test_a_late_arrival_gets_a_fair_share_when_power_is_short() -> None:
    site = Node(node_id="site", limit_w=14000.0, phases=1)
    early = [_need(f"early{i}", arrived_s=3 * HOUR, energy_wh=60000.0) for i in range(3)]
    late = _need("late", arrived_s=0.0, energy_wh=60000.0)
    plan = plan_lp(Problem([*early, late], [site], [900.0] * 16, _flat(16)))
    assert plan is not None
    delivered = plan.power_w.sum(axis=1)
    # Nobody can be served in full: each gets a share, the late one included (every first
    # quarter of a need comes before anyone's second).
    assert delivered.sum() / 1000 * 0.25 == pytest.approx(14 * 4, rel=1e-6)
    assert delivered[3] >= 0.6 * delivered[:3].mean()
    assert delivered.min() > 0


def test_the_lp_spreads_the_valley_instead_of_a_new_peak() -> None:
    site = Node(node_id="site", limit_w=100000.0, phases=1)
    needs = [_need(f"s{i}", energy_wh=10000.0, departure_s=8 * HOUR) for i in range(5)]
    plan = plan_lp(Problem(needs, [site], [HOUR] * 8, _flat(8)))
    assert plan is not None
    total = plan.power_w.sum(axis=0)
    # 50 kWh over 8 h: spread (6.25 kW flat at best), not 35 kW at once (5 × 7 kW)
    assert 50000.0 / 8 - 1 <= total.max() <= 1.5 * 50000.0 / 8
    assert total.sum() / 1000 == pytest.approx(50.0, rel=1e-6)


def test_an_unknown_node_is_refused_with_the_sessions_name() -> None:
    with pytest.raises(ValueError, match="s1"):
        Problem([_need("s1", node="nowhere")], [Node(node_id="site", limit_w=1.0)], [1.0], [1.0])


def test_a_slot_limit_lowered_by_an_event_is_kept() -> None:
    site = Node(node_id="site", limit_w=30000.0, phases=1, limits_w=(5000.0, 5000.0))
    needs = [_need(f"s{i}") for i in range(4)]
    plan = plan_lp(Problem(needs, [site], [900.0] * 4, _flat(4)))
    assert plan is not None
    assert np.all(plan.power_w[:, :2].sum(axis=0) <= 5000.0 + 1e-3)
    assert plan.power_w[:, 2].sum() > 5000.0


def test_a_sessions_valley_energy_is_its_share_of_time_in_the_valley() -> None:
    from datetime import UTC, datetime

    from chargenet.analytics.orderly import valley_energy_wh

    start = datetime(2026, 1, 1, 5, tzinfo=UTC)
    end = datetime(2026, 1, 1, 9, tzinfo=UTC)  # half of it before 07:00

    def valley(at: datetime) -> bool:
        return at.hour < 7

    assert valley_energy_wh(start, end, 20_000, valley) == pytest.approx(10_000)
    assert valley_energy_wh(start, start, 5_000, valley) == 5_000
    assert valley_energy_wh(start, end, 0, valley) == 0


def test_a_problem_too_large_for_the_lp_budget_is_planned_greedily(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chargenet.analytics import orderly

    site = Node(node_id="site", limit_w=30000.0, phases=1)
    problem = Problem([_need(f"s{i}") for i in range(5)], [site], [900.0] * 8, _flat(8))
    assert orderly.plan(problem).solver == "lp"
    monkeypatch.setattr(orderly, "LP_MAX_COLUMNS", 10)
    assert orderly.plan(problem).solver == "greedy"


# --- vehicle-to-grid -------------------------------------------------------------------

PEAK_THEN_VALLEY = [1.2] * 3 + [0.3] * 6  # hourly: a peak now, then the valley


def test_a_bidirectional_vehicle_gives_at_the_peak_and_still_leaves_with_its_need() -> None:
    site = Node(node_id="site", limit_w=50000.0, phases=1)
    v2g = _need(
        "v2g", energy_wh=10000.0, departure_s=9 * HOUR, discharge_w=7000.0, dischargeable_wh=5000.0
    )
    plain = _need("plain", energy_wh=10000.0, departure_s=9 * HOUR)
    plan = plan_lp(Problem([v2g, plain], [site], [HOUR] * 9, PEAK_THEN_VALLEY))
    assert plan is not None
    given, kept = plan.power_w[0] / 1000.0, plan.power_w[1] / 1000.0
    assert given[:3].min() < -1.0  # it discharges at the peak …
    assert np.cumsum(given).min() >= -5.0 - 1e-6  # … never below its minimum state …
    assert given.sum() == pytest.approx(10.0, rel=1e-6)  # … and leaves with its need
    assert kept.min() >= 0.0  # a vehicle that did not say it may discharge never does
    assert kept.sum() == pytest.approx(10.0, rel=1e-6)


def test_what_vehicles_give_back_is_held_to_the_sites_limit_too() -> None:
    site = Node(node_id="site", limit_w=5000.0, phases=1)
    base = _need("x", energy_wh=1000.0, departure_s=9 * HOUR)
    fields = {f: getattr(base, f) for f in Need.__slots__}
    needs = [
        Need(
            **{**fields, "session_id": f"v{i}", "discharge_w": 7000.0, "dischargeable_wh": 20000.0}
        )
        for i in range(3)
    ]
    plan = plan_lp(Problem(needs, [site], [HOUR] * 9, PEAK_THEN_VALLEY))
    assert plan is not None
    total = plan.power_w.sum(axis=0)
    assert total.min() >= -5000.0 - 1e-3
    assert total.min() < -4000.0  # and the peak is worth giving to the limit


def test_a_simulated_vehicle_follows_its_discharging_plan_to_a_full_battery() -> None:
    """Re-planned every 15 minutes as the service does, the vehicle's state of energy
    moved by what each plan's first slot says (negative: it gives): it never falls below
    its minimum, and it leaves with what it asked for."""
    site = Node(node_id="site", limit_w=22000.0, phases=1)
    step, departure = 900.0, 8 * HOUR
    hourly = [1.3, 1.3, 1.0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]  # price by hour from now
    soe, minimum, target = 30.0, 20.0, 60.0  # kWh
    other_left = 30.0
    lowest, gave = soe, 0.0
    for k in range(int(departure // step)):
        now_s = k * step
        horizon = slots(step, 4, departure - now_s)
        at = np.concatenate(([0.0], np.cumsum(horizon)[:-1])) + now_s
        prices = [hourly[min(int(a // HOUR), len(hourly) - 1)] for a in at]
        v2g = Need(
            session_id="v2g",
            node="site",
            max_w=11000.0,
            energy_wh=max(0.0, target - soe) * 1000.0,
            departure_s=departure - now_s,
            discharge_w=11000.0,
            dischargeable_wh=max(0.0, soe - minimum) * 1000.0,
        )
        other = _need("other", energy_wh=other_left * 1000.0, departure_s=departure - now_s)
        plan = plan_lp(Problem([v2g, other], [site], horizon, prices))
        assert plan is not None
        now = plan.now()
        assert abs(now["v2g"] + now["other"]) <= 22000.0 + 1e-3
        soe += now["v2g"] / 1000.0 * step / HOUR
        gave += max(0.0, -now["v2g"]) / 1000.0 * step / HOUR
        other_left = max(0.0, other_left - now["other"] / 1000.0 * step / HOUR)
        lowest = min(lowest, soe)
    assert gave > 5.0  # it gave energy back in the critical-peak hours
    assert lowest >= minimum - 1e-6
    assert soe == pytest.approx(target, abs=1e-3)
    assert other_left == pytest.approx(0.0, abs=1e-3)


def test_sites_the_lp_budget_did_not_reach_are_planned_greedily_the_rest_by_the_lp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chargenet.analytics import orderly

    nodes = [Node(node_id="a", limit_w=10000.0, phases=1), Node(node_id="b", limit_w=10000.0)]
    needs = [_need("a1", node="a"), _need("a2", node="a"), _need("b1", node="b", phase=1)]
    problem = Problem(needs, nodes, [900.0] * 8, _flat(8))
    solve = orderly._plan_lp_tree

    def slow_on_b(sub: Problem, left: float) -> Plan | None:
        return None if any(n.node == "b" for n in sub.needs) else solve(sub, left)

    monkeypatch.setattr(orderly, "_plan_lp_tree", slow_on_b)
    result = orderly.plan(problem)
    assert result.solver == "greedy+lp"
    now = result.now()
    assert now["a1"] + now["a2"] <= 10000.0 + 1e-3
    assert min(now.values()) > 0  # every site is planned, not only the LP's
