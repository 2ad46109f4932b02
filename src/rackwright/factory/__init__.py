"""The factory: simulate a rack integration-and-test line and size it.

* :mod:`.line` — the line file schema (stations, calendar, arrivals) and loading;
* :mod:`.dfm` — design for manufacturing: a design's work content (trays, cables, liquid connections);
* :mod:`.queueing` — Erlang C, M/M/c waits, Little's law and the queueing first guess of station sizes;
* :mod:`.simulate` — the SimPy model, replications, statistics and the capacity search.

::

    from rackwright.factory import load_line, simulate, work_content
    from rackwright.rack.evaluation import sound_design
    line = load_line("examples/line-us.yaml").line
    work = work_content(sound_design("examples/gb200-nvl72.yaml").model)
    print(simulate(line, work, weeks=4, replications=3, seed=1).summary()["racks_per_week_mean"])
"""

from .dfm import WorkContent, work_content
from .line import Line, LoadedLine, Station, expected_visits, load_line, validate_line
from .queueing import erlang_b, erlang_c, first_guess, littles_law, mmc, mmc_wait, station_loads
from .simulate import (
    CapacityResult,
    SimulationResult,
    WorkCalendar,
    capacity_search,
    run_replication,
    simulate,
    supply_delay,
)

__all__ = [
    "Line",
    "LoadedLine",
    "Station",
    "load_line",
    "validate_line",
    "expected_visits",
    "WorkContent",
    "work_content",
    "erlang_b",
    "erlang_c",
    "mmc",
    "mmc_wait",
    "littles_law",
    "station_loads",
    "first_guess",
    "simulate",
    "run_replication",
    "capacity_search",
    "supply_delay",
    "SimulationResult",
    "CapacityResult",
    "WorkCalendar",
]
