"""Scorecard arithmetic: sub-scores, weights, stars and ranks."""

from __future__ import annotations

import pytest

from chargenet.analytics.supervision.scorecards import (
    OperatorMetrics,
    ScoreConfig,
    percentile,
    ranked,
    scorecard,
    stars_for,
    sub_score,
)


def metrics(**kw: object) -> OperatorMetrics:
    base: dict[str, object] = {
        "operator_id": "OP1",
        "connectors": 200,
        "chargers": 100,
        "period_days": 30,
    }
    return OperatorMetrics(**{**base, **kw})  # type: ignore[arg-type]


def test_sub_scores_are_linear_between_worst_and_best_and_clamped() -> None:
    assert sub_score(95.0, 90.0, 100.0) == 50.0
    assert sub_score(85.0, 90.0, 100.0) == 0.0
    assert sub_score(36.0, 72.0, 0.0) == 50.0  # lower is better
    assert sub_score(-5.0, 72.0, 0.0) == 100.0


def test_the_score_is_the_weighted_mean_of_the_metrics_with_data() -> None:
    card = scorecard(
        metrics(
            uptime_percent=98.0,  # (98−90)/10 → 80
            repair_hours=(2.0, 10.0, 30.0),  # median 10 h → (72−10)/72 → 86.11
            open_zombies=2,  # 2 per 100 chargers → 80
            completeness_percent=95.0,  # → 75
            sessions=200,
            successful_sessions=180,  # 90 % → 80
            alarms=8,  # 8 / 200 connectors × 100 × 30/30 = 4 → 80
        ),
        ScoreConfig(),
    )
    assert card.sub_scores == {
        "uptime": 80.0,
        "repair": 86.11,
        "zombies": 80.0,
        "completeness": 75.0,
        "sessions": 80.0,
        "alarms": 80.0,
    }
    # latency has no data: its weight (0.05) drops out and the rest renormalise over 0.95.
    expected = (80 * 0.30 + 86.11 * 0.15 + 80 * 0.15 + 75 * 0.10 + 80 * 0.15 + 80 * 0.10) / 0.95
    assert card.score == pytest.approx(round(expected, 2))
    assert card.stars == 4  # 80.2 ≥ 80
    assert card.repair_p90_hours == pytest.approx(26.0)  # linear: 10 + 0.8 × 20


def test_weights_and_star_thresholds_are_configuration() -> None:
    only_uptime = ScoreConfig(weights={"uptime": 1.0}, stars=(99, 98, 97, 96))
    card = scorecard(metrics(uptime_percent=97.5, repair_hours=(100.0,)), only_uptime)
    assert card.score == 75.0 and card.stars == 1
    assert ScoreConfig(weights={"speed": 1.0}).problems() == ["unknown metric 'speed'"]
    assert stars_for(90, (90, 80, 70, 60)) == 5 and stars_for(59.99, (90, 80, 70, 60)) == 1


def test_ranking_shares_ranks_on_equal_scores_and_puts_the_unscored_last() -> None:
    config = ScoreConfig()
    cards = [
        scorecard(metrics(operator_id="A", uptime_percent=95.0), config),
        scorecard(metrics(operator_id="B", uptime_percent=99.0), config),
        scorecard(metrics(operator_id="C", uptime_percent=95.0), config),
        scorecard(metrics(operator_id="D", chargers=0, connectors=0), config),
    ]
    assert [(c.operator_id, c.rank) for c in ranked(cards)] == [
        ("B", 1),
        ("A", 2),
        ("C", 2),
        ("D", None),
    ]


def test_percentiles_interpolate_linearly() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([], 90) is None


def test_interface_compliance_is_a_metric_of_its_own() -> None:
    card = scorecard(
        metrics(uptime_percent=100.0, interface_accepted=95, interface_refused=5), ScoreConfig()
    )
    assert card.values["compliance"] == 95.0
    assert card.sub_scores["compliance"] == 50.0  # 95 % between 90 and 100
    # uptime, zombies (0) and alarms (0) at 100; compliance at 50, weighted 0.05.
    expected = (100 * 0.30 + 100 * 0.15 + 100 * 0.10 + 50 * 0.05) / 0.60
    assert card.score == pytest.approx(round(expected, 2))


def test_credit_penalty_points_are_deducted_from_the_score() -> None:
    config = ScoreConfig(weights={"uptime": 1.0})
    clean = scorecard(metrics(uptime_percent=98.0), config)
    penalized = scorecard(metrics(uptime_percent=98.0, credit_points=12), config)
    assert clean.score == 80.0 and clean.stars == 4
    assert penalized.score == 68.0 and penalized.stars == 2
    assert penalized.values["credit_points"] == 12
    # Never below zero.
    assert scorecard(metrics(uptime_percent=90.0, credit_points=5), config).score == 0.0
