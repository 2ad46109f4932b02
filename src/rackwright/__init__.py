"""rackwright: co-design, evaluate and plan AI data-centre rack generations.

The Python API::

    import rackwright
    report = rackwright.evaluate("examples/gb200-nvl72.yaml")
    batch = rackwright.evaluate_batch("examples/gb200-nvl72.yaml", {"parts.accelerator.power": powers})
"""

from .catalog import load_catalog
from .design import load_design
from .errors import InputError
from .evaluation import BatchResult, RackReport, evaluate, evaluate_batch

__version__ = "0.1.0"
__all__ = ["evaluate", "evaluate_batch", "load_design", "load_catalog", "RackReport", "BatchResult", "InputError"]
