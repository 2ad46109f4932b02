"""rackwright: co-design, evaluate and plan AI data-centre rack generations."""

__version__ = "0.1.0"
