"""Cables per second through ``rackwright netbox push`` against a local NetBox, batched against one per request.

    python benchmarks/bench_netbox.py [--power "0.5 MW"] [--baseline 40] [--batch 200] [--parallel 4]

Starts the throwaway NetBox of the live tests (``tests/netbox_service.py``: NetBox from PyPI in its own
virtualenv, PostgreSQL, Redis, gunicorn on loopback), plans a small site (``examples/site-100mw.yaml`` at
``--power``, two fabric tiers) and pushes everything but its cables with :func:`rackwright.site.netbox_api.push`.
Then the cables, in the same run and on the same NetBox:

* **baseline**: the first ``--baseline`` cables one object per request, one request at a time (batch 1,
  parallel 1), what a client that POSTs each object does;
* **batched**: the rest split evenly over each ``--batch`` x ``--parallel`` pair (comma lists sweep them): list
  POSTs of that many cables, that many in flight.

Cables per second count from the first cable POST (after push's lookups, timed apart) to the last answer. The
CPU seconds NetBox's gunicorn workers and PostgreSQL spent per cable are printed too: unlike the wall time they
do not depend on what else the machine runs. Last, a second push of the whole plan, which must create nothing,
is timed (the lookups of an idempotent push). Target (issue 21): at least 100 cables/s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from netbox_service import NetBoxService  # noqa: E402
from rackwright.site.netbox import SiteExport, site_export  # noqa: E402
from rackwright.site.netbox_api import NetBox, push  # noqa: E402

TARGET = 100.0  # cables/s
TICKS = os.sysconf("SC_CLK_TCK")


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and its descendants (from /proc): the living ones, and the
    exited ones their parents have waited for (``cutime``, ``cstime``: PostgreSQL's backends of closed
    connections, reaped by the postmaster)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / TICKS  # utime, stime, cutime, cstime
    return own + sum(_tree_cpu(int(child)) for child in children)


def netbox_cpu(nb: NetBoxService) -> float:
    """CPU seconds of NetBox's gunicorn workers and of its PostgreSQL server so far."""
    postmaster = int((nb.pg.data / "postmaster.pid").read_text().split()[0])
    return _tree_cpu(nb.server.pid) + _tree_cpu(postmaster)


def plan(folder: Path, power: str) -> Path:
    subprocess.run(
        [str(Path(sys.executable).parent / "rackwright"), "site", "plan", str(ROOT / "examples" / "site-100mw.yaml"),
         "-o", str(folder), "--no-report", "--set", f"target.it_power={power}", "--set", "fabric.tiers=2",
         "--set", "name=NetBox bench site"],
        check=True, capture_output=True, timeout=900,
    )
    return folder


def with_cables(export: SiteExport, cables: list[dict]) -> SiteExport:
    return dataclasses.replace(export, rows={**export.rows, "13-cables.csv": cables})


def timed_push(nb: NetBoxService, export: SiteExport, batch: int, parallel: int) -> dict:
    """Push ``export``; seconds and NetBox CPU seconds of the cable step (from its first POST), and of its lookups."""
    marks: dict[str, float] = {}

    def tick(step: str, done: int) -> None:
        marks.setdefault(step, time.perf_counter())

    cpu = netbox_cpu(nb)
    started = time.perf_counter()
    with NetBox(nb.url, nb.token, batch=batch, parallel=parallel) as api:
        tallies = push(api, export, tick)
    ended = time.perf_counter()
    cables = tallies["cables"]
    assert not cables.refused, cables.refused[:5]
    seconds = marks.get("power cables", ended) - marks.get("cables", ended)  # up to the power cables' first report
    return {"created": cables.created, "skipped": cables.skipped, "seconds": seconds,
            "lookups": marks.get("cables", ended) - started, "cpu": netbox_cpu(nb) - cpu, "total": ended - started}


def row(name: str, result: dict) -> str:
    n = result["created"]
    rate = n / result["seconds"] if result["seconds"] else float("inf")
    per = result["cpu"] / n if n else float("nan")
    return (f"{name:<28} {n:>7,} {result['lookups']:>9.1f} {result['seconds']:>9.1f} {rate:>10.1f} "
            f"{per * 1000:>12.0f}")


def load() -> str:
    """The machine's load average (1, 5, 15 min): how much else ran beside NetBox (wall times depend on it)."""
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--power", default="0.5 MW", help="IT power of the planned site (default 0.5 MW: 800 cables)")
    parser.add_argument("--baseline", type=int, default=40, help="cables pushed one per request")
    parser.add_argument("--batch", default="200", help="cables per POST (comma list)")
    parser.add_argument("--parallel", default="4", help="POSTs in flight (comma list)")
    args = parser.parse_args()
    configs = [(int(b), int(p)) for b in args.batch.split(",") for p in args.parallel.split(",")]

    with tempfile.TemporaryDirectory() as tmp, NetBoxService() as nb:
        export = site_export(plan(Path(tmp) / "plan", args.power))
        cables = export.rows["13-cables.csv"]
        print(f"NetBox {nb.url}: start {nb.timings}; {len(export.rows['09-devices.csv']):,} devices, "
              f"{len(cables):,} cables; {load()}")
        started, cpu = time.perf_counter(), netbox_cpu(nb)
        first = timed_push(nb, with_cables(export, []), 200, 4)
        print(f"everything but cables: {first['total']:.1f} s, {netbox_cpu(nb) - cpu:.0f} CPU s of NetBox "
              f"({len(export.rows['09-devices.csv']) / (time.perf_counter() - started):.2f} devices/s)")

        header = f"{'cables':<28} {'created':>7} {'lookups s':>9} {'post s':>9} {'cables/s':>10} {'NetBox CPU ms':>12}"
        print(header + "\n" + "-" * len(header))
        base = timed_push(nb, with_cables(export, cables[: args.baseline]), 1, 1)
        print(row("one per request", base), flush=True)
        rest = cables[args.baseline :]
        share = len(rest) // len(configs)
        results = []
        for k, (batch, parallel) in enumerate(configs):
            done = len(cables) - len(rest) + share * (k + 1) if k < len(configs) - 1 else len(cables)
            result = timed_push(nb, with_cables(export, cables[:done]), batch, parallel)
            results.append(result)
            print(row(f"batch {batch}, {parallel} in flight", result), flush=True)
        again = timed_push(nb, export, max(configs)[0], max(configs)[1])
        assert again["created"] == 0
        print(f"second push of the whole plan: {again['total']:.1f} s, nothing created")

        base_rate = base["created"] / base["seconds"]
        best = max(r["created"] / r["seconds"] for r in results)
        print(f"{load()} (at the end)")
        print(f"\nbest batched {best:.1f} cables/s = {best / base_rate:.1f}x one per request ({base_rate:.1f}/s); "
              f"target {TARGET:.0f} cables/s: {'met' if best >= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
