"""Operator scorecards and star ratings (R38).

Each metric is turned into a sub-score from 0 to 100 on a linear scale between a "worst"
and a "best" value (clamped), the score is the weighted mean of the sub-scores that have
data (weights renormalised over them), and stars come from score thresholds. Metrics,
scales, weights and thresholds (`ScoreConfig`, all configurable):

| metric | what | worst → best (default) | weight |
|---|---|---|---|
| uptime | NEVI uptime %, every connector of the operator | 90 → 100 % | 0.30 |
| repair | median hours from fault to next usable status (p90 shown too) | 72 → 0 h | 0.15 |
| zombies | zombie cases open in the period per 100 chargers | 10 → 0 | 0.15 |
| completeness | % of in-service connector time with data (not offline) | 80 → 100 % | 0.10 |
| latency | median seconds from the source's time to ours | 600 → 5 s | 0.05 |
| sessions | % of ended sessions that delivered energy | 50 → 100 % | 0.15 |
| alarms | alarms raised per 100 connectors per 30 days | 20 → 0 | 0.10 |
| compliance | % of its platform's messages accepted (interface compliance) | 90 → 100 % | 0.05 |

Credit (信用惩戒): each penalty point standing on the operator's credit record, decided in
the period (not overturned on appeal), deducts `credit_point` (1) from the score, down to
0 — a deduction, not a metric averaged in, so a penalty can only lower a score.

Stars: score ≥ 90 → ★★★★★, ≥ 80 → 4, ≥ 70 → 3, ≥ 60 → 2, else 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

METRICS = (
    "uptime",
    "repair",
    "zombies",
    "completeness",
    "latency",
    "sessions",
    "alarms",
    "compliance",
)


def _default_weights() -> dict[str, float]:
    return {
        "uptime": 0.30,
        "repair": 0.15,
        "zombies": 0.15,
        "completeness": 0.10,
        "latency": 0.05,
        "sessions": 0.15,
        "alarms": 0.10,
        "compliance": 0.05,
    }


def _default_scales() -> dict[str, tuple[float, float]]:
    return {
        "uptime": (90.0, 100.0),
        "repair": (72.0, 0.0),
        "zombies": (10.0, 0.0),
        "completeness": (80.0, 100.0),
        "latency": (600.0, 5.0),
        "sessions": (50.0, 100.0),
        "alarms": (20.0, 0.0),
        "compliance": (90.0, 100.0),
    }


@dataclass(frozen=True)
class ScoreConfig:
    weights: Mapping[str, float] = field(default_factory=_default_weights)
    scales: Mapping[str, tuple[float, float]] = field(default_factory=_default_scales)
    stars: Sequence[float] = (90.0, 80.0, 70.0, 60.0)  # thresholds for 5, 4, 3, 2 stars
    credit_point: float = 1.0  # score deducted per credit penalty point

    def problems(self) -> list[str]:
        out = [f"unknown metric {m!r}" for m in {*self.weights, *self.scales} if m not in METRICS]
        out += [f"weight of {m} is negative" for m, w in self.weights.items() if w < 0]
        out += [f"scale of {m} has equal ends" for m, (a, b) in self.scales.items() if a == b]
        if list(self.stars) != sorted(self.stars, reverse=True):
            out.append("star thresholds must go from the 5-star one down")
        return out


@dataclass(frozen=True, slots=True)
class OperatorMetrics:
    operator_id: str
    connectors: int
    chargers: int
    period_days: float
    uptime_percent: float | None = None
    repair_hours: tuple[float, ...] = ()  # one per repaired fault in the period
    open_zombies: int = 0
    completeness_percent: float | None = None
    latency_s: tuple[float, ...] = ()  # a sample of (received − occurred) per event
    sessions: int = 0
    successful_sessions: int = 0
    alarms: int = 0
    # Messages its platform sent over an interconnection (T/CEC): accepted, refused.
    interface_accepted: int = 0
    interface_refused: int = 0
    credit_points: int = 0  # penalty points standing, decided in the period


def percentile(values: Iterable[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default method); None without values."""
    data = np.fromiter(values, dtype=np.float64)
    return float(np.percentile(data, q)) if data.size else None


def metric_values(m: OperatorMetrics) -> dict[str, float | None]:
    """Each metric's value for an operator (None: no data to judge by)."""
    per_100_chargers = 100 / m.chargers if m.chargers else None
    interface = m.interface_accepted + m.interface_refused
    alarm_rate = (
        m.alarms / m.connectors * 100 * 30 / m.period_days
        if m.connectors and m.period_days > 0
        else None
    )
    return {
        "uptime": m.uptime_percent,
        "repair": percentile(m.repair_hours, 50),
        "zombies": m.open_zombies * per_100_chargers if per_100_chargers is not None else None,
        "completeness": m.completeness_percent,
        "latency": percentile(m.latency_s, 50),
        "sessions": m.successful_sessions / m.sessions * 100 if m.sessions else None,
        "alarms": alarm_rate,
        "compliance": m.interface_accepted / interface * 100 if interface else None,
    }


def sub_score(value: float, worst: float, best: float) -> float:
    share = (value - worst) / (best - worst)
    return round(min(max(share, 0.0), 1.0) * 100, 2)


@dataclass(frozen=True, slots=True)
class Scorecard:
    operator_id: str
    values: dict[str, float | None]
    sub_scores: dict[str, float]
    score: float | None
    stars: int | None
    repair_p90_hours: float | None
    rank: int | None = None


def stars_for(score: float, thresholds: Sequence[float]) -> int:
    for i, threshold in enumerate(thresholds):
        if score >= threshold:
            return 5 - i
    return 1


def scorecard(metrics: OperatorMetrics, config: ScoreConfig) -> Scorecard:
    values = metric_values(metrics)
    subs = {
        name: sub_score(value, *config.scales[name])
        for name, value in values.items()
        if value is not None and name in config.scales
    }
    weights = {name: config.weights.get(name, 0.0) for name in subs}
    total_weight = sum(weights.values())
    score = (
        round(sum(subs[n] * w for n, w in weights.items()) / total_weight, 2)
        if total_weight > 0
        else None
    )
    if score is not None and metrics.credit_points:
        score = round(max(score - metrics.credit_points * config.credit_point, 0.0), 2)
    return Scorecard(
        operator_id=metrics.operator_id,
        values={**values, "credit_points": float(metrics.credit_points)},
        sub_scores=subs,
        score=score,
        stars=stars_for(score, config.stars) if score is not None else None,
        repair_p90_hours=percentile(metrics.repair_hours, 90),
    )


def ranked(cards: Iterable[Scorecard]) -> list[Scorecard]:
    """Best first; equal scores share a rank (1, 2, 2, 4); operators without a score last."""
    ordered = sorted(cards, key=lambda c: (c.score is None, -(c.score or 0.0), c.operator_id))
    out: list[Scorecard] = []
    for i, card in enumerate(ordered):
        if card.score is None:
            rank = None
        elif out and out[-1].score == card.score:
            rank = out[-1].rank
        else:
            rank = i + 1
        out.append(
            Scorecard(
                card.operator_id,
                card.values,
                card.sub_scores,
                card.score,
                card.stars,
                card.repair_p90_hours,
                rank,
            )
        )
    return out
