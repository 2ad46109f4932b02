"""The whole programme in one model (issue 23): rack generations, factory lines, roadmap, delivered compute,
reliability, US content and cost by quarter.

``load_programme`` (schema) → ``plan_programme`` (the capabilities composed) → ``programme_document``
and ``dashboard`` (report); what-ifs and the Monte Carlo in :mod:`.whatif`; see docs/programme.md.
"""

from .plan import ProgrammePlan, plan_programme
from .schema import LoadedProgramme, load_programme
from .whatif import reach_gw

__all__ = ["LoadedProgramme", "ProgrammePlan", "load_programme", "plan_programme", "reach_gw"]
