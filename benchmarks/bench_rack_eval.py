"""Evaluations per second: the batch path vs a loop of scalar ``evaluate`` calls, in one run.

    python benchmarks/bench_rack_eval.py [--batch 1000000] [--loop 200] [--design examples/gb200-nvl72.yaml]

The batch varies accelerator power, the number of upper compute trays and the facility water
temperature together (three override arrays), so every figure is recomputed for every variant.
Target (issue 3): >= 1,000,000 evaluations/s on one core for the batch path.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import rackwright
from rackwright.rack.design import load_design

ROOT = Path(__file__).resolve().parents[1]


def batch_overrides(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "parts.accelerator.power": rng.uniform(800.0, 1600.0, n),
        "slots[compute-upper].count": rng.integers(6, 11, n).astype(float),
        "cooling.facility_supply": rng.uniform(290.15, 310.15, n),
    }


def time_batch(design, n: int, repeats: int = 3) -> float:
    """Best-of-``repeats`` evaluations per second of one ``evaluate_batch`` call over ``n`` variants."""
    overrides = batch_overrides(n)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = rackwright.evaluate_batch(design, overrides)
        best = min(best, time.perf_counter() - start)
        assert len(result) == n
    return n / best


def time_loop(path: Path, n: int) -> float:
    """Evaluations per second of ``n`` scalar ``evaluate`` calls (design already parsed, as in a notebook)."""
    design = load_design(path)
    overrides = batch_overrides(n)
    start = time.perf_counter()
    for i in range(n):
        variant = design.model_copy(deep=True)
        variant.design.overrides = {"parts.accelerator.power": f"{overrides['parts.accelerator.power'][i]} W"}
        rackwright.evaluate(variant)
    return n / (time.perf_counter() - start)


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1_000_000, help="variants in the batch")
    parser.add_argument("--loop", type=int, default=200, help="scalar evaluate calls in the baseline loop")
    parser.add_argument("--design", type=Path, default=ROOT / "examples" / "gb200-nvl72.yaml")
    args = parser.parse_args(argv)
    design = load_design(args.design)
    batch = time_batch(design, args.batch)
    loop = time_loop(args.design, args.loop)
    print(f"design: {args.design.name}")
    print(f"batch path : {batch:14,.0f} evaluations/s  ({args.batch:,} variants per call)")
    print(f"scalar loop: {loop:14,.0f} evaluations/s  ({args.loop:,} evaluate() calls)")
    print(f"ratio      : {batch / loop:14,.0f} x")
    return {"batch_per_s": batch, "loop_per_s": loop, "ratio": batch / loop}


if __name__ == "__main__":
    main()
