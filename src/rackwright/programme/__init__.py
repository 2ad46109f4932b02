"""The whole programme in one model (issue 23): rack generations, factory lines, roadmap, delivered compute,
reliability, US content and cost by quarter.

``load_programme`` (schema) → ``plan_programme`` (the capabilities composed) → ``programme_document``
and ``dashboard`` (report); see docs/programme.md.
"""

from .plan import ProgrammePlan, plan_programme, reach_gw
from .schema import LoadedProgramme, load_programme

__all__ = ["LoadedProgramme", "ProgrammePlan", "load_programme", "plan_programme", "reach_gw"]
