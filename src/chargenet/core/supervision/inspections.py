"""Random inspections, 双随机一公开 (R38): inspectors drawn at random from a pool, targets
drawn at random from a pool, and the results made public.

The draw is reproducible: it depends only on the seed and the two pools, never on the order
the pools were given in (both are sorted first) nor on anything else. The seed is recorded
with the draw, so anyone can redraw from it and get the same assignment — which is what
makes the randomness checkable. `random.Random` (MT19937, seeded from an integer) and its
`sample` are stable across Python versions (the sampling algorithm has not changed since
Python 3.2 and integer seeding since 3.2's version 2 seeding).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

MAX_POOL = 10_000
MAX_SEED = 2**63 - 1


class InspectionResult(StrEnum):
    PASSED = "passed"  # 合格
    RECTIFY = "rectify"  # 责令整改: problems found, a deadline to put them right
    FAILED = "failed"  # 不合格: grounds for a penalty


@dataclass(frozen=True, slots=True)
class Assignment:
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"inspectors": 128}
    target_id: str
    inspectors: tuple[str, ...]


def draw_problems(
    seed: int, inspectors: Sequence[str], targets: Sequence[str], count: int, team: int
) -> list[str]:
    out = []
    if not 0 <= seed <= MAX_SEED:
        out.append(f"seed must be 0..{MAX_SEED}")
    if len(set(inspectors)) != len(inspectors) or len(set(targets)) != len(targets):
        out.append("a pool names someone or something twice")
    if not 1 <= team <= len(inspectors):
        out.append(f"a team of {team} cannot be drawn from {len(inspectors)} inspectors")
    if not 1 <= count <= len(targets):
        out.append(f"{count} targets cannot be drawn from a pool of {len(targets)}")
    if len(inspectors) > MAX_POOL or len(targets) > MAX_POOL:
        out.append(f"a pool holds at most {MAX_POOL}")
    return out


def draw(
    seed: int, inspectors: Sequence[str], targets: Sequence[str], count: int, team: int = 2
) -> tuple[Assignment, ...]:
    """`count` targets drawn from `targets`, each with a team of `team` inspectors drawn
    from `inspectors` (double random: targets and inspectors alike). Inspectors are drawn
    anew for each target, so no pairing is fixed in advance."""
    problems = draw_problems(seed, inspectors, targets, count, team)
    if problems:
        raise ValueError("; ".join(problems))
    rng = random.Random(seed)
    chosen = rng.sample(sorted(targets), count)
    pool = sorted(inspectors)
    return tuple(Assignment(t, tuple(sorted(rng.sample(pool, team)))) for t in chosen)
