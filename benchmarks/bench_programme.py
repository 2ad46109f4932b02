"""Programme speed and memory: the 10 GW example planned end to end, optionally with a site plan for every site.

    python benchmarks/bench_programme.py [--programme examples/programme-10gw.yaml]
                                         [--site-file examples/site-1gw.yaml]

Reports the seconds of each step (loading and evaluating the designs, the lines' rates, the reference job's
parallelism search and goodput per generation, the roadmap MILP, the site plans), the whole plan's wall and CPU
time, and the peak resident memory. With ``--site-file`` every site is planned with that site file's layout,
fabric, power chain and cooling for the racks the roadmap sends there (``sites.<id>.plan``), the per-cable plans
held in memory: the issue's scale target is the whole programme with every site's cable plan in under 60 s and
4 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from rackwright.programme import load_programme, plan_programme
from rackwright.programme.plan import programme_document

ROOT = Path(__file__).resolve().parents[1]
TARGET_S, TARGET_GB = 60.0, 4.0


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programme", type=Path, default=ROOT / "examples" / "programme-10gw.yaml")
    parser.add_argument("--site-file", type=Path, default=None, help="plan every site with this site file")
    args = parser.parse_args(argv)

    wall, cpu = time.perf_counter(), time.process_time()
    overrides = None
    if args.site_file is not None:
        sites = load_programme(args.programme).programme.sites
        overrides = {f"sites.{site.id}.plan": str(args.site_file.resolve()) for site in sites}
    start = time.perf_counter()
    loaded = load_programme(args.programme, overrides)
    load_s = time.perf_counter() - start
    plan = plan_programme(loaded)
    doc = programme_document(plan)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux
    headline = {h["name"]: h["value"] for h in doc["headline"]}
    cables = sum(site.cables.height for site in plan.sites.values())

    print(f"programme: {loaded.programme.name}; {len(loaded.programme.generations)} generations, "
          f"{len(loaded.programme.sites)} sites ({len(plan.sites)} planned), {len(doc['quarters'])} quarters")
    print(f"load and evaluate the designs: {load_s:.2f} s")
    for step, seconds in plan.seconds.items():
        print(f"{step}: {seconds:.2f} s")
    print(f"whole plan: {wall:.1f} s wall, {cpu:.1f} s CPU (this process), peak memory {peak_gb:.2f} GB; "
          f"{cables:,} cables in the site plans")
    if args.site_file is not None:
        met = wall < TARGET_S and peak_gb < TARGET_GB
        print(f"target < {TARGET_S:g} s and < {TARGET_GB:g} GB with every site's cable plan: "
              f"{'met' if met else 'MISSED'}")
    print(f"{headline['it_power_by_goal_date']:.2f} GW by the goal date (met {headline['goal_met']}), "
          f"{headline['delivered_training_compute_by_goal_date']:,.0f} EFLOP/s delivered")
    return {"wall_s": wall, "cpu_s": cpu, "peak_gb": peak_gb, "load_s": load_s, "cables": cables,
            **{f"{k}_s": v for k, v in plan.seconds.items()}}


if __name__ == "__main__":
    main()
