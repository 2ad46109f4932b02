"""The Pareto front: designs that no other design beats in every objective (all minimised here).

Point ``a`` dominates ``b`` when ``a ≤ b`` in every objective and ``a < b`` in at least one
(Deb et al. 2002, "A fast and elitist multiobjective genetic algorithm: NSGA-II", §II).
Only a point that comes earlier in lexicographic order can dominate a later one, so after
sorting the distinct objective vectors the front is built block by block: a block's points
are compared, as arrays, with the front found so far and with the earlier points of their
own block (Kung, Luccio & Preparata 1975 use the same order). Cost is
O(n · |front| · k) element comparisons in NumPy, with no Python work per design.

The front's quality is its hypervolume: the volume of objective space it dominates up to a reference point
(Zitzler & Thiele 1998, "Multiobjective optimization using evolutionary algorithms — a comparative case
study"), computed exactly by pymoo's indicator (moocore since pymoo 0.6.2: O(n log n) in 2-D and 3-D, Fonseca,
Paquete & López-Ibáñez 2006 and Guerreiro & Fonseca 2017; HV4D+ in 4-D; a recursion on 4-D contributions above).
"""

from __future__ import annotations

import numpy as np

#: Points compared at once (a block × front × objectives boolean array stays small).
BLOCK = 4096
#: Front rows compared with a block at once.
FRONT_SLICE = 256
#: Reference point of the normalised hypervolume, in each objective scaled so the feasible designs span 0 (best)
#: to 1 (worst): a little beyond the worst, so the extreme designs of the front add volume too (Ishibuchi, Imada,
#: Setoguchi & Nojima 2018, "How to specify a reference point in hypervolume calculation", suggest 1 + 1/H).
REFERENCE = 1.1


def pareto_mask(objectives: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of an ``(n, k)`` array to be minimised.

    Rows with a NaN are never on the front; equal rows are all on it or all off it.
    """
    points = np.asarray(objectives, dtype=float)
    if points.ndim != 2:
        raise ValueError("objectives must be an (n, k) array")
    mask = np.zeros(len(points), dtype=bool)
    finite = np.flatnonzero(np.all(np.isfinite(points), axis=1))
    if finite.size == 0:
        return mask
    distinct, inverse = distinct_rows(points[finite])
    mask[finite] = _front_of_sorted(distinct)[inverse]
    return mask


def distinct_rows(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows in lexicographic order, and each input row's index among them (``np.unique(axis=0)``, faster)."""
    if len(points) == 0:  # an empty front (no feasible design): no rows, no groups
        return points, np.empty(0, dtype=np.int64)
    order = np.lexsort(points.T[::-1])
    ordered = points[order]
    starts = np.r_[True, np.any(ordered[1:] != ordered[:-1], axis=1)]
    group = np.cumsum(starts) - 1
    inverse = np.empty(len(points), dtype=np.int64)
    inverse[order] = group
    return ordered[starts], inverse


def _front_of_sorted(points: np.ndarray) -> np.ndarray:
    """Non-dominated mask of distinct rows in lexicographic order."""
    on_front = np.zeros(len(points), dtype=bool)
    front = np.empty((0, points.shape[1]))
    for start in range(0, len(points), BLOCK):
        block = points[start : start + BLOCK]
        # distinct rows: f ≤ x everywhere means f dominates x; first the front so far, then the block's survivors
        alive = np.flatnonzero(~_dominated_by(front, block)) if len(front) else np.arange(len(block))
        survivors = block[alive]
        within = _less_equal(survivors, survivors)  # [i, j]: j ≤ i everywhere
        alive = alive[~np.any(np.tril(within, k=-1), axis=1)]
        on_front[start + alive] = True
        front = np.vstack([front, block[alive]])
    return on_front


def _dominated_by(front: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Which rows of ``block`` some row of ``front`` is ≤ in every objective (front in slices to bound memory)."""
    beaten = np.zeros(len(block), dtype=bool)
    for start in range(0, len(front), FRONT_SLICE):
        part = front[start : start + FRONT_SLICE]
        beaten |= np.any(_less_equal(block, part), axis=1)
    return beaten


def _less_equal(rows: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``[i, j]``: ``others[j] ≤ rows[i]`` in every objective (one 2-D comparison per objective)."""
    result = others[None, :, 0] <= rows[:, None, 0]
    for j in range(1, rows.shape[1]):
        result &= others[None, :, j] <= rows[:, None, j]
    return result


def hypervolume(points: np.ndarray, reference) -> float:
    """Exact hypervolume of ``(n, k)`` points to be minimised up to ``reference`` (one value per objective): the
    volume of the union of the boxes ``[point, reference]``; points not below the reference in every objective
    add nothing."""
    from pymoo.indicators.hv import HV

    points = np.asarray(points, dtype=float)
    reference = np.broadcast_to(np.asarray(reference, dtype=float), (points.shape[1],))
    inside = points[np.all(points < reference, axis=1)]
    return float(HV(ref_point=reference)(inside)) if len(inside) else 0.0


def normalised_hypervolume(front: np.ndarray, feasible: np.ndarray) -> float:
    """Hypervolume of a front (rows to be minimised) as a share of the box it is measured in: each objective scaled
    to 0 at its best and 1 at its worst over the ``feasible`` designs, the reference :data:`REFERENCE` in each, so
    the result lies between 0 and 1 whatever the objectives' units (an objective all designs share counts as 0)."""
    feasible = np.asarray(feasible, dtype=float)
    best, worst = feasible.min(axis=0), feasible.max(axis=0)
    span = np.where(worst > best, worst - best, 1.0)
    scaled = (np.asarray(front, dtype=float) - best) / span
    return hypervolume(scaled, REFERENCE) / REFERENCE ** feasible.shape[1]


def tied_groups(points: np.ndarray) -> list[np.ndarray]:
    """Row indices of ``points`` grouped by equal rows (objective-equivalent designs), each group in row order and
    the groups in the order of their first row."""
    if len(points) == 0:  # an empty front (no feasible design)
        return []
    _, inverse = distinct_rows(np.asarray(points, dtype=float))
    order = np.argsort(inverse, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(inverse[order])) + 1)
    return sorted(groups, key=lambda g: int(g[0]))
