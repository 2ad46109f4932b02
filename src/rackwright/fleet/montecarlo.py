"""Monte Carlo simulation of a long checkpointed training job, vectorised over samples (NumPy).

The process (the one behind :func:`rackwright.fleet.goodput.goodput_exponential`):
after each restart the job runs until the next failure; the time to failure is
exponential with mean ``M`` (failures arrive at rate ``1/M`` while the job computes or
writes a checkpoint, not while it restarts). The job alternates ``τ`` of compute and
``δ`` of checkpoint write; a segment counts only once its checkpoint is written, so a
failure after ``g`` hours of running keeps ``⌊g/(τ+δ)⌋·τ`` of work and loses the rest.
Each failure then costs a restart ``R`` (constant, or exponential with mean ``R``; plus,
with probability ``p_wait``, a wait ``W`` for a repair when no hot spare is free).

For ``F`` failures per sample the goodput of a sample is ``Σ work / Σ wall``. The estimate
is the pooled ratio over all samples (the mean of per-sample ratios is biased by
``O(1/F)``), with a delta-method standard error from the per-sample totals; it comes back
with its 95 % confidence interval and the closed form, which
is ``τ / ((M + R̄)(e^{(τ+δ)/M} − 1))`` (renewal-reward theorem: the expected work per
failure is ``τ·Σ_{k≥1} e^{−k(τ+δ)/M}`` and the expected wall time ``M + R̄``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .goodput import goodput_exponential


@dataclass
class MonteCarloResult:
    """Mean goodput over samples, its 95 % confidence interval and the closed form."""

    mean: float
    stderr: float
    samples: np.ndarray  # goodput of each sample
    closed_form: float

    @property
    def ci95(self) -> tuple[float, float]:
        return self.mean - 1.96 * self.stderr, self.mean + 1.96 * self.stderr

    def agrees(self, sigmas: float = 3.0) -> bool:
        """Whether the closed form lies within ``sigmas`` standard errors of the mean."""
        return abs(self.closed_form - self.mean) <= sigmas * self.stderr


def simulate_goodput(
    tau,
    delta,
    mtbi,
    restart,
    *,
    samples: int = 2000,
    failures: int = 500,
    restart_distribution: str = "constant",
    p_wait: float = 0.0,
    wait: float = 0.0,
    seed: int | None = 0,
) -> MonteCarloResult:
    """Simulate ``samples`` jobs of ``failures`` interruptions each; all times in one unit (e.g. hours).

    ``restart_distribution`` is ``constant`` or ``exponential`` (mean ``restart``). The mean
    extra downtime per failure is ``restart + p_wait·wait``, which the closed form uses.
    """
    if restart_distribution not in ("constant", "exponential"):
        raise ValueError("restart_distribution is 'constant' or 'exponential'")
    rng = np.random.default_rng(seed)
    segment = tau + delta
    gaps = rng.exponential(mtbi, size=(samples, failures))  # run time between restarts
    work = np.floor(gaps / segment) * tau
    if restart_distribution == "constant":
        down = np.full((samples, failures), float(restart))
    else:
        down = rng.exponential(restart, size=(samples, failures)) if restart > 0 else np.zeros((samples, failures))
    if p_wait > 0 and wait > 0:
        down = down + wait * (rng.random((samples, failures)) < p_wait)
    useful, wall = work.sum(axis=1), (gaps + down).sum(axis=1)
    ratio = float(useful.sum() / wall.sum())  # pooled ratio: bias O(1/(samples·failures))
    stderr = float(np.std(useful - ratio * wall, ddof=1) / np.sqrt(samples) / wall.mean())  # delta method
    closed = float(goodput_exponential(tau, delta, mtbi, restart + p_wait * wait))
    return MonteCarloResult(mean=ratio, stderr=stderr, samples=useful / wall, closed_form=closed)


__all__ = ["simulate_goodput", "MonteCarloResult"]
