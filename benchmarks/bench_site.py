"""Site planner benchmark: 100 MW, 1 GW and 5 GW sites end to end (incl. the per-cable plan).

Each size runs in a fresh process (so its peak resident memory is its own) and prints the plan time (a
second call: the site models alone), the cold time (imports, catalog, rack evaluation and the first plan),
peak memory, cables and the scaling exponent of plan time against cables (log-log slope; 1 = linear). The baseline
in the same run is the cable-length and media step written as one Python object per cable, timed on the
100 MW cable ends, against the vectorised step on the same ends. Target (issue 5): 1 GW < 10 s, < 2 GB.

    python benchmarks/bench_site.py [--sizes 100mw,1gw,5gw]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, resource, sys, time
start = time.perf_counter()
from rackwright.site.planner import plan_site
plan = plan_site(sys.argv[1])
cold = time.perf_counter() - start
start = time.perf_counter()
plan = plan_site(sys.argv[1])
warm = time.perf_counter() - start
print(json.dumps({"cold": cold, "seconds": warm, "cables": plan.cables.height, "racks": plan.layout.racks,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_size(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline_ratio(site: Path) -> tuple[float, float, int]:
    """Seconds of the per-object loop and of the vectorised step on the same cable ends."""
    from rackwright.site import cables as cab
    from rackwright.site.planner import plan_site

    plan = plan_site(site)
    table = plan.cables
    n = table.height
    rng = np.random.default_rng(0)
    ax, ay, bx, by = (rng.uniform(0, 300, n) for _ in range(4))
    reaches = [30.0, 100.0, 500.0]
    start = time.perf_counter()
    objects = [{"a": (ax[i], ay[i]), "b": (bx[i], by[i])} for i in range(n)]
    for cable in objects:
        length = (abs(cable["a"][0] - cable["b"][0]) + abs(cable["a"][1] - cable["b"][1]) + 5.0) * 1.1
        cable["media"] = next((j for j, r in enumerate(reaches) if length <= r), -1)
    loop = time.perf_counter() - start
    zeros = np.zeros(n, dtype=np.int32)
    start = time.perf_counter()
    a = cab.Ends(zeros, zeros, zeros, zeros, zeros, ax, ay)
    b = cab.Ends(zeros, zeros, zeros, zeros, zeros, bx, by)
    cab.choose_media(cab.routed_length(a, b, 2.0, 1.0, 0.1), reaches)
    vectorised = time.perf_counter() - start
    return loop, vectorised, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100mw,1gw,5gw")
    parser.add_argument("--examples", default=str(ROOT / "examples"))
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    rows = []
    for size in sizes:
        result = run_size(Path(args.examples) / f"site-{size}.yaml")
        rows.append(result)
        print(f"site-{size}: {result['racks']:,} racks, {result['cables']:,} cables: plan {result['seconds']:.2f} s "
              f"(cold process incl. imports and rack evaluation {result['cold']:.2f} s), peak {result['peak_mb']:,.0f} MB",
              flush=True)
    if len(rows) > 1:
        cables = np.log([r["cables"] for r in rows])
        seconds = np.log([r["seconds"] for r in rows])
        print(f"scaling exponent (time ~ cables^k): k = {np.polyfit(cables, seconds, 1)[0]:.2f}")
    loop, vectorised, n = baseline_ratio(Path(args.examples) / f"site-{sizes[0]}.yaml")
    print(f"cable length + media, {n:,} cables: one Python object per cable {loop:.3f} s, vectorised "
          f"{vectorised:.4f} s, ratio {loop / vectorised:,.0f}x")
    print(f"benchmark process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
