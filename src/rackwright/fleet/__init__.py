"""Fleet reliability: job interruptions by cause, checkpointing and goodput, spare pools, qualification.

* :mod:`.failures` — the failure model per component kind (``data/failure_modes.yaml``), a
  design's inventory and the causes of interruption of a job (series rates, fabric counts);
* :mod:`.goodput` — checkpoint size and write time, Young/Daly intervals, goodput, ``job_report``;
* :mod:`.spares` — Poisson cold spares, compound-Poisson hot spares, blast-radius idle capacity;
* :mod:`.montecarlo` — a vectorised Monte Carlo of a checkpointed job (checks the closed form);
* :mod:`.validation` — the Llama 3 405B case (``validation/reliability/llama3-405b.yaml``);
* :mod:`.qualify` — measured results of early racks against the models.

The models take an evaluated rack (:class:`~rackwright.rack.evaluation.Rack`, from ``rackwright.evaluate(path)``
or ``rackwright.rack.evaluation.sound_design(path)``), never a design path. See ``docs/reliability.md``.
"""

from .failures import (
    Cause,
    FailureModes,
    Inventory,
    fabric_counts,
    interruption_rate,
    interruptions_per_day,
    inventory,
    job_causes,
    load_failure_modes,
    mtbi_hours,
    series_rate,
)
from .goodput import (
    checkpoint_bytes,
    checkpoint_write_time,
    daly_interval,
    goodput_exponential,
    goodput_first_order,
    job_report,
    lost_fraction,
    young_interval,
)
from .montecarlo import MonteCarloResult, simulate_goodput
from .qualify import METRICS, qualify, read_results
from .spares import (
    compound_poisson_cdf,
    hot_spares_needed,
    idle_capacity_fraction,
    poisson_cdf,
    poisson_quantile,
    spares_report,
    wait_probability,
)

__all__ = [
    "Cause",
    "FailureModes",
    "Inventory",
    "fabric_counts",
    "interruption_rate",
    "interruptions_per_day",
    "inventory",
    "job_causes",
    "load_failure_modes",
    "mtbi_hours",
    "series_rate",
    "checkpoint_bytes",
    "checkpoint_write_time",
    "daly_interval",
    "goodput_exponential",
    "goodput_first_order",
    "job_report",
    "lost_fraction",
    "young_interval",
    "MonteCarloResult",
    "simulate_goodput",
    "METRICS",
    "qualify",
    "read_results",
    "compound_poisson_cdf",
    "hot_spares_needed",
    "idle_capacity_fraction",
    "poisson_cdf",
    "poisson_quantile",
    "spares_report",
    "wait_probability",
]
