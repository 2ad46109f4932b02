"""Programme speed and memory: the 10 GW example planned end to end, optionally with a site plan for every site.

    python benchmarks/bench_programme.py [--programme examples/programme-10gw.yaml]
                                         [--site-file examples/site-1gw.yaml]

Reports the seconds of each step (loading and evaluating the designs, the lines' rates, the reference job's
parallelism search and goodput per generation, the roadmap MILP, the site plans), the whole plan's wall and CPU
time (this process and its workers), and the peak resident memory. With ``--site-file`` every site is planned with
that site file's layout, fabric, power chain and cooling at each power step it uses, for the racks the roadmap
sends there (``sites.<id>.plan``); every step streams its per-cable plan to Parquet in a temporary folder
(``sites/SITE/cables/step=K/``) and no cable plan is held; the roadmap solve plans around the site plans' optics
and CDUs (its reference site plans are the ``site_need`` step), and the linear site need is compared with each
step's plan: the issue's scale target is the whole programme with every site's cable plan in
under 60 s and 4 GB on 2 cores. ``--workers N`` runs the reference jobs, spares and site plans on N processes
(default 1: in this process; on the shared two-core machine two workers were slower); ``--serial-baseline`` then
plans again in this process alone and gives the ratio of the wall times.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from itertools import groupby
from pathlib import Path

from ruamel.yaml import YAML

from rackwright.programme import load_programme, plan_programme
from rackwright.programme.plan import programme_document
from rackwright.programme.sites import site_need_error

ROOT = Path(__file__).resolve().parents[1]
TARGET_S, TARGET_GB = 60.0, 4.0


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programme", type=Path, default=ROOT / "examples" / "programme-10gw.yaml")
    parser.add_argument("--site-file", type=Path, default=None, help="plan every site with this site file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="change a field of the programme (YAML value), as programme whatif --set does")
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1: this process)")
    parser.add_argument("--correct-site-need", action="store_true",
                        help="where an optics or CDU cap binds, solve once more on the site need corrected from "
                             "the site plans (plan_programme(correct_site_need=True))")
    parser.add_argument("--serial-baseline", action="store_true",
                        help="then plan again in this process alone (workers 1) and give the ratio of the wall times")
    args = parser.parse_args(argv)

    wall, cpu = time.perf_counter(), time.process_time()
    overrides = {key: YAML(typ="safe").load(value) for key, value in (o.split("=", 1) for o in args.overrides)}
    if args.site_file is not None:
        sites = load_programme(args.programme).programme.sites
        overrides |= {f"sites.{site.id}.plan": str(args.site_file.resolve()) for site in sites}
    start = time.perf_counter()
    loaded = load_programme(args.programme, overrides or None)
    load_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:  # each site's last step streamed to Parquet there
        plan = plan_programme(loaded, outdir=Path(folder), workers=args.workers,
                              correct_site_need=args.correct_site_need)
        doc = programme_document(plan)
        written = sum(f.stat().st_size for f in Path(folder).rglob("part-0.parquet"))  # every step's cables
        partitions = len(list(Path(folder).rglob("part-0.parquet")))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_children = children.ru_utime + children.ru_stime
    # kB on Linux; a pool's workers run at once, so the bound is this process plus that many of the largest
    peak_gb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + args.workers * children.ru_maxrss) / 1e6
    headline = {h["name"]: h["value"] for h in doc["headline"]}
    cables = headline["site_plan_links"] or 0

    print(f"programme: {loaded.programme.name}; {len(loaded.programme.generations)} generations, "
          f"{len(loaded.programme.sites)} sites, {len(doc['quarters'])} quarters; {args.workers} worker processes")
    print(f"{len(plan.sites)} site steps planned ({len({id(s.planned) for s in plan.sites})} distinct), "
          f"{written / 1e6:,.0f} MB of cable plans written ({partitions} steps' Parquet partitions)")
    print(f"load and evaluate the designs: {load_s:.2f} s")
    for step, seconds in plan.seconds.items():
        print(f"{step}: {seconds:.2f} s")
    print(f"whole plan: {wall:.1f} s wall, {cpu:.1f} s CPU here + {cpu_children:.1f} s in the workers, "
          f"peak memory at most {peak_gb:.2f} GB; {cables:,} cables in the sites' last steps")
    if all(site.plan is not None for site in loaded.programme.sites):  # the example's own site files, or --site-file
        met = wall < TARGET_S and peak_gb < TARGET_GB
        print(f"target < {TARGET_S:g} s and < {TARGET_GB:g} GB with every site's cable plan: "
              f"{'met' if met else 'MISSED'} (wall {wall / TARGET_S:.2f} of the target, memory "
              f"{peak_gb / TARGET_GB:.2f}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")
    print(f"{headline['it_power_by_goal_date']:.2f} GW by the goal date (met {headline['goal_met']}), "
          f"{headline['delivered_training_compute_by_goal_date']:,.0f} EFLOP/s delivered")
    print("binding constraints: " + "; ".join(
        f"{b['family']} {b['name']}" + (f" (short {b['shortfall']:,.0f})" if b["family"] == "site-supply" else "")
        for b in doc["binding_constraints"]))
    for line, rows in groupby(site_need_error(plan), key=lambda row: row["supply"]):
        rows = list(rows)
        errors = [row["error"] for row in rows if row["error"] is not None] or [0.0]
        differences = [row["difference"] for row in rows]
        print(f"linear site need of {line} against the steps' plans: {min(differences):+,.2f} to "
              f"{max(differences):+,.2f} ({min(errors):+.1%} to {max(errors):+.1%} where planned > 0; "
              + ", ".join(f"{r['site']} {r['power_step']}: {r['racks']} racks, {r['linear']:,.2f} linear, "
                          f"{r['planned']:,.2f} planned" for r in rows) + ")")
    for row in doc["site_supply_check"]:  # what the cap delivers against what the racks and the plans use
        print(f"{row['supply']} by the goal date: {row['delivered_by_goal_date']:,.0f} delivered, "
              f"{row['racks_use']:,.0f} in the racks, {sum(row['site_plans'].values()):,.0f} in the site plans, "
              f"{row['margin']:,.0f} left")
    if args.serial_baseline:  # after the measured run, so it does not warm this process for it
        start, cpu_start = time.perf_counter(), time.process_time()
        with tempfile.TemporaryDirectory() as folder:
            plan_programme(load_programme(args.programme, overrides or None), outdir=Path(folder), workers=1,
                           correct_site_need=args.correct_site_need)
        serial, serial_cpu = time.perf_counter() - start, time.process_time() - cpu_start
        print(f"baseline, the same plan in one process: {serial:.1f} s wall, {serial_cpu:.1f} s CPU")
        print(f"ratio one process/{args.workers} workers: {serial / wall:.2f}x (wall time)")
    return {"wall_s": wall, "cpu_s": cpu, "cpu_workers_s": cpu_children, "peak_gb": peak_gb, "load_s": load_s,
            "cables": cables,
            **{f"{k}_s": v for k, v in plan.seconds.items()}}


if __name__ == "__main__":
    main()
