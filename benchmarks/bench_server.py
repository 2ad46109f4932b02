"""Collaboration server under load: concurrent clients on loopback against SQLite and PostgreSQL.

    python benchmarks/bench_server.py [--clients 50] [--seconds 60] [--write-share 0.1]
                                      [--db sqlite,postgresql] [--workers 1] [--load 0.25,0.5,0.75]

For each database a fresh ``rackwright serve --demo --workers N`` runs as its own process(es),
and ``--clients`` asyncio clients (aiohttp, one keep-alive connection each) send reads of design
pages (``GET /designs/ORG/NAME``), reports and histories, and with probability ``--write-share``
a write (a new revision with ``If-Match`` of the head just read; the server checks and evaluates
it). A 409 (someone else wrote first) is the expected answer to a stale write and is counted
apart, not as an error; every other non-2xx is an error.

Three kinds of run per database:

* **1 client** (``--seconds`` / 6), the baseline: one request at a time, no queueing;
* **saturation**: every client sends its next request as soon as the last one answers (closed
  loop, no think time). The server is then always busy, so latency is queueing: mean latency =
  clients / throughput (Little's law), and read p99 < 50 ms at 50 clients needs about
  2,000 req/s;
* **offered load** (``--load``, fractions of the saturation throughput, ``--seconds`` / 2 each):
  the same clients send at a fixed total rate, each on its own Poisson schedule, the way users
  arrive. Latency counts from when a request was due, not when it was sent, so a client held up
  behind a slow answer does not hide the wait (the "coordinated omission" correction of wrk2).
  The highest load whose read p99 stays under 50 ms is the server's capacity at the target.

Printed per run: requests/s, p50/p99 latency of reads and writes, errors, conflicts, and lost
updates (acknowledged revisions missing from the history at the end; must be 0), then the
ratios to the 1-client baseline. Target (issue 10): read p99 < 50 ms with 50 clients, zero
errors, zero lost updates.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np

from rackwright.server import throwaway_pg
from rackwright.server.process import ServeProcess

WRITABLE = ["/designs/lab/ethernet-800vdc", "/designs/lab/meta-catalina"]
READABLE = WRITABLE + ["/designs/mfr/gb200-nvl72", "/designs/mfr/gb300-nvl72"]
TARGET_P99_S = 0.050


class Run:
    """One load run's clients, their shared statistics and (for an offered load) each client's rate."""

    def __init__(self, url: str, token: str, clients: int, seconds: float, write_share: float,
                 rate: float | None = None):
        self.api, self.token, self.clients, self.seconds = url + "/api/v1", token, clients, seconds
        self.write_share, self.rate_per_client = write_share, rate / clients if rate else None
        self.read, self.write, self.acknowledged = [], [], []
        self.errors = self.conflicts = 0

    async def go(self) -> float:
        """Run every client until ``seconds`` have passed; the elapsed time."""
        start = time.perf_counter()
        await asyncio.gather(*[self._client(i, start + self.seconds) for i in range(self.clients)])
        return time.perf_counter() - start

    async def _client(self, seed: int, until: float) -> None:
        rng = random.Random(seed)
        due = time.perf_counter()
        async with aiohttp.ClientSession(self.api + "/", headers={"Authorization": f"Bearer {self.token}"},
                                         connector=aiohttp.TCPConnector(limit=1),
                                         timeout=aiohttp.ClientTimeout(total=30)) as http:
            while True:
                # open loop: the next request is due on the client's Poisson schedule; closed loop: now
                due = due + rng.expovariate(self.rate_per_client) if self.rate_per_client else time.perf_counter()
                if due >= until:
                    return
                await asyncio.sleep(due - time.perf_counter())
                if rng.random() < self.write_share:
                    await self._write(http, rng.choice(WRITABLE), rng, due)
                else:
                    design = rng.choice(READABLE)
                    path = rng.choice([design, f"{design}/revisions/head/report", f"{design}/revisions"])
                    await self._timed(http, "GET", path, "read", due)

    async def _timed(self, http: aiohttp.ClientSession, method: str, path: str, kind: str, due: float,
                     **kwargs) -> tuple[int, dict | None]:
        """``(status, JSON body)`` of one request, its latency since ``due`` recorded under ``kind``."""
        try:
            async with http.request(method, path.lstrip("/"), **kwargs) as response:
                status = response.status
                document = await response.json() if status < 300 else None
        except (TimeoutError, aiohttp.ClientError):
            self.errors += 1
            return 0, None
        getattr(self, kind).append(time.perf_counter() - due)
        if status == 409 and kind == "write":
            self.conflicts += 1
        elif status >= 300:
            self.errors += 1
        return status, document

    async def _write(self, http: aiohttp.ClientSession, design: str, rng: random.Random, due: float) -> None:
        status, page = await self._timed(http, "GET", design, "read", due)
        if status != 200:
            return
        content = page["head"]["content"].split("\n# bench ")[0] + f"\n# bench {rng.getrandbits(48):x}\n"
        status, stored = await self._timed(http, "POST", f"{design}/revisions", "write", time.perf_counter(),
                                           json={"content": content, "message": "bench"},
                                           headers={"If-Match": page["head_revision"]})
        if status == 201:
            self.acknowledged.append((design, stored["id"]))


async def _history(url: str, token: str) -> set[tuple[str, str]]:
    """Every stored revision of the written designs."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        stored = set()
        for design in WRITABLE:
            page = f"{url}/api/v1{design}/revisions?limit=1000"
            while page:  # the history is paged: follow its rel="next" links
                async with http.get(page) as response:
                    stored |= {(design, r["id"]) for r in await response.json()}
                    page = response.links.get("next", {}).get("url")
        return stored


def _measure(url: str, tokens: dict, clients: int, seconds: float, write_share: float,
             rate: float | None = None) -> dict:
    run = Run(url, tokens["lab-engineer"], clients, seconds, write_share, rate)

    async def both():
        elapsed = await run.go()
        return elapsed, await _history(url, tokens["lab-viewer"])

    elapsed, stored = asyncio.run(both())
    ms = lambda xs, q: float(np.percentile(xs, q) * 1e3) if xs else float("nan")  # noqa: E731
    requests = len(run.read) + len(run.write)
    return {"clients": clients, "offered_per_s": rate, "seconds": elapsed, "requests": requests,
            "per_s": requests / elapsed, "read_p50_ms": ms(run.read, 50), "read_p99_ms": ms(run.read, 99),
            "write_p50_ms": ms(run.write, 50), "write_p99_ms": ms(run.write, 99),
            "writes": len(run.acknowledged), "conflicts": run.conflicts, "errors": run.errors,
            "lost": len(set(run.acknowledged) - stored)}


def _run(db_url: str, log: Path, args) -> dict:
    server = ServeProcess(db_url, throwaway_pg.free_port(), log, workers=args.workers).wait_ready()
    try:
        tokens = server.tokens()
        result = {"baseline": _measure(server.url, tokens, 1, max(args.seconds / 6, 1.0), args.write_share),
                  "saturation": _measure(server.url, tokens, args.clients, args.seconds, args.write_share)}
        capacity = result["saturation"]["per_s"]
        result["offered"] = [_measure(server.url, tokens, args.clients, max(args.seconds / 2, 1.0),
                                      args.write_share, rate=share * capacity) for share in args.load]
    finally:
        server.stop()
    return result


def _row(kind: str, label: str, row: dict) -> str:
    return (f"{kind:<10} {label:>22}: {row['per_s']:7.1f} req/s  read p50 {row['read_p50_ms']:6.1f} ms  p99 "
            f"{row['read_p99_ms']:6.1f} ms  write p50 {row['write_p50_ms']:6.1f} ms  p99 {row['write_p99_ms']:6.1f} ms"
            f"  writes {row['writes']}  conflicts {row['conflicts']}  errors {row['errors']}  lost {row['lost']}")


def _print(kind: str, result: dict) -> None:
    base, saturated, offered = result["baseline"], result["saturation"], result["offered"]
    clients = saturated["clients"]
    print(_row(kind, "1 client", base))
    print(_row(kind, f"{clients} clients, saturation", saturated))
    for row in offered:
        print(_row(kind, f"{clients} clients, {row['offered_per_s']:.0f}/s", row))
    print(f"{kind:<10} ratio {clients} clients / 1 client: throughput {saturated['per_s'] / base['per_s']:.2f}x, "
          f"read p99 at saturation {saturated['read_p99_ms'] / base['read_p99_ms']:.2f}x")
    within = [row for row in [saturated, *offered] if row["read_p99_ms"] < TARGET_P99_S * 1e3]
    best = max(within, key=lambda row: row["per_s"], default=None)
    runs = [base, saturated, *offered]
    print(f"{kind:<10} target read p99 < {TARGET_P99_S * 1e3:.0f} ms with {clients} clients: "
          f"{'met at saturation' if saturated in within else 'MISSED at saturation'}; "
          + (f"met up to {best['per_s']:.0f} req/s offered ({best['per_s'] / saturated['per_s']:.0%} of saturation)"
             if best else "missed at every offered load")
          + f"; zero errors and lost updates: "
          f"{'met' if all(row['errors'] == row['lost'] == 0 for row in runs) else 'MISSED'}")


def main(argv=None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--write-share", type=float, default=0.1, help="share of client iterations that write")
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--workers", type=int, default=1, help="server processes (rackwright serve --workers)")
    parser.add_argument("--load", type=lambda text: [float(x) for x in text.split(",") if x], default=[0.25, 0.5, 0.75],
                        help="offered loads as fractions of the saturation throughput (empty: none)")
    args = parser.parse_args(argv)

    print(f"{args.clients} clients, {args.seconds:g} s, write share {args.write_share:g}, {args.workers} server "
          f"worker(s); {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run")
    results = {}
    with tempfile.TemporaryDirectory(prefix="rackwright-bench-") as tmp:
        for kind in args.db.split(","):
            if kind == "sqlite":
                results[kind] = _run(f"sqlite:///{tmp}/bench.db", Path(tmp) / "sqlite.log", args)
            elif kind == "postgresql":
                if not throwaway_pg.available():
                    print("postgresql: skipped (no PostgreSQL binaries; run scripts/test-deps.sh)")
                    continue
                with throwaway_pg.ThrowawayPostgres() as pg:
                    results[kind] = _run(pg.create_database(), Path(tmp) / "postgresql.log", args)
            else:
                parser.error(f"unknown database kind {kind!r}")
            _print(kind, results[kind])
    return results


if __name__ == "__main__":
    main()
