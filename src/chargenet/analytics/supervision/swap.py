"""Supervision figures of battery-swap stations (R40): uptime from the station's status
reports, swaps per day, and its packs' state of health. Pure: fed by the read model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from chargenet.core.supervision.swap import SOH_WORN

UP = frozenset({"available", "occupied", "charging", "reserved"})


def uptime_seconds(
    reports: Sequence[tuple[int, str]], start_us: int, end_us: int
) -> tuple[float, float]:
    """(seconds up, seconds with a known status) in [start, end) from (at_us, status)
    reports in time order; the status at the start is the last one reported before it,
    time before a station's first report is unknown (not counted either way)."""
    up = known = 0
    current: str | None = None
    since = start_us
    for at, status in reports:
        if at <= start_us:
            current = status
            continue
        if at >= end_us:
            break
        if current is not None:
            span = at - since
            known += span
            up += span if current in UP else 0
        current, since = status, at
    if current is not None:
        span = end_us - max(since, start_us)
        known += span
        up += span if current in UP else 0
    return up / 1e6, known / 1e6


class PackFigures(TypedDict):
    packs: int
    packs_ready: int
    packs_faulty: int
    mean_soh_percent: float | None
    packs_worn: int  # state of health below SOH_WORN


def pack_figures(packs: Sequence[tuple[str, float | None]]) -> PackFigures:
    """From (state, SoH %) of a station's packs: how many, how many ready, the mean SoH,
    and how many are worn (below `SOH_WORN`)."""
    sohs = [soh for _, soh in packs if soh is not None]
    return {
        "packs": len(packs),
        "packs_ready": sum(1 for state, _ in packs if state == "ready"),
        "packs_faulty": sum(1 for state, _ in packs if state == "faulty"),
        "mean_soh_percent": round(sum(sohs) / len(sohs), 1) if sohs else None,
        "packs_worn": sum(1 for soh in sohs if soh < SOH_WORN),
    }
