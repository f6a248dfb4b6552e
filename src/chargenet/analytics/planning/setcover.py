"""Set cover and maximum coverage: the fewest candidate sites that cover every demand
point (or the most demand a fixed number of sites can cover).

Solved as a 0-1 integer programme with HiGHS (highspy), which proves optimality or
reports the gap between its best solution and its lower bound when the time limit stops
it. When asked (`use_highs=False`), without highspy, or when it fails, the greedy
algorithm (within a factor ln n of the optimum) runs instead, says which of these made it
run, and is measured against the LP relaxation's bound, so a gap is always reported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csc_matrix


@dataclass(frozen=True)
class CoverSolution:
    chosen: tuple[int, ...]  # candidate indices
    method: str  # "highs" or "greedy"
    status: str  # HiGHS's words (Optimal, Time limit reached …) or why greedy ran
    objective: float  # sites chosen (set cover) or demand covered (max coverage)
    bound: float  # proven bound on the optimum (lower for set cover, upper for max coverage)
    gap: float  # relative distance between objective and bound (0 = proven optimal)
    seconds: float
    uncoverable: tuple[int, ...]  # demands no candidate reaches

    @property
    def optimal(self) -> bool:
        return self.gap <= 1e-9


def _matrix(covers: Sequence[Sequence[int]], n_candidates: int) -> csc_matrix:
    """Rows: demands; columns: candidates; 1 where the candidate covers the demand."""
    rows = [d for d, cands in enumerate(covers) for _ in cands]
    cols = [c for cands in covers for c in cands]
    data = np.ones(len(rows))
    return csc_matrix((data, (rows, cols)), shape=(len(covers), n_candidates))


def highs_mip(
    cost: np.ndarray,
    matrix: csc_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    integer: np.ndarray,
    col_upper: np.ndarray,
    maximize: bool,
    time_limit: float,
    mip_gap: float,
    col_lower: np.ndarray | None = None,
) -> tuple[np.ndarray, str, float, float, float] | str:
    """A 0-1/mixed programme `cost·x` (min or max) s.t. row_lower ≤ A·x ≤ row_upper and
    col_lower (default 0) ≤ x ≤ col_upper: (values, status, objective, dual bound, gap),
    or why there is no answer (the greedy fallbacks say so)."""
    try:
        import highspy
    except ImportError:
        return "highspy is not installed"
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("threads", 1)
    lp = highspy.HighsLp()
    lp.num_col_ = matrix.shape[1]
    lp.num_row_ = matrix.shape[0]
    lp.col_cost_ = cost.astype(np.float64)
    lp.col_lower_ = np.zeros(matrix.shape[1]) if col_lower is None else col_lower.astype(np.float64)
    lp.col_upper_ = col_upper.astype(np.float64)
    lp.row_lower_ = row_lower.astype(np.float64)
    lp.row_upper_ = row_upper.astype(np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    lp.a_matrix_.num_col_ = matrix.shape[1]
    lp.a_matrix_.num_row_ = matrix.shape[0]
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer
    ]
    if h.passModel(lp) != highspy.HighsStatus.kOk:
        return "HiGHS refused the model"
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    values = np.asarray(h.getSolution().col_value, dtype=np.float64)
    if len(values) != matrix.shape[1] or info.primal_solution_status != 2:  # 2: feasible
        return f"HiGHS found no solution ({status})"
    return (
        values,
        status,
        float(info.objective_function_value),
        float(info.mip_dual_bound),
        float(info.mip_gap),
    )


def _lp_lower_bound(matrix: csc_matrix) -> float:
    """The LP relaxation's optimum: no cover can use fewer sites."""
    n = matrix.shape[1]
    if matrix.shape[0] == 0:
        return 0.0
    result = linprog(
        np.ones(n), A_ub=-matrix, b_ub=-np.ones(matrix.shape[0]), bounds=(0, 1), method="highs"
    )
    return float(result.fun) if result.success else 0.0


def _greedy(
    covers_by_candidate: list[set[int]], demands: set[int], weights: np.ndarray, budget: int | None
) -> list[int]:
    chosen: list[int] = []
    left = set(demands)
    while left and (budget is None or len(chosen) < budget):
        best, best_gain = -1, 0.0
        for c, covered in enumerate(covers_by_candidate):
            gain = float(sum(weights[d] for d in covered & left))
            if gain > best_gain:
                best, best_gain = c, gain
        if best < 0:
            break
        chosen.append(best)
        left -= covers_by_candidate[best]
    return chosen


def solve_cover(
    covers: Sequence[Sequence[int]],
    n_candidates: int,
    *,
    budget: int | None = None,
    weights: Sequence[float] | None = None,
    time_limit: float = 30.0,
    mip_gap: float = 0.0,
    use_highs: bool = True,
) -> CoverSolution:
    """`covers[d]` lists the candidates covering demand d. Without a budget: the fewest
    candidates covering every coverable demand. With one: at most `budget` candidates
    covering the most demand weight."""
    started = time.perf_counter()
    uncoverable = tuple(d for d, c in enumerate(covers) if not c)
    keep = [d for d, c in enumerate(covers) if c]
    w = np.asarray(weights if weights is not None else [1.0] * len(covers), dtype=np.float64)
    by_candidate: list[set[int]] = [set() for _ in range(n_candidates)]
    for d in keep:
        for c in covers[d]:
            by_candidate[c].add(d)
    matrix = _matrix([covers[d] for d in keep], n_candidates)
    solved: tuple[np.ndarray, str, float, float, float] | str
    if not use_highs:
        solved = "asked for"
    elif not keep:
        solved = "nothing a candidate can cover"
    elif budget is None:
        solved = highs_mip(
            np.ones(n_candidates),
            matrix,
            np.ones(len(keep)),
            np.full(len(keep), np.inf),
            np.ones(n_candidates, dtype=bool),
            np.ones(n_candidates),
            False,
            time_limit,
            mip_gap,
        )
    else:
        # max Σ w_d y_d  s.t.  y_d − Σ_{c covers d} x_c ≤ 0,  Σ x_c ≤ budget
        m, k = len(keep), n_candidates
        from scipy.sparse import bmat, eye
        from scipy.sparse import csc_matrix as csc

        top = bmat([[-matrix, eye(m)]])
        bottom = csc(np.concatenate([np.ones(k), np.zeros(m)])[None, :])
        full = csc(bmat([[top], [bottom]]))
        solved = highs_mip(
            np.concatenate([np.zeros(k), w[keep]]),
            full,
            np.full(m + 1, -np.inf),
            np.concatenate([np.zeros(m), [budget]]),
            np.concatenate([np.ones(k, dtype=bool), np.zeros(m, dtype=bool)]),
            np.ones(k + m),
            True,
            time_limit,
            mip_gap,
        )
    if not isinstance(solved, str):
        values, status, objective, bound, gap = solved
        chosen = tuple(int(i) for i in np.nonzero(values[:n_candidates] > 0.5)[0])
        if budget is None:
            bound = math.ceil(bound - 1e-6) if math.isfinite(bound) else objective
            gap = 0.0 if objective <= bound else (objective - bound) / objective
        return CoverSolution(
            chosen,
            "highs",
            status,
            objective,
            bound,
            max(gap, 0.0),
            time.perf_counter() - started,
            uncoverable,
        )
    chosen_list = _greedy(by_candidate, set(keep), w, budget)
    covered = set().union(*(by_candidate[c] for c in chosen_list)) if chosen_list else set()
    if budget is None:
        objective = float(len(chosen_list))
        bound = float(math.ceil(_lp_lower_bound(matrix) - 1e-6)) if keep else 0.0
        gap = 0.0 if objective <= bound or objective == 0 else (objective - bound) / objective
    else:
        objective = float(sum(w[d] for d in covered))
        bound = float(sum(w[d] for d in keep))  # every coverable demand: an upper bound
        gap = 0.0 if bound == 0 else (bound - objective) / bound
    return CoverSolution(
        tuple(chosen_list),
        "greedy",
        solved,  # why greedy ran: asked for, highspy missing, HiGHS found nothing …
        objective,
        bound,
        gap,
        time.perf_counter() - started,
        uncoverable,
    )
