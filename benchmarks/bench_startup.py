"""Start-up: the wall time of CLI commands as a ratio to ``python -c "import numpy"``, in one run.

    python benchmarks/bench_startup.py [--repeats 5]

Each command runs as a fresh process (as a user types it), best of ``repeats``, after one warm-up run that
fills the cache of the validated catalog and of pint's unit definitions (``rackwright.cache``). Targets
(issue 19): ``rackwright --help`` ≤ 3×, ``rackwright check examples/gb300-nvl72.yaml`` ≤ 5×.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = [sys.executable, "-c", "import numpy"]
COMMANDS = {
    "rackwright --help": [sys.executable, "-m", "rackwright", "--help"],
    "rackwright check examples/gb300-nvl72.yaml": [sys.executable, "-m", "rackwright", "check",
                                                   str(ROOT / "examples" / "gb300-nvl72.yaml")],
}
TARGETS = {"rackwright --help": 3.0, "rackwright check examples/gb300-nvl72.yaml": 5.0}


def best_wall_time(command: list[str], repeats: int) -> float:
    """Fastest of ``repeats`` runs [s]; the command must exit 0."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per command (the fastest counts)")
    args = parser.parse_args(argv)
    for command in COMMANDS.values():
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)  # warm the caches
    baseline = best_wall_time(BASELINE, args.repeats)
    print(f"{'python -c ' + repr('import numpy'):<46} {baseline:6.3f} s")
    ratios = {}
    for name, command in COMMANDS.items():
        seconds = best_wall_time(command, args.repeats)
        ratios[name] = seconds / baseline
        print(f"{name:<46} {seconds:6.3f} s  ratio {ratios[name]:4.1f}x (target <= {TARGETS[name]:g}x)")
    return ratios


if __name__ == "__main__":
    main()
