"""Roadmap optimiser (issue 7): several rack generations, sites, factories and supply to a GW goal.

``load_roadmap`` (schema) → ``plan`` (MILP with HiGHS, infeasibility diagnosis) and
``risk`` (Monte Carlo over slips and delays); see docs/roadmap.md.
"""

from .plan import plan, plan_document
from .schema import load_roadmap

__all__ = ["load_roadmap", "plan", "plan_document"]
