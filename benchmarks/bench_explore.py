"""Designs per second of ``rackwright explore``: one core, Ray on all cores, a training objective, and a
loop of scalar ``evaluate`` calls on designs of the same space, all in one run.

    python benchmarks/bench_explore.py [--space examples/space-gb300.yaml] [--loop 200]
                                       [--training-samples 20000] [--workers N] [--no-ray]

Rack objectives (cost per PFLOP, US content, rack power) are evaluated over the space's full grid;
the rate counts the chunked evaluation (figures, rules, limits), the end-to-end time adds the Pareto
filter. The training objective (``perf.training_tokens_per_s_per_mw``, one parallelism search per
distinct system) is timed on a Latin-hypercube sample of the same axes with its search cache cleared.
The scalar loop evaluates designs of the space one ``rackwright.evaluate`` call at a time (designs
built beforehand, so only the evaluation is timed) and is extrapolated to a rate.
Targets (issue 8): >= 1,000,000 designs/s on one core for the rack objectives; >= 10,000 designs/s
with the training objective.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from ruamel.yaml import YAML

import rackwright
from rackwright.explore import explore
from rackwright.explore.evaluate import TRAINING, tokens_per_s_per_accelerator
from rackwright.explore.export import pareto_document
from rackwright.rack.design import deep_merge, validate_design

ROOT = Path(__file__).resolve().parents[1]


def time_local(space: Path) -> tuple[object, float]:
    start = time.perf_counter()
    result = explore(space, sensitivity=False)
    return result, time.perf_counter() - start


def time_ray(space: Path, workers: int) -> float:
    import ray

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        explore(space, backend="ray", sensitivity=False)  # warm the workers (space loaded once per worker)
        return explore(space, backend="ray", sensitivity=False).evaluations_per_s
    finally:
        ray.shutdown()


def time_training(space: Path, samples: int) -> tuple[float, int]:
    """Designs/s with the training-throughput objective added, on ``samples`` LHS designs (cold search cache)."""
    yaml = YAML(typ="safe")
    doc = yaml.load(space.read_text())
    doc["base"] = str((space.parent / doc["base"]).resolve())
    doc["sampling"] = {"method": "lhs", "samples": samples, "seed": 0}
    doc["objectives"] = [*doc["objectives"], {"figure": TRAINING, "goal": "max"}]
    doc["sensitivity"] = {"samples": 0}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "training-space.yaml"
        with path.open("w") as handle:
            yaml.dump(doc, handle)
        tokens_per_s_per_accelerator.cache_clear()
        result = explore(path, sensitivity=False)
    return result.evaluations_per_s, tokens_per_s_per_accelerator.cache_info().currsize


def time_loop(result, n: int) -> float:
    """Scalar ``evaluate`` calls per second on ``n`` designs of the explored space (spread over its rows)."""
    base = result.space.base
    rows = np.linspace(0, result.designs_evaluated - 1, n).astype(int)
    designs = []
    for row in rows:
        body = pareto_document(result, int(row), Path(base.file), Path(base.file).parent)
        body = {k: v for k, v in body.items() if k not in ("name", "extends", "description")}
        designs.append(validate_design(deep_merge(base.raw, body), base.file, base.lineage))
    start = time.perf_counter()
    for design in designs:
        rackwright.evaluate(design)
    return n / (time.perf_counter() - start)


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", type=Path, default=ROOT / "examples" / "space-gb300.yaml")
    parser.add_argument("--loop", type=int, default=200, help="scalar evaluate calls in the baseline loop")
    parser.add_argument("--training-samples", type=int, default=20000, help="LHS designs for the training objective")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="CPUs of the local Ray cluster")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray run (its start takes seconds)")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]  # other work on the machine slows every rate below alike
    explore(args.space, sensitivity=False)  # warm-up: imports, catalog, CoolProp
    result, wall = time_local(args.space)
    per_s = result.evaluations_per_s
    ray_per_s = float("nan") if args.no_ray else time_ray(args.space, args.workers)
    training_per_s, searches = time_training(args.space, args.training_samples)
    loop = time_loop(result, args.loop)
    print(f"machine    : {os.cpu_count()} cores, load average {load:.1f} before the run")
    print(f"space      : {args.space.name} ({result.designs_evaluated:,} designs, {result.designs_feasible:,} feasible, "
          f"{len(result.front):,} on the Pareto front)")
    print(f"one core   : {per_s:14,.0f} designs/s  (rack objectives; {wall:.2f} s end to end with the Pareto filter)")
    if not args.no_ray:
        print(f"ray        : {ray_per_s:14,.0f} designs/s  ({args.workers} CPUs, Ray already started)")
    print(f"training   : {training_per_s:14,.0f} designs/s  ({args.training_samples:,} LHS designs, "
          f"{searches} parallelism searches)")
    print(f"scalar loop: {loop:14,.0f} designs/s  ({args.loop:,} evaluate() calls)")
    print(f"ratio      : {per_s / loop:14,.0f} x  (one core / scalar loop)")
    return {"designs_per_s": per_s, "ray_per_s": ray_per_s, "training_per_s": training_per_s, "loop_per_s": loop,
            "ratio": per_s / loop}


if __name__ == "__main__":
    main()
