"""Design-space exploration: spaces of rack variants, feasibility, Pareto fronts, sensitivity (docs/explore.md).

>>> from rackwright.explore import explore
>>> result = explore("examples/space-gb300-small.yaml")   # doctest: +SKIP
>>> result.designs_feasible, result.pareto()[0]            # doctest: +SKIP
"""

from .explorer import Exploration, explore
from .space import Space, load_space

__all__ = ["Exploration", "Space", "explore", "load_space"]
