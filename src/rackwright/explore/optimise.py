"""Multi-objective optimisation for spaces too large to grid: NSGA-II (pymoo) over the axes.

NSGA-II (Deb, Pratap, Agarwal & Meyarivan 2002) evolves a population by non-dominated
sorting and crowding distance. The search variables are the unit-hypercube coordinates of
the axes — the same map as Latin hypercube and Sobol sampling
(:meth:`~rackwright.explore.space.Axis.value`): continuous axes move freely, discrete and
structural axes are visited through their bins. Objectives to maximise are negated; an
infeasible design (broken rule or limit) has constraint value 1 (pymoo's ``G ≤ 0`` is
feasible) and NaN objectives count as worst. Every design NSGA-II evaluates is returned,
so the explorer's own Pareto filter and results table see the whole search.
"""

from __future__ import annotations

import numpy as np

from .evaluate import evaluate_points, objective_matrix
from .space import Space


def nsga2_points(space: Space) -> np.ndarray:
    """Unit-hypercube points of every design NSGA-II evaluated (generations × population rows)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    sampling = space.spec.sampling
    visited: list[np.ndarray] = []
    upper = np.nextafter(1.0, 0.0)

    class _Space(Problem):
        def __init__(self):
            super().__init__(n_var=len(space.axes), n_obj=len(space.spec.objectives), n_ieq_constr=1, xl=0.0, xu=upper)

        def _evaluate(self, x, out, *args, **kwargs):
            visited.append(np.array(x))
            columns = evaluate_points(space, x)
            objectives = objective_matrix(space, columns)
            out["F"] = np.where(np.isfinite(objectives), objectives, np.finfo(float).max)
            out["G"] = (~columns["feasible"]).astype(float)[:, None]

    minimize(
        _Space(),
        NSGA2(pop_size=sampling.population),
        ("n_gen", sampling.generations),
        seed=sampling.seed,
        verbose=False,
    )
    return np.vstack(visited)
