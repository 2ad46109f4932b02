"""Factory line simulation speed: one line-year of the ~1,000 racks/week example, and replications across cores.

    python benchmarks/bench_factory.py [--weeks 52] [--replications 20] [--serial 4] [--workers 0]
                                       [--line examples/line-us.yaml] [--design examples/gb200-nvl72.yaml]

1. Seconds to simulate one line-year (``--weeks`` of the example line: ~52,000 racks, ~11
   station visits each including rework), one replication on one core.
   Target: under 5 s.
2. Replications per second on one core (``--serial`` replications) and with ``--replications``
   spread over ``--workers`` processes (0 = all cores), and the ratio of the two.

Parallel replications use :class:`concurrent.futures.ProcessPoolExecutor` (the standard
library), the engine already used by ``rackwright factory simulate --workers``: Ray is not
installed in this project, and replications are independent coarse tasks (seconds each,
results of a few MB), so a process pool is all they need. Each replication has its own
random stream (spawned from one seed), so parallel and serial results are identical.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from rackwright.factory import load_line, simulate, work_content
from rackwright.rack.evaluation import sound_design

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--line", type=Path, default=ROOT / "examples" / "line-us.yaml")
    parser.add_argument("--design", type=Path, default=ROOT / "examples" / "gb200-nvl72.yaml")
    parser.add_argument("--weeks", type=float, default=52, help="weeks per replication (a line-year: 52)")
    parser.add_argument("--replications", type=int, default=20, help="replications run in parallel")
    parser.add_argument("--serial", type=int, default=4, help="replications run on one core for the baseline")
    parser.add_argument("--workers", type=int, default=0, help="processes (0 = all cores)")
    args = parser.parse_args(argv)

    line = load_line(args.line).line
    work = work_content(sound_design(args.design).model)
    workers = args.workers or os.cpu_count() or 1

    start = time.perf_counter()
    one = simulate(line, work, args.weeks, 1, seed=0)
    line_year = time.perf_counter() - start
    racks = one.replications[0].shipped
    visits = int(sum(one.replications[0].visits))

    start = time.perf_counter()
    simulate(line, work, args.weeks, args.serial, seed=1)
    serial_rate = args.serial / (time.perf_counter() - start)

    start = time.perf_counter()
    parallel = simulate(line, work, args.weeks, args.replications, seed=1, workers=workers)
    parallel_rate = args.replications / (time.perf_counter() - start)
    summary = parallel.summary()

    print(f"line: {line.name}; design: {args.design.name}; {os.cpu_count()} cores")
    print(f"one line-year ({args.weeks:g} weeks): {line_year:.2f} s for {racks:,} racks shipped, "
          f"{visits:,} station visits ({visits / line_year:,.0f} visits/s); target < 5 s: "
          f"{'met' if line_year < 5 else 'MISSED'}")
    print(f"serial: {serial_rate:.3f} replications/s ({args.serial} replications, 1 core)")
    print(f"parallel: {parallel_rate:.3f} replications/s ({args.replications} replications, {workers} processes)")
    print(f"ratio parallel/serial: {parallel_rate / serial_rate:.2f}x")
    print(f"output: {summary['racks_per_week_mean']:,.1f} racks/week "
          f"[{summary['racks_per_week_p05']:,.1f}, {summary['racks_per_week_p95']:,.1f}] over {args.replications} replications")
    return {"line_year_s": line_year, "racks": racks, "visits": visits, "serial_per_s": serial_rate,
            "parallel_per_s": parallel_rate, "ratio": parallel_rate / serial_rate, "workers": workers}


if __name__ == "__main__":
    main()
