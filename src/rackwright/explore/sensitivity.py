"""Which axis moves each objective most: variance-based (Sobol) sensitivity indices.

For an objective ``Y = f(X_1, …, X_d)`` with independent axes, the first-order index
``S_i = Var(E[Y | X_i]) / Var(Y)`` is the share of the variance that axis ``i`` explains on
its own, and the total index ``S_Ti = E[Var(Y | X_~i)] / Var(Y)`` adds its interactions
(Sobol' 2001; Saltelli et al. 2010, "Variance based sensitivity analysis of model output",
estimators of Saltelli 2010 and Jansen 1999). ``scipy.stats.sobol_indices`` draws the
``n (d + 2)`` designs of the Saltelli scheme from a Sobol sequence; each axis is uniform on
its span (discrete axes: equal-probability values, as the grid weights them), and all of
them are evaluated in one vectorised pass. Infeasible designs count too (the indices
describe the objective over the whole space); an objective with NaNs (a figure undefined for some design) gets no
indices (``None``). A space of one axis needs no estimate: that axis explains all the variance (``_one_axis``).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import sobol_indices, uniform

from .evaluate import evaluate_points
from .space import Space


def sobol_sensitivity(space: Space, samples: int, seed: int = 0) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{objective: {axis: {"first": S_i, "total": S_Ti}}}`` from ``samples`` base points (a power of two)."""
    objectives = [o.figure for o in space.spec.objectives]
    finite = np.ones(len(objectives), dtype=bool)

    def model(x: np.ndarray) -> np.ndarray:
        columns = evaluate_points(space, np.clip(x.T, 0.0, np.nextafter(1.0, 0.0)))
        y = np.vstack([columns[key] for key in objectives])
        finite[:] &= np.isfinite(y).all(axis=1)
        return y

    first, total = _one_axis(model, samples) if len(space.axes) == 1 else _saltelli(model, space, samples, seed)
    return {
        key: {
            axis.name: {"first": float(first[k, i]), "total": float(total[k, i])}
            if finite[k]
            else {"first": None, "total": None}
            for i, axis in enumerate(space.axes)
        }
        for k, key in enumerate(objectives)
    }


def _saltelli(model, space: Space, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """First and total indices, one row per objective and one column per axis (two axes or more)."""
    # scipy-stubs' _HasPPF wants ppf returning float64 only; a frozen distribution (SciPy's own documented example
    # for dists) returns float | float64 from its scalar overload
    dists = [uniform(0.0, 1.0)] * len(space.axes)
    result = sobol_indices(func=model, n=samples, dists=dists, rng=np.random.default_rng(seed))  # type: ignore[arg-type]
    return np.atleast_2d(result.first_order), np.atleast_2d(result.total_order)


def _one_axis(model, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """With one axis ``E[Y | X] = Y``, so ``S = S_T = Var(Y) / Var(Y) = 1`` exactly wherever the objective varies
    (no estimate: SciPy's estimators scatter around 1 and its one-axis results lose their objective dimension), and
    0 where it is constant (SciPy's convention for a variance of zero). Whether it varies is read from ``samples``
    evenly spaced points, which reach every value of a discrete axis with at most ``samples`` values."""
    y = model(((np.arange(samples) + 0.5) / samples)[np.newaxis, :])
    varies = (np.ptp(y, axis=1) > 0).astype(float)[:, np.newaxis]
    return varies, varies
