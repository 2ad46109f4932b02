"""Which axis moves each objective most: variance-based (Sobol) sensitivity indices.

For an objective ``Y = f(X_1, …, X_d)`` with independent axes, the first-order index
``S_i = Var(E[Y | X_i]) / Var(Y)`` is the share of the variance that axis ``i`` explains on
its own, and the total index ``S_Ti = E[Var(Y | X_~i)] / Var(Y)`` adds its interactions
(Sobol' 2001; Saltelli et al. 2010, "Variance based sensitivity analysis of model output",
estimators of Saltelli 2010 and Jansen 1999). ``scipy.stats.sobol_indices`` draws the
``n (d + 2)`` designs of the Saltelli scheme from a Sobol sequence; each axis is uniform on
its span (discrete axes: equal-probability values, as the grid weights them), and all of
them are evaluated in one vectorised pass. Infeasible designs count too (the indices
describe the objective over the whole space); an objective with NaNs gets no indices.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import sobol_indices, uniform

from .evaluate import evaluate_points
from .space import Space


def sobol_sensitivity(space: Space, samples: int, seed: int = 0) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{objective: {axis: {"first": S_i, "total": S_Ti}}}`` from ``samples`` base points (a power of two)."""
    objectives = [o.figure for o in space.spec.objectives]

    def model(x: np.ndarray) -> np.ndarray:
        columns = evaluate_points(space, np.clip(x.T, 0.0, np.nextafter(1.0, 0.0)))
        return np.vstack([columns[key] for key in objectives])

    # scipy-stubs' _HasPPF wants ppf returning float64 only; a frozen distribution (SciPy's own documented example
    # for dists) returns float | float64 from its scalar overload
    dists = [uniform(0.0, 1.0)] * len(space.axes)
    result = sobol_indices(func=model, n=samples, dists=dists, rng=np.random.default_rng(seed))  # type: ignore[arg-type]
    first, total = np.atleast_2d(result.first_order), np.atleast_2d(result.total_order)
    return {
        key: {
            axis.name: {"first": _number(first[k, i]), "total": _number(total[k, i])}
            for i, axis in enumerate(space.axes)
        }
        for k, key in enumerate(objectives)
    }


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
