"""Roadmap optimiser speed: one MILP solve of the 10 GW example, and Monte Carlo risk samples across cores.

    python benchmarks/bench_roadmap.py [--roadmap examples/roadmap-10gw.yaml] [--samples 1000]
                                       [--serial 100] [--workers 0] [--repeat 3]

1. Seconds for one solve of the example's MILP (4 generations, 8 sites, 3 factories, 14
   quarters), best of ``--repeat``, with the start rounded from the LP relaxation (what
   ``rackwright roadmap plan`` does) and, as the baseline in the same run, HiGHS on its own.
   Target: under 2 s. Evaluating the designs (rack figures, done once per run) is reported apart.
2. Risk samples per second: ``--serial`` samples on one core (baseline) and ``--samples`` on
   ``--workers`` processes (0 = all cores), and the ratio. The draws are made before the
   split, so both give the same numbers for the same seed.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from rackwright.roadmap import load_roadmap
from rackwright.roadmap.inputs import rack_figures
from rackwright.roadmap.milp import solve
from rackwright.roadmap.plan import prepare
from rackwright.roadmap.risk import risk

ROOT = Path(__file__).resolve().parents[1]


def _best(repeat: int, run) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roadmap", type=Path, default=ROOT / "examples" / "roadmap-10gw.yaml")
    parser.add_argument("--samples", type=int, default=1000, help="risk samples run in parallel")
    parser.add_argument("--serial", type=int, default=100, help="risk samples run on one core for the baseline")
    parser.add_argument("--workers", type=int, default=0, help="processes (0 = all cores)")
    parser.add_argument("--repeat", type=int, default=3, help="solves per timing (best kept)")
    args = parser.parse_args(argv)

    loaded = load_roadmap(args.roadmap)
    start = time.perf_counter()
    figures = rack_figures(loaded)
    evaluate_s = time.perf_counter() - start
    st = prepare(loaded, figures)
    rounded_s, plan = _best(args.repeat, lambda: solve(st, mode="plan"))
    alone_s, alone = _best(args.repeat, lambda: solve(st, mode="plan", start_from_lp=False))
    workers = args.workers or os.cpu_count() or 1

    serial = risk(loaded, args.serial, seed=1, workers=1, figures=figures)
    serial_rate = args.serial / serial.seconds
    parallel = risk(loaded, args.samples, seed=1, workers=workers, figures=figures)
    parallel_rate = args.samples / parallel.seconds
    doc = parallel.document()

    print(f"roadmap: {loaded.roadmap.name}; {st.n_cols} integer variables, {st.n_rows} rows, "
          f"{st.matrix.nnz:,} non-zeros; {os.cpu_count()} cores")
    print(f"rack figures (evaluate {len(loaded.roadmap.generations)} designs and their BOMs): {evaluate_s:.2f} s")
    print(f"one MILP solve, rounded LP start: {rounded_s:.3f} s (objective {plan.objective:,.1f}, {plan.status}); "
          f"target < 2 s: {'met' if rounded_s < 2 else 'MISSED'}")
    print(f"one MILP solve, HiGHS alone (baseline): {alone_s:.3f} s (objective {alone.objective:,.1f})")
    print(f"ratio baseline/rounded start: {alone_s / rounded_s:.2f}x")
    print(f"risk serial: {serial_rate:,.1f} samples/s ({args.serial} samples, 1 process)")
    print(f"risk parallel: {parallel_rate:,.1f} samples/s ({args.samples} samples, {workers} processes, "
          f"{parallel.seconds:.2f} s)")
    print(f"ratio parallel/serial: {parallel_rate / serial_rate:.2f}x")
    print(f"P(goal) = {doc['p_goal']:.1%}; GW by the date P10/P50/P90 = {doc['gw_by_date']['p10']:.2f} / "
          f"{doc['gw_by_date']['p50']:.2f} / {doc['gw_by_date']['p90']:.2f}")
    return {"solve_s": rounded_s, "baseline_solve_s": alone_s, "ratio_solve": alone_s / rounded_s,
            "serial_per_s": serial_rate, "parallel_per_s": parallel_rate, "ratio": parallel_rate / serial_rate,
            "workers": workers, "evaluate_s": evaluate_s}


if __name__ == "__main__":
    main()
