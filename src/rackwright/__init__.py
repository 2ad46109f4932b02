"""rackwright: co-design, evaluate and plan AI data-centre rack generations.

The Python API::

    import rackwright
    report = rackwright.evaluate("examples/gb200-nvl72.yaml")
    batch = rackwright.evaluate_batch("examples/gb200-nvl72.yaml", {"parts.accelerator.power": powers})

The names are loaded on first use, so that ``rackwright --help`` or a command that needs only part of the
package does not pay for importing all of it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["evaluate", "evaluate_batch", "load_design", "load_catalog", "Rack", "BatchResult", "InputError"]
#: Public name → the module that defines it.
_API = {
    "evaluate": "rack.evaluation",
    "evaluate_batch": "rack.evaluation",
    "Rack": "rack.evaluation",
    "BatchResult": "rack.evaluation",
    "load_design": "rack.design",
    "load_catalog": "catalog",
    "InputError": "errors",
}

if TYPE_CHECKING:
    from .catalog import load_catalog
    from .errors import InputError
    from .rack.design import load_design
    from .rack.evaluation import BatchResult, Rack, evaluate, evaluate_batch


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'rackwright' has no attribute {name!r}")
    value = getattr(import_module(f".{_API[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
