"""Collaboration server under load: concurrent clients on loopback against SQLite and PostgreSQL.

    python benchmarks/bench_server.py [--clients 50] [--seconds 60] [--write-share 0.1]
                                      [--db sqlite,postgresql] [--workers 1]

For each database a fresh ``rackwright serve --demo --workers N`` runs as its own process(es),
and ``--clients`` asyncio clients (httpx) loop for ``--seconds``: reads of design pages
(``GET /designs/ORG/NAME``), reports and histories, and with probability ``--write-share`` a
write (a new revision with ``If-Match`` of the head just read; the server checks and
evaluates it). A 409 (someone else wrote first) is the expected answer to
a stale write and is counted apart, not as an error; every other non-2xx is an error.

Printed per database: requests/s, p50/p99 latency of reads and writes, errors, conflicts,
and lost updates (acknowledged revisions missing from the history at the end; must be 0).
The baseline in the same run is one client alone (``--seconds`` / 6 of it): the ratio of
throughputs says how far concurrency scales, the ratio of read p99 what it costs.
Target: read p99 < 50 ms with 50 clients, zero errors, zero lost updates.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from rackwright.server import throwaway_pg
from rackwright.server.process import ServeProcess

WRITABLE = ["/designs/lab/ethernet-800vdc", "/designs/lab/meta-catalina"]
READABLE = WRITABLE + ["/designs/mfr/gb200-nvl72", "/designs/mfr/gb300-nvl72"]


async def _client(url: str, token: str, until: float, write_share: float, seed: int, stats: dict) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                                 timeout=30) as client:
        while time.perf_counter() < until:
            if rng.random() < write_share:
                await _write(client, rng.choice(WRITABLE), rng, stats)
                continue
            design = rng.choice(READABLE)
            path = rng.choice([design, f"{design}/revisions/head/report", f"{design}/revisions"])
            await _timed(client, "GET", path, "read", stats)


async def _timed(client: httpx.AsyncClient, method: str, path: str, kind: str, stats: dict, **kwargs):
    start = time.perf_counter()
    try:
        response = await client.request(method, path, **kwargs)
    except httpx.HTTPError:
        stats["errors"] += 1
        return None
    stats[kind].append(time.perf_counter() - start)
    if response.status_code == 409 and kind == "write":
        stats["conflicts"] += 1
    elif response.status_code >= 300:
        stats["errors"] += 1
    return response


async def _write(client: httpx.AsyncClient, design: str, rng: random.Random, stats: dict) -> None:
    page = await _timed(client, "GET", design, "read", stats)
    if page is None or page.status_code != 200:
        return
    document = page.json()
    content = document["head"]["content"].split("\n# bench ")[0] + f"\n# bench {rng.getrandbits(48):x}\n"
    response = await _timed(client, "POST", f"{design}/revisions", "write", stats,
                            json={"content": content, "message": "bench"},
                            headers={"If-Match": document["head_revision"]})
    if response is not None and response.status_code == 201:
        stats["acknowledged"].append((design, response.json()["id"]))


async def _load(url: str, tokens: dict, clients: int, seconds: float, write_share: float) -> dict:
    stats = {"read": [], "write": [], "errors": 0, "conflicts": 0, "acknowledged": []}
    until = time.perf_counter() + seconds
    start = time.perf_counter()
    await asyncio.gather(*[_client(url, tokens["lab-engineer"], until, write_share, i, stats) for i in range(clients)])
    elapsed = time.perf_counter() - start
    stored = set()
    async with httpx.AsyncClient(base_url=url + "/api/v1", headers={"Authorization": f"Bearer {tokens['lab-viewer']}"},
                                 timeout=60) as client:
        for design in WRITABLE:
            stored |= {(design, r["id"]) for r in (await client.get(f"{design}/revisions")).json()}
    requests = len(stats["read"]) + len(stats["write"])
    ms = lambda xs, q: float(np.percentile(xs, q) * 1e3) if xs else float("nan")  # noqa: E731
    return {"clients": clients, "seconds": elapsed, "requests": requests, "per_s": requests / elapsed,
            "read_p50_ms": ms(stats["read"], 50), "read_p99_ms": ms(stats["read"], 99),
            "write_p50_ms": ms(stats["write"], 50), "write_p99_ms": ms(stats["write"], 99),
            "writes": len(stats["acknowledged"]), "conflicts": stats["conflicts"], "errors": stats["errors"],
            "lost": len(set(stats["acknowledged"]) - stored)}


def _run(db_url: str, log: Path, args) -> dict:
    server = ServeProcess(db_url, throwaway_pg.free_port(), log, workers=args.workers).wait_ready()
    try:
        tokens = server.tokens()
        baseline = asyncio.run(_load(server.url, tokens, 1, max(args.seconds / 6, 1.0), args.write_share))
        loaded = asyncio.run(_load(server.url, tokens, args.clients, args.seconds, args.write_share))
    finally:
        server.stop()
    return {"baseline": baseline, "loaded": loaded}


def _print(kind: str, result: dict) -> None:
    for label, row in (("1 client", result["baseline"]), (f"{result['loaded']['clients']} clients", result["loaded"])):
        print(f"{kind:<10} {label:>10}: {row['per_s']:8.1f} req/s  read p50 {row['read_p50_ms']:6.1f} ms  p99 "
              f"{row['read_p99_ms']:6.1f} ms  write p50 {row['write_p50_ms']:6.1f} ms  p99 {row['write_p99_ms']:6.1f} ms  "
              f"writes {row['writes']}  conflicts {row['conflicts']}  errors {row['errors']}  lost {row['lost']}")
    loaded, base = result["loaded"], result["baseline"]
    print(f"{kind:<10} ratio {loaded['clients']} clients / 1 client: throughput {loaded['per_s'] / base['per_s']:.2f}x, "
          f"read p99 {loaded['read_p99_ms'] / base['read_p99_ms']:.2f}x; target read p99 < 50 ms: "
          f"{'met' if loaded['read_p99_ms'] < 50 else 'MISSED'}; zero errors and lost updates: "
          f"{'met' if loaded['errors'] == loaded['lost'] == 0 else 'MISSED'}")


def main(argv=None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--write-share", type=float, default=0.1, help="share of client iterations that write")
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--workers", type=int, default=1, help="server processes (rackwright serve --workers)")
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
