"""Sizing ports per power class: Erlang C checked against the queue itself (a truncated
birth-death chain solved as linear equations), and the fewest ports found by trying
every count."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from chargenet.analytics.planning.demand import erlang_b, offered_load
from chargenet.analytics.planning.sizing import (
    AC,
    DC,
    PORT_CLASSES,
    ULTRA,
    ServiceLevel,
    erlang_c,
    ports_needed,
    size_site,
)


def chain(arrivals: float, service_h: float, ports: int, cap: int = 400) -> np.ndarray:
    """Stationary distribution of the M/M/c queue truncated at `cap` drivers, from the
    generator matrix Q (π Q = 0, Σ π = 1): no closed formula involved."""
    mu = 1.0 / service_h
    q = np.zeros((cap + 1, cap + 1))
    for n in range(cap + 1):
        if n < cap:
            q[n, n + 1] = arrivals
        if n > 0:
            q[n, n - 1] = min(n, ports) * mu
        q[n, n] = -q[n].sum()
    a = np.vstack([q.T, np.ones(cap + 1)])
    b = np.zeros(cap + 2)
    b[-1] = 1.0
    pi, *_ = np.linalg.lstsq(a, b, rcond=None)
    return pi


def waits(arrivals: float, service_h: float, ports: int) -> float:
    return float(chain(arrivals, service_h, ports)[ports:].sum())


@pytest.mark.parametrize(
    ("arrivals", "service_h", "ports"), [(2.0, 1.0, 3), (9.0, 0.5, 6), (1.2, 3.15, 5)]
)
def test_erlang_c_is_the_chance_of_waiting_in_the_queue(
    arrivals: float, service_h: float, ports: int
) -> None:
    assert erlang_c(arrivals * service_h, ports) == pytest.approx(
        waits(arrivals, service_h, ports), abs=1e-6
    )


def brute_force_ports(arrivals: float, service_h: float, level: ServiceLevel) -> int:
    for c in range(1, 80):
        offered = arrivals * service_h
        if offered / c <= level.max_utilisation and (
            waits(arrivals, service_h, c) <= level.max_wait_probability
        ):
            return c
    raise AssertionError("no count up to 80 serves it")


@pytest.mark.parametrize(
    ("arrivals", "klass", "wait", "util"),
    [
        (3.0, AC, 0.2, 0.8),  # village evening: 3 sessions an hour on 7 kW ports
        (12.0, DC, 0.2, 0.8),
        (12.0, DC, 0.05, 0.8),  # a stricter promise needs more ports
        (20.0, ULTRA, 0.3, 0.6),  # the utilisation ceiling binds
        (0.4, DC, 0.2, 0.8),
    ],
)
def test_fewest_ports_meeting_the_service_level_match_trying_every_count(
    arrivals: float, klass: str, wait: float, util: float
) -> None:
    level = ServiceLevel(wait, util)
    h = PORT_CLASSES[klass].service_hours()
    assert ports_needed(arrivals, h, level) == brute_force_ports(arrivals, h, level)


def test_a_site_gets_ports_per_class_from_its_busy_hour_and_the_rules_minimum() -> None:
    level = ServiceLevel(0.2, 0.8)
    size = size_site(10.0, {AC: 0.5, DC: 0.5}, level=level, minimum={DC: 2})
    ac_h, dc_h = PORT_CLASSES[AC].service_hours(), PORT_CLASSES[DC].service_hours()
    assert size.ports[AC] == brute_force_ports(5.0, ac_h, level)
    assert size.ports[DC] == max(2, brute_force_ports(5.0, dc_h, level))
    assert size.ports[AC] > size.ports[DC]  # slow ports hold a car for hours
    assert size.connection_kw == pytest.approx(size.ports[AC] * 7.0 + size.ports[DC] * 120.0)
    assert size.capex == Decimal(4000) * size.ports[AC] + Decimal(60000) * size.ports[DC]
    for k in size.ports:
        assert size.wait_probability[k] <= 0.2 and size.utilisation[k] <= 0.8


def test_a_site_without_demand_still_gets_what_the_rules_ask() -> None:
    size = size_site(0.0, {AC: 1.0}, minimum={DC: 2})
    assert size.ports == {DC: 2}


def test_erlang_b_recovers_the_demand_busy_chargers_turned_away() -> None:
    for offered, ports in ((1.5, 2), (6.0, 4), (0.3, 1)):
        carried = offered * (1 - erlang_b(offered, ports))
        assert offered_load(carried, ports, max_uplift=10) == pytest.approx(offered, rel=1e-6)
    # A charger busy every minute of its busy hour cannot say how many left: capped.
    assert offered_load(1.0, 1, max_uplift=2.0) == pytest.approx(2.0)
